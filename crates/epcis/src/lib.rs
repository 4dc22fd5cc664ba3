//! EPCIS 2.0 as it travels: JSON-LD documents and events ([`jsonld`]) and their XML form ([`xml`], judged by
//! GS1's XSD in [`xsd`]), GS1's JSON schema ([`schema`]), SimpleEventQuery and SimpleMasterDataQuery
//! parameters ([`query`], [`masterdata`]) and the canonical event hash ([`hash`]). It reads into and writes
//! from the event model of `suyuan-core`. Pure code: no I/O.

pub mod hash;
pub mod jsonld;
pub mod masterdata;
pub mod query;
pub mod schema;
pub mod stored;
pub mod xml;
pub mod xsd;

pub use hash::event_hash;
pub use jsonld::parse_capture;
pub use suyuan_core::{FieldError, ValidationErrors};
