//! A minimal pre-LayerNorm transformer built on [`tinyattn_attention`], small enough to read in
//! one sitting and built to show its attention: [`Transformer::forward_with_attention`] returns
//! every layer's per-head weights, and any (layer, head) can be ablated at inference.
//!
//! ```text
//! tokens ─ embed + learned positions ─┬─ [LayerNorm → attention → +] ─ [LayerNorm → MLP → +] ─┬─ … ─ LayerNorm ─ linear → logits
//!                                     └──────────────── residual ──────────────────────────┘
//! ```

mod model;

pub use model::*;
