//! The rules API: rules with their status (fired, errors and the last one), saving a rule (every field
//! and its condition checked, located), a dry run over past events, and the task inbox with its to-dos
//! and notices. Rules are configuration (master-data writers save them); tasks are each user's.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use suyuan_rules::Rule;

use super::operations::{OpsFailure, Staff, parse};
use crate::AppState;
use crate::api::events::json_body;
use crate::error::ApiError;

type R = Result<Response, OpsFailure>;

/// `GET /api/v1/rules`: every rule with its status.
pub async fn list(State(st): State<AppState>, _: Staff) -> R {
    Ok(Json(json!({"rules": st.engine.event_rules().await?})).into_response())
}

/// `GET /api/v1/rules/{code}`.
pub async fn one(State(st): State<AppState>, _: Staff, Path(code): Path<String>) -> R {
    Ok(Json(json!(st.engine.event_rule(&code).await?)).into_response())
}

/// `POST /api/v1/rules`: saves a rule (a new version when it changed).
pub async fn save(
    State(st): State<AppState>,
    Staff(me): Staff,
    headers: HeaderMap,
    body: Bytes,
) -> R {
    let rule: Rule = parse(json_body(&headers, &body)?)?;
    let saved = st.engine.save_event_rule(&me.user, &rule).await?;
    Ok((axum::http::StatusCode::CREATED, Json(json!(saved))).into_response())
}

/// `POST /api/v1/rules/dry-run`: `{rule, from, to}` — what the rule would have done over the events of
/// those days; nothing is done or saved.
pub async fn dry_run(State(st): State<AppState>, _: Staff, headers: HeaderMap, body: Bytes) -> R {
    let v = json_body(&headers, &body)?;
    let rule: Rule = parse(v.get("rule").cloned().unwrap_or(Value::Null))?;
    let day = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let out = st.engine.dry_run(&rule, &day("from"), &day("to")).await?;
    Ok(Json(json!(out)).into_response())
}

/// `GET /api/v1/tasks?all=true`: the caller's open tasks and notices (`all`: every task, for
/// administrators).
pub async fn tasks(
    State(st): State<AppState>,
    Staff(me): Staff,
    Query(q): Query<HashMap<String, String>>,
) -> R {
    let list = if q.get("all").map(String::as_str) == Some("true")
        && me.allows(suyuan_core::access::Permission::Admin)
    {
        st.engine.tasks().await?
    } else {
        st.engine.inbox(&me.user, me.role.as_str()).await?
    };
    Ok(Json(json!({"tasks": list})).into_response())
}

/// `POST /api/v1/tasks/{id}/done`: `{note}` — done (a notice: read) by the caller, whose inbox it is in.
pub async fn done(
    State(st): State<AppState>,
    Staff(me): Staff,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> R {
    let v = json_body(&headers, &body)?;
    let t = st
        .engine
        .task(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("task {id}")))?;
    if !t.for_user(&me.user, me.role.as_str()) && !me.allows(suyuan_core::access::Permission::Admin)
    {
        return Err(ApiError::Forbidden(format!("task {id} is not in your inbox")).into());
    }
    let note = v.get("note").and_then(Value::as_str).unwrap_or("");
    Ok(Json(json!(st.engine.complete_task(&me.user, &id, note).await?)).into_response())
}

/// The routes of the rules and tasks API.
pub(crate) fn routes() -> Vec<crate::routes::Route> {
    use crate::routes::{get, post};
    use suyuan_core::access::Permission as P;
    vec![
        get("/api/v1/rules", P::EventsRead, list),
        post("/api/v1/rules", P::MasterDataWrite, save),
        post("/api/v1/rules/dry-run", P::MasterDataWrite, dry_run),
        get("/api/v1/rules/{code}", P::EventsRead, one),
        get("/api/v1/tasks", P::EventsRead, tasks),
        post("/api/v1/tasks/{id}/done", P::EventsRead, done),
    ]
}
