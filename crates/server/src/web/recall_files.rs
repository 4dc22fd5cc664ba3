//! A recall's list as files: an XLSX workbook (contacts and affected objects, headers in the reader's
//! language, codes as text) and an A4 PDF (`suyuan_labels::document`).

use crate::web::i18n::Tr;
use crate::web::pages::friendly_time;
use suyuan_engine::recall::Recall;

/// The facts every file repeats: recall id, title, start, elapsed time to the list, state.
fn facts(r: &Recall, tr: Tr) -> Vec<(String, String)> {
    vec![
        (tr.t("recall.id").to_string(), r.id.clone()),
        (tr.t("recall.title_field").to_string(), r.title.clone()),
        (
            tr.t("recall.kind_field").to_string(),
            tr.t(if r.mock { "recall.mock" } else { "recall.real" })
                .to_string(),
        ),
        (
            tr.t("recall.started").to_string(),
            format!("{} · {}", friendly_time(&r.started.0), r.started.1),
        ),
        (
            tr.t("recall.listed_in").to_string(),
            format!("{:.1} s", r.listed_in_ms as f64 / 1000.0),
        ),
        (
            tr.t("recall.state").to_string(),
            match &r.closed {
                Some(c) => format!(
                    "{} {} · {}",
                    tr.t("recall.closed"),
                    friendly_time(&c.0),
                    c.2
                ),
                None => tr.t("recall.open").to_string(),
            },
        ),
    ]
}

fn contact_rows(r: &Recall, tr: Tr) -> Vec<Vec<String>> {
    r.contacts
        .iter()
        .map(|c| {
            vec![
                c.name.clone(),
                c.units.to_string(),
                c.logistic_units.to_string(),
                c.acknowledged
                    .as_ref()
                    .map(|a| format!("{} · {}", friendly_time(&a.0), a.1))
                    .unwrap_or_else(|| tr.t("recall.waiting").to_string()),
                c.holders.join("、"),
            ]
        })
        .collect()
}

fn contact_header(tr: Tr) -> [String; 5] {
    [
        tr.t("recall.col.holder").to_string(),
        tr.t("recall.col.units").to_string(),
        tr.t("recall.col.logistic_units").to_string(),
        tr.t("recall.col.acknowledged").to_string(),
        tr.t("recall.now_at").to_string(),
    ]
}

/// The workbook: a summary sheet with the contacts, and the affected objects (`rows`, header first).
pub fn xlsx(
    r: &Recall,
    rows: &[[String; 7]],
    tr: Tr,
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let sheet = wb.add_worksheet().set_name(tr.t("recall.sheet.summary"))?;
    let mut at = 0u32;
    for (k, v) in facts(r, tr) {
        sheet.write_string_with_format(at, 0, k, &bold)?;
        sheet.write_string(at, 1, v)?;
        at += 1;
    }
    at += 1;
    for (c, h) in contact_header(tr).iter().enumerate() {
        sheet.write_string_with_format(at, c as u16, h, &bold)?;
    }
    for row in contact_rows(r, tr) {
        at += 1;
        for (c, v) in row.iter().enumerate() {
            match v.parse::<f64>() {
                Ok(n) if c == 1 || c == 2 => sheet.write_number(at, c as u16, n)?,
                _ => sheet.write_string(at, c as u16, v)?,
            };
        }
    }
    sheet.set_column_width(0, 28)?;
    sheet.set_column_width(1, 24)?;
    let sheet = wb.add_worksheet().set_name(tr.t("recall.sheet.objects"))?;
    for (i, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            // Codes stay text: a spreadsheet would drop leading zeros and digits past 15.
            if i == 0 {
                sheet.write_string_with_format(0, c as u16, v, &bold)?;
            } else {
                sheet.write_string(i as u32, c as u16, v)?;
            }
        }
    }
    sheet.set_column_width(0, 22)?;
    sheet.set_column_width(4, 24)?;
    sheet.set_column_width(5, 24)?;
    wb.save_to_buffer()
}

/// The A4 PDF: facts, contacts, affected objects.
pub fn pdf(r: &Recall, rows: &[[String; 7]], tr: Tr) -> Result<Vec<u8>, suyuan_labels::LabelError> {
    use suyuan_labels::document::{Report, Table, report_pdf};
    let report = Report {
        title: format!("{} {} · {}", tr.t("recall.title"), r.id, r.title),
        facts: facts(r, tr),
        tables: vec![
            Table {
                heading: tr.t("recall.contacts").to_string(),
                columns: contact_header(tr)
                    .into_iter()
                    .zip([3.0, 1.0, 1.2, 2.2, 3.0])
                    .collect(),
                rows: contact_rows(r, tr),
            },
            Table {
                heading: tr.t("recall.objects").to_string(),
                columns: rows
                    .first()
                    .map(|h| {
                        h[..6]
                            .iter()
                            .cloned()
                            .zip([2.2, 1.0, 2.0, 1.3, 2.2, 2.2])
                            .collect()
                    })
                    .unwrap_or_default(),
                rows: rows.iter().skip(1).map(|r| r[..6].to_vec()).collect(),
            },
        ],
        footer: format!("{} · {}", tr.t("app.name"), r.id),
    };
    report_pdf(&report)
}
