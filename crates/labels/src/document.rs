//! Printable A4 reports as PDF (recall lists, trace reports): a title, a block of facts, and sections of
//! tables that run over as many pages as they need, each page numbered. Text uses the embedded CJK font,
//! subset into the file; a cell too long for its column is cut with an ellipsis.

use krilla::Document;
use krilla::geom::{PathBuilder, Point};
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};

use crate::LabelError;
use crate::font::{FONT_BYTES, text_width};

const PT_PER_MM: f32 = 72.0 / 25.4;
const PAGE_W: f32 = 210.0;
const PAGE_H: f32 = 297.0;
const MARGIN: f32 = 14.0;
const BODY: f32 = 3.2;
const LINE: f32 = 5.4;

/// One table: a heading, its columns (title and share of the width), its rows.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// Heading above the table.
    pub heading: String,
    /// Column titles and relative widths.
    pub columns: Vec<(String, f32)>,
    /// Rows, one string per column.
    pub rows: Vec<Vec<String>>,
}

/// A report: title, facts (label, value), tables, and a footer line on every page.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Title on the first page.
    pub title: String,
    /// Label–value lines under the title.
    pub facts: Vec<(String, String)>,
    /// Tables, in order.
    pub tables: Vec<Table>,
    /// Footer text (the page number is added).
    pub footer: String,
}

/// `text` cut to fit `width` mm at `em` mm, with an ellipsis when cut.
fn fit(text: &str, width: f32, em: f32) -> String {
    if text_width(text, em) <= width {
        return text.to_string();
    }
    let mut out = String::new();
    for c in text.chars() {
        out.push(c);
        if text_width(&out, em) + text_width("…", em) > width {
            out.pop();
            break;
        }
    }
    out.push('…');
    out
}

/// What a page holds, laid out before drawing (so that pages can say "n / N").
enum Item {
    Text {
        x: f32,
        y: f32,
        em: f32,
        text: String,
        grey: bool,
    },
    Rule {
        y: f32,
    },
}

fn layout(r: &Report) -> Vec<Vec<Item>> {
    let width = PAGE_W - 2.0 * MARGIN;
    let bottom = PAGE_H - MARGIN - 8.0;
    let mut pages: Vec<Vec<Item>> = vec![Vec::new()];
    let mut y = MARGIN + 6.0;
    pages[0].push(Item::Text {
        x: MARGIN,
        y,
        em: 6.0,
        text: fit(&r.title, width, 6.0),
        grey: false,
    });
    y += 9.0;
    for (k, v) in &r.facts {
        pages[0].push(Item::Text {
            x: MARGIN,
            y,
            em: BODY,
            text: fit(k, 45.0, BODY),
            grey: true,
        });
        pages[0].push(Item::Text {
            x: MARGIN + 48.0,
            y,
            em: BODY,
            text: fit(v, width - 48.0, BODY),
            grey: false,
        });
        y += LINE;
    }
    for t in &r.tables {
        let total: f32 = t.columns.iter().map(|c| c.1).sum::<f32>().max(1.0);
        let xs: Vec<(f32, f32)> = t
            .columns
            .iter()
            .scan(MARGIN, |x, c| {
                let w = width * c.1 / total;
                let at = *x;
                *x += w;
                Some((at, w - 2.0))
            })
            .collect();
        let header = |page: &mut Vec<Item>, y: f32| {
            for ((title, _), (x, w)) in t.columns.iter().zip(&xs) {
                page.push(Item::Text {
                    x: *x,
                    y,
                    em: BODY,
                    text: fit(title, *w, BODY),
                    grey: true,
                });
            }
            page.push(Item::Rule { y: y + 1.6 });
        };
        y += 5.0;
        if y + 3.0 * LINE > bottom {
            pages.push(Vec::new());
            y = MARGIN + 6.0;
        }
        let last = pages.len() - 1;
        pages[last].push(Item::Text {
            x: MARGIN,
            y,
            em: 4.2,
            text: fit(&t.heading, width, 4.2),
            grey: false,
        });
        y += 7.0;
        header(&mut pages[last], y);
        y += LINE + 0.6;
        for row in &t.rows {
            if y > bottom {
                pages.push(Vec::new());
                y = MARGIN + 6.0;
                let last = pages.len() - 1;
                header(&mut pages[last], y);
                y += LINE + 0.6;
            }
            let last = pages.len() - 1;
            for (cell, (x, w)) in row.iter().zip(&xs) {
                pages[last].push(Item::Text {
                    x: *x,
                    y,
                    em: BODY,
                    text: fit(cell, *w, BODY),
                    grey: false,
                });
            }
            y += LINE;
        }
    }
    pages
}

fn draw_text(s: &mut Surface<'_>, font: &Font, x: f32, y: f32, em: f32, text: &str, grey: bool) {
    s.set_stroke(None);
    let fill = if grey {
        Fill {
            paint: krilla::color::rgb::Color::new(90, 100, 115).into(),
            ..Fill::default()
        }
    } else {
        Fill::default()
    };
    s.set_fill(Some(fill));
    s.draw_text(
        Point::from_xy(x * PT_PER_MM, y * PT_PER_MM),
        font.clone(),
        em * PT_PER_MM,
        text,
        false,
        TextDirection::Auto,
    );
}

/// Renders the report as an A4 PDF.
pub fn report_pdf(r: &Report) -> Result<Vec<u8>, LabelError> {
    let font = Font::new(FONT_BYTES.into(), 0)
        .ok_or_else(|| LabelError::Render("the embedded font cannot be loaded".into()))?;
    let settings = PageSettings::from_wh(PAGE_W * PT_PER_MM, PAGE_H * PT_PER_MM)
        .ok_or_else(|| LabelError::Render("invalid page size".into()))?;
    let pages = layout(r);
    let count = pages.len();
    let mut doc = Document::new();
    for (n, items) in pages.into_iter().enumerate() {
        let mut page = doc.start_page_with(settings.clone());
        let mut s = page.surface();
        for item in items {
            match item {
                Item::Text {
                    x,
                    y,
                    em,
                    text,
                    grey,
                } => draw_text(&mut s, &font, x, y, em, &text, grey),
                Item::Rule { y } => {
                    let mut pb = PathBuilder::new();
                    pb.move_to(MARGIN * PT_PER_MM, y * PT_PER_MM);
                    pb.line_to((PAGE_W - MARGIN) * PT_PER_MM, y * PT_PER_MM);
                    if let Some(p) = pb.finish() {
                        s.set_fill(None);
                        s.set_stroke(Some(Stroke {
                            width: 0.5,
                            ..Stroke::default()
                        }));
                        s.draw_path(&p);
                    }
                }
            }
        }
        let footer = format!("{} · {}/{}", r.footer, n + 1, count);
        draw_text(
            &mut s,
            &font,
            MARGIN,
            PAGE_H - MARGIN,
            2.6,
            &fit(&footer, PAGE_W - 2.0 * MARGIN, 2.6),
            true,
        );
        s.finish();
        page.finish();
    }
    doc.finish()
        .map_err(|e| LabelError::Render(format!("PDF: {e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_table_runs_over_numbered_pages() {
        let r = Report {
            title: "召回 R-20261012-1 / Recall".into(),
            facts: vec![("开始".into(), "2026-10-12 08:30".into())],
            tables: vec![Table {
                heading: "受影响对象".into(),
                columns: vec![("编码".into(), 2.0), ("位置".into(), 1.0)],
                rows: (0..120)
                    .map(|i| vec![format!("SH{i:06}"), "广州母婴商贸 配送中心".into()])
                    .collect(),
            }],
            footer: "溯源".into(),
        };
        assert_eq!(layout(&r).len(), 3, "120 rows need three pages");
        let pdf = report_pdf(&r).expect("pdf");
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(
            pdf.len() < 400_000,
            "the font is subset: {} bytes",
            pdf.len()
        );
        assert_eq!(
            fit("一二三四五六七八九十", 10.0, 3.0).chars().last(),
            Some('…')
        );
    }
}
