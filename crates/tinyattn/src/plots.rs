//! Training curves from a run's `metrics.jsonl`: `loss.png` (training and validation loss) and
//! `links.png` (best-head argmax accuracy per link kind against step, beside the best position
//! baseline on the same probe sentences) — the picture of attention *learning* the links.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use image::RgbImage;
use tinyattn_corpus::{LinkKind, Sentence, baselines};

use crate::render::{Series, line_chart, png_bytes};
use crate::train::{EvalLine, PROBE_SENTENCES};

const RED: [u8; 3] = [200, 50, 50];
const BLUE: [u8; 3] = [40, 90, 170];
const GREEN: [u8; 3] = [40, 140, 70];

fn kind_color(kind: &str) -> [u8; 3] {
    if kind == LinkKind::SubjectVerb.name() {
        BLUE
    } else {
        GREEN
    }
}

/// The two charts of a run, as images: `[("loss.png", …), ("links.png", …)]`.
pub fn charts(run_dir: &Path, probe: &[Sentence]) -> Result<Vec<(&'static str, RgbImage)>> {
    let path = run_dir.join("metrics.jsonl");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut train = Vec::new();
    let mut evals: Vec<EvalLine> = Vec::new();
    for line in text.lines() {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if let (Some(step), Some(loss)) = (value["step"].as_f64(), value["loss"].as_f64()) {
            train.push((step, loss));
        } else if let Ok(eval) = serde_json::from_value::<EvalLine>(value) {
            evals.push(eval);
        }
    }
    let mut out = Vec::new();
    let valid: Vec<(f64, f64)> = evals
        .iter()
        .map(|e| (e.step as f64, e.eval.valid_loss))
        .collect();
    let loss = [
        Series {
            label: "training loss".into(),
            points: train,
            rgb: RED,
            dashed: false,
        },
        Series {
            label: "validation loss".into(),
            points: valid,
            rgb: BLUE,
            dashed: false,
        },
    ];
    out.push(("loss.png", line_chart("loss", "step", None, &loss)?));

    let report = baselines(probe);
    let mut links = Vec::new();
    for kind in LinkKind::ALL {
        let points: Vec<(f64, f64)> = evals
            .iter()
            .filter_map(|e| {
                let link = e.eval.links.iter().find(|l| l.kind == kind.name())?;
                Some((e.step as f64, link.argmax_accuracy))
            })
            .collect();
        let Some(&(first, _)) = points.first() else {
            continue;
        };
        let last = points.last().map_or(first, |p| p.0);
        let b = report.get(kind);
        let best_baseline = [b.fixed_offset, b.nearest_noun, b.first_noun]
            .iter()
            .map(|s| s.accuracy())
            .fold(0.0, f64::max);
        links.push(Series {
            label: format!("{} best head", kind.name()),
            points,
            rgb: kind_color(kind.name()),
            dashed: false,
        });
        links.push(Series {
            label: format!("{} best baseline", kind.name()),
            points: vec![(first, best_baseline), (last, best_baseline)],
            rgb: kind_color(kind.name()),
            dashed: true,
        });
    }
    if !links.is_empty() {
        let x_label = format!("step (probe: the first {PROBE_SENTENCES} validation sentences)");
        let title = "best-head link accuracy";
        out.push((
            "links.png",
            line_chart(title, &x_label, Some((0.0, 1.0)), &links)?,
        ));
    }
    Ok(out)
}

/// Writes the charts into the run folder and returns their paths.
pub fn write(run_dir: &Path, probe: &[Sentence]) -> Result<Vec<PathBuf>> {
    charts(run_dir, probe)?
        .into_iter()
        .map(|(name, image)| {
            let path = run_dir.join(name);
            crate::checkpoint::write_atomic(&path, &png_bytes(&image)?)?;
            Ok(path)
        })
        .collect()
}
