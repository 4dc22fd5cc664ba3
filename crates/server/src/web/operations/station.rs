//! The scan station: pick a station, then scan — badge, work order, each material lot, each unit or lot
//! made — with a keyboard-wedge scanner (the page keeps the scan field focused, so nothing needs touching)
//! or the phone's camera. Each scan goes to `POST /api/v1/stations/{code}/scans` with an id made in the
//! browser and is retried with the same id until the server answers, so a flaky network never records it
//! twice. Green or red, a sound, and the reason in the operator's language.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::AppState;
use crate::web::pages::{Chrome, render};
use crate::web::viewer::Viewer;

use super::{ops_down, texts_json};

#[derive(Template)]
#[template(path = "station.html")]
struct StationPage {
    chrome: Chrome,
    /// `(code, name, line)` of every station.
    stations: Vec<(String, String, String)>,
    /// The chosen station, if any.
    code: String,
    name: String,
    line: String,
    /// Routing parameters of this station: `(name, min, max, unit)`.
    params: Vec<(String, String, String, String)>,
    texts: String,
    station_js: String,
    zxing_url: String,
    /// The station's own form (the plant's fields recorded here), if its record names one.
    own: Option<crate::web::forms::OwnForm>,
}

async fn page(st: &AppState, v: &Viewer, code: Option<String>) -> Response {
    let records = match st.engine.records().await {
        Ok(r) => r,
        Err(e) => return ops_down(e),
    };
    let english = v.lang == crate::web::i18n::Lang::En;
    let line_of = |c: &str| {
        records
            .location_chain(c)
            .into_iter()
            .find(|x| records.text("location", x, "level") == Some("line"))
            .unwrap_or_default()
    };
    let stations: Vec<(String, String, String)> = records
        .of("location")
        .iter()
        .filter(|(_, r, _)| r.get("level").and_then(Value::as_str) == Some("station"))
        .map(|(c, _, _)| (c.clone(), records.label("location", c, english), line_of(c)))
        .collect();
    let (code, name, line) = match code {
        Some(c) => match stations.iter().find(|(x, _, _)| *x == c) {
            Some(s) => s.clone(),
            None => return (axum::http::StatusCode::NOT_FOUND, "no such station").into_response(),
        },
        None => (String::new(), String::new(), String::new()),
    };
    let num = |r: &serde_json::Map<String, Value>, k: &str| {
        r.get(k)
            .and_then(Value::as_f64)
            .map(|x| x.to_string())
            .unwrap_or_default()
    };
    let mut params: Vec<(String, String, String, String)> = records
        .of("routing")
        .iter()
        .filter(|(_, r, _)| r.get("station").and_then(Value::as_str) == Some(code.as_str()))
        .filter_map(|(_, r, _)| {
            Some((
                r.get("parameter")?.as_str()?.to_string(),
                num(r, "min"),
                num(r, "max"),
                r.get("unit")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            ))
        })
        .collect();
    params.dedup();
    let own = crate::web::forms::own_form(
        st,
        records
            .text("location", &code, "form")
            .filter(|_| !code.is_empty()),
        format!("/station/{code}"),
        v,
    )
    .await;
    let page = StationPage {
        chrome: v.chrome("station"),
        stations,
        code,
        name,
        line,
        params,
        texts: texts_json(v.lang, &["station.", "refusal."]),
        station_js: crate::web::assets::url("js/station.js"),
        zxing_url: crate::web::assets::url("vendor/zxing-0.21.3/zxing.min.js"),
        own,
    };
    render(&page, v.lang, v.chose_lang)
}

/// `GET /station`: the stations to choose from.
pub async fn choose(State(st): State<AppState>, v: Viewer) -> Response {
    if let Some(r) = super::staff_only(&v) {
        return r;
    }
    page(&st, &v, None).await
}

/// `GET /station/{code}`: the scan screen of one station.
pub async fn station(State(st): State<AppState>, Path(code): Path<String>, v: Viewer) -> Response {
    if let Some(r) = super::staff_only(&v) {
        return r;
    }
    page(&st, &v, Some(code)).await
}

/// A quick check that the page's texts hold every refusal code the engine knows.
pub fn refusal_codes() -> Value {
    json!([
        "unknown_code",
        "no_operator",
        "no_work_order",
        "operator_not_on_line",
        "work_order_not_running",
        "wrong_line",
        "wrong_material",
        "expired",
        "on_hold",
        "non_conformant",
        "blocked_supplier",
        "not_in_work_centre",
        "already_consumed",
        "more_than_on_hand",
        "held",
        "container_shipped",
        "in_transit",
        "already_recorded",
        "gone"
    ])
}
