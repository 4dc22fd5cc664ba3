//! The web console: pages rendered on the server (overview, events, objects and their story, search, labels,
//! sign-in), their message catalogue ([`i18n`]) and the embedded static files ([`assets`]).

pub mod admin;
pub mod assets;
pub mod catalogue;
pub mod dashboard;
pub mod documents;
pub mod forms;
pub mod i18n;
pub mod labels;
pub mod ledger;
pub mod lists;
pub mod login;
pub mod object;
pub mod operations;
pub mod pages;
pub mod proofs;
pub mod quality;
pub mod recall_files;
pub mod recalls;
pub mod reports;
pub mod rules;
pub mod search;
pub mod story;
pub mod terms;
pub mod trace;
pub mod viewer;
pub mod workflows;

/// The routes of this part of the server, each with the permission it needs.
pub(crate) fn routes() -> Vec<crate::routes::Route> {
    [
        login::routes(),
        dashboard::routes(),
        ledger::routes(),
        lists::routes(),
        trace::routes(),
        recalls::routes(),
        reports::routes(),
        operations::routes(),
        quality::routes(),
        rules::routes(),
        forms::routes(),
        workflows::routes(),
        proofs::routes(),
        admin::routes(),
        pages::routes(),
        object::routes(),
        search::routes(),
        labels::routes(),
        assets::routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}
