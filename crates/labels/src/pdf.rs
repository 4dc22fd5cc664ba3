//! PDF output with krilla: one label per page for roll printers, or N-up on sheets; the embedded font is
//! subset into the file, so Chinese text prints on any PDF viewer or RIP.

use std::sync::LazyLock;

use krilla::Document;
use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
use krilla::image::Image;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use serde::{Deserialize, Serialize};

use crate::LabelError;
use crate::font::{FONT_BYTES, text_start};
use crate::template::Shape;

const PT_PER_MM: f32 = 72.0 / 25.4;

static PDF_FONT: LazyLock<Option<Font>> = LazyLock::new(|| Font::new(FONT_BYTES.into(), 0));

/// How labels are placed on pages.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum PageLayout {
    /// One label per page, page size = label size (roll printers).
    #[default]
    Roll,
    /// Labels in a grid on sheets.
    Sheet {
        /// Sheet width in mm (A4: 210).
        width_mm: f32,
        /// Sheet height in mm (A4: 297).
        height_mm: f32,
        /// Columns.
        columns: u32,
        /// Rows.
        rows: u32,
        /// Left and top margin in mm.
        margin_mm: f32,
        /// Gap between labels in mm.
        gap_mm: f32,
    },
}

impl PageLayout {
    /// An A4 sheet with as many labels of `w` × `h` mm as fit with 8 mm margins and 2 mm gaps.
    pub fn a4_for(w: f32, h: f32) -> PageLayout {
        let fit =
            |total: f32, size: f32| (((total - 16.0 + 2.0) / (size + 2.0)).floor() as u32).max(1);
        PageLayout::Sheet {
            width_mm: 210.0,
            height_mm: 297.0,
            columns: fit(210.0, w),
            rows: fit(297.0, h),
            margin_mm: 8.0,
            gap_mm: 2.0,
        }
    }
}

fn black() -> Fill {
    Fill::default()
}

/// Renders every label's shapes (`w` × `h` mm each) into one PDF.
pub fn render(
    labels: &[Vec<Shape>],
    w: f32,
    h: f32,
    layout: PageLayout,
) -> Result<Vec<u8>, LabelError> {
    let font = PDF_FONT
        .clone()
        .ok_or_else(|| LabelError::Render("the embedded font cannot be loaded".into()))?;
    let mut doc = Document::new();
    let (page_w, page_h, per_page, columns, margin, gap) = match layout {
        PageLayout::Roll => (w, h, 1usize, 1u32, 0.0, 0.0),
        PageLayout::Sheet {
            width_mm,
            height_mm,
            columns,
            rows,
            margin_mm,
            gap_mm,
        } => {
            if columns == 0 || rows == 0 {
                return Err(LabelError::Render(
                    "a sheet has at least one column and row".into(),
                ));
            }
            let need_w = 2.0 * margin_mm + columns as f32 * w + (columns - 1) as f32 * gap_mm;
            let need_h = 2.0 * margin_mm + rows as f32 * h + (rows - 1) as f32 * gap_mm;
            if need_w > width_mm + 0.01 || need_h > height_mm + 0.01 {
                return Err(LabelError::Render(format!(
                    "{columns} × {rows} labels of {w} × {h} mm need {need_w:.1} × {need_h:.1} mm, the sheet is {width_mm} × {height_mm} mm"
                )));
            }
            (
                width_mm,
                height_mm,
                (columns * rows) as usize,
                columns,
                margin_mm,
                gap_mm,
            )
        }
    };
    let settings = PageSettings::from_wh(page_w * PT_PER_MM, page_h * PT_PER_MM)
        .ok_or_else(|| LabelError::Render("invalid page size".into()))?;
    for chunk in labels.chunks(per_page) {
        let mut page = doc.start_page_with(settings.clone());
        let mut surface = page.surface();
        for (i, shapes) in chunk.iter().enumerate() {
            let (col, row) = (i as u32 % columns, i as u32 / columns);
            let ox = margin + col as f32 * (w + gap);
            let oy = margin + row as f32 * (h + gap);
            surface.push_transform(&Transform::from_row(
                PT_PER_MM,
                0.0,
                0.0,
                PT_PER_MM,
                ox * PT_PER_MM,
                oy * PT_PER_MM,
            ));
            draw(&mut surface, shapes, &font)?;
            surface.pop();
        }
        surface.finish();
        page.finish();
    }
    doc.finish()
        .map_err(|e| LabelError::Render(format!("PDF: {e:?}")))
}

/// Strokes the path built in `pb` with a black line `width` wide.
fn stroke(s: &mut Surface<'_>, pb: PathBuilder, width: f32) {
    if let Some(p) = pb.finish() {
        s.set_fill(None);
        s.set_stroke(Some(Stroke {
            width,
            ..Stroke::default()
        }));
        s.draw_path(&p);
    }
}

/// Draws one label in mm coordinates.
fn draw(s: &mut Surface<'_>, shapes: &[Shape], font: &Font) -> Result<(), LabelError> {
    for shape in shapes {
        match shape {
            Shape::Modules {
                x,
                y,
                module_w,
                module_h,
                symbol,
            } => {
                // Module units under a transform: whole numbers in the content stream, which compress well.
                let mut pb = PathBuilder::new();
                for (row, col, len) in symbol.runs() {
                    if let Some(r) = Rect::from_xywh(col as f32, row as f32, len as f32, 1.0) {
                        pb.push_rect(r);
                    }
                }
                if let Some(p) = pb.finish() {
                    s.set_stroke(None);
                    s.set_fill(Some(black()));
                    s.push_transform(&Transform::from_row(*module_w, 0.0, 0.0, *module_h, *x, *y));
                    s.draw_path(&p);
                    s.pop();
                }
            }
            Shape::Text {
                x,
                y,
                size,
                text,
                align,
            } => {
                let start = text_start(text, *x, *size, *align);
                s.set_stroke(None);
                s.set_fill(Some(black()));
                s.draw_text(
                    Point::from_xy(start, *y),
                    font.clone(),
                    *size,
                    text,
                    false,
                    TextDirection::Auto,
                );
            }
            Shape::Line {
                x1,
                y1,
                x2,
                y2,
                width,
            } => {
                let mut pb = PathBuilder::new();
                pb.move_to(*x1, *y1);
                pb.line_to(*x2, *y2);
                stroke(s, pb, *width);
            }
            Shape::Rect { x, y, w, h, width } => {
                let mut pb = PathBuilder::new();
                if let Some(r) = Rect::from_xywh(*x, *y, *w, *h) {
                    pb.push_rect(r);
                }
                stroke(s, pb, *width);
            }
            Shape::Image { x, y, w, h, png } => {
                let img = Image::from_png(png.clone().into(), true)
                    .map_err(|e| LabelError::Render(format!("logo: {e}")))?;
                if let Some(size) = Size::from_wh(*w, *h) {
                    s.push_transform(&Transform::from_translate(*x, *y));
                    s.draw_image(img, size);
                    s.pop();
                }
            }
        }
    }
    Ok(())
}
