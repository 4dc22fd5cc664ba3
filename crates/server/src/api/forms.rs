//! The forms API: form definitions and their versions (saved by master-data writers, every field checked
//! and located), what a scan field's code is, and submissions — each recorded as its form's event through
//! the one write path, answered again for a repeated `request_id`, refused with every wrong field named.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use suyuan_engine::forms::FormError;
use suyuan_forms::Form;

use super::operations::{OpsFailure, Staff, parse};
use crate::AppState;
use crate::api::events::json_body;
use crate::error::ApiError;

type R = Result<Response, OpsFailure>;

/// The answer to a form error: every wrong field located (400), or the operations answer.
pub(crate) fn failure(e: FormError) -> OpsFailure {
    match e {
        FormError::Invalid(problems) => {
            OpsFailure::Api(ApiError::Validation(suyuan_core::ValidationErrors(
                problems
                    .into_iter()
                    .map(|p| suyuan_core::FieldError {
                        pointer: format!("/{}", p.field),
                        message: p.en,
                    })
                    .collect(),
            )))
        }
        FormError::Ops(e) => OpsFailure::Ops(e),
    }
}

/// `GET /api/v1/forms`: the latest version of every form.
pub async fn list(State(st): State<AppState>, _: Staff) -> R {
    let forms = st.engine.forms().await.map_err(failure)?;
    Ok(Json(json!({"forms": forms})).into_response())
}

/// `GET /api/v1/forms/{code}?version=N`: a form version (the latest without `version`).
pub async fn one(
    State(st): State<AppState>,
    _: Staff,
    Path(code): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> R {
    let version = match q.get("version") {
        Some(v) => Some(v.parse::<u32>().map_err(|_| {
            ApiError::BadQuery(vec![crate::error::Located {
                pointer: None,
                parameter: Some("version".into()),
                detail: format!("a version number, got '{v}'"),
            }])
        })?),
        None => None,
    };
    let f = st.engine.form(&code, version).await.map_err(failure)?;
    Ok(Json(json!(f)).into_response())
}

/// `GET /api/v1/forms/{code}/versions`: every version, oldest first.
pub async fn versions(State(st): State<AppState>, _: Staff, Path(code): Path<String>) -> R {
    let v = st.engine.form_versions(&code).await.map_err(failure)?;
    if v.is_empty() {
        return Err(ApiError::NotFound(format!("form {code}")).into());
    }
    Ok(Json(json!({"versions": v})).into_response())
}

/// `POST /api/v1/forms`: saves a form (a new version when it changed).
pub async fn save(
    State(st): State<AppState>,
    Staff(me): Staff,
    headers: HeaderMap,
    body: Bytes,
) -> R {
    let form: Form = parse(json_body(&headers, &body)?)?;
    let saved = st
        .engine
        .save_form(&me.user, &form)
        .await
        .map_err(failure)?;
    Ok((StatusCode::CREATED, Json(json!(saved))).into_response())
}

/// `POST /api/v1/forms/{code}/submissions`: `{values, request_id}` — recorded as the form's event; the
/// same `request_id` answers the first submission again.
pub async fn submit(
    State(st): State<AppState>,
    Staff(me): Staff,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> R {
    let v = json_body(&headers, &body)?;
    let values = v.get("values").cloned().unwrap_or(Value::Null);
    if !values.is_object() {
        return Err(ApiError::Validation(suyuan_core::ValidationErrors(vec![
            suyuan_core::FieldError {
                pointer: "/values".into(),
                message: "an object of field key → value".into(),
            },
        ]))
        .into());
    }
    let request = v.get("request_id").and_then(Value::as_str);
    let s = st
        .engine
        .submit_form(&me.user, &code, &values, request)
        .await
        .map_err(failure)?;
    Ok((StatusCode::CREATED, Json(json!(s))).into_response())
}

/// `GET /api/v1/forms/{code}/submissions`: the newest 500.
pub async fn submissions(State(st): State<AppState>, _: Staff, Path(code): Path<String>) -> R {
    st.engine.form(&code, None).await.map_err(failure)?;
    let list = st
        .engine
        .submissions(Some(&code), 500)
        .await
        .map_err(|e| OpsFailure::Ops(e.into()))?;
    Ok(Json(json!({"submissions": list})).into_response())
}

/// `GET /api/v1/submissions/{id}`: a submission with the form version it was made with.
pub async fn submission(State(st): State<AppState>, _: Staff, Path(id): Path<String>) -> R {
    let s = st
        .engine
        .submission(&id)
        .await
        .map_err(|e| OpsFailure::Ops(e.into()))?
        .ok_or_else(|| ApiError::NotFound(format!("submission {id}")))?;
    let f = st
        .engine
        .form(&s.form, Some(s.version))
        .await
        .map_err(failure)?;
    Ok(Json(json!({"submission": s, "form": f})).into_response())
}

/// `GET /api/v1/forms/lookup?code=…`: what a scan field's code is and what the ledger knows of it.
pub async fn lookup(
    State(st): State<AppState>,
    _: Staff,
    Query(q): Query<HashMap<String, String>>,
) -> R {
    let code = q.get("code").map(String::as_str).unwrap_or("");
    match st
        .engine
        .lookup_scan(code)
        .await
        .map_err(|e| OpsFailure::Ops(e.into()))?
    {
        Some((scanned, found)) => {
            Ok(Json(json!({"scanned": scanned, "found": found})).into_response())
        }
        None => Err(ApiError::NotFound(format!(
            "'{code}' is not a GS1 code, Digital Link, EPC URN or a number this plant printed"
        ))
        .into()),
    }
}

/// The routes of the forms API.
pub(crate) fn routes() -> Vec<crate::routes::Route> {
    use crate::routes::{get, post};
    use suyuan_core::access::Permission as P;
    vec![
        get("/api/v1/forms", P::EventsRead, list),
        post("/api/v1/forms", P::MasterDataWrite, save),
        get("/api/v1/forms/lookup", P::EventsRead, lookup),
        get("/api/v1/forms/{code}", P::EventsRead, one),
        get("/api/v1/forms/{code}/versions", P::EventsRead, versions),
        get(
            "/api/v1/forms/{code}/submissions",
            P::EventsRead,
            submissions,
        ),
        post("/api/v1/forms/{code}/submissions", P::EventsWrite, submit),
        get("/api/v1/submissions/{id}", P::EventsRead, submission),
    ]
}
