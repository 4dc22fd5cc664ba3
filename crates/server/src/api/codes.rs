//! Coding rules and issued codes over HTTP: `/api/v1/coding-rules` (list, save a new version, read a
//! version) and `/api/v1/codes` (issue, check a scanned code, revoke).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::{Value, json};
use suyuan_core::coding::CodingError;
use suyuan_engine::accounts::Principal;
use suyuan_engine::codes::{CodeError, IssueRequest};
use suyuan_store::kinds;

use crate::AppState;
use crate::api::events::json_body;
use crate::error::ApiError;

impl From<CodeError> for ApiError {
    fn from(e: CodeError) -> Self {
        match e {
            CodeError::UnknownRule(_) => ApiError::NotFound(e.to_string()),
            CodeError::Field { field, msg } => {
                ApiError::invalid(&format!("/{}", field.replace('.', "/")), msg)
            }
            CodeError::Coding(CodingError::Context { field, msg }) => {
                ApiError::invalid(&format!("/context/{field}"), msg)
            }
            CodeError::Coding(CodingError::Exhausted(_)) => ApiError::Refused(e.to_string()),
            CodeError::Coding(other) => ApiError::invalid("/context", other.to_string()),
            CodeError::Store(s) => s.into(),
            CodeError::Capture(c) => c.into(),
            CodeError::Random(_) => ApiError::Unavailable(e.to_string()),
        }
    }
}

/// `GET /api/v1/coding-rules`: the latest version of every rule with how many codes it issued.
pub async fn list_rules(State(st): State<AppState>) -> Result<Json<Value>, ApiError> {
    let store = st.engine.reader();
    let mut out = Vec::new();
    for r in store.definitions(kinds::CODING_RULE).await? {
        let issued = store.issued_count(&r.name).await?;
        out.push(
            json!({"name": r.name, "version": r.version, "definition": r.definition,
            "createdAt": r.created_at, "issued": issued}),
        );
    }
    Ok(Json(json!({ "rules": out })))
}

/// `POST /api/v1/coding-rules` `{name, definition}`: stores the next version (201), or answers the current
/// one unchanged (200) when the definition did not change.
pub async fn save_rule(
    State(st): State<AppState>,
    axum::Extension(me): axum::Extension<suyuan_engine::accounts::Principal>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let v = json_body(&headers, &body)?;
    let obj = v
        .as_object()
        .ok_or_else(|| ApiError::invalid("", "expected an object {name, definition}"))?;
    if let Some(k) = obj
        .keys()
        .find(|k| !matches!(k.as_str(), "name" | "definition"))
    {
        return Err(ApiError::invalid(
            &format!("/{k}"),
            "unknown field: expected name and definition",
        ));
    }
    let name = obj
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::invalid("/name", "required: the rule's name"))?;
    let def = obj
        .get("definition")
        .ok_or_else(|| ApiError::invalid("/definition", "required: {template, target, …}"))?;
    let before = st
        .engine
        .reader()
        .definition(kinds::CODING_RULE, name, None)
        .await?
        .map(|r| r.version);
    let saved = st.engine.save_rule(&me.user, name, def).await?;
    let status = if before == Some(saved.version) {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(saved)).into_response())
}

/// `GET /api/v1/coding-rules/{name}`: the latest version and the list of all versions.
pub async fn get_rule(
    State(st): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let store = st.engine.reader();
    let versions = store.definition_versions(kinds::CODING_RULE, &name).await?;
    let latest = versions
        .last()
        .ok_or_else(|| ApiError::NotFound(format!("no coding rule named {name}")))?;
    Ok(Json(json!({
        "name": name, "version": latest.version, "definition": latest.definition,
        "createdAt": latest.created_at, "issued": store.issued_count(&name).await?,
        "versions": versions,
    })))
}

/// `POST /api/v1/codes` `{rule, count, context, location, at}`: issues codes and records their commissioning.
pub async fn issue(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let v = json_body(&headers, &body)?;
    let req: IssueRequest =
        serde_json::from_value(v).map_err(|e| ApiError::invalid("", e.to_string()))?;
    let batch = st.engine.issue_codes(&req).await?;
    metrics::counter!("suyuan_codes_issued_total", "rule" => batch.rule.clone())
        .increment(batch.codes.len() as u64);
    Ok((StatusCode::CREATED, Json(batch)).into_response())
}

/// `GET /api/v1/codes/check?value=`: is this scanned code right for its rule, issued and not revoked?
pub async fn check(
    State(st): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let value = q.get("value").filter(|v| !v.is_empty()).ok_or_else(|| {
        ApiError::bad_param("value", "required: the scanned code, Digital Link or URN")
    })?;
    let verdict = st.engine.check_code(value).await?;
    Ok(Json(json!(verdict)))
}

/// `POST /api/v1/codes/revoke` `{code, reason}`: revokes an issued code (by code text or identity).
pub async fn revoke(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let v = json_body(&headers, &body)?;
    let code = v
        .get("code")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ApiError::invalid("/code", "required: the code or its identity"))?;
    let reason = v
        .get("reason")
        .and_then(Value::as_str)
        .filter(|r| !r.trim().is_empty())
        .ok_or_else(|| ApiError::invalid("/reason", "required: why the code is revoked"))?;
    match st.engine.revoke_code(&me.user, code, reason).await {
        Ok(event) => Ok(Json(
            json!({"revoked": 1, "eventID": event.event_id, "seq": event.seq}),
        )),
        Err(suyuan_engine::CaptureError::Store(suyuan_store::StoreError::Missing { .. })) => {
            let known = st.engine.reader().issued(code).await?;
            Err(if known.is_empty() {
                ApiError::NotFound(format!("no issued code {code}"))
            } else {
                ApiError::Refused(format!("code {code} is already revoked"))
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// The routes of this module, each with the permission it needs.
pub(crate) fn routes() -> Vec<crate::routes::Route> {
    use crate::routes;
    use suyuan_core::access::Permission as P;
    vec![
        routes::get("/api/v1/coding-rules", P::CodesRead, list_rules),
        routes::post("/api/v1/coding-rules", P::CodesWrite, save_rule),
        routes::get("/api/v1/coding-rules/{name}", P::CodesRead, get_rule),
        routes::post("/api/v1/codes", P::CodesWrite, issue),
        routes::get("/api/v1/codes/check", P::CodesRead, check),
        routes::post("/api/v1/codes/revoke", P::CodesWrite, revoke),
    ]
}
