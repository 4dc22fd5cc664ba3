//! Single sampling plans of GB/T 2828.1-2012 (identical to ISO 2859-1:1999): the sample size code letter of
//! a lot size and inspection level (Table 1), and the sample size with its acceptance and rejection numbers
//! for normal, tightened and reduced inspection (Tables 2-A, 2-B, 2-C), arrows followed as the standard
//! says ("use the first sampling plan below / above the arrow"). Where the sample size reaches the lot
//! size, the whole lot is inspected.
//!
//! The master tables are diagonal: along a row, the acceptance number grows one step with each AQL step,
//! and one row down (about 1.6 times the sample) moves the same plan one AQL step to the left. So each
//! table is written here as where its `0 1` cell lies in each row and the sequence of cells after it,
//! rather than as 400-odd literals; the tests compare it with the printed tables.

use serde::Serialize;
use std::fmt;

/// The AQLs the tables have a column for (percent nonconforming up to 10, nonconformities per hundred
/// items above).
pub const AQLS: [f64; 26] = [
    0.010, 0.015, 0.025, 0.040, 0.065, 0.10, 0.15, 0.25, 0.40, 0.65, 1.0, 1.5, 2.5, 4.0, 6.5, 10.0,
    15.0, 25.0, 40.0, 65.0, 100.0, 150.0, 250.0, 400.0, 650.0, 1000.0,
];

/// The sample size code letters, A to S (S only under tightened inspection).
pub const LETTERS: [char; 17] = [
    'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'J', 'K', 'L', 'M', 'N', 'P', 'Q', 'R', 'S',
];

/// Sample sizes of the code letters under normal and tightened inspection.
const SIZES: [u32; 17] = [
    2, 3, 5, 8, 13, 20, 32, 50, 80, 125, 200, 315, 500, 800, 1250, 2000, 3150,
];

/// Sample sizes of the code letters A to R under reduced inspection (Table 2-C).
const REDUCED_SIZES: [u32; 16] = [
    2, 2, 2, 3, 5, 8, 13, 20, 32, 50, 80, 125, 200, 315, 500, 800,
];

/// Inspection levels: general I, II (the usual one), III, and special S-1 to S-4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Level {
    /// Special level S-1.
    S1,
    /// Special level S-2.
    S2,
    /// Special level S-3.
    S3,
    /// Special level S-4.
    S4,
    /// General level I.
    I,
    /// General level II.
    II,
    /// General level III.
    III,
}

impl Level {
    /// The level named `s`: `I`, `II`, `III`, `S-1` … `S-4` (also `S1`, lower case, `1`–`3`).
    pub fn parse(s: &str) -> Option<Level> {
        Some(
            match s
                .trim()
                .to_ascii_uppercase()
                .replace(['-', ' '], "")
                .as_str()
            {
                "S1" => Level::S1,
                "S2" => Level::S2,
                "S3" => Level::S3,
                "S4" => Level::S4,
                "I" | "1" => Level::I,
                "II" | "2" => Level::II,
                "III" | "3" => Level::III,
                _ => return None,
            },
        )
    }

    /// Its name as the standard writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::S1 => "S-1",
            Level::S2 => "S-2",
            Level::S3 => "S-3",
            Level::S4 => "S-4",
            Level::I => "I",
            Level::II => "II",
            Level::III => "III",
        }
    }

    fn column(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The severity of inspection the switching rules have reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Normal inspection (Table 2-A), where a scheme starts.
    Normal,
    /// Tightened inspection (Table 2-B).
    Tightened,
    /// Reduced inspection (Table 2-C).
    Reduced,
}

impl Severity {
    /// The severity named `s` (`normal`, `tightened`, `reduced`).
    pub fn parse(s: &str) -> Option<Severity> {
        match s.trim().to_ascii_lowercase().as_str() {
            "normal" => Some(Severity::Normal),
            "tightened" => Some(Severity::Tightened),
            "reduced" => Some(Severity::Reduced),
            _ => None,
        }
    }

    /// Its name, as the API uses it.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Normal => "normal",
            Severity::Tightened => "tightened",
            Severity::Reduced => "reduced",
        }
    }
}

/// Why no plan could be given.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SamplingError {
    /// A lot has at least one item.
    #[error("lot_size: expected a whole number of items of at least 1")]
    LotSize,
    /// The AQL is not one of the tables' columns.
    #[error(
        "aql: expected one of the standard's AQLs (0.010, 0.015, 0.025 … 10, 15, 25 … 1000), not {0}"
    )]
    Aql(String),
}

/// A single sampling plan: inspect `sample_size` items; accept the lot with at most `ac` nonconforming
/// items (or nonconformities), do not accept it with `re` or more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// The code letter Table 1 gives the lot size and level.
    pub code_letter: char,
    /// The code letter of the plan used, after following an arrow.
    pub plan_letter: char,
    /// How many items to inspect (the lot size where the plan's sample reaches it).
    pub sample_size: u32,
    /// Acceptance number.
    pub ac: u32,
    /// Rejection number.
    pub re: u32,
    /// Whether every item of the lot is inspected.
    pub full_inspection: bool,
}

impl Plan {
    /// Whether a sample with `found` nonconforming items (or nonconformities) accepts the lot.
    pub fn accepts(&self, found: u32) -> bool {
        found <= self.ac
    }
}

/// Table 1: the code letter (index into [`LETTERS`]) for each lot size range and level column
/// (S-1, S-2, S-3, S-4, I, II, III).
const TABLE_1: [(u64, [u8; 7]); 15] = [
    (8, *b"AAAAAAB"),
    (15, *b"AAAAABC"),
    (25, *b"AABBBCD"),
    (50, *b"ABBCCDE"),
    (90, *b"BBCCCEF"),
    (150, *b"BBCDDFG"),
    (280, *b"BCDEEGH"),
    (500, *b"BCDEFHJ"),
    (1_200, *b"CCEFGJK"),
    (3_200, *b"CDEGHKL"),
    (10_000, *b"CDFGJLM"),
    (35_000, *b"CDFHKMN"),
    (150_000, *b"DEGJLNP"),
    (500_000, *b"DEGJMPQ"),
    (u64::MAX, *b"DEHKNQR"),
];

/// The sample size code letter of a lot of `lot_size` items at `level` (Table 1).
pub fn code_letter(lot_size: u64, level: Level) -> Result<char, SamplingError> {
    if lot_size == 0 {
        return Err(SamplingError::LotSize);
    }
    let row = TABLE_1
        .iter()
        .find(|(upto, _)| lot_size <= *upto)
        .map(|(_, r)| r)
        .ok_or(SamplingError::LotSize)?;
    Ok(char::from(row[level.column()]))
}

/// The column of an AQL in the master tables.
pub fn aql_index(aql: f64) -> Option<usize> {
    AQLS.iter()
        .position(|a| (a - aql).abs() <= a * 1e-6 + 1e-12)
}

/// One cell of a master table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    /// A plan: acceptance and rejection numbers.
    Plan(u32, u32),
    /// Use the first plan above.
    Up,
    /// Use the first plan below.
    Down,
}

/// Acceptance numbers after `1 2` along a row of the normal table (and of the reduced one).
const NORMAL_RUN: [(u32, u32); 10] = [
    (1, 2),
    (2, 3),
    (3, 4),
    (5, 6),
    (7, 8),
    (10, 11),
    (14, 15),
    (21, 22),
    (30, 31),
    (44, 45),
];

/// Acceptance numbers after `1 2` along a row of the tightened table.
const TIGHTENED_RUN: [(u32, u32); 9] = [
    (1, 2),
    (2, 3),
    (3, 4),
    (5, 6),
    (8, 9),
    (12, 13),
    (18, 19),
    (27, 28),
    (41, 42),
];

/// Rows whose runs go on past `21 22` (`18 19` tightened): only the small samples A to E reach the
/// nonconformities-per-hundred plans with acceptance numbers of 30 and 44 (27 and 41).
const LONG_RUN_ROWS: usize = 5;

/// A cell of Table 2-A (normal inspection): row `i` (code letter index), column `j` (AQL index).
pub fn normal_cell(i: usize, j: usize) -> Cell {
    // Row A's `0 1` is under AQL 6.5; each row down moves it one column left.
    let d = j as i64 - (14 - i as i64);
    run_cell(d, i, &NORMAL_RUN, [Cell::Up, Cell::Down])
}

/// A cell of Table 2-B (tightened inspection), rows A to S.
pub fn tightened_cell(i: usize, j: usize) -> Cell {
    // One AQL column to the right of the normal table's, so the same AQL asks more of the lot; row A
    // has no plan of its own below the nonconformities-per-hundred columns.
    let d = j as i64 - (15 - i as i64);
    if i == 0 && d == 0 {
        return Cell::Down;
    }
    run_cell(d, i, &TIGHTENED_RUN, [Cell::Down, Cell::Down])
}

/// A cell of Table 2-C (reduced inspection), rows A to R: the plans of the normal table with the sample
/// size two letters smaller.
pub fn reduced_cell(i: usize, j: usize) -> Cell {
    normal_cell(i.saturating_sub(2), j)
}

fn run_cell(d: i64, row: usize, run: &[(u32, u32)], gap: [Cell; 2]) -> Cell {
    match d {
        d if d < 0 => Cell::Down,
        0 => Cell::Plan(0, 1),
        1 => gap[0],
        2 => gap[1],
        d => {
            let k = (d - 3) as usize;
            let long = run.len() - 2;
            match run.get(k) {
                Some(&(ac, re)) if k < long || row < LONG_RUN_ROWS => Cell::Plan(ac, re),
                _ => Cell::Up,
            }
        }
    }
}

fn rows(severity: Severity) -> usize {
    match severity {
        Severity::Tightened => 17,
        _ => 16,
    }
}

fn cell(severity: Severity, i: usize, j: usize) -> Cell {
    match severity {
        Severity::Normal => normal_cell(i, j),
        Severity::Tightened => tightened_cell(i, j),
        Severity::Reduced => reduced_cell(i, j),
    }
}

fn size(severity: Severity, i: usize) -> u32 {
    match severity {
        Severity::Reduced => REDUCED_SIZES[i],
        _ => SIZES[i],
    }
}

/// Follows the arrows from row `i` in column `j` to a plan: the row and its numbers. An arrow that
/// leaves the table (row A's `↑`, the last row's `↓`) takes the nearest plan along the edge row.
fn follow(severity: Severity, mut i: usize, j: usize) -> (usize, u32, u32) {
    let last = rows(severity) - 1;
    loop {
        match cell(severity, i, j) {
            Cell::Plan(ac, re) => return (i, ac, re),
            Cell::Up if i > 0 => i -= 1,
            Cell::Down if i < last => i += 1,
            _ => break,
        }
    }
    for step in 1..AQLS.len() {
        for jj in [j.checked_sub(step), Some(j + step)].into_iter().flatten() {
            if jj < AQLS.len()
                && let Cell::Plan(ac, re) = cell(severity, i, jj)
            {
                return (i, ac, re);
            }
        }
    }
    (i, 0, 1)
}

/// The single sampling plan for a lot of `lot_size` items at `level` and `aql` under `severity`.
pub fn plan(
    lot_size: u64,
    level: Level,
    aql: f64,
    severity: Severity,
) -> Result<Plan, SamplingError> {
    let letter = code_letter(lot_size, level)?;
    let j = aql_index(aql).ok_or_else(|| SamplingError::Aql(format!("{aql}")))?;
    let i = LETTERS
        .iter()
        .position(|c| *c == letter)
        .ok_or(SamplingError::LotSize)?;
    let (row, ac, re) = follow(severity, i, j);
    let n = u64::from(size(severity, row));
    let full = n >= lot_size;
    Ok(Plan {
        code_letter: letter,
        plan_letter: LETTERS[row],
        sample_size: if full {
            u32::try_from(lot_size).unwrap_or(u32::MAX)
        } else {
            n as u32
        },
        ac,
        re,
        full_inspection: full,
    })
}

/// The plan of a code letter (as if a lot were large enough) at `aql` under `severity`, arrows followed.
pub fn plan_for_letter(letter: char, aql: f64, severity: Severity) -> Option<Plan> {
    let i = LETTERS.iter().position(|c| *c == letter)?;
    if i >= rows(severity) {
        return None;
    }
    let j = aql_index(aql)?;
    let (row, ac, re) = follow(severity, i, j);
    Some(Plan {
        code_letter: letter,
        plan_letter: LETTERS[row],
        sample_size: size(severity, row),
        ac,
        re,
        full_inspection: false,
    })
}

/// The AQL one column tighter than `aql`, if the table has one (the switching score asks whether a lot
/// would have been accepted there).
pub fn tighter_aql(aql: f64) -> Option<f64> {
    let j = aql_index(aql)?;
    j.checked_sub(1).map(|k| AQLS[k])
}

#[cfg(test)]
mod tests;
