//! PNG output at the template's resolution: tiny-skia for shapes, ab_glyph for text, modules snapped to
//! whole pixels so that symbols stay decodable.

use ab_glyph::{Font, point};
use tiny_skia::{Paint, PathBuilder, Pixmap, PixmapPaint, Rect, Stroke, Transform};

use crate::LabelError;
use crate::font::{font, glyphs, px_scale, text_start};
use crate::template::{Align, Shape};

/// Draws shapes on a `w` × `h` mm label at `dpi` and answers the pixmap.
pub fn rasterize(shapes: &[Shape], w: f32, h: f32, dpi: u32) -> Result<Pixmap, LabelError> {
    let k = dpi as f32 / 25.4;
    let (pw, ph) = ((w * k).round() as u32, (h * k).round() as u32);
    let mut pm = Pixmap::new(pw.max(1), ph.max(1))
        .ok_or_else(|| LabelError::Render("label too large to rasterize".into()))?;
    pm.fill(tiny_skia::Color::WHITE);
    let mut black = Paint::default();
    black.set_color_rgba8(0, 0, 0, 255);
    black.anti_alias = false;
    for shape in shapes {
        match shape {
            Shape::Modules {
                x,
                y,
                module_w,
                module_h,
                symbol,
            } => {
                // Whole pixels per module keep bar widths exact.
                let mw = (module_w * k).round().max(1.0);
                let mh = if symbol.symbology.is_2d() {
                    mw
                } else {
                    (module_h * k).round().max(1.0)
                };
                let (x0, y0) = ((x * k).round(), (y * k).round());
                for (row, col, len) in symbol.runs() {
                    if let Some(r) = Rect::from_xywh(
                        x0 + col as f32 * mw,
                        y0 + row as f32 * mh,
                        len as f32 * mw,
                        mh,
                    ) {
                        pm.fill_rect(r, &black, Transform::identity(), None);
                    }
                }
            }
            Shape::Line {
                x1,
                y1,
                x2,
                y2,
                width,
            } => {
                let mut pb = PathBuilder::new();
                pb.move_to(x1 * k, y1 * k);
                pb.line_to(x2 * k, y2 * k);
                if let Some(p) = pb.finish() {
                    let stroke = Stroke {
                        width: width * k,
                        ..Stroke::default()
                    };
                    pm.stroke_path(&p, &black, &stroke, Transform::identity(), None);
                }
            }
            Shape::Rect { x, y, w, h, width } => {
                if let Some(r) = Rect::from_xywh(x * k, y * k, w * k, h * k) {
                    let p = PathBuilder::from_rect(r);
                    let stroke = Stroke {
                        width: width * k,
                        ..Stroke::default()
                    };
                    pm.stroke_path(&p, &black, &stroke, Transform::identity(), None);
                }
            }
            Shape::Image { x, y, w, h, png } => {
                let img = Pixmap::decode_png(png)
                    .map_err(|e| LabelError::Render(format!("logo: {e}")))?;
                let t = Transform::from_row(
                    w * k / img.width() as f32,
                    0.0,
                    0.0,
                    h * k / img.height() as f32,
                    x * k,
                    y * k,
                );
                pm.draw_pixmap(0, 0, img.as_ref(), &PixmapPaint::default(), t, None);
            }
            Shape::Text {
                x,
                y,
                size,
                text,
                align,
            } => draw_text(&mut pm, text, *x * k, *y * k, size * k, *align),
        }
    }
    Ok(pm)
}

/// Draws black text with its baseline at `y` (pixels), `em` pixels tall.
pub fn draw_text(pm: &mut Pixmap, text: &str, x: f32, y: f32, em: f32, align: Align) {
    let Some(f) = font() else { return };
    let mut pen = text_start(text, x, em, align);
    let scale = px_scale(f, em);
    let (pw, ph) = (pm.width() as i32, pm.height() as i32);
    let data = pm.data_mut();
    for (id, advance) in glyphs(text, em) {
        let glyph = id.with_scale_and_position(scale, point(pen, y));
        if let Some(outline) = f.outline_glyph(glyph) {
            let b = outline.px_bounds();
            outline.draw(|gx, gy, c| {
                let (px, py) = (b.min.x as i32 + gx as i32, b.min.y as i32 + gy as i32);
                if px >= 0 && py >= 0 && px < pw && py < ph {
                    let i = ((py * pw + px) * 4) as usize;
                    let keep = 1.0 - c.clamp(0.0, 1.0);
                    for ch in &mut data[i..i + 3] {
                        *ch = (f32::from(*ch) * keep) as u8;
                    }
                }
            });
        }
        pen += advance;
    }
}

/// Encodes a pixmap as PNG.
pub fn encode(pm: &Pixmap) -> Result<Vec<u8>, LabelError> {
    pm.encode_png()
        .map_err(|e| LabelError::Render(format!("PNG: {e}")))
}
