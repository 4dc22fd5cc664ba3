//! The form designer: fields added from a palette, reordered by dragging, edited in cards, the event
//! template beside them, and a live preview at phone and desktop size drawn by the same code that draws
//! the form to fill in. Saving makes a new version (every problem listed, nothing saved while one
//! remains); the versions are listed with when they were saved.

use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Form as Posted, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Value, json};
use suyuan_engine::accounts::Principal;
use suyuan_engine::forms::FormView;
use suyuan_forms::Form;

use super::render::{Input, inputs};
use crate::AppState;
use crate::web::i18n::{Lang, Tr};
use crate::web::operations::{staff_only, texts_json};
use crate::web::pages::{Chrome, friendly_time, render};
use crate::web::viewer::Viewer;

#[derive(Template)]
#[template(path = "form_design.html")]
struct DesignPage {
    chrome: Chrome,
    is_new: bool,
    code: String,
    version: u32,
    definition: String,
    problems: Vec<String>,
    notice: String,
    versions: Vec<(u32, String)>,
    script: String,
    texts: String,
}

/// What a new form starts as: one scan field for the object and an observation event.
fn starter() -> Value {
    json!({
        "code": "", "name": {"zh": "", "en": ""}, "enabled": true,
        "fields": [{"key": "object", "label": {"zh": "扫描对象", "en": "Scan the item"}, "type": "scan",
                    "role": "object", "required": true}],
        "event": {"type": "ObjectEvent", "action": "OBSERVE", "biz_step": "inspecting"}
    })
}

fn design_page(
    v: &Viewer,
    is_new: bool,
    definition: String,
    version: u32,
    versions: Vec<FormView>,
) -> DesignPage {
    let code = serde_json::from_str::<Value>(&definition)
        .ok()
        .and_then(|d| d.get("code").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_default();
    DesignPage {
        chrome: v.chrome("forms"),
        is_new,
        code,
        version,
        definition,
        problems: Vec::new(),
        notice: String::new(),
        versions: versions
            .into_iter()
            .rev()
            .map(|f| (f.version, friendly_time(&f.saved_at)))
            .collect(),
        script: crate::web::assets::url("js/form_designer.js"),
        texts: texts_json(v.lang, &["form."]),
    }
}

/// `GET /forms/new`: the designer with a starting form.
pub async fn new(v: Viewer) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    let text = serde_json::to_string_pretty(&starter()).unwrap_or_default();
    let page = design_page(&v, true, text, 0, Vec::new());
    render(&page, v.lang, v.chose_lang)
}

/// `GET /forms/{code}/design`: the designer with the latest version.
pub async fn edit(State(st): State<AppState>, Path(code): Path<String>, v: Viewer) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    let (fv, versions) = match (
        st.engine.form(&code, None).await,
        st.engine.form_versions(&code).await,
    ) {
        (Ok(f), Ok(vs)) => (f, vs),
        (Err(e), _) | (_, Err(e)) => return super::down(e),
    };
    let text = serde_json::to_string_pretty(&fv.form).unwrap_or_default();
    let mut page = design_page(&v, false, text, fv.version, versions);
    if let Some(n) = v.query.get("saved") {
        page.notice = Tr { lang: v.lang }.t("form.saved").replace("{v}", n);
    }
    render(&page, v.lang, v.chose_lang)
}

/// `POST /forms/new`.
pub async fn save_new(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    v: Viewer,
    Posted(f): Posted<Vec<(String, String)>>,
) -> Response {
    save(st, me, v, true, f).await
}

/// `POST /forms/{code}/design`: saves the posted definition as a new version.
pub async fn save_edit(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    v: Viewer,
    Posted(f): Posted<Vec<(String, String)>>,
) -> Response {
    save(st, me, v, false, f).await
}

async fn save(
    st: AppState,
    me: Principal,
    v: Viewer,
    is_new: bool,
    pairs: Vec<(String, String)>,
) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    let tr = Tr { lang: v.lang };
    let text = super::posted(&pairs, "definition");
    let refuse = |problems: Vec<String>, versions: Vec<FormView>| {
        let mut page = design_page(&v, is_new, text.clone(), 0, versions);
        page.problems = problems;
        let mut resp = render(&page, v.lang, v.chose_lang);
        *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        resp
    };
    let form: Form = match serde_json::from_str(&text) {
        Ok(f) => f,
        Err(e) => {
            return refuse(
                vec![tr.t("form.bad_json").replace("{why}", &e.to_string())],
                Vec::new(),
            );
        }
    };
    if is_new && st.engine.form(&form.code, None).await.is_ok() {
        let taken = match v.lang {
            Lang::En => format!("code: a code not in use ({} is taken)", form.code),
            Lang::Zh => format!("code: 未被使用的编码（{} 已存在）", form.code),
        };
        return refuse(vec![taken], Vec::new());
    }
    match st.engine.save_form(&me.user, &form).await {
        Ok(saved) => Redirect::to(&format!(
            "/forms/{}/design?saved={}",
            saved.form.code, saved.version
        ))
        .into_response(),
        Err(e) => {
            let versions = st
                .engine
                .form_versions(&form.code)
                .await
                .unwrap_or_default();
            refuse(super::said(e, v.lang), versions)
        }
    }
}

#[derive(Template)]
#[template(path = "form_preview.html")]
struct Preview {
    chrome: Chrome,
    title: String,
    fields: Vec<Input>,
    problem: String,
}

/// `POST /forms/preview`: a definition (JSON body) drawn as the form to fill in, for the designer.
pub async fn preview(v: Viewer, body: Bytes) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    let tr = Tr { lang: v.lang };
    let (title, fields, problem) = match serde_json::from_slice::<Form>(&body) {
        Ok(f) => (
            f.name.get(v.lang.code()).to_string(),
            inputs(&f.fields, &Value::Null, &[], v.lang, ""),
            f.problems()
                .iter()
                .map(|p| {
                    let why = if v.lang == Lang::En { &p.en } else { &p.zh };
                    format!("{}: {why}", p.field)
                })
                .collect::<Vec<_>>()
                .join("；"),
        ),
        Err(e) => (
            String::new(),
            Vec::new(),
            tr.t("form.bad_json").replace("{why}", &e.to_string()),
        ),
    };
    render(
        &Preview {
            chrome: v.chrome("forms"),
            title,
            fields,
            problem,
        },
        v.lang,
        false,
    )
}
