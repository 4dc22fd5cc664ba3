//! Workflows and cases through the API, on SQLite and PostgreSQL: the four templates out of the box, a
//! broken definition refused field by field, a deviation case moved by its guards to its end by its
//! assignees (anyone else refused), a transition that requires a form, SLA escalation fired by the
//! timer reactor at a clock the test moves (once), and a rule starting a case once however often its
//! outbox entry is delivered.

use super::*;
use crate::quality::react;
use suyuan_engine::reactor::{ManualClock, Runtime};

fn pointers(a: &Answer) -> Vec<String> {
    a.json()["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["pointer"].as_str().map(str::to_string))
        .collect()
}

async fn flow(t: TestApp) {
    let list = t.get("/api/v1/workflows").await.json();
    let codes: Vec<&str> = list["workflows"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|w| w["workflow"]["code"].as_str())
        .collect();
    assert_eq!(
        codes,
        vec!["deviation", "ncr-review", "recall", "supplier-8d"]
    );

    // A broken definition: every wrong field named, nothing saved.
    let a = t
        .post_json(
            "/api/v1/workflows",
            &json!({"code": "x", "name": {"zh": "X"}, "start": "nowhere",
                    "states": [{"key": "a", "label": {"zh": "A"}, "role": "admin"}, {"key": "b", "label": {"zh": "B"}, "end": true}],
                    "transitions": [{"key": "go", "label": {"zh": "走"}, "from": ["a"], "to": "c", "guard": "case.x =="}]}),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    let at = pointers(&a);
    for p in ["/start", "/transitions/0/to", "/transitions/0/guard"] {
        assert!(at.contains(&p.to_string()), "{p}: {at:?}");
    }

    // A high-risk deviation: approval needs the plant manager; a rejection needs a note.
    let a = t
        .post_json(
            "/api/v1/cases",
            &json!({"workflow": "deviation", "title": "卷边规 SG-02 超出校准期 3 天", "data": {"risk": "high"}, "request_id": "d-1"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let case = a.json();
    let id = case["id"].as_str().expect("id").to_string();
    assert_eq!(case["state"], "requested");
    let again = t
        .post_json(
            "/api/v1/cases",
            &json!({"workflow": "deviation", "title": "卷边规 SG-02 超出校准期 3 天", "data": {"risk": "high"}, "request_id": "d-1"}),
        )
        .await;
    assert_eq!(
        again.json()["id"],
        json!(id),
        "the same request, the same case"
    );
    let tasks = t.get("/api/v1/tasks?all=true").await.json();
    let task = tasks["tasks"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|x| x["link"] == json!(format!("/cases/{id}")))
        .cloned()
        .expect("the case's task");
    assert_eq!(task["role"], "quality_manager");
    assert!(
        task["due"].is_string(),
        "the state's SLA is the task's due time"
    );

    let view = t.get(&format!("/api/v1/cases/{id}")).await.json();
    let allowed: Vec<(String, bool)> = view["available"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|x| {
            (
                x["key"].as_str().unwrap_or("").to_string(),
                x["allowed"] == true,
            )
        })
        .collect();
    assert!(allowed.contains(&("approve".into(), false)), "{allowed:?}");
    assert!(allowed.contains(&("escalate".into(), true)), "{allowed:?}");

    let moves = format!("/api/v1/cases/{id}/moves");
    let operator = t.user_token("op1", "operator").await;
    let a = t
        .post_as(&operator, &moves, &json!({"transition": "escalate"}))
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    let qm = t.user_token("qm1", "quality_manager").await;
    let a = t
        .post_as(&qm, &moves, &json!({"transition": "approve"}))
        .await;
    assert_eq!(pointers(&a), vec!["/guard"], "{}", a.body);
    let a = t
        .post_as(
            &qm,
            &moves,
            &json!({"transition": "escalate", "note": "高风险"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.json()["case"]["state"], "plant_manager");
    let a = t
        .post_as(&qm, &moves, &json!({"transition": "approve_high"}))
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "the plant manager's step");
    let a = t.post_json(&moves, &json!({"transition": "reject"})).await;
    assert_eq!(pointers(&a), vec!["/note"], "{}", a.body);
    let a = t
        .post_json(
            &moves,
            &json!({"transition": "approve_high", "data": {"until": "2026-12-31"}, "note": "年底前完成校准"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let done = a.json();
    assert_eq!(done["case"]["ended"], true);
    assert_eq!(done["case"]["history"].as_array().map(Vec::len), Some(3));
    let events = t.get("/api/v1/events?limit=1000").await.body;
    assert_eq!(
        events.matches("workflow.moved").count(),
        2,
        "each move is an event"
    );
    assert_eq!(events.matches("workflow.started").count(), 1);

    // A transition that requires a form takes only a submission of that form.
    let form = json!({"code": "check", "name": {"zh": "复核"},
        "fields": [{"key": "lot", "label": {"zh": "批次"}, "type": "scan", "role": "object", "required": true}],
        "event": {"type": "ObjectEvent", "action": "OBSERVE", "biz_step": "inspecting"}});
    assert_eq!(
        t.post_json("/api/v1/forms", &form).await.status,
        StatusCode::CREATED
    );
    let wf = json!({"code": "recheck", "name": {"zh": "复检"}, "start": "open",
        "states": [{"key": "open", "label": {"zh": "待复检"}, "role": "inspector", "sla_hours": 2, "escalate_to": "quality_manager"},
                   {"key": "done", "label": {"zh": "完成"}, "end": true}],
        "transitions": [{"key": "checked", "label": {"zh": "已复检"}, "from": ["open"], "to": "done", "form": "check"}]});
    let a = t.post_json("/api/v1/workflows", &wf).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let c = t
        .post_json(
            "/api/v1/cases",
            &json!({"workflow": "recheck", "title": "L2026101212 复检"}),
        )
        .await
        .json();
    let rid = c["id"].as_str().expect("id").to_string();
    let a = t
        .post_json(
            &format!("/api/v1/cases/{rid}/moves"),
            &json!({"transition": "checked"}),
        )
        .await;
    assert_eq!(pointers(&a), vec!["/submission"], "{}", a.body);
    let sub = t
        .post_json(
            "/api/v1/forms/check/submissions",
            &json!({"values": {"lot": "(01)06901234567892(10)L2026101212"}}),
        )
        .await
        .json();
    let a = t
        .post_json(
            &format!("/api/v1/cases/{rid}/moves"),
            &json!({"transition": "checked", "submission": sub["id"]}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.json()["case"]["history"][1]["submission"], sub["id"]);

    // SLA: the timer reactor escalates an overdue case at the clock the test moves — once.
    let c = t
        .post_json(
            "/api/v1/cases",
            &json!({"workflow": "ncr-review", "title": "NCR-TEST 评审"}),
        )
        .await
        .json();
    let nid = c["id"].as_str().expect("id").to_string();
    let clock = ManualClock::at(chrono::Utc::now().timestamp_millis());
    let timers = Runtime::new(t.state.engine.clone(), "test-sla")
        .with_clock(clock.clone())
        .with(std::sync::Arc::new(
            suyuan_engine::workflows::SlaTimer::new(clock.clone()),
        ));
    timers.drain().await.expect("drained");
    clock.advance(2 * 3600 * 1000);
    timers.step(0).await.expect("tick");
    assert_eq!(
        t.get(&format!("/api/v1/cases/{nid}")).await.json()["case"]["escalated"],
        false,
        "within its 24 h"
    );
    clock.advance(23 * 3600 * 1000);
    timers.step(0).await.expect("tick");
    let c = t.get(&format!("/api/v1/cases/{nid}")).await.json();
    assert_eq!(c["case"]["escalated"], true, "{c}");
    clock.advance(3600 * 1000);
    timers.step(0).await.expect("tick");
    let tasks = t.get("/api/v1/tasks?all=true").await.body;
    assert_eq!(
        tasks.matches(&format!("N-{nid}-1-sla")).count(),
        1,
        "escalated once: {tasks}"
    );

    // A rule starts a case for each receipt — once, however often its entries are delivered.
    let rule = json!({"code": "receipt-review", "name": "Every receipt gets a review",
        "when": {"biz_step": ["receiving"]},
        "then": [{"do": "start_workflow", "workflow": "ncr-review", "title": "收货评审 {lot}"}]});
    assert_eq!(
        t.post_json("/api/v1/rules", &rule).await.status,
        StatusCode::CREATED
    );
    let receipt = json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "receiving",
        "quantityList": [{"epcClass": "https://id.gs1.org/01/06920001000110/10/RM0042", "quantity": 3000}],
        "eventTime": "2026-12-07T08:00:00.000+08:00", "eventTimeZoneOffset": "+08:00"});
    let a = t.post_json("/api/v1/events", &receipt).await;
    assert!(a.status.is_success(), "{}", a.body);
    react(&t).await;
    react(&t).await;
    let list = t.get("/api/v1/cases").await.body;
    assert_eq!(list.matches("收货评审 RM0042").count(), 1, "{list}");
}

#[tokio::test]
async fn workflows_on_sqlite() {
    flow(test_app().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workflows_on_postgres() {
    // Skips with a message when SUYUAN_TEST_PG_URL is unset; fails then under SUYUAN_REQUIRE_SERVICES.
    if let Some(t) = pg_app("workflows").await {
        flow(t).await;
    }
}
