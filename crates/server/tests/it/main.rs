//! HTTP integration tests through the public router (no socket): capture, reads, errors, health, metrics, pages.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use std::sync::Arc;
use suyuan_engine::Engine;
use suyuan_server::{AppState, app};
use suyuan_store::SqliteStore;
use tower::ServiceExt;

mod capture;
mod codes;
mod forms;
mod labels;
mod ledger;
mod mqtt;
mod operations;
mod quality;
mod reports;
mod rules;
mod trace;
mod workflows;

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
async fn not_ready_until_the_projections_have_read_the_ledger() {
    let t = test_app().await;
    for i in 0..3 {
        t.post_json("/api/v1/events", &object_event(i)).await;
    }
    // As `suyuan serve` starts: the warm-up is asked for, and has not run yet.
    let warming = t.state.engine.start_warm_up();
    let r = t.get("/readyz").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        r.body.starts_with("starting: reading the ledger"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("of 3 events") || r.body.contains("of 0 events"),
        "{}",
        r.body
    );
    assert_eq!(
        t.get("/healthz").await.status,
        StatusCode::OK,
        "alive all along"
    );
    warming.await.expect("warm up");
    assert_eq!(t.get("/readyz").await.status, StatusCode::OK);
    assert_eq!(t.state.engine.warming(), None);
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let t = test_app().await;
    assert_eq!(t.get("/healthz").await.status, StatusCode::OK);
    assert_eq!(t.get("/readyz").await.status, StatusCode::OK);
    t.post_json("/api/v1/events", &object_event(1)).await;
    // The trace index follows the ledger when first asked (as a trace would).
    t.state.engine.trace_index().await.expect("trace index");
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
    // The server's account of its own memory, part by part, so that growth can be told apart from a leak.
    let part = |name: &str| {
        m.body
            .lines()
            .find_map(|l| l.strip_prefix(&format!("suyuan_memory_bytes{{part=\"{name}\"}} ")))
            .and_then(|v| v.parse::<f64>().ok())
    };
    assert!(part("genealogy").is_some_and(|b| b > 0.0), "{}", m.body);
    assert!(part("whereabouts").is_some_and(|b| b > 0.0), "{}", m.body);
}

#[tokio::test]
async fn pages_render_in_chinese_by_default_and_in_english_on_request() {
    let t = test_app().await;
    t.post_json("/api/v1/events", &object_event(1)).await;
    let home = t.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(
        home.body.contains("<html lang=\"zh-CN\">") && home.body.contains("生产追溯驾驶舱"),
        "{}",
        home.body
    );
    // Every widget is declared over a metric the engine knows.
    for metric in [
        "events_by_step",
        "objects_by_disposition",
        "scans_per_day",
        "ledger",
    ] {
        assert!(
            home.body.contains(&format!("data-metric=\"{metric}\"")),
            "{metric}"
        );
        let figure = t.get(&format!("/api/v1/dashboard/{metric}?lang=en")).await;
        assert_eq!(figure.status, StatusCode::OK, "{}", figure.body);
    }
    let events = t.get("/events").await;
    assert!(events.body.contains("urn:epc:id:sgtin:6901234.012345.1"));
    let en = t.get("/?lang=en").await;
    assert!(en.body.contains("<html lang=\"en\">") && en.body.contains("Traceability dashboard"));
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
    // The overview's old partial is gone with the overview; the dashboard refreshes its own figures.
    assert_eq!(
        t.get("/partials/recent").await.status,
        StatusCode::NOT_FOUND
    );
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
