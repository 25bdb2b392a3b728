use burn::config::Config;
use burn::module::Module;
use burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, Gelu, LayerNorm, LayerNormConfig, Linear,
    LinearConfig,
};
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use tinyattn_attention::{
    AttentionConfigError, AttentionInput, MultiHeadAttention, MultiHeadAttentionConfig, causal_mask,
};

/// Why a [`TransformerConfig`] cannot be turned into a model.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelConfigError {
    /// A size that must be positive is zero.
    #[error("{0} must be greater than 0")]
    Zero(&'static str),
    /// The attention layers reject the configuration.
    #[error(transparent)]
    Attention(#[from] AttentionConfigError),
}

/// Configuration of a [`Transformer`].
#[derive(Config, Debug)]
pub struct TransformerConfig {
    /// Number of token ids the embedding and the output layer cover.
    pub vocab_size: usize,
    /// Longest sequence the learned position embedding covers.
    pub max_seq_len: usize,
    /// Width of the residual stream.
    pub d_model: usize,
    /// Attention heads per layer; must divide `d_model`.
    pub n_heads: usize,
    /// Number of transformer blocks.
    pub n_layers: usize,
    /// Hidden width of each MLP, as a multiple of `d_model`.
    #[config(default = 4)]
    pub mlp_ratio: usize,
    /// Dropout on attention weights and on each residual branch during training.
    #[config(default = 0.0)]
    pub dropout: f64,
    /// Whether attention is causal (GPT-style next-token prediction) rather than bidirectional.
    #[config(default = false)]
    pub causal: bool,
    /// Whether every layer after the first reads its attention *values* from the token and
    /// position embeddings instead of the residual stream (queries and keys stay contextual).
    /// What a head passes on then comes only from the words it attends to, so information
    /// cannot reach a position through relay tokens unseen by its attention weights.
    #[config(default = false)]
    pub values_from_embeddings: bool,
}

impl TransformerConfig {
    fn attention(&self) -> MultiHeadAttentionConfig {
        MultiHeadAttentionConfig::new(self.d_model, self.n_heads).with_dropout(self.dropout)
    }

    /// Checks every size and the dropout probability.
    pub fn validate(&self) -> Result<(), ModelConfigError> {
        for (name, value) in [
            ("vocab_size", self.vocab_size),
            ("max_seq_len", self.max_seq_len),
            ("n_layers", self.n_layers),
            ("mlp_ratio", self.mlp_ratio),
        ] {
            if value == 0 {
                return Err(ModelConfigError::Zero(name));
            }
        }
        Ok(self.attention().validate()?)
    }

    /// Creates the model.
    ///
    /// # Panics
    /// If the configuration is invalid; call [`validate`](Self::validate) first to get the error.
    pub fn init(&self, device: &Device) -> Transformer {
        if let Err(err) = self.validate() {
            panic!("invalid TransformerConfig: {err}");
        }
        let d_ff = self.d_model * self.mlp_ratio;
        let blocks = (0..self.n_layers)
            .map(|_| Block {
                norm_attention: LayerNormConfig::new(self.d_model).init(device),
                attention: self.attention().init(device),
                norm_mlp: LayerNormConfig::new(self.d_model).init(device),
                mlp_in: LinearConfig::new(self.d_model, d_ff).init(device),
                mlp_out: LinearConfig::new(d_ff, self.d_model).init(device),
                gelu: Gelu::new(),
                dropout: DropoutConfig::new(self.dropout).init(),
            })
            .collect();
        Transformer {
            tokens: EmbeddingConfig::new(self.vocab_size, self.d_model).init(device),
            positions: EmbeddingConfig::new(self.max_seq_len, self.d_model).init(device),
            blocks,
            norm: LayerNormConfig::new(self.d_model).init(device),
            lm_head: LinearConfig::new(self.d_model, self.vocab_size).init(device),
            causal: self.causal,
            values_from_embeddings: self.values_from_embeddings,
            n_heads: self.n_heads,
        }
    }
}

/// One pre-LayerNorm block: `x + attention(norm(x))`, then `x + mlp(norm(x))`.
#[derive(Module, Debug)]
pub struct Block {
    norm_attention: LayerNorm,
    attention: MultiHeadAttention,
    norm_mlp: LayerNorm,
    mlp_in: Linear,
    mlp_out: Linear,
    gelu: Gelu,
    dropout: Dropout,
}

impl Block {
    fn forward(
        &self,
        x: Tensor<3>,
        input: AttentionInput,
        with_weights: bool,
    ) -> (Tensor<3>, Option<Tensor<4>>) {
        let (context, weights) = if with_weights {
            let out = self.attention.forward_with_weights(input);
            (out.context, Some(out.weights))
        } else {
            (self.attention.forward(input), None)
        };
        let x = x + self.dropout.forward(context);
        let hidden = self
            .gelu
            .forward(self.mlp_in.forward(self.norm_mlp.forward(x.clone())));
        (
            x + self.dropout.forward(self.mlp_out.forward(hidden)),
            weights,
        )
    }
}

/// Token embedding + learned positions, `n_layers` pre-LayerNorm [`Block`]s, a final LayerNorm
/// and a linear output layer over the vocabulary.
#[derive(Module, Debug)]
pub struct Transformer {
    tokens: Embedding,
    positions: Embedding,
    blocks: Vec<Block>,
    norm: LayerNorm,
    lm_head: Linear,
    causal: bool,
    values_from_embeddings: bool,
    n_heads: usize,
}

/// What one forward pass reads: the tokens, which of them are padding, and which heads to ablate.
#[derive(Debug, Clone)]
pub struct ModelInput {
    tokens: Tensor<2, Int>,
    pad_mask: Option<Tensor<2, Bool>>,
    ablated: Vec<(usize, usize)>,
}

impl ModelInput {
    /// Token ids `[batch, seq]`.
    pub fn new(tokens: Tensor<2, Int>) -> Self {
        Self {
            tokens,
            pad_mask: None,
            ablated: Vec::new(),
        }
    }

    /// Padding mask `[batch, seq]`, `true` at padding: no position attends to those keys.
    pub fn pad_mask(mut self, mask: Tensor<2, Bool>) -> Self {
        self.pad_mask = Some(mask);
        self
    }

    /// Zero the output of head `head` in layer `layer` (both 0-based) before the layer's output
    /// projection.
    pub fn ablate(mut self, layer: usize, head: usize) -> Self {
        self.ablated.push((layer, head));
        self
    }
}

/// The result of [`Transformer::forward_with_attention`].
#[derive(Debug, Clone)]
pub struct ModelOutput {
    /// `[batch, seq, vocab_size]`.
    pub logits: Tensor<3>,
    /// One tensor per layer, `[batch, heads, seq, seq]`.
    pub attention: Vec<Tensor<4>>,
}

impl Transformer {
    /// Logits `[batch, seq, vocab_size]` for tokens `[batch, seq]`. Takes the fused attention
    /// path: no weights are materialised.
    ///
    /// # Panics
    /// If `seq` exceeds `max_seq_len`, if the pad mask is not `[batch, seq]`, or if an ablated
    /// (layer, head) does not exist.
    pub fn forward(&self, input: ModelInput) -> Tensor<3> {
        self.run(input, false).0
    }

    /// Logits `[batch, seq, vocab_size]` and every layer's attention `[batch, heads, seq, seq]`.
    ///
    /// # Panics
    /// As [`forward`](Self::forward).
    pub fn forward_with_attention(&self, input: ModelInput) -> ModelOutput {
        let (logits, attention) = self.run(input, true);
        ModelOutput { logits, attention }
    }

    /// Number of transformer blocks.
    pub fn n_layers(&self) -> usize {
        self.blocks.len()
    }

    /// Attention heads per block.
    pub fn n_heads(&self) -> usize {
        self.n_heads
    }

    /// Longest sequence the model reads.
    pub fn max_seq_len(&self) -> usize {
        self.positions.weight.dims()[0]
    }

    fn run(&self, input: ModelInput, with_weights: bool) -> (Tensor<3>, Vec<Tensor<4>>) {
        let device = input.tokens.device();
        let [batch, seq] = input.tokens.dims();
        assert!(
            seq <= self.max_seq_len(),
            "sequence of {seq} tokens exceeds max_seq_len {}",
            self.max_seq_len()
        );
        for &(layer, head) in &input.ablated {
            assert!(
                layer < self.n_layers() && head < self.n_heads,
                "no head ({layer}, {head}) to ablate in a {}-layer, {}-head model",
                self.n_layers(),
                self.n_heads
            );
        }
        let positions = Tensor::<1, Int>::arange(0..seq as i64, &device)
            // [1, seq] → [batch, seq]
            .reshape([1, seq])
            .expand([batch, seq]);
        let embedded = self.tokens.forward(input.tokens) + self.positions.forward(positions);
        let mut x = embedded.clone();
        let causal = self.causal.then(|| causal_mask(batch, seq, &device));

        let mut attention = Vec::new();
        for (layer, block) in self.blocks.iter().enumerate() {
            let normed = block.norm_attention.forward(x.clone());
            let mut attn_input = match self.values_from_embeddings && layer > 0 {
                true => AttentionInput::new(
                    normed.clone(),
                    normed,
                    block.norm_attention.forward(embedded.clone()),
                ),
                false => AttentionInput::self_attn(normed),
            };
            if let Some(mask) = &input.pad_mask {
                attn_input = attn_input.mask_pad(mask.clone());
            }
            if let Some(mask) = &causal {
                attn_input = attn_input.mask_attn(mask.clone());
            }
            if input.ablated.iter().any(|&(l, _)| l == layer) {
                let gate: Vec<f32> = (0..self.n_heads)
                    .map(|h| {
                        if input.ablated.contains(&(layer, h)) {
                            0.0
                        } else {
                            1.0
                        }
                    })
                    .collect();
                attn_input = attn_input.head_gate(Tensor::from_data(
                    TensorData::new(gate, [self.n_heads]),
                    &device,
                ));
            }
            let (out, weights) = block.forward(x, attn_input, with_weights);
            x = out;
            attention.extend(weights);
        }
        (self.lm_head.forward(self.norm.forward(x)), attention)
    }
}

#[cfg(test)]
mod tests;
