//! Suyuan's domain core: GS1 identifiers, the EPCIS 2.0 event model with JSON-LD parsing and
//! serialisation, CBV vocabularies, the canonical event hash and the object-state projection rules.
//! Pure code: no I/O, no clock, no async.

pub mod access;
pub mod cbv;
pub mod coding;
pub mod event;
pub mod gs1;
pub mod hash;
pub mod id;
pub mod jsonld;
pub mod masterdata;
pub mod projection;
pub mod query;
pub mod schema;
pub mod search;
pub mod time;
pub mod xml;
pub mod xsd;

pub use event::{Action, Event, EventType};
pub use hash::event_hash;
pub use jsonld::{FieldError, ValidationErrors, parse_capture};
