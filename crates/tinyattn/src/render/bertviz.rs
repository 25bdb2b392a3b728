//! Export for BertViz, so the same attention can be explored with the Python tool.

use serde_json::{Value, json};

use super::SentenceAttention;

/// BertViz's input: `{"tokens": [...], "attention": [layer0, layer1, ...]}` with each layer a
/// nested list of shape `[1, heads, seq, seq]` (a batch of one).
///
/// This only reshapes, so it cannot fail; a malformed `att` gives malformed JSON, and callers
/// that take attention from outside should [`SentenceAttention::validate`] it first.
///
/// Load it in Python with:
///
/// ```python
/// import json, torch
/// d = json.load(open(f))
/// attention = [torch.tensor(a) for a in d["attention"]]
/// from bertviz import head_view
/// head_view(attention, d["tokens"])
/// ```
pub fn bertviz_json(att: &SentenceAttention) -> Value {
    let attention: Vec<Value> = att.layers.iter().map(|heads| json!([heads])).collect();
    json!({ "tokens": att.words, "attention": attention })
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::sample;
    use super::*;

    fn dims(mut v: &Value) -> Vec<usize> {
        let mut out = Vec::new();
        while let Some(items) = v.as_array() {
            out.push(items.len());
            match items.first() {
                Some(first) => v = first,
                None => break,
            }
        }
        out
    }

    #[test]
    fn layers_are_batch_heads_seq_seq() {
        let att = sample();
        let v = bertviz_json(&att);
        assert_eq!(v["tokens"].as_array().map(Vec::len), Some(11));
        assert_eq!(v["tokens"][1], "animal");
        let layers = v["attention"].as_array().expect("a list of layers");
        assert_eq!(layers.len(), 2);
        for layer in layers {
            assert_eq!(dims(layer), vec![1, 4, 11, 11]);
        }
        let w = v["attention"][1][0][1][7][1].as_f64().expect("a number");
        assert!((w - 0.71).abs() < 1e-6, "{w}");
    }
}
