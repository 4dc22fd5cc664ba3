//! Bulk import of master data from CSV or XLSX: the file is read into rows, each row is checked as the API
//! checks one record, and the answer lists every bad row and column (row number as the spreadsheet shows it,
//! the column's heading, what was expected). Nothing is imported until the whole file is clean.

use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::HashSet;

use crate::kinds::{FieldProblem, Kind};

/// Why a file could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Neither CSV nor XLSX, or damaged.
    #[error("the file cannot be read as {format}: {reason}")]
    Unreadable {
        /// The format tried.
        format: &'static str,
        /// What went wrong.
        reason: String,
    },
    /// The file holds no heading row.
    #[error("the file is empty: the first row must hold the column headings")]
    Empty,
    /// More rows than one import takes.
    #[error("the file holds {0} rows; one import takes at most {MAX_ROWS}")]
    TooLarge(usize),
}

/// Most data rows one import takes.
pub const MAX_ROWS: usize = 50_000;

/// A file read into text cells: the heading row and the data rows (with their row numbers, 1 = headings).
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// The headings.
    pub headings: Vec<String>,
    /// `(row number, cells)`.
    pub rows: Vec<(usize, Vec<String>)>,
}

impl Table {
    /// Reads CSV (UTF-8, a byte order mark allowed; `,` `;` or tab separated) or, when the bytes are a zip
    /// archive, the first sheet of an XLSX workbook.
    pub fn read(bytes: &[u8]) -> Result<Table, ImportError> {
        let table = if bytes.starts_with(b"PK\x03\x04") {
            read_xlsx(bytes)?
        } else {
            read_csv(bytes)?
        };
        if table.headings.iter().all(|h| h.is_empty()) {
            return Err(ImportError::Empty);
        }
        if table.rows.len() > MAX_ROWS {
            return Err(ImportError::TooLarge(table.rows.len()));
        }
        Ok(table)
    }
}

fn read_csv(bytes: &[u8]) -> Result<Table, ImportError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| ImportError::Unreadable {
        format: "CSV",
        reason: format!("not UTF-8 text ({e}); save the sheet as 'CSV UTF-8'"),
    })?;
    let first = text.lines().next().unwrap_or("");
    let delimiter = [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|d| first.bytes().filter(|b| b == d).count())
        .unwrap_or(b',');
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut table = Table::default();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| ImportError::Unreadable {
            format: "CSV",
            reason: format!("row {}: {e}", i + 1),
        })?;
        let cells: Vec<String> = record.iter().map(|c| c.trim().to_string()).collect();
        if i == 0 {
            table.headings = cells;
        } else if cells.iter().any(|c| !c.is_empty()) {
            table.rows.push((i + 1, cells));
        }
    }
    Ok(table)
}

/// Most columns a sheet may use: a cell beyond it is a damaged or hostile file, not a master data sheet.
pub const MAX_COLUMNS: u32 = 1_000;

fn xlsx_unreadable(reason: impl Into<String>) -> ImportError {
    ImportError::Unreadable {
        format: "XLSX",
        reason: reason.into(),
    }
}

/// Reads the first sheet of an XLSX workbook. calamine parses outside bytes: a panic inside it (fuzzing found an
/// overflow on an absurd cell reference) is the file's fault and is answered as an unreadable file, and cells
/// are streamed rather than laid out in a dense range, so absurd positions cannot make it allocate without
/// bound.
fn read_xlsx(bytes: &[u8]) -> Result<Table, ImportError> {
    std::panic::catch_unwind(|| read_xlsx_cells(bytes)).unwrap_or_else(|_| {
        Err(xlsx_unreadable(
            "the workbook is damaged (a cell reference no spreadsheet writes)",
        ))
    })
}

fn read_xlsx_cells(bytes: &[u8]) -> Result<Table, ImportError> {
    use calamine::{Data, Reader, Xlsx};
    let mut book: Xlsx<_> =
        Xlsx::new(std::io::Cursor::new(bytes)).map_err(|e| xlsx_unreadable(e.to_string()))?;
    let first = book
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| xlsx_unreadable("the workbook has no sheet"))?;
    let mut reader = book
        .worksheet_cells_reader(&first)
        .map_err(|e| xlsx_unreadable(e.to_string()))?;
    let mut sheet: std::collections::BTreeMap<u32, Vec<(u32, String)>> = Default::default();
    while let Some(cell) = reader
        .next_cell()
        .map_err(|e| xlsx_unreadable(e.to_string()))?
    {
        let (row, col) = cell.get_position();
        if col >= MAX_COLUMNS {
            return Err(xlsx_unreadable(format!(
                "row {}: a cell beyond column {MAX_COLUMNS}",
                u64::from(row) + 1
            )));
        }
        let text = match Data::from(cell.get_value().clone()) {
            Data::Empty => String::new(),
            Data::String(s) => s.trim().to_string(),
            Data::Float(x) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{}", x as i64),
            Data::Float(x) => x.to_string(),
            Data::Int(n) => n.to_string(),
            Data::Bool(b) => b.to_string(),
            other => other.to_string(),
        };
        if !text.is_empty() {
            sheet.entry(row).or_default().push((col, text));
        }
        if sheet.len() > MAX_ROWS + 1 {
            return Err(ImportError::TooLarge(sheet.len() - 1));
        }
    }
    // As the sheet shows it: the first used row holds the headings, columns start at the first used one.
    let first_col = sheet
        .values()
        .flat_map(|cells| cells.iter().map(|(c, _)| *c))
        .min()
        .unwrap_or(0);
    let width = sheet
        .values()
        .flat_map(|cells| cells.iter().map(|(c, _)| *c))
        .max()
        .map_or(0, |last| (last - first_col + 1) as usize);
    let mut table = Table::default();
    for (i, (row, cells)) in sheet.into_iter().enumerate() {
        let mut line = vec![String::new(); width];
        for (col, text) in cells {
            line[(col - first_col) as usize] = text;
        }
        if i == 0 {
            table.headings = line;
        } else {
            table.rows.push((row as usize + 1, line));
        }
    }
    Ok(table)
}

/// One thing wrong in a file: where (row number, column heading) and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowProblem {
    /// Row number as the spreadsheet shows it (1 is the heading row); 1 for a heading problem.
    pub row: usize,
    /// The column's heading as written in the file (or the field's key when the column is missing).
    pub column: String,
    /// What was expected.
    pub expected: String,
}

/// The outcome of checking a file: the records it would write (in file order) or every problem.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Checked {
    /// Data rows read.
    pub rows: usize,
    /// `(row number, record name, record)` of every good row.
    #[serde(skip)]
    pub records: Vec<(usize, String, Map<String, Value>)>,
    /// Every problem found.
    pub problems: Vec<RowProblem>,
}

impl Checked {
    /// Whether the file may be imported.
    pub fn clean(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The field a heading names: its key, or its Chinese or English label (any case, spaces ignored).
fn field_of<'k>(kind: &'k Kind, heading: &str) -> Option<&'k str> {
    let norm = |s: &str| s.to_lowercase().replace([' ', '_'], "");
    let h = norm(heading);
    kind.fields
        .iter()
        .find(|f| norm(f.key) == h || norm(f.zh) == h || norm(f.en) == h)
        .map(|f| f.key)
}

/// Checks every row of `table` as records of `kind`. References resolve against `known` and against the
/// file's own rows (a BOM may name products imported with it when they come in the same kind).
pub fn check(kind: &Kind, table: &Table, known: &dyn Fn(&str, &str) -> bool) -> Checked {
    let mut out = Checked {
        rows: table.rows.len(),
        ..Checked::default()
    };
    let mut columns: Vec<Option<&str>> = Vec::new();
    for heading in &table.headings {
        let field = field_of(kind, heading);
        if field.is_none() && !heading.is_empty() {
            out.problems.push(RowProblem {
                row: 1,
                column: heading.clone(),
                expected: format!(
                    "a column of {}: {}",
                    kind.en,
                    kind.fields
                        .iter()
                        .map(|f| f.key)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        if field.is_some() && columns.contains(&field) {
            out.problems.push(RowProblem {
                row: 1,
                column: heading.clone(),
                expected: "each field in one column only".into(),
            });
        }
        columns.push(field);
    }
    for f in kind.fields.iter().filter(|f| f.required) {
        if !columns.contains(&Some(f.key)) {
            out.problems.push(RowProblem {
                row: 1,
                column: f.key.into(),
                expected: format!("a column '{}' ({} / {})", f.key, f.zh, f.en),
            });
        }
    }
    if !out.problems.is_empty() {
        return out;
    }
    // Codes defined by this file count as known for its own references.
    let own: HashSet<String> = table
        .rows
        .iter()
        .filter_map(|(_, cells)| {
            let i = columns.iter().position(|c| *c == Some(kind.key[0]))?;
            cells
                .get(i)
                .map(|c| crate::kinds::gtin14(c).unwrap_or_else(|| c.clone()))
        })
        .collect();
    let known_here = |k: &str, code: &str| (k == kind.name && own.contains(code)) || known(k, code);
    let mut seen: HashSet<String> = HashSet::new();
    for (row, cells) in &table.rows {
        let mut raw = Map::new();
        for (i, cell) in cells.iter().enumerate() {
            if let Some(Some(key)) = columns.get(i) {
                raw.insert((*key).to_string(), Value::String(cell.clone()));
            }
        }
        match kind.normalise(&raw, &known_here) {
            Ok(rec) => {
                let id = kind.id_of(&rec);
                if !seen.insert(id.clone()) {
                    out.problems.push(RowProblem {
                        row: *row,
                        column: kind.key.join(" + "),
                        expected: format!("a name used once in the file ('{id}' is repeated)"),
                    });
                } else {
                    out.records.push((*row, id, rec));
                }
            }
            Err(problems) => out.problems.extend(problems.into_iter().map(
                |FieldProblem { field, expected }| {
                    let column = columns
                        .iter()
                        .position(|c| *c == Some(field.as_str()))
                        .and_then(|i| table.headings.get(i).cloned())
                        .unwrap_or(field);
                    RowProblem {
                        row: *row,
                        column,
                        expected,
                    }
                },
            )),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::kind;

    #[test]
    fn every_bad_row_and_column_is_listed() {
        let csv = "编码,名称 (中文),层级,上级\nS1,一厂,site,\nW1,一车间,workshop,S1\nL1,一线,lane,W9\n,空,line,W1\n";
        let table = Table::read(csv.as_bytes()).expect("csv");
        let k = kind("location").expect("location");
        let c = check(k, &table, &|_, _| false);
        assert_eq!(c.rows, 4);
        assert!(!c.clean());
        let at: Vec<(usize, &str)> = c
            .problems
            .iter()
            .map(|p| (p.row, p.column.as_str()))
            .collect();
        assert_eq!(at, [(4, "层级"), (4, "上级"), (5, "编码")]);
        assert!(c.problems[0].expected.contains("one of site"));
    }

    #[test]
    fn missing_and_unknown_columns_stop_at_the_heading() {
        let table = Table::read(b"code;colour\nP1;red\n").expect("csv");
        let c = check(kind("product").expect("product"), &table, &|_, _| false);
        let cols: Vec<&str> = c.problems.iter().map(|p| p.column.as_str()).collect();
        assert_eq!(cols, ["colour", "name_zh", "unit", "category"]);
        assert!(c.problems.iter().all(|p| p.row == 1));
    }

    #[test]
    fn an_xlsx_sheet_reads_like_its_csv() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for (c, h) in ["badge", "name", "lines"].iter().enumerate() {
            sheet.write_string(0, c as u16, *h).expect("write");
        }
        sheet.write_number(1, 0, 1001.0).expect("write");
        sheet.write_string(1, 1, "王芳").expect("write");
        sheet.write_string(1, 2, "L1; L2").expect("write");
        let bytes = book.save_to_buffer().expect("xlsx");
        let table = Table::read(&bytes).expect("xlsx read");
        let c = check(kind("operator").expect("operator"), &table, &|_, _| true);
        assert!(c.clean(), "{:?}", c.problems);
        assert_eq!(c.records[0].1, "1001");
        assert_eq!(c.records[0].2["lines"], serde_json::json!(["L1", "L2"]));
    }

    #[test]
    fn garbage_is_refused_whole() {
        assert!(matches!(
            Table::read(b"PK\x03\x04garbage"),
            Err(ImportError::Unreadable { .. })
        ));
        assert!(matches!(
            Table::read(b"\xff\xfe"),
            Err(ImportError::Unreadable { .. })
        ));
        assert!(matches!(Table::read(b""), Err(ImportError::Empty)));
    }

    /// Found by `fuzz/run … masterdata_import`: a cell reference with a run of column letters made calamine
    /// overflow (a panic with overflow checks, a wrapped column without). The file is refused as unreadable.
    #[test]
    fn a_workbook_with_an_impossible_cell_reference_is_refused_not_a_panic() {
        let bytes = include_bytes!("../tests/fixtures/xlsx-cell-reference-overflow.xlsx");
        match Table::read(bytes) {
            Err(ImportError::Unreadable { format, .. }) => assert_eq!(format, "XLSX"),
            other => panic!("expected an unreadable XLSX, got {other:?}"),
        }
    }

    #[test]
    fn a_cell_beyond_the_last_column_is_refused() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "GTIN").expect("cell");
        sheet.write_string(1, 5_000, "far").expect("cell");
        let bytes = book.save_to_buffer().expect("xlsx");
        match Table::read(&bytes) {
            Err(e @ ImportError::Unreadable { .. }) => {
                assert!(e.to_string().contains("beyond column 1000"), "{e}")
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
}
