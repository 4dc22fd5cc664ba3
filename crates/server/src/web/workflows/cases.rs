//! A case on screen: its state, who it is with and until when, its data and every step it took; and the
//! transitions its state offers — each with its note, its data and, when it requires one, its form's
//! fields — taken by the state's assignee. A transition's form is submitted first (its own event), then
//! the case moves with that submission.

use askama::Template;
use axum::Extension;
use axum::extract::{Form as Posted, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::Value;
use suyuan_engine::accounts::Principal;
use suyuan_engine::forms::FormError;
use suyuan_engine::workflows::WorkflowView;
use suyuan_workflows::Case;

use super::definitions::data_lines;
use crate::AppState;
use crate::web::forms::render::{Input, inputs, values_of};
use crate::web::i18n::Tr;
use crate::web::operations::{ops_down, staff_only};
use crate::web::pages::{Chrome, friendly_time, render};
use crate::web::viewer::Viewer;

/// A transition as the case page offers it.
struct Offer {
    key: String,
    label: String,
    to: String,
    allowed: bool,
    why_not: String,
    note_required: bool,
    fields: Vec<Input>,
}

/// One step of the history as shown.
struct StepRow {
    what: String,
    to: String,
    by: String,
    at: String,
    note: String,
    submission: String,
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    chrome: Chrome,
    case: Case,
    workflow: String,
    version: u32,
    state: String,
    assignee: String,
    due: String,
    overdue: bool,
    data: Vec<(String, String)>,
    history: Vec<StepRow>,
    offers: Vec<Offer>,
    mine: bool,
    notice: String,
    problems: Vec<String>,
}

async fn page(
    st: &AppState,
    v: &Viewer,
    case: Case,
    notice: String,
    problems: Vec<String>,
) -> Response {
    let wv: WorkflowView = match st.engine.workflow(&case.workflow, Some(case.version)).await {
        Ok(w) => w,
        Err(e) => return super::down(e),
    };
    let mine = match st
        .engine
        .may_move(&case, &v.me.user, v.me.role.as_str())
        .await
    {
        Ok(m) => m,
        Err(e) => return super::down(e),
    };
    let code = v.lang.code();
    let tr = Tr { lang: v.lang };
    let w = &wv.workflow;
    let label = |k: &str| {
        w.state(k)
            .map(|s| s.label.get(code).to_string())
            .unwrap_or_else(|| k.to_string())
    };
    let mut offers = Vec::new();
    for (t, ok) in case.available(w) {
        let fields = match &t.form {
            Some(f) => match st.engine.form(f, None).await {
                Ok(fv) => inputs(
                    &fv.form.fields,
                    &Value::Null,
                    &[],
                    v.lang,
                    &format!("{}__", t.key),
                ),
                Err(e) => return super::down(e),
            },
            None => Vec::new(),
        };
        offers.push(Offer {
            key: t.key.clone(),
            label: t.label.get(code).to_string(),
            to: label(&t.to),
            allowed: ok.as_ref().is_ok_and(|b| *b),
            why_not: match &ok {
                Ok(true) => String::new(),
                Ok(false) => tr.t("wf.blocked").replace("{guard}", &t.guard),
                Err(e) => e.clone(),
            },
            note_required: t.note_required,
            fields,
        });
    }
    let now = suyuan_core::time::format_utc_millis(chrono::Utc::now());
    let state = w.state(&case.state);
    let p = CasePage {
        chrome: v.chrome("workflows"),
        workflow: w.name.get(code).to_string(),
        version: wv.version,
        state: label(&case.state),
        assignee: state
            .map(|s| super::who(tr, s.role.as_deref(), s.user.as_deref()))
            .unwrap_or_default(),
        due: case.due.as_deref().map(friendly_time).unwrap_or_default(),
        overdue: !case.ended && case.due.as_deref().is_some_and(|d| d < now.as_str()),
        data: case
            .data
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, x)| {
                        let shown = match x {
                            Value::String(s) => s.clone(),
                            Value::Number(n) => n
                                .as_f64()
                                .map(crate::web::operations::num)
                                .unwrap_or_default(),
                            other => other.to_string(),
                        };
                        (k.clone(), shown)
                    })
                    .collect()
            })
            .unwrap_or_default(),
        history: case
            .history
            .iter()
            .map(|s| StepRow {
                what: s
                    .transition
                    .as_deref()
                    .and_then(|k| w.transition(k))
                    .map(|t| t.label.get(code).to_string())
                    .unwrap_or_else(|| tr.t("wf.started").to_string()),
                to: label(&s.to),
                by: s.by.clone(),
                at: friendly_time(&s.at),
                note: s.note.clone(),
                submission: s.submission.clone().unwrap_or_default(),
            })
            .collect(),
        offers,
        mine,
        notice,
        problems,
        case,
    };
    render(&p, v.lang, v.chose_lang)
}

/// `GET /cases/{id}`.
pub async fn show(State(st): State<AppState>, Path(id): Path<String>, v: Viewer) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    match st.engine.case(&id).await {
        Ok(Some(c)) => {
            let notice = match v.query.get("moved") {
                Some(s) => Tr { lang: v.lang }.t("wf.moved").replace("{state}", s),
                None => String::new(),
            };
            page(&st, &v, c, notice, Vec::new()).await
        }
        Ok(None) => (StatusCode::NOT_FOUND, format!("case {id}?")).into_response(),
        Err(e) => ops_down(e.into()),
    }
}

/// `POST /cases/{id}`: `transition`, `note`, `data` and the transition form's fields (`{transition}__…`).
pub async fn take(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    Path(id): Path<String>,
    v: Viewer,
    Posted(pairs): Posted<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    let case = match st.engine.case(&id).await {
        Ok(Some(c)) => c,
        Ok(None) => return (StatusCode::NOT_FOUND, format!("case {id}?")).into_response(),
        Err(e) => return ops_down(e.into()),
    };
    let get = |k: &str| crate::web::forms::posted(&pairs, k);
    let again = |problems: Vec<String>, case: Case| {
        let (st, v) = (st.clone(), &v);
        async move {
            let mut r = page(&st, v, case, String::new(), problems).await;
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
    };
    match st.engine.may_move(&case, &me.user, me.role.as_str()).await {
        Ok(true) => {}
        Ok(false) => {
            let mut r = page(&st, &v, case, String::new(), Vec::new()).await;
            *r.status_mut() = StatusCode::FORBIDDEN;
            return r;
        }
        Err(e) => return super::down(e),
    }
    let transition = get("transition");
    let wv = match st.engine.workflow(&case.workflow, Some(case.version)).await {
        Ok(w) => w,
        Err(e) => return super::down(e),
    };
    let data = data_lines(&get("data"));
    // The transition's form is submitted only when the move itself would be taken.
    let mut trial = case.clone();
    let probe = trial.apply(
        &wv.workflow,
        suyuan_workflows::Move {
            transition: &transition,
            by: &me.user,
            at: chrono::Utc::now(),
            data: data.clone(),
            note: &get("note"),
            submission: Some(String::new()),
        },
    );
    if let Err(p) = probe {
        return again(
            crate::web::forms::said(FormError::Invalid(vec![p]), v.lang),
            case,
        )
        .await;
    }
    let mut submission = None;
    if let Some(code) = wv
        .workflow
        .transition(&transition)
        .and_then(|t| t.form.clone())
    {
        let fv = match st.engine.form(&code, None).await {
            Ok(f) => f,
            Err(e) => return super::down(e),
        };
        let prefix = format!("{transition}__");
        let own: Vec<(String, String)> = pairs
            .iter()
            .filter_map(|(k, x)| Some((k.strip_prefix(&prefix)?.to_string(), x.clone())))
            .collect();
        let values = values_of(&fv.form, &own);
        let request = format!("case/{id}/{}/{transition}", case.history.len());
        match st
            .engine
            .submit_form(&me.user, &code, &values, Some(&request))
            .await
        {
            Ok(s) => submission = Some(s.id),
            Err(e) => return again(crate::web::forms::said(e, v.lang), case).await,
        }
    }
    match st
        .engine
        .move_case(
            &me.user,
            &id,
            &transition,
            data,
            &get("note"),
            submission,
            chrono::Utc::now(),
        )
        .await
    {
        Ok(c) => {
            let state = wv
                .workflow
                .state(&c.state)
                .map(|s| s.label.get(v.lang.code()).to_string())
                .unwrap_or(c.state);
            Redirect::to(&format!(
                "/cases/{id}?moved={}",
                crate::web::quality::enc(&state)
            ))
            .into_response()
        }
        Err(e) => again(crate::web::forms::said(e, v.lang), case).await,
    }
}
