//! The workflows API: definitions (the built-in templates and the plant's, saved by master-data
//! writers, every field checked), cases started by staff or by rules, each case with the transitions its
//! state offers and whether their guards hold, and moves — taken only by the state's assignee (or an
//! administrator), refused with the field named, each an event on the ledger.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use suyuan_workflows::{Case, Workflow};

use super::forms::failure;
use super::operations::{OpsFailure, Staff, parse};
use crate::AppState;
use crate::api::events::json_body;
use crate::error::ApiError;

type R = Result<Response, OpsFailure>;

/// `GET /api/v1/workflows`.
pub async fn list(State(st): State<AppState>, _: Staff) -> R {
    let w = st.engine.workflows().await.map_err(failure)?;
    Ok(Json(json!({"workflows": w})).into_response())
}

/// `GET /api/v1/workflows/{code}`.
pub async fn one(State(st): State<AppState>, _: Staff, Path(code): Path<String>) -> R {
    let w = st.engine.workflow(&code, None).await.map_err(failure)?;
    Ok(Json(json!(w)).into_response())
}

/// `POST /api/v1/workflows`: saves a workflow (a new version when it changed).
pub async fn save(
    State(st): State<AppState>,
    Staff(me): Staff,
    headers: HeaderMap,
    body: Bytes,
) -> R {
    let wf: Workflow = parse(json_body(&headers, &body)?)?;
    let saved = st
        .engine
        .save_workflow(&me.user, &wf)
        .await
        .map_err(failure)?;
    Ok((StatusCode::CREATED, Json(json!(saved))).into_response())
}

/// `GET /api/v1/cases`: every case, open ones first.
pub async fn cases(State(st): State<AppState>, _: Staff) -> R {
    let c = st
        .engine
        .cases()
        .await
        .map_err(|e| OpsFailure::Ops(e.into()))?;
    Ok(Json(json!({"cases": c})).into_response())
}

/// `POST /api/v1/cases`: `{workflow, title, subject, data, request_id}` — starts a case.
pub async fn start(
    State(st): State<AppState>,
    Staff(me): Staff,
    headers: HeaderMap,
    body: Bytes,
) -> R {
    let v = json_body(&headers, &body)?;
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let subject = Some(s("subject")).filter(|x| !x.trim().is_empty());
    let request = v
        .get("request_id")
        .and_then(Value::as_str)
        .map(|r| format!("api/{}/{r}", me.user));
    let case = st
        .engine
        .start_case(
            &me.user,
            &s("workflow"),
            &s("title"),
            subject,
            v.get("data").cloned().unwrap_or(Value::Null),
            request.as_deref(),
            chrono::Utc::now(),
        )
        .await
        .map_err(failure)?;
    Ok((StatusCode::CREATED, Json(json!(case))).into_response())
}

/// A case with its workflow version and the transitions its state offers (whether each guard holds).
pub(crate) async fn case_view(st: &AppState, case: Case) -> Result<Value, OpsFailure> {
    let wv = st
        .engine
        .workflow(&case.workflow, Some(case.version))
        .await
        .map_err(failure)?;
    let available: Vec<Value> = case
        .available(&wv.workflow)
        .into_iter()
        .map(|(t, ok)| {
            json!({"key": t.key, "label": t.label, "to": t.to, "form": t.form,
                   "note_required": t.note_required, "guard": t.guard,
                   "allowed": ok.as_ref().is_ok_and(|b| *b), "error": ok.err()})
        })
        .collect();
    Ok(json!({"case": case, "workflow": wv, "available": available}))
}

/// `GET /api/v1/cases/{id}`.
pub async fn case(State(st): State<AppState>, _: Staff, Path(id): Path<String>) -> R {
    let c = st
        .engine
        .case(&id)
        .await
        .map_err(|e| OpsFailure::Ops(e.into()))?
        .ok_or_else(|| ApiError::NotFound(format!("case {id}")))?;
    Ok(Json(case_view(&st, c).await?).into_response())
}

/// `POST /api/v1/cases/{id}/moves`: `{transition, data, note, submission}` — by the state's assignee.
pub async fn move_case(
    State(st): State<AppState>,
    Staff(me): Staff,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> R {
    let v = json_body(&headers, &body)?;
    let c = st
        .engine
        .case(&id)
        .await
        .map_err(|e| OpsFailure::Ops(e.into()))?
        .ok_or_else(|| ApiError::NotFound(format!("case {id}")))?;
    if !st
        .engine
        .may_move(&c, &me.user, me.role.as_str())
        .await
        .map_err(failure)?
    {
        return Err(ApiError::Forbidden(format!(
            "case {id} is in state '{}', which is not assigned to you",
            c.state
        ))
        .into());
    }
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let data: Map<String, Value> = v
        .get("data")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let submission = Some(s("submission")).filter(|x| !x.is_empty());
    let moved = st
        .engine
        .move_case(
            &me.user,
            &id,
            &s("transition"),
            data,
            &s("note"),
            submission,
            chrono::Utc::now(),
        )
        .await
        .map_err(failure)?;
    Ok(Json(case_view(&st, moved).await?).into_response())
}

/// The routes of the workflows API.
pub(crate) fn routes() -> Vec<crate::routes::Route> {
    use crate::routes::{get, post};
    use suyuan_core::access::Permission as P;
    vec![
        get("/api/v1/workflows", P::EventsRead, list),
        post("/api/v1/workflows", P::MasterDataWrite, save),
        get("/api/v1/workflows/{code}", P::EventsRead, one),
        get("/api/v1/cases", P::EventsRead, cases),
        post("/api/v1/cases", P::EventsWrite, start),
        get("/api/v1/cases/{id}", P::EventsRead, case),
        post("/api/v1/cases/{id}/moves", P::EventsRead, move_case),
    ]
}
