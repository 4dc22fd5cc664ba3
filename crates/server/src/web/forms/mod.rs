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
