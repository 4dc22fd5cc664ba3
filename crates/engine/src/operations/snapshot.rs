//! The operations projections saved between runs, so that a start reads only the events stored after the
//! snapshot instead of the whole ledger. A snapshot is a cache, never the record: it is used only when it
//! reads back whole (checksum), was written by a build with the same folds (a fingerprint of their source),
//! for the same plant time zone, and for this ledger (the leaf hash at its seq); otherwise the projections
//! are rebuilt from the first event, as before.
//!
//! Layout: magic, format, fold fingerprint, plant offset, seq, ledger tag, the state in `postcard`, and a
//! CRC-32 of everything before it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use suyuan_store::Store;

use super::{Ops, OpsState, plant_offset_minutes};
use crate::tracer::{ledger_tag, worth_saving};

const MAGIC: &[u8; 8] = b"SYOPSNAP";
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
    #[error("not an operations snapshot of format {FORMAT}")]
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

/// Encodes the state with its header (the whole file, checksum included).
pub fn encode(state: &OpsState, header: &Header) -> Result<Vec<u8>, SnapshotError> {
    let body = postcard::to_stdvec(state)?;
    let mut out = Vec::with_capacity(body.len() + 160);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT.to_le_bytes());
    out.extend_from_slice(FINGERPRINT.as_bytes());
    out.extend_from_slice(&header.offset_minutes.to_le_bytes());
    out.extend_from_slice(&header.seq.to_le_bytes());
    out.extend_from_slice(&(header.tag.len() as u32).to_le_bytes());
    out.extend_from_slice(&header.tag);
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&body);
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

/// Decodes a whole snapshot file, checking what it says of itself against this build.
pub fn decode(bytes: &[u8]) -> Result<(OpsState, Header), SnapshotError> {
    let mut c = Cursor(bytes);
    if c.take(MAGIC.len()).ok() != Some(MAGIC.as_slice())
        || u32::from_le_bytes(c.array()?) != FORMAT
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
    let (state, rest) = postcard::take_from_bytes::<OpsState>(body)?;
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

/// Writes a snapshot file durably: to a temporary file, synced, then renamed over the old one.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), SnapshotError> {
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// Reads and decodes a snapshot file.
pub fn read_file(path: &Path) -> Result<(OpsState, Header), SnapshotError> {
    decode(&std::fs::read(path)?)
}

/// Where the projections are saved, and how far the last snapshot written or loaded reaches.
#[derive(Debug, Default)]
pub(crate) struct Saved {
    path: Option<PathBuf>,
    tried: AtomicBool,
    seq: AtomicU64,
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
}

impl Ops {
    /// At the first read, starts the projections from their snapshot when it is valid for this build, this
    /// plant and this ledger; otherwise they are folded from the first event (the reason is logged). The
    /// caller holds the catch-up lock.
    pub(crate) async fn load_snapshot_once(&self, store: &dyn Store) {
        let Some(path) = self.saved.path.clone() else {
            return;
        };
        if self.saved.tried.swap(true, Ordering::AcqRel) || self.seq() > 0 || !path.exists() {
            return;
        }
        let started = std::time::Instant::now();
        let (state, header) = match tokio::task::spawn_blocking(move || read_file(&path)).await {
            Ok(Ok(v)) => v,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "operations snapshot not used; folding the ledger");
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, "operations snapshot not used; folding the ledger");
                return;
            }
        };
        if header.offset_minutes != plant_offset_minutes() {
            tracing::warn!(
                "operations snapshot counted days in another time zone (SUYUAN_UTC_OFFSET); folding the ledger"
            );
            return;
        }
        match ledger_tag(store, header.seq).await {
            Ok(Some(tag)) if tag == header.tag => {}
            Ok(_) => {
                tracing::warn!(
                    seq = header.seq,
                    "operations snapshot does not match this ledger; folding the ledger"
                );
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, "operations snapshot not checked; folding the ledger");
                return;
            }
        }
        *self.state.write().unwrap_or_else(|p| p.into_inner()) = state;
        self.seq.store(header.seq, Ordering::Release);
        self.saved.seq.store(header.seq, Ordering::Release);
        tracing::info!(
            seq = header.seq,
            secs = started.elapsed().as_secs_f64(),
            "operations projections loaded from their snapshot"
        );
    }

    /// The seq the last snapshot written or loaded reaches (0 when none).
    pub fn snapshot_seq(&self) -> u64 {
        self.saved.seq.load(Ordering::Acquire)
    }

    /// Whether enough was folded since the last snapshot to write a new one.
    pub fn snapshot_due(&self) -> bool {
        self.saved.path.is_some() && worth_saving(self.seq(), self.snapshot_seq())
    }

    /// Saves the projections to their snapshot unless it is current. With `wait` false, a save already
    /// running makes this one a no-op; with it true (a shutdown), this one waits and then saves.
    pub async fn save_snapshot(self: &Arc<Self>, store: &dyn Store, wait: bool) {
        let Some(path) = self.saved.path.clone() else {
            return;
        };
        let _one = if wait {
            self.saved.writing.lock().await
        } else {
            match self.saved.writing.try_lock() {
                Ok(g) => g,
                Err(_) => return,
            }
        };
        let started = std::time::Instant::now();
        let encoded = {
            // No event is folded while the state is encoded, so it is the state at `seq` exactly.
            let _no_fold = self.catching_up.lock().await;
            let seq = self.seq();
            if seq == 0 || seq == self.snapshot_seq() {
                return;
            }
            let tag = match ledger_tag(store, seq).await {
                Ok(Some(t)) => t,
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "operations snapshot not saved");
                    return;
                }
            };
            let header = Header {
                seq,
                offset_minutes: plant_offset_minutes(),
                tag,
            };
            let me = self.clone();
            match tokio::task::spawn_blocking(move || encode(&me.read(), &header)).await {
                Ok(Ok(bytes)) => (bytes, seq),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "operations snapshot not saved");
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "operations snapshot not saved");
                    return;
                }
            }
        };
        let (bytes, seq) = encoded;
        let size = bytes.len();
        match tokio::task::spawn_blocking(move || write_file(&path, &bytes)).await {
            Ok(Ok(())) => {
                self.saved.seq.store(seq, Ordering::Release);
                tracing::info!(
                    seq,
                    bytes = size,
                    secs = started.elapsed().as_secs_f64(),
                    "operations snapshot saved"
                );
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "operations snapshot not saved"),
            Err(e) => tracing::warn!(error = %e, "operations snapshot not saved"),
        }
    }
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

    fn header() -> Header {
        Header {
            seq: 42,
            offset_minutes: 480,
            tag: b"abcdef".to_vec(),
        }
    }

    #[test]
    fn snapshots_are_due_after_100k_events_or_a_quarter_of_the_ledger() {
        assert!(!worth_saving(99_999, 0));
        assert!(worth_saving(100_000, 0));
        assert!(worth_saving(200_000, 100_000), "100k more at 200k");
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
        let bytes = encode(&OpsState::default(), &header()).expect("encode");
        let (_, h) = decode(&bytes).expect("decode");
        assert_eq!(h, header());
    }

    #[test]
    fn damage_anywhere_is_refused() {
        let bytes = encode(&OpsState::default(), &header()).expect("encode");
        for at in [0, 9, 20, bytes.len() / 2, bytes.len() - 5, bytes.len() - 1] {
            let mut bad = bytes.clone();
            bad[at] ^= 0x40;
            assert!(
                decode(&bad).is_err(),
                "a flipped bit at {at} was not noticed"
            );
        }
        for len in [0, 7, 12, bytes.len() - 1] {
            assert!(
                decode(&bytes[..len]).is_err(),
                "a file cut to {len} bytes was read"
            );
        }
    }

    #[test]
    fn another_builds_snapshot_is_refused() {
        let mut bytes = encode(&OpsState::default(), &header()).expect("encode");
        bytes[12] = if bytes[12] == b'0' { b'1' } else { b'0' };
        assert!(matches!(decode(&bytes), Err(SnapshotError::OtherBuild)));
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
