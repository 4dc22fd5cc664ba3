//! The master data API: every live record of a kind, saving (a new version when it changed), a record's
//! versions, retiring, and CSV/XLSX import with a dry run.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use suyuan_engine::operations::OpsError;

use super::{OpsFailure, R, Staff};
use crate::AppState;
use crate::api::events::json_body;
use crate::error::ApiError;

fn object(v: &Value) -> Result<&Map<String, Value>, OpsFailure> {
    v.as_object()
        .ok_or_else(|| ApiError::invalid("", "expected a JSON object").into())
}

/// `GET /api/v1/masterdata/{kind}`: every live record of a kind.
pub async fn list_records(State(st): State<AppState>, _: Staff, Path(kind): Path<String>) -> R {
    if suyuan_ops::kinds::kind(&kind).is_none() {
        return Err(OpsError::NotFound(format!("master data kind '{kind}'")).into());
    }
    let records = st.engine.records().await?;
    let list: Vec<Value> = records
        .of(&kind)
        .iter()
        .map(|(name, rec, version)| json!({"name": name, "version": version, "record": rec}))
        .collect();
    Ok(Json(json!({"kind": kind, "records": list})).into_response())
}

/// `POST /api/v1/masterdata/{kind}`: saves a record (a new version when it changed).
pub async fn save_record(
    State(st): State<AppState>,
    Staff(me): Staff,
    Path(kind): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> R {
    let v = json_body(&headers, &body)?;
    let saved = st.engine.save_record(&me.user, &kind, object(&v)?).await?;
    Ok((StatusCode::CREATED, Json(saved)).into_response())
}

/// `GET /api/v1/masterdata/{kind}/{name}`: every version of a record.
pub async fn record_history(
    State(st): State<AppState>,
    _: Staff,
    Path((kind, name)): Path<(String, String)>,
) -> R {
    let versions = st.engine.record_history(&kind, &name).await?;
    if versions.is_empty() {
        return Err(OpsError::NotFound(format!("{kind} '{name}'")).into());
    }
    Ok(Json(json!({"kind": kind, "name": name, "versions": versions})).into_response())
}

/// `DELETE /api/v1/masterdata/{kind}/{name}`: retires a record (its history stays).
pub async fn retire_record(
    State(st): State<AppState>,
    Staff(me): Staff,
    Path((kind, name)): Path<(String, String)>,
) -> R {
    Ok(Json(st.engine.retire_record(&me.user, &kind, &name).await?).into_response())
}

/// Import options.
#[derive(Deserialize)]
pub struct ImportQuery {
    /// Check only.
    #[serde(default)]
    dry_run: Option<bool>,
}

/// `POST /api/v1/masterdata/{kind}/import?dry_run=true`: a CSV or XLSX file as the body.
pub async fn import_records(
    State(st): State<AppState>,
    Staff(me): Staff,
    Path(kind): Path<String>,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> R {
    let out = st
        .engine
        .import_records(&me.user, &kind, &body, q.dry_run.unwrap_or(false))
        .await?;
    let status = if out.problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, Json(out)).into_response())
}

pub(super) fn routes() -> Vec<crate::routes::Route> {
    use crate::routes;
    use suyuan_core::access::Permission as P;
    vec![
        routes::get("/api/v1/masterdata/{kind}", P::EventsRead, list_records),
        routes::post("/api/v1/masterdata/{kind}", P::MasterDataWrite, save_record),
        routes::post(
            "/api/v1/masterdata/{kind}/import",
            P::MasterDataWrite,
            import_records,
        ),
        routes::get(
            "/api/v1/masterdata/{kind}/{name}",
            P::EventsRead,
            record_history,
        ),
        routes::delete(
            "/api/v1/masterdata/{kind}/{name}",
            P::MasterDataWrite,
            retire_record,
        ),
    ]
}
