//! Tamper evidence: the Merkle tree over the ledger's leaves is extended from the store's events (after they
//! are durable, as a transparency log integrates its sequenced entries), signed checkpoints are made of it,
//! inclusion and consistency proofs are served from it, and [`verify`] recomputes everything from the stored
//! events and names the first record that does not match.

use std::path::Path;

use serde::Serialize;
use suyuan_ledger::checkpoint::{self, CheckpointSigner};
use suyuan_ledger::tree::{self, Fetched, Need};
use suyuan_store::{Store, StoreError, StoredCheckpoint};

/// Leaves integrated per store round trip.
const BATCH: u32 = 10_000;

/// Why a ledger operation failed.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The tree arithmetic failed (a stored hash is missing or a size is out of range).
    #[error(transparent)]
    Tree(#[from] tree::TreeError),
    /// Signing or verifying a checkpoint failed.
    #[error(transparent)]
    Checkpoint(#[from] checkpoint::CheckpointError),
    /// The signing key file cannot be read or created.
    #[error("ledger key {path}: {msg}")]
    Key {
        /// The file.
        path: String,
        /// What went wrong.
        msg: String,
    },
    /// Something asked for does not exist.
    #[error("{0}")]
    NotFound(String),
}

/// Loads the checkpoint signing key from `path`, creating it (32 random bytes, hex, mode 0600) on first use.
pub fn load_or_create_key(path: &Path, origin: &str) -> Result<CheckpointSigner, LedgerError> {
    let err = |msg: String| LedgerError::Key {
        path: path.display().to_string(),
        msg,
    };
    let seed: [u8; 32] = match std::fs::read_to_string(path) {
        Ok(text) => {
            let mut seed = [0u8; 32];
            hex::decode_to_slice(text.trim(), &mut seed)
                .map_err(|e| err(format!("not 64 hex digits: {e}")))?;
            seed
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed).map_err(|e| err(e.to_string()))?;
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
            }
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            use std::io::Write;
            let mut f = match opts.open(path) {
                Ok(f) => f,
                // Another process created it meanwhile: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    return load_or_create_key(path, origin);
                }
                Err(e) => return Err(err(e.to_string())),
            };
            f.write_all(hex::encode(seed).as_bytes())
                .and_then(|_| f.sync_all())
                .map_err(|e| err(e.to_string()))?;
            tracing::info!(path = %path.display(), "created the ledger signing key");
            seed
        }
        Err(e) => return Err(err(e.to_string())),
    };
    Ok(CheckpointSigner::new(origin, &seed)?)
}

/// The signing key at `path`, which must exist (verifying reads a key, it never makes one).
pub fn load_key(path: &Path, origin: &str) -> Result<CheckpointSigner, LedgerError> {
    if !path.exists() {
        return Err(LedgerError::Key {
            path: path.display().to_string(),
            msg: "no signing key there (give the deployment's key with --ledger-key, or the public key \
                  with --verifier-key)"
                .into(),
        });
    }
    load_or_create_key(path, origin)
}

/// The stored hashes all of `needs` read, in one store round trip.
async fn fetch(store: &dyn Store, needs: &[Need]) -> Result<Fetched, LedgerError> {
    let mut idx = Vec::new();
    for need in needs {
        idx.extend(tree::needed(need)?);
    }
    idx.sort_unstable();
    idx.dedup();
    let hashes = store.tree_hashes(&idx).await?;
    Ok(Fetched(idx.into_iter().zip(hashes).collect()))
}

/// Extends the stored tree to every stored event; answers the new size.
pub async fn integrate(store: &dyn Store) -> Result<u64, LedgerError> {
    loop {
        let size = store.tree_size().await?;
        let leaves = store.leaf_hashes(size, BATCH).await?;
        if leaves.is_empty() {
            return Ok(size);
        }
        let mut have = fetch(store, &[Need::Append(size)]).await?;
        let hashes: Vec<[u8; 32]> = leaves.iter().map(|(_, h)| *h).collect();
        let new = tree::append(size, &hashes, &mut have)?;
        match store
            .extend_tree(size, size + hashes.len() as u64, new)
            .await
        {
            Ok(()) | Err(StoreError::TreeMoved { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// The root of the stored tree at `size`.
pub async fn root(store: &dyn Store, size: u64) -> Result<[u8; 32], LedgerError> {
    let have = fetch(store, &[Need::Root(size)]).await?;
    Ok(tree::root(size, &have)?)
}

/// Integrates, then signs and stores a checkpoint of the whole tree (unless the latest already covers it).
pub async fn checkpoint(
    store: &dyn Store,
    signer: &CheckpointSigner,
) -> Result<Option<StoredCheckpoint>, LedgerError> {
    let size = integrate(store).await?;
    if size == 0 {
        return Ok(None);
    }
    if let Some(last) = store.checkpoint(None).await?
        && last.size == size
    {
        return Ok(Some(last));
    }
    let r = root(store, size).await?;
    let note = signer.sign(size, &r)?;
    store.add_checkpoint(size, &hex::encode(r), &note).await?;
    Ok(store.checkpoint(Some(size)).await?)
}

/// An inclusion proof for the event at `seq` in the tree of `size` leaves.
#[derive(Debug, Clone, Serialize)]
pub struct InclusionProof {
    /// The event's ledger position.
    pub seq: u64,
    /// Its leaf hash (hex).
    #[serde(rename = "leafHash")]
    pub leaf_hash: String,
    /// Tree size the proof is for.
    #[serde(rename = "treeSize")]
    pub tree_size: u64,
    /// Root at that size (hex).
    pub root: String,
    /// Sibling hashes from the leaf up (hex).
    pub proof: Vec<String>,
}

/// Proves the event at `seq` is in the tree of `size` leaves (the integrated tree when `None`).
pub async fn inclusion(
    store: &dyn Store,
    seq: u64,
    size: Option<u64>,
) -> Result<InclusionProof, LedgerError> {
    let stored = integrate(store).await?;
    let t = size.unwrap_or(stored);
    if t > stored {
        return Err(LedgerError::NotFound(format!(
            "the tree has {stored} leaves, not {t}"
        )));
    }
    if seq == 0 || seq > t {
        return Err(LedgerError::NotFound(format!(
            "seq {seq} is not in a tree of {t} leaves"
        )));
    }
    let leaf = store
        .leaf_hashes(seq - 1, 1)
        .await?
        .pop()
        .ok_or_else(|| LedgerError::NotFound(format!("no event at seq {seq}")))?
        .1;
    let n = seq - 1;
    let have = fetch(store, &[Need::Inclusion { t, n }, Need::Root(t)]).await?;
    let proof = tree::inclusion_proof(t, n, &have)?;
    let r = tree::root(t, &have)?;
    Ok(InclusionProof {
        seq,
        leaf_hash: hex::encode(leaf),
        tree_size: t,
        root: hex::encode(r),
        proof: proof.iter().map(hex::encode).collect(),
    })
}

/// A consistency proof between two tree sizes.
#[derive(Debug, Clone, Serialize)]
pub struct ConsistencyProof {
    /// Older size.
    pub from: u64,
    /// Newer size.
    pub to: u64,
    /// Root at `from` (hex).
    #[serde(rename = "fromRoot")]
    pub from_root: String,
    /// Root at `to` (hex).
    #[serde(rename = "toRoot")]
    pub to_root: String,
    /// The proof hashes (hex).
    pub proof: Vec<String>,
}

/// Proves the tree of `from` leaves is a prefix of the tree of `to` leaves.
pub async fn consistency(
    store: &dyn Store,
    from: u64,
    to: u64,
) -> Result<ConsistencyProof, LedgerError> {
    let stored = integrate(store).await?;
    if from == 0 || from > to || to > stored {
        return Err(LedgerError::NotFound(format!(
            "need 1 ≤ from ≤ to ≤ {stored} (the tree size), got from={from} to={to}"
        )));
    }
    let have = fetch(
        store,
        &[
            Need::Consistency { t: to, n: from },
            Need::Root(to),
            Need::Root(from),
        ],
    )
    .await?;
    Ok(ConsistencyProof {
        from,
        to,
        from_root: hex::encode(tree::root(from, &have)?),
        to_root: hex::encode(tree::root(to, &have)?),
        proof: tree::consistency_proof(to, from, &have)?
            .iter()
            .map(hex::encode)
            .collect(),
    })
}

/// The first problem `verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The first bad ledger position (for a checkpoint: the tree size it signs).
    pub seq: u64,
    /// What is wrong.
    pub problem: String,
}

/// Recomputed hashes of one stored event: `(seq, stored event hash, recomputed event hash, stored leaf hash,
/// recomputed leaf hash)`.
type Recomputed = (u64, String, Option<String>, String, [u8; 32]);

fn recompute(e: &suyuan_store::LedgerRecord) -> Recomputed {
    let recomputed = serde_json::from_str(&e.body)
        .ok()
        .and_then(|v| suyuan_epcis::jsonld::parse_stored(&v).ok())
        .and_then(|mut v| v.pop())
        .map(|ev| suyuan_epcis::event_hash(&ev));
    (
        e.seq,
        e.event_hash.clone(),
        recomputed,
        e.leaf_hash.clone(),
        e.recomputed_leaf(),
    )
}

/// What `verify` checked.
#[derive(Debug, Clone, Serialize)]
pub struct Verified {
    /// Events whose event hash, leaf hash and tree position were recomputed.
    pub events: u64,
    /// Checkpoints whose signature and root were checked.
    pub checkpoints: u64,
    /// The first problem, if any.
    pub finding: Option<Finding>,
}

/// Recomputes every event hash, leaf hash and stored tree hash from the stored events, and checks every
/// checkpoint's signature (with `verifier_key`) and root; stops at the first problem. `progress` gets the
/// number of events checked so far.
pub async fn verify(
    store: &dyn Store,
    verifier_key: &str,
    progress: &(dyn Fn(u64) + Send + Sync),
) -> Result<Verified, LedgerError> {
    let checkpoints = store.checkpoints().await?;
    let tree_size = store.tree_size().await?;
    let mut edge = Fetched::default();
    let mut roots = std::collections::BTreeMap::new();
    let wanted: std::collections::BTreeSet<u64> = checkpoints.iter().map(|c| c.size).collect();
    let mut expected_seq = 1u64;
    let found = |seq: u64, problem: String| Verified {
        events: seq.saturating_sub(1),
        checkpoints: 0,
        finding: Some(Finding { seq, problem }),
    };
    let mut next = store.ledger_records(0, BATCH).await?;
    loop {
        let batch = std::mem::take(&mut next);
        let Some(last_seq) = batch.last().map(|e| e.seq) else {
            break;
        };
        // Recompute hashes on the blocking pool (the CPU-heavy part) while the next batch is read.
        let hashing = tokio::task::spawn_blocking(move || {
            let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
            let chunk = batch.len().div_ceil(threads).max(1);
            std::thread::scope(|sc| {
                let parts: Vec<_> = batch
                    .chunks(chunk)
                    .map(|part| sc.spawn(move || part.iter().map(recompute).collect::<Vec<_>>()))
                    .collect();
                let mut all = Vec::with_capacity(batch.len());
                for p in parts {
                    all.extend(
                        p.join()
                            .map_err(|_| "a verify thread panicked".to_string())?,
                    );
                }
                Ok::<_, String>(all)
            })
        });
        let (checked, prefetched) = tokio::join!(hashing, store.ledger_records(last_seq, BATCH));
        next = prefetched?;
        let checked = checked
            .map_err(|e| LedgerError::NotFound(format!("verify task failed: {e}")))?
            .map_err(LedgerError::NotFound)?;
        let first_size = expected_seq - 1;
        let mut leaves = Vec::with_capacity(checked.len());
        for (seq, stored_hash, recomputed, stored_leaf, leaf) in checked {
            if seq != expected_seq {
                return Ok(found(
                    expected_seq,
                    format!("seq {expected_seq} is missing (next stored is {seq})"),
                ));
            }
            match recomputed {
                Some(h) if h == stored_hash => {}
                Some(h) => {
                    return Ok(found(
                        seq,
                        format!("event hash is {stored_hash}, the event's content hashes to {h}"),
                    ));
                }
                None => {
                    return Ok(found(
                        seq,
                        "the stored event is not a valid EPCIS event".into(),
                    ));
                }
            }
            if hex::encode(leaf) != stored_leaf {
                return Ok(found(
                    seq,
                    format!(
                        "leaf hash is {stored_leaf}, the record hashes to {}",
                        hex::encode(leaf)
                    ),
                ));
            }
            leaves.push(leaf);
            expected_seq += 1;
        }
        // Extend the recomputed tree, compare with the stored hashes, keep only the right edge.
        let new = tree::append(first_size, &leaves, &mut edge)?;
        let size = first_size + leaves.len() as u64;
        let covered = size.min(tree_size);
        if covered > first_size {
            let first_idx = tree::stored_count(first_size);
            let n = (tree::stored_count(covered) - first_idx) as usize;
            let idx: Vec<u64> = (first_idx..first_idx + n as u64).collect();
            let stored = store.tree_hashes(&idx).await?;
            if let Some(i) = (0..n).find(|&i| stored[i] != new[i]) {
                let seq = tree::first_record_of(idx[i]) + 1;
                return Ok(found(
                    seq,
                    format!(
                        "stored tree hash {} (over events from seq {seq}) differs from the hash recomputed from the events",
                        idx[i]
                    ),
                ));
            }
        }
        for s in wanted.range(first_size + 1..=size) {
            let need = tree::needed(&Need::Root(*s))?;
            let partial = Fetched(
                need.iter()
                    .filter_map(|i| edge.0.get(i).map(|h| (*i, *h)))
                    .collect(),
            );
            if let Ok(r) = tree::root(*s, &partial) {
                roots.insert(*s, r);
            }
        }
        let keep = tree::needed(&Need::Append(size))?;
        edge.0.retain(|i, _| keep.binary_search(i).is_ok());
        progress(size);
    }
    let events = expected_seq - 1;
    if tree_size > events {
        return Ok(found(
            events + 1,
            format!(
                "the tree covers {tree_size} leaves but only {events} events are stored (events deleted or truncated)"
            ),
        ));
    }
    for c in &checkpoints {
        let parsed = match checkpoint::verify(&c.note, verifier_key) {
            Ok(p) => p,
            Err(e) => {
                return Ok(Verified {
                    events,
                    checkpoints: 0,
                    finding: Some(Finding {
                        seq: c.size,
                        problem: format!("checkpoint at size {}: {e}", c.size),
                    }),
                });
            }
        };
        let problem = if parsed.size != c.size {
            Some(format!(
                "checkpoint stored as size {} signs size {}",
                c.size, parsed.size
            ))
        } else if c.size > events {
            Some(format!(
                "checkpoint signs {} events, only {events} are stored (events deleted or truncated)",
                c.size
            ))
        } else if roots.get(&c.size) != Some(&parsed.root) {
            Some(format!(
                "checkpoint at size {} signs root {}, the stored events give {}",
                c.size,
                hex::encode(parsed.root),
                roots.get(&c.size).map(hex::encode).unwrap_or_default()
            ))
        } else {
            None
        };
        if let Some(problem) = problem {
            return Ok(Verified {
                events,
                checkpoints: 0,
                finding: Some(Finding {
                    seq: c.size.min(events + 1),
                    problem,
                }),
            });
        }
    }
    Ok(Verified {
        events,
        checkpoints: checkpoints.len() as u64,
        finding: None,
    })
}

impl crate::Engine {
    /// Brings the Merkle tree up to the ledger and signs a checkpoint of it with `signer` (none when the tree
    /// is empty); the latest checkpoint when it already covers the tree.
    pub async fn sign_checkpoint(
        &self,
        signer: &CheckpointSigner,
    ) -> Result<Option<StoredCheckpoint>, LedgerError> {
        checkpoint(self.store().as_ref(), signer).await
    }

    /// The inclusion proof of the event at `seq` in the tree of `size` leaves (the current tree when `None`).
    pub async fn inclusion(
        &self,
        seq: u64,
        size: Option<u64>,
    ) -> Result<InclusionProof, LedgerError> {
        inclusion(self.store().as_ref(), seq, size).await
    }

    /// The consistency proof between the trees of `from` and `to` leaves.
    pub async fn consistency(&self, from: u64, to: u64) -> Result<ConsistencyProof, LedgerError> {
        consistency(self.store().as_ref(), from, to).await
    }
}
