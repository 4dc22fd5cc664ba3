//! Nonconformance reports: the board by state (raised, under review, awaiting approval, disposed,
//! closed) and one report with its history and the next steps the quality manager may take.

use askama::Template;
use axum::Extension;
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::HashMap;
use suyuan_engine::accounts::Principal;
use suyuan_engine::quality::Ncr;
use suyuan_engine::quality::ncr::NcrRequest;
use suyuan_quality::ncr::NcrState;

use super::{decides, short, tabs, trace_href, word};
use crate::AppState;
use crate::web::i18n::Tr;
use crate::web::operations::{ops_down, say, staff_only};
use crate::web::pages::{Chrome, friendly_time, render};
use crate::web::viewer::Viewer;

/// Closed reports the board shows at most.
const CLOSED_SHOWN: usize = 20;

/// A report's card on the board.
struct Card {
    id: String,
    object: String,
    summary: String,
    age: String,
    disposition: String,
}

#[derive(Template)]
#[template(path = "quality_ncrs.html")]
struct BoardPage {
    chrome: Chrome,
    tabs: Vec<(&'static str, String, bool)>,
    lanes: Vec<(String, String, usize, Vec<Card>)>,
}

fn age(tr: Tr, at: &str) -> String {
    let days = chrono::DateTime::parse_from_rfc3339(at)
        .map(|t| (chrono::Utc::now() - t.with_timezone(&chrono::Utc)).num_days())
        .unwrap_or(0);
    tr.t("q.age_days").replace("{n}", &days.max(0).to_string())
}

/// `GET /quality/ncrs`: the board.
pub async fn board(State(st): State<AppState>, v: Viewer) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    let tr = Tr { lang: v.lang };
    let all = match st.engine.ncrs().await {
        Ok(l) => l,
        Err(e) => return ops_down(e),
    };
    let lanes = NcrState::ALL
        .iter()
        .map(|s| {
            let of: Vec<&Ncr> = all.iter().filter(|n| n.state == *s).collect();
            let shown = if *s == NcrState::Closed {
                CLOSED_SHOWN
            } else {
                usize::MAX
            };
            (
                s.as_str().to_string(),
                tr.t(&format!("q.ncr.state.{}", s.as_str())).to_string(),
                of.len(),
                of.iter()
                    .take(shown)
                    .map(|n| Card {
                        id: n.id.clone(),
                        object: short(&n.object),
                        summary: n.summary.clone(),
                        age: age(tr, &n.raised_at),
                        disposition: n
                            .disposition
                            .map(|d| word(tr, "q.disp", d.as_str()))
                            .unwrap_or_default(),
                    })
                    .collect(),
            )
        })
        .collect();
    let page = BoardPage {
        chrome: v.chrome("quality"),
        tabs: tabs(tr, "ncrs"),
        lanes,
    };
    render(&page, v.lang, v.chose_lang)
}

#[derive(Template)]
#[template(path = "quality_ncr.html")]
struct ReportPage {
    chrome: Chrome,
    tabs: Vec<(&'static str, String, bool)>,
    n: Ncr,
    state: String,
    disposition: String,
    object_short: String,
    object_href: String,
    report_href: String,
    raised: String,
    history: Vec<(String, String, String, String, String)>,
    actions: Vec<(String, String)>,
    dispositions: Vec<(String, String)>,
    decides: bool,
    error: String,
}

/// The steps that follow from a report's state.
fn next_steps(state: NcrState) -> &'static [&'static str] {
    match state {
        NcrState::Raised => &["review"],
        NcrState::UnderReview => &["dispose"],
        NcrState::AwaitingApproval => &["approve", "reject"],
        NcrState::Disposed => &["close"],
        NcrState::Closed => &[],
    }
}

async fn draw(st: &AppState, v: &Viewer, id: &str, error: String) -> Response {
    let tr = Tr { lang: v.lang };
    let n = match st.engine.ncr(id).await {
        Ok(n) => n,
        Err(e) => return super::missing(tr, e),
    };
    let lot = if n.object.contains("/10/") || n.object.contains(":lot:") {
        n.object.clone()
    } else {
        String::new()
    };
    let page = ReportPage {
        chrome: v.chrome("quality"),
        tabs: tabs(tr, "ncrs"),
        state: tr
            .t(&format!("q.ncr.state.{}", n.state.as_str()))
            .to_string(),
        disposition: n
            .disposition
            .map(|d| word(tr, "q.disp", d.as_str()))
            .unwrap_or_default(),
        object_short: short(&n.object),
        object_href: trace_href(&n.object),
        report_href: if lot.is_empty() {
            String::new()
        } else {
            format!("/quality/report?lot={}", super::enc(&lot))
        },
        raised: friendly_time(&n.raised_at),
        history: n
            .history
            .iter()
            .map(|h| {
                (
                    friendly_time(&h.at),
                    word(tr, "q.ncr.step", &h.step),
                    word(tr, "q.ncr.state", &h.state),
                    h.by.clone(),
                    h.why.clone(),
                )
            })
            .collect(),
        actions: next_steps(n.state)
            .iter()
            .map(|a| (a.to_string(), word(tr, "q.ncr.step", a)))
            .collect(),
        dispositions: ["rework", "scrap", "return_to_supplier", "concession"]
            .iter()
            .map(|d| (d.to_string(), word(tr, "q.disp", d)))
            .collect(),
        decides: decides(&v.me),
        error,
        n,
    };
    render(&page, v.lang, v.chose_lang)
}

/// `GET /quality/ncrs/{id}`.
pub async fn show(State(st): State<AppState>, Path(id): Path<String>, v: Viewer) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    draw(&st, &v, &id, String::new()).await
}

/// `POST /quality/ncrs/{id}`: `action`, `disposition`, `why`.
pub async fn step(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    Path(id): Path<String>,
    v: Viewer,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    let tr = Tr { lang: v.lang };
    if !decides(&me) {
        return super::refused(draw(&st, &v, &id, tr.t("q.decider_only").to_string()).await);
    }
    let g = |k: &str| f.get(k).map(|x| x.trim().to_string()).unwrap_or_default();
    let req = NcrRequest {
        action: g("action"),
        disposition: Some(g("disposition")).filter(|d| !d.is_empty()),
        why: g("why"),
    };
    match st.engine.ncr_step(&me.user, &id, &req).await {
        Ok(_) => Redirect::to(&format!("/quality/ncrs/{}", super::enc(&id))).into_response(),
        Err(e) => draw(&st, &v, &id, say(tr, &e)).await,
    }
}
