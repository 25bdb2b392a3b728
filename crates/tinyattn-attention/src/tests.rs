//! Each test compares the module with something computed independently of it: plain loops over
//! `f32` slices, burn-nn's own attention, finite differences, or another backend.

use super::*;
use burn::module::Param;
use burn::nn::attention::{MhaInput, MultiHeadAttentionConfig as BurnMhaConfig};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn random_data(shape: &[usize], seed: u64) -> TensorData {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = shape.iter().product();
    let values: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
    TensorData::new(values, shape.to_vec())
}

fn random<const D: usize>(shape: [usize; D], seed: u64, device: &Device) -> Tensor<D> {
    Tensor::from_data(random_data(&shape, seed), device)
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_to_vec()
        .expect("f32 tensor data")
}

fn bool_mask<const D: usize>(
    shape: [usize; D],
    device: &Device,
    f: impl Fn(&[usize]) -> bool,
) -> Tensor<D, Bool> {
    let mut flags = Vec::new();
    let mut index = [0usize; D];
    let n: usize = shape.iter().product();
    for flat in 0..n {
        let mut rest = flat;
        for d in (0..D).rev() {
            index[d] = rest % shape[d];
            rest /= shape[d];
        }
        flags.push(f(&index));
    }
    Tensor::from_data(TensorData::new(flags, shape), device)
}

fn assert_close(actual: &[f32], expected: &[f32], tol: f32, what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (a - e).abs() <= tol,
            "{what}[{i}]: got {a}, expected {e} (tolerance {tol})"
        );
    }
}

/// The layer's parameters as plain vectors (weights row-major `[d_in, d_out]`).
struct Weights {
    w: [Vec<f32>; 4],
    b: [Vec<f32>; 4],
}

impl Weights {
    fn of(attn: &MultiHeadAttention) -> Self {
        let d = attn.n_heads * attn.d_k;
        let get = |l: &Linear| {
            let w = values(l.weight.val());
            let b = l
                .bias
                .as_ref()
                .map(|b| values(b.val()))
                .unwrap_or_else(|| vec![0.0; d]);
            (w, b)
        };
        let [q, k, v, o] = [&attn.query, &attn.key, &attn.value, &attn.output].map(get);
        Self {
            w: [q.0, k.0, v.0, o.0],
            b: [q.1, k.1, v.1, o.1],
        }
    }
}

/// `x [rows, d] · w [d, d] + b`, by hand.
fn naive_linear(x: &[f32], w: &[f32], b: &[f32], d: usize) -> Vec<f32> {
    let rows = x.len() / d;
    let mut out = vec![0.0; rows * d];
    for r in 0..rows {
        for o in 0..d {
            let mut acc = b[o];
            for i in 0..d {
                acc += x[r * d + i] * w[i * d + o];
            }
            out[r * d + o] = acc;
        }
    }
    out
}

struct NaiveCase<'a> {
    query: &'a [f32],
    key: &'a [f32],
    value: &'a [f32],
    batch: usize,
    seq_q: usize,
    seq_k: usize,
    d: usize,
    heads: usize,
    masked: &'a dyn Fn(usize, usize, usize) -> bool,
    gate: &'a [f32],
}

/// Attention with plain loops: returns (context `[b, q, d]`, weights `[b, h, q, k]`).
fn naive_attention(c: &NaiveCase, w: &Weights) -> (Vec<f32>, Vec<f32>) {
    let (b, sq, sk, d, h) = (c.batch, c.seq_q, c.seq_k, c.d, c.heads);
    let dk = d / h;
    let q = naive_linear(c.query, &w.w[0], &w.b[0], d);
    let k = naive_linear(c.key, &w.w[1], &w.b[1], d);
    let v = naive_linear(c.value, &w.w[2], &w.b[2], d);
    let mut weights = vec![0.0f32; b * h * sq * sk];
    let mut merged = vec![0.0f32; b * sq * d];
    for bi in 0..b {
        for hi in 0..h {
            for i in 0..sq {
                let mut scores = vec![f32::NEG_INFINITY; sk];
                for (j, score) in scores.iter_mut().enumerate() {
                    if (c.masked)(bi, i, j) {
                        continue;
                    }
                    let mut dot = 0.0;
                    for e in 0..dk {
                        dot +=
                            q[(bi * sq + i) * d + hi * dk + e] * k[(bi * sk + j) * d + hi * dk + e];
                    }
                    *score = dot / (dk as f32).sqrt();
                }
                let max = scores.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
                if max == f32::NEG_INFINITY {
                    continue; // every key masked: weights and context stay zero
                }
                let exps: Vec<f32> = scores.iter().map(|s| (s - max).exp()).collect();
                let sum: f32 = exps.iter().sum();
                for j in 0..sk {
                    let p = exps[j] / sum;
                    weights[((bi * h + hi) * sq + i) * sk + j] = p;
                    for e in 0..dk {
                        merged[(bi * sq + i) * d + hi * dk + e] +=
                            c.gate[hi] * p * v[(bi * sk + j) * d + hi * dk + e];
                    }
                }
            }
        }
    }
    (naive_linear(&merged, &w.w[3], &w.b[3], d), weights)
}

#[test]
fn matches_naive_loops_for_self_and_cross_attention() {
    let device = Device::flex();
    let (batch, d, heads) = (2, 8, 2);
    for (seq_q, seq_k, seed) in [(4, 4, 1), (3, 6, 2)] {
        let attn = MultiHeadAttentionConfig::new(d, heads).init(&device);
        let query = random_data(&[batch, seq_q, d], seed);
        let key = random_data(&[batch, seq_k, d], seed + 10);
        let value = random_data(&[batch, seq_k, d], seed + 20);
        // Batch 1 cannot see its last key; query 0 cannot see key 1.
        let pad = |b: usize, j: usize| b == 1 && j == seq_k - 1;
        let forbid = |i: usize, j: usize| i == 0 && j == 1;
        let gate = [1.0, 0.0];

        let out = attn.forward_with_weights(
            AttentionInput::new(
                Tensor::from_data(query.clone(), &device),
                Tensor::from_data(key.clone(), &device),
                Tensor::from_data(value.clone(), &device),
            )
            .mask_pad(bool_mask([batch, seq_k], &device, |ix| pad(ix[0], ix[1])))
            .mask_attn(bool_mask([batch, seq_q, seq_k], &device, |ix| {
                forbid(ix[1], ix[2])
            }))
            .head_gate(Tensor::from_floats(gate, &device)),
        );

        let (q, k, v) = (values_of(&query), values_of(&key), values_of(&value));
        let masked = |b: usize, i: usize, j: usize| pad(b, j) || forbid(i, j);
        let (context, weights) = naive_attention(
            &NaiveCase {
                query: &q,
                key: &k,
                value: &v,
                batch,
                seq_q,
                seq_k,
                d,
                heads,
                masked: &masked,
                gate: &gate,
            },
            &Weights::of(&attn),
        );
        assert_close(&values(out.context), &context, 1e-5, "context");
        assert_close(&values(out.weights), &weights, 1e-5, "weights");
    }
}

fn values_of(data: &TensorData) -> Vec<f32> {
    data.try_to_vec().expect("f32 data")
}

#[test]
fn fused_path_matches_the_weights_path() {
    let device = Device::flex();
    let attn = MultiHeadAttentionConfig::new(16, 4).init(&device);
    let x = random([3, 7, 16], 3, &device);
    let plain = AttentionInput::self_attn(x.clone());
    let masked = AttentionInput::self_attn(x)
        .mask_pad(padding_mask(&[7, 5, 2], 7, &device))
        .mask_attn(causal_mask(3, 7, &device))
        .head_gate(Tensor::from_floats([1.0, 0.0, 1.0, 0.5], &device));
    for input in [plain, masked] {
        let fused = attn.forward(input.clone());
        let explicit = attn.forward_with_weights(input).context;
        assert_close(&values(fused), &values(explicit), 1e-5, "fused vs explicit");
    }
}

#[test]
fn matches_burn_nn_multi_head_attention() {
    let device = Device::flex();
    let (d, heads) = (12, 3);
    let ours = MultiHeadAttentionConfig::new(d, heads).init(&device);
    let mut theirs = BurnMhaConfig::new(d, heads).with_dropout(0.0).init(&device);
    theirs.query = ours.query.clone();
    theirs.key = ours.key.clone();
    theirs.value = ours.value.clone();
    theirs.output = ours.output.clone();

    let x = random([2, 5, d], 4, &device);
    let pad = padding_mask(&[5, 3], 5, &device);
    let expected = theirs.forward(MhaInput::self_attn(x.clone()).mask_pad(pad.clone()));
    let ours_out = ours.forward_with_weights(AttentionInput::self_attn(x.clone()).mask_pad(pad));
    assert_close(
        &values(ours_out.context),
        &values(expected.context),
        1e-5,
        "context vs burn-nn",
    );
    assert_close(
        &values(ours_out.weights),
        &values(expected.weights),
        1e-5,
        "weights vs burn-nn",
    );

    let m = Tensor::<3>::random([2, 4, d], burn::tensor::Distribution::Default, &device);
    let cross = theirs.forward(MhaInput::new(m.clone(), x.clone(), x.clone()));
    let ours_cross = ours.forward(AttentionInput::new(m, x.clone(), x));
    assert_close(
        &values(ours_cross),
        &values(cross.context),
        1e-5,
        "cross-attention vs burn-nn",
    );
}

#[test]
fn gradients_match_central_finite_differences() {
    let device = Device::flex().autodiff();
    let (d, heads, seq) = (8, 2, 4);
    let attn = MultiHeadAttentionConfig::new(d, heads).init(&device);
    let x = random([1, seq, d], 5, &device);
    let probe = random([1, seq, d], 6, &device);
    let mask = causal_mask(1, seq, &device);

    let loss = |attn: &MultiHeadAttention, query: Tensor<3>| {
        let context = attn.forward_with_weights(
            AttentionInput::new(query, x.clone(), x.clone()).mask_attn(mask.clone()),
        );
        (context.context * probe.clone()).sum()
    };
    let scalar = |t: Tensor<1>| values(t)[0];

    let query = x.clone().require_grad();
    let grads = loss(&attn, query.clone()).backward();
    let query_grad = values(query.grad(&grads).expect("query gradient"));
    let weight_grad = values(
        attn.value
            .weight
            .val()
            .grad(&grads)
            .expect("value weight gradient"),
    );

    let eps = 1e-2;
    let check = |analytic: f32, numeric: f32, what: &str| {
        assert!(
            (analytic - numeric).abs() <= 2e-3 + 1e-2 * numeric.abs(),
            "{what}: autodiff {analytic} vs finite difference {numeric}"
        );
    };

    let base = values(x.clone());
    for index in [0, 5, 13, 22, 31] {
        let shifted = |delta: f32| {
            let mut v = base.clone();
            v[index] += delta;
            Tensor::from_data(TensorData::new(v, [1, seq, d]), &device)
        };
        let numeric =
            (scalar(loss(&attn, shifted(eps))) - scalar(loss(&attn, shifted(-eps)))) / (2.0 * eps);
        check(
            query_grad[index],
            numeric,
            &format!("d loss / d query[{index}]"),
        );
    }

    let weight = values(attn.value.weight.val());
    for index in [0, 9, 27, 40, 63] {
        let with_weight = |delta: f32| {
            let mut v = weight.clone();
            v[index] += delta;
            let mut moved = attn.clone();
            moved.value.weight =
                Param::from_tensor(Tensor::from_data(TensorData::new(v, [d, d]), &device));
            scalar(loss(&moved, x.clone()))
        };
        let numeric = (with_weight(eps) - with_weight(-eps)) / (2.0 * eps);
        check(
            weight_grad[index],
            numeric,
            &format!("d loss / d W_v[{index}]"),
        );
    }
}

#[test]
fn padded_keys_change_nothing_else() {
    let device = Device::flex();
    let attn = MultiHeadAttentionConfig::new(8, 2).init(&device);
    let x = random([2, 6, 8], 7, &device);
    let lengths = [6, 4];
    let mut changed = values(x.clone());
    // Scribble over the padded positions of the second sequence.
    for pos in 4..6 {
        for e in 0..8 {
            changed[(6 + pos) * 8 + e] = 100.0 + e as f32;
        }
    }
    let changed = Tensor::from_data(TensorData::new(changed, [2, 6, 8]), &device);
    let run = |x: Tensor<3>| {
        attn.forward_with_weights(
            AttentionInput::self_attn(x).mask_pad(padding_mask(&lengths, 6, &device)),
        )
    };
    let (a, b) = (run(x), run(changed));
    let take = |t: Tensor<3>| values(t.slice([1..2, 0..4, 0..8]));
    assert_close(
        &take(a.context.clone()),
        &take(b.context),
        0.0,
        "unpadded context",
    );
    let w = values(a.weights);
    for head in 0..2 {
        for i in 0..6 {
            for j in 4..6 {
                assert_eq!(
                    w[((2 + head) * 6 + i) * 6 + j],
                    0.0,
                    "weight on a padded key"
                );
            }
        }
    }
}

#[test]
fn causal_rows_sum_to_one_and_never_see_the_future() {
    let device = Device::flex();
    let (batch, heads, seq) = (2, 4, 5);
    let attn = MultiHeadAttentionConfig::new(16, heads).init(&device);
    let out = attn.forward_with_weights(
        AttentionInput::self_attn(random([batch, seq, 16], 8, &device))
            .mask_attn(causal_mask(batch, seq, &device)),
    );
    let w = values(out.weights);
    for row in w.chunks(seq) {
        let sum: f32 = row.iter().sum();
        assert!((sum - 1.0).abs() < 1e-5, "row sums to {sum}");
    }
    for (n, row) in w.chunks(seq).enumerate() {
        let i = n % seq;
        assert!(
            row[i + 1..].iter().all(|&p| p == 0.0),
            "query {i} sees the future: {row:?}"
        );
        assert!(
            row[..=i].iter().all(|&p| p > 0.0),
            "query {i} lost its past: {row:?}"
        );
    }
}

#[test]
fn fully_masked_row_gives_zeros_not_nan_on_both_paths() {
    let device = Device::flex();
    let attn = MultiHeadAttentionConfig::new(8, 2).init(&device);
    let x = random([1, 3, 8], 9, &device);
    // Query 1 may attend to nothing.
    let input =
        AttentionInput::self_attn(x).mask_attn(bool_mask([1, 3, 3], &device, |ix| ix[1] == 1));
    let out = attn.forward_with_weights(input.clone());
    let w = values(out.weights);
    for head in 0..2 {
        assert_eq!(&w[(head * 3 + 1) * 3..(head * 3 + 2) * 3], &[0.0; 3]);
    }
    // With no key to read, the context of that query is the output projection's bias alone.
    let bias = values(attn.output.bias.as_ref().expect("bias").val());
    for context in [out.context, attn.forward(input)] {
        let c = values(context);
        assert!(c.iter().all(|v| v.is_finite()), "NaN in context: {c:?}");
        assert_close(&c[8..16], &bias, 1e-6, "context of a fully masked query");
    }
}

#[test]
fn quiet_softmax_rows_sum_to_less_than_one() {
    let device = Device::flex();
    let attn = MultiHeadAttentionConfig::new(8, 2)
        .with_quiet_softmax(true)
        .init(&device);
    let x = random([1, 4, 8], 10, &device);
    let w = values(
        attn.forward_with_weights(AttentionInput::self_attn(x.clone()))
            .weights,
    );
    // Quiet softmax is exp(sᵢ) / (1 + Σ exp(sⱼ)): each row sums to below 1, and within a row the
    // weights keep the proportions of the plain softmax over the same scores.
    let mut plain = attn.clone();
    plain.quiet_softmax = false;
    let p = values(
        plain
            .forward_with_weights(AttentionInput::self_attn(x))
            .weights,
    );
    for (qrow, prow) in w.chunks(4).zip(p.chunks(4)) {
        let sum: f32 = qrow.iter().sum();
        assert!(sum > 0.0 && sum < 1.0, "quiet row sums to {sum}");
        for j in 0..4 {
            assert!(
                (qrow[j] / sum - prow[j]).abs() < 1e-5,
                "{qrow:?} vs {prow:?}"
            );
        }
    }
}

#[test]
fn invalid_configs_name_the_field() {
    let device = Device::flex();
    let cases = [
        (
            MultiHeadAttentionConfig::new(10, 3),
            "n_heads (3) must divide d_model (10)",
        ),
        (MultiHeadAttentionConfig::new(0, 1), "d_model"),
        (MultiHeadAttentionConfig::new(8, 0), "n_heads"),
        (
            MultiHeadAttentionConfig::new(8, 2).with_dropout(1.0),
            "dropout",
        ),
    ];
    for (config, field) in cases {
        let err = config
            .try_init(&device)
            .expect_err("invalid config accepted");
        assert!(
            err.to_string().contains(field),
            "{err} does not name {field}"
        );
    }
}

/// The wgpu device, or `None` (with a notice) where this machine has no adapter at all.
/// `TINYATTN_REQUIRE_WGPU=1` (set by CI, which installs a software Vulkan driver) turns a
/// missing adapter into a failure, so the GPU path cannot be skipped silently there.
fn wgpu_device() -> Option<Device> {
    match Device::wgpu_options().init() {
        Ok(device) => Some(device),
        Err(err) if std::env::var("TINYATTN_REQUIRE_WGPU").is_ok_and(|v| v == "1") => {
            panic!("TINYATTN_REQUIRE_WGPU=1 but no wgpu adapter: {err}")
        }
        Err(err) => {
            eprintln!("skipped: no wgpu adapter ({err})");
            None
        }
    }
}

#[test]
fn flex_and_wgpu_agree() {
    let Some(gpu) = wgpu_device() else { return };
    let cpu = Device::flex();
    let attn = MultiHeadAttentionConfig::new(16, 4).init(&cpu);
    let x = random_data(&[2, 6, 16], 11);
    let run = |device: &Device| {
        let attn = attn.clone().to_device(device);
        let input = AttentionInput::self_attn(Tensor::from_data(x.clone(), device))
            .mask_pad(padding_mask(&[6, 3], 6, device))
            .mask_attn(causal_mask(2, 6, device));
        let out = attn.forward_with_weights(input.clone());
        (
            values(out.context),
            values(out.weights),
            values(attn.forward(input)),
        )
    };
    let (c_cpu, w_cpu, f_cpu) = run(&cpu);
    let (c_gpu, w_gpu, f_gpu) = run(&gpu);
    assert_close(&c_gpu, &c_cpu, 1e-4, "wgpu vs flex context");
    assert_close(&w_gpu, &w_cpu, 1e-4, "wgpu vs flex weights");
    assert_close(&f_gpu, &f_cpu, 1e-4, "wgpu vs flex fused context");

    // Gradients agree too.
    let grad = |device: &Device| {
        let ad = device.clone().autodiff();
        let attn = attn.clone().to_device(&ad);
        let x = Tensor::<3>::from_data(x.clone(), &ad).require_grad();
        let probe = Tensor::<3>::from_data(random_data(&[2, 6, 16], 12), &ad);
        let out = attn.forward_with_weights(AttentionInput::self_attn(x.clone()));
        let loss = (out.context * probe).sum();
        values(x.grad(&loss.backward()).expect("input gradient"))
    };
    assert_close(&grad(&gpu), &grad(&cpu), 1e-4, "wgpu vs flex gradient");
}
