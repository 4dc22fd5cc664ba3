use super::*;

/// Rows of the printed tables for AQL 0.65, 1.0, 1.5, 2.5, 4.0, 6.5, 10 and 15: a number is the
/// rejection number (acceptance one less), `v` an arrow down, `^` an arrow up, `|` an arrow's shaft.
fn check_rows(severity: Severity, rows: &[(char, &str)]) {
    for (letter, cells) in rows {
        let i = LETTERS.iter().position(|c| c == letter).expect("letter");
        for (k, token) in cells.split_whitespace().enumerate() {
            let j = 9 + k;
            let got = cell(severity, i, j);
            let ok = match token {
                "v" => got == Cell::Down,
                "^" => got == Cell::Up,
                "|" => matches!(got, Cell::Up | Cell::Down),
                n => {
                    let re: u32 = n.parse().expect("number");
                    got == Cell::Plan(re - 1, re)
                }
            };
            assert!(
                ok,
                "{severity:?} {letter} at AQL {}: table says {token}, got {got:?}",
                AQLS[j]
            );
        }
    }
}

#[test]
fn normal_table_matches_the_printed_one() {
    check_rows(
        Severity::Normal,
        &[
            ('A', "| | | | v 1 ^ v"),
            ('B', "| | | v 1 ^ v 2"),
            ('C', "| | v 1 ^ v 2 3"),
            ('D', "| v 1 ^ v 2 3 4"),
            ('E', "v 1 ^ v 2 3 4 6"),
            ('F', "1 ^ v 2 3 4 6 8"),
            ('G', "^ v 2 3 4 6 8 11"),
            ('H', "v 2 3 4 6 8 11 15"),
            ('J', "2 3 4 6 8 11 15 22"),
            ('K', "3 4 6 8 11 15 22 ^"),
            ('L', "4 6 8 11 15 22 ^ |"),
            ('M', "6 8 11 15 22 ^ | |"),
            ('N', "8 11 15 22 ^ | | |"),
            ('P', "11 15 22 ^ | | | |"),
            ('Q', "15 22 ^ | | | | |"),
            ('R', "22 ^ | | | | | |"),
        ],
    );
    // The far right: nonconformities per hundred items.
    assert_eq!(normal_cell(0, 25), Cell::Plan(30, 31));
    assert_eq!(normal_cell(1, 25), Cell::Plan(44, 45));
    assert_eq!(normal_cell(2, 25), Cell::Up);
    assert_eq!(normal_cell(4, 22), Cell::Plan(44, 45));
    // The far left: Q's `0 1` under 0.010, R's `1 2` under 0.025.
    assert_eq!(normal_cell(14, 0), Cell::Plan(0, 1));
    assert_eq!(normal_cell(15, 2), Cell::Plan(1, 2));
}

#[test]
fn tightened_table_matches_the_printed_one() {
    check_rows(
        Severity::Tightened,
        &[
            ('A', "| | | | | v | |"),
            ('B', "| | | | v 1 | v"),
            ('C', "| | | v 1 | v 2"),
            ('D', "| | v 1 | v 2 3"),
            ('E', "| v 1 | v 2 3 4"),
            ('F', "v 1 | v 2 3 4 6"),
            ('G', "1 | v 2 3 4 6 9"),
            ('H', "| v 2 3 4 6 9 13"),
            ('J', "v 2 3 4 6 9 13 19"),
            ('K', "2 3 4 6 9 13 19 ^"),
            ('L', "3 4 6 9 13 19 ^ |"),
        ],
    );
    assert_eq!(tightened_cell(0, 25), Cell::Plan(27, 28));
    assert_eq!(tightened_cell(1, 25), Cell::Plan(41, 42));
    // Code letter S exists for tightened inspection only.
    assert_eq!(
        plan_for_letter('S', 0.025, Severity::Tightened).map(|p| (p.sample_size, p.ac)),
        Some((3150, 1))
    );
    assert_eq!(plan_for_letter('S', 0.025, Severity::Normal), None);
}

#[test]
fn code_letters_follow_table_1() {
    let cases = [
        (2, Level::II, 'A'),
        (8, Level::III, 'B'),
        (9, Level::II, 'B'),
        (9, Level::III, 'C'),
        (50, Level::II, 'D'),
        (51, Level::II, 'E'),
        (1_000, Level::II, 'J'),
        (1_200, Level::I, 'G'),
        (1_201, Level::II, 'K'),
        (10_000, Level::S4, 'G'),
        (35_001, Level::S1, 'D'),
        (500_000, Level::III, 'Q'),
        (500_001, Level::III, 'R'),
        (9_999_999, Level::S3, 'H'),
    ];
    for (n, level, want) in cases {
        assert_eq!(code_letter(n, level), Ok(want), "lot {n} level {level}");
    }
    assert_eq!(code_letter(0, Level::II), Err(SamplingError::LotSize));
}

#[test]
fn plans_follow_arrows_and_inspect_small_lots_whole() {
    let p = plan(1_000, Level::II, 1.0, Severity::Normal).expect("plan");
    assert_eq!((p.code_letter, p.sample_size, p.ac, p.re), ('J', 80, 2, 3));
    // J at 0.065 points down past K to L's `0 1`: 200 items.
    let p = plan(1_000, Level::II, 0.065, Severity::Normal).expect("plan");
    assert_eq!(
        (p.code_letter, p.plan_letter, p.sample_size, p.ac, p.re),
        ('J', 'L', 200, 0, 1)
    );
    // F at 1.0 points up to E's `0 1`: 13 items.
    // G at 0.65 points up to F's `0 1`: 20 items.
    let p = plan(200, Level::II, 0.65, Severity::Normal).expect("plan");
    assert_eq!(
        (p.code_letter, p.plan_letter, p.sample_size, p.ac),
        ('G', 'F', 20, 0)
    );
    let p = plan(400, Level::II, 1.0, Severity::Normal).expect("plan");
    assert_eq!((p.code_letter, p.sample_size, p.ac, p.re), ('H', 50, 1, 2));
    let p = plan(100, Level::II, 0.65, Severity::Normal).expect("plan");
    assert_eq!(
        (p.code_letter, p.plan_letter, p.sample_size, p.ac, p.re),
        ('F', 'F', 20, 0, 1)
    );
    let p = plan(120, Level::II, 1.0, Severity::Normal).expect("plan");
    assert_eq!(
        (p.code_letter, p.plan_letter, p.sample_size, p.ac, p.re),
        ('F', 'E', 13, 0, 1)
    );
    // Ten items at AQL 1.0: the arrow leads to 13 items, more than the lot: all ten are inspected.
    let p = plan(10, Level::II, 1.0, Severity::Normal).expect("plan");
    assert_eq!(
        (p.sample_size, p.ac, p.re, p.full_inspection),
        (10, 0, 1, true)
    );
    // Tightened asks more of the same lot; reduced takes a smaller sample.
    let t = plan(1_000, Level::II, 1.0, Severity::Tightened).expect("plan");
    assert_eq!((t.sample_size, t.ac, t.re), (80, 1, 2));
    let r = plan(1_000, Level::II, 1.0, Severity::Reduced).expect("plan");
    assert_eq!((r.plan_letter, r.sample_size, r.ac, r.re), ('K', 50, 1, 2));
    assert!(matches!(
        plan(1_000, Level::II, 0.3, Severity::Normal),
        Err(SamplingError::Aql(_))
    ));
}

#[test]
fn every_cell_leads_to_a_plan_whose_sample_is_one_of_the_table() {
    for severity in [Severity::Normal, Severity::Tightened, Severity::Reduced] {
        for &letter in &LETTERS[..rows(severity)] {
            for aql in AQLS {
                let p = plan_for_letter(letter, aql, severity).expect("plan");
                assert!(p.re == p.ac + 1, "{severity:?} {letter} {aql}: {p:?}");
                assert!(p.sample_size >= 2);
            }
        }
    }
}

#[test]
fn a_tighter_aql_never_accepts_more() {
    for severity in [Severity::Normal, Severity::Tightened, Severity::Reduced] {
        for &letter in &LETTERS[..rows(severity)] {
            for w in AQLS.windows(2) {
                let a = plan_for_letter(letter, w[0], severity).expect("plan");
                let b = plan_for_letter(letter, w[1], severity).expect("plan");
                // Accepting fraction ac/n may only grow with the AQL.
                assert!(
                    f64::from(a.ac) / f64::from(a.sample_size)
                        <= f64::from(b.ac) / f64::from(b.sample_size) + 1e-9,
                    "{severity:?} {letter}: {} gives {a:?}, {} gives {b:?}",
                    w[0],
                    w[1]
                );
            }
        }
    }
}
