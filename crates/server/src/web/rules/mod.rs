//! The plant's rules and everyone's tasks: the rules with their status and errors, a rule's editor with
//! its dry run over past events ([`editor`]), and the task inbox with the navigation's badge ([`tasks`]).
//! They read and write only through the engine's rule and task commands.

pub mod editor;
pub mod tasks;
pub mod texts;

/// The routes of the rules and tasks screens, each with the permission it needs.
pub(crate) fn routes() -> Vec<crate::routes::Route> {
    use crate::routes::{get, post};
    use suyuan_core::access::Permission as P;
    vec![
        get("/rules", P::EventsRead, editor::list),
        get("/rules/new", P::MasterDataWrite, editor::new),
        post("/rules/new", P::MasterDataWrite, editor::submit_new),
        get("/rules/{code}", P::EventsRead, editor::show),
        post("/rules/{code}", P::MasterDataWrite, editor::submit),
        get("/tasks", P::EventsRead, tasks::inbox),
        get("/tasks/badge", P::EventsRead, tasks::badge),
        post("/tasks/{id}", P::EventsRead, tasks::done),
    ]
}
