//! Every layer × head of one sentence in one PNG: rows are layers, columns heads.

use std::io::Cursor;
use std::path::Path;

use image::{ImageFormat, Rgb, RgbImage};

use super::font::{ADVANCE_X, ADVANCE_Y, GLYPH_H, GLYPH_W, draw_text, draw_text_down, text_width};
use super::scale::{GOLD, color};
use super::{MAX_LABEL, RenderError, SentenceAttention, base64, clip, shape};

/// Text is drawn at twice the font's size: 1× is too small to read at a glance.
const TEXT_SCALE: u32 = 2;
const CHAR_W: u32 = ADVANCE_X * TEXT_SCALE;
const LINE_H: u32 = ADVANCE_Y * TEXT_SCALE;
/// One text line per cell, so row labels sit exactly beside their rows.
const CELL: u32 = LINE_H;
/// Between a label and the heatmap it names.
const PAD: u32 = 6;
/// Between panels, and around the blocks of the page.
const GAP: u32 = 24;
const MARGIN: u32 = 16;
/// One pixel column per shade is smooth enough and keeps the legend compact.
const BAR_W: u32 = 256;
/// Room for a caption of about 40 characters even when the model is tiny.
const MIN_CONTENT_W: u32 = 480;
/// About 200 MB of RGB: past this the picture is unreadable anyway.
const MAX_PIXELS: u64 = 64 << 20;

const WHITE: [u8; 3] = [255, 255, 255];
const TEXT: [u8; 3] = [34, 34, 34];
const MUTED: [u8; 3] = [110, 110, 110];
const FRAME: [u8; 3] = [200, 200, 200];

/// Where everything goes; both the size check and the drawing read it, so they cannot disagree.
///
/// With `c` = label characters (longest word, at most 10), `n` words, `L` layers, `H` heads:
/// a panel is `max(c·12 + 6 + n·18, width of "L9 H9")` wide and `(18 + 6) + (c·18 + 6) + n·18`
/// high; the image is `2·16 + max(H·panel_w + (H−1)·24, legend, 480)` wide and
/// `2·16 + (18 + 24) + L·panel_h + (L−1)·24 + (24 + 18)` high.
struct Layout {
    n: u32,
    label_w: u32,
    top_labels_h: u32,
    panel_w: u32,
    panel_h: u32,
    content_w: u32,
    width: u32,
    height: u32,
    legend: Vec<(u32, LegendItem)>,
}

#[derive(Clone, Copy)]
enum LegendItem {
    Text(&'static str),
    Bar,
    GoldCell,
}

impl LegendItem {
    fn width(self) -> u32 {
        match self {
            Self::Text(text) => text_width(text, TEXT_SCALE),
            Self::Bar => BAR_W,
            Self::GoldCell => CELL,
        }
    }
}

/// A panel's caption, e.g. "L0 H2".
fn panel_title(layer: usize, head: usize) -> String {
    format!("L{layer} H{head}")
}

impl Layout {
    fn new(att: &SentenceAttention) -> Result<Self, RenderError> {
        // In u64, so that no input can overflow before the size check below; a u64 holds any
        // count of things that fit in memory times a few hundred pixels.
        let wide = |v: u32| u64::from(v);
        let count = |v: usize| v as u64;
        let (layers, heads) = (count(att.layers.len()), count(att.layers[0].len()));
        let n = count(att.words.len());
        let label_chars = count(
            att.words
                .iter()
                .map(|w| w.chars().count().min(MAX_LABEL))
                .max()
                .unwrap_or(0),
        );
        let label_w = label_chars * wide(CHAR_W) + wide(PAD);
        let top_labels_h = label_chars * wide(LINE_H) + wide(PAD);
        let last_title = panel_title(att.layers.len() - 1, att.layers[0].len() - 1);
        let panel_w = (label_w + n * wide(CELL)).max(wide(text_width(&last_title, TEXT_SCALE)));
        let panel_h = wide(LINE_H + PAD) + top_labels_h + n * wide(CELL);

        // Items with the space before each.
        let mut legend = vec![
            (0, LegendItem::Text("0")),
            (PAD, LegendItem::Bar),
            (PAD, LegendItem::Text("1")),
            (GAP, LegendItem::Text("attention weight")),
        ];
        if !att.highlights.is_empty() {
            legend.push((GAP, LegendItem::GoldCell));
            legend.push((PAD, LegendItem::Text("gold link")));
        }
        let legend_w: u64 = legend
            .iter()
            .map(|&(gap, item)| wide(gap + item.width()))
            .sum();

        let grid_w = heads * panel_w + (heads - 1) * wide(GAP);
        let content_w = grid_w.max(legend_w).max(wide(MIN_CONTENT_W));
        let width = wide(2 * MARGIN) + content_w;
        let height = wide(2 * MARGIN + LINE_H + GAP + GAP + CELL)
            + layers * panel_h
            + (layers - 1) * wide(GAP);
        if width.saturating_mul(height) > MAX_PIXELS {
            return Err(shape(format!(
                "a {width} × {height} image is too large to draw; show fewer words or layers"
            )));
        }
        // Never saturates: every value is at most the width or the height, both now small.
        let narrow = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        Ok(Self {
            n: narrow(n),
            label_w: narrow(label_w),
            top_labels_h: narrow(top_labels_h),
            panel_w: narrow(panel_w),
            panel_h: narrow(panel_h),
            content_w: narrow(content_w),
            width: narrow(width),
            height: narrow(height),
            legend,
        })
    }

    /// Top-left corner of the heatmap cells of panel (layer, head).
    fn grid_origin(&self, layer: usize, head: usize) -> (u32, u32) {
        let (x, y) = self.panel_origin(layer, head);
        (x + self.label_w, y + LINE_H + PAD + self.top_labels_h)
    }

    fn panel_origin(&self, layer: usize, head: usize) -> (u32, u32) {
        (
            MARGIN + head as u32 * (self.panel_w + GAP),
            MARGIN + LINE_H + GAP + layer as u32 * (self.panel_h + GAP),
        )
    }

    fn legend_y(&self) -> u32 {
        self.height - MARGIN - CELL
    }
}

/// The grid of every layer × head as an image: white background, each panel a heatmap with
/// word labels (left, and top to bottom above), a title per panel, the sentence's caption at
/// the top and a colour scale from 0 to 1 at the bottom. Gold links are outlined in amber.
pub fn png_image(att: &SentenceAttention) -> Result<RgbImage, RenderError> {
    att.validate()?;
    let layout = Layout::new(att)?;
    let mut img = RgbImage::from_pixel(layout.width, layout.height, Rgb(WHITE));

    let max_title = (layout.content_w / CHAR_W) as usize;
    draw_text(
        &mut img,
        MARGIN,
        MARGIN,
        &clip(&att.caption(), max_title),
        TEXT_SCALE,
        TEXT,
    );

    let labels: Vec<String> = att.words.iter().map(|w| clip(w, MAX_LABEL)).collect();
    for (l, layer) in att.layers.iter().enumerate() {
        for (h, matrix) in layer.iter().enumerate() {
            draw_panel(&mut img, &layout, att, &labels, (l, h), matrix);
        }
    }
    draw_legend(&mut img, &layout);
    Ok(img)
}

fn draw_panel(
    img: &mut RgbImage,
    layout: &Layout,
    att: &SentenceAttention,
    labels: &[String],
    (layer, head): (usize, usize),
    matrix: &[Vec<f32>],
) {
    let (px, py) = layout.panel_origin(layer, head);
    draw_text(img, px, py, &panel_title(layer, head), TEXT_SCALE, MUTED);
    let (gx, gy) = layout.grid_origin(layer, head);
    let glyph_inset_y = (CELL - GLYPH_H * TEXT_SCALE) / 2;
    let glyph_inset_x = (CELL - GLYPH_W * TEXT_SCALE) / 2;
    for (i, label) in labels.iter().enumerate() {
        let offset = i as u32 * CELL;
        let row_x = gx - PAD - text_width(label, TEXT_SCALE);
        draw_text(
            img,
            row_x,
            gy + offset + glyph_inset_y,
            label,
            TEXT_SCALE,
            TEXT,
        );
        let col_y = gy - PAD - label.chars().count() as u32 * LINE_H;
        draw_text_down(
            img,
            gx + offset + glyph_inset_x,
            col_y,
            label,
            TEXT_SCALE,
            TEXT,
        );
    }
    let side = layout.n * CELL;
    outline(img, gx - 1, gy - 1, side + 2, side + 2, 1, FRAME);
    for (q, row) in matrix.iter().enumerate() {
        for (k, &w) in row.iter().enumerate() {
            let (x, y) = (gx + k as u32 * CELL, gy + q as u32 * CELL);
            fill(img, x, y, CELL, CELL, color(w));
            if att.highlights.contains(&(q, k)) {
                outline(img, x, y, CELL, CELL, 2, GOLD);
            }
        }
    }
}

fn draw_legend(img: &mut RgbImage, layout: &Layout) {
    let y = layout.legend_y();
    let mut x = MARGIN;
    for &(gap, item) in &layout.legend {
        x += gap;
        match item {
            LegendItem::Text(text) => {
                let inset = (CELL - GLYPH_H * TEXT_SCALE) / 2;
                draw_text(img, x, y + inset, text, TEXT_SCALE, TEXT);
            }
            LegendItem::Bar => {
                for i in 0..BAR_W {
                    fill(img, x + i, y, 1, CELL, color(i as f32 / (BAR_W - 1) as f32));
                }
                // Its near-white end would otherwise vanish into the page.
                outline(img, x - 1, y - 1, BAR_W + 2, CELL + 2, 1, FRAME);
            }
            LegendItem::GoldCell => outline(img, x, y, CELL, CELL, 2, GOLD),
        }
        x += item.width();
    }
}

pub(crate) fn fill(img: &mut RgbImage, x: u32, y: u32, w: u32, h: u32, rgb: [u8; 3]) {
    for yy in y..y + h {
        for xx in x..x + w {
            if let Some(p) = img.get_pixel_mut_checked(xx, yy) {
                *p = Rgb(rgb);
            }
        }
    }
}

fn outline(img: &mut RgbImage, x: u32, y: u32, w: u32, h: u32, thickness: u32, rgb: [u8; 3]) {
    fill(img, x, y, w, thickness, rgb);
    fill(img, x, y + h - thickness, w, thickness, rgb);
    fill(img, x, y, thickness, h, rgb);
    fill(img, x + w - thickness, y, thickness, h, rgb);
}

/// `img` encoded as PNG in memory.
pub fn png_bytes(img: &RgbImage) -> Result<Vec<u8>, RenderError> {
    let mut bytes = Vec::new();
    img.write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)?;
    Ok(bytes)
}

/// `img` as base64 PNG, ready for [`super::HtmlSection::png_base64`].
pub fn png_base64(img: &RgbImage) -> Result<String, RenderError> {
    Ok(base64::encode(&png_bytes(img)?))
}

/// Writes [`png_image`] of `att` to `path` as a PNG file.
pub fn png(att: &SentenceAttention, path: &Path) -> Result<(), RenderError> {
    let bytes = png_bytes(&png_image(att)?)?;
    std::fs::write(path, bytes).map_err(|source| RenderError::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{matrix_sentence, peaked, sample, uniform};
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("tinyattn-render-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir is writable");
        dir.join(name)
    }

    /// "the cat sat", 2 layers × 3 heads, every head the same map.
    fn cat(map: Vec<Vec<f32>>) -> SentenceAttention {
        matrix_sentence(&["the", "cat", "sat"], vec![vec![map; 3]; 2])
    }

    #[test]
    fn written_png_has_the_layout_size() {
        let path = scratch("cat.png");
        png(&cat(uniform(3)), &path).expect("written");
        let img = image::open(&path).expect("decodes").to_rgb8();
        // c = 3, n = 3: panel 3·12+6+3·18 = 96 wide, (18+6)+(3·18+6)+3·18 = 138 high;
        // the legend (12+6+256+6+12+24+16·12 = 508) is wider than the grid (3·96+2·24 = 336).
        let panel_h = 24 + 60 + 54;
        assert_eq!(
            img.dimensions(),
            (32 + 508, 32 + 42 + 2 * panel_h + 24 + 42)
        );

        // Eleven words, 2 × 4 heads: the grid sets the width.
        let att = sample();
        let img = png_image(&att).expect("valid");
        // c = 7 ("because"), n = 11: panel 7·12+6+11·18 = 288 wide, 24+(7·18+6)+11·18 = 354 high.
        assert_eq!(
            img.dimensions(),
            (32 + 4 * 288 + 3 * 24, 32 + 42 + 2 * 354 + 24 + 42)
        );
    }

    #[test]
    fn panels_show_the_weights() {
        let flat = png_image(&cat(uniform(3))).expect("valid");
        let sharp = png_image(&cat(peaked(3, 1.0, |q| q))).expect("valid");
        let layout = Layout::new(&cat(uniform(3))).expect("small");
        let (gx, gy) = layout.grid_origin(1, 2);
        let cells = |img: &RgbImage| -> Vec<[u8; 3]> {
            (0..3 * CELL)
                .flat_map(|y| (0..3 * CELL).map(move |x| (x, y)))
                .map(|(x, y)| img.get_pixel(gx + x, gy + y).0)
                .collect()
        };
        assert_ne!(cells(&flat), cells(&sharp));
        assert_eq!(sharp.get_pixel(gx + 1, gy + 1).0, color(1.0));
        assert_eq!(sharp.get_pixel(gx + CELL + 1, gy + 1).0, color(0.0));
        assert_eq!(flat.get_pixel(gx + 1, gy + 1).0, color(1.0 / 3.0));
    }

    #[test]
    fn labels_are_drawn() {
        let att = cat(uniform(3));
        let img = png_image(&att).expect("valid");
        let layout = Layout::new(&att).expect("small");
        let (gx, gy) = layout.grid_origin(0, 0);
        let inked = |x0: u32, y0: u32, w: u32, h: u32| {
            (y0..y0 + h).any(|y| (x0..x0 + w).any(|x| img.get_pixel(x, y).0 == TEXT))
        };
        assert!(
            inked(gx - layout.label_w, gy, layout.label_w, CELL),
            "row label"
        );
        assert!(
            inked(gx, gy - layout.top_labels_h, CELL, layout.top_labels_h),
            "column label"
        );
        assert!(inked(MARGIN, MARGIN, layout.content_w, LINE_H), "caption");
        assert!(inked(MARGIN, layout.legend_y(), CHAR_W, CELL), "scale's 0");
        // Between the row label and the grid's frame there is only paper.
        assert!(!inked(gx - PAD + 1, gy, PAD - 2, 3 * CELL));
    }

    #[test]
    fn gold_links_are_outlined() {
        let att = sample();
        let img = png_image(&att).expect("valid");
        let layout = Layout::new(&att).expect("fits");
        let (gx, gy) = layout.grid_origin(1, 1);
        assert_eq!(img.get_pixel(gx + CELL, gy + 7 * CELL).0, GOLD);
    }

    #[test]
    fn errors_are_typed() {
        let missing = Path::new("/nonexistent-dir/x.png");
        match png(&cat(uniform(3)), missing) {
            Err(RenderError::Io { path, .. }) => assert_eq!(path, missing),
            other => panic!("expected an I/O error, got {other:?}"),
        }
        let mut bad = cat(uniform(3));
        bad.layers[0][1].pop();
        assert!(matches!(png_image(&bad), Err(RenderError::Shape { .. })));
    }

    #[test]
    fn huge_grids_are_refused_not_drawn() {
        let many_heads = matrix_sentence(&["x"], vec![vec![vec![vec![1.0]]; 200_000]]);
        assert!(matches!(
            png_image(&many_heads),
            Err(RenderError::Shape { .. })
        ));
    }

    #[test]
    fn base64_round_trips_through_the_decoder() {
        let img = png_image(&cat(uniform(3))).expect("valid");
        let text = png_base64(&img).expect("encodes");
        assert!(text.starts_with("iVBORw0KGgo"), "PNG signature in base64");
    }
}
