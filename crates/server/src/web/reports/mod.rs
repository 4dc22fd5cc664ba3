//! Reports and dashboards on screen: the list of both, a report run as a table with its exports and its
//! definition's editor ([`pages`]), the dashboard designer ([`designer`]), and the scheduled delivery of
//! reports by e-mail or webhook ([`delivery`]).

pub mod delivery;
pub mod designer;
pub mod pages;
pub mod texts;

/// The routes of the reports and dashboards screens, each with the permission it needs.
pub(crate) fn routes() -> Vec<crate::routes::Route> {
    use crate::routes::{get, post};
    use suyuan_core::access::Permission as P;
    vec![
        get("/reports", P::EventsRead, pages::list),
        get("/reports/new", P::MasterDataWrite, pages::new),
        post("/reports/new", P::MasterDataWrite, pages::save_new),
        get("/reports/{code}", P::EventsRead, pages::one),
        post("/reports/{code}", P::MasterDataWrite, pages::save),
        get("/reports/{code}/export", P::EventsRead, pages::export),
        get("/dashboards/new", P::MasterDataWrite, designer::new),
        post("/dashboards/new", P::MasterDataWrite, designer::save_new),
        get(
            "/dashboards/{code}/design",
            P::MasterDataWrite,
            designer::edit,
        ),
        post(
            "/dashboards/{code}/design",
            P::MasterDataWrite,
            designer::save,
        ),
    ]
}
