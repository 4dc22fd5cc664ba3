//! Suyuan's trace engine (pure): genealogy links derived from events, an in-memory index with interned ids
//! and time-aware containment, and backward/forward traversals. The write path feeds it in ledger order.

mod adjacency;
pub mod index;
pub mod links;
mod names;
pub mod snapshot;
pub mod whereabouts;

pub use index::{
    Direction, Edge, Graph, GraphNode, GraphOptions, NodeId, Reached, StateRef, Trace, TraceIndex,
    TraceOptions,
};
pub use links::{Link, Relation};
pub use whereabouts::Whereabouts;

/// What kind of thing a node key names (for display and filtering).
pub fn node_kind(key: &str) -> &'static str {
    if key.starts_with("transformation:") {
        return "transformation";
    }
    let Some(path) = key.strip_prefix("https://id.gs1.org/") else {
        return "other";
    };
    // The first segments, without allocating (five or more count as five).
    let mut segs = [""; 5];
    let mut n = 0;
    for p in path.split('/').take(5) {
        segs[n] = p;
        n += 1;
    }
    match &segs[..n] {
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

#[cfg(test)]
mod tests {
    use super::node_kind;

    #[test]
    fn kinds_of_keys() {
        let k = |s: &str| node_kind(&format!("https://id.gs1.org/{s}"));
        assert_eq!(k("01/06901234567892/21/1"), "instance");
        assert_eq!(k("01/06901234567892/10/L1"), "lot");
        assert_eq!(k("01/06901234567892"), "product");
        assert_eq!(k("00/069012340000000177"), "logistic_unit");
        assert_eq!(k("414/6901234000017/254/1"), "location");
        assert_eq!(k("417/6901234000017"), "party");
        assert_eq!(k("01/06901234567892/21/1/extra"), "other");
        assert_eq!(k(""), "other");
        assert_eq!(node_kind("transformation:urn:uuid:1"), "transformation");
        assert_eq!(node_kind("urn:example:x"), "other");
    }
}
