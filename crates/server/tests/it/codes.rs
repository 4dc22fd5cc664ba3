//! Identifiers and coding rules over HTTP: parsing every form, issuing, checking and revoking codes.

#[allow(unused_imports)]
use super::*;

#[tokio::test]
async fn identifiers_parse_answers_every_form_or_a_located_error() {
    let t = test_app().await;
    let ok = t
        .get("/api/v1/identifiers/parse?value=https%3A%2F%2Fbrand.cn%2F01%2F06901234567892%2F10%2FL1&gcp_length=9")
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let j = ok.json();
    assert_eq!(j["kind"], "digital_link");
    assert_eq!(j["ais"], json!({"01": "06901234567892", "10": "L1"}));
    assert_eq!(j["urn"], "urn:epc:class:lgtin:690123456.0789.L1");
    assert_eq!(j["element_string"], "(01)06901234567892(10)L1");
    let bad = t
        .get("/api/v1/identifiers/parse?value=(01)06901234567891")
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.content_type.starts_with("application/problem+json"));
    let text = bad.body.clone();
    assert!(
        text.contains("GTIN 06901234567891: check digit should be 2, got 1"),
        "{text}"
    );
    assert!(text.contains("\"parameter\":\"value\""), "{text}");
    let unknown = t.get("/api/v1/identifiers/parse?value=1&colour=red").await;
    assert!(unknown.body.contains("colour"), "{}", unknown.body);
    let missing = t.get("/api/v1/identifiers/parse").await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn coding_rules_issue_check_and_revoke_codes() {
    let t = test_app().await;
    let rule = json!({"name": "unit", "definition": {"template": "{LINE:2}{YY}{MM}{SEQ:5:10:monthly}{CHECK:mod10}",
        "target": "sgtin", "gtin": "6901234567892"}});
    let saved = t.post_json("/api/v1/coding-rules", &rule).await;
    assert_eq!(saved.status, StatusCode::CREATED, "{}", saved.body);
    assert_eq!(saved.json()["version"], 1);
    let again = t.post_json("/api/v1/coding-rules", &rule).await;
    assert_eq!(
        (again.status, again.json()["version"].clone()),
        (StatusCode::OK, json!(1))
    );
    let bad = t
        .post_json(
            "/api/v1/coding-rules",
            &json!({"name": "x", "definition": {"template": "{SEQ:99}"}}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        bad.json()["errors"][0]["pointer"],
        "/definition/template",
        "{}",
        bad.body
    );
    let issued = t
        .post_json(
            "/api/v1/codes",
            &json!({"rule": "unit", "count": 3, "context": {"line": "07"},
            "at": "2026-11-25T09:00:00+08:00"}),
        )
        .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.body);
    let j = issued.json();
    assert_eq!(j["codes"][0]["code"], "072611000014");
    assert_eq!(
        j["codes"][2]["uri"],
        "https://id.gs1.org/01/06901234567892/21/072611000038"
    );
    // After the setup and the rule's own save (an administrative event).
    assert_eq!(j["events"], json!([SETUP_EVENTS + 2]));
    let missing = t
        .post_json("/api/v1/codes", &json!({"rule": "unit", "count": 1}))
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        missing.json()["errors"][0]["pointer"],
        "/context/line",
        "{}",
        missing.body
    );
    let too_many = t
        .post_json(
            "/api/v1/codes",
            &json!({"rule": "unit", "count": 0, "context": {"line": "07"}}),
        )
        .await;
    assert_eq!(too_many.json()["errors"][0]["pointer"], "/count");
    let unknown = t
        .post_json("/api/v1/codes", &json!({"rule": "nope", "count": 1}))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let ok = t.get("/api/v1/codes/check?value=072611000038").await;
    assert_eq!(ok.json()["status"], "valid", "{}", ok.body);
    let dl = t
        .get("/api/v1/codes/check?value=https%3A%2F%2Fid.gs1.org%2F01%2F06901234567892%2F21%2F072611000038")
        .await;
    assert_eq!(dl.json()["status"], "valid", "{}", dl.body);
    let wrong = t.get("/api/v1/codes/check?value=072611000035").await;
    assert_eq!(wrong.json()["status"], "invalid");
    assert!(
        wrong.json()["message"]
            .as_str()
            .expect("msg")
            .contains("check character should be 8")
    );
    let never = t.get("/api/v1/codes/check?value=072611000991").await;
    assert_eq!(never.json()["status"], "unknown", "{}", never.body);
    let r = t
        .post_json(
            "/api/v1/codes/revoke",
            &json!({"code": "072611000038", "reason": "label torn"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        t.get("/api/v1/codes/check?value=072611000038").await.json()["status"],
        "revoked"
    );
    // The revocation is on the ledger, in the same transaction: who, which code, why.
    let audit = t
        .get("/api/v1/objects/urn:suyuan:sys:code:072611000038")
        .await
        .json();
    let revoked = &audit["history"][0]["event"];
    assert_eq!(revoked["sy:change"], "code.revoked", "{audit}");
    assert_eq!(revoked["sy:details"]["reason"], "label torn");
    assert_eq!(r.json()["eventID"], revoked["eventID"]);
    let twice = t
        .post_json(
            "/api/v1/codes/revoke",
            &json!({"code": "072611000038", "reason": "again"}),
        )
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    let list = t.get("/api/v1/coding-rules").await.json();
    assert_eq!(list["rules"][0]["issued"], 3);
    let one = t.get("/api/v1/coding-rules/unit").await.json();
    assert_eq!(one["versions"].as_array().map(Vec::len), Some(1));
}
