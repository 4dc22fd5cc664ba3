//! SVG output: one `<svg>` per label in mm units, barcode modules as a single path.

use std::fmt::Write as _;

use base64::Engine as _;

use crate::font::FONT_FAMILY;
use crate::template::{Align, Shape};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Draws shapes on a `w` × `h` mm label.
pub fn render(shapes: &[Shape], w: f32, h: f32) -> String {
    let mut s = String::with_capacity(4096);
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}mm" height="{h}mm" viewBox="0 0 {w} {h}" shape-rendering="crispEdges"><rect width="{w}" height="{h}" fill="#fff"/>"##
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
                let anchor = match align {
                    Align::Left => "start",
                    Align::Center => "middle",
                    Align::Right => "end",
                };
                let _ = write!(
                    s,
                    r##"<text x="{x}" y="{y}" font-size="{size}" font-family="{}" text-anchor="{anchor}" fill="#000">{}</text>"##,
                    esc(FONT_FAMILY),
                    esc(text)
                );
            }
            Shape::Modules {
                x,
                y,
                module_w,
                module_h,
                symbol,
            } => {
                s.push_str(r##"<path fill="#000" d=""##);
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
