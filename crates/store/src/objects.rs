//! Applying projection changes to object states in memory, shared by both backends: a backend loads the
//! rows a batch touches, applies the batch here in ledger order, and writes back what changed.

use crate::ObjectState;
use std::collections::{BTreeSet, HashMap};
use suyuan_core::projection::ProjectionOp;

/// Keys a batch of ops reads: objects it names, and parents whose children it clears.
#[derive(Debug, Default)]
pub struct Touched {
    /// Objects named directly.
    pub keys: BTreeSet<String>,
    /// Parents emptied by an unpack without a child list.
    pub emptied_parents: BTreeSet<String>,
}

impl Touched {
    /// Collects what `ops` read.
    pub fn of<'a>(ops: impl IntoIterator<Item = &'a ProjectionOp>) -> Touched {
        let mut t = Touched::default();
        for op in ops {
            match op {
                ProjectionOp::Touch { object, .. } => {
                    t.keys.insert(object.clone());
                }
                ProjectionOp::SetContainer { child, .. }
                | ProjectionOp::ClearContainer { child, .. } => {
                    t.keys.insert(child.clone());
                }
                ProjectionOp::ClearChildrenOf { parent } => {
                    t.emptied_parents.insert(parent.clone());
                }
            }
        }
        t
    }
}

/// Object rows being changed by one batch.
#[derive(Debug, Default)]
pub struct ObjectChanges {
    rows: HashMap<String, ObjectState>,
    dirty: BTreeSet<String>,
    /// (object, seq) pairs for the history index.
    pub history: Vec<(String, u64)>,
}

impl ObjectChanges {
    /// Starts from the stored rows the batch touches.
    pub fn new(loaded: Vec<ObjectState>) -> Self {
        ObjectChanges {
            rows: loaded.into_iter().map(|r| (r.id.clone(), r)).collect(),
            ..Default::default()
        }
    }

    /// Applies the ops of the event at `seq`.
    pub fn apply(&mut self, seq: u64, ops: &[ProjectionOp]) {
        for op in ops {
            match op {
                ProjectionOp::Touch {
                    object,
                    location,
                    disposition,
                    party,
                } => {
                    let row = self
                        .rows
                        .entry(object.clone())
                        .or_insert_with(|| ObjectState {
                            id: object.clone(),
                            first_seq: seq,
                            ..Default::default()
                        });
                    row.last_seq = seq;
                    row.event_count += 1;
                    if location.is_some() {
                        row.location.clone_from(location);
                    }
                    if disposition.is_some() {
                        row.disposition.clone_from(disposition);
                    }
                    if party.is_some() {
                        row.party.clone_from(party);
                    }
                    self.dirty.insert(object.clone());
                    self.history.push((object.clone(), seq));
                }
                ProjectionOp::SetContainer { child, parent } => {
                    if let Some(row) = self.rows.get_mut(child) {
                        row.container = Some(parent.clone());
                        self.dirty.insert(child.clone());
                    }
                }
                ProjectionOp::ClearContainer { child, parent } => {
                    if let Some(row) = self.rows.get_mut(child)
                        && row.container.as_deref() == Some(parent)
                    {
                        row.container = None;
                        self.dirty.insert(child.clone());
                    }
                }
                ProjectionOp::ClearChildrenOf { parent } => {
                    for row in self.rows.values_mut() {
                        if row.container.as_deref() == Some(parent) {
                            row.container = None;
                            self.dirty.insert(row.id.clone());
                        }
                    }
                }
            }
        }
    }

    /// The rows that changed, to upsert.
    pub fn changed(&self) -> impl Iterator<Item = &ObjectState> {
        self.dirty.iter().filter_map(|k| self.rows.get(k))
    }
}
