//! SVG output: one `<svg>` per label in mm units, barcode modules as a single path.

use std::fmt::Write as _;

use base64::Engine as _;

use ab_glyph::{Font, OutlineCurve};

use crate::font::{font, glyphs, text_start};
use crate::template::Shape;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Appends the outlines of `text` (baseline at `y`, font size `em`, all in mm) as path data.
fn text_path(s: &mut String, text: &str, x: f32, y: f32, em: f32) {
    let Some(f) = font() else { return };
    let k = em / f.units_per_em().unwrap_or(1000.0);
    let mut pen = x;
    for (id, advance) in glyphs(text, em) {
        if let Some(outline) = f.outline(id) {
            let p = |pt: ab_glyph::Point| (pen + pt.x * k, y - pt.y * k);
            let mut at: Option<(f32, f32)> = None;
            for c in &outline.curves {
                let (p0, rest): (_, Vec<ab_glyph::Point>) = match c {
                    OutlineCurve::Line(a, b) => (*a, vec![*b]),
                    OutlineCurve::Quad(a, b, c2) => (*a, vec![*b, *c2]),
                    OutlineCurve::Cubic(a, b, c2, d) => (*a, vec![*b, *c2, *d]),
                };
                let start = p(p0);
                if at.is_none_or(|(ax, ay)| {
                    (ax - start.0).abs() > 1e-4 || (ay - start.1).abs() > 1e-4
                }) {
                    let _ = write!(s, "M{:.3} {:.3}", start.0, start.1);
                }
                s.push(match rest.len() {
                    1 => 'L',
                    2 => 'Q',
                    _ => 'C',
                });
                for (i, pt) in rest.iter().enumerate() {
                    let (px, py) = p(*pt);
                    let _ = write!(s, "{}{px:.3} {py:.3}", if i > 0 { " " } else { "" });
                }
                at = rest.last().map(|pt| p(*pt));
            }
        }
        pen += advance;
    }
}

/// Draws shapes on a `w` × `h` mm label.
pub fn render(shapes: &[Shape], w: f32, h: f32) -> String {
    let mut s = String::with_capacity(4096);
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}mm" height="{h}mm" viewBox="0 0 {w} {h}"><rect width="{w}" height="{h}" fill="#fff"/>"##
    );
    for shape in shapes {
        match shape {
            Shape::Text {
                x,
                y,
                size,
                text,
                align,
            } => {
                // Glyph outlines as paths: the label looks the same in any viewer, installed fonts or not.
                let start = text_start(text, *x, *size, *align);
                let _ = write!(s, r##"<path fill="#000" aria-label="{}" d=""##, esc(text));
                text_path(&mut s, text, start, *y, *size);
                s.push_str(r#""/>"#);
            }
            Shape::Modules {
                x,
                y,
                module_w,
                module_h,
                symbol,
            } => {
                s.push_str(r##"<path fill="#000" shape-rendering="crispEdges" d=""##);
                for (row, col, len) in symbol.runs() {
                    let _ = write!(
                        s,
                        "M{:.4} {:.4}h{:.4}v{:.4}h-{:.4}z",
                        x + col as f32 * module_w,
                        y + row as f32 * module_h,
                        len as f32 * module_w,
                        module_h,
                        len as f32 * module_w
                    );
                }
                s.push_str(r#""/>"#);
            }
            Shape::Line {
                x1,
                y1,
                x2,
                y2,
                width,
            } => {
                let _ = write!(
                    s,
                    r##"<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#000" stroke-width="{width}"/>"##
                );
            }
            Shape::Rect { x, y, w, h, width } => {
                let _ = write!(
                    s,
                    r##"<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="none" stroke="#000" stroke-width="{width}"/>"##
                );
            }
            Shape::Image { x, y, w, h, png } => {
                let _ = write!(
                    s,
                    r#"<image x="{x}" y="{y}" width="{w}" height="{h}" href="data:image/png;base64,{}"/>"#,
                    base64::engine::general_purpose::STANDARD.encode(png.as_slice())
                );
            }
        }
    }
    s.push_str("</svg>");
    s
}
