//! The one colour scale of every view. The HTML viewer gets [`STOPS`] in its data and
//! interpolates them exactly as [`color`] does, so the browser cannot drift from the PNG.

/// ColorBrewer "Blues", 9 classes: sequential from near-white to dark blue, so zero attention
/// disappears into a white page and strong attention stands out in print and in terminals.
pub(crate) const STOPS: [[u8; 3]; 9] = [
    [247, 251, 255],
    [222, 235, 247],
    [198, 219, 239],
    [158, 202, 225],
    [107, 174, 214],
    [66, 146, 198],
    [33, 113, 181],
    [8, 81, 156],
    [8, 48, 107],
];

/// Amber rather than yellow: it must stay visible on the near-white end of the scale.
pub(crate) const GOLD: [u8; 3] = [230, 145, 0];

/// The colour of an attention weight: 0 is near-white, 1 is dark blue, linear between the stops
/// of ColorBrewer "Blues". Weights outside 0..=1 are clamped; NaN counts as 0.
pub fn color(weight: f32) -> [u8; 3] {
    let t = if weight.is_nan() {
        0.0
    } else {
        weight.clamp(0.0, 1.0)
    };
    let pos = t * (STOPS.len() - 1) as f32;
    let i = (pos.floor() as usize).min(STOPS.len() - 2);
    let f = pos - i as f32;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    std::array::from_fn(|c| {
        (f32::from(a[c]) + (f32::from(b[c]) - f32::from(a[c])) * f).round() as u8
    })
}

/// Black or white, whichever reads better on top of `color(weight)`.
pub(crate) fn ink(weight: f32) -> [u8; 3] {
    let [r, g, b] = color(weight).map(f32::from);
    // Rec. 601 luma: cheap and good enough to pick between two inks.
    if 0.299 * r + 0.587 * g + 0.114 * b > 140.0 {
        [0, 0, 0]
    } else {
        [255, 255, 255]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_are_the_first_and_last_stop() {
        assert_eq!(color(0.0), STOPS[0]);
        assert_eq!(color(1.0), STOPS[8]);
        assert_eq!(color(-3.0), STOPS[0]);
        assert_eq!(color(7.0), STOPS[8]);
        assert_eq!(color(f32::NAN), STOPS[0]);
        assert_eq!(color(0.5), STOPS[4]);
    }

    #[test]
    fn darkens_monotonically() {
        let brightness = |w: f32| color(w).iter().map(|&c| u32::from(c)).sum::<u32>();
        for i in 0..100 {
            let (a, b) = (i as f32 / 100.0, (i + 1) as f32 / 100.0);
            assert!(brightness(b) <= brightness(a), "{a} → {b}");
        }
    }

    #[test]
    fn ink_flips_on_dark_cells() {
        assert_eq!(ink(0.0), [0, 0, 0]);
        assert_eq!(ink(1.0), [255, 255, 255]);
    }
}
