//! Suyuan's trace engine (pure): genealogy links derived from events, an in-memory index with interned ids
//! and time-aware containment, and backward/forward traversals. The write path feeds it in ledger order.

mod adjacency;
pub mod index;
pub mod links;
mod names;
pub mod snapshot;

pub use index::{Direction, Edge, NodeId, Reached, Trace, TraceIndex, TraceOptions};
pub use links::{Link, Relation};

/// What kind of thing a node key names (for display and filtering).
pub fn node_kind(key: &str) -> &'static str {
    if key.starts_with("transformation:") {
        return "transformation";
    }
    let Some(path) = key.strip_prefix("https://id.gs1.org/") else {
        return "other";
    };
    let segs: Vec<&str> = path.split('/').collect();
    match segs.as_slice() {
        ["01", _, "21", _] | ["01", _, "235", _] | ["8006", _, "21", _] => "instance",
        ["01", _, "10", _] | ["8006", _, "10", _] => "lot",
        ["01", _] | ["8006", _] => "product",
        ["00", _] => "logistic_unit",
        ["414", ..] => "location",
        ["417", _] => "party",
        ["8003", _] | ["8004", _] => "asset",
        ["253", _] => "document",
        _ => "other",
    }
}
