//! Forms on screen: the list of forms, filling one in ([`fill`]), the designer with its live preview
//! ([`designer`]), and the submissions, each shown with its own form version ([`submissions`]). They read
//! and write only through the engine's form commands; [`render`] draws fields for all of them.

pub mod designer;
pub mod fill;
pub mod render;
pub mod submissions;
pub mod texts;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use suyuan_engine::forms::FormError;
use suyuan_engine::operations::OpsError;

/// The answer when a form or submission is missing (404) or the store cannot serve it.
pub(crate) fn down(e: FormError) -> Response {
    match e {
        FormError::Ops(OpsError::NotFound(what)) => {
            (StatusCode::NOT_FOUND, format!("{what}?")).into_response()
        }
        FormError::Ops(e) => crate::web::operations::ops_down(e),
        FormError::Invalid(p) => (
            StatusCode::BAD_REQUEST,
            p.into_iter()
                .map(|p| format!("{}: {}", p.field, p.en))
                .collect::<Vec<_>>()
                .join("; "),
        )
            .into_response(),
    }
}

/// A refusal of the no-code engines as a person reads it: each problem with its field, in their
/// language (anything else as the operations screens say it).
pub(crate) fn said(e: FormError, lang: crate::web::i18n::Lang) -> Vec<String> {
    match e {
        FormError::Invalid(p) => p
            .into_iter()
            .map(|p| {
                let why = if lang == crate::web::i18n::Lang::En {
                    p.en
                } else {
                    p.zh
                };
                format!("{}: {why}", p.field)
            })
            .collect(),
        FormError::Ops(e) => vec![crate::web::operations::say(
            crate::web::i18n::Tr { lang },
            &e,
        )],
    }
}

/// The posted field `name` (empty when it was not sent).
pub(crate) fn posted(pairs: &[(String, String)], name: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// A form another screen carries (a station's, a warehouse location's): the plant's own fields offered
/// below the screen's own, posted to the form and coming back to the screen once recorded.
pub(crate) struct OwnForm {
    /// The form's code.
    pub code: String,
    /// Its title in the reader's language.
    pub title: String,
    /// Its fields.
    pub fields: Vec<render::Input>,
    /// The screen to come back to.
    pub back: String,
    /// What the last submission from this screen recorded (`?recorded=`).
    pub recorded: String,
    /// Makes a resubmitted form record once.
    pub request_id: String,
    /// The messages and the script of the fields.
    pub texts: String,
    /// The forms script.
    pub script: String,
}

/// The form `code` (a location record's `form`) as screen `back` carries it, if it names one that exists.
pub(crate) async fn own_form(
    st: &crate::AppState,
    code: Option<&str>,
    back: String,
    v: &crate::web::viewer::Viewer,
) -> Option<OwnForm> {
    let code = code.filter(|c| !c.trim().is_empty())?;
    match st.engine.form(code, None).await {
        Ok(fv) => Some(OwnForm {
            code: code.to_string(),
            title: fv.form.name.get(v.lang.code()).to_string(),
            fields: render::inputs(&fv.form.fields, &serde_json::Value::Null, &[], v.lang, ""),
            back,
            recorded: v.query.get("recorded").cloned().unwrap_or_default(),
            request_id: format!(
                "{}-{}",
                chrono::Utc::now().timestamp_millis(),
                std::process::id()
            ),
            texts: crate::web::operations::texts_json(v.lang, &["form."]),
            script: crate::web::assets::url("js/forms.js"),
        }),
        Err(e) => {
            tracing::warn!(form = %code, error = %e, "a screen names a form that cannot be read");
            None
        }
    }
}

/// The routes of the forms screens, each with the permission it needs.
pub(crate) fn routes() -> Vec<crate::routes::Route> {
    use crate::routes::{get, post};
    use suyuan_core::access::Permission as P;
    vec![
        get("/forms", P::EventsRead, fill::list),
        get("/forms/new", P::MasterDataWrite, designer::new),
        post("/forms/new", P::MasterDataWrite, designer::save_new),
        post("/forms/preview", P::MasterDataWrite, designer::preview),
        get("/forms/submissions/{id}", P::EventsRead, submissions::one),
        get("/forms/{code}", P::EventsWrite, fill::page),
        post("/forms/{code}", P::EventsWrite, fill::submit),
        post("/forms/{code}/live", P::EventsWrite, fill::live),
        get("/forms/{code}/design", P::MasterDataWrite, designer::edit),
        post(
            "/forms/{code}/design",
            P::MasterDataWrite,
            designer::save_edit,
        ),
        get(
            "/forms/{code}/submissions",
            P::EventsRead,
            submissions::list,
        ),
    ]
}
