//! A commit: events and record changes stored together or not at all.

#[allow(unused_imports)]
use super::*;

/// A change to the store's records, written in the same transaction as a [`Commit`]'s events.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    /// Writes a record (a JSON document under a kind and an id: accounts, and the projections features
    /// declare); with `create` it must not exist yet ([`StoreError::Exists`]).
    PutRecord {
        /// Record kind.
        kind: String,
        /// Its id.
        id: String,
        /// The document.
        doc: Value,
        /// Refuse when it exists.
        create: bool,
    },
    /// Deletes a record; with `must_exist` a missing one fails the commit ([`StoreError::Missing`]).
    DeleteRecord {
        /// Record kind.
        kind: String,
        /// Its id.
        id: String,
        /// Fail when it does not exist.
        must_exist: bool,
    },
    /// Stores version `version` of a definition; refused ([`StoreError::Exists`]) when that version is
    /// already stored (someone saved meanwhile: read again and retry).
    Definition {
        /// Definition kind (`coding-rule`, `label-template`, …).
        kind: String,
        /// Its name.
        name: String,
        /// The version this write creates.
        version: u32,
        /// The definition.
        definition: Value,
    },
    /// Marks an issued, unrevoked code (by text or identity) revoked; fails ([`StoreError::Missing`]) when
    /// there is none.
    RevokeCode {
        /// Code text or identity URI.
        code: String,
        /// Why.
        reason: String,
    },
    /// Merges vocabulary elements into the stored master data.
    MasterData(Vec<VocabularyElement>),
    /// Fails the commit after everything before it was written (tests of atomicity only).
    Fail(String),
}

/// Events and record changes that are stored together or not at all.
#[derive(Debug, Clone, Default)]
pub struct Commit {
    /// Events to append (repeats are answered with their stored position).
    pub events: Vec<NewEvent>,
    /// Record changes, applied in order after the events.
    pub writes: Vec<Write>,
}

impl Commit {
    /// A commit of events alone.
    pub fn events(events: Vec<NewEvent>) -> Commit {
        Commit {
            events,
            writes: Vec::new(),
        }
    }

    /// Whether it writes nothing.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.writes.is_empty()
    }

    /// Its size for group-commit accounting (events plus record changes).
    pub fn size(&self) -> usize {
        self.events.len()
            + self
                .writes
                .iter()
                .map(|w| match w {
                    Write::MasterData(m) => m.len(),
                    _ => 1,
                })
                .sum::<usize>()
    }
}
