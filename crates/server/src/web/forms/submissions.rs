//! Submissions on screen: a form's submissions as a table over its current fields, and one submission
//! drawn with the form version it was made with — whatever the form has become since — with its event.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use suyuan_engine::forms::Submission;

use super::render::{Line, lines};
use crate::AppState;
use crate::web::i18n::Tr;
use crate::web::operations::{ops_down, staff_only};
use crate::web::pages::{Chrome, friendly_time, render};
use crate::web::viewer::Viewer;

#[derive(Template)]
#[template(path = "form_submissions.html")]
struct ListPage {
    chrome: Chrome,
    code: String,
    title: String,
    version: u32,
    head: Vec<String>,
    rows: Vec<(Submission, String, Vec<String>)>,
}

/// `GET /forms/{code}/submissions`: the newest 500, a column per top-level field of the current version.
pub async fn list(State(st): State<AppState>, Path(code): Path<String>, v: Viewer) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    let fv = match st.engine.form(&code, None).await {
        Ok(f) => f,
        Err(e) => return super::down(e),
    };
    let subs = match st.engine.submissions(Some(&code), 500).await {
        Ok(s) => s,
        Err(e) => return ops_down(e.into()),
    };
    let tr = Tr { lang: v.lang };
    let lang = v.lang.code();
    let shown: Vec<_> = fv
        .form
        .fields
        .iter()
        .filter(|f| !matches!(f.kind.name(), "table" | "photo" | "signature"))
        .take(6)
        .collect();
    let page = ListPage {
        chrome: v.chrome("forms"),
        code: code.clone(),
        title: fv.form.name.get(lang).to_string(),
        version: fv.version,
        head: shown
            .iter()
            .map(|f| f.label.get(lang).to_string())
            .collect(),
        rows: subs
            .into_iter()
            .map(|s| {
                let cells = shown
                    .iter()
                    .map(|f| {
                        let one = suyuan_forms::Form {
                            fields: vec![(*f).clone()],
                            ..fv.form.clone()
                        };
                        lines(&one, &s.values, tr)
                            .into_iter()
                            .next()
                            .map(|l| l.text)
                            .unwrap_or_default()
                    })
                    .collect();
                let at = friendly_time(&s.at);
                (s, at, cells)
            })
            .collect(),
    };
    render(&page, v.lang, v.chose_lang)
}

#[derive(Template)]
#[template(path = "form_submission.html")]
struct OnePage {
    chrome: Chrome,
    sub: Submission,
    title: String,
    at: String,
    current: u32,
    lines: Vec<Line>,
    done: bool,
    event_link: String,
}

/// `GET /forms/submissions/{id}`: a submission with its own form version.
pub async fn one(State(st): State<AppState>, Path(id): Path<String>, v: Viewer) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    let tr = Tr { lang: v.lang };
    let sub = match st.engine.submission(&id).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            return super::down(suyuan_engine::forms::FormError::Ops(
                suyuan_engine::operations::OpsError::NotFound(format!("submission {id}")),
            ));
        }
        Err(e) => return ops_down(e.into()),
    };
    let (fv, latest) = match (
        st.engine.form(&sub.form, Some(sub.version)).await,
        st.engine.form(&sub.form, None).await,
    ) {
        (Ok(f), Ok(l)) => (f, l.version),
        (Err(e), _) | (_, Err(e)) => return super::down(e),
    };
    let page = OnePage {
        chrome: v.chrome("forms"),
        title: fv.form.name.get(v.lang.code()).to_string(),
        at: friendly_time(&sub.at),
        current: latest,
        lines: lines(&fv.form, &sub.values, tr),
        done: v.query.contains_key("done"),
        event_link: format!(
            "/events/view?id={}",
            crate::web::quality::enc(&sub.event_id)
        ),
        sub,
    };
    render(&page, v.lang, v.chose_lang)
}
