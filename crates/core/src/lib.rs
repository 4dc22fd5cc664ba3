//! Suyuan's domain core: GS1 identifiers, the EPCIS 2.0 event model, CBV vocabularies, coding rules, access
//! rules, the search terms and the object-state projection rules. The EPCIS wire formats (JSON-LD, XML,
//! query parameters, master data, schemas, the canonical hash) live in `suyuan-epcis`.
//! Pure code: no I/O, no clock, no async.

pub mod access;
pub mod cbv;
pub mod coding;
pub mod errors;
pub mod event;
pub mod gs1;
pub mod id;
pub mod projection;
pub mod search;
pub mod time;

pub use errors::{FieldError, ValidationErrors};
pub use event::{Action, Event, EventType};
