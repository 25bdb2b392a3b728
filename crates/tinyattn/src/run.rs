//! Opening a finished run for reading: its job, tokenizer and trained model.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::Device;
use tinyattn_corpus::{Sentence, WordTokenizer};
use tinyattn_model::{Transformer, TransformerConfig};

use crate::config::JobConfig;

/// A trained run, loaded for inference.
#[derive(Debug)]
pub struct LoadedRun {
    /// The run folder.
    pub dir: PathBuf,
    /// The job it was trained with.
    pub job: JobConfig,
    /// Its tokenizer.
    pub tokenizer: WordTokenizer,
    /// The model's shape.
    pub model_config: TransformerConfig,
    /// The final weights, in evaluation mode.
    pub model: Transformer,
}

impl LoadedRun {
    /// Loads `dir/config.toml`, `tokenizer.json`, `model.json` and `model.bpk` onto `device`.
    pub fn open(dir: &Path, device: &Device) -> Result<Self> {
        if !dir.is_dir() {
            bail!(
                "{}: no such run folder (train one with `tinyattn train --config …`)",
                dir.display()
            );
        }
        let weights = dir.join("model.bpk");
        if !weights.is_file() {
            bail!(
                "{}: the run has no final weights yet; finish it with `tinyattn train --config {} --out {} --resume`",
                weights.display(),
                dir.join("config.toml").display(),
                dir.display()
            );
        }
        let job = JobConfig::load(&dir.join("config.toml"))?;
        let tokenizer = WordTokenizer::load(&dir.join("tokenizer.json"))?;
        let model_json = dir.join("model.json");
        let text = std::fs::read_to_string(&model_json)
            .with_context(|| format!("reading {}", model_json.display()))?;
        let model_config: TransformerConfig = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a model description", model_json.display()))?;
        if let Err(err) = model_config.validate() {
            bail!("{}: {err}", model_json.display());
        }
        let record = ModuleRecord::load(&weights)
            .with_context(|| format!("{}: not a model record", weights.display()))?;
        let model = model_config.init(device).load_record(record);
        Ok(Self {
            dir: dir.to_path_buf(),
            job,
            tokenizer,
            model_config,
            model,
        })
    }

    /// Checks that every word of `sentences` is in the vocabulary and fits the model's length,
    /// naming each problem (file line, word) rather than mapping words to `[UNK]` silently.
    pub fn check_sentences(&self, sentences: &[Sentence], source: &Path) -> Result<()> {
        let mut unknown = Vec::new();
        for (line, sentence) in sentences.iter().enumerate() {
            if sentence.words.len() > self.model_config.max_seq_len {
                bail!(
                    "{}:{}: {} words, but the model reads at most {} (model.max_seq_len)",
                    source.display(),
                    line + 1,
                    sentence.words.len(),
                    self.model_config.max_seq_len
                );
            }
            let encoded = self.tokenizer.encode_words(&sentence.words);
            unknown.extend(
                encoded
                    .unknown
                    .into_iter()
                    .map(|(_, word)| format!("{}:{}: \"{word}\"", source.display(), line + 1)),
            );
        }
        if !unknown.is_empty() {
            let shown: Vec<&str> = unknown.iter().take(10).map(String::as_str).collect();
            bail!(
                "{} word(s) are not in the run's vocabulary ({}): {}{}",
                unknown.len(),
                self.dir.join("tokenizer.json").display(),
                shown.join(", "),
                if unknown.len() > shown.len() {
                    ", …"
                } else {
                    ""
                }
            );
        }
        Ok(())
    }
}
