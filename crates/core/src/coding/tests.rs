//! Coding rule tests.
use super::template::{RADIX36, check_char};
use super::*;

fn date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).expect("date")
}

fn ctx() -> Context {
    Context {
        plant: Some("SH".into()),
        line: Some("L2".into()),
        ..Context::default()
    }
}

#[test]
fn renders_every_token() {
    let t = Template::parse(
        "{PLANT}{LINE:2}-{YYYY}{MM}{DD}/{JJJ}W{WW}-{SEQ:4:36:monthly}{RAND:3}{CHECK:mod37-36}",
    )
    .expect("template");
    let mut rnd = [0u8, 1, 31].into_iter();
    let code = t.render(&ctx(), date(), 46655, &mut rnd).expect("render");
    assert_eq!(&code[..code.len() - 1], "SHL2-20261125/329W48-0ZZZ01Z");
    t.validate(&code).expect("valid");
    assert_eq!(t.scope(&ctx(), date()).expect("scope"), "2026-11|SH|L2");
    assert!(matches!(
        t.render(&ctx(), date(), 36u64.pow(4), &mut [0u8; 3].into_iter()),
        Err(CodingError::Exhausted(_))
    ));
}

#[test]
fn check_characters() {
    // ORCID 0000-0002-1825-0097 uses ISO 7064 MOD 11-2.
    assert_eq!(check_char(CheckKind::Mod11_2, "000000021825009"), Some('7'));
    assert_eq!(check_char(CheckKind::Mod11_2, "000000021694233"), Some('X'));
    assert_eq!(check_char(CheckKind::Mod10, "690123456789"), Some('2'));
    // MOD 37,36 catches every single substitution.
    let body = "A12B9Z";
    let c = check_char(CheckKind::Mod37_36, body).expect("c");
    for i in 0..body.len() {
        for &x in RADIX36 {
            let mut b = body.as_bytes().to_vec();
            if b[i] == x {
                continue;
            }
            b[i] = x;
            let changed = String::from_utf8(b).expect("ascii");
            assert_ne!(
                check_char(CheckKind::Mod37_36, &changed),
                Some(c),
                "{changed}"
            );
        }
    }
}

#[test]
fn validation_names_the_problem() {
    let t = Template::parse("{PLANT}{YY}{MM}{SEQ:5}{CHECK:mod10}").expect("template");
    let c = Context {
        plant: Some("88".into()),
        ..Context::default()
    };
    let code = t
        .render(&c, date(), 42, &mut std::iter::empty())
        .expect("render");
    assert_eq!(code, "882611000422");
    t.validate(&code).expect("valid");
    let e = t.validate("882611000427").expect_err("check");
    assert_eq!(
        e.to_string(),
        "882611000427: check character should be 2, got 7"
    );
    assert!(t.validate("8826130004").is_err());
    assert!(t.validate("88261100042").is_err());
}

#[test]
fn bad_templates_and_contexts_are_explained() {
    for (t, want) in [
        ("{SEQ:0}", "width must be 1 to 40"),
        ("{SEQ:4:7}", "radix must be 10, 16 or 36"),
        ("{LOT}{SEQ:3}", "unknown token {LOT}"),
        ("AB{YY}", "needs a {SEQ:width} or {RAND:n}"),
        ("{CHECK:mod10}{SEQ:3}", "must be the last token"),
        ("{SEQ:3", "unclosed"),
        ("A B{SEQ:3}", "fixed text"),
    ] {
        let e = Template::parse(t).expect_err(t).to_string();
        assert!(e.contains(want), "{t}: {e}");
    }
    let t = Template::parse("{LINE:2}{SEQ:3}").expect("template");
    let e = t
        .render(&Context::default(), date(), 1, &mut std::iter::empty())
        .expect_err("missing line");
    assert_eq!(
        e.to_string(),
        "context.line: required by the rule's template"
    );
}
