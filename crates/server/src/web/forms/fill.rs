//! Filling in a form: the list of forms, a form's page (scan fields that look the object up and prefill,
//! rows to add, photos and a signature to upload, conditional and calculated fields kept live by the
//! server), and its submission — recorded as the form's event, or shown again with each problem beside
//! its field and nothing recorded.

use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Form as Posted, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Value, json};
use suyuan_engine::accounts::Principal;
use suyuan_engine::forms::{FormError, FormView};
use suyuan_forms::Problem;

use super::render::{Input, inputs, values_of};
use crate::AppState;
use crate::web::i18n::Tr;
use crate::web::operations::{ops_down, say, staff_only, texts_json};
use crate::web::pages::{Chrome, render};
use crate::web::viewer::Viewer;

#[derive(Template)]
#[template(path = "forms.html")]
struct ListPage {
    chrome: Chrome,
    forms: Vec<(FormView, String, usize)>,
    can_design: bool,
}

/// `GET /forms`: every form with its version and submission count.
pub async fn list(State(st): State<AppState>, v: Viewer) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    let (forms, subs) = match (
        st.engine.forms().await,
        st.engine.submissions(None, usize::MAX).await,
    ) {
        (Ok(f), Ok(s)) => (f, s),
        (Err(e), _) => return super::down(e),
        (_, Err(e)) => return ops_down(e.into()),
    };
    let code = v.lang.code();
    let page = ListPage {
        chrome: v.chrome("forms"),
        forms: forms
            .into_iter()
            .map(|f| {
                let n = subs.iter().filter(|s| s.form == f.form.code).count();
                let name = f.form.name.get(code).to_string();
                (f, name, n)
            })
            .collect(),
        can_design: v
            .me
            .allows(suyuan_core::access::Permission::MasterDataWrite),
    };
    render(&page, v.lang, v.chose_lang)
}

#[derive(Template)]
#[template(path = "form_fill.html")]
pub(crate) struct FillPage {
    pub chrome: Chrome,
    pub code: String,
    pub title: String,
    pub description: String,
    pub version: u32,
    pub enabled: bool,
    pub fields: Vec<Input>,
    pub problems: Vec<String>,
    pub notice: String,
    pub request_id: String,
    pub script: String,
    pub texts: String,
    /// The screen the form came from (a station), to go back to once recorded.
    pub back: String,
}

fn problem_lines(problems: &[Problem], tr: Tr) -> Vec<String> {
    problems
        .iter()
        .map(|p| {
            let why = if tr.lang == crate::web::i18n::Lang::En {
                &p.en
            } else {
                &p.zh
            };
            // A top-level field's message names it already; a table cell's says which row.
            if p.field.contains('/') {
                format!("{}: {why}", p.field)
            } else {
                why.clone()
            }
        })
        .collect()
}

pub(crate) fn fill_page(
    v: &Viewer,
    fv: &FormView,
    values: &Value,
    problems: &[Problem],
    notice: String,
) -> FillPage {
    let code = v.lang.code();
    let tr = Tr { lang: v.lang };
    FillPage {
        chrome: v.chrome("forms"),
        code: fv.form.code.clone(),
        title: fv.form.name.get(code).to_string(),
        description: fv
            .form
            .description
            .as_ref()
            .map(|d| d.get(code).to_string())
            .unwrap_or_default(),
        version: fv.version,
        enabled: fv.form.enabled,
        fields: inputs(&fv.form.fields, values, problems, v.lang, ""),
        problems: problem_lines(problems, tr),
        notice,
        request_id: format!(
            "{}-{}",
            chrono::Utc::now().timestamp_millis(),
            std::process::id()
        ),
        script: crate::web::assets::url("js/forms.js"),
        texts: texts_json(v.lang, &["form."]),
        back: String::new(),
    }
}

/// `GET /forms/{code}`: the form to fill in (its latest version).
pub async fn page(State(st): State<AppState>, Path(code): Path<String>, v: Viewer) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    let fv = match st.engine.form(&code, None).await {
        Ok(f) => f,
        Err(e) => return super::down(e),
    };
    let page = fill_page(&v, &fv, &Value::Null, &[], String::new());
    render(&page, v.lang, v.chose_lang)
}

/// `POST /forms/{code}`: records the submission, or shows the form again with its problems.
pub async fn submit(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    Path(code): Path<String>,
    v: Viewer,
    Posted(pairs): Posted<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    let fv = match st.engine.form(&code, None).await {
        Ok(f) => f,
        Err(e) => return super::down(e),
    };
    let values = values_of(&fv.form, &pairs);
    // A screen carrying a form (a station) asks to come back to itself.
    let back = pairs
        .iter()
        .find(|(k, _)| k == "_return")
        .map(|(_, r)| r.clone())
        .filter(|r| r.starts_with('/') && !r.starts_with("//") && !r.contains(['#', '\\']));
    let request = pairs
        .iter()
        .find(|(k, _)| k == "_request")
        .map(|(_, r)| format!("web/{}/{r}", me.user));
    match st
        .engine
        .submit_form(&me.user, &code, &values, request.as_deref())
        .await
    {
        Ok(s) => match back.as_deref() {
            Some(r) => {
                let join = if r.contains('?') { '&' } else { '?' };
                Redirect::to(&format!("{r}{join}recorded={}", s.id)).into_response()
            }
            None => Redirect::to(&format!("/forms/submissions/{}?done=1", s.id)).into_response(),
        },
        Err(FormError::Invalid(problems)) => {
            let mut page = fill_page(&v, &fv, &values, &problems, String::new());
            if let Some((_, r)) = pairs.iter().find(|(k, _)| k == "_request") {
                page.request_id = r.clone();
            }
            page.back = back.clone().unwrap_or_default();
            let mut resp = render(&page, v.lang, v.chose_lang);
            *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            resp
        }
        Err(FormError::Ops(e)) => {
            let said = say(Tr { lang: v.lang }, &e);
            let problems = vec![Problem::new("form", said.clone(), said)];
            let page = fill_page(&v, &fv, &values, &problems, String::new());
            let mut resp = render(&page, v.lang, v.chose_lang);
            *resp.status_mut() = StatusCode::CONFLICT;
            resp
        }
    }
}

/// `POST /forms/{code}/live`: `{values}` — which fields the values so far hide and what the calculated
/// fields come to, for the page's script.
pub async fn live(
    State(st): State<AppState>,
    Path(code): Path<String>,
    v: Viewer,
    body: Bytes,
) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    let values: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let fv = match st.engine.form(&code, None).await {
        Ok(f) => f,
        Err(e) => return super::down(e),
    };
    let (hidden, calculated) = suyuan_forms::live::live(&fv.form, &values);
    axum::Json(json!({"hidden": hidden, "calculated": calculated})).into_response()
}
