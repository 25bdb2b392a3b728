//! Training jobs as TOML files: parsing with defaults, and errors that name the file, the key
//! and the reason.
//!
//! burn's `#[derive(Config)]` deserialiser does not fill `#[config(default)]` fields, so the job
//! file has its own serde structs; [`JobConfig::model_config`] turns them into the model's
//! `TransformerConfig`.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tinyattn_model::{ModelConfigError, TransformerConfig};

/// A training job: everything `tinyattn train` needs besides the command-line overrides.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JobConfig {
    /// The transformer's shape.
    pub model: ModelSection,
    /// Where the sentences come from and how they are turned into training examples.
    pub data: DataSection,
    /// AdamW and its learning-rate schedule.
    pub optimizer: OptimizerSection,
    /// How long to train and how often to evaluate and checkpoint.
    pub train: TrainSection,
    /// Where the run's files go and which device runs it.
    pub run: RunSection,
}

/// `[model]`: the transformer's shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelSection {
    /// Width of the residual stream.
    pub d_model: usize,
    /// Attention heads per layer; must divide `d_model`.
    pub n_heads: usize,
    /// Number of transformer blocks.
    pub n_layers: usize,
    /// MLP hidden width as a multiple of `d_model`.
    pub mlp_ratio: usize,
    /// Dropout on attention weights and residual branches while training.
    pub dropout: f64,
    /// Longest sentence, in words, the model can read; must cover the data.
    pub max_seq_len: usize,
    /// Layers after the first read attention values from the word embeddings, not the residual
    /// stream (see `TransformerConfig::values_from_embeddings`).
    pub values_from_embeddings: bool,
}

impl Default for ModelSection {
    fn default() -> Self {
        Self {
            d_model: 64,
            n_heads: 4,
            n_layers: 2,
            mlp_ratio: 4,
            dropout: 0.0,
            max_seq_len: 32,
            values_from_embeddings: false,
        }
    }
}

/// The training objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Objective {
    /// Bidirectional attention; predict masked words (BERT-style).
    Masked,
    /// Causal attention; predict each next word (GPT-style).
    Causal,
}

/// `[data]`: the corpus and how examples are made from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DataSection {
    /// Training sentences (JSONL, see data/README.md). Relative paths are taken from the current
    /// directory.
    pub train: PathBuf,
    /// Validation sentences, used for the periodic evaluation.
    pub valid: PathBuf,
    /// `masked` or `causal`.
    pub objective: Objective,
    /// Masked objective: probability that each link dependent (verb or pronoun) is masked.
    pub dependent_mask_prob: f64,
    /// Masked objective: probability that any other word is masked.
    pub word_mask_prob: f64,
}

impl Default for DataSection {
    fn default() -> Self {
        Self {
            train: PathBuf::from("data/train.jsonl"),
            valid: PathBuf::from("data/valid.jsonl"),
            objective: Objective::Masked,
            dependent_mask_prob: 0.5,
            word_mask_prob: 0.1,
        }
    }
}

/// `[optimizer]`: AdamW with linear warm-up and cosine decay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OptimizerSection {
    /// Peak learning rate, reached after the warm-up.
    pub lr: f64,
    /// Learning rate at the end of the cosine decay, as a fraction of `lr`.
    pub min_lr_ratio: f64,
    /// Steps of linear warm-up from 0 to `lr`.
    pub warmup_steps: usize,
    /// AdamW β₁.
    pub beta1: f64,
    /// AdamW β₂.
    pub beta2: f64,
    /// AdamW ε.
    pub epsilon: f64,
    /// Decoupled weight decay.
    pub weight_decay: f64,
    /// Clip the gradient norm of each parameter to this value; 0 disables clipping.
    pub grad_clip: f64,
}

impl Default for OptimizerSection {
    fn default() -> Self {
        Self {
            lr: 3e-3,
            min_lr_ratio: 0.1,
            warmup_steps: 100,
            beta1: 0.9,
            beta2: 0.98,
            epsilon: 1e-8,
            weight_decay: 0.01,
            grad_clip: 1.0,
        }
    }
}

/// `[train]`: length of the run and its rhythm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainSection {
    /// Optimizer steps.
    pub steps: usize,
    /// Sentences per step.
    pub batch_size: usize,
    /// Seed of the initial weights, the data order and the masking.
    pub seed: u64,
    /// Evaluate on the validation set every this many steps (0: only at the end).
    pub eval_every: usize,
    /// Write a checkpoint every this many steps (0: only at the end).
    pub checkpoint_every: usize,
    /// Print a progress line every this many steps when the output is not a terminal.
    pub log_every: usize,
}

impl Default for TrainSection {
    fn default() -> Self {
        Self {
            steps: 2000,
            batch_size: 64,
            seed: 42,
            eval_every: 250,
            checkpoint_every: 500,
            log_every: 50,
        }
    }
}

/// Which device trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum DeviceChoice {
    /// A wgpu GPU adapter when there is one, else the CPU (flex).
    Auto,
    /// The wgpu backend on whatever adapter it finds, a software one included.
    Wgpu,
    /// burn's pure-Rust CPU backend.
    Flex,
}

/// `[run]`: output folder and device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunSection {
    /// Folder for the run's files (config, tokenizer, metrics, checkpoints, final model).
    pub out_dir: PathBuf,
    /// `auto`, `wgpu` or `flex`.
    pub device: DeviceChoice,
}

impl Default for RunSection {
    fn default() -> Self {
        Self {
            out_dir: PathBuf::from("runs/default"),
            device: DeviceChoice::Auto,
        }
    }
}

/// A job file that cannot be used, with the file, the key (when there is one) and the reason.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    /// The job file.
    pub file: PathBuf,
    /// 1-based line in the file, when the TOML parser pointed at one.
    pub line: Option<usize>,
    /// Dotted key, e.g. `optimizer.lr`, when the problem belongs to one.
    pub key: Option<String>,
    /// What is wrong and, where possible, how to fix it.
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(key) = &self.key {
            write!(f, ": `{key}`")?;
        }
        write!(f, ": {}", self.reason)
    }
}

impl std::error::Error for ConfigError {}

impl JobConfig {
    /// Reads and checks a job file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|err| ConfigError {
            file: path.to_path_buf(),
            line: None,
            key: None,
            reason: format!("cannot read the file: {err}"),
        })?;
        Self::parse(&text, path)
    }

    /// Parses and checks a job given as text; `file` names it in errors.
    pub fn parse(text: &str, file: &Path) -> Result<Self, ConfigError> {
        let error = |line: Option<usize>, key: Option<String>, reason: String| ConfigError {
            file: file.to_path_buf(),
            line,
            key,
            reason,
        };
        let table: toml::Table = toml::from_str(text).map_err(|err| {
            let line = err.span().map(|span| line_of(text, span.start));
            error(
                line,
                None,
                format!("not valid TOML: {}", one_line(err.message())),
            )
        })?;
        check_keys(&table).map_err(|(key, reason)| error(None, Some(key), reason))?;
        let config: JobConfig = toml::from_str(text).map_err(|err| {
            let line = err.span().map(|span| line_of(text, span.start));
            let key = line.and_then(|line| key_at_line(text, line));
            error(line, key, one_line(err.message()))
        })?;
        config
            .validate()
            .map_err(|(key, reason)| error(None, Some(key.to_string()), reason))?;
        Ok(config)
    }

    /// The model configuration for a vocabulary of `vocab_size` words.
    pub fn model_config(&self, vocab_size: usize) -> TransformerConfig {
        TransformerConfig::new(
            vocab_size,
            self.model.max_seq_len,
            self.model.d_model,
            self.model.n_heads,
            self.model.n_layers,
        )
        .with_mlp_ratio(self.model.mlp_ratio)
        .with_dropout(self.model.dropout)
        .with_causal(self.data.objective == Objective::Causal)
        .with_values_from_embeddings(self.model.values_from_embeddings)
    }

    /// Checks value ranges and combinations; returns the offending key and why.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let model_error = |err: ModelConfigError| -> (&'static str, String) {
            let key = match &err {
                ModelConfigError::Zero("max_seq_len") => "model.max_seq_len",
                ModelConfigError::Zero("n_layers") => "model.n_layers",
                ModelConfigError::Zero("mlp_ratio") => "model.mlp_ratio",
                ModelConfigError::Zero(_) => "model",
                ModelConfigError::Attention(a) => match a {
                    tinyattn_attention::AttentionConfigError::ZeroDModel => "model.d_model",
                    tinyattn_attention::AttentionConfigError::Dropout(_) => "model.dropout",
                    _ => "model.n_heads",
                },
            };
            (key, err.to_string())
        };
        // The vocabulary size is only known once the tokenizer exists; any positive value checks
        // the rest of the shape.
        self.model_config(1).validate().map_err(model_error)?;

        let o = &self.optimizer;
        let probability = |key, value: f64, upper_open: bool| {
            let ok =
                value.is_finite() && value >= 0.0 && (value < 1.0 || !upper_open && value <= 1.0);
            match ok {
                true => Ok(()),
                false => Err((
                    key,
                    format!(
                        "must be in [0, 1{} got {value}",
                        if upper_open { "), " } else { "], " }
                    ),
                )),
            }
        };
        if !(o.lr.is_finite() && o.lr > 0.0) {
            return Err((
                "optimizer.lr",
                format!("must be greater than 0, got {}", o.lr),
            ));
        }
        probability("optimizer.min_lr_ratio", o.min_lr_ratio, false)?;
        probability("optimizer.beta1", o.beta1, true)?;
        probability("optimizer.beta2", o.beta2, true)?;
        if !(o.epsilon.is_finite() && o.epsilon > 0.0) {
            return Err((
                "optimizer.epsilon",
                format!("must be greater than 0, got {}", o.epsilon),
            ));
        }
        if !(o.weight_decay.is_finite() && o.weight_decay >= 0.0) {
            return Err((
                "optimizer.weight_decay",
                format!("must be 0 or more, got {}", o.weight_decay),
            ));
        }
        if !(o.grad_clip.is_finite() && o.grad_clip >= 0.0) {
            return Err((
                "optimizer.grad_clip",
                format!("must be 0 (off) or more, got {}", o.grad_clip),
            ));
        }
        probability(
            "data.dependent_mask_prob",
            self.data.dependent_mask_prob,
            false,
        )?;
        probability("data.word_mask_prob", self.data.word_mask_prob, false)?;
        if self.data.objective == Objective::Masked
            && self.data.dependent_mask_prob == 0.0
            && self.data.word_mask_prob == 0.0
        {
            return Err((
                "data.word_mask_prob",
                "the masked objective needs something to mask: dependent_mask_prob and word_mask_prob are both 0"
                    .to_string(),
            ));
        }
        if self.train.steps == 0 {
            return Err(("train.steps", "must be greater than 0".to_string()));
        }
        if self.train.batch_size == 0 {
            return Err(("train.batch_size", "must be greater than 0".to_string()));
        }
        if self.train.log_every == 0 {
            return Err(("train.log_every", "must be greater than 0".to_string()));
        }
        if o.warmup_steps >= self.train.steps {
            return Err((
                "optimizer.warmup_steps",
                format!(
                    "warm-up ({}) must be shorter than the run (train.steps = {})",
                    o.warmup_steps, self.train.steps
                ),
            ));
        }
        Ok(())
    }

    /// The learning rate at `step` (0-based): linear warm-up, then cosine decay to
    /// `lr * min_lr_ratio` at the last step.
    pub fn learning_rate(&self, step: usize) -> f64 {
        let o = &self.optimizer;
        if step < o.warmup_steps {
            return o.lr * (step + 1) as f64 / o.warmup_steps as f64;
        }
        let span = (self.train.steps - o.warmup_steps).max(1) as f64;
        let progress = ((step - o.warmup_steps) as f64 / span).min(1.0);
        let min = o.lr * o.min_lr_ratio;
        min + (o.lr - min) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
    }

    /// The job as TOML, as stored in the run folder.
    pub fn to_toml(&self) -> String {
        // Every field is a plain number, string or path: serialisation cannot fail.
        toml::to_string_pretty(self).unwrap_or_else(|err| unreachable!("{err}"))
    }
}

/// Rejects keys the job format does not have, suggesting the closest valid one.
/// Rejects keys the job format does not have, suggesting the closest valid one. The valid keys
/// are those of the default job, so they cannot drift from the structs above.
fn check_keys(table: &toml::Table) -> Result<(), (String, String)> {
    let defaults = toml::Table::try_from(JobConfig::default())
        .unwrap_or_else(|err| unreachable!("the default job serialises: {err}"));
    let sections: Vec<&str> = defaults.keys().map(String::as_str).collect();
    for (section, value) in table {
        let Some(valid) = defaults.get(section).and_then(toml::Value::as_table) else {
            return Err((
                section.clone(),
                unknown("section", section, &sections, |s| format!("[{s}]")),
            ));
        };
        let Some(inner) = value.as_table() else {
            return Err((
                section.clone(),
                format!("must be a table: write it as [{section}]"),
            ));
        };
        let keys: Vec<&str> = valid.keys().map(String::as_str).collect();
        for key in inner.keys() {
            if !keys.contains(&key.as_str()) {
                return Err((
                    format!("{section}.{key}"),
                    unknown("key", key, &keys, |k| format!("`{section}.{k}`")),
                ));
            }
        }
    }
    Ok(())
}

fn unknown(what: &str, name: &str, valid: &[&str], show: impl Fn(&str) -> String) -> String {
    let closest = valid
        .iter()
        .map(|v| (edit_distance(name, v), *v))
        .min()
        .filter(|(d, v)| *d <= (v.len().max(name.len()) / 2).max(2));
    match closest {
        Some((_, v)) => format!("unknown {what}; did you mean {}?", show(v)),
        None => format!(
            "unknown {what}; valid ones are {}",
            valid.iter().map(|v| show(v)).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// Levenshtein distance, for "did you mean".
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The dotted key assigned on `line` (1-based), e.g. `optimizer.lr`.
fn key_at_line(text: &str, line: usize) -> Option<String> {
    let section = text
        .lines()
        .take(line - 1)
        .filter_map(|l| l.trim().strip_prefix('[')?.strip_suffix(']'))
        .last()
        .map(str::trim);
    let (key, _) = text.lines().nth(line - 1)?.split_once('=')?;
    let key = key.trim();
    Some(match section {
        Some(section) => format!("{section}.{key}"),
        None => key.to_string(),
    })
}

fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests;
