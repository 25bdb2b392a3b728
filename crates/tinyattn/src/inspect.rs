//! `tinyattn inspect`: a trained model's attention on sentences you type.
//!
//! A sentence is normalised the way the tokenizer documents (lower case, punctuation split off,
//! runs of white space collapsed; see data/README.md). A masked model is read the way it was
//! trained and evaluated: it predicts masked words, so `--mask I` replaces word `I` (0-based)
//! with `[MASK]` before reading — mask a verb or pronoun to see where the model looks for what
//! it needs. Without `--mask` the sentence is read as typed.

use std::path::Path;

use anyhow::{Context, Result, bail};
use burn::tensor::{Device, Int, Tensor, TensorData};
use tinyattn_model::ModelInput;

use crate::config::Objective;
use crate::eval::{floats, link_reports};
use crate::render::{HeadRef, SentenceAttention};
use crate::run::LoadedRun;
use crate::train::probe_sentences;

/// A sentence ready for the model.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Normalised words, `[MASK]` where a word was masked.
    pub words: Vec<String>,
    /// Token ids.
    pub ids: Vec<i64>,
    /// Words outside the vocabulary, with their positions (read as `[UNK]`).
    pub unknown: Vec<(usize, String)>,
}

/// Normalises `text`, masks word `mask` if asked, and checks it against the model.
pub fn prepare(run: &LoadedRun, text: &str, mask: Option<usize>) -> Result<Prepared> {
    let mut words = run
        .tokenizer
        .split_text(text)
        .with_context(|| format!("reading the sentence {text:?}"))?;
    if words.is_empty() {
        bail!("the sentence {text:?} has no words");
    }
    let max = run.model_config.max_seq_len;
    if words.len() > max {
        bail!(
            "the sentence has {} words, but the model reads at most {max} (model.max_seq_len of {})",
            words.len(),
            run.dir.display()
        );
    }
    if let Some(index) = mask {
        if index >= words.len() {
            bail!(
                "--mask {index}: the sentence has {} words (0 to {})",
                words.len(),
                words.len() - 1
            );
        }
        words[index] = tinyattn_corpus::MASK_TOKEN.to_string();
    }
    let encoded = run.tokenizer.encode_words(&words);
    if encoded.unknown.len() == words.len() {
        bail!(
            "none of the words of {text:?} is in the vocabulary of {}",
            run.dir.display()
        );
    }
    Ok(Prepared {
        ids: encoded.ids.into_iter().map(i64::from).collect(),
        unknown: encoded.unknown,
        words,
    })
}

/// Every layer's and head's attention for one prepared sentence.
pub fn attention(
    run: &LoadedRun,
    prepared: &Prepared,
    title: Option<String>,
    highlights: Vec<(usize, usize)>,
    device: &Device,
) -> SentenceAttention {
    let len = prepared.ids.len();
    let tokens: Tensor<2, Int> =
        Tensor::from_data(TensorData::new(prepared.ids.clone(), [1, len]), device);
    let output = run.model.forward_with_attention(ModelInput::new(tokens));
    let heads = run.model.n_heads();
    let layers = output
        .attention
        .into_iter()
        .map(|layer| {
            // [1, heads, seq, seq], row-major
            let values = floats(layer);
            (0..heads)
                .map(|h| {
                    (0..len)
                        .map(|q| values[(h * len + q) * len..(h * len + q + 1) * len].to_vec())
                        .collect()
                })
                .collect()
        })
        .collect();
    SentenceAttention {
        words: prepared.words.clone(),
        layers,
        title,
        highlights,
    }
}

/// The best head per link kind on the run's validation sentences, as `(kind, head)`; the
/// heads worth showing first.
pub fn best_heads(run: &LoadedRun, device: &Device) -> Result<Vec<(String, HeadRef)>> {
    let sentences = probe_sentences(&run.job)
        .with_context(|| format!("finding the best heads of {}", run.dir.display()))?;
    let causal = run.job.data.objective == Objective::Causal;
    Ok(link_reports(
        &run.model,
        &run.tokenizer,
        causal,
        &sentences,
        false,
        device,
    )
    .into_iter()
    .map(|report| {
        let head = HeadRef {
            layer: report.best_head.layer,
            head: report.best_head.head,
        };
        (report.kind, head)
    })
    .collect())
}

/// Warns about unknown words on stderr, or refuses them when `strict`.
pub fn report_unknown(prepared: &Prepared, text: &str, strict: bool) -> Result<()> {
    if prepared.unknown.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = prepared
        .unknown
        .iter()
        .map(|(i, w)| format!("\"{w}\" (word {i})"))
        .collect();
    if strict {
        bail!(
            "not in the vocabulary: {} in {text:?} (--strict)",
            list.join(", ")
        );
    }
    eprintln!(
        "warning: not in the vocabulary, read as [UNK]: {}",
        list.join(", ")
    );
    Ok(())
}

/// Writes a file, naming it in the error.
pub fn write(path: &Path, data: &[u8]) -> Result<()> {
    std::fs::write(path, data).with_context(|| format!("writing {}", path.display()))
}
