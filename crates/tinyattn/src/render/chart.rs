//! Line charts for training curves: loss against step, and best-head link accuracy against step
//! next to the position baselines.

use image::{Rgb, RgbImage};

use super::RenderError;
use super::font::{draw_text, text_width};
use super::grid::fill;

const WIDTH: u32 = 720;
const HEIGHT: u32 = 400;
const LEFT: u32 = 70;
const RIGHT: u32 = 20;
const TOP: u32 = 50;
const BOTTOM: u32 = 50;
const TEXT: [u8; 3] = [40, 40, 40];
const GRID: [u8; 3] = [225, 225, 225];

/// One line of a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend text.
    pub label: String,
    /// `(x, y)` points, in x order.
    pub points: Vec<(f64, f64)>,
    /// Line colour.
    pub rgb: [u8; 3],
    /// Drawn dashed (used for baselines).
    pub dashed: bool,
}

/// Draws `series` on shared axes. `y_range` fixes the vertical axis (e.g. 0 to 1 for
/// accuracies); otherwise it spans the data.
pub fn line_chart(
    title: &str,
    x_label: &str,
    y_range: Option<(f64, f64)>,
    series: &[Series],
) -> Result<RgbImage, RenderError> {
    let points = || series.iter().flat_map(|s| s.points.iter().copied());
    if points().next().is_none() {
        return Err(super::shape("a chart needs at least one point"));
    }
    if points().any(|(x, y)| !x.is_finite() || !y.is_finite()) {
        return Err(super::shape("chart points must be finite"));
    }
    let (x_min, x_max) = span(points().map(|p| p.0));
    let (y_min, y_max) = y_range.unwrap_or_else(|| span(points().map(|p| p.1)));

    let mut img = RgbImage::from_pixel(WIDTH, HEIGHT, Rgb([255, 255, 255]));
    let (plot_w, plot_h) = (WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM);
    let to_px = |(x, y): (f64, f64)| -> (f64, f64) {
        (
            f64::from(LEFT) + (x - x_min) / (x_max - x_min) * f64::from(plot_w),
            f64::from(TOP) + (y_max - y) / (y_max - y_min) * f64::from(plot_h),
        )
    };

    draw_text(&mut img, LEFT, 12, title, 2, TEXT);
    for tick in 0..=4 {
        let y = y_min + (y_max - y_min) * f64::from(tick) / 4.0;
        let (_, py) = to_px((x_min, y));
        fill(&mut img, LEFT, py as u32, plot_w, 1, GRID);
        let label = format!("{y:.2}");
        draw_text(
            &mut img,
            LEFT.saturating_sub(text_width(&label, 1) + 6),
            py as u32 - 3,
            &label,
            1,
            TEXT,
        );
    }
    fill(&mut img, LEFT, TOP, 1, plot_h, TEXT);
    fill(&mut img, LEFT, TOP + plot_h, plot_w, 1, TEXT);
    for (x, align_right) in [(x_min, false), (x_max, true)] {
        let label = format!("{x:.0}");
        let (px, _) = to_px((x, y_min));
        let px = if align_right {
            px as u32 - text_width(&label, 1)
        } else {
            px as u32
        };
        draw_text(&mut img, px, TOP + plot_h + 6, &label, 1, TEXT);
    }
    let label_x = LEFT + (plot_w - text_width(x_label, 1)) / 2;
    draw_text(&mut img, label_x, TOP + plot_h + 20, x_label, 1, TEXT);

    for s in series {
        let pixels: Vec<(f64, f64)> = s.points.iter().map(|&p| to_px(p)).collect();
        for pair in pixels.windows(2) {
            line(&mut img, pair[0], pair[1], s.rgb, s.dashed);
        }
        if let [only] = pixels.as_slice() {
            fill(&mut img, only.0 as u32 - 1, only.1 as u32 - 1, 3, 3, s.rgb);
        }
    }
    let mut legend_y = TOP + 6;
    for s in series {
        let x = WIDTH - RIGHT - text_width(&s.label, 1) - 30;
        line(
            &mut img,
            (f64::from(x), f64::from(legend_y + 3)),
            (f64::from(x + 20), f64::from(legend_y + 3)),
            s.rgb,
            s.dashed,
        );
        draw_text(&mut img, x + 26, legend_y, &s.label, 1, TEXT);
        legend_y += 14;
    }
    Ok(img)
}

/// Smallest and largest value, widened when they coincide so the axis has a length.
fn span(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    match hi > lo {
        true => (lo, hi),
        false => (lo - 0.5, hi + 0.5),
    }
}

/// A 2-pixel line from `a` to `b`; dashed lines skip every other 6-pixel stretch.
fn line(img: &mut RgbImage, a: (f64, f64), b: (f64, f64), rgb: [u8; 3], dashed: bool) {
    let steps = (b.0 - a.0).abs().max((b.1 - a.1).abs()).ceil().max(1.0) as usize;
    for i in 0..=steps {
        if dashed && (i / 6) % 2 == 1 {
            continue;
        }
        let t = i as f64 / steps as f64;
        let (x, y) = (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
        fill(img, x.round() as u32, y.round() as u32, 2, 2, rgb);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(points: Vec<(f64, f64)>) -> Series {
        Series {
            label: "loss".into(),
            points,
            rgb: [200, 30, 30],
            dashed: false,
        }
    }

    #[test]
    fn a_falling_curve_is_drawn_from_top_left_to_bottom_right() {
        let img = line_chart("t", "step", None, &[series(vec![(0.0, 5.0), (100.0, 1.0)])])
            .expect("chart");
        assert_eq!(img.dimensions(), (WIDTH, HEIGHT));
        let red = |x: u32, y: u32| img.get_pixel(x, y).0 == [200, 30, 30];
        // The first point maps to the plot's top-left corner, the last to its bottom-right.
        assert!(red(LEFT, TOP) || red(LEFT + 1, TOP + 1));
        assert!(red(WIDTH - RIGHT - 1, HEIGHT - BOTTOM - 1) || red(WIDTH - RIGHT, HEIGHT - BOTTOM));
        // Nothing red in the bottom-left corner of the plot.
        assert!(!red(LEFT + 5, HEIGHT - BOTTOM - 5));
    }

    #[test]
    fn empty_or_non_finite_data_is_refused() {
        assert!(line_chart("t", "step", None, &[series(vec![])]).is_err());
        assert!(line_chart("t", "step", None, &[series(vec![(0.0, f64::NAN)])]).is_err());
    }
}
