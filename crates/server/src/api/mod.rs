//! Suyuan's native JSON API under `/api/v1`, one module per capability: events and objects, trace and recall,
//! identifiers and codes, labels, ledger proofs, administration.

pub mod admin;
pub mod codes;
pub mod events;
pub mod forms;
pub mod identifiers;
pub mod labels;
pub mod ledger;
pub mod operations;
pub mod quality;
pub mod recall;
pub mod reports;
pub mod rules;
pub mod trace;
pub mod workflows;

/// The routes of this part of the server, each with the permission it needs.
pub(crate) fn routes() -> Vec<crate::routes::Route> {
    [
        events::routes(),
        trace::routes(),
        recall::routes(),
        identifiers::routes(),
        codes::routes(),
        labels::routes(),
        ledger::routes(),
        admin::routes(),
        operations::routes(),
        quality::routes(),
        rules::routes(),
        forms::routes(),
        workflows::routes(),
        reports::routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}
