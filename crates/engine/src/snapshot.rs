//! Snapshots of in-memory projections, saved between runs so that a start reads only the events stored after
//! them instead of the whole ledger. A snapshot is a cache, never the record: it is used only when it reads
//! back whole (checksum), was written by a build with the same folds (a fingerprint of their source) and
//! belongs to this ledger (the leaf hash at its seq); otherwise the projection is folded from the first event.
//!
//! Layout: kind (eight bytes), format, fold fingerprint, plant offset, seq, ledger tag, the state in
//! `postcard`, and a CRC-32 of everything before it.

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use suyuan_store::{Store, StoreError};

/// At least this many events read since the last snapshot make a new one worth writing.
const SNAPSHOT_AFTER: u64 = 10_000;

/// Whether a projection at `seq`, last saved at `saved`, is worth saving again: after 10,000 events or a
/// quarter of the ledger, whichever is more, so that the cost of saving (which grows with the ledger) stays
/// a fixed share of the work of reading it, and a restart never re-reads more than a quarter of it (or
/// 10,000 events, a fraction of a second).
pub(crate) fn worth_saving(seq: u64, saved: u64) -> bool {
    seq.saturating_sub(saved) >= SNAPSHOT_AFTER.max(seq / 4)
}

/// Where a projection is saved, and how far the last snapshot written or loaded reaches.
#[derive(Debug, Default)]
pub(crate) struct Saved {
    /// The snapshot file, if the projection is saved at all.
    path: Option<PathBuf>,
    /// Whether loading was tried (once, at the first read).
    tried: AtomicBool,
    /// The seq of the last snapshot written or loaded.
    seq: AtomicU64,
    /// Held while a snapshot is encoded and written.
    writing: tokio::sync::Mutex<()>,
}

impl Saved {
    /// Snapshots kept in the file `path`.
    pub(crate) fn at(path: PathBuf) -> Self {
        Saved {
            path: Some(path),
            ..Saved::default()
        }
    }

    /// The seq of the last snapshot written or loaded (0 when none).
    pub(crate) fn seq(&self) -> u64 {
        self.seq.load(Ordering::Acquire)
    }

    /// Whether a projection at `seq` is worth saving now.
    pub(crate) fn due(&self, seq: u64) -> bool {
        self.path.is_some() && worth_saving(seq, self.seq())
    }

    /// Once, for a projection still empty (at seq `at` 0): the snapshot of the kind `kind` when there is one,
    /// it reads back whole and it belongs to this ledger, with when reading it began; `None` (the reason
    /// logged, `what` naming the projection) means fold from the first event. Called before every catch-up,
    /// so after the first call it only reads one flag.
    pub(crate) async fn load<T: DeserializeOwned + Send + 'static>(
        &self,
        kind: &'static [u8; 8],
        store: &dyn Store,
        at: u64,
        what: &str,
    ) -> Option<(T, Header, std::time::Instant)> {
        if self.tried.load(Ordering::Acquire) || self.tried.swap(true, Ordering::AcqRel) || at > 0 {
            return None;
        }
        let path = self.path.clone().filter(|p| p.exists())?;
        let started = std::time::Instant::now();
        let read = match tokio::task::spawn_blocking(move || read_file::<T>(kind, &path)).await {
            Ok(read) => read,
            Err(e) => Err(SnapshotError::Io(std::io::Error::other(e))),
        };
        let (state, header) = match read {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(error = %e, "{what} snapshot not used; reading the ledger");
                return None;
            }
        };
        match ledger_tag(store, header.seq).await {
            Ok(Some(tag)) if tag == header.tag => Some((state, header, started)),
            Ok(_) => {
                tracing::warn!(
                    seq = header.seq,
                    "{what} snapshot does not match this ledger; reading the ledger"
                );
                None
            }
            Err(e) => {
                tracing::warn!(error = %e, "{what} snapshot not checked; reading the ledger");
                None
            }
        }
    }

    /// Records that a snapshot at `seq` was loaded.
    pub(crate) fn loaded(&self, seq: u64, started: std::time::Instant, what: &str) {
        self.seq.store(seq, Ordering::Release);
        tracing::info!(
            seq,
            secs = started.elapsed().as_secs_f64(),
            "{what} loaded from its snapshot"
        );
    }

    /// Saves a projection unless its snapshot is current: takes `folding` (so nothing is folded in while it
    /// is encoded, and the state is the state at `seq()` exactly), tags it with the ledger, encodes it with
    /// `encode` on the blocking pool, then writes it without holding the projection. With `wait` false, a
    /// save already running makes this one a no-op; with it true (a shutdown), this one waits for it.
    pub(crate) async fn save<F>(
        &self,
        store: &dyn Store,
        wait: bool,
        folding: &tokio::sync::Mutex<()>,
        seq: impl Fn() -> u64,
        what: &str,
        encode: F,
    ) where
        F: FnOnce(Header) -> Result<Vec<u8>, SnapshotError> + Send + 'static,
    {
        if self.path.is_none() {
            return;
        }
        let _one = if wait {
            self.writing.lock().await
        } else {
            match self.writing.try_lock() {
                Ok(g) => g,
                Err(_) => return,
            }
        };
        let (encoded, seq, started) = {
            let _no_fold = folding.lock().await;
            // Timed from here: the wait for a catch-up to finish is not the snapshot's cost.
            let started = std::time::Instant::now();
            let seq = seq();
            if seq == 0 || seq == self.seq() {
                return;
            }
            let tag = match ledger_tag(store, seq).await {
                Ok(Some(t)) => t,
                Ok(None) => return,
                Err(e) => return tracing::warn!(error = %e, "{what} snapshot not saved"),
            };
            let header = Header {
                seq,
                offset_minutes: crate::operations::plant_offset_minutes(),
                tag,
            };
            (
                tokio::task::spawn_blocking(move || encode(header)).await,
                seq,
                started,
            )
        };
        self.finish(encoded, seq, started, what).await;
    }

    /// Writes an encoded snapshot of `seq` (on the blocking pool) and records it.
    async fn finish(
        &self,
        encoded: Result<Result<Vec<u8>, SnapshotError>, tokio::task::JoinError>,
        seq: u64,
        started: std::time::Instant,
        what: &str,
    ) {
        let Some(path) = self.path.clone() else {
            return;
        };
        let bytes = match encoded {
            Ok(Ok(b)) => b,
            Ok(Err(e)) => return tracing::warn!(error = %e, "{what} snapshot not saved"),
            Err(e) => return tracing::warn!(error = %e, "{what} snapshot not saved"),
        };
        let size = bytes.len();
        match tokio::task::spawn_blocking(move || write_file(&path, &bytes)).await {
            Ok(Ok(())) => {
                self.seq.store(seq, Ordering::Release);
                tracing::info!(
                    seq,
                    bytes = size,
                    secs = started.elapsed().as_secs_f64(),
                    "{what} snapshot saved"
                );
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "{what} snapshot not saved"),
            Err(e) => tracing::warn!(error = %e, "{what} snapshot not saved"),
        }
    }
}

/// The store's leaf hash at `seq`: what a snapshot is tagged with, so one from another ledger is refused.
pub(crate) async fn ledger_tag(store: &dyn Store, seq: u64) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(store
        .events_by_seq(&[seq])
        .await?
        .pop()
        .filter(|e| e.seq == seq)
        .map(|e| e.leaf_hash.into_bytes()))
}

/// Bumped when the layout of this file changes (the fingerprint covers the state's own types).
const FORMAT: u32 = 1;
/// The source fingerprint of this build's folds (see `build.rs`).
const FINGERPRINT: &str = env!("SUYUAN_FOLD_FINGERPRINT");
/// Largest tag read back (a leaf hash is 64 hex digits).
const MAX_TAG: usize = 1024;

/// What a snapshot says of itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The last event folded into it.
    pub seq: u64,
    /// The plant's offset from UTC (minutes) its days and shifts were counted in.
    pub offset_minutes: i32,
    /// The ledger's leaf hash at `seq`.
    pub tag: Vec<u8>,
}

/// Why a snapshot was not written or not used.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The file could not be read or written.
    #[error("snapshot file: {0}")]
    Io(#[from] std::io::Error),
    /// The file is not an operations snapshot of this format.
    #[error("not a snapshot of this kind and format {FORMAT}")]
    NotASnapshot,
    /// The snapshot was written by a build whose folds differ from this one's.
    #[error("written by a build with other projection folds")]
    OtherBuild,
    /// The file is cut short or its checksum does not match.
    #[error("damaged: {0}")]
    Damaged(String),
    /// The state could not be encoded or decoded.
    #[error("state: {0}")]
    Codec(#[from] postcard::Error),
}

/// Encodes a state of the kind `kind` (eight bytes naming it) with its header (the whole file, checksum included).
pub fn encode<T: Serialize>(
    kind: &[u8; 8],
    state: &T,
    header: &Header,
) -> Result<Vec<u8>, SnapshotError> {
    let mut out = Vec::new();
    out.extend_from_slice(kind);
    out.extend_from_slice(&FORMAT.to_le_bytes());
    out.extend_from_slice(FINGERPRINT.as_bytes());
    out.extend_from_slice(&header.offset_minutes.to_le_bytes());
    out.extend_from_slice(&header.seq.to_le_bytes());
    out.extend_from_slice(&(header.tag.len() as u32).to_le_bytes());
    out.extend_from_slice(&header.tag);
    // The state is encoded straight after its length, which is filled in once known: the state (hundreds of
    // MB on a large ledger) is not encoded into a buffer of its own and copied, while folding waits.
    let length_at = out.len();
    out.extend_from_slice(&0u64.to_le_bytes());
    let mut out = postcard::to_extend(state, out)?;
    let body_len = (out.len() - length_at - 8) as u64;
    out[length_at..length_at + 8].copy_from_slice(&body_len.to_le_bytes());
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    Ok(out)
}

/// Reads bytes off the front of a snapshot, or says it is cut short.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], SnapshotError> {
        if self.0.len() < n {
            return Err(SnapshotError::Damaged("cut short".into()));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], SnapshotError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
}

/// Decodes a whole snapshot file of the kind `kind`, checking what it says of itself against this build.
pub fn decode<T: DeserializeOwned>(
    kind: &[u8; 8],
    bytes: &[u8],
) -> Result<(T, Header), SnapshotError> {
    let mut c = Cursor(bytes);
    if c.take(kind.len()).ok() != Some(kind.as_slice()) || u32::from_le_bytes(c.array()?) != FORMAT
    {
        return Err(SnapshotError::NotASnapshot);
    }
    if c.take(FINGERPRINT.len())? != FINGERPRINT.as_bytes() {
        return Err(SnapshotError::OtherBuild);
    }
    let Some((covered, crc)) = bytes.split_last_chunk::<4>() else {
        return Err(SnapshotError::Damaged("cut short".into()));
    };
    if crc32fast::hash(covered) != u32::from_le_bytes(*crc) {
        return Err(SnapshotError::Damaged("checksum does not match".into()));
    }
    let offset_minutes = i32::from_le_bytes(c.array()?);
    let seq = u64::from_le_bytes(c.array()?);
    let tag_len = u32::from_le_bytes(c.array()?) as usize;
    if tag_len > MAX_TAG {
        return Err(SnapshotError::Damaged("tag too long".into()));
    }
    let tag = c.take(tag_len)?.to_vec();
    let body_len = usize::try_from(u64::from_le_bytes(c.array()?))
        .map_err(|_| SnapshotError::Damaged("body too long".into()))?;
    let body = c.take(body_len)?;
    if c.0.len() != 4 {
        return Err(SnapshotError::Damaged("trailing bytes".into()));
    }
    let (state, rest) = postcard::take_from_bytes::<T>(body)?;
    if !rest.is_empty() {
        return Err(SnapshotError::Damaged("state longer than its types".into()));
    }
    Ok((
        state,
        Header {
            seq,
            offset_minutes,
            tag,
        },
    ))
}

/// The temporary file a snapshot is written to before it is renamed into place: named after this process,
/// so that two servers given the same snapshot path never write into one temporary file.
pub(crate) fn temporary(path: &Path) -> PathBuf {
    path.with_extension(format!("tmp.{}", std::process::id()))
}

/// Writes a snapshot file durably: to a temporary file, synced, then renamed over the old one. A write that
/// fails (a full disk) removes its temporary file, so a failed snapshot never takes space from the store.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), SnapshotError> {
    let tmp = temporary(path);
    let written = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    Ok(written?)
}

/// Reads and decodes a snapshot file.
pub fn read_file<T: DeserializeOwned>(
    kind: &[u8; 8],
    path: &Path,
) -> Result<(T, Header), SnapshotError> {
    decode(kind, &std::fs::read(path)?)
}

/// A JSON value kept as its JSON text in binary formats (which cannot read a self-describing value back),
/// and as itself in JSON.
pub mod value_text {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use serde_json::Value;

    /// Writes the value as itself for people, as JSON text for machines.
    pub fn serialize<S: Serializer>(v: &Value, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            v.serialize(s)
        } else {
            v.to_string().serialize(s)
        }
    }

    /// Reads what [`serialize`] wrote.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        if d.is_human_readable() {
            Value::deserialize(d)
        } else {
            let text = String::deserialize(d)?;
            serde_json::from_str(&text).map_err(serde::de::Error::custom)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIND: &[u8; 8] = b"SYTESTSN";

    #[derive(Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Empty {
        n: Vec<(u32, u32)>,
    }

    fn header() -> Header {
        Header {
            seq: 42,
            offset_minutes: 480,
            tag: b"abcdef".to_vec(),
        }
    }

    #[test]
    fn snapshots_are_due_after_10k_events_or_a_quarter_of_the_ledger() {
        assert!(!worth_saving(9_999, 0));
        assert!(worth_saving(10_000, 0));
        assert!(worth_saving(30_000, 20_000), "10k more at 30k");
        assert!(
            !worth_saving(100_000, 90_000),
            "a quarter of 100k is more than 10k"
        );
        assert!(
            !worth_saving(1_100_000, 1_000_000),
            "a quarter of 1.1M is more than 100k"
        );
        assert!(
            !worth_saving(3_900_000, 3_000_000),
            "a quarter of 3.9M is 975k"
        );
        assert!(worth_saving(4_000_000, 3_000_000));
        assert!(!worth_saving(5, 10), "a snapshot ahead of the projection");
    }

    #[test]
    fn a_snapshot_reads_back_with_its_header() {
        let bytes = encode(KIND, &Empty::default(), &header()).expect("encode");
        let (_, h) = decode::<Empty>(KIND, &bytes).expect("decode");
        assert!(matches!(
            decode::<Empty>(b"SYOTHERS", &bytes),
            Err(SnapshotError::NotASnapshot)
        ));
        assert_eq!(h, header());
    }

    #[test]
    fn damage_anywhere_is_refused() {
        let bytes = encode(KIND, &Empty::default(), &header()).expect("encode");
        for at in [0, 9, 20, bytes.len() / 2, bytes.len() - 5, bytes.len() - 1] {
            let mut bad = bytes.clone();
            bad[at] ^= 0x40;
            assert!(
                decode::<Empty>(KIND, &bad).is_err(),
                "a flipped bit at {at} was not noticed"
            );
        }
        for len in [0, 7, 12, bytes.len() - 1] {
            assert!(
                decode::<Empty>(KIND, &bytes[..len]).is_err(),
                "a file cut to {len} bytes was read"
            );
        }
    }

    #[test]
    fn another_builds_snapshot_is_refused() {
        let mut bytes = encode(KIND, &Empty::default(), &header()).expect("encode");
        bytes[12] = if bytes[12] == b'0' { b'1' } else { b'0' };
        assert!(matches!(
            decode::<Empty>(KIND, &bytes),
            Err(SnapshotError::OtherBuild)
        ));
    }

    #[test]
    fn a_failed_write_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().expect("dir");
        let target = dir.path().join("x.snapshot");
        std::fs::create_dir(&target).expect("a directory where the file should go");
        assert!(write_file(&target, b"state").is_err());
        assert!(!temporary(&target).exists(), "the temporary file is gone");
        let file = dir.path().join("y.snapshot");
        write_file(&file, b"state").expect("write");
        assert_eq!(std::fs::read(&file).expect("read"), b"state");
        assert!(!temporary(&file).exists());
    }

    #[test]
    fn a_json_value_survives_the_binary_form() {
        #[derive(serde::Serialize, serde::Deserialize)]
        struct Holder(#[serde(with = "value_text")] serde_json::Value);
        let v = serde_json::json!({"a": [1, 2.5, "x"], "b": null});
        let bytes = postcard::to_stdvec(&Holder(v.clone())).expect("encode");
        let back: Holder = postcard::from_bytes(&bytes).expect("decode");
        assert_eq!(back.0, v);
        assert_eq!(
            serde_json::to_value(Holder(v.clone())).expect("json"),
            v,
            "JSON output is the value itself"
        );
    }
}
