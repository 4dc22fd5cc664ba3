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

mod capture;
mod events;

pub use capture::*;
pub use events::*;

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
            ApiError::StorageFull => ("ImplementationException", StatusCode::INSUFFICIENT_STORAGE),
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

fn now() -> String {
    suyuan_core::time::format_utc_millis(chrono::Utc::now())
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
