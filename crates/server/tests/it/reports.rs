//! Reports and dashboards through the API, on SQLite and PostgreSQL: a broken report refused field by
//! field, a grouped report run as JSON, CSV, XLSX and PDF and as a dashboard figure, dashboards checked
//! against the metrics and reports that exist (the home page among them), and a scheduled report
//! delivered once per period to a webhook and by e-mail with its file attached.

use super::*;
use crate::rules::fake_relay;

fn pointers(a: &Answer) -> Vec<String> {
    a.json()["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["pointer"].as_str().map(str::to_string))
        .collect()
}

/// A webhook receiver that answers 200 and keeps each body.
async fn hook() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listen");
    let port = listener.local_addr().expect("address").port();
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = got.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 8192];
            while let Ok(n) = socket.read(&mut chunk).await {
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                let Some((head, body)) = text.split_once("\r\n\r\n") else {
                    continue;
                };
                let len = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                if body.len() >= len {
                    if let Ok(mut k) = kept.lock() {
                        k.push(body.to_string());
                    }
                    break;
                }
            }
            let _ = socket
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .await;
        }
    });
    (port, got)
}

fn event(step: &str, serial: u32) -> Value {
    json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": step,
        "epcList": [format!("https://id.gs1.org/01/06901234567892/21/{serial}")],
        "eventTime": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "eventTimeZoneOffset": "+00:00"})
}

async fn flow(t: TestApp) {
    for (step, serial) in [("shipping", 1), ("shipping", 2), ("receiving", 3)] {
        let a = t.post_json("/api/v1/events", &event(step, serial)).await;
        assert!(a.status.is_success(), "{}", a.body);
    }
    let mut report = json!({"code": "by-step", "name": {"zh": "按业务步骤", "en": "By step"},
        "source": "events", "days": 7,
        "filters": [{"field": "biz_step", "op": "in", "value": ["shipping", "receiving"]}],
        "group_by": ["biz_step"],
        "columns": [{"field": "biz_step", "label": {"zh": "步骤", "en": "Step"}},
                    {"field": "event_id", "label": {"zh": "事件数", "en": "Events"}, "agg": "count"}],
        "sort": [{"column": 1, "desc": true}]});
    let mut broken = report.clone();
    broken["source"] = json!("emails");
    let a = t.post_json("/api/v1/reports", &broken).await;
    assert_eq!(pointers(&a), vec!["/source"], "{}", a.body);
    broken = report.clone();
    broken["columns"][1]["agg"] = Value::Null;
    broken["sort"][0]["column"] = json!(5);
    let a = t.post_json("/api/v1/reports", &broken).await;
    assert_eq!(
        pointers(&a),
        vec!["/columns/1/agg", "/sort/0/column"],
        "{}",
        a.body
    );
    let a = t.post_json("/api/v1/reports", &report).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);

    let run = t.get("/api/v1/reports/by-step/run").await.json();
    assert_eq!(
        run["table"]["rows"],
        json!([["shipping", 2], ["receiving", 1]]),
        "{run}"
    );
    let csv = t
        .get("/api/v1/reports/by-step/run?format=csv&lang=en")
        .await;
    assert!(
        csv.content_type.starts_with("text/csv"),
        "{}",
        csv.content_type
    );
    assert!(
        csv.body
            .starts_with("\u{feff}Step,Events\r\nshipping,2\r\n"),
        "{:?}",
        csv.body
    );
    for (format, magic) in [("xlsx", "PK"), ("pdf", "%PDF")] {
        let a = t
            .get(&format!("/api/v1/reports/by-step/run?format={format}"))
            .await;
        assert_eq!(a.status, StatusCode::OK, "{format}");
        assert!(a.body.starts_with(magic), "{format}");
    }
    let objects = json!({"code": "objects", "name": {"zh": "对象"}, "source": "objects",
        "group_by": ["product"],
        "columns": [{"field": "product", "label": {"zh": "产品"}},
                    {"field": "object", "label": {"zh": "件数"}, "agg": "count_distinct"}]});
    assert_eq!(
        t.post_json("/api/v1/reports", &objects).await.status,
        StatusCode::CREATED
    );
    let run = t.get("/api/v1/reports/objects/run").await.json();
    assert_eq!(
        run["table"]["rows"],
        json!([["06901234567892", 3]]),
        "{run}"
    );
    let f = t.get("/api/v1/reports/by-step/figure").await.json();
    assert_eq!(f["categories"][0]["key"], "shipping");
    assert_eq!(f["series"][0]["values"], json!([2, 1]));
    assert_eq!(f["total"], json!(3.0));

    // Dashboards name metrics and reports that exist; the home page is one of them.
    let bad = json!({"code": "ops", "name": {"zh": "运营"}, "widgets": [
        {"title": {"zh": "X"}, "metric": "no_such_metric", "chart": "bars"}]});
    let a = t.post_json("/api/v1/dashboards", &bad).await;
    assert_eq!(pointers(&a), vec!["/widgets/0/metric"], "{}", a.body);
    let ops = json!({"code": "ops", "name": {"zh": "运营看板", "en": "Operations"}, "widgets": [
        {"title": {"zh": "按步骤", "en": "By step"}, "report": "by-step", "chart": "pie"},
        {"title": {"zh": "账本", "en": "Ledger"}, "metric": "ledger", "chart": "rows"},
        {"title": {"zh": "事件总数", "en": "Events"}, "report": "by-step", "chart": "gauge", "max": 10}]});
    assert_eq!(
        t.post_json("/api/v1/dashboards", &ops).await.status,
        StatusCode::CREATED
    );
    let page = t.get("/dashboards/ops?lang=en").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("data-url=\"/api/v1/reports/by-step/figure\""),
        "{}",
        page.body
    );
    let list = t.get("/api/v1/dashboards").await.json();
    assert_eq!(list["home"]["builtin"], true);
    let mut home = list["home"]["def"].clone();
    home["name"] = json!({"zh": "厂长看板", "en": "Plant manager board"});
    if let Some(w) = home["widgets"].as_array_mut() {
        w.truncate(3);
    }
    assert_eq!(
        t.post_json("/api/v1/dashboards", &home).await.status,
        StatusCode::CREATED
    );
    let page = t.get("/?lang=en").await.body;
    assert!(page.contains("Plant manager board"), "{page}");
    assert_eq!(
        page.matches("<section class=\"widget").count(),
        3,
        "the saved home page"
    );

    // Scheduled delivery: once per period to each recipient.
    let (hook_port, hooked) = hook().await;
    let (relay_port, mails) = fake_relay().await;
    report["schedule"] = json!({"every": "daily", "hour": 0, "format": "xlsx",
        "to": [format!("http://127.0.0.1:{hook_port}/reports"), "qa@plant.example"]});
    assert_eq!(
        t.post_json("/api/v1/reports", &report).await.status,
        StatusCode::CREATED
    );
    let out = suyuan_engine::rules::outbound::Outbound {
        webhooks: std::sync::Arc::new(|u: &str| u.starts_with("http://127.0.0.1:")),
        smtp: Some(
            suyuan_engine::rules::outbound::Smtp::parse(
                &format!("smtp://127.0.0.1:{relay_port}"),
                "Suyuan <suyuan@plant.example>",
            )
            .expect("relay"),
        ),
    };
    let now = chrono::Utc::now();
    let sent = suyuan_server::web::reports::delivery::deliver_due(&t.state.engine, &out, now)
        .await
        .expect("delivered");
    assert_eq!(sent, 2);
    let again = suyuan_server::web::reports::delivery::deliver_due(&t.state.engine, &out, now)
        .await
        .expect("nothing left");
    assert_eq!(again, 0, "once per period");
    let hooked = hooked.lock().map(|h| h.clone()).unwrap_or_default();
    assert_eq!(hooked.len(), 1);
    assert!(hooked[0].contains("\"shipping\""), "{hooked:?}");
    let mails = mails.lock().map(|m| m.clone()).unwrap_or_default();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("by-step.xlsx"), "{}", mails[0]);
}

#[tokio::test]
async fn reports_on_sqlite() {
    flow(test_app().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_on_postgres() {
    // Skips with a message when SUYUAN_TEST_PG_URL is unset; fails then under SUYUAN_REQUIRE_SERVICES.
    if let Some(t) = pg_app("reports").await {
        flow(t).await;
    }
}
