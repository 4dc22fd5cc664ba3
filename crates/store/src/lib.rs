//! Storage for Suyuan: the [`Store`] trait (split by capability), an embedded SQLite backend with group
//! commit and a PostgreSQL backend, plus the conformance [`suite`] that both must pass.

mod capabilities;
mod commit;
pub mod copy;
mod error;
mod event;
pub mod objects;
pub mod postgres;
pub mod sqlite;
pub mod suite;
mod suite_commit;
mod suite_ledger;
mod suite_search;

use async_trait::async_trait;
use serde::Serialize;
use serde_json::Value;
use suyuan_core::Event;
use suyuan_core::projection::ProjectionOp;
use suyuan_epcis::masterdata::VocabularyElement;

pub use capabilities::*;
pub use commit::*;
pub use error::*;
pub use event::*;
pub use postgres::PgStore;
pub use sqlite::SqliteStore;
