//! The embedded font (WenQuanYi Micro Hei, Apache-2.0, derived from Droid Sans and Droid Sans Fallback:
//! `fonts/wqy-microhei.LICENSE`): Latin and CJK in one face, so Chinese product names render the same in SVG,
//! PNG, PDF and ZPL. (Droid Sans Fallback alone has no Latin letters.)

use std::sync::LazyLock;

use ab_glyph::{Font, FontRef, GlyphId, PxScale};

/// The font collection file; face 0 is the proportional WenQuanYi Micro Hei.
pub static FONT_BYTES: &[u8] = include_bytes!("../fonts/wqy-microhei.ttc");

static FONT: LazyLock<Option<FontRef<'static>>> =
    LazyLock::new(|| FontRef::try_from_slice_and_index(FONT_BYTES, 0).ok());

/// The parsed font (`None` only if the embedded file were damaged; tests guard against that).
pub fn font() -> Option<&'static FontRef<'static>> {
    FONT.as_ref()
}

/// The ab_glyph scale for a font size of `em_px` pixels (the em square, as PDF and SVG sizes mean it).
pub fn px_scale(f: &FontRef<'_>, em_px: f32) -> PxScale {
    let upem = f.units_per_em().unwrap_or(1000.0);
    PxScale::from(em_px * f.height_unscaled() / upem)
}

/// Glyph ids and advances of `text` at a font size of `em` (any unit); the sum is the text's width.
pub fn glyphs(text: &str, em: f32) -> Vec<(GlyphId, f32)> {
    let Some(f) = font() else {
        return Vec::new();
    };
    let upem = f.units_per_em().unwrap_or(1000.0);
    text.chars()
        .map(|c| {
            let id = f.glyph_id(c);
            (id, f.h_advance_unscaled(id) * em / upem)
        })
        .collect()
}

/// Where `text` starts so that it sits at `x` with `align`, at a font size of `em` (same unit as `x`).
pub fn text_start(text: &str, x: f32, em: f32, align: crate::template::Align) -> f32 {
    use crate::template::Align;
    match align {
        Align::Left => x,
        Align::Center => x - text_width(text, em) / 2.0,
        Align::Right => x - text_width(text, em),
    }
}

/// Width of `text` at a font size of `em` (same unit as `em`).
pub fn text_width(text: &str, em: f32) -> f32 {
    glyphs(text, em).iter().map(|(_, a)| a).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_font_has_latin_and_chinese() {
        let f = font().expect("embedded font parses");
        for c in ['A', '7', '溯', '源', '奶', '粉'] {
            assert_ne!(f.glyph_id(c).0, 0, "no glyph for {c}");
        }
        let w = text_width("溯源", 10.0);
        assert!((15.0..=25.0).contains(&w), "{w}");
    }
}
