//! Reports on screen: the list of reports and dashboards, a report run as a table with its exports (XLSX,
//! CSV, PDF) and its schedule, and its definition edited as JSON beside the fields its source offers
//! (every problem listed, nothing saved while one remains).

use askama::Template;
use axum::Extension;
use axum::extract::{Form as Posted, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;
use suyuan_engine::accounts::Principal;
use suyuan_reports::Report;
use suyuan_reports::report::SOURCES;
use suyuan_reports::run::cells;

use crate::AppState;
use crate::web::i18n::{Lang, Tr};
use crate::web::operations::{ops_down, staff_only};
use crate::web::pages::{Chrome, render};
use crate::web::viewer::Viewer;

#[derive(Template)]
#[template(path = "reports.html")]
struct ListPage {
    chrome: Chrome,
    reports: Vec<(String, String, String, u32, bool)>,
    dashboards: Vec<(String, String, usize, u32, bool)>,
    can_design: bool,
}

/// `GET /reports`: the reports and the dashboards.
pub async fn list(State(st): State<AppState>, v: Viewer) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    let code = v.lang.code();
    let (reports, saved, home) = match (
        st.engine.reports().await,
        st.engine.dashboards().await,
        crate::web::dashboard::home_dashboard(&st).await,
    ) {
        (Ok(r), Ok(d), Ok(h)) => (r, d, h),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return ops_down(e.into()),
    };
    let mut dashboards = vec![(
        "home".to_string(),
        home.def.name.get(code).to_string(),
        home.def.widgets.len(),
        home.version,
        home.builtin,
    )];
    dashboards.extend(saved.into_iter().filter(|d| d.def.code != "home").map(|d| {
        (
            d.def.code.clone(),
            d.def.name.get(code).to_string(),
            d.def.widgets.len(),
            d.version,
            false,
        )
    }));
    let page = ListPage {
        chrome: v.chrome("reports"),
        reports: reports
            .into_iter()
            .map(|r| {
                (
                    r.def.code.clone(),
                    r.def.name.get(code).to_string(),
                    r.def.source.clone(),
                    r.version,
                    r.def.schedule.is_some(),
                )
            })
            .collect(),
        dashboards,
        can_design: v
            .me
            .allows(suyuan_core::access::Permission::MasterDataWrite),
    };
    render(&page, v.lang, v.chose_lang)
}

#[derive(Template)]
#[template(path = "report_def.html")]
struct OnePage {
    chrome: Chrome,
    is_new: bool,
    code: String,
    title: String,
    version: u32,
    head: Vec<String>,
    /// Whether each column holds numbers (aligned right).
    numeric: Vec<bool>,
    rows: Vec<Vec<String>>,
    summary: String,
    schedule: String,
    definition: String,
    sources: Vec<(&'static str, String)>,
    problems: Vec<String>,
    notice: String,
    can_edit: bool,
}

fn blank(v: &Viewer, is_new: bool, definition: String) -> OnePage {
    OnePage {
        chrome: v.chrome("reports"),
        is_new,
        code: String::new(),
        title: String::new(),
        version: 0,
        head: Vec::new(),
        numeric: Vec::new(),
        rows: Vec::new(),
        summary: String::new(),
        schedule: String::new(),
        definition,
        sources: SOURCES.iter().map(|(s, f)| (*s, f.join(", "))).collect(),
        problems: Vec::new(),
        notice: String::new(),
        can_edit: v
            .me
            .allows(suyuan_core::access::Permission::MasterDataWrite),
    }
}

/// `GET /reports/new`: the editor with a starting report.
pub async fn new(v: Viewer) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    let starter = json!({"code": "", "name": {"zh": "", "en": ""}, "source": "inspections", "days": 30,
        "group_by": ["stage"], "columns": [
            {"field": "stage", "label": {"zh": "阶段", "en": "Stage"}},
            {"field": "id", "label": {"zh": "检验批数", "en": "Lots inspected"}, "agg": "count"}],
        "sort": [{"column": 1, "desc": true}]});
    let page = blank(
        &v,
        true,
        serde_json::to_string_pretty(&starter).unwrap_or_default(),
    );
    render(&page, v.lang, v.chose_lang)
}

/// `GET /reports/{code}`: the report run now, with its exports and its definition.
pub async fn one(State(st): State<AppState>, Path(code): Path<String>, v: Viewer) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    let r = match st.engine.report(&code).await {
        Ok(r) => r,
        Err(e) => return crate::web::forms::down(e),
    };
    let mut page = blank(
        &v,
        false,
        serde_json::to_string_pretty(&r.def).unwrap_or_default(),
    );
    if let Some(n) = v.query.get("saved") {
        page.notice = Tr { lang: v.lang }.t("rep.saved").replace("{v}", n);
    }
    fill(&st, &v, &mut page, &r.def, r.version).await;
    render(&page, v.lang, v.chose_lang)
}

async fn fill(st: &AppState, v: &Viewer, page: &mut OnePage, r: &Report, version: u32) {
    let tr = Tr { lang: v.lang };
    let code = v.lang.code();
    page.code = r.code.clone();
    page.title = r.name.get(code).to_string();
    page.version = version;
    page.schedule = r
        .schedule
        .as_ref()
        .map(|s| {
            tr.t("rep.next_delivery")
                .replace("{every}", tr.t(&format!("rep.every.{}", s.every)))
                .replace("{hour}", &s.hour.to_string())
                .replace("{format}", &s.format.to_uppercase())
                .replace("{to}", &s.to.join(", "))
        })
        .unwrap_or_default();
    match st.engine.run_report(r, chrono::Utc::now()).await {
        Ok(t) => {
            page.head = t.columns.iter().map(|c| c.get(code).to_string()).collect();
            page.summary = tr
                .t("rep.read")
                .replace("{n}", &t.read.to_string())
                .replace("{m}", &t.rows.len().to_string());
            page.numeric = (0..t.columns.len())
                .map(|i| {
                    !t.rows.is_empty()
                        && t.rows
                            .iter()
                            .all(|r| r.get(i).is_some_and(|v| v.is_number() || v.is_null()))
                })
                .collect();
            page.rows = t.rows.iter().map(|row| cells(row)).collect();
        }
        Err(e) => page.problems.extend(crate::web::forms::said(e, v.lang)),
    }
}

/// `POST /reports/new`.
pub async fn save_new(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    v: Viewer,
    Posted(f): Posted<Vec<(String, String)>>,
) -> Response {
    keep(st, me, v, None, f).await
}

/// `POST /reports/{code}`: saves the posted definition as a new version.
pub async fn save(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    Path(code): Path<String>,
    v: Viewer,
    Posted(f): Posted<Vec<(String, String)>>,
) -> Response {
    keep(st, me, v, Some(code), f).await
}

async fn keep(
    st: AppState,
    me: Principal,
    v: Viewer,
    code: Option<String>,
    pairs: Vec<(String, String)>,
) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    let text = crate::web::forms::posted(&pairs, "definition");
    let refuse = |problems: Vec<String>| {
        let mut page = blank(&v, code.is_none(), text.clone());
        page.code = code.clone().unwrap_or_default();
        page.problems = problems;
        let mut resp = render(&page, v.lang, v.chose_lang);
        *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        resp
    };
    let r: Report = match serde_json::from_str(&text) {
        Ok(r) => r,
        Err(e) => return refuse(vec![format!("definition: {e}")]),
    };
    if code.as_deref().is_some_and(|c| c != r.code) {
        return refuse(vec![format!(
            "code: '{}'",
            code.as_deref().unwrap_or_default()
        )]);
    }
    if code.is_none() && st.engine.report(&r.code).await.is_ok() {
        return refuse(vec![match v.lang {
            Lang::En => format!("code: a code not in use ({} is taken)", r.code),
            Lang::Zh => format!("code: 未被使用的编码（{} 已存在）", r.code),
        }]);
    }
    match st.engine.save_report(&me.user, &r).await {
        Ok(s) => {
            Redirect::to(&format!("/reports/{}?saved={}", s.def.code, s.version)).into_response()
        }
        Err(e) => refuse(crate::web::forms::said(e, v.lang)),
    }
}

/// `GET /reports/{code}/export?format=xlsx|csv|pdf`: the report as a file in the reader's language.
pub async fn export(State(st): State<AppState>, Path(code): Path<String>, v: Viewer) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    let r = match st.engine.report(&code).await {
        Ok(r) => r,
        Err(e) => return crate::web::forms::down(e),
    };
    let table = match st.engine.run_report(&r.def, chrono::Utc::now()).await {
        Ok(t) => t,
        Err(e) => return crate::web::forms::down(e),
    };
    let format = v.query.get("format").map(String::as_str).unwrap_or("xlsx");
    match crate::api::reports::file(&r.def, &table, format, v.lang) {
        Ok((name, mime, bytes)) => (
            [
                (header::CONTENT_TYPE, mime.to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(why) => (StatusCode::BAD_REQUEST, why).into_response(),
    }
}
