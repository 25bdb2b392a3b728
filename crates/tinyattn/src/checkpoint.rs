//! Checkpoints that survive a crash: every file is written under a temporary name, checked by
//! size and checksum when read back, and a checkpoint only becomes visible through one atomic
//! rename of its folder followed by an atomic rewrite of the `latest` pointer.
//!
//! ```text
//! RUN/checkpoints/
//!   latest                 "step-000500"
//!   step-000500/
//!     model.bpk            burn record of the model
//!     optimizer.bpk        burn record of AdamW's moments
//!     state.json           step, seed, and size + FNV-1a checksum of both files
//! ```

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::optim::{ModuleOptimizer, OptimizerRecord};
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use serde::{Deserialize, Serialize};
use tinyattn_model::Transformer;

/// A file that could not be written or read back as a checkpoint.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The file exists but is not what was written.
    #[error("{path}: {reason}")]
    Corrupt {
        /// The damaged file.
        path: PathBuf,
        /// What check failed.
        reason: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CheckpointError + '_ {
    move |source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Size and checksum of one checkpoint file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSum {
    /// Length in bytes.
    pub bytes: u64,
    /// FNV-1a 64 of the contents, as hex.
    pub fnv1a: u64,
}

impl FileSum {
    fn of(data: &[u8]) -> Self {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for &byte in data {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        Self {
            bytes: data.len() as u64,
            fnv1a: hash,
        }
    }
}

/// What `state.json` records about a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointState {
    /// Optimizer steps completed; training resumes at this step.
    pub step: usize,
    /// The job's seed. Batches and masks are drawn from `(seed, step)`, so with `step` this is
    /// the whole RNG state and data position.
    pub seed: u64,
    /// `model.bpk`.
    pub model: FileSum,
    /// `optimizer.bpk`.
    pub optimizer: FileSum,
}

const MODEL_FILE: &str = "model.bpk";
const OPTIMIZER_FILE: &str = "optimizer.bpk";
const STATE_FILE: &str = "state.json";
const LATEST: &str = "latest";
/// Checkpoints kept; older ones are deleted once a newer one is complete.
const KEEP: usize = 2;

/// Writes `data` to `path` through a temporary file in the same folder and a rename, so `path`
/// holds either its old contents or all of the new ones.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<(), CheckpointError> {
    let tmp = path.with_extension("tmp");
    let mut file = fs::File::create(&tmp).map_err(io(&tmp))?;
    file.write_all(data).map_err(io(&tmp))?;
    file.sync_all().map_err(io(&tmp))?;
    fs::rename(&tmp, path).map_err(io(path))
}

/// Serialises a model record to bytes.
pub fn model_bytes(model: &Transformer) -> Result<Bytes, CheckpointError> {
    model
        .clone()
        .into_record()
        .into_bytes()
        .map_err(|err| CheckpointError::Corrupt {
            path: PathBuf::from(MODEL_FILE),
            reason: format!("cannot serialise the model: {err}"),
        })
}

/// The checkpoint folder of a run.
#[derive(Debug, Clone)]
pub struct Checkpoints {
    dir: PathBuf,
}

impl Checkpoints {
    /// Checkpoints under `run_dir/checkpoints`.
    pub fn new(run_dir: &Path) -> Self {
        Self {
            dir: run_dir.join("checkpoints"),
        }
    }

    /// Saves model, optimizer and state as checkpoint `state.step`, then points `latest` at it.
    pub fn save(
        &self,
        model: &Transformer,
        optimizer: &ModuleOptimizer,
        step: usize,
        seed: u64,
    ) -> Result<PathBuf, CheckpointError> {
        fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let name = format!("step-{step:06}");
        let partial = self.dir.join(format!(".partial-{name}"));
        if partial.exists() {
            fs::remove_dir_all(&partial).map_err(io(&partial))?;
        }
        fs::create_dir(&partial).map_err(io(&partial))?;

        let model_data = model_bytes(model)?;
        let optimizer_data = optimizer
            .into_bytes()
            .map_err(|err| CheckpointError::Corrupt {
                path: partial.join(OPTIMIZER_FILE),
                reason: format!("cannot serialise the optimizer: {err}"),
            })?;
        let state = CheckpointState {
            step,
            seed,
            model: FileSum::of(&model_data),
            optimizer: FileSum::of(&optimizer_data),
        };
        write_atomic(&partial.join(MODEL_FILE), &model_data)?;
        write_atomic(&partial.join(OPTIMIZER_FILE), &optimizer_data)?;
        let state_json =
            serde_json::to_vec_pretty(&state).unwrap_or_else(|err| unreachable!("{err}"));
        write_atomic(&partial.join(STATE_FILE), &state_json)?;

        let done = self.dir.join(&name);
        if done.exists() {
            fs::remove_dir_all(&done).map_err(io(&done))?;
        }
        fs::rename(&partial, &done).map_err(io(&done))?;
        write_atomic(&self.dir.join(LATEST), name.as_bytes())?;
        self.prune()?;
        Ok(done)
    }

    /// The latest complete checkpoint's folder, if any.
    pub fn latest(&self) -> Result<Option<PathBuf>, CheckpointError> {
        let pointer = self.dir.join(LATEST);
        match fs::read_to_string(&pointer) {
            Ok(name) => {
                let dir = self.dir.join(name.trim());
                match dir.is_dir() {
                    true => Ok(Some(dir)),
                    false => Err(CheckpointError::Corrupt {
                        path: pointer,
                        reason: format!("points at {}, which does not exist", dir.display()),
                    }),
                }
            }
            // No folder (or a file where a folder should be) holds no checkpoint; creating the
            // run folder reports the latter.
            Err(err)
                if matches!(
                    err.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                ) =>
            {
                Ok(None)
            }
            Err(err) => Err(io(&pointer)(err)),
        }
    }

    /// Loads a checkpoint into `model` (already on its training device) and `optimizer`,
    /// checking every file first.
    pub fn load(
        dir: &Path,
        model: Transformer,
        optimizer: ModuleOptimizer,
    ) -> Result<(Transformer, ModuleOptimizer, CheckpointState), CheckpointError> {
        let state_path = dir.join(STATE_FILE);
        let text = fs::read(&state_path).map_err(io(&state_path))?;
        let state: CheckpointState =
            serde_json::from_slice(&text).map_err(|err| CheckpointError::Corrupt {
                path: state_path.clone(),
                reason: format!("not a checkpoint state: {err}"),
            })?;
        let model_data = read_checked(&dir.join(MODEL_FILE), state.model)?;
        let optimizer_data = read_checked(&dir.join(OPTIMIZER_FILE), state.optimizer)?;
        let record =
            ModuleRecord::from_bytes(Bytes::from_bytes_vec(model_data)).map_err(|err| {
                CheckpointError::Corrupt {
                    path: dir.join(MODEL_FILE),
                    reason: err.to_string(),
                }
            })?;
        let optimizer_record = OptimizerRecord::from_bytes(Bytes::from_bytes_vec(optimizer_data))
            .map_err(|err| CheckpointError::Corrupt {
            path: dir.join(OPTIMIZER_FILE),
            reason: err.to_string(),
        })?;
        let model = model.load_record(record);
        let optimizer = optimizer.load_record(optimizer_record);
        Ok((model, optimizer, state))
    }

    /// Deletes all but the newest [`KEEP`] checkpoints, and leftovers of interrupted saves.
    fn prune(&self) -> Result<(), CheckpointError> {
        let mut steps = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(io(&self.dir))? {
            let entry = entry.map_err(io(&self.dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(".partial-") {
                fs::remove_dir_all(entry.path()).map_err(io(&entry.path()))?;
            } else if name.starts_with("step-") {
                steps.push(entry.path());
            }
        }
        steps.sort();
        for old in steps.iter().rev().skip(KEEP) {
            fs::remove_dir_all(old).map_err(io(old))?;
        }
        Ok(())
    }
}

/// Reads a file and checks it against the size and checksum recorded when it was written.
pub fn read_checked(path: &Path, expected: FileSum) -> Result<Vec<u8>, CheckpointError> {
    let data = fs::read(path).map_err(io(path))?;
    let actual = FileSum::of(&data);
    if actual.bytes != expected.bytes {
        return Err(CheckpointError::Corrupt {
            path: path.to_path_buf(),
            reason: format!(
                "truncated or padded: {} bytes, the checkpoint recorded {}",
                actual.bytes, expected.bytes
            ),
        });
    }
    if actual.fnv1a != expected.fnv1a {
        return Err(CheckpointError::Corrupt {
            path: path.to_path_buf(),
            reason: "checksum mismatch: the file was changed or damaged after it was written"
                .to_string(),
        });
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::optim::AdamWConfig;
    use burn::tensor::{Device, Int, Tensor, TensorData};
    use tinyattn_model::{ModelInput, TransformerConfig};

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tinyattn-ckpt-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    fn logits(model: &Transformer, device: &Device) -> Vec<f32> {
        let tokens: Tensor<2, Int> =
            Tensor::from_data(TensorData::new(vec![1i64, 4, 2, 7, 3], [1, 5]), device);
        crate::eval::floats(model.forward(ModelInput::new(tokens)))
    }

    #[test]
    fn save_then_load_gives_identical_logits_and_state() {
        let device = Device::flex().autodiff();
        let config = TransformerConfig::new(9, 6, 8, 2, 1);
        let model = config.init(&device);
        let dir = temp("roundtrip");
        let checkpoints = Checkpoints::new(&dir);
        let saved = checkpoints
            .save(&model, &AdamWConfig::new().init(), 7, 3)
            .expect("save");
        assert_eq!(checkpoints.latest().expect("latest"), Some(saved.clone()));

        let fresh = config.init(&device);
        assert_ne!(logits(&fresh, &device), logits(&model, &device));
        let (loaded, _, state) =
            Checkpoints::load(&saved, fresh, AdamWConfig::new().init()).expect("load");
        assert_eq!(logits(&loaded, &device), logits(&model, &device));
        assert_eq!((state.step, state.seed), (7, 3));
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn truncated_or_altered_files_are_named() {
        let device = Device::flex().autodiff();
        let config = TransformerConfig::new(9, 6, 8, 2, 1);
        let dir = temp("corrupt");
        let saved = Checkpoints::new(&dir)
            .save(&config.init(&device), &AdamWConfig::new().init(), 1, 1)
            .expect("save");
        let model_file = saved.join(MODEL_FILE);
        let bytes = fs::read(&model_file).expect("model file");

        fs::write(&model_file, &bytes[..bytes.len() / 2]).expect("truncate");
        let load = || Checkpoints::load(&saved, config.init(&device), AdamWConfig::new().init());
        let err = load().err().expect("truncated checkpoint accepted");
        assert!(
            err.to_string().contains("model.bpk") && err.to_string().contains("truncated"),
            "{err}"
        );

        let mut flipped = bytes.clone();
        let middle = flipped.len() / 2;
        flipped[middle] ^= 0xff;
        fs::write(&model_file, &flipped).expect("flip a byte");
        let err = load().err().expect("altered checkpoint accepted");
        assert!(err.to_string().contains("checksum mismatch"), "{err}");
        let _ = fs::remove_dir_all(dir);
    }
}
