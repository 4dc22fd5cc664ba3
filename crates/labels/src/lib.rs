//! Labels: barcodes and label templates rendered to SVG, PNG, PDF and ZPL II, and raw printing to port 9100.
//! Everything here is pure computation except [`print`], which opens a TCP connection.

pub mod document;
pub mod font;
pub mod pdf;
pub mod png;
pub mod print;
pub mod svg;
pub mod symbol;
pub mod template;
pub mod zpl;

pub use pdf::PageLayout;
pub use symbol::{Symbol, Symbology};
pub use template::{Field, LabelTemplate, Shape, Vars};

/// Why a barcode or label could not be produced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    /// The content does not fit the symbology.
    #[error("{symbology}: {msg}")]
    Content {
        /// Symbology name.
        symbology: &'static str,
        /// What is wrong.
        msg: String,
    },
    /// A template field is wrong.
    #[error("{field}: {msg}")]
    Template {
        /// Path of the field (`fields/2/size`).
        field: String,
        /// What is wrong.
        msg: String,
    },
    /// Rendering failed.
    #[error("rendering: {0}")]
    Render(String),
    /// The printer could not be reached or did not take the data.
    #[error("printer {0}")]
    Printer(String),
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// PDF (roll or sheets).
    Pdf,
    /// ZPL II.
    Zpl,
    /// PNG (first label only: a preview).
    Png,
    /// SVG (first label only: a preview).
    Svg,
}

impl Format {
    /// Media type.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Pdf => "application/pdf",
            Format::Zpl => "application/vnd.zebra.zpl",
            Format::Png => "image/png",
            Format::Svg => "image/svg+xml",
        }
    }

    /// File extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Zpl => "zpl",
            Format::Png => "png",
            Format::Svg => "svg",
        }
    }

    /// The format of a file name's extension or a format name.
    pub fn from_name(s: &str) -> Option<Format> {
        match s
            .rsplit('.')
            .next()
            .unwrap_or(s)
            .to_ascii_lowercase()
            .as_str()
        {
            "pdf" => Some(Format::Pdf),
            "zpl" => Some(Format::Zpl),
            "png" => Some(Format::Png),
            "svg" => Some(Format::Svg),
            _ => None,
        }
    }
}

/// Renders labels for every set of values; PNG and SVG render the first label (a preview).
pub fn render(
    template: &LabelTemplate,
    values: &[Vars],
    format: Format,
    layout: PageLayout,
) -> Result<Vec<u8>, LabelError> {
    let first = values
        .first()
        .ok_or_else(|| LabelError::Render("no labels to render".into()))?;
    let (w, h) = (template.width_mm, template.height_mm);
    match format {
        Format::Png => png::encode(&png::rasterize(
            &template.layout(first)?,
            w,
            h,
            template.dpi,
        )?),
        Format::Svg => Ok(svg::render(&template.layout(first)?, w, h).into_bytes()),
        Format::Pdf | Format::Zpl => {
            let shapes = layout_all(template, values)?;
            if format == Format::Pdf {
                pdf::render(&shapes, w, h, layout)
            } else {
                zpl::render(&shapes, w, h, template.dpi).map(String::into_bytes)
            }
        }
    }
}

/// Lays out one label per set of values, spread over the machine's cores (barcode encoding dominates).
pub fn layout_all(
    template: &LabelTemplate,
    values: &[Vars],
) -> Result<Vec<Vec<Shape>>, LabelError> {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    if threads < 2 || values.len() < 64 {
        return values.iter().map(|v| template.layout(v)).collect();
    }
    let chunk = values.len().div_ceil(threads);
    std::thread::scope(|s| {
        let parts: Vec<_> = values
            .chunks(chunk)
            .map(|c| {
                s.spawn(move || {
                    c.iter()
                        .map(|v| template.layout(v))
                        .collect::<Result<Vec<_>, _>>()
                })
            })
            .collect();
        let mut out = Vec::with_capacity(values.len());
        for p in parts {
            out.extend(
                p.join()
                    .map_err(|_| LabelError::Render("a layout thread panicked".into()))??,
            );
        }
        Ok(out)
    })
}

/// A demo template: 60 × 40 mm with the product name in Chinese and English, lot, serial, a QR Code carrying
/// the Digital Link and a GS1 DataMatrix.
pub fn demo_template() -> serde_json::Value {
    serde_json::json!({
        "width_mm": 60, "height_mm": 40, "dpi": 300,
        "description": "Unit label: names, lot, serial, QR (Digital Link) and GS1 DataMatrix",
        "fields": [
            {"type": "box", "x": 1, "y": 1, "w": 58, "h": 38, "width": 0.3},
            {"type": "text", "x": 3, "y": 6.5, "size": 4, "text": "{product_name}"},
            {"type": "text", "x": 3, "y": 10.5, "size": 2.5, "text": "{product_name_en}"},
            {"type": "line", "x1": 3, "y1": 12.5, "x2": 57, "y2": 12.5, "width": 0.25},
            {"type": "text", "x": 3, "y": 17, "size": 2.6, "text": "批号 LOT {lot}"},
            {"type": "text", "x": 3, "y": 21, "size": 2.4, "text": "序列号 SN {serial}"},
            {"type": "text", "x": 3, "y": 25, "size": 2.6, "text": "GTIN {gtin}"},
            {"type": "barcode", "x": 3, "y": 27, "symbology": "gs1_datamatrix", "content": "{element_string}", "size": 11},
            {"type": "barcode", "x": 38, "y": 14, "symbology": "qr", "content": "{dl}", "size": 20},
            {"type": "text", "x": 48, "y": 37.5, "size": 2, "text": "扫码溯源 Scan to trace", "align": "center"}
        ]
    })
}

/// Sample values for previews of the demo template and of any template using these names.
pub fn sample_vars() -> Vars {
    [
        ("product_name", "婴儿配方奶粉 1段 800g"),
        ("product_name_en", "Infant formula stage 1, 800 g"),
        ("gtin", "06901234567892"),
        ("lot", "L2611250A"),
        ("serial", "SH012611250000001"),
        ("code", "SH012611250000001"),
        (
            "dl",
            "https://id.gs1.org/01/06901234567892/10/L2611250A/21/SH012611250000001",
        ),
        (
            "uri",
            "https://id.gs1.org/01/06901234567892/21/SH012611250000001",
        ),
        (
            "element_string",
            "(01)06901234567892(10)L2611250A(21)SH012611250000001",
        ),
        ("date", "2026-11-25"),
        ("plant", "SH"),
        ("line", "L1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}
