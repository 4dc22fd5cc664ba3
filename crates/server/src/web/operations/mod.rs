//! The operations screens: the scan station ([`station`]), work orders ([`orders`]), the warehouse
//! ([`warehouse`]), master data with import ([`master`]) and alerts ([`alerts`]). They read and write only
//! through the engine's operations commands and queries.

pub mod alerts;
pub mod master;
pub mod orders;
pub mod station;
pub mod texts;
pub mod warehouse;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use suyuan_engine::operations::OpsError;

use crate::web::i18n::{CATALOGUE, Lang, Tr};

/// A refusal for anyone but plant staff (partners and regulators see their scoped pages only).
pub(crate) fn staff_only(v: &crate::web::viewer::Viewer) -> Option<Response> {
    (!v.me.rows.is_all()).then(|| {
        (
            StatusCode::FORBIDDEN,
            crate::web::i18n::Tr { lang: v.lang }.t("ops.staff_only"),
        )
            .into_response()
    })
}

/// The answer when the store (or the engine) cannot serve a page.
pub(crate) fn ops_down(e: OpsError) -> Response {
    tracing::error!(error = %e, "operations page failed");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "the store is unavailable; retry in a moment",
    )
        .into_response()
}

/// The catalogue's texts whose keys start with one of `prefixes`, as a JSON object for a page's script.
pub(crate) fn texts_json(lang: Lang, prefixes: &[&str]) -> String {
    let mut m = serde_json::Map::new();
    for (k, zh, en) in CATALOGUE.iter().flat_map(|c| c.iter()) {
        if prefixes.iter().any(|p| k.starts_with(p)) {
            let v = if lang == Lang::En { en } else { zh };
            m.insert(
                (*k).to_string(),
                serde_json::Value::String((*v).to_string()),
            );
        }
    }
    serde_json::Value::Object(m).to_string()
}

/// An operations error as a person reads it: the refusal or the field in their language.
pub(crate) fn say(tr: Tr, e: &OpsError) -> String {
    match e {
        OpsError::Refused(r) => {
            let mut s = tr.t(&format!("refusal.{}", r.code())).to_string();
            for (k, v) in r.values() {
                s = s.replace(&format!("{{{k}}}"), &v);
            }
            s
        }
        OpsError::Invalid(problems) => problems
            .iter()
            .map(|p| format!("{}: {}", p.field, p.expected))
            .collect::<Vec<_>>()
            .join("; "),
        OpsError::NotFound(what) => format!("{what}?"),
        OpsError::Import(e) => e.to_string(),
        OpsError::Capture(suyuan_engine::CaptureError::Invalid(v)) => {
            v.0.iter()
                .map(|f| f.message.clone())
                .collect::<Vec<_>>()
                .join("; ")
        }
        OpsError::Capture(other) => {
            tracing::error!(error = %other, "operations command failed");
            tr.t("ops.error").to_string()
        }
    }
}

/// A number as people write it: no trailing `.0`, at most three decimals.
pub(crate) fn num(x: f64) -> String {
    let s = format!("{:.3}", x);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

/// The routes of the operations screens, each with the permission it needs.
pub(crate) fn routes() -> Vec<crate::routes::Route> {
    use crate::routes;
    use suyuan_core::access::Permission as P;
    vec![
        routes::get("/station", P::EventsWrite, station::choose),
        routes::get("/station/{code}", P::EventsWrite, station::station),
        routes::get("/orders", P::EventsRead, orders::list),
        routes::post("/orders", P::EventsWrite, orders::create),
        routes::get("/orders/{number}", P::EventsRead, orders::show),
        routes::post("/orders/{number}/state", P::EventsWrite, orders::move_state),
        routes::get("/warehouse", P::EventsRead, warehouse::page),
        routes::post("/warehouse", P::EventsWrite, warehouse::act),
        routes::get("/masterdata", P::EventsRead, master::index),
        routes::get("/masterdata/{kind}", P::EventsRead, master::kind_page),
        routes::post("/masterdata/{kind}", P::MasterDataWrite, master::save),
        routes::post(
            "/masterdata/{kind}/import",
            P::MasterDataWrite,
            master::import,
        ),
        routes::get(
            "/masterdata/{kind}/template.csv",
            P::EventsRead,
            master::template,
        ),
        routes::get("/alerts", P::EventsRead, alerts::list),
        routes::post("/alerts/{id}", P::EventsWrite, alerts::update),
    ]
}
