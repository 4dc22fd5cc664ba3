//! Alerts: diversion, counterfeit and process-parameter alerts with their facts, filtered by kind and
//! state; each can be acknowledged (taking an owner) and closed with a note, every step on the ledger.

use askama::Template;
use axum::Extension;
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::Value;
use std::collections::HashMap;
use suyuan_engine::accounts::Principal;
use suyuan_engine::operations::alerts::Alert;
use suyuan_engine::operations::master::Records;
use suyuan_ops::alerts::AlertKind;

use crate::AppState;
use crate::web::i18n::Tr;
use crate::web::pages::{Chrome, friendly_time, render};
use crate::web::viewer::Viewer;

use super::{ops_down, say};

/// One alert as the list shows it.
struct Row {
    id: String,
    kind: String,
    kind_label: String,
    /// The trace explorer's page of what it is about.
    href: String,
    /// What it is about, by its last part (a serial).
    short: String,
    raised: String,
    detail: String,
    state: String,
    state_label: String,
    owner: String,
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct AlertsPage {
    chrome: Chrome,
    rows: Vec<Row>,
    kinds: Vec<(String, String)>,
    states: Vec<(String, String)>,
    kind: String,
    state: String,
    error: String,
    can_write: bool,
}

/// An alert's facts in the reader's words.
fn detail(tr: Tr, records: &Records, english: bool, a: &Alert) -> String {
    let d = &a.detail;
    let text = |k: &str| match d.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join("、"),
        Some(other) => other.to_string(),
    };
    let fill = |key: &str, pairs: &[(&str, String)]| {
        let mut s = tr.t(key).to_string();
        for (k, v) in pairs {
            s = s.replace(&format!("{{{k}}}"), v);
        }
        s
    };
    match a.kind {
        AlertKind::Diversion => fill(
            "alert.detail.diversion",
            &[
                (
                    "distributor",
                    records.label("customer", &text("distributor"), english),
                ),
                ("regions", text("regions")),
                (
                    "seen_in",
                    format!("{} {}", text("seen_in"), text("city"))
                        .trim()
                        .to_string(),
                ),
                ("at", friendly_time(&text("at"))),
            ],
        ),
        AlertKind::Counterfeit => fill(
            "alert.detail.counterfeit",
            &[
                ("scans", text("scans")),
                (
                    "n",
                    d.get("regions")
                        .and_then(Value::as_array)
                        .map_or(0, Vec::len)
                        .to_string(),
                ),
                ("regions", text("regions")),
            ],
        ),
        AlertKind::Parameter => fill(
            "alert.detail.parameter",
            &[
                ("parameter", text("parameter")),
                ("value", text("value")),
                ("unit", text("unit")),
                (
                    "limit",
                    tr.t(&format!("alert.limit.{}", text("limit"))).to_string(),
                ),
                ("bound", text("bound")),
                ("station", text("station")),
                ("equipment", text("equipment")),
                ("at", friendly_time(&text("time"))),
            ],
        ),
        AlertKind::Nonconformance => fill(
            "alert.detail.nonconformance",
            &[
                ("stage", text("stage").to_uppercase()),
                ("object", text("object")),
                ("ncr", text("ncr")),
                ("held", text("held")),
            ],
        ),
        AlertKind::HeldMoved => fill(
            "alert.detail.held_moved",
            &[
                ("object", text("object")),
                ("hold", text("hold")),
                ("step", text("step")),
                ("at", friendly_time(&text("at"))),
            ],
        ),
        AlertKind::Rule => fill(
            "alert.detail.rule",
            &[("rule", text("rule")), ("message", text("message"))],
        ),
    }
}

async fn draw(st: &AppState, v: &Viewer, error: String) -> Response {
    let tr = Tr { lang: v.lang };
    let kind = v.query.get("kind").cloned().unwrap_or_default();
    let state = v.query.get("state").cloned().unwrap_or_default();
    let list = match st
        .engine
        .alerts(
            Some(kind.as_str()).filter(|k| !k.is_empty()),
            Some(state.as_str()).filter(|s| !s.is_empty()),
        )
        .await
    {
        Ok(l) => l,
        Err(e) => return ops_down(e),
    };
    let records = match st.engine.records().await {
        Ok(r) => r,
        Err(e) => return ops_down(e),
    };
    let english = v.lang == crate::web::i18n::Lang::En;
    let rows = list
        .iter()
        .take(500)
        .map(|a| Row {
            id: a.id.clone(),
            kind: a.kind.as_str().to_string(),
            kind_label: tr.t(&format!("alert.kind.{}", a.kind.as_str())).to_string(),
            href: format!(
                "/trace?q={}",
                percent_encoding::utf8_percent_encode(
                    &a.subject,
                    percent_encoding::NON_ALPHANUMERIC
                )
            ),
            short: a
                .subject
                .rsplit('/')
                .next()
                .unwrap_or(&a.subject)
                .to_string(),
            raised: friendly_time(&a.raised_at),
            detail: detail(tr, &records, english, a),
            state: a.state.clone(),
            state_label: tr.t(&format!("alert.state.{}", a.state)).to_string(),
            owner: a.owner.clone().unwrap_or_default(),
        })
        .collect();
    let page = AlertsPage {
        chrome: v.chrome("alerts"),
        rows,
        kinds: [
            "diversion",
            "counterfeit",
            "parameter",
            "nonconformance",
            "held_moved",
            "rule",
        ]
        .iter()
        .map(|k| (k.to_string(), tr.t(&format!("alert.kind.{k}")).to_string()))
        .collect(),
        states: ["open", "acknowledged", "closed"]
            .iter()
            .map(|k| (k.to_string(), tr.t(&format!("alert.state.{k}")).to_string()))
            .collect(),
        kind,
        state,
        error,
        can_write: v.me.allows(suyuan_core::access::Permission::EventsWrite),
    };
    render(&page, v.lang, v.chose_lang)
}

/// `GET /alerts?kind=&state=`.
pub async fn list(State(st): State<AppState>, v: Viewer) -> Response {
    if let Some(r) = super::staff_only(&v) {
        return r;
    }
    draw(&st, &v, String::new()).await
}

/// `POST /alerts/{id}`: `state=acknowledged|closed`, `owner`, `note`.
pub async fn update(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    Path(id): Path<String>,
    v: Viewer,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Some(r) = super::staff_only(&v) {
        return r;
    }
    let g = |k: &str| f.get(k).map(|x| x.trim().to_string()).unwrap_or_default();
    match st
        .engine
        .update_alert(
            &me.user,
            &id,
            &g("state"),
            Some(g("owner").as_str()).filter(|o| !o.is_empty()),
            &g("note"),
        )
        .await
    {
        Ok(_) => Redirect::to("/alerts").into_response(),
        Err(e) => draw(&st, &v, say(Tr { lang: v.lang }, &e)).await,
    }
}
