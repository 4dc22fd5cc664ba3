//! The dashboard designer: widgets as cards in the dashboard's grid, dragged to their place, each over a
//! metric or a report with its chart, title and width; saving makes a new version (the home page's too —
//! the built-in dashboard is a definition like any other).

use askama::Template;
use axum::Extension;
use axum::extract::{Form as Posted, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;
use suyuan_engine::accounts::Principal;
use suyuan_reports::Dashboard;

use crate::AppState;
use crate::web::i18n::{Lang, Tr};
use crate::web::operations::{ops_down, staff_only, texts_json};
use crate::web::pages::{Chrome, render};
use crate::web::viewer::Viewer;

#[derive(Template)]
#[template(path = "dashboard_design.html")]
struct DesignPage {
    chrome: Chrome,
    is_new: bool,
    code: String,
    version: u32,
    definition: String,
    sources: String,
    problems: Vec<String>,
    notice: String,
    script: String,
    texts: String,
}

/// The metrics and reports a widget may show, for the page's script: `[[value, label], …]`.
async fn sources(st: &AppState, lang: Lang) -> Result<String, suyuan_store::StoreError> {
    let tr = Tr { lang };
    let mut out: Vec<(String, String)> = st
        .engine
        .metric_names()
        .into_iter()
        .map(|m| {
            let title = match tr.t(&format!("dash.{m}")) {
                "?" => m.to_string(),
                t => format!("{t} ({m})"),
            };
            (format!("metric:{m}"), title)
        })
        .collect();
    for r in st.engine.reports().await? {
        out.push((
            format!("report:{}", r.def.code),
            format!("{} · {}", tr.t("rep.reports"), r.def.name.get(lang.code())),
        ));
    }
    Ok(json!(out).to_string())
}

async fn page(
    st: &AppState,
    v: &Viewer,
    is_new: bool,
    code: &str,
    definition: String,
    version: u32,
) -> Result<DesignPage, suyuan_store::StoreError> {
    Ok(DesignPage {
        chrome: v.chrome("reports"),
        is_new,
        code: code.to_string(),
        version,
        definition,
        sources: sources(st, v.lang).await?,
        problems: Vec::new(),
        notice: String::new(),
        script: crate::web::assets::url("js/dashboard_designer.js"),
        texts: texts_json(v.lang, &["rep."]),
    })
}

/// `GET /dashboards/new`.
pub async fn new(State(st): State<AppState>, v: Viewer) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    let starter = json!({"code": "", "name": {"zh": "", "en": ""}, "widgets": [
        {"title": {"zh": "一次合格率", "en": "First-pass yield"}, "metric": "quality_first_pass", "chart": "bars"}]});
    match page(
        &st,
        &v,
        true,
        "",
        serde_json::to_string_pretty(&starter).unwrap_or_default(),
        0,
    )
    .await
    {
        Ok(p) => render(&p, v.lang, v.chose_lang),
        Err(e) => ops_down(e.into()),
    }
}

/// `GET /dashboards/{code}/design` (`home`: the home page, built-in until saved).
pub async fn edit(State(st): State<AppState>, Path(code): Path<String>, v: Viewer) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    let b = match crate::web::dashboard::board(&st, &code).await {
        Ok(Some(b)) => b,
        Ok(None) => return (StatusCode::NOT_FOUND, format!("dashboard {code}?")).into_response(),
        Err(e) => return ops_down(e.into()),
    };
    let text = serde_json::to_string_pretty(&b.def).unwrap_or_default();
    match page(&st, &v, false, &code, text, b.version).await {
        Ok(mut p) => {
            if let Some(n) = v.query.get("saved") {
                p.notice = Tr { lang: v.lang }.t("rep.saved").replace("{v}", n);
            }
            render(&p, v.lang, v.chose_lang)
        }
        Err(e) => ops_down(e.into()),
    }
}

/// `POST /dashboards/new`.
pub async fn save_new(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    v: Viewer,
    Posted(f): Posted<Vec<(String, String)>>,
) -> Response {
    keep(st, me, v, None, f).await
}

/// `POST /dashboards/{code}/design`: saves the posted definition as a new version.
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
    let problems: Vec<String> = match serde_json::from_str::<Dashboard>(&text) {
        Err(e) => vec![format!("definition: {e}")],
        Ok(d) if code.as_deref().is_some_and(|c| c != d.code) => {
            vec![format!("code: '{}'", code.as_deref().unwrap_or_default())]
        }
        Ok(d) => match st.engine.save_dashboard(&me.user, &d).await {
            Ok(s) => {
                return Redirect::to(&format!(
                    "/dashboards/{}/design?saved={}",
                    s.def.code, s.version
                ))
                .into_response();
            }
            Err(e) => crate::web::forms::said(e, v.lang),
        },
    };
    let code = code.unwrap_or_default();
    match page(&st, &v, code.is_empty(), &code, text, 0).await {
        Ok(mut p) => {
            p.problems = problems;
            let mut resp = render(&p, v.lang, v.chose_lang);
            *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            resp
        }
        Err(e) => ops_down(e.into()),
    }
}
