//! Suyuan's operations, without I/O: the kinds of master data and their CSV/XLSX import ([`kinds`],
//! [`import`]), inventory and work orders as folds of EPCIS events ([`inventory`], [`workorder`]), the
//! station and warehouse refusals ([`checks`]), process parameter messages ([`params`]) and the
//! anti-diversion and anti-counterfeit judgements ([`alerts`]). The engine feeds the folds from the ledger
//! and asks the judgements before it records anything.

pub mod alerts;
pub mod checks;
pub mod facts;
pub mod import;
pub mod inventory;
pub mod kinds;
pub mod params;
pub mod workorder;

pub use facts::Status;
