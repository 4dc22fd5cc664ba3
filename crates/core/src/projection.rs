//! The first projection of the ledger: current state of every object. This module only derives what an
//! event changes; the store applies the changes inside the append transaction.

use crate::event::{Action, Event, EventType};
use crate::gs1;

/// The key an object is stored under: its canonical GS1 Digital Link when it has a GS1 key, else the URI.
pub fn object_key(uri: &str) -> String {
    gs1::canonical_digital_link(uri).unwrap_or_else(|| uri.trim().to_string())
}

/// One change to the object-state projection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectionOp {
    /// The event names the object: record it in the object's history and update its last event;
    /// location and disposition change when the event gives them.
    Touch {
        /// Object key.
        object: String,
        /// New business location, if the event sets one.
        location: Option<String>,
        /// New disposition, if the event sets one.
        disposition: Option<String>,
        /// The party the event hands the object to (possessing party first, else owning party), if any.
        party: Option<String>,
    },
    /// The child is now inside the parent.
    SetContainer {
        /// Child object key.
        child: String,
        /// Parent object key.
        parent: String,
    },
    /// The child left the parent (no change if it is in another container by now).
    ClearContainer {
        /// Child object key.
        child: String,
        /// Parent object key.
        parent: String,
    },
    /// Every child of the parent left it (an unpack without a child list).
    ClearChildrenOf {
        /// Parent object key.
        parent: String,
    },
}

/// The projection changes an event makes, in the order to apply them.
pub fn projection_ops(e: &Event) -> Vec<ProjectionOp> {
    let location = e.biz_location.as_ref().map(|l| object_key(&l.id));
    let party = ["possessing_party", "owning_party"]
        .iter()
        .find_map(|kind| e.destination_list.iter().find(|d| d.kind == *kind))
        .map(|d| object_key(&d.id));
    let mut ops: Vec<ProjectionOp> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for id in e.object_ids() {
        let key = object_key(id);
        if seen.insert(key.clone()) {
            ops.push(ProjectionOp::Touch {
                object: key,
                location: location.clone(),
                disposition: e.disposition.clone(),
                party: party.clone(),
            });
        }
    }
    if e.error_declaration.is_some() {
        return ops;
    }
    if matches!(e.event_type, EventType::Aggregation)
        && let Some(parent) = &e.parent_id
    {
        let parent = object_key(parent);
        let children: Vec<String> = e.children().map(object_key).collect();
        match e.action {
            Some(Action::Add) => {
                ops.extend(
                    children
                        .into_iter()
                        .map(|child| ProjectionOp::SetContainer {
                            child,
                            parent: parent.clone(),
                        }),
                )
            }
            Some(Action::Delete) if children.is_empty() => {
                ops.push(ProjectionOp::ClearChildrenOf { parent })
            }
            Some(Action::Delete) => {
                ops.extend(
                    children
                        .into_iter()
                        .map(|child| ProjectionOp::ClearContainer {
                            child,
                            parent: parent.clone(),
                        }),
                )
            }
            _ => {}
        }
    }
    ops
}
