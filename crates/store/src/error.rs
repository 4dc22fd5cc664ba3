//! Errors of a storage backend.

#[allow(unused_imports)]
use super::*;

/// Errors of a storage backend.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An eventID is already stored with different content; the whole batch was rejected.
    #[error(
        "eventID {event_id} is already stored (seq {seq}) with different content: stored hash {stored_hash}, sent {sent_hash}"
    )]
    Conflict {
        /// The eventID.
        event_id: String,
        /// Seq of the stored event.
        seq: u64,
        /// Hash of the stored event.
        stored_hash: String,
        /// Hash of the rejected one.
        sent_hash: String,
    },
    /// The database failed; the batch was not stored.
    #[error("database error: {0}")]
    Backend(String),
    /// An issued code's identity is already registered; nothing of the batch was registered.
    #[error("code {code} ({uri}) was already issued; no code of this batch was registered")]
    DuplicateCode {
        /// The code text.
        code: String,
        /// Its identity.
        uri: String,
    },
    /// The Merkle tree was extended by someone else meanwhile; nothing was written.
    #[error("the Merkle tree is at size {actual}, not {expected}")]
    TreeMoved {
        /// The size the caller extended from.
        expected: u64,
        /// The stored size.
        actual: u64,
    },
    /// An account record with this kind and id already exists; nothing was written.
    #[error("{kind} '{id}' already exists")]
    Exists {
        /// Record kind (see [`account_kinds`]).
        kind: String,
        /// Its id.
        id: String,
    },
    /// A record a commit changes does not exist (or is already in the state asked for); nothing was written.
    #[error("no {kind} '{id}' to change")]
    Missing {
        /// Record kind (`code`, an account kind, …).
        kind: String,
        /// Its id.
        id: String,
    },
    /// A write injected by a test failed on purpose; nothing of the commit was written.
    #[error("injected failure: {0}")]
    Injected(String),
    /// The disk (or the store's size limit) is full; nothing of the write was stored, and reads go on.
    #[error("the store's disk is full ({0}); nothing was written")]
    Full(String),
    /// The store is shutting down.
    #[error("the store is closed")]
    Closed,
    /// Stored data could not be read back (a damaged row).
    #[error("stored data is damaged at seq {seq}: {reason}")]
    Corrupt {
        /// Seq of the damaged row.
        seq: u64,
        /// What is wrong.
        reason: String,
    },
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DiskFull) => StoreError::Full(e.to_string()),
            _ => StoreError::Backend(e.to_string()),
        }
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        match e.code() {
            Some(c) if *c == tokio_postgres::error::SqlState::DISK_FULL => {
                StoreError::Full(e.to_string())
            }
            _ => StoreError::Backend(e.to_string()),
        }
    }
}
