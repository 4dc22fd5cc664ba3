//! Label templates: a size in mm, a print resolution and fields placed in mm (text with `{variables}`,
//! barcodes, lines, boxes, a logo image). Laying a template out with values gives [`Shape`]s that every
//! output (SVG, PNG, PDF, ZPL) draws the same way.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::LabelError;
use crate::symbol::{self, Symbol, Symbology};

/// Horizontal alignment of text at its x position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Align {
    /// x is the left edge.
    #[default]
    Left,
    /// x is the centre.
    Center,
    /// x is the right edge.
    Right,
}

/// One field of a template. Positions and sizes are in mm from the label's top-left corner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum Field {
    /// Text; `y` is the baseline, `size` the font size in mm (cap height ≈ 0.7 × size).
    Text {
        /// Left, centre or right x.
        x: f32,
        /// Baseline.
        y: f32,
        /// Font size in mm.
        size: f32,
        /// Text with `{variable}` placeholders.
        text: String,
        /// Alignment.
        #[serde(default)]
        align: Align,
    },
    /// A barcode; 2D symbols are `size` mm square, linear ones `width` × `height` mm (bars) with their
    /// human-readable text below when `hri` is set.
    Barcode {
        /// Left edge (quiet zone included).
        x: f32,
        /// Top edge.
        y: f32,
        /// Symbology.
        symbology: Symbology,
        /// Content with `{variable}` placeholders.
        content: String,
        /// Side of a 2D symbol, quiet zone included.
        #[serde(default)]
        size: Option<f32>,
        /// Width of a linear symbol, quiet zones included.
        #[serde(default)]
        width: Option<f32>,
        /// Bar height of a linear symbol.
        #[serde(default)]
        height: Option<f32>,
        /// Print the human-readable interpretation under a linear symbol.
        #[serde(default = "yes")]
        hri: bool,
    },
    /// A straight line.
    Line {
        /// Start x.
        x1: f32,
        /// Start y.
        y1: f32,
        /// End x.
        x2: f32,
        /// End y.
        y2: f32,
        /// Stroke width.
        #[serde(default = "thin")]
        width: f32,
    },
    /// A rectangle outline.
    Box {
        /// Left.
        x: f32,
        /// Top.
        y: f32,
        /// Width.
        w: f32,
        /// Height.
        h: f32,
        /// Stroke width.
        #[serde(default = "thin")]
        width: f32,
    },
    /// A PNG image (a logo), scaled to `w` × `h`.
    Image {
        /// Left.
        x: f32,
        /// Top.
        y: f32,
        /// Width.
        w: f32,
        /// Height.
        h: f32,
        /// The PNG file, base64.
        png_base64: String,
    },
}

fn yes() -> bool {
    true
}

fn thin() -> f32 {
    0.3
}

/// A label template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelTemplate {
    /// Label width in mm.
    pub width_mm: f32,
    /// Label height in mm.
    pub height_mm: f32,
    /// Printer resolution (dots per inch) for PNG and ZPL output.
    #[serde(default = "default_dpi")]
    pub dpi: u32,
    /// What the template is for.
    #[serde(default)]
    pub description: Option<String>,
    /// The fields, drawn in order.
    pub fields: Vec<Field>,
}

fn default_dpi() -> u32 {
    300
}

/// Values for a template's `{variables}`.
pub type Vars = BTreeMap<String, String>;

/// A drawing instruction in mm.
#[derive(Debug, Clone)]
pub enum Shape {
    /// Text; `y` is the baseline.
    Text {
        /// Anchor x.
        x: f32,
        /// Baseline.
        y: f32,
        /// Font size in mm.
        size: f32,
        /// The text.
        text: String,
        /// Alignment at x.
        align: Align,
    },
    /// A barcode's dark modules, each `module_w` × `module_h` mm, from (`x`, `y`) (quiet zone excluded).
    Modules {
        /// Left of the first module.
        x: f32,
        /// Top.
        y: f32,
        /// Module width.
        module_w: f32,
        /// Module (row) height.
        module_h: f32,
        /// The symbol.
        symbol: Arc<Symbol>,
    },
    /// A line.
    Line {
        /// Start x.
        x1: f32,
        /// Start y.
        y1: f32,
        /// End x.
        x2: f32,
        /// End y.
        y2: f32,
        /// Stroke width.
        width: f32,
    },
    /// A rectangle outline.
    Rect {
        /// Left.
        x: f32,
        /// Top.
        y: f32,
        /// Width.
        w: f32,
        /// Height.
        h: f32,
        /// Stroke width.
        width: f32,
    },
    /// A PNG image.
    Image {
        /// Left.
        x: f32,
        /// Top.
        y: f32,
        /// Width.
        w: f32,
        /// Height.
        h: f32,
        /// PNG bytes.
        png: Arc<Vec<u8>>,
    },
}

/// Replaces `{name}` placeholders; `{{` and `}}` stand for braces. Unknown names are an error naming them.
pub fn fill(text: &str, vars: &Vars) -> Result<String, String> {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let r = &rest[i..];
        if r.starts_with("{{") || r.starts_with("}}") {
            out.push_str(&r[..1]);
            rest = &r[2..];
            continue;
        }
        if r.starts_with('}') {
            return Err("'}' without '{' (write '}}' for a brace)".into());
        }
        let end = r.find('}').ok_or("unclosed '{'")?;
        let name = &r[1..end];
        match vars.get(name) {
            Some(v) => out.push_str(v),
            None => {
                return Err(format!(
                    "unknown variable {{{name}}}; known: {}",
                    vars.keys()
                        .map(|k| format!("{{{k}}}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                ));
            }
        }
        rest = &r[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

impl LabelTemplate {
    /// Parses and checks a template (sizes, positions inside the label, images).
    pub fn from_json(v: &serde_json::Value) -> Result<LabelTemplate, LabelError> {
        let t: LabelTemplate =
            serde_json::from_value(v.clone()).map_err(|e| LabelError::Template {
                field: String::new(),
                msg: e.to_string(),
            })?;
        t.check()?;
        Ok(t)
    }

    /// Checks sizes and positions; every message names the field (`fields/2/size`).
    pub fn check(&self) -> Result<(), LabelError> {
        let err = |field: String, msg: String| LabelError::Template { field, msg };
        if !(5.0..=300.0).contains(&self.width_mm) || !(5.0..=500.0).contains(&self.height_mm) {
            return Err(err(
                "width_mm".into(),
                format!(
                    "a label is 5 to 300 mm wide and 5 to 500 mm high, got {} × {}",
                    self.width_mm, self.height_mm
                ),
            ));
        }
        if ![150, 203, 300, 600].contains(&self.dpi) {
            return Err(err(
                "dpi".into(),
                format!("printers print 150, 203, 300 or 600 dpi, got {}", self.dpi),
            ));
        }
        let (w, h) = (self.width_mm, self.height_mm);
        let inside = |x: f32, y: f32| (0.0..=w).contains(&x) && (0.0..=h).contains(&y);
        for (i, f) in self.fields.iter().enumerate() {
            let at = |k: &str| format!("fields/{i}/{k}");
            match f {
                Field::Text { x, y, size, .. } => {
                    if !inside(*x, *y) {
                        return Err(err(
                            at("x"),
                            format!("({x}, {y}) is outside the {w} × {h} mm label"),
                        ));
                    }
                    if !(0.8..=50.0).contains(size) {
                        return Err(err(at("size"), format!("0.8 to 50 mm, got {size}")));
                    }
                }
                Field::Barcode {
                    x,
                    y,
                    symbology,
                    size,
                    width,
                    height,
                    ..
                } => {
                    if !inside(*x, *y) {
                        return Err(err(
                            at("x"),
                            format!("({x}, {y}) is outside the {w} × {h} mm label"),
                        ));
                    }
                    if symbology.is_2d() {
                        let s = size.ok_or_else(|| {
                            err(at("size"), "required for a 2D symbol (mm)".into())
                        })?;
                        if !(4.0..=200.0).contains(&s) || x + s > w + 0.01 || y + s > h + 0.01 {
                            return Err(err(
                                at("size"),
                                format!("{s} mm does not fit the label from ({x}, {y})"),
                            ));
                        }
                    } else {
                        let bw = width.ok_or_else(|| {
                            err(at("width"), "required for a linear symbol (mm)".into())
                        })?;
                        let bh = height.ok_or_else(|| {
                            err(at("height"), "required for a linear symbol (mm)".into())
                        })?;
                        if x + bw > w + 0.01 || y + bh > h + 0.01 || bw < 10.0 || bh < 3.0 {
                            return Err(err(
                                at("width"),
                                format!("{bw} × {bh} mm does not fit the label from ({x}, {y})"),
                            ));
                        }
                    }
                }
                Field::Line {
                    x1,
                    y1,
                    x2,
                    y2,
                    width,
                } => {
                    if !inside(*x1, *y1) || !inside(*x2, *y2) || !(0.05..=5.0).contains(width) {
                        return Err(err(
                            at("x1"),
                            "the line must lie inside the label, 0.05 to 5 mm wide".into(),
                        ));
                    }
                }
                Field::Box {
                    x,
                    y,
                    w: bw,
                    h: bh,
                    width,
                } => {
                    if !inside(*x, *y) || !inside(x + bw, y + bh) || !(0.05..=5.0).contains(width) {
                        return Err(err(
                            at("x"),
                            "the box must lie inside the label, its line 0.05 to 5 mm".into(),
                        ));
                    }
                }
                Field::Image {
                    x,
                    y,
                    w: iw,
                    h: ih,
                    png_base64,
                } => {
                    if !inside(*x, *y) || !inside(x + iw, y + ih) {
                        return Err(err(at("x"), "the image must lie inside the label".into()));
                    }
                    let png = base64::engine::general_purpose::STANDARD
                        .decode(png_base64.trim())
                        .map_err(|e| err(at("png_base64"), format!("not base64: {e}")))?;
                    if tiny_skia::Pixmap::decode_png(&png).is_err() {
                        return Err(err(at("png_base64"), "not a PNG image".into()));
                    }
                }
            }
        }
        Ok(())
    }

    /// Lays out the template with `vars`: texts filled in, barcodes encoded and fitted to their boxes.
    pub fn layout(&self, vars: &Vars) -> Result<Vec<Shape>, LabelError> {
        let mut out = Vec::with_capacity(self.fields.len() + 2);
        for (i, f) in self.fields.iter().enumerate() {
            let located = |msg: String| LabelError::Template {
                field: format!("fields/{i}"),
                msg,
            };
            match f {
                Field::Text {
                    x,
                    y,
                    size,
                    text,
                    align,
                } => out.push(Shape::Text {
                    x: *x,
                    y: *y,
                    size: *size,
                    text: fill(text, vars).map_err(located)?,
                    align: *align,
                }),
                Field::Barcode {
                    x,
                    y,
                    symbology,
                    content,
                    size,
                    width,
                    height,
                    hri,
                } => {
                    let content = fill(content, vars).map_err(located)?;
                    let sym =
                        symbol::encode(*symbology, &content).map_err(|e| located(e.to_string()))?;
                    let q = symbology.quiet_zone() as f32;
                    let sym = Arc::new(sym);
                    if symbology.is_2d() {
                        let side = size.unwrap_or(20.0);
                        let m = side / (sym.width.max(sym.height) as f32 + 2.0 * q);
                        out.push(Shape::Modules {
                            x: x + q * m,
                            y: y + q * m,
                            module_w: m,
                            module_h: m,
                            symbol: sym,
                        });
                    } else {
                        let (bw, bh) = (width.unwrap_or(40.0), height.unwrap_or(12.0));
                        let m = bw / (sym.width as f32 + 2.0 * q);
                        let text_h = if *hri { (m * 9.0).clamp(1.6, 3.5) } else { 0.0 };
                        let bars = (bh - text_h * 1.15).max(bh * 0.5);
                        out.push(Shape::Modules {
                            x: x + q * m,
                            y: *y,
                            module_w: m,
                            module_h: bars,
                            symbol: sym.clone(),
                        });
                        if *hri {
                            out.push(Shape::Text {
                                x: x + bw / 2.0,
                                y: y + bh - text_h * 0.1,
                                size: text_h,
                                text: sym.hri.clone(),
                                align: Align::Center,
                            });
                        }
                    }
                }
                Field::Line {
                    x1,
                    y1,
                    x2,
                    y2,
                    width,
                } => out.push(Shape::Line {
                    x1: *x1,
                    y1: *y1,
                    x2: *x2,
                    y2: *y2,
                    width: *width,
                }),
                Field::Box { x, y, w, h, width } => out.push(Shape::Rect {
                    x: *x,
                    y: *y,
                    w: *w,
                    h: *h,
                    width: *width,
                }),
                Field::Image {
                    x,
                    y,
                    w,
                    h,
                    png_base64,
                } => {
                    let png = base64::engine::general_purpose::STANDARD
                        .decode(png_base64.trim())
                        .map_err(|e| located(format!("png_base64: {e}")))?;
                    out.push(Shape::Image {
                        x: *x,
                        y: *y,
                        w: *w,
                        h: *h,
                        png: Arc::new(png),
                    });
                }
            }
        }
        Ok(out)
    }

    /// The variables the template uses, in order of first use.
    pub fn variables(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for f in &self.fields {
            let text = match f {
                Field::Text { text, .. } => text,
                Field::Barcode { content, .. } => content,
                _ => continue,
            };
            let mut rest = text.as_str();
            while let Some(i) = rest.find('{') {
                let r = &rest[i + 1..];
                if let Some(stripped) = r.strip_prefix('{') {
                    rest = stripped;
                    continue;
                }
                let Some(end) = r.find('}') else { break };
                let name = r[..end].to_string();
                if !out.contains(&name) {
                    out.push(name);
                }
                rest = &r[end + 1..];
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_filled_and_unknown_ones_named() {
        let vars: Vars = [("lot".to_string(), "L7".to_string())].into();
        assert_eq!(
            fill("批号 {lot} {{x}}", &vars).expect("fill"),
            "批号 L7 {x}"
        );
        assert_eq!(
            fill("{lott}", &vars).expect_err("unknown"),
            "unknown variable {lott}; known: {lot}"
        );
    }
}
