//! `tinyattn eval`: does attention find the gold links, and does the model need the heads that do?
//!
//! Every link becomes one probe: the sentence with the link's dependent masked (masked
//! objective), read at one query row:
//!
//! - **masked** models: the dependent's own (masked) position, whose output predicts it;
//! - **causal** models: the word *before* the dependent, whose output predicts the dependent as
//!   the next word and which sees everything up to it, the target included.
//!
//! Per head, **argmax accuracy** (Clark et al. 2019: the key with the largest weight is the gold
//! target) and **mean attention mass** on the target; the same for **attention rollout** (Abnar &
//! Zuidema 2020: per layer, the head-mean attention mixed half-and-half with the identity for the
//! residual, rows renormalised, multiplied through the layers; its argmax skips the query itself,
//! which the identity share would otherwise always make the largest). **Behavioural accuracy**: a verb
//! counts as right when the model prefers it over the same verb in the other number ("is" over
//! "are"); a pronoun when it prefers it over every other pronoun. **Ablation**: behavioural
//! accuracy with the best head zeroed, against zeroing any single other head.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::path::Path;

use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::Serialize;
use tinyattn_corpus::{
    LinkKind, Sentence, WordTokenizer, baselines, pronouns, verb_counterpart, word_class,
};
use tinyattn_model::{ModelInput, Transformer};

use crate::config::Objective;
use crate::run::LoadedRun;

/// Probes per forward pass.
const BATCH: usize = 128;

/// One link, ready for the model.
#[derive(Debug, Clone)]
struct Probe {
    kind: LinkKind,
    /// Gold target position.
    to: usize,
    attractors: usize,
    /// Token ids, the dependent masked for a masked model.
    ids: Vec<i64>,
    /// The attention row and logits position that are read.
    query: usize,
    /// The dependent's id.
    gold: i64,
    /// Ids the gold word competes with (empty: the whole vocabulary).
    rivals: Vec<i64>,
    /// Class names of the sentence's words, for the miss breakdown.
    classes: Vec<&'static str>,
}

/// What one forward pass says about one probe.
struct Outcome {
    /// Behaviour: the model prefers the gold dependent over its rivals.
    correct: bool,
    /// Per (layer × heads + head), the query row over the sentence's keys.
    rows: Vec<Vec<f32>>,
    /// Per layer, the head-mean attention matrix `[len][len]` (for rollout).
    layer_means: Vec<Vec<Vec<f32>>>,
}

/// Argmax accuracy and mean mass of one attention source.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Pointing {
    /// Share of links whose largest weight falls on the gold target.
    pub argmax_accuracy: f64,
    /// Mean weight on the gold target.
    pub mean_mass: f64,
}

/// One head's [`Pointing`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HeadScore {
    /// 0-based layer.
    pub layer: usize,
    /// 0-based head.
    pub head: usize,
    /// How the head points.
    #[serde(flatten)]
    pub pointing: Pointing,
}

/// Position-only baselines on the same links.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Baselines {
    /// The fixed offset `to - from` that is right most often.
    pub best_offset: Option<isize>,
    /// Accuracy of always predicting `from + best_offset`.
    pub fixed_offset: f64,
    /// Accuracy of the last noun before the dependent.
    pub nearest_noun: f64,
    /// Accuracy of the sentence's first noun.
    pub first_noun: f64,
}

/// Behavioural accuracy among the links with a given number of attractors.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bucket {
    /// "0", "1", "2" or "3+".
    pub attractors: String,
    /// Links in the bucket.
    pub links: usize,
    /// Share predicted right.
    pub accuracy: f64,
}

/// Behavioural accuracy, overall and by attractor count.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Behaviour {
    /// Share of links whose dependent the model predicts right.
    pub accuracy: f64,
    /// The same by attractor count.
    pub by_attractors: Vec<Bucket>,
}

/// Behavioural accuracy with heads zeroed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Ablation {
    /// The head zeroed first.
    pub best_head: (usize, usize),
    /// Accuracy with the best head zeroed.
    pub best_head_zeroed: f64,
    /// Mean accuracy over zeroing each other head alone.
    pub other_head_zeroed_mean: f64,
    /// Lowest accuracy over zeroing each other head alone.
    pub other_head_zeroed_worst: f64,
}

/// Everything `eval` measures about one link kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KindReport {
    /// "subject-verb" or "pronoun-antecedent".
    pub kind: String,
    /// Links scored.
    pub links: usize,
    /// Every head, layer-major.
    pub heads: Vec<HeadScore>,
    /// The head with the best argmax accuracy (ties: more mass).
    pub best_head: HeadScore,
    /// Attention rollout through all layers.
    pub rollout: Pointing,
    /// Position-only baselines.
    pub baselines: Baselines,
    /// Where the best head's argmax lands when it misses: word class of that word, or "itself".
    pub best_head_misses: BTreeMap<String, usize>,
    /// Behavioural accuracy of the intact model.
    pub behaviour: Behaviour,
    /// Behavioural accuracy with heads zeroed (`None` without ablation).
    pub ablation: Option<Ablation>,
}

/// The whole evaluation; `tinyattn eval --json` prints exactly this.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    /// Schema version of this document.
    pub schema: u32,
    /// The run folder.
    pub run: String,
    /// The JSONL file evaluated.
    pub data: String,
    /// Sentences in it.
    pub sentences: usize,
    /// Which attention row is read: "dependent" (masked) or "before-dependent" (causal).
    pub query: String,
    /// One report per link kind present in the data.
    pub kinds: Vec<KindReport>,
}

/// Evaluates `run` on `sentences` (already checked against its vocabulary).
pub fn evaluate(
    run: &LoadedRun,
    sentences: &[Sentence],
    data: &Path,
    ablate: bool,
    device: &Device,
) -> EvalReport {
    let causal = run.job.data.objective == Objective::Causal;
    EvalReport {
        schema: 1,
        run: run.dir.display().to_string(),
        data: data.display().to_string(),
        sentences: sentences.len(),
        query: if causal {
            "before-dependent"
        } else {
            "dependent"
        }
        .to_string(),
        kinds: link_reports(
            &run.model,
            &run.tokenizer,
            causal,
            sentences,
            ablate,
            device,
        ),
    }
}

/// The per-kind reports of [`evaluate`], for any model and tokenizer (training uses it on its
/// probe sentences).
pub fn link_reports(
    model: &Transformer,
    tokenizer: &WordTokenizer,
    causal: bool,
    sentences: &[Sentence],
    ablate: bool,
    device: &Device,
) -> Vec<KindReport> {
    let probes = probes(tokenizer, sentences, causal);
    let (layers, heads) = (model.n_layers(), model.n_heads());
    let intact = outcomes(model, &probes, &[], true, device);
    let corpus_baselines = baselines(sentences);

    LinkKind::ALL
        .into_iter()
        .filter_map(|kind| {
            let picked: Vec<usize> = (0..probes.len())
                .filter(|&i| probes[i].kind == kind)
                .collect();
            if picked.is_empty() {
                return None;
            }
            // Rows in the order of `picked`.
            let pointing = |rows: Vec<&[f32]>| {
                score(rows.into_iter().zip(picked.iter().map(|&i| probes[i].to)))
            };
            let head_scores: Vec<HeadScore> = (0..layers * heads)
                .map(|h| HeadScore {
                    layer: h / heads,
                    head: h % heads,
                    pointing: pointing(
                        picked
                            .iter()
                            .map(|&i| intact[i].rows[h].as_slice())
                            .collect(),
                    ),
                })
                .collect();
            let best = *head_scores
                .iter()
                .max_by(|a, b| {
                    (a.pointing.argmax_accuracy, a.pointing.mean_mass)
                        .partial_cmp(&(b.pointing.argmax_accuracy, b.pointing.mean_mass))
                        .unwrap_or(std::cmp::Ordering::Equal)
                })
                .unwrap_or(&head_scores[0]);
            let rollouts: Vec<Vec<f32>> = picked
                .iter()
                .map(|&i| rollout(&intact[i].layer_means, probes[i].query))
                .collect();
            // The identity share makes every rollout row peak on the query itself, so its argmax
            // is taken over the other words.
            let rollouts: Vec<Vec<f32>> = rollouts
                .into_iter()
                .zip(&picked)
                .map(|(mut row, &i)| {
                    row[probes[i].query] = 0.0;
                    row
                })
                .collect();
            let rollout_pointing = pointing(rollouts.iter().map(Vec::as_slice).collect());
            let best_index = best.layer * heads + best.head;
            let mut misses = BTreeMap::new();
            for &i in &picked {
                let landed = argmax(&intact[i].rows[best_index]);
                if landed != probes[i].to {
                    let class = match landed == probes[i].query {
                        true => "itself",
                        false => probes[i].classes[landed],
                    };
                    *misses.entry(class.to_string()).or_insert(0) += 1;
                }
            }
            let behaviour_of = |outcomes: &[Outcome]| -> f64 {
                picked.iter().filter(|&&i| outcomes[i].correct).count() as f64 / picked.len() as f64
            };
            let ablation = ablate.then(|| {
                let kind_probes: Vec<Probe> = picked.iter().map(|&i| probes[i].clone()).collect();
                let accuracy_without = |zeroed: (usize, usize)| {
                    let out = outcomes(model, &kind_probes, &[zeroed], false, device);
                    out.iter().filter(|o| o.correct).count() as f64 / out.len() as f64
                };
                let others: Vec<f64> = (0..layers * heads)
                    .filter(|&h| h != best_index)
                    .map(|h| accuracy_without((h / heads, h % heads)))
                    .collect();
                Ablation {
                    best_head: (best.layer, best.head),
                    best_head_zeroed: accuracy_without((best.layer, best.head)),
                    other_head_zeroed_mean: others.iter().sum::<f64>() / others.len().max(1) as f64,
                    other_head_zeroed_worst: others.iter().copied().fold(1.0, f64::min),
                }
            });
            let b = corpus_baselines.get(kind);
            Some(KindReport {
                kind: kind.name().to_string(),
                links: picked.len(),
                heads: head_scores,
                best_head: best,
                rollout: rollout_pointing,
                baselines: Baselines {
                    best_offset: b.best_offset,
                    fixed_offset: b.fixed_offset.accuracy(),
                    nearest_noun: b.nearest_noun.accuracy(),
                    first_noun: b.first_noun.accuracy(),
                },
                best_head_misses: misses,
                behaviour: Behaviour {
                    accuracy: behaviour_of(&intact),
                    by_attractors: buckets(&picked, &probes, &intact),
                },
                ablation,
            })
        })
        .collect()
}

fn probes(tokenizer: &WordTokenizer, sentences: &[Sentence], causal: bool) -> Vec<Probe> {
    let id = |word: &str| tokenizer.word_to_id(word).map(i64::from);
    let pronoun_ids: Vec<(&str, i64)> = pronouns()
        .into_iter()
        .filter_map(|p| Some((p, id(p)?)))
        .collect();
    let mask = i64::from(tokenizer.mask_id());
    sentences
        .iter()
        .flat_map(|sentence| {
            let ids: Vec<i64> = tokenizer
                .encode_words(&sentence.words)
                .ids
                .into_iter()
                .map(i64::from)
                .collect();
            let classes: Vec<&'static str> = sentence
                .words
                .iter()
                .map(|w| word_class(w).name())
                .collect();
            let pronoun_ids = &pronoun_ids;
            sentence
                .links
                .iter()
                .filter(move |l| !causal || l.from > 0)
                .map(move |link| {
                    let word = sentence.words[link.from].as_str();
                    let rivals = match link.kind {
                        LinkKind::SubjectVerb => {
                            verb_counterpart(word).and_then(id).into_iter().collect()
                        }
                        LinkKind::PronounAntecedent => pronoun_ids
                            .iter()
                            .filter(|(p, _)| *p != word)
                            .map(|(_, i)| *i)
                            .collect(),
                    };
                    let mut ids = ids.clone();
                    let gold = ids[link.from];
                    if !causal {
                        ids[link.from] = mask;
                    }
                    Probe {
                        kind: link.kind,
                        to: link.to,
                        attractors: link.attractors,
                        ids,
                        query: if causal { link.from - 1 } else { link.from },
                        gold,
                        rivals,
                        classes: classes.clone(),
                    }
                })
        })
        .collect()
}

/// Runs the model over `probes`, zeroing `ablated` heads, and reads each probe's outcome.
fn outcomes(
    model: &Transformer,
    probes: &[Probe],
    ablated: &[(usize, usize)],
    with_attention: bool,
    device: &Device,
) -> Vec<Outcome> {
    let mut all = Vec::with_capacity(probes.len());
    for chunk in probes.chunks(BATCH) {
        let (batch, seq) = (
            chunk.len(),
            chunk.iter().map(|p| p.ids.len()).max().unwrap_or(1),
        );
        let mut ids = Vec::with_capacity(batch * seq);
        let mut pad = Vec::with_capacity(batch * seq);
        for probe in chunk {
            ids.extend(
                probe
                    .ids
                    .iter()
                    .copied()
                    .chain(std::iter::repeat_n(0, seq - probe.ids.len())),
            );
            pad.extend((0..seq).map(|pos| pos >= probe.ids.len()));
        }
        let tokens: Tensor<2, Int> = Tensor::from_data(TensorData::new(ids, [batch, seq]), device);
        let mut input = ModelInput::new(tokens).pad_mask(Tensor::from_data(
            TensorData::new(pad, [batch, seq]),
            device,
        ));
        for &(layer, head) in ablated {
            input = input.ablate(layer, head);
        }
        let (logits, attention) = match with_attention {
            true => {
                let out = model.forward_with_attention(input);
                (out.logits, out.attention)
            }
            false => (model.forward(input), Vec::new()),
        };
        let vocab = logits.dims()[2];
        let logits = floats(logits);
        let attention: Vec<Vec<f32>> = attention.into_iter().map(floats).collect();
        for (b, probe) in chunk.iter().enumerate() {
            let at = |pos: usize| &logits[(b * seq + pos) * vocab..(b * seq + pos + 1) * vocab];
            let row = at(probe.query);
            let gold = row[probe.gold as usize];
            let correct = match probe.rivals.is_empty() {
                true => argmax(row) == probe.gold as usize,
                false => probe.rivals.iter().all(|&r| gold > row[r as usize]),
            };
            let len = probe.ids.len();
            let heads = model.n_heads();
            let mut rows = Vec::new();
            let mut layer_means = Vec::new();
            for layer in &attention {
                // [batch, heads, seq, seq], row-major
                let cell =
                    |h: usize, q: usize, k: usize| layer[((b * heads + h) * seq + q) * seq + k];
                for h in 0..heads {
                    rows.push((0..len).map(|k| cell(h, probe.query, k)).collect());
                }
                layer_means.push(
                    (0..len)
                        .map(|q| {
                            (0..len)
                                .map(|k| {
                                    (0..heads).map(|h| cell(h, q, k)).sum::<f32>() / heads as f32
                                })
                                .collect()
                        })
                        .collect(),
                );
            }
            all.push(Outcome {
                correct,
                rows,
                layer_means,
            });
        }
    }
    all
}

/// A float tensor's values as `f32`, row-major.
pub fn floats<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_to_vec()
        .unwrap_or_else(|err| unreachable!("a float tensor converts to f32: {err:?}"))
}

/// Argmax accuracy and mean mass of attention rows against their gold targets.
pub fn score<'a>(rows: impl Iterator<Item = (&'a [f32], usize)>) -> Pointing {
    let (mut hits, mut mass, mut n) = (0usize, 0.0f64, 0usize);
    for (row, target) in rows {
        hits += usize::from(argmax(row) == target);
        mass += f64::from(row[target]);
        n += 1;
    }
    Pointing {
        argmax_accuracy: hits as f64 / n.max(1) as f64,
        mean_mass: mass / n.max(1) as f64,
    }
}

/// Index of the largest value (the first of ties).
pub fn argmax(row: &[f32]) -> usize {
    row.iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, &v)| {
            if v > best.1 { (i, v) } else { best }
        })
        .0
}

/// Row `query` of the attention rollout: `Â_L · … · Â_1` with `Â = ½A + ½I`, rows renormalised.
pub fn rollout(layer_means: &[Vec<Vec<f32>>], query: usize) -> Vec<f32> {
    let Some(len) = layer_means.first().map(Vec::len) else {
        return Vec::new();
    };
    let mut row: Vec<f32> = (0..len).map(|k| f32::from(u8::from(k == query))).collect();
    for attention in layer_means.iter().rev() {
        let mut next = vec![0.0; len];
        for (q, &weight) in row.iter().enumerate() {
            let mixed: Vec<f32> = (0..len)
                .map(|k| 0.5 * attention[q][k] + if k == q { 0.5 } else { 0.0 })
                .collect();
            let norm: f32 = mixed.iter().sum();
            for (k, m) in mixed.iter().enumerate() {
                next[k] += weight * m / norm;
            }
        }
        row = next;
    }
    row
}

fn buckets(picked: &[usize], probes: &[Probe], outcomes: &[Outcome]) -> Vec<Bucket> {
    ["0", "1", "2", "3+"]
        .iter()
        .enumerate()
        .filter_map(|(n, label)| {
            let members: Vec<usize> = picked
                .iter()
                .copied()
                .filter(|&i| probes[i].attractors.min(3) == n)
                .collect();
            (!members.is_empty()).then(|| Bucket {
                attractors: label.to_string(),
                links: members.len(),
                accuracy: members.iter().filter(|&&i| outcomes[i].correct).count() as f64
                    / members.len() as f64,
            })
        })
        .collect()
}

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} on {} ({} sentences)",
            self.run, self.data, self.sentences
        )?;
        for kind in &self.kinds {
            let query = match self.query.as_str() {
                "dependent" => "the masked dependent",
                _ => "the word before the dependent",
            };
            writeln!(
                f,
                "\n{} — {} links, attention read at {query}",
                kind.kind, kind.links
            )?;
            let mut header = String::from("  head      ");
            let mut argmax = String::from("  argmax    ");
            let mut mass = String::from("  mass      ");
            for h in &kind.heads {
                let _ = write!(header, "{:>7}", format!("L{}H{}", h.layer, h.head));
                let _ = write!(argmax, "{:>7}", pct(h.pointing.argmax_accuracy));
                let _ = write!(mass, "{:>7.2}", h.pointing.mean_mass);
            }
            writeln!(f, "{header}\n{argmax}\n{mass}")?;
            let best = &kind.best_head;
            writeln!(
                f,
                "  best head L{}H{}: {} argmax, mean mass {:.2}; rollout {} argmax",
                best.layer,
                best.head,
                pct(best.pointing.argmax_accuracy),
                best.pointing.mean_mass,
                pct(kind.rollout.argmax_accuracy)
            )?;
            let b = &kind.baselines;
            writeln!(
                f,
                "  baselines: fixed offset {} {}, nearest noun {}, first noun {}",
                b.best_offset
                    .map(|o| format!("{o:+}"))
                    .unwrap_or_else(|| "-".into()),
                pct(b.fixed_offset),
                pct(b.nearest_noun),
                pct(b.first_noun)
            )?;
            if !kind.best_head_misses.is_empty() {
                let total: usize = kind.best_head_misses.values().sum();
                let mut misses: Vec<_> = kind.best_head_misses.iter().collect();
                misses.sort_by(|a, b| b.1.cmp(a.1));
                let list: Vec<String> = misses
                    .iter()
                    .map(|(class, n)| format!("{class} {}", pct(**n as f64 / total as f64)))
                    .collect();
                writeln!(
                    f,
                    "  when the best head misses, it lands on: {}",
                    list.join(", ")
                )?;
            }
            let buckets: Vec<String> = kind
                .behaviour
                .by_attractors
                .iter()
                .map(|b| format!("{}: {} (n={})", b.attractors, pct(b.accuracy), b.links))
                .collect();
            writeln!(
                f,
                "  behaviour: {} right; by attractors {}",
                pct(kind.behaviour.accuracy),
                buckets.join(", ")
            )?;
            if let Some(a) = &kind.ablation {
                let drop = |x: f64| 100.0 * (kind.behaviour.accuracy - x);
                writeln!(
                    f,
                    "  ablation: zeroing L{}H{} → {} ({:+.1} points); zeroing one other head → mean {} ({:+.1}), worst {} ({:+.1})",
                    a.best_head.0,
                    a.best_head.1,
                    pct(a.best_head_zeroed),
                    -drop(a.best_head_zeroed),
                    pct(a.other_head_zeroed_mean),
                    -drop(a.other_head_zeroed_mean),
                    pct(a.other_head_zeroed_worst),
                    -drop(a.other_head_zeroed_worst)
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_on_a_synthetic_map_with_known_answers() {
        // Three rows: the first two peak on their target, the third peaks elsewhere.
        let rows: [&[f32]; 3] = [&[0.1, 0.8, 0.1], &[0.6, 0.3, 0.1], &[0.5, 0.2, 0.3]];
        let targets = [1, 0, 2];
        let s = score(rows.iter().copied().zip(targets));
        assert!((s.argmax_accuracy - 2.0 / 3.0).abs() < 1e-12);
        assert!((s.mean_mass - (0.8 + 0.6 + 0.3) / 3.0).abs() < 1e-6);
    }

    #[test]
    fn argmax_takes_the_first_of_ties() {
        assert_eq!(argmax(&[0.1, 0.7, 0.2]), 1);
        assert_eq!(argmax(&[0.4, 0.2, 0.4]), 0);
    }

    #[test]
    fn rollout_of_one_layer_is_half_attention_half_identity() {
        // One layer, hand-computed: Â = ½A + ½I, rows already sum to 1.
        let a = vec![
            vec![1.0, 0.0, 0.0],
            vec![0.5, 0.5, 0.0],
            vec![0.2, 0.2, 0.6],
        ];
        let row = rollout(&[a], 2);
        let expected = [0.1, 0.1, 0.8];
        for (r, e) in row.iter().zip(expected) {
            assert!((r - e).abs() < 1e-6, "{row:?}");
        }
    }

    #[test]
    fn rollout_composes_layers_from_the_top() {
        // Layer 0 moves everything from 1 to 0; layer 1 moves query 2 to 1. Rollout from 2:
        // top layer: Â₁ row 2 = [0, .5, .5]; then Â₀ rows 1 = [.5, .5, 0], 2 = [0, 0, 1]:
        // .5·[.5,.5,0] + .5·[0,0,1] = [.25, .25, .5].
        let layer0 = vec![
            vec![1.0, 0.0, 0.0],
            vec![1.0, 0.0, 0.0],
            vec![0.0, 0.0, 1.0],
        ];
        let layer1 = vec![
            vec![1.0, 0.0, 0.0],
            vec![0.0, 1.0, 0.0],
            vec![0.0, 1.0, 0.0],
        ];
        let row = rollout(&[layer0, layer1], 2);
        let expected = [0.25, 0.25, 0.5];
        for (r, e) in row.iter().zip(expected) {
            assert!((r - e).abs() < 1e-6, "{row:?}");
        }
    }
}
