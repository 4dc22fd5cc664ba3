//! The GS1 EPCIS 2.0 REST bindings under `/epcis` (JSON-LD): capture with capture jobs, the events
//! resource with every SimpleEventQuery parameter and `nextPageToken` paging, event types, CBV vocabulary
//! collections and the per-value `…/events` sub-resources. Errors are EPCIS exceptions as RFC 7807 problems.

use axum::body::Bytes;
use axum::extract::{Path, Query as QueryParams, RawQuery, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use suyuan_core::cbv::Vocab;
use suyuan_engine::CaptureError;
use suyuan_engine::accounts::Principal;
use suyuan_engine::query::{QueryError, QueryPage, fingerprint};
use suyuan_engine::submit::{Behaviour, Shape, Submission};
use suyuan_epcis::query::{EpcFormat, Query, translate_epcs};
use suyuan_store::StoredEvent;

use crate::AppState;
use crate::auth::ItemCount;
use crate::error::{ApiError, Located};

/// Most events one capture may carry (`GS1-EPCIS-Capture-Limit`).
pub const CAPTURE_LIMIT: usize = suyuan_engine::MAX_BATCH;
/// Company-prefix length assumed when a Digital Link is written as an EPC URN (GS1 keys do not carry it).
pub const GCP_LENGTH: usize = 7;
/// Events per page unless `perPage` says otherwise (the bindings' default).
pub const PER_PAGE: usize = 30;
/// Largest `perPage`.
pub const MAX_PER_PAGE: usize = 1_000;
/// Events examined per request when no index narrows the query; the page then continues from there.
const SCAN_LIMIT: u64 = 200_000;
/// Capture jobs kept in memory.
const JOBS_KEPT: usize = 1_000;

/// The EPCIS 2.0 JSON-LD context every answer names.
pub(crate) const CONTEXT: &str = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";

/// An EPCIS exception (`epcisException:…`) as an RFC 7807 problem.
#[derive(Debug)]
pub struct EpcisError {
    kind: &'static str,
    status: StatusCode,
    detail: String,
    errors: Vec<Located>,
}

impl EpcisError {
    pub(crate) fn new(
        kind: &'static str,
        status: StatusCode,
        detail: impl Into<String>,
    ) -> EpcisError {
        EpcisError {
            kind,
            status,
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    /// A `ValidationException` (400).
    pub fn validation(detail: String) -> EpcisError {
        EpcisError::new("ValidationException", StatusCode::BAD_REQUEST, detail)
    }

    /// A `QueryTooLargeException` (413): more would match than the query allows.
    pub fn too_large(detail: String) -> EpcisError {
        EpcisError::new(
            "QueryTooLargeException",
            StatusCode::PAYLOAD_TOO_LARGE,
            detail,
        )
    }

    /// A `NoSuchNameException` (404): no query or subscription of that name.
    pub fn no_such_name(detail: String) -> EpcisError {
        EpcisError::new("NoSuchNameException", StatusCode::NOT_FOUND, detail)
    }

    /// A `ResourceAlreadyExistsException` (409).
    pub fn already_exists(detail: String) -> EpcisError {
        EpcisError::new(
            "ResourceAlreadyExistsException",
            StatusCode::CONFLICT,
            detail,
        )
    }

    /// A `SubscriptionControlsException` (400): the subscription's controls are wrong.
    pub fn subscription_controls(detail: String) -> EpcisError {
        EpcisError::new(
            "SubscriptionControlsException",
            StatusCode::BAD_REQUEST,
            detail,
        )
    }

    /// An `ImplementationException` (500).
    pub fn implementation(detail: String) -> EpcisError {
        EpcisError::new(
            "ImplementationException",
            StatusCode::INTERNAL_SERVER_ERROR,
            detail,
        )
    }

    /// A `QueryParameterException` (400) naming every bad parameter.
    pub fn query_params(errors: Vec<suyuan_epcis::query::QueryParamError>) -> EpcisError {
        let detail = errors
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("; ");
        EpcisError {
            kind: "QueryParameterException",
            status: StatusCode::BAD_REQUEST,
            detail,
            errors: errors
                .into_iter()
                .map(|e| Located {
                    pointer: None,
                    parameter: Some(e.parameter),
                    detail: e.message,
                })
                .collect(),
        }
    }
}

impl From<ApiError> for EpcisError {
    fn from(e: ApiError) -> Self {
        let (kind, status) = match &e {
            ApiError::Validation(_) | ApiError::BadJson(_) => {
                ("ValidationException", StatusCode::BAD_REQUEST)
            }
            ApiError::BadQuery(_) => ("QueryParameterException", StatusCode::BAD_REQUEST),
            ApiError::UnsupportedMediaType(_) => (
                "UnsupportedMediaTypeException",
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ),
            ApiError::TooLarge(_) => (
                "CaptureLimitExceededException",
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
            ApiError::NotFound(_) => ("NoSuchResourceException", StatusCode::NOT_FOUND),
            ApiError::Conflict(..) | ApiError::Refused(_) => {
                ("ValidationException", StatusCode::CONFLICT)
            }
            ApiError::Unauthorized(_) => ("SecurityException", StatusCode::UNAUTHORIZED),
            ApiError::Forbidden(_) => ("SecurityException", StatusCode::FORBIDDEN),
            ApiError::TooManyRequests(_) => {
                ("ImplementationException", StatusCode::TOO_MANY_REQUESTS)
            }
            ApiError::Unavailable(_) => {
                ("ImplementationException", StatusCode::SERVICE_UNAVAILABLE)
            }
        };
        let errors = e.located();
        EpcisError {
            kind,
            status,
            detail: e.to_string(),
            errors,
        }
    }
}

impl From<suyuan_store::StoreError> for EpcisError {
    fn from(e: suyuan_store::StoreError) -> Self {
        ApiError::from(e).into()
    }
}

impl IntoResponse for EpcisError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "type": format!("epcisException:{}", self.kind),
            "title": self.kind,
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        if !self.errors.is_empty() {
            body["errors"] = json!(self.errors);
        }
        let mut resp = (self.status, body.to_string()).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(crate::error::PROBLEM_JSON),
        );
        with_epcis_headers(resp)
    }
}

/// Refuses requests for an EPCIS or CBV version other than 2.0 (`GS1-EPCIS-Version`, `GS1-EPCIS-Min`,
/// `GS1-EPCIS-Max` and the CBV ones) with a `NotAcceptableException`.
pub async fn versions(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let major_minor = |v: &str| -> Option<(u32, u32)> {
        let mut it = v.trim().split('.');
        Some((
            it.next()?.parse().ok()?,
            it.next().unwrap_or("0").parse().ok()?,
        ))
    };
    for family in ["epcis", "cbv"] {
        let h = |k: &str| {
            req.headers()
                .get(format!("gs1-{family}-{k}"))
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let ours = (2, 0);
        let bad = |name: &str, v: &str| {
            EpcisError::new(
                "NotAcceptableException",
                StatusCode::NOT_ACCEPTABLE,
                format!(
                    "GS1-{}-{name}: {v} — this server speaks {} 2.0",
                    family.to_uppercase(),
                    family.to_uppercase()
                ),
            )
            .into_response()
        };
        if let Some(v) = h("version")
            && major_minor(&v) != Some(ours)
        {
            return bad("Version", &v);
        }
        if let Some(v) = h("min")
            && major_minor(&v).is_none_or(|m| m > ours)
        {
            return bad("Min", &v);
        }
        if let Some(v) = h("max")
            && major_minor(&v).is_none_or(|m| m < ours)
        {
            return bad("Max", &v);
        }
    }
    next.run(req).await
}

/// Adds the version headers every EPCIS answer carries.
pub fn with_epcis_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    for (k, v) in [
        ("gs1-epcis-version", "2.0.0"),
        ("gs1-epcis-min", "2.0.0"),
        ("gs1-epcis-max", "2.0.0"),
        ("gs1-cbv-version", "2.0.0"),
        ("gs1-cbv-min", "2.0.0"),
        ("gs1-cbv-max", "2.0.0"),
        ("gs1-epcis-capture-limit", "10000"),
        (
            "gs1-vendor-version",
            concat!("suyuan-", env!("CARGO_PKG_VERSION")),
        ),
    ] {
        h.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
    }
    resp
}

/// `DELETE /epcis/nextPageToken/{token}`: `204`. A page token here holds its position itself (and the
/// query's fingerprint), so the server keeps nothing to release.
pub async fn release_page_token() -> Response {
    with_epcis_headers(StatusCode::NO_CONTENT.into_response())
}

/// `OPTIONS` on an EPCIS resource (the route pattern `path`, whose methods are `methods`): `204` with
/// `Allow` and the headers that describe this server's EPCIS: versions, identifier and CBV formats it
/// answers by default, and, for `/capture`, its limits and error behaviours.
pub fn discovery(path: &str, methods: &[axum::http::Method]) -> Response {
    let mut allow: Vec<&str> = vec!["OPTIONS"];
    allow.extend(methods.iter().map(axum::http::Method::as_str));
    let mut resp = with_epcis_headers(StatusCode::NO_CONTENT.into_response());
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&allow.join(", ")) {
        h.insert(header::ALLOW, v);
    }
    h.insert(
        HeaderName::from_static("gs1-epc-format"),
        HeaderValue::from_static("Never_Translates"),
    );
    h.insert(
        HeaderName::from_static("gs1-cbv-xml-format"),
        HeaderValue::from_static("Always_URN"),
    );
    if path == "/epcis/capture" {
        if let Ok(v) = HeaderValue::from_str(&crate::BODY_LIMIT.to_string()) {
            h.insert(
                HeaderName::from_static("gs1-epcis-capture-file-size-limit"),
                v,
            );
        }
        h.insert(
            HeaderName::from_static("gs1-capture-error-behaviour"),
            HeaderValue::from_static("rollback, proceed"),
        );
    }
    resp
}

/// Whether the client asked for EPCIS XML (`Accept: application/xml` or `text/xml` before any JSON type).
fn wants_xml(headers: &HeaderMap) -> bool {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let pos = |needle: &str| accept.find(needle);
    let xml = pos("application/xml").or_else(|| pos("text/xml"));
    let json = pos("json");
    matches!((xml, json), (Some(x), Some(j)) if x < j) || (xml.is_some() && json.is_none())
}

/// The `GS1-EPC-Format` a client asked for (as captured when absent).
fn epc_format(headers: &HeaderMap) -> Result<EpcFormat, EpcisError> {
    match headers.get("gs1-epc-format").and_then(|v| v.to_str().ok()) {
        None => Ok(EpcFormat::NeverTranslates),
        Some(v) => EpcFormat::parse(v, GCP_LENGTH).ok_or_else(|| {
            EpcisError::new(
                "NotAcceptableException",
                StatusCode::NOT_ACCEPTABLE,
                format!(
                    "GS1-EPC-Format: expected Always_GS1_Digital_Link, Always_EPC_URN, Never_Translates or No_Preference, got \"{v}\""
                ),
            )
        }),
    }
}

/// A query document in the syntax the client asked for (`Accept`), its identifiers as `GS1-EPC-Format` asks and,
/// in XML, its CBV values as `GS1-CBV-XML-Format` asks.
pub(crate) fn negotiated(headers: &HeaderMap, mut doc: Value) -> Result<Response, EpcisError> {
    let header_of = |k: &str| headers.get(k).and_then(|v| v.to_str().ok());
    let format = epc_format(headers)?;
    let web = match header_of("gs1-cbv-xml-format") {
        None | Some("Always_URN" | "Never_Translates" | "No_Preference") => false,
        Some("Always_Web_URI") => true,
        Some(v) => {
            return Err(EpcisError::new(
                "NotAcceptableException",
                StatusCode::NOT_ACCEPTABLE,
                format!(
                    "GS1-CBV-XML-Format: expected Always_Web_URI, Always_URN, Never_Translates or No_Preference, got \"{v}\""
                ),
            ));
        }
    };
    if let Some(list) = doc
        .pointer_mut("/epcisBody/queryResults/resultsBody/eventList")
        .and_then(Value::as_array_mut)
    {
        list.iter_mut().for_each(|e| translate_epcs(e, format));
    }
    let mut resp = if wants_xml(headers) {
        let mut r = suyuan_epcis::xml::query_document_to_xml(&doc, web).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/xml; charset=utf-8"),
        );
        with_epcis_headers(r)
    } else {
        ok(doc)
    };
    if let Some(v) = header_of("gs1-epc-format").and_then(|v| HeaderValue::from_str(v).ok()) {
        resp.headers_mut()
            .insert(HeaderName::from_static("gs1-epc-format"), v);
    }
    Ok(resp)
}

fn ok(v: Value) -> Response {
    let mut resp = Json(v).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/ld+json"),
    );
    with_epcis_headers(resp)
}

/// The outcome of one capture.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CaptureJob {
    /// Job id (the last segment of its `Location`).
    #[serde(rename = "captureID")]
    pub capture_id: String,
    /// When it was received.
    #[serde(rename = "createdAt")]
    pub created_at: String,
    /// When it finished.
    #[serde(rename = "finishedAt")]
    pub finished_at: String,
    /// Whether it is still running (captures here finish before the answer).
    pub running: bool,
    /// Whether every event was captured.
    pub success: bool,
    /// `rollback` or `proceed`.
    #[serde(rename = "captureErrorBehaviour")]
    pub capture_error_behaviour: String,
    /// Events stored, and events that were already stored.
    pub stored: usize,
    /// Events already stored before (idempotent repeats).
    pub duplicates: usize,
    /// Master data vocabulary elements stored from the header.
    #[serde(rename = "masterDataElements")]
    pub master_data: usize,
    /// Every problem, located by JSON pointer.
    pub errors: Vec<Value>,
    /// What the capturer should know about stored events (unknown own codes, newer vocabulary terms).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Value>,
}

/// The capture jobs of this process (newest kept).
#[derive(Debug, Default)]
pub struct CaptureJobs {
    jobs: Mutex<BTreeMap<u64, CaptureJob>>,
    next: std::sync::atomic::AtomicU64,
}

impl CaptureJobs {
    fn add(&self, mut job: CaptureJob) -> CaptureJob {
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        job.capture_id = id.to_string();
        if let Ok(mut m) = self.jobs.lock() {
            m.insert(id, job.clone());
            while m.len() > JOBS_KEPT {
                m.pop_first();
            }
        }
        job
    }
}

fn now() -> String {
    suyuan_core::time::format_utc_millis(chrono::Utc::now())
}

/// `POST /epcis/capture`: an EPCIS document; `202` with the capture job's `Location` (the capture has
/// finished by then). `GS1-Capture-Error-Behaviour: rollback` (default) stores all or nothing, `proceed`
/// stores every valid event and lists the others.
pub async fn capture(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, EpcisError> {
    let created_at = now();
    let behaviour = match headers
        .get("gs1-capture-error-behaviour")
        .and_then(|v| v.to_str().ok())
    {
        None | Some("rollback") => "rollback",
        Some("proceed") => "proceed",
        Some(other) => {
            return Err(EpcisError::new(
                "ValidationException",
                StatusCode::BAD_REQUEST,
                format!(
                    "GS1-Capture-Error-Behaviour: expected rollback or proceed, got \"{other}\""
                ),
            ));
        }
    };
    let submission = Submission {
        input: crate::api::events::submission_input(&headers, &body)?,
        behaviour: if behaviour == "proceed" {
            Behaviour::Proceed
        } else {
            Behaviour::Rollback
        },
        shape: Shape::Document,
        limit: CAPTURE_LIMIT,
        assume_context: false,
    };
    let mut job = CaptureJob {
        capture_id: String::new(),
        created_at,
        finished_at: String::new(),
        running: false,
        success: true,
        capture_error_behaviour: behaviour.into(),
        stored: 0,
        duplicates: 0,
        master_data: 0,
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    let error = |pointer: &str, detail: &str| json!({"pointer": pointer, "detail": detail});
    match st.engine.submit(&me, submission).await {
        Ok(out) => {
            job.success = out.errors.is_empty();
            job.stored = out.stored;
            job.duplicates = out.duplicates;
            job.master_data = out.master_data;
            job.errors = out
                .errors
                .iter()
                .map(|f| error(&f.pointer, &f.message))
                .collect();
            job.warnings = out
                .warnings
                .iter()
                .map(|w| json!({"pointer": w.pointer, "code": w.code, "detail": w.detail}))
                .collect();
        }
        Err(CaptureError::Invalid(v)) => {
            job.success = false;
            job.errors = v.0.iter().map(|f| error(&f.pointer, &f.message)).collect();
        }
        // An eventID reused for other content is the document's fault.
        Err(CaptureError::Conflict { pointer, error: c }) => {
            job.success = false;
            job.errors.push(error(&pointer, &c.to_string()));
        }
        Err(CaptureError::TooLarge { count, limit }) => {
            return Err(EpcisError::new(
                "CaptureLimitExceededException",
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the document holds {count} events; at most {limit} are accepted in one capture"
                ),
            ));
        }
        // The store failed: nothing of this capture was stored; a 5xx without internal text, logged.
        Err(e) => return Err(ApiError::from(e).into()),
    }
    job.finished_at = now();
    let job = st.epcis_jobs.add(job);
    let location = format!("/epcis/capture/{}", job.capture_id);
    // Anything stored makes it a finished (partial) capture, never a rejection.
    let status = if job.success || behaviour == "proceed" || job.stored + job.duplicates > 0 {
        StatusCode::ACCEPTED
    } else {
        // Nothing was stored: say why at once (the job keeps the same errors).
        StatusCode::BAD_REQUEST
    };
    let mut resp = if status == StatusCode::ACCEPTED {
        (status, Json(json!(job))).into_response()
    } else {
        let mut e = EpcisError::new(
            "ValidationException",
            status,
            format!(
                "the document was rejected, nothing was stored: {}",
                job.errors
                    .iter()
                    .take(5)
                    .map(|e| format!(
                        "{}: {}",
                        e["pointer"].as_str().unwrap_or(""),
                        e["detail"].as_str().unwrap_or("")
                    ))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        );
        e.errors = job
            .errors
            .iter()
            .map(|x| Located {
                pointer: x["pointer"].as_str().map(str::to_string),
                parameter: None,
                detail: x["detail"].as_str().unwrap_or("").to_string(),
            })
            .collect();
        e.into_response()
    };
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(with_epcis_headers(resp))
}

/// `GET /epcis/capture`: the capture jobs this server remembers, newest first.
pub async fn capture_jobs(State(st): State<AppState>) -> Response {
    let jobs: Vec<CaptureJob> = st
        .epcis_jobs
        .jobs
        .lock()
        .map(|m| m.values().rev().cloned().collect())
        .unwrap_or_default();
    ok(json!(jobs))
}

/// `GET /epcis/capture/{captureID}`.
pub async fn capture_job(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, EpcisError> {
    let job = id.parse::<u64>().ok().and_then(|n| {
        st.epcis_jobs
            .jobs
            .lock()
            .ok()
            .and_then(|m| m.get(&n).cloned())
    });
    job.map(|j| ok(json!(j))).ok_or_else(|| {
        EpcisError::new(
            "NoSuchResourceException",
            StatusCode::NOT_FOUND,
            format!("no capture job {id} (this server keeps the last {JOBS_KEPT})"),
        )
    })
}

/// `POST /epcis/events`: one event; `201` with its `Location`.
pub async fn capture_event(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, EpcisError> {
    let submission = Submission {
        input: crate::api::events::submission_input(&headers, &body)?,
        behaviour: Behaviour::Rollback,
        shape: Shape::Event,
        limit: 1,
        assume_context: false,
    };
    let out = st
        .engine
        .submit(&me, submission)
        .await
        .map_err(ApiError::from)?;
    let id = out
        .events
        .first()
        .map(|a| a.event_id.clone())
        .unwrap_or_default();
    let status = if out.stored > 0 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut resp = (status, Json(json!(out))).into_response();
    let loc = format!(
        "/epcis/events/{}",
        percent_encoding::utf8_percent_encode(&id, percent_encoding::NON_ALPHANUMERIC)
    );
    if let Ok(h) = HeaderValue::from_str(&loc) {
        resp.headers_mut().insert(header::LOCATION, h);
    }
    Ok(with_epcis_headers(resp))
}

/// `GET /epcis/events/{eventID}`.
pub async fn event(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, EpcisError> {
    match st.engine.store().event_by_id(&id).await? {
        Some(e) if me.rows.event_visible(&e.event) && wants_xml(&headers) => {
            negotiated(&headers, query_document(&[&e], None))
        }
        Some(e) if me.rows.event_visible(&e.event) => {
            let mut v = e.event_with_record_time();
            translate_epcs(&mut v, epc_format(&headers)?);
            if let Some(o) = v.as_object_mut() {
                o.insert("@context".into(), context_of(&e));
            }
            Ok(ok(v))
        }
        _ => Err(EpcisError::new(
            "NoSuchResourceException",
            StatusCode::NOT_FOUND,
            format!("no event with eventID {id}"),
        )),
    }
}

/// The JSON-LD context an event needs: the standard one plus the event's own prefixes.
fn context_of(e: &StoredEvent) -> Value {
    let mut ctx = vec![json!(CONTEXT)];
    match e.event.get("@context") {
        Some(Value::Array(a)) => {
            ctx.extend(a.iter().filter(|c| c.as_str() != Some(CONTEXT)).cloned())
        }
        Some(o @ Value::Object(_)) => ctx.push(o.clone()),
        _ => {}
    }
    Value::Array(ctx)
}

/// Query parameters in order, as sent (the `RawQuery` keeps repeats and order).
pub(crate) fn params_of(raw: Option<&str>) -> Result<Vec<(String, String)>, EpcisError> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(raw.unwrap_or("")).map_err(|e| {
        EpcisError::new(
            "QueryParameterException",
            StatusCode::BAD_REQUEST,
            format!("the query string cannot be decoded: {e}"),
        )
    })
}

/// `GS1-Extensions: ex=https://example.org/ns/,other=…` as prefix → namespace.
fn extensions_of(headers: &HeaderMap) -> HashMap<String, String> {
    headers
        .get_all("gs1-extensions")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// An EPCISQueryDocument holding `events` (their contexts merged into one), for a subscription when given
/// (query name, subscription id).
pub(crate) fn query_document(events: &[&StoredEvent], subscription: Option<(&str, &str)>) -> Value {
    let mut ctx = vec![json!(CONTEXT)];
    for e in events {
        if let Some(Value::Array(a)) = e.event.get("@context") {
            for c in a {
                if c.as_str() != Some(CONTEXT) && !ctx.contains(c) {
                    ctx.push(c.clone());
                }
            }
        }
    }
    let list: Vec<Value> = events
        .iter()
        .map(|e| {
            let mut v = e.event_with_record_time();
            if let Some(o) = v.as_object_mut() {
                o.remove("@context");
            }
            v
        })
        .collect();
    let mut results = json!({"queryName": "SimpleEventQuery", "resultsBody": {"eventList": list}});
    if let Some((name, id)) = subscription {
        results["queryName"] = json!(name);
        results["subscriptionID"] = json!(id);
    }
    json!({
        "@context": ctx, "type": "EPCISQueryDocument", "schemaVersion": "2.0", "creationDate": now(),
        "epcisBody": {"queryResults": results},
    })
}

/// Runs a query and answers an EPCISQueryDocument page (`Link: <…>; rel="next"` when there is more).
pub(crate) async fn run_query(
    st: &AppState,
    me: &Principal,
    headers: &HeaderMap,
    path: &str,
    mut params: Vec<(String, String)>,
    fixed: &[(String, String)],
) -> Result<Response, EpcisError> {
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let per_page = match get("perPage") {
        None => PER_PAGE,
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PER_PAGE).contains(n))
            .ok_or_else(|| {
                EpcisError::query_params(vec![suyuan_epcis::query::QueryParamError {
                    parameter: "perPage".into(),
                    message: format!("expected 1 to {MAX_PER_PAGE}, got \"{s}\""),
                }])
            })?,
    };
    let token = get("nextPageToken");
    let shown_params = params.clone();
    params.extend(fixed.iter().cloned());
    let q = Query::parse(&params, &extensions_of(headers)).map_err(EpcisError::query_params)?;
    let QueryPage { events: page, next } = st
        .engine
        .query_events(me, q, &fingerprint(&params), per_page, token.as_deref())
        .await
        .map_err(|e| match e {
            QueryError::Params(p) => EpcisError::query_params(p),
            QueryError::TooMany(m) => EpcisError::too_large(m),
            QueryError::Store(s) => s.into(),
        })?;
    let count = page.len() as u64;
    let doc = query_document(&page.iter().collect::<Vec<_>>(), None);
    let mut resp = negotiated(headers, doc)?;
    if let Some(t) = next {
        let mut q: Vec<(String, String)> = shown_params
            .into_iter()
            .filter(|(k, _)| k != "nextPageToken")
            .collect();
        q.push(("nextPageToken".into(), t.clone()));
        let url = format!(
            "{path}?{}",
            serde_urlencoded::to_string(&q).unwrap_or_default()
        );
        if let Ok(v) = HeaderValue::from_str(&format!("<{url}>; rel=\"next\"")) {
            resp.headers_mut().insert(header::LINK, v);
        }
        if let Ok(v) = HeaderValue::from_str(&t) {
            resp.headers_mut()
                .insert(HeaderName::from_static("gs1-next-page-token"), v);
        }
    }
    resp.extensions_mut().insert(ItemCount(count));
    Ok(resp)
}

/// `GET /epcis/events?…`: every SimpleEventQuery parameter, paged with `perPage` and `nextPageToken`.
pub async fn events(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, EpcisError> {
    let params = params_of(raw.as_deref())?;
    run_query(&st, &me, &headers, "/epcis/events", params, &[]).await
}

/// The top-level resources whose values select events, and the query parameter each maps to.
fn resource_param(resource: &str) -> Option<&'static str> {
    Some(match resource {
        "eventTypes" => "eventType",
        "epcs" => "MATCH_anyEPC",
        "bizSteps" => "EQ_bizStep",
        "bizLocations" => "EQ_bizLocation",
        "readPoints" => "EQ_readPoint",
        "dispositions" => "EQ_disposition",
        _ => return None,
    })
}

/// `GET /epcis/{resource}/{value}/events`: the events query with that value fixed.
pub async fn resource_events(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    headers: HeaderMap,
    Path((resource, value)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, EpcisError> {
    let param = resource_param(&resource).ok_or_else(|| {
        EpcisError::new(
            "NoSuchResourceException",
            StatusCode::NOT_FOUND,
            format!("no top-level resource {resource}"),
        )
    })?;
    let params = params_of(raw.as_deref())?;
    let path = format!(
        "/epcis/{resource}/{}/events",
        percent_encoding::utf8_percent_encode(&value, percent_encoding::NON_ALPHANUMERIC)
    );
    run_query(
        &st,
        &me,
        &headers,
        &path,
        params,
        &[(param.to_string(), value)],
    )
    .await
}

/// `GET /epcis/{resource}/{value}`: the sub-resources of one value (its events).
pub async fn resource_value(
    Path((resource, _value)): Path<(String, String)>,
) -> Result<Response, EpcisError> {
    resource_param(&resource).ok_or_else(|| {
        EpcisError::new(
            "NoSuchResourceException",
            StatusCode::NOT_FOUND,
            format!("no top-level resource {resource}"),
        )
    })?;
    Ok(ok(
        json!({"@context": [CONTEXT], "type": "Collection", "member": ["events"]}),
    ))
}

/// `GET /epcis`: the top-level resources.
pub async fn root() -> Response {
    ok(json!({"@context": [CONTEXT], "type": "Collection",
        "member": ["events", "eventTypes", "epcs", "bizSteps", "bizLocations", "readPoints", "dispositions", "capture", "queries"]}))
}

/// `GET /epcis/eventTypes`, `/bizSteps`, `/dispositions`: the standard values; `/epcs`, `/bizLocations`,
/// `/readPoints`: the values used by events, a page at a time (`perPage`, `nextPageToken`).
pub async fn collection(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    Path(resource): Path<String>,
    QueryParams(q): QueryParams<HashMap<String, String>>,
) -> Result<Response, EpcisError> {
    let fixed: Option<Vec<String>> = match resource.as_str() {
        "eventTypes" => Some(
            [
                "AggregationEvent",
                "AssociationEvent",
                "ObjectEvent",
                "TransactionEvent",
                "TransformationEvent",
            ]
            .map(String::from)
            .to_vec(),
        ),
        "bizSteps" => Some(
            Vocab::BizStep
                .values()
                .iter()
                .map(|s| s.to_string())
                .collect(),
        ),
        "dispositions" => Some(
            Vocab::Disposition
                .values()
                .iter()
                .map(|s| s.to_string())
                .collect(),
        ),
        "epcs" | "bizLocations" | "readPoints" => None,
        _ => {
            return Err(EpcisError::new(
                "NoSuchResourceException",
                StatusCode::NOT_FOUND,
                format!("no top-level resource {resource}"),
            ));
        }
    };
    if let Some(values) = fixed {
        return Ok(ok(
            json!({"@context": [CONTEXT], "type": "Collection", "member": values}),
        ));
    }
    let per_page = q
        .get("perPage")
        .and_then(|s| s.parse::<usize>().ok())
        .filter(|n| (1..=MAX_PER_PAGE).contains(n))
        .unwrap_or(PER_PAGE);
    let mut cursor: u64 = match q.get("nextPageToken") {
        None => 0,
        Some(t) => t.parse().map_err(|_| {
            EpcisError::query_params(vec![suyuan_epcis::query::QueryParamError {
                parameter: "nextPageToken".into(),
                message: "unknown token".into(),
            }])
        })?,
    };
    // Distinct values in ledger order of first use, continuing after the token's seq.
    let mut seen = std::collections::BTreeSet::new();
    let mut members = Vec::new();
    let more: bool;
    let mut scanned = 0u64;
    'scan: loop {
        let batch = st.engine.store().events_after(cursor, 1000).await?;
        let done = batch.len() < 1000;
        for e in batch {
            if members.len() >= per_page {
                more = true;
                break 'scan;
            }
            cursor = e.seq;
            scanned += 1;
            if !me.rows.event_visible(&e.event) {
                continue;
            }
            let values: Vec<String> = match resource.as_str() {
                "epcs" => suyuan_core::access::objects_of(&e.event).collect(),
                "bizLocations" => e
                    .event
                    .pointer("/bizLocation/id")
                    .and_then(Value::as_str)
                    .map(String::from)
                    .into_iter()
                    .collect(),
                _ => e
                    .event
                    .pointer("/readPoint/id")
                    .and_then(Value::as_str)
                    .map(String::from)
                    .into_iter()
                    .collect(),
            };
            for v in values {
                if seen.insert(v.clone()) {
                    members.push(v);
                }
            }
        }
        if done || scanned >= SCAN_LIMIT {
            more = !done;
            break;
        }
    }
    let mut resp = ok(json!({"@context": [CONTEXT], "type": "Collection", "member": members}));
    if more {
        let url = format!("/epcis/{resource}?perPage={per_page}&nextPageToken={cursor}");
        if let Ok(v) = HeaderValue::from_str(&format!("<{url}>; rel=\"next\"")) {
            resp.headers_mut().insert(header::LINK, v);
        }
    }
    Ok(resp)
}

/// The routes of this module, each with the permission it needs.
pub(crate) fn routes() -> Vec<crate::routes::Route> {
    use crate::routes;
    use suyuan_core::access::Permission as P;
    vec![
        routes::get("/epcis", P::EventsRead, root),
        routes::post("/epcis/capture", P::EventsWrite, capture),
        routes::get("/epcis/capture", P::EventsWrite, capture_jobs),
        routes::get("/epcis/capture/{id}", P::EventsWrite, capture_job),
        routes::get("/epcis/events", P::EventsRead, events),
        routes::post("/epcis/events", P::EventsWrite, capture_event),
        routes::get("/epcis/events/{*event_id}", P::EventsRead, event),
        routes::delete(
            "/epcis/nextPageToken/{token}",
            P::EventsRead,
            release_page_token,
        ),
        routes::get("/epcis/{resource}", P::EventsRead, collection),
        routes::get("/epcis/{resource}/{value}", P::EventsRead, resource_value),
        routes::get(
            "/epcis/{resource}/{value}/events",
            P::EventsRead,
            resource_events,
        ),
    ]
}
