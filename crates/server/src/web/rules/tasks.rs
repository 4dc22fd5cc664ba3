//! The task inbox: the caller's open to-dos (soonest due first, the overdue marked) and notices, each done
//! or read with a note; and the navigation's badge with their count.

use askama::Template;
use axum::Extension;
use axum::extract::{Form, Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use std::collections::HashMap;
use suyuan_engine::accounts::Principal;

use crate::AppState;
use crate::web::i18n::Tr;
use crate::web::operations::{ops_down, say, staff_only};
use crate::web::pages::{Chrome, friendly_time, render};
use crate::web::viewer::Viewer;

/// One task as the inbox shows it.
struct Row {
    id: String,
    kind: String,
    title: String,
    subject: String,
    subject_href: String,
    due: String,
    overdue: bool,
    source: String,
    created: String,
    /// Where it is done (a workflow case), instead of the inbox's button.
    link: String,
}

#[derive(Template)]
#[template(path = "tasks.html")]
struct Page {
    chrome: Chrome,
    rows: Vec<Row>,
    notice: String,
    error: String,
}

async fn draw(st: &AppState, v: &Viewer, notice: String, error: String) -> Response {
    let list = match st.engine.inbox(&v.me.user, v.me.role.as_str()).await {
        Ok(l) => l,
        Err(e) => return ops_down(e),
    };
    let now = suyuan_core::time::format_utc_millis(chrono::Utc::now());
    let rows = list
        .into_iter()
        .map(|t| Row {
            overdue: t.due.as_ref().is_some_and(|d| d.as_str() < now.as_str()),
            due: t.due.as_deref().map(friendly_time).unwrap_or_default(),
            subject: t
                .subject
                .as_deref()
                .map(crate::web::quality::short)
                .unwrap_or_default(),
            subject_href: t
                .subject
                .as_deref()
                .map(crate::web::quality::trace_href)
                .unwrap_or_default(),
            created: friendly_time(&t.created_at),
            link: if t.kind == "task" {
                t.link.clone().unwrap_or_default()
            } else {
                String::new()
            },
            source: t.source.trim_start_matches("rule:").to_string(),
            id: t.id,
            kind: t.kind,
            title: t.title,
        })
        .collect();
    let page = Page {
        chrome: v.chrome("tasks"),
        rows,
        notice,
        error,
    };
    render(&page, v.lang, v.chose_lang)
}

/// `GET /tasks`.
pub async fn inbox(State(st): State<AppState>, v: Viewer) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    let tr = Tr { lang: v.lang };
    let notice = match v.param("done") {
        d if d.is_empty() => String::new(),
        d => tr.t("task.done_msg").replace("{title}", &d),
    };
    draw(&st, &v, notice, String::new()).await
}

/// `POST /tasks/{id}`: `note` — done, or read.
pub async fn done(
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
    let mine = match st.engine.task(&id).await {
        Ok(Some(t)) => t,
        Ok(None) => {
            return crate::web::quality::missing(
                tr,
                suyuan_engine::operations::OpsError::NotFound(format!("task {id}")),
            );
        }
        Err(e) => return ops_down(e),
    };
    if !mine.for_user(&me.user, me.role.as_str()) {
        return crate::web::quality::refused(
            draw(&st, &v, String::new(), tr.t("ops.staff_only").into()).await,
        );
    }
    let note = f.get("note").map(|s| s.trim()).unwrap_or("");
    match st.engine.complete_task(&me.user, &id, note).await {
        Ok(t) => Redirect::to(&format!(
            "/tasks?done={}",
            crate::web::quality::enc(&t.title)
        ))
        .into_response(),
        Err(e) => draw(&st, &v, String::new(), say(tr, &e)).await,
    }
}

/// `GET /tasks/badge`: the navigation's count of open tasks (an empty badge when there are none).
pub async fn badge(State(st): State<AppState>, v: Viewer) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    let n = st
        .engine
        .inbox(&v.me.user, v.me.role.as_str())
        .await
        .map(|l| l.len())
        .unwrap_or(0);
    if n == 0 {
        Html(String::from("<span class=\"badge count\" hidden></span>")).into_response()
    } else {
        Html(format!(
            "<span class=\"badge count bad\" id=\"task-count\">{n}</span>"
        ))
        .into_response()
    }
}
