//! `tinyattn train`: one training job from a config file into a run folder.
//!
//! ```text
//! RUN/
//!   config.toml      the job as resolved (defaults filled in, overrides applied)
//!   tokenizer.json   word-level tokenizer trained on the training split
//!   model.json       the model's shape (burn Config JSON)
//!   metrics.jsonl    one JSON object per log or evaluation line
//!   checkpoints/     see `checkpoint.rs`
//!   model.bpk        the final weights
//! ```

use std::fs;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use burn::module::Module;
use burn::optim::grad_clipping::GradientClippingConfig;
use burn::optim::{AdamWConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Tensor};
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use tinyattn_corpus::{Sentence, WordTokenizer};
use tinyattn_model::{ModelInput, Transformer};

use crate::checkpoint::{Checkpoints, model_bytes, write_atomic};
use crate::config::{DeviceChoice, JobConfig, Objective};
use crate::data::{Batch, Batcher, Example};
use crate::device;
use crate::eval::link_reports;

/// What the command line may change in a job without editing its file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--device`.
    pub device: Option<DeviceChoice>,
    /// `--out`.
    pub out: Option<PathBuf>,
    /// `--seed`.
    pub seed: Option<u64>,
    /// `--steps`.
    pub steps: Option<usize>,
}

impl Overrides {
    /// Applies the overrides and checks the job again (`--steps` can make the warm-up too long).
    pub fn apply(&self, mut job: JobConfig, file: &Path) -> Result<JobConfig> {
        if let Some(device) = self.device {
            job.run.device = device;
        }
        if let Some(out) = &self.out {
            job.run.out_dir = out.clone();
        }
        if let Some(seed) = self.seed {
            job.train.seed = seed;
        }
        if let Some(steps) = self.steps {
            job.train.steps = steps;
        }
        if let Err((key, reason)) = job.validate() {
            bail!(
                "{} with the command-line overrides: `{key}`: {reason}",
                file.display()
            );
        }
        Ok(job)
    }
}

/// The best head for one link kind on the probe sentences, as logged during training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkSummary {
    /// "subject-verb" or "pronoun-antecedent".
    pub kind: String,
    /// Layer of the best head.
    pub layer: usize,
    /// Index of the best head in its layer.
    pub head: usize,
    /// Its argmax accuracy.
    pub argmax_accuracy: f64,
    /// Its mean attention mass on the target.
    pub mean_mass: f64,
    /// Behavioural accuracy on the same links.
    pub behaviour: f64,
}

/// Loss and behavioural accuracy on the validation sentences.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Mean cross-entropy over the predicted positions, with the training masking.
    pub valid_loss: f64,
    /// Share of link dependents (verbs, pronouns) predicted exactly when masked one at a time;
    /// `None` for the causal objective, which never sees a masked word.
    pub dependent_accuracy: Option<f64>,
    /// Best head per link kind on the probe sentences (the first validation sentences).
    #[serde(default)]
    pub links: Vec<LinkSummary>,
}

/// How a run ended.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The run folder.
    pub run_dir: PathBuf,
    /// Steps completed.
    pub step: usize,
    /// Loss of the last step.
    pub last_loss: f64,
    /// The last evaluation, if any ran.
    pub evaluation: Option<Evaluation>,
    /// Stopped by Ctrl-C before `train.steps` (a checkpoint holds the state).
    pub interrupted: bool,
    /// Wall-clock time of this invocation's training loop.
    pub elapsed: Duration,
    /// For each link kind, the first evaluation of this invocation at which its best head
    /// reached [`LINK_TARGET`] argmax accuracy on the probe sentences: the step and the
    /// wall-clock time of the training loop (evaluations included) up to it. The "time to
    /// insight" of issue 6; a kind that never got there is absent.
    pub links_found: Vec<(String, usize, Duration)>,
}

/// Best-head argmax accuracy at which a run's links count as found (issues 6 and 8).
pub const LINK_TARGET: f64 = 0.95;

/// Mean cross-entropy of `logits [batch, seq, vocab]` at the positions `batch.loss_mask` marks.
pub fn masked_cross_entropy(logits: Tensor<3>, batch: &Batch) -> Tensor<1> {
    let log_probs = log_softmax(logits, 2);
    // [batch, seq, 1] → [batch, seq]
    let picked = log_probs
        .gather(2, batch.targets.clone().unsqueeze_dim::<3>(2))
        .squeeze_dim::<2>(2);
    let weights = batch.loss_mask.clone();
    (picked * weights.clone()).sum().neg() / weights.sum()
}

/// Reads a JSONL split; its errors name the file and line.
fn read_split(path: &Path) -> Result<Vec<Sentence>> {
    Ok(tinyattn_corpus::read_jsonl(path)?)
}

/// The job's data, checked against the model's maximum length before any training.
struct Data {
    tokenizer: WordTokenizer,
    train: Batcher,
    valid: Batcher,
    /// Validation sentences whose links are scored at every evaluation.
    probe: Vec<Sentence>,
}

/// Sentences in the probe set scored during training: enough for a stable curve, few enough to
/// cost well under a second.
pub const PROBE_SENTENCES: usize = 200;

fn load_data(job: &JobConfig, file: &Path, run_dir: &Path, resume: bool) -> Result<Data> {
    let train = read_split(&job.data.train)?;
    let valid = read_split(&job.data.valid)?;
    for (path, split) in [(&job.data.train, &train), (&job.data.valid, &valid)] {
        if let Some((line, longest)) = split
            .iter()
            .enumerate()
            .max_by_key(|(_, s)| s.words.len())
            .filter(|(_, s)| s.words.len() > job.model.max_seq_len)
        {
            bail!(
                "{}: `model.max_seq_len` = {} is shorter than the data: {}:{} has {} words",
                file.display(),
                job.model.max_seq_len,
                path.display(),
                line + 1,
                longest.words.len()
            );
        }
    }
    let tokenizer_path = run_dir.join("tokenizer.json");
    let tokenizer = match resume {
        true => WordTokenizer::load(&tokenizer_path)?,
        false => {
            let tokenizer = WordTokenizer::train(&train)?;
            tokenizer.save(&tokenizer_path)?;
            tokenizer
        }
    };
    let examples = |split: &[Sentence]| split.iter().map(|s| Example::new(s, &tokenizer)).collect();
    let seed = job.train.seed;
    Ok(Data {
        train: Batcher::new(examples(&train), &job.data, &tokenizer, seed),
        valid: Batcher::new(examples(&valid), &job.data, &tokenizer, seed),
        probe: valid.into_iter().take(PROBE_SENTENCES).collect(),
        tokenizer,
    })
}

/// The probe sentences a job scores at every evaluation: its first validation sentences.
pub fn probe_sentences(job: &JobConfig) -> Result<Vec<Sentence>> {
    let mut sentences = read_split(&job.data.valid)?;
    sentences.truncate(PROBE_SENTENCES);
    Ok(sentences)
}

/// Keys whose values may differ between a run and the job that resumes it.
const RESUMABLE_CHANGES: &[&str] = &[
    "train.steps",
    "train.eval_every",
    "train.checkpoint_every",
    "train.log_every",
    "run.out_dir",
    "run.device",
];

/// Lists `key (run value vs job value)` for every setting that differs, so a resume never
/// silently continues a different model or data stream.
fn differences(stored: &JobConfig, job: &JobConfig) -> Vec<String> {
    fn flatten(value: &toml::Value, prefix: &str, out: &mut Vec<(String, String)>) {
        match value {
            toml::Value::Table(table) => {
                for (key, value) in table {
                    let key = match prefix.is_empty() {
                        true => key.clone(),
                        false => format!("{prefix}.{key}"),
                    };
                    flatten(value, &key, out);
                }
            }
            other => out.push((prefix.to_string(), other.to_string())),
        }
    }
    let flat = |job: &JobConfig| {
        let mut out = Vec::new();
        let value = toml::Value::try_from(job).unwrap_or_else(|err| unreachable!("{err}"));
        flatten(&value, "", &mut out);
        out
    };
    flat(stored)
        .into_iter()
        .zip(flat(job))
        .filter(|((key, a), (_, b))| a != b && !RESUMABLE_CHANGES.contains(&key.as_str()))
        .map(|((key, a), (_, b))| format!("{key} ({a} in the run vs {b} in the job)"))
        .collect()
}

/// Runs a job. `stop` is asked before each step with the number of steps done (the CLI answers
/// from its Ctrl-C flag); when it says yes, a checkpoint is written and the run ends early.
pub fn train(
    file: &Path,
    overrides: &Overrides,
    resume: bool,
    stop: &dyn Fn(usize) -> bool,
) -> Result<Summary> {
    let job = overrides.apply(JobConfig::load(file)?, file)?;
    let run_dir = job.run.out_dir.clone();
    let checkpoints = Checkpoints::new(&run_dir);

    let latest = checkpoints.latest()?;
    match (resume, &latest) {
        (true, None) => bail!(
            "--resume: {} holds no checkpoint to resume from",
            run_dir.display()
        ),
        (true, Some(_)) => {
            let stored_path = run_dir.join("config.toml");
            let stored = JobConfig::load(&stored_path)?;
            let diff = differences(&stored, &job);
            if !diff.is_empty() {
                bail!(
                    "--resume: {} was trained with different settings than {}: {}",
                    stored_path.display(),
                    file.display(),
                    diff.join(", ")
                );
            }
        }
        (false, Some(dir)) => bail!(
            "{} already holds a run (checkpoint {}); pass --resume to continue it, or --out to start a new one elsewhere",
            run_dir.display(),
            dir.display()
        ),
        (false, None) => {}
    }
    fs::create_dir_all(&run_dir).with_context(|| format!("creating {}", run_dir.display()))?;
    let data = load_data(&job, file, &run_dir, resume)?;
    if data.train.is_empty() || data.valid.is_empty() {
        bail!(
            "{}: the training or validation split is empty",
            file.display()
        );
    }

    let selected = device::select(job.run.device)?;
    println!("device: {}", selected.description);
    let device = selected.device;
    let ad_device = device.clone().autodiff();

    let model_config = job.model_config(data.tokenizer.vocab_size());
    write_atomic(&run_dir.join("config.toml"), job.to_toml().as_bytes())?;
    write_atomic(
        &run_dir.join("model.json"),
        serde_json::to_string_pretty(&model_config)?.as_bytes(),
    )?;

    ad_device.seed(job.train.seed);
    let mut model = model_config.init(&ad_device);
    let mut optimizer = optimizer(&job);
    let mut start = 0;
    if let Some(dir) = latest.filter(|_| resume) {
        let (m, o, state) = Checkpoints::load(&dir, model, optimizer)?;
        (model, optimizer, start) = (m, o, state.step);
        println!("resuming from {} (step {start})", dir.display());
    }
    let mut metrics = Metrics::open(&run_dir.join("metrics.jsonl"), start)?;

    let loop_start = Instant::now();
    let progress = Progress::new(start, job.train.steps);
    let mut summary = Summary {
        run_dir: run_dir.clone(),
        step: start,
        last_loss: f64::NAN,
        evaluation: None,
        interrupted: false,
        elapsed: Duration::ZERO,
        links_found: Vec::new(),
    };
    let run_eval =
        |model: &Transformer, step: usize, metrics: &mut Metrics| -> Result<Evaluation> {
            let model = model.valid();
            let mut evaluation = evaluate(&model, &data.valid, job.train.batch_size, &device);
            let causal = job.data.objective == Objective::Causal;
            evaluation.links =
                link_reports(&model, &data.tokenizer, causal, &data.probe, false, &device)
                    .into_iter()
                    .map(|k| LinkSummary {
                        kind: k.kind,
                        layer: k.best_head.layer,
                        head: k.best_head.head,
                        argmax_accuracy: k.best_head.pointing.argmax_accuracy,
                        mean_mass: k.best_head.pointing.mean_mass,
                        behaviour: k.behaviour.accuracy,
                    })
                    .collect();
            metrics.write(&EvalLine {
                step,
                elapsed_s: Some(loop_start.elapsed().as_secs_f64()),
                eval: evaluation.clone(),
            })?;
            progress.println(&describe_evaluation(step, &evaluation));
            Ok(evaluation)
        };
    let record = |summary: &mut Summary, step: usize, evaluation: Evaluation| {
        for link in &evaluation.links {
            let new = !summary
                .links_found
                .iter()
                .any(|(kind, ..)| *kind == link.kind);
            if new && link.argmax_accuracy >= LINK_TARGET {
                let found = (link.kind.clone(), step, loop_start.elapsed());
                summary.links_found.push(found);
            }
        }
        summary.evaluation = Some(evaluation);
    };
    if start == 0 {
        // The untrained model's numbers are where every curve starts.
        record(&mut summary, 0, run_eval(&model, 0, &mut metrics)?);
    }
    let mut window = (Instant::now(), 0usize);
    for step in start..job.train.steps {
        if stop(step) {
            checkpoints.save(&model, &optimizer, step, job.train.seed)?;
            progress.finish();
            summary.interrupted = true;
            break;
        }
        if job.model.dropout > 0.0 {
            ad_device.seed(job.train.seed ^ (step as u64).rotate_left(32));
        }
        let batch = data
            .train
            .train_batch(step, job.train.batch_size, &ad_device);
        let logits =
            model.forward(ModelInput::new(batch.inputs.clone()).pad_mask(batch.pad_mask.clone()));
        let loss = masked_cross_entropy(logits, &batch);
        let loss_value = f64::from(loss.clone().into_scalar::<f32>());
        if !loss_value.is_finite() {
            progress.finish();
            let keep = match checkpoints.latest()? {
                Some(dir) => format!("the last good checkpoint is {}", dir.display()),
                None => "no checkpoint was written yet".to_string(),
            };
            bail!(
                "the loss became {loss_value} at step {step} (learning rate {:.2e}); {keep}. \
                 Try a lower `optimizer.lr`, or a positive `optimizer.grad_clip`, in {}",
                job.learning_rate(step),
                file.display()
            );
        }
        let lr = job.learning_rate(step);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step(lr, model, grads);
        window.1 += batch.tokens;

        let done = step + 1;
        summary.step = done;
        summary.last_loss = loss_value;
        if done % job.train.log_every == 0 || done == job.train.steps {
            let tokens_per_s = window.1 as f64 / window.0.elapsed().as_secs_f64();
            window = (Instant::now(), 0);
            metrics.write(&StepLine {
                step: done,
                loss: loss_value,
                lr,
                tokens_per_s,
                elapsed_s: loop_start.elapsed().as_secs_f64(),
            })?;
            progress.update(done, loss_value, tokens_per_s);
        }
        let every = |n: usize| n > 0 && done % n == 0;
        if every(job.train.eval_every) || done == job.train.steps {
            record(&mut summary, done, run_eval(&model, done, &mut metrics)?);
            window = (Instant::now(), 0);
        }
        if every(job.train.checkpoint_every) || done == job.train.steps {
            checkpoints.save(&model, &optimizer, done, job.train.seed)?;
            window = (Instant::now(), 0);
        }
    }
    progress.finish();
    summary.elapsed = loop_start.elapsed();
    if !summary.interrupted {
        write_atomic(&run_dir.join("model.bpk"), &model_bytes(&model)?)?;
        crate::plots::write(&run_dir, &data.probe)?;
    }
    Ok(summary)
}

fn optimizer(job: &JobConfig) -> ModuleOptimizer {
    let o = &job.optimizer;
    AdamWConfig::new()
        .with_beta_1(o.beta1 as f32)
        .with_beta_2(o.beta2 as f32)
        .with_epsilon(o.epsilon as f32)
        .with_weight_decay(o.weight_decay as f32)
        .with_grad_clipping(
            (o.grad_clip > 0.0).then_some(GradientClippingConfig::Norm(o.grad_clip as f32)),
        )
        .init()
}

/// Validation loss with the training masking, and behavioural accuracy on link dependents.
pub fn evaluate(
    model: &Transformer,
    valid: &Batcher,
    batch_size: usize,
    device: &Device,
) -> Evaluation {
    let (mut loss_sum, mut weight_sum) = (0.0, 0.0);
    for batch in valid.eval_batches(batch_size, device) {
        let weight = f64::from(batch.loss_mask.clone().sum().into_scalar::<f32>());
        let logits =
            model.forward(ModelInput::new(batch.inputs.clone()).pad_mask(batch.pad_mask.clone()));
        loss_sum += f64::from(masked_cross_entropy(logits, &batch).into_scalar::<f32>()) * weight;
        weight_sum += weight;
    }
    let dependent_accuracy = valid.is_masked().then(|| {
        let (mut correct, mut total) = (0i64, 0i64);
        for batch in valid.dependent_batches(batch_size, device) {
            let logits = model
                .forward(ModelInput::new(batch.inputs.clone()).pad_mask(batch.pad_mask.clone()));
            let predicted = logits.argmax(2).squeeze_dim::<2>(2);
            let hit =
                predicted.equal(batch.targets.clone()).int().float() * batch.loss_mask.clone();
            correct += hit.sum().into_scalar::<f32>() as i64;
            total += batch.loss_mask.clone().sum().into_scalar::<f32>() as i64;
        }
        correct as f64 / total.max(1) as f64
    });
    Evaluation {
        valid_loss: loss_sum / weight_sum.max(1.0),
        dependent_accuracy,
        links: Vec::new(),
    }
}

#[derive(Serialize)]
struct StepLine {
    step: usize,
    loss: f64,
    lr: f64,
    tokens_per_s: f64,
    elapsed_s: f64,
}

/// One line: "step N: valid loss X, dependents predicted Y%".
pub fn describe_evaluation(step: usize, evaluation: &Evaluation) -> String {
    let links: String = evaluation
        .links
        .iter()
        .map(|l| {
            format!(
                "; {} best head L{}H{} {:.1}% (behaviour {:.1}%)",
                l.kind,
                l.layer,
                l.head,
                100.0 * l.argmax_accuracy,
                100.0 * l.behaviour
            )
        })
        .collect();
    format!(
        "step {step}: valid loss {:.4}{}{links}",
        evaluation.valid_loss,
        evaluation
            .dependent_accuracy
            .map(|a| format!(", dependents predicted {:.1}%", 100.0 * a))
            .unwrap_or_default()
    )
}

/// The last evaluation a run recorded in its `metrics.jsonl`, if any.
pub fn last_evaluation(run_dir: &Path) -> Result<Option<(usize, Evaluation)>> {
    let path = run_dir.join("metrics.jsonl");
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    Ok(text
        .lines()
        .rev()
        .find_map(|line| serde_json::from_str::<EvalLine>(line).ok())
        .map(|line| (line.step, line.eval)))
}

/// An evaluation line of `metrics.jsonl`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EvalLine {
    /// Steps done when it ran (0: the untrained model).
    pub step: usize,
    /// Seconds since the training loop of the invocation that ran it started, evaluations
    /// included (a resumed run counts from its resume). Absent in runs from before it was logged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elapsed_s: Option<f64>,
    /// What it measured.
    pub eval: Evaluation,
}

/// `metrics.jsonl`, appended line by line. On resume, lines past the checkpoint's step (written
/// by the run that was interrupted) are dropped so every step appears once.
struct Metrics {
    path: PathBuf,
    file: fs::File,
}

impl Metrics {
    fn open(path: &Path, keep_through: usize) -> Result<Self> {
        let kept: String = match fs::read_to_string(path) {
            Ok(text) => text
                .lines()
                .filter(|line| {
                    serde_json::from_str::<serde_json::Value>(line)
                        .ok()
                        .and_then(|v| v.get("step")?.as_u64())
                        .is_some_and(|step| step as usize <= keep_through)
                })
                .map(|line| format!("{line}\n"))
                .collect(),
            Err(_) => String::new(),
        };
        write_atomic(path, kept.as_bytes())?;
        let file = fs::OpenOptions::new()
            .append(true)
            .open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        Ok(Self {
            path: path.to_path_buf(),
            file,
        })
    }

    fn write(&mut self, line: &impl Serialize) -> Result<()> {
        let mut text = serde_json::to_string(line)?;
        text.push('\n');
        self.file
            .write_all(text.as_bytes())
            .with_context(|| format!("writing {}", self.path.display()))
    }
}

/// A progress bar on a terminal, plain lines elsewhere (CI logs, pipes).
struct Progress {
    bar: Option<ProgressBar>,
    total: usize,
    started: Instant,
    first_step: usize,
}

impl Progress {
    fn new(start: usize, total: usize) -> Self {
        let bar = std::io::stdout().is_terminal().then(|| {
            let bar = ProgressBar::new(total as u64).with_position(start as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:30.cyan/blue} step {pos}/{len}  {msg}  ETA {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        Self {
            bar,
            total,
            started: Instant::now(),
            first_step: start,
        }
    }

    fn update(&self, step: usize, loss: f64, tokens_per_s: f64) {
        let message = format!("loss {loss:.4}  {tokens_per_s:.0} tok/s");
        match &self.bar {
            Some(bar) => {
                bar.set_position(step as u64);
                bar.set_message(message);
            }
            None => {
                let done = (step - self.first_step).max(1) as f64;
                let eta = self.started.elapsed().as_secs_f64() / done * (self.total - step) as f64;
                println!("step {step}/{}  {message}  ETA {eta:.0}s", self.total);
            }
        }
    }

    fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => println!("{line}"),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
