//! The RFC 6962 Merkle tree over the ledger's leaf hashes, kept as tlog "stored hashes" (every complete
//! subtree's root, about two per leaf), with inclusion and consistency proofs. The arithmetic is the
//! `tlog_tiles` crate's (a port of Go's `sumdb/tlog`); this module adapts it to asynchronous stores: the
//! hashes a computation needs depend only on the tree sizes, never on hash values, so [`needed`] finds them
//! first, the caller fetches them, and the computation then runs on what was fetched.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

use tlog_tiles::tlog::{self, HashReader};

use crate::Hash;

/// Why a tree computation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    /// A stored hash the computation needs was not provided.
    #[error("stored hash {0} is missing")]
    Missing(u64),
    /// The proof does not prove what it claims.
    #[error("the proof does not verify")]
    InvalidProof,
    /// Sizes out of range (e.g. a record beyond the tree).
    #[error("{0}")]
    Range(String),
}

/// Stored hashes fetched for one computation, by stored-hash index.
#[derive(Debug, Default, Clone)]
pub struct Fetched(pub HashMap<u64, Hash>);

impl HashReader for Fetched {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<tlog::Hash>, tlog::Error> {
        indexes
            .iter()
            .map(|i| {
                self.0
                    .get(i)
                    .map(|h| tlog::Hash(*h))
                    .ok_or(tlog::Error::IndexesNotInTree)
            })
            .collect()
    }
}

/// Records which indexes a computation asks for, answering zeros.
#[derive(Default)]
struct Recorder(RefCell<BTreeSet<u64>>);

impl HashReader for Recorder {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<tlog::Hash>, tlog::Error> {
        self.0.borrow_mut().extend(indexes.iter().copied());
        Ok(vec![tlog::Hash([0; 32]); indexes.len()])
    }
}

/// What a computation reads, in increasing order.
pub enum Need {
    /// The root of a tree of this size.
    Root(u64),
    /// An inclusion proof of record `n` (0-based) in a tree of size `t`.
    Inclusion {
        /// Tree size.
        t: u64,
        /// Record index.
        n: u64,
    },
    /// A consistency proof from size `n` to size `t`.
    Consistency {
        /// Newer size.
        t: u64,
        /// Older size.
        n: u64,
    },
    /// Appending records from `n` on (the right edge of the tree of size `n`).
    Append(u64),
}

/// The stored-hash indexes a computation will read.
pub fn needed(need: &Need) -> Result<Vec<u64>, TreeError> {
    let r = Recorder::default();
    match *need {
        Need::Inclusion { t, n } => {
            if n >= t {
                return Err(TreeError::Range(format!(
                    "record {n} is not in a tree of size {t}"
                )));
            }
            tlog::prove_record(t, n, &r).map_err(|e| TreeError::Range(e.to_string()))?;
        }
        Need::Consistency { t, n } => {
            if n > t {
                return Err(TreeError::Range(format!("size {n} is larger than {t}")));
            }
            tlog::prove_tree(t, n, &r).map_err(|e| TreeError::Range(e.to_string()))?;
        }
        // Every later merge pairs new subtrees with the perfect subtrees the size decomposes into: the
        // same hashes as the root of the tree of size n.
        Need::Root(n) | Need::Append(n) => {
            tlog::tree_hash(n, &r).map_err(|e| TreeError::Range(e.to_string()))?;
        }
    }
    Ok(r.0.into_inner().into_iter().collect())
}

fn missing(e: tlog::Error) -> TreeError {
    match e {
        tlog::Error::InvalidProof => TreeError::InvalidProof,
        other => TreeError::Range(other.to_string()),
    }
}

/// Appends leaves `first..first + leaves.len()` (0-based record indexes) to the stored hashes in `have`,
/// returning the new stored hashes in index order (their first index is `stored_hash_count(first)`).
pub fn append(first: u64, leaves: &[Hash], have: &mut Fetched) -> Result<Vec<Hash>, TreeError> {
    let mut out = Vec::with_capacity(leaves.len() * 2);
    let mut next = tlog::stored_hash_count(first);
    for (i, leaf) in leaves.iter().enumerate() {
        let n = first + i as u64;
        let hashes =
            tlog::stored_hashes_for_record_hash(n, tlog::Hash(*leaf), &*have).map_err(missing)?;
        for h in hashes {
            have.0.insert(next, h.0);
            out.push(h.0);
            next += 1;
        }
    }
    Ok(out)
}

/// The first record (0-based) under the stored hash at `index`.
pub fn first_record_of(index: u64) -> u64 {
    let (level, n) = tlog::split_stored_hash_index(index);
    n << level
}

/// Number of stored hashes for a tree of `n` records.
pub fn stored_count(n: u64) -> u64 {
    tlog::stored_hash_count(n)
}

/// The root of the tree of size `n`.
pub fn root(n: u64, have: &Fetched) -> Result<Hash, TreeError> {
    tlog::tree_hash(n, have).map(|h| h.0).map_err(missing)
}

/// The inclusion proof of record `n` in the tree of size `t`.
pub fn inclusion_proof(t: u64, n: u64, have: &Fetched) -> Result<Vec<Hash>, TreeError> {
    tlog::prove_record(t, n, have)
        .map(|p| p.into_iter().map(|h| h.0).collect())
        .map_err(missing)
}

/// The consistency proof from size `n` to size `t`.
pub fn consistency_proof(t: u64, n: u64, have: &Fetched) -> Result<Vec<Hash>, TreeError> {
    tlog::prove_tree(t, n, have)
        .map(|p| p.into_iter().map(|h| h.0).collect())
        .map_err(missing)
}

/// Checks that `proof` shows record `n` with leaf hash `leaf` in the tree of size `t` with root `root`.
pub fn check_inclusion(
    proof: &[Hash],
    t: u64,
    root: Hash,
    n: u64,
    leaf: Hash,
) -> Result<(), TreeError> {
    let p: Vec<tlog::Hash> = proof.iter().map(|h| tlog::Hash(*h)).collect();
    tlog::check_record(&p, t, tlog::Hash(root), n, tlog::Hash(leaf))
        .map_err(|_| TreeError::InvalidProof)
}

/// Checks that `proof` shows the tree of size `n` with root `old` is a prefix of the one of size `t` with
/// root `new`.
pub fn check_consistency(
    proof: &[Hash],
    t: u64,
    new: Hash,
    n: u64,
    old: Hash,
) -> Result<(), TreeError> {
    let p: Vec<tlog::Hash> = proof.iter().map(|h| tlog::Hash(*h)).collect();
    tlog::check_tree(&p, t, tlog::Hash(new), n, tlog::Hash(old))
        .map_err(|_| TreeError::InvalidProof)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{leaf_hash, merkle_root};

    fn build(leaves: &[Hash]) -> Fetched {
        let mut f = Fetched::default();
        for (i, l) in leaves.iter().enumerate() {
            append(i as u64, std::slice::from_ref(l), &mut f).expect("append");
        }
        f
    }

    #[test]
    fn stored_hashes_give_the_rfc6962_root_and_proofs_verify() {
        let leaves: Vec<Hash> = (0..37u32).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let all = build(&leaves);
        assert_eq!(all.0.len() as u64, stored_count(37));
        for t in [1u64, 2, 3, 8, 13, 37] {
            let r = root(t, &all).expect("root");
            assert_eq!(r, merkle_root(&leaves[..t as usize]), "size {t}");
            for n in 0..t {
                let p = inclusion_proof(t, n, &all).expect("proof");
                check_inclusion(&p, t, r, n, leaves[n as usize]).expect("inclusion");
                assert!(check_inclusion(&p, t, r, n, leaf_hash(b"forged")).is_err());
            }
            for old in 1..=t {
                let p = consistency_proof(t, old, &all).expect("consistency");
                check_consistency(&p, t, r, old, merkle_root(&leaves[..old as usize]))
                    .expect("consistent");
            }
        }
    }

    #[test]
    fn only_the_needed_hashes_are_read() {
        let leaves: Vec<Hash> = (0..100u32).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let all = build(&leaves);
        let need = needed(&Need::Inclusion { t: 100, n: 41 }).expect("needed");
        assert!(need.len() <= 8, "{}", need.len());
        let partial = Fetched(need.iter().map(|i| (*i, all.0[i])).collect());
        let r = root(100, &all).expect("root");
        let p = inclusion_proof(100, 41, &partial).expect("proof from the fetched hashes only");
        check_inclusion(&p, 100, r, 41, leaves[41]).expect("valid");
        // Appending continues from the right edge alone.
        let edge = needed(&Need::Append(100)).expect("edge");
        let mut f = Fetched(edge.iter().map(|i| (*i, all.0[i])).collect());
        let more: Vec<Hash> = (100..130u32).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        append(100, &more, &mut f).expect("append from the edge");
        let need = needed(&Need::Root(130)).expect("root needs");
        let have = Fetched(need.iter().map(|i| (*i, f.0[i])).collect());
        let mut every = leaves.clone();
        every.extend(more);
        assert_eq!(root(130, &have).expect("root"), merkle_root(&every));
    }
}
