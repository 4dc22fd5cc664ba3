//! The quality API: GB/T 2828.1 sampling lookups, inspection plans, inspections, holds and their
//! release, nonconformance reports and their steps, supplier figures and switching states. Every write
//! is an engine command over the one write path; answers follow the operations API (400 located fields,
//! 404, 409 refusals).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use suyuan_core::access::Role;
use suyuan_engine::accounts::Principal;
use suyuan_engine::operations::OpsError;
use suyuan_engine::quality::holds::{HoldRequest, ReleaseRequest};
use suyuan_engine::quality::inspect::InspectionRequest;
use suyuan_engine::quality::ncr::NcrRequest;
use suyuan_quality::plan::InspectionPlan;
use suyuan_quality::sampling::{self, Level, Severity};

use super::operations::{OpsFailure, Staff, parse};
use crate::AppState;
use crate::api::events::json_body;
use crate::error::ApiError;

type R = Result<Response, OpsFailure>;

fn forbidden(why: &str) -> OpsFailure {
    OpsFailure::Ops(OpsError::Capture(suyuan_engine::CaptureError::Forbidden(
        why.into(),
    )))
}

/// Whether `me` takes hold and nonconformance decisions: the quality manager (and the administrator and
/// integrations). The API and the screens ask this one question.
pub(crate) fn decides(me: &Principal) -> bool {
    matches!(
        me.role,
        Role::QualityManager | Role::Admin | Role::Integrator
    )
}

/// The caller, when plant staff who take quality decisions ([`decides`]); handlers of holds and
/// nonconformance steps take it instead of the bare principal.
pub struct QualityManager(pub Principal);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for QualityManager {
    type Rejection = OpsFailure;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let Staff(me) = Staff::from_request_parts(parts, state).await?;
        if decides(&me) {
            Ok(QualityManager(me))
        } else {
            Err(forbidden(
                "holds and nonconformance decisions are for the quality manager",
            ))
        }
    }
}

/// The `lot_size` query parameter: a whole number of items, at least 1.
fn lot_size(q: &HashMap<String, String>) -> Result<u64, ApiError> {
    q.get("lot_size")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::invalid("lot_size", "a whole number of items, at least 1"))
}

/// `GET /api/v1/quality/sampling?lot_size=&level=&aql=&severity=`: the single sampling plan.
pub async fn sampling(Query(q): Query<HashMap<String, String>>) -> R {
    let lot_size = lot_size(&q)?;
    let level = Level::parse(q.get("level").map_or("II", String::as_str))
        .ok_or_else(|| ApiError::invalid("level", "one of I, II, III, S-1, S-2, S-3, S-4"))?;
    let aql = q
        .get("aql")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .ok_or_else(|| ApiError::invalid("aql", "a number, one of the standard's AQLs"))?;
    let severity = Severity::parse(q.get("severity").map_or("normal", String::as_str))
        .ok_or_else(|| ApiError::invalid("severity", "normal, tightened or reduced"))?;
    let p = sampling::plan(lot_size, level, aql, severity).map_err(|e| match e {
        sampling::SamplingError::LotSize => ApiError::invalid("lot_size", e.to_string()),
        sampling::SamplingError::Aql(_) => ApiError::invalid("aql", e.to_string()),
    })?;
    Ok(Json(json!({
        "code_letter": p.code_letter.to_string(), "sample_size": p.sample_size, "ac": p.ac, "re": p.re,
        "plan_letter": p.plan_letter.to_string(), "full_inspection": p.full_inspection,
        "lot_size": lot_size, "level": level.as_str(), "aql": aql, "severity": severity.as_str(),
    }))
    .into_response())
}

/// `POST /api/v1/quality/attachments`: keeps a photo or certificate (the body, its type in
/// `Content-Type`, its name in `X-File-Name`, percent-encoded) and answers how an inspection names it.
pub async fn attach(
    State(st): State<AppState>,
    Staff(me): Staff,
    headers: HeaderMap,
    body: Bytes,
) -> R {
    let header = |k: &str| {
        headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let name = percent_encoding::percent_decode_str(&header("x-file-name"))
        .decode_utf8_lossy()
        .to_string();
    let saved = st
        .engine
        .save_attachment(&me.user, &name, &header("content-type"), &body)
        .await?;
    Ok((axum::http::StatusCode::CREATED, Json(json!(saved))).into_response())
}

/// `GET /api/v1/quality/plans`: every inspection plan.
pub async fn plans(State(st): State<AppState>, _: Staff) -> R {
    let plans = st.engine.inspection_plans().await?;
    Ok(Json(json!({"plans": plans})).into_response())
}

/// `POST /api/v1/quality/plans`: saves an inspection plan.
pub async fn save_plan(
    State(st): State<AppState>,
    Staff(me): Staff,
    headers: HeaderMap,
    body: Bytes,
) -> R {
    let plan: InspectionPlan = parse(json_body(&headers, &body)?)?;
    let saved = st.engine.save_inspection_plan(&me.user, &plan).await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(json!({"plan": saved})),
    )
        .into_response())
}

/// `GET /api/v1/quality/plans/{code}/sample?lot_size=&supplier=`: the sample the plan asks of a lot now.
pub async fn plan_sample(
    State(st): State<AppState>,
    _: Staff,
    Path(code): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> R {
    let lot_size = lot_size(&q)?;
    let plan = st.engine.inspection_plan(&code).await?;
    let supplier = q.get("supplier").map(String::as_str);
    let (stage, n) = st.engine.sampling_for(&plan, supplier, lot_size).await?;
    let by_class = plan
        .sampling(lot_size, stage.severity())
        .map_err(|e| ApiError::invalid("lot_size", e.to_string()))?;
    Ok(Json(
        json!({"plan": code, "lot_size": lot_size, "stage": stage.as_str(), "sample_size": n,
        "classes": by_class}),
    )
    .into_response())
}

/// `POST /api/v1/quality/inspections`: records an inspection (a failed lot is held, an NCR raised).
pub async fn inspect(
    State(st): State<AppState>,
    Staff(me): Staff,
    headers: HeaderMap,
    body: Bytes,
) -> R {
    let req: InspectionRequest = parse(json_body(&headers, &body)?)?;
    let out = st.engine.record_inspection(&me.user, &req).await?;
    Ok((axum::http::StatusCode::CREATED, Json(json!(out))).into_response())
}

/// `GET /api/v1/quality/inspections?object=&plan=`: inspections, newest first.
pub async fn inspections(
    State(st): State<AppState>,
    _: Staff,
    Query(q): Query<HashMap<String, String>>,
) -> R {
    let object = q
        .get("object")
        .map(|o| suyuan_core::projection::object_key(o));
    let plan = q.get("plan").cloned();
    let list = st
        .engine
        .quality(|s| {
            s.inspections
                .iter()
                .rev()
                .filter(|i| object.as_ref().is_none_or(|o| &i.object == o))
                .filter(|i| plan.as_ref().is_none_or(|p| &i.plan == p))
                .take(500)
                .cloned()
                .collect::<Vec<_>>()
        })
        .await?;
    Ok(Json(json!({"inspections": list})).into_response())
}

/// `POST /api/v1/quality/holds`: holds an object (and what was made from it) by hand.
pub async fn hold(
    State(st): State<AppState>,
    QualityManager(me): QualityManager,
    headers: HeaderMap,
    body: Bytes,
) -> R {
    let req: HoldRequest = parse(json_body(&headers, &body)?)?;
    let placed = st.engine.place_hold(&me.user, &req).await?;
    Ok((axum::http::StatusCode::CREATED, Json(json!(placed))).into_response())
}

/// `GET /api/v1/quality/holds?state=open|all`: holds with what they keep.
pub async fn holds(
    State(st): State<AppState>,
    _: Staff,
    Query(q): Query<HashMap<String, String>>,
) -> R {
    let all = q.get("state").map(String::as_str) == Some("all");
    let list = st
        .engine
        .quality(|s| {
            s.holds
                .all()
                .filter(|h| all || h.open)
                .cloned()
                .collect::<Vec<_>>()
        })
        .await?;
    Ok(Json(json!({"holds": list})).into_response())
}

/// `POST /api/v1/quality/holds/{id}/release`: releases a hold (or part of it).
pub async fn release(
    State(st): State<AppState>,
    QualityManager(me): QualityManager,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> R {
    let req: ReleaseRequest = parse(json_body(&headers, &body)?)?;
    let freed = st.engine.release_hold(&me.user, &id, &req).await?;
    Ok(Json(json!({"hold": id, "released": freed})).into_response())
}

/// `GET /api/v1/quality/ncrs`: nonconformance reports, newest first.
pub async fn ncrs(State(st): State<AppState>, _: Staff) -> R {
    Ok(Json(json!({"ncrs": st.engine.ncrs().await?})).into_response())
}

/// `GET /api/v1/quality/ncrs/{id}`: one report with its history.
pub async fn ncr(State(st): State<AppState>, _: Staff, Path(id): Path<String>) -> R {
    Ok(Json(json!(st.engine.ncr(&id).await?)).into_response())
}

/// `POST /api/v1/quality/ncrs/{id}`: a step of a report (`review`, `dispose`, `approve`, `reject`,
/// `close`) with why.
pub async fn ncr_step(
    State(st): State<AppState>,
    QualityManager(me): QualityManager,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> R {
    let req: NcrRequest = parse(json_body(&headers, &body)?)?;
    Ok(Json(json!(st.engine.ncr_step(&me.user, &id, &req).await?)).into_response())
}

/// `GET /api/v1/quality/schemes`: the switching state of every sampling scheme.
pub async fn schemes(State(st): State<AppState>, _: Staff) -> R {
    let list = st
        .engine
        .quality(|s| {
            s.switching
                .iter()
                .map(|(k, v)| {
                    json!({"scheme": k, "stage": v.stage.as_str(), "score": v.score,
                    "lots": v.lots, "accepted_run": v.accepted_run,
                    "rejected_under_tightened": v.rejected_under_tightened})
                })
                .collect::<Vec<_>>()
        })
        .await?;
    Ok(Json(json!({"schemes": list})).into_response())
}

/// `POST /api/v1/quality/schemes/resume`: resumes a discontinued scheme (`{scheme, why}`).
pub async fn resume(
    State(st): State<AppState>,
    QualityManager(me): QualityManager,
    headers: HeaderMap,
    body: Bytes,
) -> R {
    let v = json_body(&headers, &body)?;
    let scheme = v.get("scheme").and_then(Value::as_str).unwrap_or("");
    let why = v.get("why").and_then(Value::as_str).unwrap_or("").trim();
    if why.is_empty() {
        return Err(ApiError::invalid("why", "the supplier's corrective action").into());
    }
    st.engine.resume_scheme(&me.user, scheme, why).await?;
    Ok(Json(json!({"scheme": scheme, "stage": "tightened"})).into_response())
}

/// A `YYYY-MM-DD` query parameter, if given.
fn day<'q>(q: &'q HashMap<String, String>, k: &str) -> Result<Option<&'q str>, ApiError> {
    match q.get(k).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map(|_| Some(v))
            .map_err(|_| ApiError::invalid(k, format!("a date as YYYY-MM-DD, got '{v}'"))),
    }
}

/// `GET /api/v1/quality/suppliers?from=&to=`: every supplier's scorecard per material.
pub async fn suppliers(
    State(st): State<AppState>,
    _: Staff,
    Query(q): Query<HashMap<String, String>>,
) -> R {
    let cards = st
        .engine
        .supplier_scorecards(day(&q, "from")?, day(&q, "to")?)
        .await?;
    Ok(Json(json!({"scorecards": cards})).into_response())
}

/// `GET /api/v1/quality/spc?plan=&characteristic=&subgroup=`: the control chart of a characteristic.
pub async fn spc(
    State(st): State<AppState>,
    _: Staff,
    Query(q): Query<HashMap<String, String>>,
) -> R {
    let plan = q.get("plan").map(|s| s.trim()).unwrap_or("");
    let characteristic = q.get("characteristic").map(|s| s.trim()).unwrap_or("");
    let subgroup = match q
        .get("subgroup")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(s) => Some(
            s.parse::<usize>()
                .ok()
                .filter(|n| (1..=10).contains(n))
                .ok_or_else(|| ApiError::invalid("subgroup", "a whole number from 1 to 10"))?,
        ),
    };
    let view = st.engine.spc(plan, characteristic, subgroup).await?;
    Ok(Json(json!(view)).into_response())
}

/// `GET /api/v1/quality/report?lot=`: the batch quality report's data (the screen gives PDF and XLSX).
pub async fn report(
    State(st): State<AppState>,
    _: Staff,
    Query(q): Query<HashMap<String, String>>,
) -> R {
    let lot = q.get("lot").map(String::as_str).unwrap_or("");
    let key = st.signer.as_ref().map(|s| s.verifier_key().to_string());
    let r = st.engine.batch_report(lot, key.as_deref()).await?;
    let events: Vec<Value> = r
        .trace
        .events
        .iter()
        .map(|e| {
            json!({"event_id": e.event_id, "event_hash": e.event_hash, "leaf_hash": e.leaf_hash,
                "verified": e.verified, "event_time": e.story.event.get("eventTime"),
                "biz_step": e.story.event.get("bizStep")})
        })
        .collect();
    Ok(Json(json!({
        "lot": r.lot, "inspections": r.inspections, "input_inspections": r.input_inspections,
        "excursions": r.excursions, "ncrs": r.ncrs, "holds": r.holds, "genealogy": r.genealogy,
        "events": events, "events_left_out": r.trace.more,
        "checkpoint": r.trace.checkpoint.as_ref().map(|c| json!({"size": c.size, "root": c.root,
            "created_at": c.created_at, "signature_ok": r.trace.signature_ok})),
    }))
    .into_response())
}

/// The routes of the quality API.
pub(crate) fn routes() -> Vec<crate::routes::Route> {
    use crate::routes::{get, post};
    use suyuan_core::access::Permission as P;
    vec![
        get("/api/v1/quality/sampling", P::EventsRead, sampling),
        post("/api/v1/quality/attachments", P::EventsWrite, attach),
        get("/api/v1/quality/plans", P::EventsRead, plans),
        post("/api/v1/quality/plans", P::MasterDataWrite, save_plan),
        get(
            "/api/v1/quality/plans/{code}/sample",
            P::EventsRead,
            plan_sample,
        ),
        get("/api/v1/quality/inspections", P::EventsRead, inspections),
        post("/api/v1/quality/inspections", P::EventsWrite, inspect),
        get("/api/v1/quality/holds", P::EventsRead, holds),
        post("/api/v1/quality/holds", P::EventsWrite, hold),
        post(
            "/api/v1/quality/holds/{id}/release",
            P::EventsWrite,
            release,
        ),
        get("/api/v1/quality/ncrs", P::EventsRead, ncrs),
        get("/api/v1/quality/ncrs/{id}", P::EventsRead, ncr),
        post("/api/v1/quality/ncrs/{id}", P::EventsWrite, ncr_step),
        get("/api/v1/quality/schemes", P::EventsRead, schemes),
        post("/api/v1/quality/schemes/resume", P::EventsWrite, resume),
        get("/api/v1/quality/suppliers", P::EventsRead, suppliers),
        get("/api/v1/quality/spc", P::EventsRead, spc),
        get("/api/v1/quality/report", P::EventsRead, report),
    ]
}
