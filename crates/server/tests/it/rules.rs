//! Rules and tasks through the API, on SQLite and PostgreSQL: the built-in rule is listed, a broken rule
//! is refused field by field, a saved rule fires from the outbox exactly once however often its entries
//! are delivered, a condition that cannot be checked is counted and shown with the rule, a webhook
//! outside the allowed hosts is the rule's error, e-mail goes through a relay once (and without one is the
//! rule's error), the dry run finds what the rule would have done, and a task is done once.

use super::*;
use crate::quality::react;

const CAN: &str = "06901234000116";

fn can(s: u32) -> String {
    format!("https://id.gs1.org/01/{CAN}/21/{s}")
}

fn shipping(c: u32) -> Value {
    json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "shipping", "disposition": "in_transit",
        "epcList": [can(c)], "eventTime": "2026-10-12T08:00:00.000+08:00", "eventTimeZoneOffset": "+08:00"})
}

/// A relay that takes every message (as a plant's SMTP relay would) and keeps what it was given.
pub(crate) async fn fake_relay() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listen");
    let port = listener.local_addr().expect("address").port();
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = got.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let kept = kept.clone();
            tokio::spawn(async move {
                let (r, mut w) = socket.into_split();
                let mut lines = BufReader::new(r).lines();
                let _ = w.write_all(b"220 relay ready\r\n").await;
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(d) = data.as_mut() {
                        if line == "." {
                            if let Ok(mut k) = kept.lock() {
                                k.push(d.clone());
                            }
                            data = None;
                            let _ = w.write_all(b"250 queued\r\n").await;
                        } else {
                            d.push_str(&line);
                            d.push('\n');
                        }
                        continue;
                    }
                    let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                    let answer: &[u8] = match verb.as_str() {
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => b"221 bye\r\n",
                        _ => b"250 ok\r\n",
                    };
                    let _ = w.write_all(answer).await;
                    if verb == "QUIT" {
                        break;
                    }
                }
            });
        }
    });
    (port, got)
}

async fn flow(t: TestApp) {
    let a = t.get("/api/v1/rules").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let list = a.json();
    assert_eq!(
        list["rules"][0]["rule"]["code"], "inspection-failed",
        "{list}"
    );
    assert_eq!(list["rules"][0]["builtin"], true);

    // Every wrong field is named.
    let a = t
        .post_json(
            "/api/v1/rules",
            &json!({"code": "bad code", "name": "x", "if": "event.bizStep ==",
            "then": [{"do": "hold", "reason": ""}]}),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    for field in ["code", "then/0/reason", "if"] {
        assert!(a.body.contains(field), "{field}: {}", a.body);
    }
    assert_eq!(
        t.get("/api/v1/rules").await.json()["rules"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "a refused rule changes nothing"
    );

    // A rule: a shipped can gets a check task and an alert.
    let rule = json!({"code": "ship-check", "name": "发货复核 / shipment check",
        "when": {"biz_step": ["shipping"]}, "if": "event.disposition == 'in_transit'",
        "then": [{"do": "task", "title": "复核发货 {lot}", "role": "admin", "due_hours": 4},
                 {"do": "alert", "message": "{object} shipped"}]});
    let a = t.post_json("/api/v1/rules", &rule).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    assert_eq!(a.json()["version"], 1, "{}", a.body);
    let a = t.post_json("/api/v1/events", &shipping(1)).await;
    assert!(a.status.is_success(), "{}", a.body);
    // Delivered three times (a crash before the acknowledgement repeats entries): done once.
    react(&t).await;
    let head = t.store.recent_events(1).await.expect("head")[0].seq;
    let deny = suyuan_engine::rules::outbound::Outbound::default();
    for _ in 0..2 {
        t.state
            .engine
            .run_rules(1, head, &deny)
            .await
            .expect("rules again");
    }
    let inbox = t.get("/api/v1/tasks").await.json();
    let tasks = inbox["tasks"].as_array().expect("tasks").clone();
    assert_eq!(tasks.len(), 1, "{inbox}");
    assert!(
        tasks[0]["title"]
            .as_str()
            .unwrap_or("")
            .contains("复核发货"),
        "{inbox}"
    );
    let alerts = t.get("/api/v1/alerts?kind=rule").await.json();
    assert_eq!(
        alerts["alerts"].as_array().map(Vec::len),
        Some(1),
        "{alerts}"
    );
    let one = t.get("/api/v1/rules/ship-check").await.json();
    assert_eq!(
        one["status"]["fired"], 3,
        "each delivery counts as a firing: {one}"
    );

    // A condition that cannot be checked is the rule's error, shown with it; the others go on.
    let broken = json!({"code": "broken", "name": "reads a missing field", "when": {"biz_step": ["shipping"]},
        "if": "event.workOrder.size > 1", "then": [{"do": "alert", "message": "never"}]});
    assert_eq!(
        t.post_json("/api/v1/rules", &broken).await.status,
        StatusCode::CREATED
    );
    // A webhook outside the allowed hosts is the rule's error too.
    let hook = json!({"code": "hook", "name": "tell the ERP", "when": {"biz_step": ["shipping"]},
        "then": [{"do": "notify", "channel": "webhook", "to": "http://127.0.0.1:9/erp", "message": "{lot}"}]});
    assert_eq!(
        t.post_json("/api/v1/rules", &hook).await.status,
        StatusCode::CREATED
    );
    // A condition on the object's state reads it (the can is not held).
    let free = json!({"code": "not-held", "name": "shipped while free", "when": {"biz_step": ["shipping"]},
        "if": "object.key.endsWith('/21/2') && !object.held", "then": [{"do": "alert", "message": "{object} free"}]});
    assert_eq!(
        t.post_json("/api/v1/rules", &free).await.status,
        StatusCode::CREATED
    );
    let a = t.post_json("/api/v1/events", &shipping(2)).await;
    assert!(a.status.is_success(), "{}", a.body);
    react(&t).await;
    let b = t.get("/api/v1/rules/broken").await.json();
    assert_eq!(b["status"]["errors"], 1, "{b}");
    assert!(
        b["status"]["last_error"][1]
            .as_str()
            .unwrap_or("")
            .contains("workOrder"),
        "{b}"
    );
    let f = t.get("/api/v1/rules/not-held").await.json();
    assert_eq!(
        (
            f["status"]["fired"].as_u64(),
            f["status"]["errors"].as_u64()
        ),
        (Some(1), Some(0)),
        "{f}"
    );
    let h = t.get("/api/v1/rules/hook").await.json();
    assert!(
        h["status"]["last_error"][1]
            .as_str()
            .unwrap_or("")
            .contains("webhook-allow"),
        "{h}"
    );
    assert_eq!(
        t.get("/api/v1/tasks").await.json()["tasks"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "the shipment check ran for the second can"
    );

    // E-mail: without a relay the rule's error says so; with one, each message goes once however often the
    // entries are delivered.
    let mail = json!({"code": "mail-qa", "name": "mail the QA lead", "when": {"biz_step": ["shipping"]},
        "if": "object.key.endsWith('/21/3')",
        "then": [{"do": "notify", "channel": "email", "to": "qa@plant.example", "message": "{lot} shipped"}]});
    assert_eq!(
        t.post_json("/api/v1/rules", &mail).await.status,
        StatusCode::CREATED
    );
    let a = t.post_json("/api/v1/events", &shipping(3)).await;
    assert!(a.status.is_success(), "{}", a.body);
    react(&t).await;
    let m = t.get("/api/v1/rules/mail-qa").await.json();
    assert!(
        m["status"]["last_error"][1]
            .as_str()
            .unwrap_or("")
            .contains("--smtp-url"),
        "{m}"
    );
    let (port, got) = fake_relay().await;
    let relay = suyuan_engine::rules::outbound::Outbound {
        smtp: Some(
            suyuan_engine::rules::outbound::Smtp::parse(
                &format!("smtp://127.0.0.1:{port}"),
                "Suyuan <suyuan@plant.example>",
            )
            .expect("relay"),
        ),
        ..Default::default()
    };
    let head = t.store.recent_events(1).await.expect("head")[0].seq;
    for _ in 0..2 {
        t.state
            .engine
            .run_rules(1, head, &relay)
            .await
            .expect("rules with a relay");
    }
    let sent = got.lock().map(|g| g.clone()).unwrap_or_default();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(
        sent[0].contains("qa@plant.example") && sent[0].contains("shipped"),
        "{}",
        sent[0]
    );

    // The dry run: what the rule would have done over the day, and nothing done.
    let a = t
        .post_json(
            "/api/v1/rules/dry-run",
            &json!({"rule": rule, "from": "2026-10-12", "to": "2026-10-12"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.json()["fired_total"], 3, "{}", a.body);
    let a = t
        .post_json(
            "/api/v1/rules/dry-run",
            &json!({"rule": rule, "from": "12/10/2026", "to": "2026-10-12"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert!(a.body.contains("from"), "{}", a.body);

    // A task is done once.
    let id = tasks[0]["id"].as_str().expect("id").to_string();
    let url = format!("/api/v1/tasks/{id}/done");
    let a = t.post_json(&url, &json!({"note": "已核对"})).await;
    assert_eq!(a.json()["state"], "done", "{}", a.body);
    let a = t.post_json(&url, &json!({"note": "again"})).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    // Three shipment checks were made (cans 1, 2 and 3); one is done.
    assert_eq!(
        t.get("/api/v1/tasks").await.json()["tasks"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
}

#[tokio::test]
async fn rules_and_tasks_on_sqlite() {
    flow(test_app().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_and_tasks_on_postgres() {
    // Skips with a message when SUYUAN_TEST_PG_URL is unset; fails then under SUYUAN_REQUIRE_SERVICES.
    if let Some(t) = pg_app("rules").await {
        flow(t).await;
    }
}
