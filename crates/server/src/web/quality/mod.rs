//! The quality screens: inspections and their entry from a plan ([`inspect`]), the nonconformance board
//! and a report's steps ([`ncrs`]), holds with what they keep ([`holds`]), supplier scorecards
//! ([`suppliers`]), SPC charts ([`spc`]) and the batch quality report with its PDF and XLSX
//! ([`report`], [`report_files`]). They read and write only through the engine's quality commands and
//! queries.

pub mod holds;
pub mod inspect;
pub mod ncrs;
pub mod report;
pub mod report_files;
pub mod spc;
pub mod suppliers;
pub mod texts;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use suyuan_engine::accounts::Principal;
use suyuan_engine::operations::OpsError;

use crate::web::i18n::Tr;

/// The quality section's tabs: (href, label, whether it is the current one).
pub(crate) fn tabs(tr: Tr, current: &str) -> Vec<(&'static str, String, bool)> {
    [
        ("/quality", "q.tab.inspections", "inspections"),
        ("/quality/ncrs", "q.tab.ncrs", "ncrs"),
        ("/quality/holds", "q.tab.holds", "holds"),
        ("/quality/suppliers", "q.tab.suppliers", "suppliers"),
        ("/quality/spc", "q.tab.spc", "spc"),
    ]
    .into_iter()
    .map(|(h, l, k)| (h, tr.t(l).to_string(), k == current))
    .collect()
}

pub(crate) use crate::api::quality::decides;

/// The last part of an object key, as people read it (a serial, a lot number, an SSCC).
pub(crate) fn short(key: &str) -> String {
    key.trim_end_matches('/')
        .rsplit(['/', ':'])
        .next()
        .unwrap_or(key)
        .to_string()
}

/// The trace explorer's page of an object.
pub(crate) fn trace_href(key: &str) -> String {
    format!("/trace?q={}", enc(key))
}

/// A query-string value, percent-encoded.
pub(crate) fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A defect class or severity in the reader's words.
pub(crate) fn word(tr: Tr, prefix: &str, key: &str) -> String {
    match tr.t(&format!("{prefix}.{key}")) {
        "?" => key.to_string(),
        t => t.to_string(),
    }
}

/// A ratio as a percentage with one decimal.
pub(crate) fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// A page refusing a decision to someone who may not take it: the page, its error, and 403.
pub(crate) fn refused(mut page: Response) -> Response {
    *page.status_mut() = StatusCode::FORBIDDEN;
    page
}

/// The answer when a page's subject is missing (404 naming it) or the store cannot serve it.
pub(crate) fn missing(tr: Tr, e: OpsError) -> Response {
    match e {
        OpsError::NotFound(what) => (
            StatusCode::NOT_FOUND,
            format!("{}: {what}", tr.t("q.not_found")),
        )
            .into_response(),
        other => crate::web::operations::ops_down(other),
    }
}

/// The object a person typed or scanned: a code as printed (a lot number, a serial, an element string)
/// is looked up like the header's search and stands for its one match; a URI stays as typed.
pub(crate) async fn resolve(st: &crate::AppState, me: &Principal, typed: &str) -> String {
    let typed = typed.trim();
    if typed.is_empty() || typed.contains("://") || typed.starts_with("urn:") {
        return typed.to_string();
    }
    match crate::web::search::find(st, me, typed).await {
        Ok(a) if a.matches.len() == 1 => a.matches[0].id.clone(),
        _ => typed.to_string(),
    }
}

/// The routes of the quality screens, each with the permission it needs.
pub(crate) fn routes() -> Vec<crate::routes::Route> {
    use crate::routes::{get, post};
    use suyuan_core::access::Permission as P;
    vec![
        get("/quality", P::EventsRead, inspect::list),
        get("/quality/inspect", P::EventsWrite, inspect::form),
        post("/quality/inspect", P::EventsWrite, inspect::submit),
        get(
            "/quality/attachments/{sha256}",
            P::EventsRead,
            inspect::attachment,
        ),
        get("/quality/ncrs", P::EventsRead, ncrs::board),
        get("/quality/ncrs/{id}", P::EventsRead, ncrs::show),
        post("/quality/ncrs/{id}", P::EventsWrite, ncrs::step),
        get("/quality/holds", P::EventsRead, holds::list),
        post("/quality/holds", P::EventsWrite, holds::place),
        get("/quality/holds/{id}", P::EventsRead, holds::show),
        post(
            "/quality/holds/{id}/release",
            P::EventsWrite,
            holds::release,
        ),
        get("/quality/suppliers", P::EventsRead, suppliers::page),
        get("/quality/spc", P::EventsRead, spc::page),
        get("/quality/report", P::EventsRead, report::page),
    ]
}
