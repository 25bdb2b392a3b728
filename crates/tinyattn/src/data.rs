//! Turning sentences into training batches for either objective.
//!
//! Which words are masked is drawn from an RNG seeded by `(seed, step)`, and the sentences of a
//! step come from a per-epoch shuffle seeded by `(seed, epoch)`: a batch depends on the step
//! number alone, so a resumed run sees exactly the batches the uninterrupted run would have.

use std::cell::RefCell;

use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tinyattn_corpus::{Sentence, WordTokenizer};

use crate::config::{DataSection, Objective};

/// A sentence as token ids, with the positions of its link dependents (verbs and pronouns).
#[derive(Debug, Clone)]
pub struct Example {
    /// One id per word.
    pub ids: Vec<i64>,
    /// Word positions that some link points from.
    pub dependents: Vec<usize>,
}

impl Example {
    /// Encodes a sentence; unknown words become the tokenizer's unknown id.
    pub fn new(sentence: &Sentence, tokenizer: &WordTokenizer) -> Self {
        let words: Vec<&str> = sentence.words.iter().map(String::as_str).collect();
        let ids = tokenizer
            .encode_words(&words)
            .ids
            .into_iter()
            .map(i64::from)
            .collect();
        let mut dependents: Vec<usize> = sentence.links.iter().map(|l| l.from).collect();
        dependents.sort_unstable();
        dependents.dedup();
        Self { ids, dependents }
    }
}

/// One step's inputs and targets, padded to the longest sentence of the batch.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Input ids `[batch, seq]` (masked words replaced by the mask id).
    pub inputs: Tensor<2, Int>,
    /// Target ids `[batch, seq]` (0 where nothing is predicted).
    pub targets: Tensor<2, Int>,
    /// 1.0 where the loss reads a prediction, 0.0 elsewhere `[batch, seq]`.
    pub loss_mask: Tensor<2>,
    /// `true` at padding `[batch, seq]`.
    pub pad_mask: Tensor<2, Bool>,
    /// Real (non-padding) tokens in the batch, for throughput.
    pub tokens: usize,
}

/// One row before it becomes tensors.
struct Row {
    inputs: Vec<i64>,
    targets: Vec<i64>,
    weights: Vec<f32>,
}

/// Makes batches from a fixed set of examples.
#[derive(Debug, Clone)]
pub struct Batcher {
    examples: Vec<Example>,
    data: DataSection,
    pad_id: i64,
    mask_id: i64,
    seed: u64,
    /// The epoch whose shuffled example order was drawn last, and that order.
    order: RefCell<(usize, Vec<usize>)>,
}

impl Batcher {
    /// A batcher over `examples` with the job's masking settings.
    pub fn new(
        examples: Vec<Example>,
        data: &DataSection,
        tokenizer: &WordTokenizer,
        seed: u64,
    ) -> Self {
        Self {
            examples,
            data: data.clone(),
            pad_id: i64::from(tokenizer.pad_id()),
            mask_id: i64::from(tokenizer.mask_id()),
            seed,
            order: RefCell::new((usize::MAX, Vec::new())),
        }
    }

    /// The training batch of `step`: `batch_size` examples in per-epoch shuffled order.
    pub fn train_batch(&self, step: usize, batch_size: usize, device: &Device) -> Batch {
        let n = self.examples.len();
        let mut rng = ChaCha8Rng::seed_from_u64(mix(self.seed, step as u64, 1));
        // An epoch spans many steps: shuffle it once, not at every step.
        let mut order = self.order.borrow_mut();
        let rows = (step * batch_size..(step + 1) * batch_size)
            .map(|i| {
                let epoch = i / n;
                if order.0 != epoch {
                    let mut shuffled: Vec<usize> = (0..n).collect();
                    shuffled.shuffle(&mut ChaCha8Rng::seed_from_u64(mix(
                        self.seed,
                        epoch as u64,
                        2,
                    )));
                    *order = (epoch, shuffled);
                }
                self.row(&self.examples[order.1[i % n]], &mut rng)
            })
            .collect();
        self.to_batch(rows, device)
    }

    /// Evaluation batches over every example, in order, masked with a fixed seed.
    pub fn eval_batches(&self, batch_size: usize, device: &Device) -> Vec<Batch> {
        let mut rng = ChaCha8Rng::seed_from_u64(mix(self.seed, 0, 3));
        self.examples
            .chunks(batch_size)
            .map(|chunk| {
                let rows = chunk.iter().map(|e| self.row(e, &mut rng)).collect();
                self.to_batch(rows, device)
            })
            .collect()
    }

    /// Batches that mask exactly one link dependent per row, for behavioural accuracy: did the
    /// model predict the right verb form or pronoun?
    pub fn dependent_batches(&self, batch_size: usize, device: &Device) -> Vec<Batch> {
        let rows: Vec<Row> = self
            .examples
            .iter()
            .flat_map(|e| e.dependents.iter().map(move |&d| (e, d)))
            .map(|(example, dependent)| {
                let mut row = self.unmasked(example);
                self.mask(&mut row, dependent, example.ids[dependent]);
                row
            })
            .collect();
        let mut rows = rows.into_iter().peekable();
        let mut batches = Vec::new();
        while rows.peek().is_some() {
            batches.push(self.to_batch(rows.by_ref().take(batch_size).collect(), device));
        }
        batches
    }

    fn unmasked(&self, example: &Example) -> Row {
        let len = example.ids.len();
        Row {
            inputs: example.ids.clone(),
            targets: vec![0; len],
            weights: vec![0.0; len],
        }
    }

    fn mask(&self, row: &mut Row, pos: usize, target: i64) {
        row.inputs[pos] = self.mask_id;
        row.targets[pos] = target;
        row.weights[pos] = 1.0;
    }

    fn row(&self, example: &Example, rng: &mut ChaCha8Rng) -> Row {
        let ids = &example.ids;
        let mut row = self.unmasked(example);
        match self.data.objective {
            Objective::Causal => {
                for pos in 0..ids.len().saturating_sub(1) {
                    row.targets[pos] = ids[pos + 1];
                    row.weights[pos] = 1.0;
                }
            }
            Objective::Masked => {
                for (pos, &id) in ids.iter().enumerate() {
                    let p = match example.dependents.binary_search(&pos) {
                        Ok(_) => self.data.dependent_mask_prob,
                        Err(_) => self.data.word_mask_prob,
                    };
                    if rng.random_bool(p) {
                        self.mask(&mut row, pos, id);
                    }
                }
                // A row with nothing masked teaches nothing; mask one word instead.
                if !row.weights.contains(&1.0) && !ids.is_empty() {
                    let pos = rng.random_range(0..ids.len());
                    self.mask(&mut row, pos, ids[pos]);
                }
            }
        }
        row
    }

    fn to_batch(&self, rows: Vec<Row>, device: &Device) -> Batch {
        let batch = rows.len();
        let seq = rows
            .iter()
            .map(|r| r.inputs.len())
            .max()
            .unwrap_or(0)
            .max(1);
        let (mut inputs, mut targets, mut weights, mut pad) = (
            Vec::with_capacity(batch * seq),
            Vec::with_capacity(batch * seq),
            Vec::with_capacity(batch * seq),
            Vec::with_capacity(batch * seq),
        );
        let mut tokens = 0;
        for row in &rows {
            let len = row.inputs.len();
            tokens += len;
            inputs.extend(
                row.inputs
                    .iter()
                    .copied()
                    .chain(std::iter::repeat_n(self.pad_id, seq - len)),
            );
            targets.extend(
                row.targets
                    .iter()
                    .copied()
                    .chain(std::iter::repeat_n(0, seq - len)),
            );
            weights.extend(
                row.weights
                    .iter()
                    .copied()
                    .chain(std::iter::repeat_n(0.0, seq - len)),
            );
            pad.extend((0..seq).map(|pos| pos >= len));
        }
        Batch {
            inputs: Tensor::from_data(TensorData::new(inputs, [batch, seq]), device),
            targets: Tensor::from_data(TensorData::new(targets, [batch, seq]), device),
            loss_mask: Tensor::from_data(TensorData::new(weights, [batch, seq]), device),
            pad_mask: Tensor::from_data(TensorData::new(pad, [batch, seq]), device),
            tokens,
        }
    }

    /// Whether the objective is the masked one.
    pub fn is_masked(&self) -> bool {
        self.data.objective == Objective::Masked
    }

    /// How many examples the batcher holds.
    pub fn len(&self) -> usize {
        self.examples.len()
    }

    /// Whether the batcher holds no example.
    pub fn is_empty(&self) -> bool {
        self.examples.is_empty()
    }
}

/// Mixes a seed with a counter and a stream number into a new seed (SplitMix64 finaliser), so
/// that nearby steps get unrelated random streams.
fn mix(seed: u64, counter: u64, stream: u64) -> u64 {
    let mut z = seed
        .wrapping_add(counter.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(stream.wrapping_mul(0xD1B5_4A32_D192_ED03));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
