//! Multi-head attention for burn 0.22, written as the formula it implements:
//!
//! ```text
//! Attention(Q, K, V) = softmax(QKᵀ / √d_k) · V
//! ```
//!
//! Every step is a visible tensor operation (projections, split into heads, `QKᵀ`, scale, mask,
//! softmax, `· V`, merge heads, output projection), and the per-head attention weights can be
//! returned next to the context, which is what burn-nn's `TransformerEncoder` throws away.
//! When the weights are not asked for, the same computation runs through burn's fused
//! `burn::tensor::module::attention` kernel instead.
//!
//! The crate depends on burn alone (no backend feature), so it drops into any burn 0.22 project:
//!
//! ```toml
//! [dependencies]
//! tinyattn-attention = { git = "…", package = "tinyattn-attention" } # or a path dependency
//! burn = { version = "=0.22.1", features = ["flex"] }
//! ```
//!
//! The five lines a user needs:
//!
//! ```
//! use burn::tensor::{Device, Distribution, Tensor};
//! use tinyattn_attention::{AttentionInput, MultiHeadAttentionConfig};
//!
//! let device = Device::flex();
//! let attention = MultiHeadAttentionConfig::new(16, 4).init(&device);
//! let x = Tensor::<3>::random([2, 5, 16], Distribution::Default, &device); // [batch, seq, d_model]
//! let out = attention.forward_with_weights(AttentionInput::self_attn(x));
//! assert_eq!(out.weights.dims(), [2, 4, 5, 5]); // [batch, heads, seq_q, seq_k]
//! ```
//!
//! Masks follow burn's convention: `true` marks a position that must **not** be attended to.

use core::fmt;

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Initializer, Linear, LinearConfig};
use burn::tensor::activation::{quiet_softmax, softmax};
use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;
use burn::tensor::{Bool, Device, Tensor, TensorData};

/// Configuration of a [`MultiHeadAttention`] layer; create the layer with
/// [`init`](MultiHeadAttentionConfig::init).
#[derive(Config, Debug)]
pub struct MultiHeadAttentionConfig {
    /// Width of the input, of every projection and of the output.
    pub d_model: usize,
    /// Number of heads; must divide `d_model`, each head works in `d_model / n_heads` dimensions.
    pub n_heads: usize,
    /// Probability of dropping an attention weight during training (after the softmax, as
    /// burn-nn does). Only active on an autodiff device.
    #[config(default = 0.0)]
    pub dropout: f64,
    /// Use "quiet softmax" (`exp(xᵢ) / (1 + Σ exp(xⱼ))`), which lets a head attend to nothing.
    /// See <https://www.evanmiller.org/attention-is-off-by-one.html>.
    #[config(default = false)]
    pub quiet_softmax: bool,
    /// Add a bias to the query projection.
    #[config(default = true)]
    pub query_bias: bool,
    /// Add a bias to the key projection.
    #[config(default = true)]
    pub key_bias: bool,
    /// Add a bias to the value projection.
    #[config(default = true)]
    pub value_bias: bool,
    /// Add a bias to the output projection.
    #[config(default = true)]
    pub output_bias: bool,
    /// How the four projections are initialised (burn-nn's default for its own attention:
    /// Kaiming uniform with gain 1/√3).
    #[config(
        default = "Initializer::KaimingUniform{gain:0.577_350_269_189_625_8, fan_out_only:false}"
    )]
    pub initializer: Initializer,
}

/// Why a [`MultiHeadAttentionConfig`] cannot be turned into a layer.
#[derive(Debug, Clone, PartialEq)]
pub enum AttentionConfigError {
    /// `d_model` is zero.
    ZeroDModel,
    /// `n_heads` is zero.
    ZeroHeads,
    /// `n_heads` does not divide `d_model`.
    HeadsDoNotDivide {
        /// The configured `d_model`.
        d_model: usize,
        /// The configured `n_heads`.
        n_heads: usize,
    },
    /// `dropout` is not a probability in `[0, 1)`.
    Dropout(f64),
}

impl fmt::Display for AttentionConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ZeroDModel => write!(f, "d_model must be greater than 0"),
            Self::ZeroHeads => write!(f, "n_heads must be greater than 0"),
            Self::HeadsDoNotDivide { d_model, n_heads } => write!(
                f,
                "n_heads ({n_heads}) must divide d_model ({d_model}) so that every head gets the same width"
            ),
            Self::Dropout(p) => write!(f, "dropout must be in [0, 1), got {p}"),
        }
    }
}

impl std::error::Error for AttentionConfigError {}

impl MultiHeadAttentionConfig {
    /// Checks the sizes and the dropout probability.
    pub fn validate(&self) -> Result<(), AttentionConfigError> {
        if self.d_model == 0 {
            return Err(AttentionConfigError::ZeroDModel);
        }
        if self.n_heads == 0 {
            return Err(AttentionConfigError::ZeroHeads);
        }
        if !self.d_model.is_multiple_of(self.n_heads) {
            return Err(AttentionConfigError::HeadsDoNotDivide {
                d_model: self.d_model,
                n_heads: self.n_heads,
            });
        }
        if !(self.dropout.is_finite() && (0.0..1.0).contains(&self.dropout)) {
            return Err(AttentionConfigError::Dropout(self.dropout));
        }
        Ok(())
    }

    /// Creates the layer, or says which field is invalid.
    pub fn try_init(&self, device: &Device) -> Result<MultiHeadAttention, AttentionConfigError> {
        self.validate()?;
        let projection = |bias| {
            LinearConfig::new(self.d_model, self.d_model)
                .with_bias(bias)
                .with_initializer(self.initializer.clone())
                .init(device)
        };
        Ok(MultiHeadAttention {
            query: projection(self.query_bias),
            key: projection(self.key_bias),
            value: projection(self.value_bias),
            output: projection(self.output_bias),
            dropout: DropoutConfig::new(self.dropout).init(),
            n_heads: self.n_heads,
            d_k: self.d_model / self.n_heads,
            quiet_softmax: self.quiet_softmax,
        })
    }

    /// Creates the layer.
    ///
    /// # Panics
    ///
    /// If the configuration is invalid (see [`validate`](Self::validate)); the message names the
    /// field. Use [`try_init`](Self::try_init) to get the error instead.
    pub fn init(&self, device: &Device) -> MultiHeadAttention {
        self.try_init(device)
            .unwrap_or_else(|err| panic!("invalid MultiHeadAttentionConfig: {err}"))
    }
}

/// Multi-head scaled dot-product attention ("Attention Is All You Need", §3.2.2) whose
/// per-head weights can be read. Create it with [`MultiHeadAttentionConfig`].
#[derive(Module, Debug)]
pub struct MultiHeadAttention {
    /// Query projection `[d_model, d_model]`.
    pub query: Linear,
    /// Key projection `[d_model, d_model]`.
    pub key: Linear,
    /// Value projection `[d_model, d_model]`.
    pub value: Linear,
    /// Output projection applied after the heads are merged `[d_model, d_model]`.
    pub output: Linear,
    /// Dropout on the attention weights.
    pub dropout: Dropout,
    /// Number of heads.
    pub n_heads: usize,
    /// Width of one head: `d_model / n_heads`.
    pub d_k: usize,
    /// Whether the softmax is the quiet one.
    pub quiet_softmax: bool,
}

/// The inputs of one attention call. Build it with [`self_attn`](Self::self_attn) or
/// [`new`](Self::new), then add masks or a head gate.
#[derive(Debug, Clone)]
pub struct AttentionInput {
    query: Tensor<3>,
    key: Tensor<3>,
    value: Tensor<3>,
    mask_pad: Option<Tensor<2, Bool>>,
    mask_attn: Option<Tensor<3, Bool>>,
    head_gate: Option<Tensor<1>>,
}

impl AttentionInput {
    /// Self-attention: queries, keys and values all come from `x` `[batch, seq, d_model]`.
    pub fn self_attn(x: Tensor<3>) -> Self {
        Self::new(x.clone(), x.clone(), x)
    }

    /// Cross-attention: `query` `[batch, seq_q, d_model]`, `key` and `value`
    /// `[batch, seq_k, d_model]`.
    pub fn new(query: Tensor<3>, key: Tensor<3>, value: Tensor<3>) -> Self {
        Self {
            query,
            key,
            value,
            mask_pad: None,
            mask_attn: None,
            head_gate: None,
        }
    }

    /// Padding mask `[batch, seq_k]`: `true` marks a key no query may attend to.
    pub fn mask_pad(mut self, mask: Tensor<2, Bool>) -> Self {
        self.mask_pad = Some(mask);
        self
    }

    /// Attention mask `[batch, seq_q, seq_k]`: `true` at `[b, i, j]` forbids query `i` to attend
    /// to key `j` (see [`causal_mask`]).
    pub fn mask_attn(mut self, mask: Tensor<3, Bool>) -> Self {
        self.mask_attn = Some(mask);
        self
    }

    /// Per-head multiplier `[n_heads]` on each head's context before the output projection:
    /// `0.0` ablates a head, `1.0` keeps it.
    pub fn head_gate(mut self, gate: Tensor<1>) -> Self {
        self.head_gate = Some(gate);
        self
    }
}

/// The result of [`MultiHeadAttention::forward_with_weights`].
#[derive(Debug, Clone)]
pub struct AttentionOutput {
    /// `[batch, seq_q, d_model]`.
    pub context: Tensor<3>,
    /// Per-head attention weights `[batch, n_heads, seq_q, seq_k]`, taken before dropout, so
    /// every row with at least one unmasked key sums to 1 and a fully masked row is all zeros.
    pub weights: Tensor<4>,
}

/// A causal (look-ahead) mask `[batch, seq, seq]`: query `i` may attend to keys `0..=i` only.
pub fn causal_mask(batch: usize, seq: usize, device: &Device) -> Tensor<3, Bool> {
    Tensor::<2, Bool>::tril_mask([seq, seq], 0, device)
        .unsqueeze::<3>()
        .expand([batch, seq, seq])
}

/// A padding mask `[batch, seq]` from the true length of each sequence: positions at or past a
/// sequence's length are `true` (masked).
///
/// # Panics
///
/// If a length exceeds `seq`.
pub fn padding_mask(lengths: &[usize], seq: usize, device: &Device) -> Tensor<2, Bool> {
    let mask: Vec<bool> = lengths
        .iter()
        .flat_map(|&len| {
            assert!(
                len <= seq,
                "sequence length {len} exceeds the padded length {seq}"
            );
            (0..seq).map(move |pos| pos >= len)
        })
        .collect();
    Tensor::from_data(TensorData::new(mask, [lengths.len(), seq]), device)
}

/// Queries, keys and values split into heads, plus the combined mask.
struct Heads {
    /// `[batch, heads, seq_q, d_k]`
    query: Tensor<4>,
    /// `[batch, heads, seq_k, d_k]`
    key: Tensor<4>,
    /// `[batch, heads, seq_k, d_k]`
    value: Tensor<4>,
    /// `[batch, 1, seq_q, seq_k]`, `true` = masked.
    mask: Option<Tensor<4, Bool>>,
}

impl MultiHeadAttention {
    /// Attention that returns only the context. It runs burn's fused attention kernel unless
    /// dropout is active (training on an autodiff device) or the softmax is the quiet one, which
    /// the kernel does not offer; both paths compute the same numbers.
    ///
    /// # Shapes
    /// - query `[batch, seq_q, d_model]`, key and value `[batch, seq_k, d_model]`
    /// - output `[batch, seq_q, d_model]`
    ///
    /// # Panics
    /// If the shapes disagree with each other, with `d_model`, with the masks or with `n_heads`
    /// (head gate).
    pub fn forward(&self, input: AttentionInput) -> Tensor<3> {
        let dropout_active = self.dropout.prob > 0.0
            && self.dropout.training.is_enabled()
            && input.query.device().is_autodiff();
        if dropout_active || self.quiet_softmax {
            return self.forward_with_weights(input).context;
        }
        let head_gate = input.head_gate.clone();
        let heads = self.split_heads(input);
        let [batch, n_heads, seq_q, _] = heads.query.dims();
        let [_, _, seq_k, _] = heads.key.dims();
        let mask = heads.mask.map(|m| m.expand([batch, n_heads, seq_q, seq_k]));
        let options = AttentionModuleOptions {
            scale: Some(1.0 / (self.d_k as f64).sqrt()),
            softcap: None,
            is_causal: false,
        };
        let context = attention(heads.query, heads.key, heads.value, mask, None, options);
        self.merge_heads(context, head_gate)
    }

    /// Attention that also returns every head's weights, computed step by step:
    /// `softmax(mask(QKᵀ / √d_k)) · V`.
    ///
    /// # Shapes
    /// - query `[batch, seq_q, d_model]`, key and value `[batch, seq_k, d_model]`
    /// - context `[batch, seq_q, d_model]`, weights `[batch, n_heads, seq_q, seq_k]`
    ///
    /// # Panics
    /// As [`forward`](Self::forward).
    pub fn forward_with_weights(&self, input: AttentionInput) -> AttentionOutput {
        let head_gate = input.head_gate.clone();
        let Heads {
            query,
            key,
            value,
            mask,
        } = self.split_heads(input);

        // [batch, heads, seq_q, seq_k]
        let scores = query
            .matmul(key.swap_dims(2, 3))
            .div_scalar((self.d_k as f32).sqrt());
        let weights = self.masked_softmax(scores, mask);
        let context = self.dropout.forward(weights.clone()).matmul(value);

        AttentionOutput {
            context: self.merge_heads(context, head_gate),
            weights,
        }
    }

    /// Projects the inputs and splits them into heads.
    fn split_heads(&self, input: AttentionInput) -> Heads {
        let [batch, seq_q, d_model] = input.query.dims();
        let [key_batch, seq_k, key_d] = input.key.dims();
        assert_eq!(
            d_model,
            self.n_heads * self.d_k,
            "query width must be d_model"
        );
        assert_eq!(
            [key_batch, key_d],
            [batch, d_model],
            "key must be [batch, seq_k, d_model]"
        );
        assert_eq!(
            input.value.dims(),
            [batch, seq_k, d_model],
            "value must be [batch, seq_k, d_model]"
        );

        let to_heads = |x: Tensor<3>, linear: &Linear| {
            let [batch, seq, _] = x.dims();
            linear
                .forward(x)
                // [batch, seq, heads, d_k]
                .reshape([batch, seq, self.n_heads, self.d_k])
                // [batch, heads, seq, d_k]
                .swap_dims(1, 2)
        };

        let pad = input.mask_pad.map(|mask| {
            assert_eq!(
                mask.dims(),
                [batch, seq_k],
                "mask_pad must be [batch, seq_k]"
            );
            // [batch, 1, 1, seq_k] → [batch, 1, seq_q, seq_k]
            mask.reshape([batch, 1, 1, seq_k])
                .expand([batch, 1, seq_q, seq_k])
        });
        let attn = input.mask_attn.map(|mask| {
            assert_eq!(
                mask.dims(),
                [batch, seq_q, seq_k],
                "mask_attn must be [batch, seq_q, seq_k]"
            );
            // [batch, 1, seq_q, seq_k]
            mask.reshape([batch, 1, seq_q, seq_k])
        });
        let mask = match (pad, attn) {
            (Some(pad), Some(attn)) => Some(pad.bool_or(attn)),
            (pad, attn) => pad.or(attn),
        };

        Heads {
            query: to_heads(input.query, &self.query),
            key: to_heads(input.key, &self.key),
            value: to_heads(input.value, &self.value),
            mask,
        }
    }

    /// Softmax over the keys. Masked scores become `-inf`; a row whose keys are all masked gets
    /// all-zero weights rather than the NaN of `exp(-inf - -inf)`.
    fn masked_softmax(&self, scores: Tensor<4>, mask: Option<Tensor<4, Bool>>) -> Tensor<4> {
        let Some(mask) = mask else {
            return match self.quiet_softmax {
                true => quiet_softmax(scores, 3),
                false => softmax(scores, 3),
            };
        };
        let scores = scores.mask_fill(mask, f32::NEG_INFINITY);
        if self.quiet_softmax {
            // burn's quiet softmax already maps an all -inf row to zeros.
            return quiet_softmax(scores, 3);
        }
        // The shift only guards exp against overflow; its value does not change the result, so
        // it needs no gradient. [batch, heads, seq_q, 1]
        let max = scores.clone().detach().max_dim(3);
        let max = max
            .clone()
            .mask_fill(max.equal_elem(f32::NEG_INFINITY), 0.0);
        let exp = (scores - max).exp();
        let sum = exp.clone().sum_dim(3).clamp_min(f32::MIN_POSITIVE);
        exp / sum
    }

    /// Merges the heads of `context` `[batch, heads, seq_q, d_k]` and applies the output
    /// projection, after gating the heads if asked.
    fn merge_heads(&self, context: Tensor<4>, head_gate: Option<Tensor<1>>) -> Tensor<3> {
        let [batch, n_heads, seq_q, d_k] = context.dims();
        let context = match head_gate {
            Some(gate) => {
                assert_eq!(gate.dims(), [n_heads], "head_gate must be [n_heads]");
                // [1, heads, 1, 1]
                context * gate.reshape([1, n_heads, 1, 1])
            }
            None => context,
        };
        let context = context
            // [batch, seq_q, heads, d_k]
            .swap_dims(1, 2)
            // [batch, seq_q, d_model]
            .reshape([batch, seq_q, n_heads * d_k]);
        self.output.forward(context)
    }
}

#[cfg(test)]
mod tests;
