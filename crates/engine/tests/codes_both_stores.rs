//! Issuing codes on either store: 8 concurrent clients × 10,000 codes give 80,000 distinct codes, numbering
//! survives a restart, rule versions are remembered, and every code is commissioned on the ledger.

use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;
use suyuan_core::coding::Context;
use suyuan_engine::Engine;
use suyuan_engine::codes::{CodeError, IssueRequest};
use suyuan_store::{PgStore, SqliteStore, Store};

const CLIENTS: usize = 8;
const PER_CLIENT: u64 = 10_000;

fn request(rule: &str, count: u64) -> IssueRequest {
    IssueRequest {
        rule: rule.into(),
        count,
        context: Context {
            plant: Some("SH".into()),
            line: Some("L1".into()),
            gtin: Some("6901234567892".into()),
            ..Context::default()
        },
        location: Some("urn:epc:id:sgln:6901234.00001.0".into()),
        at: Some("2026-11-25T10:00:00+08:00".into()),
        ..IssueRequest::default()
    }
}

async fn concurrent_issuing_never_repeats(store: Arc<dyn Store>) {
    let engine = Engine::new(store.clone());
    engine
        .save_rule(
            "test",
            "unit",
            &json!({"template": "{PLANT}{LINE}{YY}{JJJ}{SEQ:7:10:daily}{CHECK:mod37-36}", "target": "sgtin"}),
        )
        .await
        .expect("rule");
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let engine = engine.clone();
        tasks.push(tokio::spawn(async move {
            let mut codes = Vec::new();
            // Each client asks in blocks, as a line station would.
            for _ in 0..(PER_CLIENT / 2_500) {
                let batch = engine
                    .issue_codes(&request("unit", 2_500))
                    .await
                    .expect("issue");
                assert_eq!(batch.version, 1);
                codes.extend(batch.codes);
            }
            codes
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("client"));
    }
    let total = CLIENTS * PER_CLIENT as usize;
    assert_eq!(all.len(), total);
    let distinct: HashSet<&str> = all.iter().map(|c| c.code.as_str()).collect();
    assert_eq!(distinct.len(), total, "duplicates among issued codes");
    let uris: HashSet<&str> = all.iter().map(|c| c.uri.as_str()).collect();
    assert_eq!(uris.len(), total);
    assert!(
        all[0]
            .uri
            .starts_with("https://id.gs1.org/01/06901234567892/21/SHL126329")
    );
    assert_eq!(
        store.issued_count("unit").await.expect("count"),
        total as u64
    );
    // Every code was commissioned on the ledger (plus the rule, whose saving is an administrative event).
    assert_eq!(
        store.stats().await.expect("stats").objects,
        total as u64 + 1
    );
    let check = engine.check_code(&all[17].code).await.expect("check");
    assert_eq!((check.status, check.version), ("valid", Some(1)));
    // Editing the rule makes version 2; new codes remember it, old ones keep version 1.
    engine
        .save_rule(
            "test",
            "unit",
            &json!({"template": "X{PLANT}{LINE}{YY}{JJJ}{SEQ:7:10:daily}{CHECK:mod37-36}", "target": "sgtin"}),
        )
        .await
        .expect("edit");
    let v2 = engine.issue_codes(&request("unit", 3)).await.expect("v2");
    assert_eq!(v2.version, 2);
    assert!(v2.codes[0].code.starts_with("XSHL1"));
    let old = engine.check_code(&all[0].uri).await.expect("check old");
    assert_eq!((old.status, old.version), ("valid", Some(1)));
    let revoked = store
        .revoke_code(&all[1].code, "label torn")
        .await
        .expect("revoke");
    assert_eq!(revoked, 1);
    assert_eq!(
        engine.check_code(&all[1].code).await.expect("check").status,
        "revoked"
    );
    // A forged code with the right structure but never issued, and one with a wrong check character.
    let mut forged = all[5].code.clone();
    forged.replace_range(13..14, if &forged[13..14] == "9" { "8" } else { "9" });
    let verdict = engine.check_code(&forged).await.expect("check forged");
    assert_ne!(verdict.status, "valid", "{verdict:?}");
}

async fn refusals_change_nothing(store: Arc<dyn Store>) {
    let engine = Engine::new(store.clone());
    let e = engine
        .save_rule("test", "bad", &json!({"template": "{SEQ:3}{LOT}"}))
        .await
        .expect_err("bad template");
    assert!(
        e.to_string()
            .starts_with("definition.template: unknown token {LOT}"),
        "{e}"
    );
    let e = engine
        .save_rule(
            "test",
            "u",
            &json!({"template": "{SEQ:3}", "colour": "red"}),
        )
        .await
        .expect_err("unknown field");
    assert!(e.to_string().contains("colour"), "{e}");
    engine
        .save_rule(
            "test",
            "tiny",
            &json!({"template": "T{SEQ:2}", "kind": "case", "tenant": "acme"}),
        )
        .await
        .expect("tiny");
    let first = engine
        .issue_codes(&request("tiny", 90))
        .await
        .expect("90 of 99");
    assert_eq!(first.codes[0].uri, "urn:suyuan:acme:case:T01");
    let e = engine
        .issue_codes(&request("tiny", 10))
        .await
        .expect_err("exhausted");
    assert!(matches!(e, CodeError::Coding(_)), "{e}");
    assert!(e.to_string().contains("99 numbers per period"), "{e}");
    assert_eq!(store.issued_count("tiny").await.expect("count"), 90);
    let e = engine
        .issue_codes(&request("none", 1))
        .await
        .expect_err("unknown rule");
    assert!(matches!(e, CodeError::UnknownRule(_)));
    engine
        .save_rule(
            "test",
            "gs1",
            &json!({"template": "{SEQ:4}", "target": "sgtin"}),
        )
        .await
        .expect("gs1");
    let mut no_gtin = request("gs1", 5);
    no_gtin.context.gtin = None;
    let e = engine.issue_codes(&no_gtin).await.expect_err("no gtin");
    assert_eq!(
        e.to_string(),
        "context.gtin: required: the rule issues GS1 serials or lots of a GTIN"
    );
    assert_eq!(store.issued_count("gs1").await.expect("count"), 0);
    // Random-only rules draw unguessable codes from the OS.
    engine
        .save_rule(
            "test",
            "anti",
            &json!({"template": "{RAND:12}{CHECK:mod37-36}"}),
        )
        .await
        .expect("anti");
    let r = engine
        .issue_codes(&request("anti", 1000))
        .await
        .expect("random");
    let distinct: HashSet<&str> = r.codes.iter().map(|c| c.code.as_str()).collect();
    assert_eq!(distinct.len(), 1000);
}

/// A capture naming a serial of a rule's GTIN that the rule never issued is accepted, warned about or
/// refused as the rule's `unknown_codes` says; issued serials and other GTINs pass.
async fn unknown_own_codes_follow_the_rule_policy(store: Arc<dyn Store>) {
    let engine = Engine::new(store.clone());
    let rule = |policy: &str| json!({"template": "P{SEQ:5}", "target": "sgtin", "gtin": "6901234000016", "unknown_codes": policy});
    engine
        .save_rule("test", "policed", &rule("warn"))
        .await
        .expect("rule");
    let mut req = request("policed", 2);
    req.context.gtin = None;
    let issued = engine.issue_codes(&req).await.expect("issue");
    assert_eq!(issued.events.len(), 1, "its own commissioning passes");
    let capture = |serials: &[&str]| {
        let epcs: Vec<String> = serials
            .iter()
            .map(|s| format!("urn:epc:id:sgtin:6901234.000001.{s}"))
            .collect();
        json!({"type": "ObjectEvent", "eventTime": "2026-11-25T11:00:00+08:00", "eventTimeZoneOffset": "+08:00",
               "action": "OBSERVE", "bizStep": "receiving", "epcList": epcs})
    };
    let first = issued.codes[0].code.clone();
    let ok = engine.capture(&capture(&[&first])).await.expect("issued");
    assert!(ok.warnings.is_empty(), "{:?}", ok.warnings);
    let warned = engine
        .capture(&capture(&[&first, "P99999"]))
        .await
        .expect("warn policy stores");
    assert_eq!(warned.stored, 1);
    assert_eq!(warned.warnings.len(), 1, "{:?}", warned.warnings);
    assert_eq!(
        warned.warnings[0].pointer,
        "/epcisBody/eventList/0/epcList/1"
    );
    assert_eq!(warned.warnings[0].code, "unknown_own_code");
    engine
        .save_rule("test", "policed", &rule("refuse"))
        .await
        .expect("rule v2");
    let before = store.stats().await.expect("stats").events;
    let mut late = capture(&["P88888"]);
    late["eventTime"] = json!("2026-11-25T12:00:00+08:00");
    match engine.capture(&late).await {
        Err(suyuan_engine::CaptureError::Invalid(e)) => {
            assert_eq!(e.0[0].pointer, "/epcisBody/eventList/0/epcList/0");
            assert!(
                e.0[0].message.contains("never issued"),
                "{}",
                e.0[0].message
            );
        }
        other => panic!("refused, got {other:?}"),
    }
    assert_eq!(
        store.stats().await.expect("stats").events,
        before,
        "nothing stored"
    );
    // A copied batch is named up to a hundred serials, then counted.
    let many: Vec<String> = (0..150).map(|i| format!("Q{i:05}")).collect();
    let refs: Vec<&str> = many.iter().map(String::as_str).collect();
    match engine.capture(&capture(&refs)).await {
        Err(suyuan_engine::CaptureError::Invalid(e)) => {
            assert_eq!(e.0.len(), 101);
            assert!(e.0[100].message.contains("50 more"), "{}", e.0[100].message);
        }
        other => panic!("refused, got {other:?}"),
    }
    // Another company's GTIN is no business of this rule.
    let other = json!({"type": "ObjectEvent", "eventTime": "2026-11-25T12:00:00+08:00", "eventTimeZoneOffset": "+08:00",
        "action": "OBSERVE", "epcList": ["urn:epc:id:sgtin:6920001.000011.ANY"]});
    assert!(engine.capture(&other).await.is_ok());
    engine
        .save_rule("test", "policed", &rule("accept"))
        .await
        .expect("rule v3");
    let accepted = engine.capture(&late).await.expect("accept policy");
    assert!(accepted.warnings.is_empty());
}

/// Codes a rule's template produced elsewhere (a printer's batch, the demo) are registered under the rule with
/// their numbers reserved: issuing continues after them, and registering one twice changes nothing.
async fn codes_printed_elsewhere_are_registered_and_numbering_continues(store: Arc<dyn Store>) {
    let engine = Engine::new(store.clone());
    let def = json!({"template": "Q{SEQ:5}", "target": "sgtin", "gtin": "6901234567892"});
    engine
        .save_rule("test", "outside", &def)
        .await
        .expect("rule");
    let (_, template) = suyuan_engine::codes::parse_rule(&def).expect("parse");
    let date = chrono::NaiveDate::from_ymd_opt(2026, 11, 25).expect("date");
    let scope = template
        .scope(&request("outside", 1).context, date)
        .expect("scope");
    let n = engine
        .register_issued(
            "outside",
            &scope,
            vec!["Q00001".into(), "Q00002".into()],
            "2026-11-25T02:00:00.000Z",
        )
        .await
        .expect("registered");
    assert_eq!(n, 2);
    let next = engine
        .issue_codes(&request("outside", 1))
        .await
        .expect("issue after");
    assert_eq!(next.codes[0].code, "Q00003");
    assert!(
        engine
            .register_issued(
                "outside",
                &scope,
                vec!["Q00009".into(), "Q00001".into()],
                "2026-11-25T02:00:00.000Z"
            )
            .await
            .is_err(),
        "a code registered twice"
    );
    assert_eq!(
        store.issued_count("outside").await.expect("count"),
        3,
        "none of the refused batch"
    );
    assert_eq!(
        store.issued("Q00002").await.expect("issued")[0].uri,
        "https://id.gs1.org/01/06901234567892/21/Q00002"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).expect("open"));
    concurrent_issuing_never_repeats(store.clone()).await;
    refusals_change_nothing(store.clone()).await;
    unknown_own_codes_follow_the_rule_policy(store.clone()).await;
    codes_printed_elsewhere_are_registered_and_numbering_continues(store.clone()).await;
    drop(store);
    // After a restart numbering continues where it stopped.
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).expect("reopen"));
    let engine = Engine::new(store);
    let more = engine
        .issue_codes(&request("tiny", 5))
        .await
        .expect("after restart");
    assert_eq!(more.codes[0].code, "T91");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    let Some(url) = suyuan_store::suite::pg_url() else {
        return;
    };
    let schema = format!("t_codes_{}", std::process::id());
    PgStore::drop_schema(&url, &schema).await.expect("clean");
    let store: Arc<dyn Store> = Arc::new(
        PgStore::connect(&url, Some(&schema))
            .await
            .expect("connect"),
    );
    concurrent_issuing_never_repeats(store.clone()).await;
    refusals_change_nothing(store.clone()).await;
    unknown_own_codes_follow_the_rule_policy(store.clone()).await;
    codes_printed_elsewhere_are_registered_and_numbering_continues(store).await;
    PgStore::drop_schema(&url, &schema).await.expect("drop");
}
