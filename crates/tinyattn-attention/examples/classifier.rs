//! A small burn model built on `tinyattn-attention`: a sequence classifier on a synthetic task.
//!
//! Each sequence holds random filler tokens and one "question" token at position 0. The label is
//! whether the sequence also contains the "answer" token anywhere. Mean-pooling embeddings cannot
//! tell where the question is, but attention from position 0 can look for the answer, so the
//! loss only falls if attention learns to find it.
//!
//! Run: `cargo run --release -p tinyattn-attention --example classifier`

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{Embedding, EmbeddingConfig, Linear, LinearConfig};
use burn::optim::{AdamWConfig, GradientsParams};
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tinyattn_attention::{AttentionInput, MultiHeadAttention, MultiHeadAttentionConfig};

const VOCAB: usize = 12;
const QUESTION: i64 = 0;
const ANSWER: i64 = 1;
const SEQ: usize = 10;
const D_MODEL: usize = 32;

#[derive(Module, Debug)]
struct Classifier {
    tokens: Embedding,
    positions: Embedding,
    attention: MultiHeadAttention,
    head: Linear,
}

impl Classifier {
    fn new(device: &Device) -> Self {
        Self {
            tokens: EmbeddingConfig::new(VOCAB, D_MODEL).init(device),
            positions: EmbeddingConfig::new(SEQ, D_MODEL).init(device),
            attention: MultiHeadAttentionConfig::new(D_MODEL, 4).init(device),
            head: LinearConfig::new(D_MODEL, 2).init(device),
        }
    }

    /// `tokens [batch, seq]` → logits `[batch, 2]`, read at the question position.
    fn forward(&self, tokens: Tensor<2, Int>) -> Tensor<2> {
        let [batch, seq] = tokens.dims();
        let positions = Tensor::<1, Int>::arange(0..seq as i64, &tokens.device())
            .reshape([1, seq])
            .expand([batch, seq]);
        let x = self.tokens.forward(tokens) + self.positions.forward(positions);
        let x = x.clone() + self.attention.forward(AttentionInput::self_attn(x));
        // [batch, 1, d_model] → [batch, d_model]
        let question = x.slice([0..batch, 0..1]).reshape([batch, D_MODEL]);
        self.head.forward(question)
    }
}

fn batch(rng: &mut ChaCha8Rng, size: usize, device: &Device) -> (Tensor<2, Int>, Tensor<1, Int>) {
    let mut tokens = Vec::with_capacity(size * SEQ);
    let mut labels = Vec::with_capacity(size);
    for _ in 0..size {
        let has_answer = rng.random_bool(0.5);
        let answer_at = rng.random_range(1..SEQ);
        tokens.push(QUESTION);
        for pos in 1..SEQ {
            let filler = rng.random_range(2..VOCAB as i64);
            tokens.push(if has_answer && pos == answer_at {
                ANSWER
            } else {
                filler
            });
        }
        labels.push(has_answer as i64);
    }
    (
        Tensor::from_data(TensorData::new(tokens, [size, SEQ]), device),
        Tensor::from_data(TensorData::new(labels, [size]), device),
    )
}

fn main() {
    let device = Device::flex().autodiff();
    device.seed(7);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut model = Classifier::new(&device);
    let mut optim = AdamWConfig::new().init();
    let loss_fn = CrossEntropyLossConfig::new().init(&device);

    for step in 1..=150 {
        let (tokens, labels) = batch(&mut rng, 64, &device);
        let loss = loss_fn.forward(model.forward(tokens), labels);
        if step == 1 || step % 25 == 0 {
            println!(
                "step {step:>3}  loss {:.4}",
                loss.clone().into_scalar::<f32>()
            );
        }
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(3e-3, model, grads);
    }

    let (tokens, labels) = batch(&mut rng, 512, &Device::flex());
    let model = model.to_device(&Device::flex());
    let predicted = model.forward(tokens).argmax(1).reshape([512]);
    let correct: i64 = predicted.equal(labels).int().sum().into_scalar();
    println!("held-out accuracy: {:.1}%", correct as f64 / 5.12);
}
