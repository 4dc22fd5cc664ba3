//! Suyuan's trace engine (pure): genealogy links derived from events, an in-memory index with interned ids
//! and time-aware containment, and backward/forward traversals. The write path feeds it in ledger order.

pub mod index;
pub mod links;

pub use index::{Direction, Edge, NodeId, Reached, Trace, TraceIndex, TraceOptions};
pub use links::{Link, Relation};
