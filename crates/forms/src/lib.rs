//! Forms a plant designs without code: the definition ([`form`]) and its checks ([`check`]) — fields of every kind, scan fields that
//! read GS1 and internal codes, tables, calculated and conditional fields — the checking of a submission
//! against it ([`fill`]) and while it is filled in ([`live`]), reading what a scan field was given ([`scan`]) and the EPCIS event a submission
//! becomes ([`event`]). Pure: the engine looks the scanned objects up and stores the event.

pub mod check;
pub mod event;
pub mod fill;
pub mod form;
pub mod live;
pub mod scan;

pub use fill::{Filled, check};
pub use form::{Field, Form, Kind, Problem, Text, code_problem};
pub use scan::{Found, Scanned};
