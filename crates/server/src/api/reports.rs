//! The reports and dashboards API: report definitions (saved by master-data writers, every field checked),
//! a report run as JSON, CSV, XLSX or PDF, a report as a dashboard figure, and dashboard definitions
//! (the built-in home page among them).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use suyuan_reports::report::Table;
use suyuan_reports::run::{cells, csv};
use suyuan_reports::{Dashboard, Report};

use super::forms::failure;
use super::operations::{OpsFailure, Staff, parse};
use crate::AppState;
use crate::api::events::json_body;
use crate::error::ApiError;
use crate::web::i18n::{Lang, Tr};

type R = Result<Response, OpsFailure>;

/// `GET /api/v1/reports`.
pub async fn list(State(st): State<AppState>, _: Staff) -> R {
    let r = st
        .engine
        .reports()
        .await
        .map_err(|e| OpsFailure::Ops(e.into()))?;
    Ok(Json(json!({"reports": r})).into_response())
}

/// `POST /api/v1/reports`: saves a report (a new version when it changed).
pub async fn save(
    State(st): State<AppState>,
    Staff(me): Staff,
    headers: HeaderMap,
    body: Bytes,
) -> R {
    let r: Report = parse(json_body(&headers, &body)?)?;
    let saved = st.engine.save_report(&me.user, &r).await.map_err(failure)?;
    Ok((StatusCode::CREATED, Json(json!(saved))).into_response())
}

/// The file of `table` (a run of `report`) in `format` (`csv`, `xlsx`, `pdf`), named in `lang`.
pub(crate) fn file(
    report: &Report,
    table: &Table,
    format: &str,
    lang: Lang,
) -> Result<(String, &'static str, Vec<u8>), String> {
    let code = lang.code();
    let name = format!("{}.{format}", report.code);
    match format {
        "csv" => Ok((
            name,
            "text/csv; charset=utf-8",
            csv(table, code).into_bytes(),
        )),
        "xlsx" | "pdf" => {
            let tr = Tr { lang };
            let widths: Vec<(String, f32)> = table
                .columns
                .iter()
                .map(|c| (c.get(code).to_string(), 1.0))
                .collect();
            let content = crate::web::documents::Content {
                title: report.name.get(code).to_string(),
                facts: vec![(
                    tr.t("rep.generated").to_string(),
                    crate::web::pages::friendly_time(&suyuan_core::time::format_utc_millis(
                        chrono::Utc::now(),
                    )),
                )],
                sections: vec![crate::web::documents::Section {
                    heading: report.name.get(code).to_string(),
                    columns: widths,
                    rows: table.rows.iter().map(|r| cells(r)).collect(),
                    empty: tr.t("rep.empty").to_string(),
                }],
            };
            if format == "xlsx" {
                crate::web::documents::xlsx(&content, tr)
                    .map(|b| {
                        (
                            name,
                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                            b,
                        )
                    })
                    .map_err(|e| e.to_string())
            } else {
                crate::web::documents::pdf(&content, tr)
                    .map(|b| (name, "application/pdf", b))
                    .map_err(|e| e.to_string())
            }
        }
        other => Err(format!("a format of csv, xlsx or pdf, got '{other}'")),
    }
}

/// `GET /api/v1/reports/{code}/run?format=json|csv|xlsx|pdf&lang=`: the report as of now.
pub async fn run(
    State(st): State<AppState>,
    _: Staff,
    Path(code): Path<String>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> R {
    let r = st.engine.report(&code).await.map_err(failure)?;
    let table = st
        .engine
        .run_report(&r.def, chrono::Utc::now())
        .await
        .map_err(failure)?;
    let format = q.get("format").map(String::as_str).unwrap_or("json");
    if format == "json" {
        return Ok(Json(json!({"report": r, "table": table})).into_response());
    }
    let lang = Lang::of_request(q.get("lang").map(String::as_str), &headers);
    let (name, mime, bytes) =
        file(&r.def, &table, format, lang).map_err(|why| ApiError::bad_param("format", why))?;
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// A report's table as a dashboard figure: its first column the categories, each numeric column a series,
/// and rows (first column, the middle ones, the last) for a table widget.
pub(crate) fn figure(table: &Table, lang: Lang) -> Value {
    let code = lang.code();
    let texts: Vec<Vec<String>> = table.rows.iter().map(|r| cells(r)).collect();
    let numeric: Vec<usize> = (1..table.columns.len())
        .filter(|i| {
            !table.rows.is_empty()
                && table
                    .rows
                    .iter()
                    .all(|r| r.get(*i).is_some_and(Value::is_number))
        })
        .collect();
    let categories: Vec<Value> = texts
        .iter()
        .map(|r| {
            let k = r.first().cloned().unwrap_or_default();
            json!({"key": k, "name": k})
        })
        .collect();
    let series: Vec<Value> = numeric
        .iter()
        .map(|i| {
            json!({"key": format!("c{i}"), "name": table.columns[*i].get(code),
                   "values": table.rows.iter().map(|r| r[*i].clone()).collect::<Vec<_>>()})
        })
        .collect();
    let total: f64 = numeric
        .first()
        .map(|i| table.rows.iter().filter_map(|r| r[*i].as_f64()).sum())
        .unwrap_or(table.rows.len() as f64);
    let rows: Vec<Value> = texts
        .iter()
        .map(|r| {
            let last = r.last().cloned().unwrap_or_default();
            let middle = if r.len() > 2 {
                r[1..r.len() - 1].join(" · ")
            } else {
                String::new()
            };
            json!({"key": r.first(), "name": r.first(), "detail": middle, "value": last})
        })
        .collect();
    json!({"categories": categories, "series": series, "rows": rows, "total": total})
}

/// `GET /api/v1/reports/{code}/figure?lang=`: the report as a dashboard widget draws it.
pub async fn as_figure(
    State(st): State<AppState>,
    _: Staff,
    Path(code): Path<String>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> R {
    let r = st.engine.report(&code).await.map_err(failure)?;
    let table = st
        .engine
        .run_report(&r.def, chrono::Utc::now())
        .await
        .map_err(failure)?;
    let lang = Lang::of_request(q.get("lang").map(String::as_str), &headers);
    let mut f = figure(&table, lang);
    f["metric"] = json!(code);
    Ok(Json(f).into_response())
}

/// `GET /api/v1/dashboards`: the saved dashboards and the built-in home page.
pub async fn dashboards(State(st): State<AppState>, _: Staff) -> R {
    let saved = st
        .engine
        .dashboards()
        .await
        .map_err(|e| OpsFailure::Ops(e.into()))?;
    let home = crate::web::dashboard::home_dashboard(&st)
        .await
        .map_err(|e| OpsFailure::Ops(e.into()))?;
    Ok(Json(json!({"dashboards": saved, "home": home})).into_response())
}

/// `POST /api/v1/dashboards`: saves a dashboard (a new version when it changed).
pub async fn save_dashboard(
    State(st): State<AppState>,
    Staff(me): Staff,
    headers: HeaderMap,
    body: Bytes,
) -> R {
    let d: Dashboard = parse(json_body(&headers, &body)?)?;
    let saved = st
        .engine
        .save_dashboard(&me.user, &d)
        .await
        .map_err(failure)?;
    Ok((StatusCode::CREATED, Json(json!(saved))).into_response())
}

/// The routes of the reports and dashboards API.
pub(crate) fn routes() -> Vec<crate::routes::Route> {
    use crate::routes::{get, post};
    use suyuan_core::access::Permission as P;
    vec![
        get("/api/v1/reports", P::EventsRead, list),
        post("/api/v1/reports", P::MasterDataWrite, save),
        get("/api/v1/reports/{code}/run", P::EventsRead, run),
        get("/api/v1/reports/{code}/figure", P::EventsRead, as_figure),
        get("/api/v1/dashboards", P::EventsRead, dashboards),
        post("/api/v1/dashboards", P::MasterDataWrite, save_dashboard),
    ]
}
