//! The suite's checks of everything besides the ledger: scans, definitions, code sequences and the register, accounts and the access log, master data.

#[allow(unused_imports)]
use super::*;

pub(super) fn scan(object: &str, minute: u32) -> crate::ScanRecord {
    crate::ScanRecord {
        object: object.to_string(),
        scanned_at: format!("2024-03-05T12:{minute:02}:00+08:00"),
        city: Some("广州".into()),
        province: Some("广东".into()),
        channel: "qr".into(),
    }
}

/// Consumer scans are counted per object and listed newest first.
pub async fn scans_are_counted_per_object(s: TestStore) {
    let a = "https://id.gs1.org/01/06901234123456/21/A";
    let b = "https://id.gs1.org/01/06901234123456/21/B";
    let n = s
        .record_scans(vec![scan(a, 1), scan(a, 2), scan(b, 3)])
        .await
        .expect("record");
    assert_eq!(n, vec![1, 2, 1]);
    assert_eq!(
        s.record_scans(vec![scan(a, 4)]).await.expect("record"),
        vec![3]
    );
    let mut unplaced = scan(b, 5);
    unplaced.city = None;
    s.record_scans(vec![unplaced]).await.expect("record");
    assert!(s.locate_scan(b, "成都", "四川").await.expect("locate"));
    assert!(
        !s.locate_scan(b, "拉萨", "西藏")
            .await
            .expect("located once")
    );
    let (_, latest) = s.scans(b, 1).await.expect("scans");
    assert_eq!(latest[0].city.as_deref(), Some("成都"));
    let followed = s.scans_after(0, 10).await.expect("scans after");
    assert_eq!(followed.len(), 5);
    assert!(
        followed.windows(2).all(|w| w[0].0 < w[1].0),
        "positions rise"
    );
    assert_eq!(followed[2].1.object, b);
    let rest = s.scans_after(followed[1].0, 10).await.expect("scans after");
    assert_eq!(rest.len(), 3);
    let (total, recent) = s.scans(a, 2).await.expect("scans");
    assert_eq!(total, 3);
    assert_eq!(
        recent
            .iter()
            .map(|r| r.scanned_at.as_str())
            .collect::<Vec<_>>(),
        vec!["2024-03-05T12:04:00+08:00", "2024-03-05T12:02:00+08:00"]
    );
    assert_eq!(
        s.scans("https://id.gs1.org/01/06901234123456/21/none", 5)
            .await
            .expect("scans")
            .0,
        0
    );
    assert_eq!(s.stats().await.expect("stats").scans, 5);
    assert_eq!(
        s.stats().await.expect("stats").events,
        0,
        "scans are not ledger events"
    );
}

/// Saving a changed definition makes a new version; saving it unchanged keeps the version; kinds are apart.
pub async fn definitions_are_versioned(s: TestStore) {
    const R: &str = crate::kinds::CODING_RULE;
    let v1 = json!({"template": "{SEQ:6}", "target": "internal"});
    let v2 = json!({"template": "A{SEQ:6}", "target": "internal"});
    assert_eq!(
        s.save_definition(R, "unit", &v1)
            .await
            .expect("save")
            .version,
        1
    );
    assert_eq!(
        s.save_definition(R, "unit", &v1)
            .await
            .expect("same")
            .version,
        1
    );
    assert_eq!(
        s.save_definition(R, "unit", &v2)
            .await
            .expect("edit")
            .version,
        2
    );
    s.save_definition(R, "case", &v1).await.expect("other rule");
    let latest = s
        .definition(R, "unit", None)
        .await
        .expect("rule")
        .expect("known");
    assert_eq!((latest.version, &latest.definition), (2, &v2));
    let first = s
        .definition(R, "unit", Some(1))
        .await
        .expect("rule")
        .expect("v1");
    assert_eq!(first.definition, v1);
    assert!(
        s.definition(R, "unit", Some(3))
            .await
            .expect("rule")
            .is_none()
    );
    assert!(s.definition(R, "none", None).await.expect("rule").is_none());
    let all = s.definitions(R).await.expect("rules");
    assert_eq!(
        all.iter()
            .map(|r| (r.name.as_str(), r.version))
            .collect::<Vec<_>>(),
        [("case", 1), ("unit", 2)]
    );
    assert_eq!(
        s.definition_versions(R, "unit")
            .await
            .expect("versions")
            .len(),
        2
    );
    let other = crate::kinds::LABEL_TEMPLATE;
    let t = s
        .save_definition(other, "unit", &v1)
        .await
        .expect("template");
    assert_eq!((t.kind.as_str(), t.version), (other, 1));
    assert_eq!(s.definitions(R).await.expect("rules").len(), 2);
    assert_eq!(s.definitions(other).await.expect("templates").len(), 1);
}

/// Sequence blocks never overlap, per scope, also when many clients reserve at once.
pub async fn sequences_are_reserved_in_disjoint_blocks(s: TestStore) {
    assert_eq!(
        s.reserve_sequence("r", "2026-11-25", 10, u64::MAX)
            .await
            .expect("a")
            .expect("fits"),
        1
    );
    assert_eq!(
        s.reserve_sequence("r", "2026-11-25", 5, u64::MAX)
            .await
            .expect("b")
            .expect("fits"),
        11
    );
    assert_eq!(
        s.reserve_sequence("r", "2026-11-26", 5, u64::MAX)
            .await
            .expect("c")
            .expect("fits"),
        1
    );
    assert_eq!(
        s.reserve_sequence("q", "2026-11-25", 1, u64::MAX)
            .await
            .expect("d")
            .expect("fits"),
        1
    );
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            for _ in 0..25 {
                got.push(
                    s.reserve_sequence("r", "x", 20, u64::MAX)
                        .await
                        .expect("reserve")
                        .expect("fits"),
                );
            }
            got
        }));
    }
    let mut starts = Vec::new();
    for t in tasks {
        starts.extend(t.await.expect("task"));
    }
    starts.sort_unstable();
    assert_eq!(starts, (0..200).map(|i| 1 + i * 20).collect::<Vec<u64>>());
    // A block that would reach the limit is refused and reserves nothing.
    assert_eq!(
        s.reserve_sequence("cap", "", 8, 10).await.expect("a"),
        Some(1)
    );
    assert_eq!(s.reserve_sequence("cap", "", 2, 10).await.expect("b"), None);
    assert_eq!(
        s.reserve_sequence("cap", "", 1, 10).await.expect("c"),
        Some(9)
    );
    assert_eq!(s.reserve_sequence("cap", "", 1, 10).await.expect("d"), None);
    assert_eq!(
        s.reserve_sequence("new", "", 10, 10).await.expect("e"),
        None
    );
}

pub(super) fn issued(code: &str, uri: &str) -> crate::IssuedCode {
    crate::IssuedCode {
        code: code.into(),
        uri: uri.into(),
        rule: "unit".into(),
        version: 1,
        issued_at: "2026-11-25T10:00:00Z".into(),
        revoked: None,
    }
}

/// Codes register all or none; a repeated identity refuses its whole batch; revocation is recorded.
pub async fn codes_register_all_or_none(s: TestStore) {
    s.register_codes(vec![
        issued("A1", "urn:suyuan:t:unit:A1"),
        issued("A2", "urn:suyuan:t:unit:A2"),
    ])
    .await
    .expect("register");
    let e = s
        .register_codes(vec![
            issued("A3", "urn:suyuan:t:unit:A3"),
            issued("A2", "urn:suyuan:t:unit:A2"),
        ])
        .await
        .expect_err("duplicate");
    assert!(
        matches!(&e, StoreError::DuplicateCode { code, .. } if code == "A2"),
        "{e}"
    );
    assert!(
        s.issued("A3").await.expect("issued").is_empty(),
        "nothing of the refused batch"
    );
    let e = s
        .register_codes(vec![
            issued("B1", "urn:suyuan:t:unit:B1"),
            issued("B1", "urn:suyuan:t:unit:B1"),
        ])
        .await
        .expect_err("duplicate within the batch");
    assert!(matches!(e, StoreError::DuplicateCode { .. }));
    assert!(s.issued("B1").await.expect("issued").is_empty());
    // The same serial under another identity is a different code.
    s.register_codes(vec![issued("A1", "urn:suyuan:t:case:A1")])
        .await
        .expect("other identity");
    assert_eq!(s.issued("A1").await.expect("by code").len(), 2);
    let by_uri = s.issued("urn:suyuan:t:unit:A2").await.expect("by uri");
    assert_eq!(by_uri, vec![issued("A2", "urn:suyuan:t:unit:A2")]);
    assert_eq!(
        s.revoke_code("urn:suyuan:t:unit:A2", "label damaged")
            .await
            .expect("revoke"),
        1
    );
    assert_eq!(
        s.revoke_code("urn:suyuan:t:unit:A2", "again")
            .await
            .expect("revoke"),
        0
    );
    assert_eq!(
        s.issued("A2").await.expect("issued")[0].revoked.as_deref(),
        Some("label damaged")
    );
    assert_eq!(s.issued_count("unit").await.expect("count"), 3);
}

/// Account records: create refuses a second record with the same kind and id, put replaces, delete removes;
/// the access log answers newest first, per user.
pub async fn accounts_and_access_log(s: TestStore) {
    use crate::{AccessEntry, account_kinds::USER};
    s.put_account(USER, "li", &json!({"role": "viewer"}), true)
        .await
        .expect("create");
    let again = s
        .put_account(USER, "li", &json!({"role": "admin"}), true)
        .await;
    assert!(
        matches!(&again, Err(StoreError::Exists { kind, id }) if kind == "user" && id == "li"),
        "{again:?}"
    );
    assert_eq!(
        s.account(USER, "li").await.expect("read"),
        Some(json!({"role": "viewer"}))
    );
    s.put_account(USER, "li", &json!({"role": "engineer"}), false)
        .await
        .expect("replace");
    s.put_account(USER, "wang", &json!({"role": "partner"}), true)
        .await
        .expect("create");
    let all = s.accounts(USER).await.expect("list");
    assert_eq!(
        all,
        vec![
            ("li".to_string(), json!({"role": "engineer"})),
            ("wang".to_string(), json!({"role": "partner"}))
        ]
    );
    assert!(s.accounts("token").await.expect("other kind").is_empty());
    assert!(s.delete_account(USER, "li").await.expect("delete"));
    assert!(!s.delete_account(USER, "li").await.expect("delete again"));
    assert_eq!(s.account(USER, "li").await.expect("read"), None);
    for (i, user) in ["reg", "other", "reg"].into_iter().enumerate() {
        s.log_access(AccessEntry {
            id: 0,
            at: format!("2026-11-26T00:00:0{i}.000Z"),
            user: user.into(),
            request: format!("GET /api/v1/events?n={i}"),
            status: 200,
            items: i as u64,
        })
        .await
        .expect("log");
    }
    let log = s.access_log(Some("reg"), 10).await.expect("log");
    assert_eq!(
        log.iter().map(|e| e.request.as_str()).collect::<Vec<_>>(),
        ["GET /api/v1/events?n=2", "GET /api/v1/events?n=0"]
    );
    assert!(log[0].id > log[1].id);
    assert_eq!(s.access_log(None, 2).await.expect("log").len(), 2);
}

/// Master data is stored per type and id; a later capture of an element merges into it (attributes by id,
/// children replaced when given); a read can be narrowed to vocabulary types.
pub async fn master_data_merges_by_type_and_id(s: TestStore) {
    use suyuan_epcis::masterdata::VocabularyElement;
    let loc = "urn:epcglobal:epcis:vtype:BusinessLocation";
    let el = |vtype: &str, id: &str, attrs: &[(&str, Value)], kids: &[&str]| VocabularyElement {
        vtype: vtype.into(),
        id: id.into(),
        attributes: attrs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        children: kids.iter().map(|k| k.to_string()).collect(),
        namespaces: Default::default(),
    };
    s.put_master_data(vec![
        el(
            loc,
            "urn:epc:id:sgln:6901234.00001.0",
            &[("urn:x:name", json!("一号工厂")), ("urn:x:sst", json!(201))],
            &["urn:epc:id:sgln:6901234.00001.1"],
        ),
        el(
            "urn:epcglobal:epcis:vtype:ReadPoint",
            "urn:epc:id:sgln:6901234.00001.0",
            &[("urn:x:name", json!("门口"))],
            &[],
        ),
    ])
    .await
    .expect("put");
    s.put_master_data(vec![el(
        loc,
        "urn:epc:id:sgln:6901234.00001.0",
        &[("urn:x:sst", json!(202)), ("urn:x:city", json!("上海"))],
        &[],
    )])
    .await
    .expect("put again");
    let all = s.master_data(&[]).await.expect("read");
    assert_eq!(all.len(), 2, "one element per type and id: {all:?}");
    let locations = s.master_data(&[loc.to_string()]).await.expect("read");
    assert_eq!(locations.len(), 1);
    assert_eq!(
        locations[0].attributes,
        [
            ("urn:x:name".to_string(), json!("一号工厂")),
            ("urn:x:sst".to_string(), json!(202)),
            ("urn:x:city".to_string(), json!("上海"))
        ]
    );
    assert_eq!(locations[0].children, ["urn:epc:id:sgln:6901234.00001.1"]);
    assert!(
        s.master_data(&["urn:x:none".to_string()])
            .await
            .expect("read")
            .is_empty()
    );
}
