//! A report as documents: the content (title, facts, tables with their headers in the reader's
//! language) as an A4 PDF (`suyuan_labels::document`) and as an XLSX workbook (a summary sheet, then one
//! sheet per table, codes and hashes as text). The batch quality report and the plant's own reports use it.

use crate::web::i18n::Tr;

/// One table of a report: heading, columns with their share of the page's width, rows.
pub struct Section {
    /// Heading.
    pub heading: String,
    /// Column titles and relative widths.
    pub columns: Vec<(String, f32)>,
    /// Rows, one text per column.
    pub rows: Vec<Vec<String>>,
    /// What the section says when it has no row.
    pub empty: String,
}

/// A report as text.
pub struct Content {
    /// Title.
    pub title: String,
    /// Label–value facts.
    pub facts: Vec<(String, String)>,
    /// Tables, in order.
    pub sections: Vec<Section>,
}

/// The A4 PDF.
pub fn pdf(c: &Content, tr: Tr) -> Result<Vec<u8>, suyuan_labels::LabelError> {
    use suyuan_labels::document::{Report, Table, report_pdf};
    report_pdf(&Report {
        title: c.title.clone(),
        facts: c.facts.clone(),
        tables: c
            .sections
            .iter()
            .map(|s| Table {
                heading: s.heading.clone(),
                columns: s.columns.clone(),
                rows: if s.rows.is_empty() && !s.empty.is_empty() {
                    vec![vec![s.empty.clone()]]
                } else {
                    s.rows.clone()
                },
            })
            .collect(),
        footer: format!("{} · {}", tr.t("app.name"), c.title),
    })
}

/// The workbook: a summary sheet with the facts, then one sheet per table (names cut to Excel's 31).
pub fn xlsx(c: &Content, tr: Tr) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let sheet = wb
        .add_worksheet()
        .set_name(tr.t("q.report.sheet.summary"))?;
    sheet.write_string_with_format(0, 0, &c.title, &bold)?;
    for (i, (k, v)) in c.facts.iter().enumerate() {
        sheet.write_string_with_format(i as u32 + 2, 0, k, &bold)?;
        sheet.write_string(i as u32 + 2, 1, v)?;
    }
    sheet.set_column_width(0, 24)?;
    sheet.set_column_width(1, 60)?;
    for (n, s) in c.sections.iter().enumerate() {
        let name: String = format!("{} {}", n + 1, s.heading)
            .chars()
            .take(31)
            .collect();
        let name = name.replace(['/', '\\', '?', '*', '[', ']', ':'], "·");
        let sheet = wb.add_worksheet().set_name(&name)?;
        for (col, (h, w)) in s.columns.iter().enumerate() {
            sheet.write_string_with_format(0, col as u16, h, &bold)?;
            sheet.set_column_width(col as u16, f64::from(*w) * 12.0)?;
        }
        for (i, row) in s.rows.iter().enumerate() {
            for (col, v) in row.iter().enumerate() {
                sheet.write_string(i as u32 + 1, col as u16, v)?;
            }
        }
    }
    wb.save_to_buffer()
}
