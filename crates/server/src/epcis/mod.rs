//! The EPCIS 2.0 REST bindings under `/epcis`: capture, events and their resources ([`bindings`]), named
//! queries and subscriptions ([`queries`]), master data ([`masterdata`]).

pub mod bindings;
pub mod masterdata;
pub mod queries;

/// The routes of this part of the server, each with the permission it needs.
pub(crate) fn routes() -> Vec<crate::routes::Route> {
    [bindings::routes(), queries::routes(), masterdata::routes()]
        .into_iter()
        .flatten()
        .collect()
}
