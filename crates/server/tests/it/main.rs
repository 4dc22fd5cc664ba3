//! HTTP integration tests through the public router (no socket): capture, reads, errors, health, metrics, pages.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use std::sync::Arc;
use suyuan_engine::Engine;
use suyuan_server::{AppState, app};
use suyuan_store::SqliteStore;
use tower::ServiceExt;

mod epcis;
mod search;
mod security;

/// Ledger events every test app starts with: the admin user's creation and its token's.
const SETUP_EVENTS: u64 = 2;

struct TestApp {
    router: axum::Router,
    /// The state behind the router (for background work a server runs, such as subscription delivery).
    state: AppState,
    store: Arc<dyn suyuan_store::Store>,
    /// An admin's API token, sent with every request that brings no credentials of its own.
    token: String,
    _dir: tempfile::TempDir,
}

/// Creates user `admin` (whose creation and token are the first two ledger events) and an API token.
async fn admin_token(engine: &Engine) -> String {
    let new = suyuan_engine::accounts::NewUser {
        name: "admin".into(),
        role: "admin".into(),
        password: Some("correct horse battery".into()),
        ..Default::default()
    };
    engine.create_user("test", &new).await.expect("admin");
    let expires = chrono::Utc::now() + chrono::Duration::days(1);
    engine
        .create_token("test", "admin", &[], expires, "tests")
        .await
        .expect("token")
        .0
}

async fn app_with(
    state: AppState,
    store: Arc<dyn suyuan_store::Store>,
    dir: tempfile::TempDir,
) -> TestApp {
    let token = admin_token(&state.engine).await;
    // Webhooks may deliver to this machine only (a server allows none until configured).
    let state = state.with_webhooks(suyuan_server::WebhookAllowList(vec![
        "127.0.0.1".into(),
        "localhost".into(),
    ]));
    TestApp {
        router: app(state.clone()),
        state,
        store,
        token,
        _dir: dir,
    }
}

async fn test_app() -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn suyuan_store::Store> =
        Arc::new(SqliteStore::open(dir.path()).expect("open store"));
    app_with(AppState::new(Engine::new(store.clone())), store, dir).await
}

/// The same app over PostgreSQL in schema `t_{name}` (emptied first), when `SUYUAN_TEST_PG_URL` is set.
async fn pg_app(name: &str) -> Option<TestApp> {
    let url = suyuan_store::suite::pg_url()?;
    let schema = format!("t_{name}");
    suyuan_store::PgStore::drop_schema(&url, &schema)
        .await
        .expect("clean schema");
    let store: Arc<dyn suyuan_store::Store> = Arc::new(
        suyuan_store::PgStore::connect(&url, Some(&schema))
            .await
            .expect("connect postgres"),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    Some(app_with(AppState::new(Engine::new(store.clone())), store, dir).await)
}

struct Answer {
    status: StatusCode,
    content_type: String,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

impl TestApp {
    async fn send(&self, mut req: Request<Body>) -> Answer {
        let h = req.headers_mut();
        let has_session = h
            .get(header::COOKIE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.contains("sy_session="));
        if !h.contains_key(header::AUTHORIZATION) && !has_session {
            let v = format!("Bearer {}", self.token).parse().expect("header");
            h.insert(header::AUTHORIZATION, v);
        }
        self.send_as_is(req).await
    }

    /// Sends the request with exactly the credentials it carries (none: anonymous).
    async fn send_as_is(&self, req: Request<Body>) -> Answer {
        let resp = self.router.clone().oneshot(req).await.expect("infallible");
        let status = resp.status();
        let headers = resp.headers().clone();
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .expect("body");
        Answer {
            status,
            content_type,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn get(&self, uri: &str) -> Answer {
        self.send(Request::get(uri).body(Body::empty()).expect("request"))
            .await
    }

    async fn post_json(&self, uri: &str, body: &Value) -> Answer {
        self.send(
            Request::post(uri)
                .header(header::CONTENT_TYPE, "application/ld+json")
                .body(Body::from(body.to_string()))
                .expect("request"),
        )
        .await
    }
}

fn object_event(serial: u32) -> Value {
    json!({
        "type": "ObjectEvent", "eventTime": "2024-03-01T08:00:00.000+08:00", "eventTimeZoneOffset": "+08:00",
        "epcList": [format!("urn:epc:id:sgtin:6901234.012345.{serial}")], "action": "OBSERVE",
        "bizStep": "shipping", "disposition": "in_transit",
        "bizLocation": {"id": "urn:epc:id:sgln:6901234.00001.0"}
    })
}

fn document(events: Vec<Value>) -> Value {
    json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2024-03-01T00:00:00Z",
        "epcisBody": {"eventList": events}
    })
}

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

async fn setup_labels(t: &TestApp) {
    let rule = json!({"name": "can", "definition": {"template": "C{YY}{SEQ:6}{CHECK:mod37-36}",
        "target": "sgtin", "gtin": "6901234567892"}});
    assert_eq!(
        t.post_json("/api/v1/coding-rules", &rule).await.status,
        StatusCode::CREATED
    );
    let tpl = json!({"name": "can", "definition": suyuan_labels::demo_template()});
    let saved = t.post_json("/api/v1/label-templates", &tpl).await;
    assert_eq!(saved.status, StatusCode::CREATED, "{}", saved.body);
}

fn grey(png: &[u8]) -> (Vec<u8>, u32, u32) {
    let pm = tiny_skia::Pixmap::decode_png(png).expect("png");
    let luma = pm.data().chunks(4).map(|p| p[1]).collect();
    (luma, pm.width(), pm.height())
}

#[tokio::test]
async fn label_templates_preview_and_print_jobs() {
    let t = test_app().await;
    setup_labels(&t).await;
    // A bad template is refused with the field named, and nothing is stored.
    let mut bad = suyuan_labels::demo_template();
    bad["fields"][8]["size"] = json!(80);
    let r = t
        .post_json(
            "/api/v1/label-templates",
            &json!({"name": "bad", "definition": bad}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json()["errors"][0]["pointer"],
        "/definition/fields/8/size",
        "{}",
        r.body
    );
    assert_eq!(
        t.get("/api/v1/label-templates").await.json()["templates"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    // The preview is a PNG whose QR Code carries the sample Digital Link (overridable per variable).
    let p = t
        .get("/api/v1/label-templates/can/preview?format=png&var.dl=https%3A%2F%2Fid.gs1.org%2F01%2F06901234567892%2F21%2FX1")
        .await;
    assert_eq!(
        (p.status, p.content_type.as_str()),
        (StatusCode::OK, "image/png")
    );
    let resp = t
        .router
        .clone()
        .oneshot(
            Request::get("/api/v1/label-templates/can/preview?format=png&var.dl=https%3A%2F%2Fid.gs1.org%2F01%2F06901234567892%2F21%2FX1")
                .header(header::AUTHORIZATION, format!("Bearer {}", t.token))
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("infallible");
    let png = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .expect("body");
    let (luma, w, h) = grey(&png);
    let qr = suyuan_labels::symbol::decode(luma, w, h, suyuan_labels::Symbology::Qr).expect("qr");
    assert_eq!(qr, "]Q1https://id.gs1.org/01/06901234567892/21/X1");
    let svg = t
        .get("/api/v1/label-templates/can/preview?format=svg")
        .await;
    assert!(svg.body.contains("婴儿配方奶粉"));
    // With the rule and the job's values, the preview is what the print will be: the rule's GTIN and next
    // code, the job's lot in the link; nothing is issued for it.
    let resp = t
        .router
        .clone()
        .oneshot(
            Request::get("/api/v1/label-templates/can/preview?format=png&rule=can&var.lot=L7&var.product_name=x&var.product_name_en=x")
                .header(header::AUTHORIZATION, format!("Bearer {}", t.token))
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("infallible");
    assert_eq!(resp.status(), StatusCode::OK);
    let png = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .expect("body");
    let (luma, w, h) = grey(&png);
    let qr = suyuan_labels::symbol::decode(luma, w, h, suyuan_labels::Symbology::Qr).expect("qr");
    let yy = chrono::Utc::now().format("%y").to_string();
    assert!(
        qr.starts_with(&format!(
            "]Q1https://id.gs1.org/01/06901234567892/10/L7/21/C{yy}000001"
        )),
        "{qr}"
    );
    let unknown = t
        .get("/api/v1/label-templates/can/preview?format=png&rule=nope")
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(
        unknown.body.contains("\"parameter\":\"rule\""),
        "{}",
        unknown.body
    );
    let bc = t
        .get("/api/v1/barcodes?symbology=ean13&content=690123456789&format=svg")
        .await;
    assert_eq!(
        (bc.status, bc.content_type.as_str()),
        (StatusCode::OK, "image/svg+xml")
    );
    let bad_bc = t
        .get("/api/v1/barcodes?symbology=ean13&content=6901234567891")
        .await;
    assert_eq!(bad_bc.status, StatusCode::BAD_REQUEST);
    assert!(
        bad_bc.body.contains("check digit should be 2"),
        "{}",
        bad_bc.body
    );
    // A job that cannot print is refused before any code is issued.
    let refused = t
        .post_json(
            "/api/v1/label-jobs",
            &json!({"template": "can", "rule": "can", "count": 5, "format": "pdf"}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(
        refused.body.contains("unknown variable {product_name}"),
        "{}",
        refused.body
    );
    assert_eq!(
        t.get("/api/v1/coding-rules").await.json()["rules"][0]["issued"],
        0
    );
    // A real job runs in the background, reports progress and offers its file.
    let vars =
        json!({"product_name": "婴儿配方奶粉", "product_name_en": "Infant formula", "lot": "L7"});
    let started = t
        .post_json(
            "/api/v1/label-jobs",
            &json!({"template": "can", "rule": "can", "count": 2500,
            "format": "pdf", "layout": "a4", "vars": vars}),
        )
        .await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.body);
    let location = started.headers["location"]
        .to_str()
        .expect("location")
        .to_string();
    let mut state = json!(null);
    for _ in 0..600 {
        state = t.get(&location).await.json();
        if state["status"] != "running" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(state["status"], "done", "{state}");
    assert_eq!(
        (state["done"].clone(), state["total"].clone()),
        (json!(2500), json!(2500))
    );
    let file = t.get(state["output"].as_str().expect("output")).await;
    assert_eq!(file.content_type, "application/pdf");
    assert!(file.body.starts_with("%PDF-"));
    assert_eq!(
        t.get("/api/v1/coding-rules").await.json()["rules"][0]["issued"],
        2500
    );
    let check = t
        .get(&format!(
            "/api/v1/codes/check?value={}",
            state["firstCode"].as_str().expect("code")
        ))
        .await;
    assert_eq!(check.json()["status"], "valid");
    // The commissioning event records the label's lot (as ILMD) and its variables.
    let uri = check.json()["uri"].as_str().expect("uri").to_string();
    let obj = t
        .get(&format!("/api/v1/objects/{}", percent_encode(&uri)))
        .await;
    assert_eq!(obj.status, StatusCode::OK, "{}", obj.body);
    let history = obj.body.clone();
    assert!(
        history.contains("\"cbvmda:lotNumber\":\"L7\"")
            && history.contains("\"sy:template\":\"can\""),
        "{history}"
    );
    assert!(
        history.contains("\"sy:product_name\":\"婴儿配方奶粉\""),
        "{history}"
    );
    // So the serial belongs to lot L7 in every trace.
    let lot = percent_encode("https://id.gs1.org/01/06901234567892/10/L7");
    let fwd = t.get(&format!("/api/v1/trace/forward?id={lot}")).await;
    assert!(fwd.body.contains(&uri), "{}", fwd.body);
    // Scanning the label's QR (with the lot in its link) or its GS1 DataMatrix (an element string) finds the
    // issued serial too.
    let code = state["firstCode"].as_str().expect("code");
    for printed in [
        format!("https://id.gs1.org/01/06901234567892/10/L7/21/{code}"),
        format!("(01)06901234567892(10)L7(21){code}"),
    ] {
        let check = t
            .get(&format!(
                "/api/v1/codes/check?value={}",
                percent_encode(&printed)
            ))
            .await;
        assert_eq!(check.json()["status"], "valid", "{printed}: {}", check.body);
    }
    // ZPL straight to a port-9100 printer.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let printer = std::thread::spawn(move || {
        use std::io::Read;
        let (mut c, _) = listener.accept().expect("accept");
        let mut got = String::new();
        c.read_to_string(&mut got).expect("read");
        got
    });
    let job = t
        .post_json(
            "/api/v1/label-jobs",
            &json!({"template": "can", "rule": "can", "count": 3,
            "format": "zpl", "printer": addr, "vars": vars}),
        )
        .await;
    assert_eq!(job.status, StatusCode::ACCEPTED, "{}", job.body);
    let location = job.headers["location"]
        .to_str()
        .expect("location")
        .to_string();
    for _ in 0..600 {
        state = t.get(&location).await.json();
        if state["status"] != "running" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(state["status"], "done", "{state}");
    assert_eq!(state["printer"], json!(addr));
    let got = printer.join().expect("printer");
    assert_eq!(got.matches("^XA").count(), 3);
    assert!(
        got.contains("^FDMA,https://id.gs1.org/01/06901234567892/10/L7/21/C"),
        "{}",
        &got[..300]
    );
}

#[tokio::test]
async fn the_labels_page_lists_rules_and_templates_and_prints_a_batch() {
    let t = test_app().await;
    setup_labels(&t).await;
    let page = t.get("/labels?lang=en").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Coding rules") && page.body.contains("C{YY}{SEQ:6}{CHECK:mod37-36}")
    );
    assert!(
        page.body
            .contains(r#"src="/api/v1/label-templates/can/preview?format=png&#38;version=1""#),
        "{}",
        page.body
    );
    // Each rule says what happens to codes it never issued.
    assert!(
        page.body.contains("Codes never issued") && page.body.contains("<td>accepted</td>"),
        "{}",
        page.body
    );
    // The print form's preview shows the job's first label (rule, context and values), or what is missing.
    let frag = t
        .get("/labels/preview?lang=en&template=can&rule=can&vars=lot%3DL8")
        .await;
    assert!(
        frag.body.contains("rule=can") && frag.body.contains("var.lot=L8"),
        "{}",
        frag.body
    );
    assert!(
        frag.body
            .contains("The first label as this form will print it")
    );
    let frag = t.get("/labels/preview?lang=en&template=can").await;
    assert!(
        frag.body.contains("rule: choose a coding rule"),
        "{}",
        frag.body
    );
    let csp = page.headers["content-security-policy"]
        .to_str()
        .expect("csp");
    assert!(
        csp.contains("script-src 'self'")
            && csp.contains("frame-ancestors 'none'")
            && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(page.headers["x-content-type-options"], "nosniff");
    let zh = t.get("/labels").await;
    assert!(zh.body.contains("编码规则") && zh.body.contains("发码并打印"));
    let form = |body: &str| {
        Request::post("/labels/jobs?lang=en")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body.to_string()))
            .expect("request")
    };
    let bad = t
        .send(form("template=can&rule=can&count=x&format=pdf"))
        .await;
    assert!(bad.body.contains("count: a whole number"), "{}", bad.body);
    let missing = t
        .send(form("template=can&rule=can&count=3&format=pdf"))
        .await;
    assert!(
        missing.body.contains("unknown variable {product_name}"),
        "{}",
        missing.body
    );
    let ok = t
        .send(form("template=can&rule=can&count=30&format=pdf&layout=a4&vars=product_name%3D%E5%A5%B6%E7%B2%89%0Aproduct_name_en%3DMilk%0Alot%3DL1"))
        .await;
    assert!(ok.body.contains("<progress"), "{}", ok.body);
    let mut frag = ok.body.clone();
    for _ in 0..200 {
        if !frag.contains("hx-trigger") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        frag = t.get("/labels/jobs/1?lang=en").await.body;
    }
    assert!(
        frag.contains("Done:") && frag.contains(r#"href="/api/v1/label-jobs/1/output""#),
        "{frag}"
    );
    assert_eq!(
        t.get("/api/v1/label-jobs/1/output").await.content_type,
        "application/pdf"
    );
}

#[tokio::test]
async fn ledger_key_checkpoint_and_proofs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open(dir.path()).expect("open store"));
    let signer = Arc::new(
        suyuan_ledger::checkpoint::CheckpointSigner::new("suyuan.test/ledger", &[4u8; 32])
            .expect("signer"),
    );
    let state = AppState::new(Engine::new(store.clone())).with_signer(signer.clone());
    let t = app_with(state, store, dir).await;
    let setup = t.get("/api/v1/ledger/checkpoint").await;
    assert_eq!(
        suyuan_ledger::checkpoint::verify(&setup.body, signer.verifier_key())
            .expect("signed")
            .size,
        SETUP_EVENTS
    );
    for i in 0..20 {
        let mut e = object_event(i);
        e["eventID"] = json!(format!("urn:uuid:00000000-0000-4000-8000-{i:012}"));
        assert_eq!(
            t.post_json("/api/v1/events", &e).await.status,
            StatusCode::CREATED
        );
    }
    let key = t.get("/api/v1/ledger/key").await;
    assert_eq!(key.body.trim(), signer.verifier_key());
    let cp = t.get("/api/v1/ledger/checkpoint").await;
    assert!(cp.content_type.starts_with("text/plain"));
    let parsed =
        suyuan_ledger::checkpoint::verify(&cp.body, signer.verifier_key()).expect("signed");
    assert_eq!(parsed.size, SETUP_EVENTS + 20);
    let p = t
        .get("/api/v1/proofs/urn:uuid:00000000-0000-4000-8000-000000000007")
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    let j = p.json();
    assert_eq!(
        (j["seq"].clone(), j["treeSize"].clone()),
        (json!(SETUP_EVENTS + 8), json!(SETUP_EVENTS + 20))
    );
    assert_eq!(j["checkpoint"].as_str(), Some(cp.body.as_str()));
    let hex32 = |v: &Value| {
        let mut out = [0u8; 32];
        hex::decode_to_slice(v.as_str().expect("hex"), &mut out).expect("32 bytes");
        out
    };
    let path: Vec<[u8; 32]> = j["proof"]
        .as_array()
        .expect("proof")
        .iter()
        .map(hex32)
        .collect();
    suyuan_ledger::tree::check_inclusion(
        &path,
        SETUP_EVENTS + 20,
        parsed.root,
        SETUP_EVENTS + 7,
        hex32(&j["leafHash"]),
    )
    .expect("proof verifies");
    let older = t
        .get("/api/v1/proofs/urn:uuid:00000000-0000-4000-8000-000000000007?size=10")
        .await
        .json();
    assert_eq!(older["treeSize"], 10);
    assert_eq!(
        t.get("/api/v1/proofs/urn:uuid:00000000-0000-4000-8000-000000000007?size=5")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        t.get("/api/v1/proofs/urn:uuid:none").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        t.get("/api/v1/proofs/urn:uuid:00000000-0000-4000-8000-000000000007?size=x")
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    let c = t
        .get(&format!(
            "/api/v1/ledger/consistency?from=10&to={}",
            SETUP_EVENTS + 20
        ))
        .await
        .json();
    let cpath: Vec<[u8; 32]> = c["proof"]
        .as_array()
        .expect("proof")
        .iter()
        .map(hex32)
        .collect();
    suyuan_ledger::tree::check_consistency(
        &cpath,
        SETUP_EVENTS + 20,
        parsed.root,
        10,
        hex32(&c["fromRoot"]),
    )
    .expect("consistent");
    assert_eq!(
        t.get("/api/v1/ledger/consistency?from=10").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        t.get("/api/v1/ledger/consistency?from=10&to=99")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn capture_one_event_then_repeat_it() {
    let t = test_app().await;
    let first = t.post_json("/api/v1/events", &object_event(1)).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let j = first.json();
    assert_eq!(j["stored"], 1);
    assert_eq!(j["events"][0]["seq"], SETUP_EVENTS + 1);
    assert_eq!(j["events"][0]["duplicate"], false);
    assert!(
        j["events"][0]["eventHash"]
            .as_str()
            .expect("hash")
            .starts_with("ni:///sha-256;")
    );
    assert_eq!(j["events"][0]["leafHash"].as_str().expect("leaf").len(), 64);
    let again = t.post_json("/api/v1/events", &object_event(1)).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["events"][0]["duplicate"], true);
    assert_eq!(again.json()["events"][0]["seq"], SETUP_EVENTS + 1);
}

#[tokio::test]
async fn invalid_document_is_rejected_with_located_errors_and_stores_nothing() {
    let t = test_app().await;
    let mut bad = object_event(4);
    bad["eventTime"] = json!("2024-13-01");
    let mut bad2 = object_event(5);
    bad2["bizStep"] = json!("shiping");
    let doc = document(vec![
        object_event(1),
        object_event(2),
        object_event(3),
        bad,
        bad2,
    ]);
    let a = t.post_json("/api/v1/events", &doc).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.content_type, "application/problem+json");
    let j = a.json();
    assert_eq!(j["code"], "validation");
    assert_eq!(
        j["errors"][0]["pointer"],
        "/epcisBody/eventList/3/eventTime"
    );
    assert_eq!(
        j["errors"][0]["detail"],
        "expected RFC 3339 date-time, got \"2024-13-01\""
    );
    assert_eq!(j["errors"][1]["pointer"], "/epcisBody/eventList/4/bizStep");
    assert!(
        j["detail"]
            .as_str()
            .expect("detail")
            .contains("/epcisBody/eventList/3/eventTime: expected RFC 3339 date-time")
    );
    let list = t.get("/api/v1/events").await.json();
    assert_eq!(
        list["events"].as_array().expect("array").len() as u64,
        SETUP_EVENTS,
        "nothing may be stored"
    );
}

#[tokio::test]
async fn malformed_requests_get_problem_details() {
    let t = test_app().await;
    let a = t
        .send(
            Request::post("/api/v1/events")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    "{\"type\": \"ObjectEvent\",\n  \"eventTime\": }",
                ))
                .expect("request"),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.json()["code"], "bad-json");
    assert!(
        a.json()["detail"]
            .as_str()
            .expect("detail")
            .contains("line 2 column"),
        "{}",
        a.body
    );
    let a = t
        .send(
            Request::post("/api/v1/events")
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Body::from("x"))
                .expect("request"),
        )
        .await;
    assert_eq!(a.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(a.content_type, "application/problem+json");
    let a = t.post_json("/api/v1/events", &json!([1, 2])).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.json()["errors"][0]["pointer"], "");
    let a = t.get("/api/v1/events?limit=5000&foo=1").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let j = a.json();
    let params: Vec<&str> = j["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["parameter"].as_str())
        .collect();
    assert_eq!(params, vec!["foo", "limit"]);
    let a = t.get("/api/v1/nothing").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.content_type, "application/problem+json");
}

#[tokio::test]
async fn reused_event_id_with_other_content_is_a_conflict() {
    let t = test_app().await;
    let mut e = object_event(1);
    e["eventID"] = json!("urn:uuid:6b1b3c7e-5a4b-4f7e-9a55-0b2d6f7e8a90");
    assert_eq!(
        t.post_json("/api/v1/events", &e).await.status,
        StatusCode::CREATED
    );
    e["disposition"] = json!("damaged");
    let a = t.post_json("/api/v1/events", &e).await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert_eq!(a.json()["code"], "event-id-conflict");
}

#[tokio::test]
async fn events_read_back_by_id_and_in_pages() {
    let t = test_app().await;
    let out = t
        .post_json(
            "/api/v1/events",
            &document((1..=5).map(object_event).collect()),
        )
        .await
        .json();
    let id = out["events"][2]["eventID"]
        .as_str()
        .expect("id")
        .to_string();
    let enc: String = percent_encode(&id);
    let one = t.get(&format!("/api/v1/events/{enc}")).await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.body);
    assert_eq!(one.json()["seq"], SETUP_EVENTS + 3);
    assert_eq!(
        one.json()["event"]["epcList"][0],
        "urn:epc:id:sgtin:6901234.012345.3"
    );
    let missing = t
        .get("/api/v1/events/urn:uuid:00000000-0000-0000-0000-000000000000")
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let page = t.get("/api/v1/events?after_seq=1&limit=2").await;
    let j = page.json();
    assert_eq!(
        j["events"]
            .as_array()
            .expect("array")
            .iter()
            .map(|e| e["seq"].as_u64().unwrap_or(0))
            .collect::<Vec<_>>(),
        vec![2, 3]
    );
    assert_eq!(j["next"], "/api/v1/events?after_seq=3&limit=2");
    assert!(page.headers.get(header::LINK).is_some());
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn objects_resolve_from_any_spelling() {
    let t = test_app().await;
    t.post_json("/api/v1/events", &object_event(9)).await;
    for spelling in [
        "urn:epc:id:sgtin:6901234.012345.9",
        "https://id.gs1.org/01/06901234123456/21/9",
        "https://brand.example.cn/01/06901234123456/21/9?x=1",
    ] {
        let a = t
            .get(&format!("/api/v1/objects/{}", percent_encode(spelling)))
            .await;
        assert_eq!(a.status, StatusCode::OK, "{spelling}: {}", a.body);
        let j = a.json();
        assert_eq!(
            j["object"]["id"],
            "https://id.gs1.org/01/06901234123456/21/9"
        );
        assert_eq!(j["object"]["disposition"], "in_transit");
        assert_eq!(
            j["object"]["location"],
            "https://id.gs1.org/414/6901234000016"
        );
        assert_eq!(j["history"][0]["seq"], SETUP_EVENTS + 1);
    }
    let a = t
        .get(&format!(
            "/api/v1/objects/{}",
            percent_encode("urn:epc:id:sgtin:6901234.012345.404")
        ))
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let t = test_app().await;
    assert_eq!(t.get("/healthz").await.status, StatusCode::OK);
    assert_eq!(t.get("/readyz").await.status, StatusCode::OK);
    t.post_json("/api/v1/events", &object_event(1)).await;
    let m = t.get("/metrics").await;
    assert_eq!(m.status, StatusCode::OK);
    assert!(m.content_type.starts_with("text/plain"));
    for name in [
        "suyuan_capture_requests_total",
        "suyuan_capture_duration_seconds",
        "suyuan_store_events",
        "suyuan_store_bytes",
        "suyuan_http_requests_total",
    ] {
        assert!(m.body.contains(name), "missing {name} in:\n{}", m.body);
    }
}

#[tokio::test]
async fn pages_render_in_chinese_by_default_and_in_english_on_request() {
    let t = test_app().await;
    t.post_json("/api/v1/events", &object_event(1)).await;
    let home = t.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(
        home.body.contains("<html lang=\"zh-CN\">") && home.body.contains("最新事件"),
        "{}",
        home.body
    );
    assert!(home.body.contains("urn:epc:id:sgtin:6901234.012345.1"));
    let en = t.get("/?lang=en").await;
    assert!(en.body.contains("<html lang=\"en\">") && en.body.contains("Recent events"));
    assert!(
        en.headers
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.starts_with("lang=en"))
    );
    let cookie = t
        .send(
            Request::get("/events")
                .header(header::COOKIE, "lang=en")
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert!(cookie.body.contains("Event ledger"));
    let obj = t
        .get(&format!(
            "/objects?id={}",
            percent_encode("urn:epc:id:sgtin:6901234.012345.1")
        ))
        .await;
    assert_eq!(obj.status, StatusCode::OK);
    assert!(
        obj.body.contains("in_transit")
            && obj.body.contains("https://id.gs1.org/414/6901234000016")
    );
    assert!(
        obj.body.contains("产品故事") && obj.body.contains("物流"),
        "the story is on the page"
    );
    let missing = t
        .get("/objects?id=urn%3Aepc%3Aid%3Asgtin%3A6901234.012345.404")
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let css = t.get("/static/css/app.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.content_type.starts_with("text/css"));
    let partial = t.get("/partials/recent").await;
    assert!(partial.body.contains("<table>") && !partial.body.contains("<html"));
}

#[tokio::test]
async fn objects_show_their_consumer_scans() {
    use suyuan_store::ScanRecord;
    let t = test_app().await;
    t.post_json("/api/v1/events", &object_event(3)).await;
    let key = "https://id.gs1.org/01/06901234123456/21/3";
    let scan = |city: &str| ScanRecord {
        object: key.into(),
        scanned_at: "2024-03-05T12:00:00+08:00".into(),
        city: Some(city.into()),
        province: None,
        channel: "qr".into(),
    };
    t.store
        .record_scans(vec![scan("广州"), scan("乌鲁木齐")])
        .await
        .expect("scans");
    let j = t
        .get(&format!("/api/v1/objects/{}", percent_encode(key)))
        .await
        .json();
    assert_eq!(j["scans"]["count"], 2);
    assert_eq!(j["scans"]["recent"][0]["city"], "乌鲁木齐");
    let page = t.get(&format!("/objects?id={}", percent_encode(key))).await;
    assert!(
        page.body.contains("消费者扫码") && page.body.contains("乌鲁木齐"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn trace_backward_and_forward_follow_the_genealogy() {
    let t = test_app().await;
    let make = json!({"type": "TransformationEvent", "eventTime": "2024-03-01T08:00:00+08:00", "eventTimeZoneOffset": "+08:00",
        "transformationID": "urn:suyuan:demo:wo:WO-1",
        "inputQuantityList": [{"epcClass": "urn:epc:class:lgtin:6920001.000011.RM0001", "quantity": 10, "uom": "KGM"}],
        "outputEPCList": ["urn:epc:id:sgtin:6901234.012345.1", "urn:epc:id:sgtin:6901234.012345.2"],
        "ilmd": {"cbvmda:lotNumber": "L1"}, "bizStep": "commissioning"});
    let pack = json!({"type": "AggregationEvent", "eventTime": "2024-03-01T09:00:00+08:00", "eventTimeZoneOffset": "+08:00",
        "parentID": "urn:epc:id:sscc:6901234.1000000001", "childEPCs": ["urn:epc:id:sgtin:6901234.012345.1"],
        "action": "ADD", "bizStep": "packing"});
    assert_eq!(
        t.post_json("/api/v1/events", &document(vec![make, pack]))
            .await
            .status,
        StatusCode::CREATED
    );
    let can = percent_encode("urn:epc:id:sgtin:6901234.012345.1");
    let back = t.get(&format!("/api/v1/trace/backward?id={can}")).await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.body);
    let j = back.json();
    let ids: Vec<&str> = j["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["id"].as_str())
        .collect();
    assert!(
        ids.contains(&"https://id.gs1.org/01/06920001000110/10/RM0001"),
        "{ids:?}"
    );
    assert!(
        ids.contains(&"https://id.gs1.org/01/06901234123456/10/L1"),
        "lot membership: {ids:?}"
    );
    assert!(ids.contains(&"transformation:urn:suyuan:demo:wo:WO-1"));
    let edge = &j["edges"][0];
    assert_eq!(edge["event"]["bizStep"], "commissioning", "{edge}");
    // The report names the ledger it was built on: the hashes of every event it shows (no checkpoint is
    // signed by this server, so none is named).
    let covered: Vec<u64> = j["ledger"]["events"]
        .as_array()
        .expect("covered")
        .iter()
        .filter_map(|e| e["seq"].as_u64())
        .collect();
    let shown: std::collections::BTreeSet<u64> = j["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .filter_map(|e| e["event"]["seq"].as_u64())
        .collect();
    assert_eq!(covered, shown.into_iter().collect::<Vec<_>>());
    assert!(j["ledger"]["checkpoint"].is_null());
    assert!(
        edge["event"]["eventID"]
            .as_str()
            .is_some_and(|s| s.starts_with("ni:///sha-256;"))
    );
    let lot = percent_encode("urn:epc:class:lgtin:6920001.000011.RM0001");
    let fwd = t
        .get(&format!("/api/v1/trace/forward?id={lot}"))
        .await
        .json();
    let ids: Vec<&str> = fwd["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["id"].as_str())
        .collect();
    assert!(
        ids.contains(&"https://id.gs1.org/00/169012340000000013"),
        "the case holding can 1: {ids:?}"
    );
    assert_eq!(fwd["counts"]["nodes"], 5);
    // The index follows new captures.
    let pack2 = json!({"type": "AggregationEvent", "eventTime": "2024-03-01T09:30:00+08:00", "eventTimeZoneOffset": "+08:00",
        "parentID": "urn:epc:id:sscc:6901234.2000000001", "childEPCs": ["urn:epc:id:sscc:6901234.1000000001"], "action": "ADD"});
    t.post_json("/api/v1/events", &pack2).await;
    let fwd = t
        .get(&format!("/api/v1/trace/forward?id={lot}"))
        .await
        .json();
    assert_eq!(fwd["counts"]["nodes"], 6);
    let nd = t
        .send(
            Request::get(format!("/api/v1/trace/forward?id={lot}"))
                .header(header::ACCEPT, "application/x-ndjson")
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(nd.content_type, "application/x-ndjson");
    let lines: Vec<Value> = nd
        .body
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines[0]["trace"]["counts"]["nodes"], 6);
    assert_eq!(lines.iter().filter(|l| l.get("node").is_some()).count(), 6);
    assert_eq!(
        lines.iter().filter(|l| l.get("edge").is_some()).count(),
        fwd["counts"]["edges"].as_u64().unwrap_or(0) as usize
    );
    assert_eq!(
        t.get("/api/v1/trace/forward?id=urn%3Aepc%3Aid%3Asgtin%3A1.2.404")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let bad = t
        .get("/api/v1/trace/backward?depth=0&from=yesterday&x=1")
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let j = bad.json();
    let params: Vec<&str> = j["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["parameter"].as_str())
        .collect();
    assert_eq!(params, vec!["x", "id", "depth", "from"]);
}

#[tokio::test]
async fn where_follows_the_container_chain() {
    let t = test_app().await;
    let can = "urn:epc:id:sgtin:6901234.012345.W1";
    let case = "urn:epc:id:sscc:6901234.1000000007";
    let pallet = "urn:epc:id:sscc:6901234.2000000007";
    let agg = |parent: &str, child: &str, time: &str| {
        json!({"type": "AggregationEvent", "eventTime": time,
        "eventTimeZoneOffset": "+08:00", "parentID": parent, "childEPCs": [child], "action": "ADD",
        "bizLocation": {"id": "urn:epc:id:sgln:6901234.00006.0"}})
    };
    let mv = json!({"type": "ObjectEvent", "eventTime": "2024-03-02T08:00:00+08:00", "eventTimeZoneOffset": "+08:00",
        "epcList": [pallet], "action": "OBSERVE", "bizStep": "receiving", "bizLocation": {"id": "urn:epc:id:sgln:6930001.00001.0"}});
    for e in [
        agg(case, can, "2024-03-01T08:00:00+08:00"),
        agg(pallet, case, "2024-03-01T09:00:00+08:00"),
        mv,
    ] {
        assert_eq!(
            t.post_json("/api/v1/events", &e).await.status,
            StatusCode::CREATED
        );
    }
    let w = t
        .get(&format!("/api/v1/objects/{}/where", percent_encode(can)))
        .await;
    assert_eq!(w.status, StatusCode::OK, "{}", w.body);
    let j = w.json();
    let chain: Vec<&str> = j["containers"]
        .as_array()
        .expect("chain")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(
        chain,
        vec![
            "https://id.gs1.org/00/169012340000000075",
            "https://id.gs1.org/00/269012340000000072"
        ]
    );
    assert_eq!(
        j["location"], "https://id.gs1.org/414/6930001000010",
        "the can is where its pallet was received"
    );
    assert_eq!(j["outermost"], "https://id.gs1.org/00/269012340000000072");
    // Plain object lookups still work next to /where.
    assert_eq!(
        t.get(&format!("/api/v1/objects/{}", percent_encode(can)))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn recall_reports_holders_shipments_and_exports() {
    let t = test_app().await;
    let make = json!({"type": "TransformationEvent", "eventTime": "2024-03-01T08:00:00+08:00", "eventTimeZoneOffset": "+08:00",
        "inputQuantityList": [{"epcClass": "urn:epc:class:lgtin:6920001.000011.RM0009", "quantity": 10, "uom": "KGM"}],
        "outputEPCList": ["urn:epc:id:sgtin:6901234.012345.R1", "urn:epc:id:sgtin:6901234.012345.R2", "urn:epc:id:sgtin:6901234.012345.R3"]});
    let pack = json!({"type": "AggregationEvent", "eventTime": "2024-03-01T09:00:00+08:00", "eventTimeZoneOffset": "+08:00",
        "parentID": "urn:epc:id:sscc:6901234.1000000099", "childEPCs": ["urn:epc:id:sgtin:6901234.012345.R1", "urn:epc:id:sgtin:6901234.012345.R2"],
        "action": "ADD", "bizLocation": {"id": "urn:epc:id:sgln:6901234.00006.0"}});
    let ship = json!({"type": "ObjectEvent", "eventTime": "2024-03-02T09:00:00+08:00", "eventTimeZoneOffset": "+08:00",
        "epcList": ["urn:epc:id:sscc:6901234.1000000099"], "action": "OBSERVE", "bizStep": "shipping", "disposition": "in_transit",
        "destinationList": [{"type": "possessing_party", "destination": "urn:epc:id:pgln:6930001.00000"}]});
    let recv = json!({"type": "ObjectEvent", "eventTime": "2024-03-03T09:00:00+08:00", "eventTimeZoneOffset": "+08:00",
        "epcList": ["urn:epc:id:sscc:6901234.1000000099"], "action": "OBSERVE", "bizStep": "receiving",
        "bizLocation": {"id": "urn:epc:id:sgln:6930001.00001.0"}});
    assert_eq!(
        t.post_json("/api/v1/events", &document(vec![make, pack, ship, recv]))
            .await
            .status,
        StatusCode::CREATED
    );
    let lot = percent_encode("urn:epc:class:lgtin:6920001.000011.RM0009");
    let r = t.get(&format!("/api/v1/trace/recall?id={lot}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let j = r.json();
    assert_eq!(j["counts"]["instances"], 3);
    assert_eq!(j["counts"]["logisticUnits"], 1);
    assert_eq!(j["counts"]["shipments"], 1);
    let holders: Vec<(&str, u64)> = j["holders"]
        .as_array()
        .expect("holders")
        .iter()
        .map(|h| {
            (
                h["party"].as_str().unwrap_or_default(),
                h["instances"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert!(
        holders.contains(&("https://id.gs1.org/417/6930001000003", 2)),
        "{holders:?}"
    );
    assert!(holders.contains(&("(not shipped)", 1)), "{holders:?}");
    let can1 = j["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .find(|o| o["id"] == "https://id.gs1.org/01/06901234123456/21/R1")
        .expect("R1");
    assert_eq!(
        can1["location"], "https://id.gs1.org/414/6930001000010",
        "R1 is where its case was received"
    );
    // The report names the events its facts come from (this server signs no checkpoints: none named).
    let covered: Vec<u64> = j["ledger"]["events"]
        .as_array()
        .expect("covered events")
        .iter()
        .filter_map(|e| e["seq"].as_u64())
        .collect();
    assert!(
        covered.contains(&can1["lastSeq"].as_u64().expect("lastSeq")),
        "{covered:?}"
    );
    assert!(
        j["ledger"]["events"][0]["eventHash"]
            .as_str()
            .is_some_and(|h| h.starts_with("ni:///sha-256;"))
    );
    assert!(j["ledger"]["checkpoint"].is_null());
    let csv = t
        .get(&format!("/api/v1/trace/recall?id={lot}&format=csv"))
        .await;
    assert!(csv.content_type.starts_with("text/csv"));
    assert_eq!(
        csv.body.lines().count(),
        1 + 5,
        "header + 3 cans + case + lot: {}",
        csv.body
    );
    assert!(
        csv.body
            .starts_with("id,type,location,disposition,container,holder,last_seq,last_event_hash")
    );
    let xlsx = t
        .send(
            Request::get(format!("/api/v1/trace/recall?id={lot}&format=xlsx"))
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert!(xlsx.content_type.contains("spreadsheetml"));
    assert!(xlsx.headers.get(header::CONTENT_DISPOSITION).is_some());
    let bad = t
        .get(&format!("/api/v1/trace/recall?id={lot}&format=pdf"))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn recall_of_a_repacked_unit_names_only_the_shipments_and_holders_it_travelled_with() {
    let t = test_app().await;
    let (unit, a, b) = (
        "urn:epc:id:sgtin:6901234.012345.RP1",
        "urn:epc:id:sscc:6901234.1000000501",
        "urn:epc:id:sscc:6901234.1000000502",
    );
    let at = |h: u32| format!("2024-03-01T{h:02}:00:00+08:00");
    let pack = |action: &str, parent: &str, h: u32| {
        json!({"type": "AggregationEvent", "eventTime": at(h), "eventTimeZoneOffset": "+08:00",
            "parentID": parent, "childEPCs": [unit], "action": action})
    };
    let ship = |parent: &str, to: &str, h: u32| {
        json!({"type": "ObjectEvent", "eventTime": at(h), "eventTimeZoneOffset": "+08:00",
            "epcList": [parent], "action": "OBSERVE", "bizStep": "shipping", "disposition": "in_transit",
            "destinationList": [{"type": "owning_party", "destination": to}]})
    };
    let events = vec![
        pack("ADD", a, 8),
        pack("DELETE", a, 9),
        pack("ADD", b, 10),
        // Case A leaves for customer X after the unit was taken out of it; case B, with the unit, for Y.
        ship(a, "urn:epc:id:pgln:6930001.00000", 11),
        ship(b, "urn:epc:id:pgln:6930002.00000", 12),
    ];
    assert_eq!(
        t.post_json("/api/v1/events", &document(events))
            .await
            .status,
        StatusCode::CREATED
    );
    let r = t
        .get(&format!("/api/v1/trace/recall?id={}", percent_encode(unit)))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let j = r.json();
    let parties: Vec<&str> = j["holders"]
        .as_array()
        .expect("holders")
        .iter()
        .filter_map(|h| h["party"].as_str())
        .collect();
    assert_eq!(
        parties,
        vec!["https://id.gs1.org/417/6930002000002"],
        "{}",
        r.body
    );
    let shipped: Vec<&Value> = j["shipments"]
        .as_array()
        .expect("shipments")
        .iter()
        .flat_map(|s| s["logisticUnits"].as_array().into_iter().flatten())
        .collect();
    assert_eq!(
        shipped,
        vec!["https://id.gs1.org/00/169012340000005025"],
        "{}",
        r.body
    );
    let case_a = j["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .find(|o| o["id"] == "https://id.gs1.org/00/169012340000005018")
        .expect("case A is listed");
    assert_eq!(case_a["carriedUntil"], "2024-03-01T01:00:00.000Z");
    // The spreadsheet says it too: the case's row ends with when it stopped carrying the unit.
    let csv = t
        .get(&format!(
            "/api/v1/trace/recall?id={}&format=csv",
            percent_encode(unit)
        ))
        .await;
    assert!(
        csv.body
            .lines()
            .next()
            .is_some_and(|h| h.ends_with(",carried_until"))
    );
    assert!(
        csv.body
            .lines()
            .any(|l| l.contains("169012340000005018") && l.ends_with(",2024-03-01T01:00:00.000Z")),
        "{}",
        csv.body
    );
}

#[tokio::test]
async fn the_unit_story_groups_its_life_by_stage() {
    use suyuan_store::ScanRecord;
    let t = test_app().await;
    let rm = "urn:epc:class:lgtin:6920001.000011.RM0042";
    let other_wo = json!({"type": "TransformationEvent", "eventTime": "2024-03-01T07:00:00+08:00", "eventTimeZoneOffset": "+08:00",
        "transformationID": "urn:suyuan:demo:wo:OTHER", "inputQuantityList": [{"epcClass": rm, "quantity": 1, "uom": "KGM"}],
        "outputEPCList": ["urn:epc:id:sgtin:6901234.012345.Z9"]});
    let events = vec![
        json!({"type": "ObjectEvent", "eventTime": "2024-03-01T06:00:00+08:00", "eventTimeZoneOffset": "+08:00",
            "quantityList": [{"epcClass": rm, "quantity": 100, "uom": "KGM"}], "action": "OBSERVE", "bizStep": "receiving"}),
        json!({"type": "ObjectEvent", "eventTime": "2024-03-01T06:30:00+08:00", "eventTimeZoneOffset": "+08:00",
            "quantityList": [{"epcClass": rm}], "action": "OBSERVE", "bizStep": "inspecting", "disposition": "conformant"}),
        other_wo,
        json!({"type": "TransformationEvent", "eventTime": "2024-03-01T08:00:00+08:00", "eventTimeZoneOffset": "+08:00",
            "transformationID": "urn:suyuan:demo:wo:WO-42", "inputQuantityList": [{"epcClass": rm, "quantity": 10, "uom": "KGM"}],
            "outputEPCList": ["urn:epc:id:sgtin:6901234.012345.S1"], "ilmd": {"cbvmda:lotNumber": "L42"}, "bizStep": "commissioning"}),
        json!({"type": "ObjectEvent", "eventTime": "2024-03-01T12:00:00+08:00", "eventTimeZoneOffset": "+08:00",
            "quantityList": [{"epcClass": "urn:epc:class:lgtin:6901234.012345.L42"}], "action": "OBSERVE", "bizStep": "inspecting", "disposition": "conformant"}),
        json!({"type": "AggregationEvent", "eventTime": "2024-03-01T13:00:00+08:00", "eventTimeZoneOffset": "+08:00",
            "parentID": "urn:epc:id:sscc:6901234.1000000042", "childEPCs": ["urn:epc:id:sgtin:6901234.012345.S1"], "action": "ADD", "bizStep": "packing"}),
        json!({"type": "ObjectEvent", "eventTime": "2024-03-02T09:00:00+08:00", "eventTimeZoneOffset": "+08:00",
            "epcList": ["urn:epc:id:sscc:6901234.1000000042"], "action": "OBSERVE", "bizStep": "shipping",
            "readPoint": {"id": "urn:epc:id:sgln:6901234.00008.0"}}),
        json!({"type": "ObjectEvent", "eventTime": "2024-03-05T09:00:00+08:00", "eventTimeZoneOffset": "+08:00",
            "epcList": ["urn:epc:id:sgtin:6901234.012345.S1"], "action": "OBSERVE", "bizStep": "retail_selling", "disposition": "retail_sold"}),
    ];
    assert_eq!(
        t.post_json("/api/v1/events", &document(events))
            .await
            .status,
        StatusCode::CREATED
    );
    let key = "https://id.gs1.org/01/06901234123456/21/S1";
    t.store
        .record_scans(vec![ScanRecord {
            object: key.into(),
            scanned_at: "2024-03-06T10:00:00+08:00".into(),
            city: Some("成都".into()),
            province: None,
            channel: "qr".into(),
        }])
        .await
        .expect("scan");
    let r = t
        .get(&format!(
            "/api/v1/objects/{}/story",
            percent_encode("urn:epc:id:sgtin:6901234.012345.S1")
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let j = r.json();
    let stages: Vec<(String, Vec<String>)> = j["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .map(|s| {
            let steps = s["events"]
                .as_array()
                .expect("events")
                .iter()
                .map(|e| e["event"]["bizStep"].as_str().unwrap_or("-").to_string())
                .collect();
            (s["stage"].as_str().unwrap_or_default().to_string(), steps)
        })
        .collect();
    let expect = |stage: &str, steps: &[&str]| {
        (
            stage.to_string(),
            steps.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        stages,
        vec![
            expect("materials", &["receiving", "inspecting"]),
            expect("production", &["commissioning"]),
            expect("quality", &["inspecting"]),
            expect("packing", &["packing"]),
            expect("logistics", &["shipping"]),
            expect("consumer", &["retail_selling"]),
        ],
        "the other work order fed by the same lot is not part of this unit's story"
    );
    assert_eq!(j["stages"][5]["scans"]["count"], 1);
    assert_eq!(j["stages"][0]["label"]["zh-CN"], "原料");
    // The object page names places by their master data.
    let page = format!("/objects?id={}", percent_encode(key));
    assert!(
        t.get(&page)
            .await
            .body
            .contains("@ urn:epc:id:sgln:6901234.00008.0")
    );
    let md = json!({"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-11-26T00:00:00Z",
        "epcisHeader": {"epcisMasterData": {"vocabularyList": [{"type": "urn:epcglobal:epcis:vtype:ReadPoint",
            "vocabularyElementList": [{"id": "urn:epc:id:sgln:6901234.00008.0",
                "attributes": [{"id": "urn:epcglobal:cbv:mda:name", "attribute": "成品仓"}]}]}]}},
        "epcisBody": {"eventList": []}});
    assert_eq!(
        t.post_json("/epcis/capture", &md).await.status,
        StatusCode::ACCEPTED
    );
    let named = t.get(&page).await.body;
    assert!(
        named.contains(r#"title="urn:epc:id:sgln:6901234.00008.0">@ 成品仓"#),
        "{named}"
    );
}

/// An event dated far in the future is refused, with its field named, by the API and the EPCIS capture alike.
#[tokio::test]
async fn events_from_the_future_are_refused_with_the_field_named() {
    let t = test_app().await;
    let e = json!({"type": "ObjectEvent", "eventTime": "2099-01-01T00:00:00Z", "eventTimeZoneOffset": "+00:00",
        "action": "OBSERVE", "epcList": ["urn:epc:id:sgtin:6901234.012345.FUT1"]});
    let a = t
        .post_json("/api/v1/events", &document(vec![e.clone()]))
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert!(
        a.body.contains("/epcisBody/eventList/0/eventTime") && a.body.contains("in the future"),
        "{}",
        a.body
    );
    let a = t.post_json("/epcis/events", &e).await;
    assert!(a.status.is_client_error(), "{}", a.body);
    assert!(a.body.contains("in the future"), "{}", a.body);
    // A minute ahead is clock drift, not a mistake.
    let mut soon = e.clone();
    soon["eventTime"] = json!(suyuan_core::time::format_utc_millis(
        chrono::Utc::now() + chrono::Duration::seconds(60)
    ));
    let a = t.post_json("/api/v1/events", &document(vec![soon])).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    // Nothing of the refused event was stored.
    let gone = t
        .get(&format!(
            "/api/v1/objects/{}",
            percent_encode("urn:epc:id:sgtin:6901234.012345.FUT1")
        ))
        .await;
    assert_eq!(
        gone.status,
        StatusCode::OK,
        "only the minute-ahead event names it"
    );
}
