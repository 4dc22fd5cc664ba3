//! Quality end to end through the API, on SQLite and PostgreSQL: the sampling lookup, a failed inspection
//! holding the lot and everything made from it (cans, case, the shipped pallet listed as outside), the
//! refusals naming the hold and its NCR, the NCR lifecycle with a second-person concession, a release that
//! frees nothing another hold keeps, the switching rules tightening after two rejected lots, a partial release after rework, a partner's
//! capture of a held can stored with a warning, supplier figures equal to a hand count, SPC, and the batch report.

use super::*;

const RAW: &str = "06901234000109";
const CAN: &str = "06901234000116";

fn lot(l: &str) -> String {
    format!("https://id.gs1.org/01/{RAW}/10/{l}")
}

fn can(s: u32) -> String {
    format!("https://id.gs1.org/01/{CAN}/21/{s}")
}

fn sscc(n: u32) -> String {
    let body = format!("06901234{n:09}");
    let c = suyuan_core::gs1::check_digit(&body).expect("digits");
    format!("https://id.gs1.org/00/{body}{c}")
}

fn ev(v: Value) -> Value {
    let mut v = v;
    v["eventTime"] = json!("2026-10-12T08:00:00.000+08:00");
    v["eventTimeZoneOffset"] = json!("+08:00");
    v
}

/// What `suyuan serve`'s reactions do after a commit: the plant's rules run over the new events.
pub(crate) async fn react(t: &TestApp) {
    suyuan_engine::reactor::Runtime::new(t.state.engine.clone(), "test")
        .with(std::sync::Arc::new(
            suyuan_engine::rules::run::Rules::default(),
        ))
        .drain()
        .await
        .expect("rules ran");
}

impl TestApp {
    pub(crate) async fn get_as(&self, token: &str, uri: &str) -> Answer {
        self.send(
            Request::get(uri)
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await
    }

    pub(crate) async fn post_as(&self, token: &str, uri: &str, body: &Value) -> Answer {
        self.send(
            Request::post(uri)
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::from(body.to_string()))
                .expect("request"),
        )
        .await
    }

    pub(crate) async fn user_token(&self, name: &str, role: &str) -> String {
        let e = &self.state.engine;
        let new = suyuan_engine::accounts::NewUser {
            name: name.into(),
            role: role.into(),
            password: Some("correct horse battery".into()),
            ..Default::default()
        };
        e.create_user("test", &new).await.expect("user");
        let expires = chrono::Utc::now() + chrono::Duration::days(1);
        e.create_token("test", name, &[], expires, "tests")
            .await
            .expect("token")
            .0
    }

    async fn capture_ok(&self, v: Value) {
        let a = self.post_json("/api/v1/events", &ev(v)).await;
        assert!(a.status.is_success(), "{}", a.body);
    }
}

async fn make_goods(t: &TestApp, l: &str, first_can: u32, case: u32, pallet: u32) {
    t.capture_ok(json!({"type": "ObjectEvent", "action": "ADD", "bizStep": "receiving", "disposition": "in_progress",
        "quantityList": [{"epcClass": lot(l), "quantity": 100, "uom": "KGM"}]}))
        .await;
    let cans: Vec<String> = (first_can..first_can + 4).map(can).collect();
    t.capture_ok(
        json!({"type": "TransformationEvent", "bizStep": "commissioning",
        "inputQuantityList": [{"epcClass": lot(l), "quantity": 10, "uom": "KGM"}],
        "outputEPCList": cans}),
    )
    .await;
    t.capture_ok(
        json!({"type": "AggregationEvent", "action": "ADD", "bizStep": "packing",
        "parentID": sscc(case), "childEPCs": [can(first_can), can(first_can + 1)]}),
    )
    .await;
    t.capture_ok(
        json!({"type": "AggregationEvent", "action": "ADD", "bizStep": "packing",
        "parentID": sscc(pallet), "childEPCs": [sscc(case)]}),
    )
    .await;
    t.capture_ok(
        json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "shipping",
        "disposition": "in_transit", "epcList": [sscc(pallet)]}),
    )
    .await;
}

fn plan() -> Value {
    json!({"code": "IQC-RAW", "name": "raw milk incoming", "stage": "iqc", "subject": RAW, "level": "II",
        "aql": {"major": 1.0}, "characteristics": [
            {"name": "protein", "class": "major", "lsl": 2.8, "usl": 3.6, "unit": "g/100g", "method": "GB 5009.5"}]})
}

async fn flow(t: TestApp) {
    // The sampling lookup, as the standard's table gives it.
    let a = t
        .get("/api/v1/quality/sampling?lot_size=1000&level=II&aql=1.0&severity=normal")
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let j = a.json();
    assert_eq!(
        (
            j["code_letter"].as_str(),
            j["sample_size"].as_u64(),
            j["ac"].as_u64(),
            j["re"].as_u64()
        ),
        (Some("J"), Some(80), Some(2), Some(3))
    );
    let bad = t
        .get("/api/v1/quality/sampling?lot_size=1000&aql=1.1")
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    assert!(bad.body.contains("aql"), "{}", bad.body);

    let a = t.post_json("/api/v1/quality/plans", &plan()).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let a = t
        .get("/api/v1/quality/plans/IQC-RAW/sample?lot_size=1000")
        .await;
    assert_eq!(a.json()["sample_size"], 80, "{}", a.body);
    assert_eq!(a.json()["stage"], "normal");

    make_goods(&t, "L1", 1, 1, 2).await;
    // Three of eighty out of limits: Ac 2, the lot fails.
    let a = t
        .post_json(
            "/api/v1/quality/inspections",
            &json!({"plan": "IQC-RAW", "object": lot("L1"),
            "lot_size": 1000, "supplier": "SUP1", "instrument": "Kjeldahl K-1",
            "findings": [{"characteristic": "protein", "values": [3.0, 2.5, 2.6, 3.9, 3.1]}]}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let out = a.json();
    assert_eq!(out["judgement"]["accepted"], false, "{}", a.body);
    let ncr = out["ncr"].as_str().expect("ncr").to_string();
    // The built-in rule holds the lot from the outbox; run twice, as a retry would, it holds once.
    react(&t).await;
    react(&t).await;
    let holds = t.get("/api/v1/quality/holds").await.json();
    assert_eq!(holds["holds"].as_array().map(Vec::len), Some(1), "{holds}");
    let hold = holds["holds"][0]["id"].as_str().expect("hold").to_string();
    assert_eq!(holds["holds"][0]["ncr"], ncr.as_str(), "{holds}");
    // The lot, four cans, the case and the pallet (in transit).
    let kept = holds["holds"][0]["objects"]
        .as_array()
        .expect("objects")
        .clone();
    assert_eq!(kept.len(), 7, "{kept:?}");
    for k in [lot("L1"), can(3), sscc(1), sscc(2)] {
        assert!(kept.contains(&json!(k)), "{k} not in {kept:?}");
    }
    let report = t.get(&format!("/api/v1/quality/ncrs/{ncr}")).await.json();
    assert_eq!(report["holds"], json!([hold]), "{report}");
    // The quality manager's review task and notice, made once.
    let qm_token = t.user_token("qm", "quality_manager").await;
    let inbox = t.get_as(&qm_token, "/api/v1/tasks").await.json();
    let kinds: Vec<&str> = inbox["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .filter_map(|x| x["kind"].as_str())
        .collect();
    assert_eq!(kinds, vec!["task", "notice"], "{inbox}");
    assert!(inbox.to_string().contains(&ncr), "{inbox}");

    // Shipping a held can or consuming the held lot is refused, naming the hold and the NCR.
    let a = t
        .post_json(
            "/api/v1/events",
            &ev(json!({"type": "ObjectEvent", "action": "OBSERVE",
            "bizStep": "shipping", "disposition": "in_transit", "epcList": [can(3)]})),
        )
        .await;
    assert!(a.status.is_client_error(), "{}", a.body);
    assert!(
        a.body.contains(&hold) && a.body.contains(&ncr),
        "{}",
        a.body
    );
    let a = t
        .post_json(
            "/api/v1/events",
            &ev(
                json!({"type": "TransformationEvent", "bizStep": "commissioning",
            "inputQuantityList": [{"epcClass": lot("L1"), "quantity": 1, "uom": "KGM"}],
            "outputEPCList": [can(99)]}),
            ),
        )
        .await;
    assert!(a.status.is_client_error(), "{}", a.body);
    assert!(a.body.contains(&ncr), "{}", a.body);

    // A second hold on one can, by hand.
    let a = t
        .post_json(
            "/api/v1/quality/holds",
            &json!({"object": can(1), "reason": "dented", "only_this": true}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let dent = a.json()["hold"].as_str().expect("hold").to_string();

    // The NCR: review, a concession, approved by a second person only.
    let step = |action: &str, extra: Value| {
        let mut b = json!({"action": action, "why": format!("{action} by the board")});
        if let (Some(o), Some(x)) = (b.as_object_mut(), extra.as_object()) {
            o.extend(x.clone());
        }
        b
    };
    let url = format!("/api/v1/quality/ncrs/{ncr}");
    let a = t.post_json(&url, &step("close", json!({}))).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    let a = t.post_json(&url, &step("review", json!({}))).await;
    assert_eq!(a.json()["state"], "under_review", "{}", a.body);
    let a = t
        .post_json(&url, &step("dispose", json!({"disposition": "concession"})))
        .await;
    assert_eq!(a.json()["state"], "awaiting_approval", "{}", a.body);
    let a = t.post_json(&url, &step("approve", json!({}))).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert!(a.body.contains("someone other than admin"), "{}", a.body);
    let a = t
        .post_as(&qm_token, &url, &step("approve", json!({})))
        .await;
    assert_eq!(a.json()["state"], "disposed", "{}", a.body);
    // The concession released the first hold; the dented can is still held by the second.
    let open = t.get("/api/v1/quality/holds").await.json();
    let ids: Vec<&str> = open["holds"]
        .as_array()
        .expect("holds")
        .iter()
        .filter_map(|h| h["id"].as_str())
        .collect();
    assert_eq!(ids, vec![dent.as_str()]);
    let a = t
        .post_json(
            "/api/v1/events",
            &ev(json!({"type": "ObjectEvent", "action": "OBSERVE",
            "bizStep": "shipping", "disposition": "in_transit", "epcList": [can(1)]})),
        )
        .await;
    assert!(a.body.contains(&dent), "{}", a.body);
    let a = t
        .post_json(
            "/api/v1/events",
            &ev(json!({"type": "ObjectEvent", "action": "OBSERVE",
            "bizStep": "shipping", "disposition": "in_transit", "epcList": [can(3)]})),
        )
        .await;
    assert!(a.status.is_success(), "{}", a.body);
    let a = t.post_json(&url, &step("close", json!({}))).await;
    assert_eq!(a.json()["state"], "closed", "{}", a.body);
    let hist = a.json()["history"].as_array().expect("history").len();
    assert_eq!(
        hist, 5,
        "raise, review, dispose, approve, close: {}",
        a.body
    );

    // Releasing the dented can's hold frees it.
    let a = t
        .post_json(
            &format!("/api/v1/quality/holds/{dent}/release"),
            &json!({"why": "reworked and re-inspected"}),
        )
        .await;
    assert_eq!(a.json()["released"], json!([can(1)]), "{}", a.body);

    // A second rejected lot within five: the supplier's scheme is tightened.
    make_goods(&t, "L2", 11, 3, 4).await;
    let a = t
        .post_json(
            "/api/v1/quality/inspections",
            &json!({"plan": "IQC-RAW", "object": lot("L2"),
            "lot_size": 1000, "supplier": "SUP1",
            "findings": [{"characteristic": "protein", "values": [2.0, 2.1, 2.2]}]}),
        )
        .await;
    assert_eq!(a.json()["judgement"]["accepted"], false, "{}", a.body);
    react(&t).await;
    let schemes = t.get("/api/v1/quality/schemes").await.json();
    assert_eq!(schemes["schemes"][0]["stage"], "tightened", "{schemes}");
    let a = t
        .get("/api/v1/quality/plans/IQC-RAW/sample?lot_size=1000&supplier=SUP1")
        .await;
    assert_eq!(a.json()["stage"], "tightened", "{}", a.body);

    // After a partial rework, only the reworked can is released; the rest stays held.
    let l2_hold = t.get("/api/v1/quality/holds").await.json()["holds"]
        .as_array()
        .expect("holds")
        .iter()
        .find(|h| h["origin"] == lot("L2"))
        .and_then(|h| h["id"].as_str())
        .expect("L2's hold")
        .to_string();
    let a = t
        .post_json(
            &format!("/api/v1/quality/holds/{l2_hold}/release"),
            &json!({"why": "can 13 reworked and re-inspected", "objects": [can(13)]}),
        )
        .await;
    assert_eq!(a.json()["released"], json!([can(13)]), "{}", a.body);
    let ship = |c: u32| {
        ev(json!({"type": "ObjectEvent", "action": "OBSERVE",
            "bizStep": "shipping", "disposition": "in_transit", "epcList": [can(c)]}))
    };
    let mut to_partner = ship(13);
    to_partner["destinationList"] =
        json!([{"type": "owning_party", "destination": "urn:epc:id:pgln:6930001.00000"}]);
    let a = t.post_json("/api/v1/events", &to_partner).await;
    assert!(a.status.is_success(), "{}", a.body);
    let a = t.post_json("/api/v1/events", &ship(14)).await;
    assert!(a.body.contains(&l2_hold), "{}", a.body);

    // The shipped can is held again by hand; the partner's receipt of it is stored, with a warning, and
    // alerts the plant: the ledger never refuses a fact from outside, and the partner's onward shipment
    // of it, which the plant itself could not record, is kept with a warning.
    let a = t
        .post_json(
            "/api/v1/quality/holds",
            &json!({"object": can(13), "reason": "seal check", "only_this": true}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let e = &t.state.engine;
    let partner = suyuan_engine::accounts::NewUser {
        name: "d1".into(),
        role: "partner".into(),
        company_prefixes: vec!["6930001".into()],
        ..Default::default()
    };
    e.create_user("test", &partner).await.expect("partner");
    let expires = chrono::Utc::now() + chrono::Duration::days(1);
    let (token, _) = e
        .create_token("test", "d1", &[], expires, "d1")
        .await
        .expect("token");
    let a = t
        .post_as(
            &token,
            "/api/v1/events",
            &ev(json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "shipping",
                "disposition": "in_transit", "epcList": [can(13)],
                "sourceList": [{"type": "owning_party", "source": "urn:epc:id:pgln:6930001.00000"}]})),
        )
        .await;
    assert!(
        a.status.is_success(),
        "a partner's fact is stored: {}",
        a.body
    );
    assert!(a.body.contains("held_object"), "{}", a.body);
    // What the server's alert watch does after a capture.
    assert!(e.watch_sales().await.expect("watch") >= 1);
    let alerts = t.get("/api/v1/alerts?kind=held_moved").await;
    assert!(alerts.body.contains(&can(13)), "{}", alerts.body);

    // An accepted lot under tightened inspection; then the supplier's figures equal a hand count: three
    // lots, one accepted, 80 items sampled each, 3 + 3 + 0 measurements out of limits.
    make_goods(&t, "L3", 21, 5, 6).await;
    let a = t
        .post_json(
            "/api/v1/quality/inspections",
            &json!({"plan": "IQC-RAW", "object": lot("L3"), "lot_size": 1000, "supplier": "SUP1",
            "findings": [{"characteristic": "protein", "values": [3.1, 3.2, 3.0, 3.3]}]}),
        )
        .await;
    assert_eq!(a.json()["judgement"]["accepted"], true, "{}", a.body);
    assert_eq!(a.json()["severity"], "tightened", "{}", a.body);
    let cards = t.get("/api/v1/quality/suppliers").await.json();
    let c = &cards["scorecards"][0];
    assert_eq!(
        (c["supplier"].as_str(), c["material"].as_str()),
        (Some("SUP1"), Some(RAW))
    );
    let f = &c["figures"];
    assert_eq!(
        (
            f["lots"].as_u64(),
            f["accepted"].as_u64(),
            f["inspected"].as_u64(),
            f["defects"].as_u64()
        ),
        (Some(3), Some(1), Some(240), Some(6)),
        "{cards}"
    );
    assert!(
        (f["ppm"].as_f64().unwrap_or(0.0) - 25_000.0).abs() < 1e-6,
        "{cards}"
    );
    assert!((f["acceptance_rate"].as_f64().unwrap_or(0.0) - 1.0 / 3.0).abs() < 1e-9);
    assert_eq!(c["stage"], "tightened", "{cards}");
    // The dashboard's supplier pass rate names the supplier in the reader's language.
    let a = t
        .post_json(
            "/api/v1/masterdata/supplier",
            &json!({"code": "SUP1", "name_zh": "北大荒牧场", "name_en": "Beidahuang Dairy Farm"}),
        )
        .await;
    assert!(a.status.is_success(), "{}", a.body);
    let today = chrono::Utc::now().date_naive();
    let rate = t
        .get(&format!(
            "/api/v1/dashboard/supplier_pass_rate?lang=en&from={today}&to={today}"
        ))
        .await
        .json();
    assert_eq!(
        rate["categories"][0]["name"], "Beidahuang Dairy Farm",
        "{rate}"
    );
    assert_eq!(rate["series"][0]["values"], json!([33]), "{rate}");
    let bad = t.get("/api/v1/quality/suppliers?from=2026-13-01").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);

    // SPC over the plan's 12 measurements (inspections of 5, 3 and 4: single values, I-MR).
    let a = t
        .get("/api/v1/quality/spc?plan=IQC-RAW&characteristic=protein")
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let spc = a.json();
    assert_eq!(
        (spc["measurements"].as_u64(), spc["chart"]["kind"].as_str()),
        (Some(12), Some("i_mr"))
    );
    let a = t
        .get("/api/v1/quality/spc?plan=IQC-RAW&characteristic=colour")
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert!(a.body.contains("characteristic"), "{}", a.body);

    // The batch report of L1: its inspection and NCR, what was made of it, the events with their hashes.
    let a = t
        .get(&format!(
            "/api/v1/quality/report?lot={}",
            percent_encoding::utf8_percent_encode(&lot("L1"), percent_encoding::NON_ALPHANUMERIC)
        ))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let r = a.json();
    assert_eq!(r["inspections"].as_array().map(Vec::len), Some(1), "{r}");
    assert_eq!(r["ncrs"][0]["id"], ncr.as_str());
    assert_eq!(
        (
            r["genealogy"]["units"].as_u64(),
            r["genealogy"]["logistic_units"].as_u64()
        ),
        (Some(4), Some(2))
    );
    let hashes: Vec<&str> = r["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["event_hash"].as_str())
        .collect();
    assert!(
        !hashes.is_empty() && hashes.iter().all(|h| h.starts_with("ni:///sha-256;")),
        "{r}"
    );
    // A photo is kept by its SHA-256 and named by an inspection; a file of another type is refused.
    let upload = |mime: &str, bytes: &'static [u8]| {
        Request::post("/api/v1/quality/attachments")
            .header(header::CONTENT_TYPE, mime)
            .header("x-file-name", "seal%20photo.png")
            .body(Body::from(bytes))
            .expect("request")
    };
    let a = t.send(upload("image/png", b"\x89PNG not really")).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let photo = a.json();
    assert_eq!(photo["name"], "seal photo.png");
    assert_eq!(photo["sha256"].as_str().map(str::len), Some(64));
    let a = t.send(upload("text/html", b"<script>")).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert!(a.body.contains("content-type"), "{}", a.body);
    let a = t
        .post_json(
            "/api/v1/quality/inspections",
            &json!({"plan": "IQC-RAW", "object": lot("L3"), "lot_size": 1000, "supplier": "SUP1",
            "findings": [{"characteristic": "protein", "values": [3.1]}], "attachments": [photo]}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let listed = t
        .get(&format!(
            "/api/v1/quality/inspections?object={}",
            percent_encoding::utf8_percent_encode(&lot("L3"), percent_encoding::NON_ALPHANUMERIC)
        ))
        .await;
    assert!(
        listed
            .body
            .contains(photo["sha256"].as_str().unwrap_or("?")),
        "{}",
        listed.body
    );
    let a = t
        .post_json(
            "/api/v1/quality/inspections",
            &json!({"plan": "IQC-RAW", "object": lot("L3"), "lot_size": 1000,
            "findings": [], "attachments": [{"name": "x", "sha256": "abc"}]}),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert!(a.body.contains("attachments/0"), "{}", a.body);

    let a = t.get("/api/v1/quality/report?lot=nothing-here").await;
    assert!(
        a.status == StatusCode::BAD_REQUEST || a.status == StatusCode::NOT_FOUND,
        "{}",
        a.body
    );
}

#[tokio::test]
async fn quality_end_to_end_on_sqlite() {
    flow(test_app().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quality_end_to_end_on_postgres() {
    // Skips with a message when SUYUAN_TEST_PG_URL is unset; fails then under SUYUAN_REQUIRE_SERVICES.
    if let Some(t) = pg_app("quality").await {
        flow(t).await;
    }
}
