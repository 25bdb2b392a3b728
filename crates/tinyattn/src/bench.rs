//! `tinyattn bench`: training and forward throughput of the model at three fixed sizes, and the
//! attention module against burn's own, printed as numbers (no timed tests).

use std::time::Instant;

use burn::module::Module;
use burn::nn::attention::{MhaInput, MultiHeadAttentionConfig as BurnMhaConfig};
use burn::optim::{AdamWConfig, GradientsParams};
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Distribution, Int, Tensor};
use tinyattn_attention::{AttentionInput, MultiHeadAttentionConfig};
use tinyattn_model::{ModelInput, Transformer, TransformerConfig};

/// One benchmarked model shape.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    /// "tiny", "small" or "medium".
    pub name: &'static str,
    /// Vocabulary.
    pub vocab: usize,
    /// Width.
    pub d_model: usize,
    /// Heads per layer.
    pub heads: usize,
    /// Layers.
    pub layers: usize,
    /// Sequence length.
    pub seq: usize,
    /// Sequences per step.
    pub batch: usize,
}

/// The three sizes of issue 6, fixed so numbers compare across machines and with the PyTorch
/// reference.
pub const SIZES: [Size; 3] = [
    Size {
        name: "tiny",
        vocab: 64,
        d_model: 64,
        heads: 4,
        layers: 2,
        seq: 32,
        batch: 64,
    },
    Size {
        name: "small",
        vocab: 256,
        d_model: 128,
        heads: 4,
        layers: 4,
        seq: 64,
        batch: 32,
    },
    Size {
        name: "medium",
        vocab: 512,
        d_model: 256,
        heads: 8,
        layers: 4,
        seq: 128,
        batch: 16,
    },
];

impl Size {
    /// Model FLOPs per training token: a multiply-add counts 2, the backward pass twice the
    /// forward. Every weight matrix (Q, K, V, O, the MLP, the output layer) plus the two
    /// attention products over the whole sequence; embeddings, norms and softmax are left out,
    /// as in the usual MFU accounting (PaLM, appendix B).
    pub fn train_flops_per_token(&self) -> f64 {
        let (d, seq, vocab) = (self.d_model as f64, self.seq as f64, self.vocab as f64);
        // Per layer: 4·d² in the projections, 8·d² in the MLP, QKᵀ and AV over `seq` keys.
        let per_layer = 2.0 * 12.0 * d * d + 2.0 * 2.0 * seq * d;
        3.0 * (self.layers as f64 * per_layer + 2.0 * d * vocab)
    }
}

/// Throughput of one size on one device.
#[derive(Debug, Clone, Copy)]
pub struct Throughput {
    /// Training tokens per second: forward, backward and an AdamW step.
    pub train_tokens_per_s: f64,
    /// Forward-only tokens per second (no autodiff).
    pub forward_tokens_per_s: f64,
    /// Peak resident memory of the process so far, in MiB (Linux; `None` elsewhere).
    pub peak_rss_mib: Option<f64>,
}

fn tokens(size: &Size, device: &Device) -> Tensor<2, Int> {
    Tensor::<2>::random(
        [size.batch, size.seq],
        Distribution::Uniform(0.0, size.vocab as f64),
        device,
    )
    .int()
}

/// Times `steps` training steps and `steps` forward passes after two warm-up steps each.
pub fn throughput(size: &Size, device: &Device, steps: usize) -> Throughput {
    let config =
        TransformerConfig::new(size.vocab, size.seq, size.d_model, size.heads, size.layers);
    let ad = device.clone().autodiff();
    let mut model = config.init(&ad);
    let mut optim = AdamWConfig::new().init();
    let per_step = (size.batch * size.seq) as f64;
    let mut train_step = |model: Transformer| -> Transformer {
        let input = tokens(size, &ad);
        let logits = model.forward(ModelInput::new(input.clone()));
        // Next-token cross-entropy over every position: the same work as the training loss.
        let loss = log_softmax(logits, 2)
            .gather(2, input.unsqueeze_dim::<3>(2))
            .mean()
            .neg();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        optim.step(1e-3, model, grads)
    };
    for _ in 0..2 {
        model = train_step(model);
    }
    device.sync().ok();
    let start = Instant::now();
    for _ in 0..steps {
        model = train_step(model);
    }
    device.sync().ok();
    let train = per_step * steps as f64 / start.elapsed().as_secs_f64();

    let model = model.valid();
    let forward = || {
        let logits = model.forward(ModelInput::new(tokens(size, device)));
        // Reading one value forces the whole pass on lazy backends.
        let _ = logits.sum().into_scalar::<f32>();
    };
    for _ in 0..2 {
        forward();
    }
    let start = Instant::now();
    for _ in 0..steps {
        forward();
    }
    let forward = per_step * steps as f64 / start.elapsed().as_secs_f64();
    Throughput {
        train_tokens_per_s: train,
        forward_tokens_per_s: forward,
        peak_rss_mib: peak_rss_mib(),
    }
}

/// The device's measured f32 matmul rate in FLOP/s: the best of several 1024 × 1024 × 1024
/// products, the ceiling that model FLOPs utilisation is measured against.
pub fn matmul_peak_flops(device: &Device) -> f64 {
    let n = 1024;
    let a = Tensor::<2>::random([n, n], Distribution::Default, device);
    let b = Tensor::<2>::random([n, n], Distribution::Default, device);
    let mut best = f64::INFINITY;
    for _ in 0..6 {
        let start = Instant::now();
        let _ = a
            .clone()
            .matmul(b.clone())
            .slice([0..1, 0..1])
            .into_scalar::<f32>();
        best = best.min(start.elapsed().as_secs_f64());
    }
    2.0 * (n * n * n) as f64 / best
}

/// Throughput of the PyTorch reference (`scripts/torch_bench.py`) for one size.
#[derive(Debug, Clone, Copy, serde::Deserialize)]
pub struct TorchThroughput {
    /// Training tokens per second.
    pub train_tokens_per_s: f64,
    /// Forward-only tokens per second.
    pub forward_tokens_per_s: f64,
}

/// What the PyTorch reference printed.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct TorchReport {
    /// `torch.__version__`.
    pub torch: String,
    /// Threads it ran on.
    pub threads: usize,
    /// Results by size name.
    pub sizes: std::collections::BTreeMap<String, TorchThroughput>,
}

/// The PyTorch reference script, built into the binary so `bench --torch` works from any folder.
pub const TORCH_SCRIPT: &str = include_str!("../../../scripts/torch_bench.py");

/// Runs the PyTorch reference on `python` with the same sizes, steps and thread count.
pub fn torch_throughput(
    python: &std::path::Path,
    sizes: &[&str],
    steps: usize,
    threads: usize,
) -> anyhow::Result<TorchReport> {
    use anyhow::{Context, bail};
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(python)
        .args(["-", "--json", "--steps", &steps.to_string()])
        .args([
            "--threads",
            &threads.to_string(),
            "--sizes",
            &sizes.join(","),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", python.display()))?;
    if let Some(mut stdin) = child.stdin.take() {
        // An interpreter that exits before reading (no torch, a broken install) closes the pipe;
        // its exit status and stderr below say why, so a broken pipe here is not the error.
        match stdin.write_all(TORCH_SCRIPT.as_bytes()) {
            Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => {
                return Err(err).with_context(|| {
                    format!("sending the reference script to {}", python.display())
                });
            }
            _ => {}
        }
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr.lines().last().unwrap_or("no message");
        bail!(
            "the PyTorch reference failed under {} ({}): {last}\n\
             It needs PyTorch: `{} -m pip install torch`",
            python.display(),
            out.status,
            python.display()
        );
    }
    serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "reading the PyTorch reference's output: {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// Milliseconds per call of each attention implementation at one sequence length, forward and
/// forward + backward: `[tinyattn fused, tinyattn with weights, burn fused kernel, burn-nn]`.
pub fn attention_ms(seq: usize, device: &Device, repeats: usize) -> [(f64, f64); 4] {
    let (batch, d_model, heads) = (4, 128, 4);
    let d_k = d_model / heads;
    let ours = MultiHeadAttentionConfig::new(d_model, heads).init(device);
    let mut theirs = BurnMhaConfig::new(d_model, heads)
        .with_dropout(0.0)
        .init(device);
    theirs.query = ours.query.clone();
    theirs.key = ours.key.clone();
    theirs.value = ours.value.clone();
    theirs.output = ours.output.clone();
    let time = |run: &dyn Fn(&Device) -> Tensor<3>| {
        let once = |dev: &Device, backward: bool| {
            let out = run(dev);
            match backward {
                true => {
                    let _ = out.sum().backward();
                }
                false => {
                    let _ = out.sum().into_scalar::<f32>();
                }
            }
        };
        let mut result = (0.0, 0.0);
        for (slot, dev, backward) in [
            (0, device.clone(), false),
            (1, device.clone().autodiff(), true),
        ] {
            once(&dev, backward);
            let start = Instant::now();
            for _ in 0..repeats {
                once(&dev, backward);
            }
            let ms = start.elapsed().as_secs_f64() * 1e3 / repeats as f64;
            if slot == 0 {
                result.0 = ms
            } else {
                result.1 = ms
            }
        }
        result
    };
    // On the autodiff device the input is a tracked leaf, so backward has a graph to walk
    // even though the layer's weights were created without gradients.
    let x = |dev: &Device| {
        let x = Tensor::<3>::random([batch, seq, d_model], Distribution::Default, dev);
        if dev.is_autodiff() {
            x.require_grad()
        } else {
            x
        }
    };
    [
        time(&|dev| {
            ours.clone()
                .to_device(dev)
                .forward(AttentionInput::self_attn(x(dev)))
        }),
        time(&|dev| {
            ours.clone()
                .to_device(dev)
                .forward_with_weights(AttentionInput::self_attn(x(dev)))
                .context
        }),
        time(&|dev| {
            // burn's kernel on the same projections, heads split by hand.
            let attn = ours.clone().to_device(dev);
            let input = x(dev);
            let split = |t: Tensor<3>| t.reshape([batch, seq, heads, d_k]).swap_dims(1, 2);
            let context = burn::tensor::module::attention(
                split(attn.query.forward(input.clone())),
                split(attn.key.forward(input.clone())),
                split(attn.value.forward(input)),
                None,
                None,
                Default::default(),
            );
            attn.output
                .forward(context.swap_dims(1, 2).reshape([batch, seq, d_model]))
        }),
        time(&|dev| {
            theirs
                .clone()
                .to_device(dev)
                .forward(MhaInput::self_attn(x(dev)))
                .context
        }),
    ]
}

/// `VmHWM` from `/proc/self/status`: the process's peak resident memory.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The FLOP count against the model itself: every weight matrix the real model holds costs
    /// 6 FLOPs per parameter per training token (2 forward, 4 backward), plus the two attention
    /// products. The matrix parameters are what remains of `num_params` after the embeddings,
    /// the LayerNorms and the biases.
    #[test]
    fn flops_cover_every_weight_matrix() {
        let device = Device::flex();
        for size in SIZES {
            let model =
                TransformerConfig::new(size.vocab, size.seq, size.d_model, size.heads, size.layers)
                    .init(&device);
            let (d, layers) = (size.d_model, size.layers);
            let embeddings = (size.vocab + size.seq) * d;
            let norms = (2 * layers + 1) * 2 * d;
            // Q, K, V, O and the MLP output: d each; the MLP input: 4·d; the output layer: vocab.
            let biases = layers * (5 * d + 4 * d) + size.vocab;
            let matrices = model.num_params() - embeddings - norms - biases;
            let attention = 3 * layers * 2 * 2 * size.seq * d;
            assert_eq!(
                size.train_flops_per_token(),
                (6 * matrices + attention) as f64,
                "{}",
                size.name
            );
        }
    }
}
