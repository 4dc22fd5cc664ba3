//! The dashboard: the plant's home page. Each widget is one declaration over a metric the engine names
//! ([`suyuan_engine::dashboard`]); the page lays the widgets out, and the browser fetches each figure from
//! `GET /api/v1/dashboard/{metric}`, draws it with ECharts, refreshes it every 30 seconds and opens the list
//! behind a bar or slice when it is clicked.

use crate::AppState;
use crate::error::ApiError;
use crate::web::i18n::{Lang, Tr};
use crate::web::pages::{Chrome, render};
use crate::web::viewer::Viewer;
use askama::Template;
use axum::Extension;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde_json::{Value, json};
use std::collections::HashMap;
use suyuan_engine::accounts::Principal;
use suyuan_engine::dashboard::{Figure, Range};

/// How a widget draws its figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chart {
    /// Days along the bottom, one stacked bar per series.
    StackedBars,
    /// One bar per category, horizontal (long names).
    Bars,
    /// A doughnut of the categories.
    Pie,
    /// A line over the days.
    Line,
    /// A table of the figure's rows.
    Rows,
}

impl Chart {
    /// Its name in the page (`data-chart`).
    pub fn key(self) -> &'static str {
        match self {
            Chart::StackedBars => "stacked",
            Chart::Bars => "bars",
            Chart::Pie => "pie",
            Chart::Line => "line",
            Chart::Rows => "rows",
        }
    }
}

/// One widget: the metric it shows, its title (message key), how it is drawn, whether it spans two columns,
/// and the list a click opens (`{key}` the category, `{series}` the series, `{from}`/`{to}` the range).
pub struct Widget {
    /// The engine metric's name.
    pub metric: &'static str,
    /// Message key of its title.
    pub title: &'static str,
    /// How it is drawn.
    pub chart: Chart,
    /// Two columns wide.
    pub wide: bool,
    /// The drill-down link template (empty: none).
    pub drill: &'static str,
}

/// The dashboard, in order. A feature adds its figure here, over the metric it registers with the engine.
pub const WIDGETS: &[Widget] = &[
    Widget {
        metric: "events_by_step",
        title: "dash.events_by_step",
        chart: Chart::StackedBars,
        wide: true,
        drill: "/events?step={series}&from={key}&to={key}",
    },
    Widget {
        metric: "objects_by_disposition",
        title: "dash.objects_by_disposition",
        chart: Chart::Pie,
        wide: false,
        drill: "/objects/in?disposition={key}",
    },
    Widget {
        metric: "shipped_by_destination",
        title: "dash.shipped_by_destination",
        chart: Chart::Bars,
        wide: false,
        drill: "/events?place={key}&from={from}&to={to}",
    },
    Widget {
        metric: "shipped_by_region",
        title: "dash.shipped_by_region",
        chart: Chart::Pie,
        wide: false,
        drill: "/events?step=shipping&from={from}&to={to}",
    },
    Widget {
        metric: "scans_per_day",
        title: "dash.scans_per_day",
        chart: Chart::Line,
        wide: false,
        drill: "/scans?from={key}&to={key}",
    },
    Widget {
        metric: "scans_by_region",
        title: "dash.scans_by_region",
        chart: Chart::Bars,
        wide: false,
        drill: "/scans?from={from}&to={to}",
    },
    Widget {
        metric: "production_per_day",
        title: "dash.production_per_day",
        chart: Chart::StackedBars,
        wide: true,
        drill: "/orders",
    },
    Widget {
        metric: "yield_per_day",
        title: "dash.yield_per_day",
        chart: Chart::Line,
        wide: false,
        drill: "/orders",
    },
    Widget {
        metric: "wip_by_line",
        title: "dash.wip_by_line",
        chart: Chart::Bars,
        wide: false,
        drill: "/orders?line={key}",
    },
    Widget {
        metric: "stock_by_product",
        title: "dash.stock_by_product",
        chart: Chart::Pie,
        wide: false,
        drill: "/warehouse?product={key}&status=available",
    },
    Widget {
        metric: "operations_flow",
        title: "dash.operations_flow",
        chart: Chart::Rows,
        wide: false,
        drill: "/warehouse",
    },
    Widget {
        metric: "quality_first_pass",
        title: "dash.quality_first_pass",
        chart: Chart::Bars,
        wide: false,
        drill: "/quality?stage={key}",
    },
    Widget {
        metric: "defect_pareto",
        title: "dash.defect_pareto",
        chart: Chart::Bars,
        wide: false,
        drill: "/quality",
    },
    Widget {
        metric: "supplier_pass_rate",
        title: "dash.supplier_pass_rate",
        chart: Chart::Bars,
        wide: false,
        drill: "/quality/suppliers?from={from}&to={to}",
    },
    Widget {
        metric: "quality_open_by_age",
        title: "dash.quality_open_by_age",
        chart: Chart::StackedBars,
        wide: false,
        drill: "/quality/{series}",
    },
    Widget {
        metric: "suspicious_scans",
        title: "dash.suspicious_scans",
        chart: Chart::Rows,
        wide: false,
        drill: "/trace?q={key}",
    },
    Widget {
        metric: "ledger",
        title: "dash.ledger",
        chart: Chart::Rows,
        wide: false,
        drill: "/proofs",
    },
];

/// A dashboard with its version (0: the built-in home page as shipped) and whether Suyuan ships it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Board {
    /// The definition.
    pub def: suyuan_reports::Dashboard,
    /// Its version.
    pub version: u32,
    /// Whether it is the built-in home page as shipped.
    pub builtin: bool,
}

/// The built-in home page as a dashboard definition: [`WIDGETS`], titled in both languages.
pub fn builtin_home() -> suyuan_reports::Dashboard {
    let both = |key: &str| suyuan_forms::Text {
        zh: Tr { lang: Lang::Zh }.t(key).to_string(),
        en: Tr { lang: Lang::En }.t(key).to_string(),
    };
    suyuan_reports::Dashboard {
        code: "home".into(),
        name: both("dash.title"),
        widgets: WIDGETS
            .iter()
            .map(|w| suyuan_reports::Widget {
                title: both(w.title),
                metric: Some(w.metric.to_string()),
                report: None,
                chart: w.chart.key().to_string(),
                wide: w.wide,
                drill: w.drill.to_string(),
                max: None,
            })
            .collect(),
    }
}

/// The home page's dashboard: the plant's saved version, or the built-in one.
pub async fn home_dashboard(st: &AppState) -> Result<Board, suyuan_store::StoreError> {
    Ok(match st.engine.dashboard("home").await? {
        Some(v) => Board {
            def: v.def,
            version: v.version,
            builtin: false,
        },
        None => Board {
            def: builtin_home(),
            version: 0,
            builtin: true,
        },
    })
}

/// Dashboard `code` (`home`: the home page), if there is one.
pub async fn board(st: &AppState, code: &str) -> Result<Option<Board>, suyuan_store::StoreError> {
    if code == "home" {
        return home_dashboard(st).await.map(Some);
    }
    Ok(st.engine.dashboard(code).await?.map(|v| Board {
        def: v.def,
        version: v.version,
        builtin: false,
    }))
}

/// One widget as the page lays it out.
pub struct WidgetView {
    /// What it reads: the metric's name, or `report:<code>`.
    pub metric: String,
    /// Where the browser fetches its figure.
    pub url: String,
    /// How it draws.
    pub chart: String,
    /// Two columns wide.
    pub wide: bool,
    /// The drill-down link template.
    pub drill: String,
    /// Its title in the reader's language.
    pub title: String,
    /// A gauge's full scale.
    pub max: String,
}

/// The widgets of `d` as the page lays them out for a reader of `lang`.
pub fn widget_views(d: &suyuan_reports::Dashboard, lang: Lang) -> Vec<WidgetView> {
    d.widgets
        .iter()
        .map(|w| {
            let (metric, url) = match (&w.metric, &w.report) {
                (Some(m), _) => (m.clone(), format!("/api/v1/dashboard/{m}")),
                (None, Some(r)) => (format!("report:{r}"), format!("/api/v1/reports/{r}/figure")),
                (None, None) => (String::new(), String::new()),
            };
            WidgetView {
                metric,
                url,
                chart: w.chart.clone(),
                wide: w.wide,
                drill: w.drill.clone(),
                title: w.title.get(lang.code()).to_string(),
                max: w.max.map(|m| m.to_string()).unwrap_or_default(),
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    title: String,
    code: String,
    can_design: bool,
    widgets: Vec<WidgetView>,
    from: String,
    to: String,
}

/// The range a request asks for (`from`, `to` as `YYYY-MM-DD`), or the engine's default.
async fn range_of(st: &AppState, q: &HashMap<String, String>) -> Result<Range, ApiError> {
    let day = |k: &str| -> Result<Option<NaiveDate>, ApiError> {
        match q.get(k).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| ApiError::bad_param(k, format!("a date as YYYY-MM-DD, got '{v}'"))),
        }
    };
    let (from, to) = (day("from")?, day("to")?);
    let today = chrono::Utc::now().date_naive();
    let range = match (from, to) {
        (Some(from), Some(to)) => Range { from, to },
        (Some(from), None) => Range {
            from,
            to: from + chrono::Days::new(29),
        },
        (None, Some(to)) => Range {
            from: to - chrono::Days::new(29),
            to,
        },
        (None, None) => st.engine.default_range(today).await?,
    };
    if range.to < range.from {
        return Err(ApiError::bad_param("to", "a day on or after 'from'"));
    }
    if (range.to - range.from).num_days() > 365 {
        return Err(ApiError::bad_param("to", "at most 366 days after 'from'"));
    }
    Ok(range)
}

/// `GET /`: the home dashboard (partners and regulators start at their scoped pages instead).
pub async fn home(State(st): State<AppState>, v: Viewer) -> Response {
    if !v.me.rows.is_all() {
        return Redirect::to("/trace").into_response();
    }
    show(&st, &v, "home").await
}

/// `GET /dashboards/{code}`: a dashboard of the plant's (plant staff only).
pub async fn dashboard(
    State(st): State<AppState>,
    Path(code): Path<String>,
    v: Viewer,
) -> Response {
    if let Some(r) = crate::web::operations::staff_only(&v) {
        return r;
    }
    show(&st, &v, &code).await
}

async fn show(st: &AppState, v: &Viewer, code: &str) -> Response {
    let (lang, set) = (v.lang, v.chose_lang);
    let range = match range_of(st, &v.query).await {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let b = match board(st, code).await {
        Ok(Some(b)) => b,
        Ok(None) => return ApiError::NotFound(format!("dashboard {code}")).into_response(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let page = DashboardPage {
        chrome: v.chrome(if code == "home" { "home" } else { "reports" }),
        title: b.def.name.get(lang.code()).to_string(),
        code: code.to_string(),
        can_design: v
            .me
            .allows(suyuan_core::access::Permission::MasterDataWrite),
        widgets: widget_views(&b.def, lang),
        from: range.from.to_string(),
        to: range.to.to_string(),
    };
    render(&page, lang, set)
}

/// The figure as the browser draws it: names in the reader's language.
fn localise(f: Figure, tr: Tr, names: &suyuan_engine::names::Names) -> Value {
    let series_name = |k: &str| match f.metric.as_str() {
        "events_by_step" if k == "other" => tr.t("dash.other").to_string(),
        "events_by_step" if k.is_empty() => tr.t("dash.no_step").to_string(),
        "events_by_step" => tr.step(k),
        _ => tr.t(&format!("dash.series.{k}")).to_string(),
    };
    let category_name = |key: &str, name: &str| match f.metric.as_str() {
        "objects_by_disposition" => tr.disposition(key),
        "quality_open_by_age" => tr.t(&format!("dash.age.{key}")).to_string(),
        "scans_by_region" | "shipped_by_region" if key.is_empty() => {
            tr.t("dash.unknown_region").to_string()
        }
        _ => name.to_string(),
    };
    let rows: Vec<Value> = f
        .rows
        .iter()
        .map(|r| match f.metric.as_str() {
            "suspicious_scans" => json!({
                "key": r.key, "name": names.label(&r.key), "detail": format!("{} · {}", r.name,
                    crate::web::pages::friendly_time(&r.detail)), "value": r.value,
            }),
            "ledger" if r.key == "checkpoint" => json!({
                "key": r.key, "name": tr.t("dash.ledger.checkpoint"),
                "detail": format!("{} · {}…", crate::web::pages::friendly_time(&r.detail),
                    r.name.get(..16).unwrap_or(&r.name)),
                "value": r.value,
            }),
            // Ratios and days read as the engine formatted them, not as whole numbers.
            "operations_flow" => {
                json!({"key": r.key, "name": tr.t(&format!("dash.flow.{}", r.key)),
                "detail": "", "value": r.detail})
            }
            _ => json!({"key": r.key, "name": tr.t(&format!("dash.ledger.{}", r.key)),
                "detail": r.detail, "value": r.value}),
        })
        .collect();
    json!({
        "metric": f.metric,
        "total": f.total,
        "categories": f.categories.iter().map(|c| json!({"key": c.key, "name": category_name(&c.key, &c.name)})).collect::<Vec<_>>(),
        "series": f.series.iter().map(|s| json!({"key": s.key, "name": series_name(&s.key), "values": s.values})).collect::<Vec<_>>(),
        "rows": rows,
    })
}

/// `GET /api/v1/dashboard/{metric}?from=&to=&lang=`: one figure, named in the reader's language.
pub async fn figure(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    Path(metric): Path<String>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    if !me.rows.is_all() {
        return Err(ApiError::Forbidden(
            "plant-wide figures are for plant staff; partners and regulators read their scoped events".into(),
        ));
    }
    let range = range_of(&st, &q).await?;
    let Some(f) = st.engine.figure(&metric, range).await? else {
        return Err(ApiError::NotFound(format!(
            "no metric '{metric}'; known: {}",
            st.engine.metric_names().join(", ")
        )));
    };
    let lang = Lang::of_request(q.get("lang").map(String::as_str), &headers);
    let names = st.engine.names().await?;
    let mut f = f;
    // Suppliers are named from their records, in the reader's language.
    if metric == "supplier_pass_rate"
        && let Ok(records) = st.engine.records().await
    {
        for c in &mut f.categories {
            c.name = records.label("supplier", &c.key, lang == Lang::En);
        }
    }
    let mut out = localise(f, Tr { lang }, &names);
    out["from"] = json!(range.from.to_string());
    out["to"] = json!(range.to.to_string());
    Ok(Json(out).into_response())
}

/// The routes of this module, each with the permission it needs.
pub(crate) fn routes() -> Vec<crate::routes::Route> {
    use crate::routes;
    use suyuan_core::access::Permission as P;
    vec![
        routes::get("/", P::EventsRead, home),
        routes::get("/dashboards/{code}", P::EventsRead, dashboard),
        routes::get("/api/v1/dashboard/{metric}", P::EventsRead, figure),
    ]
}
