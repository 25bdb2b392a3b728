//! Pictures of attention for `tinyattn inspect`: a terminal heatmap, a PNG grid of every layer ×
//! head, a self-contained HTML viewer in the spirit of BertViz, and BertViz's own JSON input.
//!
//! Every view draws weights with the one colour scale in [`color`], so a cell that looks dark
//! blue in the terminal is the same blue in the PNG and in the browser.
//!
//! Layers and heads are numbered from 0 everywhere ("layer 0 head 2", "L0 H2"), as in the
//! model's own tensors.

mod base64;
mod bertviz;
mod chart;
mod font;
mod grid;
mod scale;
mod term;
mod viewer;

#[cfg(test)]
pub(crate) mod fixtures;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use bertviz::bertviz_json;
pub use chart::{Series, line_chart};
pub use grid::{png, png_base64, png_bytes, png_image};
pub use scale::color;
pub use term::{terminal, top_k};
pub use viewer::{HtmlSection, html};

/// Attention of one sentence: words and, per layer, per head, a `[query][key]` matrix whose rows
/// sum to ~1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentenceAttention {
    /// The words as displayed, e.g. `the`, `animal`, `[MASK]`.
    pub words: Vec<String>,
    /// `[layer][head][query][key]`, each matrix `seq × seq` with `seq = words.len()`.
    pub layers: Vec<Vec<Vec<Vec<f32>>>>,
    /// A caption, e.g. the original sentence or "it → animal (masked: it)".
    pub title: Option<String>,
    /// Gold links `(from, to)` as word indices, drawn emphasised; may be empty.
    pub highlights: Vec<(usize, usize)>,
}

/// One attention head of the model, both indices 0-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HeadRef {
    /// Layer index, 0-based.
    pub layer: usize,
    /// Head index within the layer, 0-based.
    pub head: usize,
}

/// Why a picture could not be made or written.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The attention does not have the shape the views need.
    #[error("attention has the wrong shape: {what}")]
    Shape {
        /// What is wrong, in words.
        what: String,
    },
    /// Writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The image could not be encoded.
    #[error("could not encode the image: {0}")]
    Image(#[from] image::ImageError),
}

fn shape(what: impl Into<String>) -> RenderError {
    RenderError::Shape { what: what.into() }
}

impl SentenceAttention {
    /// Checks what every view relies on: words, at least one layer and head, the same number of
    /// heads in every layer, every matrix `seq × seq` with finite weights, and gold links that
    /// point at words.
    pub fn validate(&self) -> Result<(), RenderError> {
        let seq = self.words.len();
        if seq == 0 {
            return Err(shape("no words"));
        }
        let heads = match self.layers.first() {
            None => return Err(shape("no layers")),
            Some(first) if first.is_empty() => return Err(shape("layer 0 has no heads")),
            Some(first) => first.len(),
        };
        for (l, layer) in self.layers.iter().enumerate() {
            // The grid and the model view lay heads out in columns, so a ragged model has no
            // picture.
            if layer.len() != heads {
                return Err(shape(format!(
                    "layer {l} has {} heads, layer 0 has {heads}",
                    layer.len()
                )));
            }
            for (h, matrix) in layer.iter().enumerate() {
                if matrix.len() != seq {
                    return Err(shape(format!(
                        "layer {l} head {h} has {} rows for {seq} words",
                        matrix.len()
                    )));
                }
                for (q, row) in matrix.iter().enumerate() {
                    if row.len() != seq {
                        return Err(shape(format!(
                            "layer {l} head {h} row {q} has {} weights for {seq} words",
                            row.len()
                        )));
                    }
                    // JSON has no NaN: serde_json would write null and the viewer would choke.
                    if row.iter().any(|w| !w.is_finite()) {
                        return Err(shape(format!(
                            "layer {l} head {h} row {q} has a weight that is not a number"
                        )));
                    }
                }
            }
        }
        if let Some(&(from, to)) = self
            .highlights
            .iter()
            .find(|&&(from, to)| from >= seq || to >= seq)
        {
            return Err(shape(format!(
                "gold link {from} → {to} points past the {seq} words"
            )));
        }
        Ok(())
    }

    /// The `[query][key]` matrix of one head, after validating the whole sentence.
    pub fn head(&self, head: HeadRef) -> Result<&[Vec<f32>], RenderError> {
        self.validate()?;
        let heads = self.layers[0].len();
        self.layers
            .get(head.layer)
            .and_then(|layer| layer.get(head.head))
            .map(Vec::as_slice)
            .ok_or_else(|| {
                shape(format!(
                    "layer {} head {} is not in a model of {} layers × {heads} heads",
                    head.layer,
                    head.head,
                    self.layers.len()
                ))
            })
    }

    /// The caption to show: the title, or else the words joined by spaces.
    fn caption(&self) -> String {
        self.title.clone().unwrap_or_else(|| self.words.join(" "))
    }
}

/// Longest word label, in characters, before it is cut with "…".
const MAX_LABEL: usize = 10;

/// `text` cut to at most `max` characters, the last one "…" when something was cut.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::fixtures::{matrix_sentence, sample};
    use super::*;

    #[test]
    fn sample_is_valid() {
        sample().validate().expect("the fixture is well formed");
    }

    #[test]
    fn validate_names_the_broken_part() {
        let mut att = sample();
        att.layers[1][2].pop();
        let err = att.validate().expect_err("a short matrix is refused");
        assert!(err.to_string().contains("layer 1 head 2"), "{err}");

        let mut att = sample();
        att.layers[0][0][3][1] = f32::NAN;
        assert!(att.validate().is_err());

        let mut att = sample();
        att.highlights.push((0, 99));
        assert!(att.validate().is_err());

        let mut att = sample();
        att.layers[1].pop();
        assert!(att.validate().is_err());

        let empty = matrix_sentence(&[], vec![]);
        assert!(empty.validate().is_err());
    }

    #[test]
    fn head_out_of_range_is_an_error() {
        let att = sample();
        let err = att
            .head(HeadRef { layer: 7, head: 0 })
            .expect_err("no layer 7");
        assert!(err.to_string().contains("layer 7 head 0"), "{err}");
    }

    #[test]
    fn clip_marks_the_cut() {
        assert_eq!(clip("animal", 10), "animal");
        assert_eq!(clip("extraordinarily", 10), "extraordi…");
        assert_eq!(clip("extraordinarily", 10).chars().count(), 10);
    }
}
