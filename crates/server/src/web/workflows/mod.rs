//! Workflows on screen: the definitions with the open cases, one workflow with the form that starts a
//! case and its definition's editor ([`definitions`]), and a case with its history and the transitions
//! its assignee takes ([`cases`]). They read and write only through the engine's workflow commands.

pub mod cases;
pub mod definitions;
pub mod texts;

use axum::response::Response;
use suyuan_engine::forms::FormError;

/// The answer when a workflow is missing (404) or the store cannot serve it.
pub(crate) fn down(e: FormError) -> Response {
    crate::web::forms::down(e)
}

/// Who a state is assigned to, as people say it: the role's name, or `user:` and the user.
pub(crate) fn who(tr: crate::web::i18n::Tr, role: Option<&str>, user: Option<&str>) -> String {
    match (user, role) {
        (Some(u), _) => format!("user:{u}"),
        (None, Some(r)) => match tr.t(&format!("role.{r}")) {
            "?" => r.to_string(),
            name => name.to_string(),
        },
        (None, None) => String::new(),
    }
}

/// The routes of the workflow screens, each with the permission it needs.
pub(crate) fn routes() -> Vec<crate::routes::Route> {
    use crate::routes::{get, post};
    use suyuan_core::access::Permission as P;
    vec![
        get("/workflows", P::EventsRead, definitions::list),
        get("/workflows/{code}", P::EventsRead, definitions::one),
        post("/workflows/{code}", P::MasterDataWrite, definitions::save),
        post(
            "/workflows/{code}/start",
            P::EventsWrite,
            definitions::start,
        ),
        get("/cases/{id}", P::EventsRead, cases::show),
        post("/cases/{id}", P::EventsRead, cases::take),
    ]
}
