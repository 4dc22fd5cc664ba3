//! Genealogy links derived from one event (pure): what was made from what, what is inside what, which
//! instances belong to which lot. The index turns them into edges.

use suyuan_core::event::{Action, Event, EventType};
use suyuan_core::projection::object_key;

/// How two nodes are related.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// An input consumed by a transformation, or a transformation's output.
    Transform,
    /// A child packed into a parent, for an interval of time.
    Contain,
    /// An instance belonging to its lot (class).
    Member,
    /// A child associated with a parent (AssociationEvent), for an interval of time.
    Associate,
}

/// One link an event creates or ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// `from` flows into `to` at `time_ms` (input → transformation, transformation → output, lot → member).
    Flow {
        /// Source node key.
        from: String,
        /// Derived node key.
        to: String,
        /// Relation.
        relation: Relation,
    },
    /// `child` is inside (or associated with) `parent` from now on.
    Open {
        /// Child key.
        child: String,
        /// Parent key.
        parent: String,
        /// `Contain` or `Associate`.
        relation: Relation,
    },
    /// `child` leaves `parent` now; `None` means every child.
    Close {
        /// Child key, or every child.
        child: Option<String>,
        /// Parent key.
        parent: String,
        /// `Contain` or `Associate`.
        relation: Relation,
    },
}

/// The key of a transformation node: the transformation ID (a work order joins all its events) or the event.
pub fn transformation_key(e: &Event, event_id: &str) -> String {
    match &e.transformation_id {
        Some(t) => format!("transformation:{}", object_key(t)),
        None => format!("transformation:{event_id}"),
    }
}

/// The LGTIN class key of an SGTIN instance in lot `lot`, if the instance carries a GTIN.
fn lot_class_of(instance_key: &str, lot: &str) -> Option<String> {
    let rest = instance_key.strip_prefix("https://id.gs1.org/01/")?;
    let gtin = rest.split('/').next()?;
    Some(format!("https://id.gs1.org/01/{gtin}/10/{lot}"))
}

fn ilmd_lot(e: &Event) -> Option<String> {
    let ilmd = e.ilmd.as_ref()?;
    ilmd.iter().find_map(|(k, v)| {
        let local = k.rsplit(':').next().unwrap_or(k);
        (local == "lotNumber")
            .then(|| v.as_str().map(str::to_string))
            .flatten()
    })
}

/// The links an event makes. Error declarations make none (the index retracts the original's links instead).
pub fn links(e: &Event, event_id: &str) -> Vec<Link> {
    let mut out = Vec::new();
    if e.error_declaration.is_some() {
        return out;
    }
    let lot = ilmd_lot(e);
    match e.event_type {
        EventType::Transformation => {
            let t = transformation_key(e, event_id);
            for i in e.inputs() {
                out.push(Link::Flow {
                    from: object_key(i),
                    to: t.clone(),
                    relation: Relation::Transform,
                });
            }
            for o in e.outputs() {
                let key = object_key(o);
                out.push(Link::Flow {
                    from: t.clone(),
                    to: key.clone(),
                    relation: Relation::Transform,
                });
                if let Some(class) = lot.as_deref().and_then(|l| lot_class_of(&key, l)) {
                    out.push(Link::Flow {
                        from: class,
                        to: key,
                        relation: Relation::Member,
                    });
                }
            }
        }
        EventType::Aggregation | EventType::Association => {
            let relation = if e.event_type == EventType::Aggregation {
                Relation::Contain
            } else {
                Relation::Associate
            };
            let Some(parent) = e.parent_id.as_deref().map(object_key) else {
                return out;
            };
            let children: Vec<String> = e.children().map(object_key).collect();
            match e.action {
                Some(Action::Add) => out.extend(children.into_iter().map(|child| Link::Open {
                    child,
                    parent: parent.clone(),
                    relation,
                })),
                Some(Action::Delete) if children.is_empty() => out.push(Link::Close {
                    child: None,
                    parent,
                    relation,
                }),
                Some(Action::Delete) => out.extend(children.into_iter().map(|c| Link::Close {
                    child: Some(c),
                    parent: parent.clone(),
                    relation,
                })),
                _ => {}
            }
        }
        EventType::Object if e.action == Some(Action::Add) => {
            if let Some(l) = lot {
                for epc in &e.epc_list {
                    let key = object_key(epc);
                    if let Some(class) = lot_class_of(&key, &l) {
                        out.push(Link::Flow {
                            from: class,
                            to: key,
                            relation: Relation::Member,
                        });
                    }
                }
            }
        }
        _ => {}
    }
    out
}
