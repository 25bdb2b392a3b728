//! A heatmap of one head for an 80-column terminal.

use super::scale::{color, ink};
use super::{HeadRef, MAX_LABEL, RenderError, SentenceAttention, clip};

/// The terminal width the layout aims for.
const WIDTH: usize = 80;
/// Shading for terminals without colour: a weight gets the shade after the last threshold it
/// reaches. The first threshold is low so that a diffuse head (1/12 per word) is not blank.
const SHADES: [char; 5] = [' ', '░', '▒', '▓', '█'];
const THRESHOLDS: [f32; 4] = [0.05, 0.25, 0.5, 0.75];
/// How many attended words each query lists under the heatmap.
const TOP: usize = 3;

/// The `k` largest weights of `row` as `(index, weight)`, largest first; equal weights keep
/// their left-to-right order.
pub fn top_k(row: &[f32], k: usize) -> Vec<(usize, f32)> {
    let mut ranked: Vec<(usize, f32)> = row.iter().copied().enumerate().collect();
    // Stable, so ties stay in word order.
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    ranked.truncate(k);
    ranked
}

/// One head of one sentence as a heatmap for the terminal, rows = query words, columns = key
/// words (numbered; the number is the row's), then each word's top-3 attended words.
///
/// Layer and head are 0-based, as everywhere in [`crate::render`]. With `color`, cells are
/// shaded with 24-bit ANSI background colours and show the weight × 100; without, they are
/// drawn with " ░▒▓█". Fits 80 columns up to about 20 words of any length.
pub fn terminal(
    att: &SentenceAttention,
    head: HeadRef,
    color: bool,
) -> Result<String, RenderError> {
    let matrix = att.head(head)?;
    let n = att.words.len();
    let labels: Vec<String> = att.words.iter().map(|w| clip(w, MAX_LABEL)).collect();
    let label_w = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let index_w = (n - 1).to_string().len();
    let gutter = index_w + 1 + label_w + 1;
    // Three characters hold "100"; drop to two when four would not fit, and lose the numbers.
    let cell_w = if gutter + 4 * n <= WIDTH { 4 } else { 3 };
    let cell = Cell {
        width: cell_w,
        color,
    };

    let mut lines = Vec::new();
    if let Some(title) = &att.title {
        lines.push(clip(title, WIDTH));
    }
    lines.push(format!(
        "layer {} head {} (rows: query, columns: key)",
        head.layer, head.head
    ));
    let header: String = (0..n)
        .map(|k| format!("{k:>w$} ", w = cell_w - 1))
        .collect();
    lines.push(format!("{:gutter$}{header}", "").trim_end().to_owned());
    for (q, row) in matrix.iter().enumerate() {
        let cells: String = row
            .iter()
            .enumerate()
            .map(|(k, &w)| cell.draw(w, att.highlights.contains(&(q, k))))
            .collect();
        let line = format!("{q:>index_w$} {:<label_w$} {cells}", labels[q]);
        lines.push(if color {
            line
        } else {
            line.trim_end().to_owned()
        });
    }
    lines.push(cell.legend(!att.highlights.is_empty()));
    lines.push(String::new());
    lines.push(format!("top-{TOP} attended words:"));
    for (q, row) in matrix.iter().enumerate() {
        lines.extend(top_lines(att, &labels, label_w, q, row));
    }
    Ok(lines.join("\n") + "\n")
}

/// `it      → animal* 0.71, the 0.12, was 0.05`, plus any gold key that missed the top 3: on
/// the same line when it fits, else on the next.
fn top_lines(
    att: &SentenceAttention,
    labels: &[String],
    label_w: usize,
    q: usize,
    row: &[f32],
) -> Vec<String> {
    let gold = |k: usize| att.highlights.contains(&(q, k));
    let top = top_k(row, TOP);
    // A weight that prints as 0.00 says nothing and would crowd out the line.
    let shown: Vec<String> = top
        .iter()
        .filter(|&&(_, w)| w >= 0.005)
        .map(|&(k, w)| format!("{}{} {w:.2}", labels[k], if gold(k) { "*" } else { "" }))
        .collect();
    let line = format!("{:<label_w$} → {}", labels[q], shown.join(", "));
    let missed: Vec<String> = (0..row.len())
        .filter(|&k| gold(k) && !top.iter().any(|&(t, _)| t == k))
        .map(|k| format!("{} {:.2}", labels[k], row[k]))
        .collect();
    if missed.is_empty() {
        return vec![line];
    }
    let hint = format!("(gold: {})", missed.join(", "));
    if line.chars().count() + 2 + hint.chars().count() <= WIDTH {
        vec![format!("{line}  {hint}")]
    } else {
        vec![line, format!("{:label_w$}   {hint}", "")]
    }
}

/// How one weight is drawn.
struct Cell {
    width: usize,
    color: bool,
}

impl Cell {
    fn draw(&self, w: f32, gold: bool) -> String {
        let body = self.width - 1;
        if !self.color {
            let shade = SHADES[THRESHOLDS.iter().filter(|&&t| w >= t).count()];
            return format!("{} ", shade.to_string().repeat(body));
        }
        // Numbers stop where plain shading goes blank, so a diffuse background stays quiet.
        let text = if self.width >= 4 && w >= THRESHOLDS[0] {
            ((w.min(1.0) * 100.0).round() as u32).to_string()
        } else {
            String::new()
        };
        let emphasis = if gold { "\x1b[1;4m" } else { "" };
        format!(
            "{}{}{emphasis}{text:>body$} \x1b[0m",
            background(color(w)),
            foreground(ink(w))
        )
    }

    fn legend(&self, gold: bool) -> String {
        let mut legend = if self.color {
            let ramp: String = (0..=10)
                .map(|i| format!("{} ", background(color(i as f32 / 10.0))))
                .collect();
            let numbers = if self.width >= 4 {
                ", cells show weight × 100"
            } else {
                ""
            };
            format!("scale: 0 {ramp}\x1b[0m 1{numbers}")
        } else {
            let steps: Vec<String> = THRESHOLDS.iter().map(|t| t.to_string()).collect();
            format!(
                "scale: \" \" < {} ≤ ░ < {} ≤ ▒ < {} ≤ ▓ < {} ≤ █",
                steps[0], steps[1], steps[2], steps[3]
            )
        };
        if gold {
            legend += if self.color {
                "; underlined, * = gold link"
            } else {
                "; * = gold link"
            };
        }
        legend
    }
}

fn background([r, g, b]: [u8; 3]) -> String {
    format!("\x1b[48;2;{r};{g};{b}m")
}

fn foreground([r, g, b]: [u8; 3]) -> String {
    format!("\x1b[38;2;{r};{g};{b}m")
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{matrix_sentence, peaked, sample};
    use super::*;

    const H0: HeadRef = HeadRef { layer: 0, head: 0 };

    fn small() -> SentenceAttention {
        matrix_sentence(
            &["the", "cat", "sat"],
            vec![vec![vec![
                vec![1.0, 0.0, 0.0],
                vec![0.5, 0.5, 0.0],
                vec![0.1, 0.3, 0.6],
            ]]],
        )
    }

    /// Visible width: characters outside ANSI escape sequences.
    fn visible_width(line: &str) -> usize {
        let mut width = 0;
        let mut in_escape = false;
        for c in line.chars() {
            match (in_escape, c) {
                (false, '\x1b') => in_escape = true,
                (true, 'm') => in_escape = false,
                (true, _) => {}
                (false, _) => width += 1,
            }
        }
        width
    }

    #[test]
    fn plain_heatmap_is_exact() {
        let out = terminal(&small(), H0, false).expect("valid");
        let expected = "\
layer 0 head 0 (rows: query, columns: key)
        0   1   2
0 the ███
1 cat ▓▓▓ ▓▓▓
2 sat ░░░ ▒▒▒ ▓▓▓
scale: \" \" < 0.05 ≤ ░ < 0.25 ≤ ▒ < 0.5 ≤ ▓ < 0.75 ≤ █

top-3 attended words:
the → the 1.00
cat → the 0.50, cat 0.50
sat → sat 0.60, cat 0.30, the 0.10
";
        assert_eq!(out, expected);
    }

    #[test]
    fn colour_heatmap_has_escapes_and_the_same_top_lines() {
        let plain = terminal(&small(), H0, false).expect("valid");
        let colour = terminal(&small(), H0, true).expect("valid");
        assert!(colour.contains("\x1b[48;2;"), "{colour:?}");
        assert!(!plain.contains('\x1b'));
        let tail = |s: &str| s.split("top-3").nth(1).map(str::to_owned);
        assert_eq!(tail(&plain), tail(&colour));
        assert!(
            colour.contains(" 60 "),
            "weights × 100 are shown: {colour:?}"
        );
    }

    #[test]
    fn twelve_long_words_fit_80_columns() {
        let words: Vec<String> = (0..12).map(|i| format!("abcdefgh{}", i % 10)).collect();
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let mut att = matrix_sentence(&words, vec![vec![peaked(12, 0.7, |q| 11 - q)]]);
        att.title = Some("a very long title ".repeat(10));
        att.highlights = vec![(0, 3)];
        for colour in [false, true] {
            let out = terminal(&att, H0, colour).expect("valid");
            for line in out.lines() {
                assert!(
                    visible_width(line) <= 80,
                    "{} > 80: {line}",
                    visible_width(line)
                );
            }
            assert!(out.contains("abcdefgh0"), "9-letter words are not cut");
        }
    }

    #[test]
    fn many_words_drop_to_narrow_cells() {
        let words: Vec<String> = (0..20).map(|i| format!("w{i}")).collect();
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let att = matrix_sentence(&words, vec![vec![peaked(20, 0.5, |q| q)]]);
        for colour in [false, true] {
            let out = terminal(&att, H0, colour).expect("valid");
            assert!(out.lines().all(|l| visible_width(l) <= 80), "{out}");
        }
    }

    #[test]
    fn gold_links_are_marked_even_outside_the_top() {
        let att = sample();
        let pronoun = terminal(&att, HeadRef { layer: 1, head: 1 }, false).expect("valid");
        assert!(pronoun.contains("\nit      → animal* 0.71, "), "{pronoun}");
        let local = terminal(&att, HeadRef { layer: 1, head: 0 }, false).expect("valid");
        assert!(local.contains("  (gold: animal 0.03)\n"), "{local}");
    }

    #[test]
    fn long_labels_are_clipped() {
        let att = matrix_sentence(
            &["extraordinarily", "x"],
            vec![vec![vec![vec![0.5, 0.5], vec![0.5, 0.5]]]],
        );
        let out = terminal(&att, H0, false).expect("valid");
        assert!(out.contains("0 extraordi… ▓▓▓ ▓▓▓"), "{out}");
    }

    #[test]
    fn bad_head_is_an_error() {
        assert!(terminal(&small(), HeadRef { layer: 0, head: 1 }, false).is_err());
    }

    #[test]
    fn top_k_orders_and_breaks_ties_left_to_right() {
        assert_eq!(
            top_k(&[0.1, 0.4, 0.1, 0.4], 3),
            vec![(1, 0.4), (3, 0.4), (0, 0.1)]
        );
        assert_eq!(top_k(&[0.3], 5), vec![(0, 0.3)]);
        assert!(top_k(&[], 3).is_empty());
    }
}
