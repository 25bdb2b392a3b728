//! Hand-made attention for the tests: small enough to reason about, shaped like what a trained
//! model produces (a few sharp heads, a few diffuse ones, one head that resolves the pronoun).

use super::SentenceAttention;

/// A sentence over `words` with the given `[layer][head][query][key]` weights and no gold links.
pub(crate) fn matrix_sentence(
    words: &[&str],
    layers: Vec<Vec<Vec<Vec<f32>>>>,
) -> SentenceAttention {
    SentenceAttention {
        words: words.iter().map(|w| (*w).to_owned()).collect(),
        layers,
        title: None,
        highlights: Vec::new(),
    }
}

/// Every query spreads its attention evenly.
pub(crate) fn uniform(n: usize) -> Vec<Vec<f32>> {
    vec![vec![1.0 / n as f32; n]; n]
}

/// Row `q` puts `peak` on `key(q)` and spreads the rest evenly, so rows still sum to 1.
pub(crate) fn peaked(n: usize, peak: f32, key: impl Fn(usize) -> usize) -> Vec<Vec<f32>> {
    (0..n)
        .map(|q| {
            let rest = if n > 1 {
                (1.0 - peak) / (n - 1) as f32
            } else {
                0.0
            };
            let mut row = vec![rest; n];
            row[key(q).min(n - 1)] = if n > 1 { peak } else { 1.0 };
            row
        })
        .collect()
}

/// Attention decaying with distance from the query, normalised per row.
fn local(n: usize, width: f32) -> Vec<Vec<f32>> {
    (0..n)
        .map(|q| {
            let raw: Vec<f32> = (0..n)
                .map(|k| (-((q as f32 - k as f32).abs()) / width).exp())
                .collect();
            let sum: f32 = raw.iter().sum();
            raw.iter().map(|w| w / sum).collect()
        })
        .collect()
}

const IT: usize = 7;
const ANIMAL: usize = 1;

/// "the animal didn't cross the street because it was too tired": 2 layers × 4 heads, with
/// layer 1 head 1 linking "it" to "animal" (0.71) and that link marked gold.
pub(crate) fn sample() -> SentenceAttention {
    let words = [
        "the", "animal", "didn't", "cross", "the", "street", "because", "it", "was", "too", "tired",
    ];
    let n = words.len();
    let mut pronoun = local(n, 1.5);
    pronoun[IT] = peaked(n, 0.71, |_| ANIMAL)[IT].clone();
    pronoun[IT][IT - 1] += 0.05;
    pronoun[IT][ANIMAL + 1] -= 0.05;
    let layers = vec![
        vec![
            uniform(n),
            peaked(n, 0.8, |q| q.saturating_sub(1)),
            peaked(n, 0.9, |q| q),
            peaked(n, 0.6, |_| 0),
        ],
        vec![
            local(n, 3.0),
            pronoun,
            peaked(n, 0.75, |q| q + 1),
            local(n, 0.7),
        ],
    ];
    SentenceAttention {
        title: Some(words.join(" ")),
        highlights: vec![(IT, ANIMAL)],
        ..matrix_sentence(&words, layers)
    }
}

/// A second, awkward sentence: a masked word, a word that is HTML, a word too long for labels.
pub(crate) fn awkward() -> SentenceAttention {
    let words = [
        "[MASK]",
        "</script>",
        "said",
        "extraordinarily",
        "<b>x</b>",
        "?",
    ];
    let n = words.len();
    let layers = vec![
        vec![
            uniform(n),
            peaked(n, 0.9, |_| 1),
            local(n, 1.0),
            peaked(n, 0.5, |q| q),
        ],
        vec![
            local(n, 2.0),
            uniform(n),
            peaked(n, 0.7, |q| n - 1 - q),
            local(n, 0.5),
        ],
    ];
    SentenceAttention {
        title: Some("it → animal (masked: it) & \"quotes\" </script>".to_owned()),
        highlights: vec![(0, 3)],
        ..matrix_sentence(&words, layers)
    }
}
