//! The append-only ledger's pure parts: the canonical bytes of a stored record, RFC 6962 leaf and node
//! hashes, Merkle tree heads, stored-hash trees with proofs, and signed checkpoints. Storage lives elsewhere.

pub mod checkpoint;
pub mod jcs;
pub mod tree;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// A 32-byte SHA-256 hash.
pub type Hash = [u8; 32];

/// One ledger record: what the leaf hash covers.
#[derive(Debug, Clone, PartialEq)]
pub struct Record<'a> {
    /// Gapless position in the ledger, from 1.
    pub seq: u64,
    /// When Suyuan recorded the event (RFC 3339, UTC, milliseconds).
    pub record_time: &'a str,
    /// The event's eventID.
    pub event_id: &'a str,
    /// The canonical EPCIS event hash.
    pub event_hash: &'a str,
    /// The event as stored (JSON-LD object).
    pub event: &'a Value,
}

impl Record<'_> {
    /// The canonical bytes of the record (JCS of `{seq, recordTime, eventID, eventHash, event}`).
    pub fn canonical_bytes(&self) -> String {
        jcs::canonical_json(&json!({
            "seq": self.seq,
            "recordTime": self.record_time,
            "eventID": self.event_id,
            "eventHash": self.event_hash,
            "event": self.event,
        }))
    }

    /// RFC 6962 leaf hash: SHA-256(0x00 ‖ canonical bytes).
    pub fn leaf_hash(&self) -> Hash {
        leaf_hash(self.canonical_bytes().as_bytes())
    }
}

/// RFC 6962 leaf hash of arbitrary bytes.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// RFC 6962 interior node hash.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The Merkle tree head (RFC 6962 MTH) over leaf hashes; the hash of the empty string for no leaves.
pub fn merkle_root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => leaves[0],
        n => {
            let k = n.next_power_of_two() / 2;
            let k = if k == n { k / 2 } else { k };
            node_hash(&merkle_root(&leaves[..k]), &merkle_root(&leaves[k..]))
        }
    }
}

/// Lowercase hex of a hash.
pub fn to_hex(h: &Hash) -> String {
    hex::encode(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_matches_rfc6962_split() {
        let l: Vec<Hash> = (0u8..5).map(|i| leaf_hash(&[i])).collect();
        let expect = node_hash(
            &node_hash(&node_hash(&l[0], &l[1]), &node_hash(&l[2], &l[3])),
            &l[4],
        );
        assert_eq!(merkle_root(&l), expect);
        assert_eq!(merkle_root(&l[..2]), node_hash(&l[0], &l[1]));
    }

    #[test]
    fn leaf_hash_covers_every_record_field() {
        let ev = json!({"type": "ObjectEvent"});
        let r = Record {
            seq: 1,
            record_time: "2024-01-01T00:00:00.000Z",
            event_id: "urn:uuid:1",
            event_hash: "ni:x",
            event: &ev,
        };
        let base = r.leaf_hash();
        assert_ne!(
            Record {
                seq: 2,
                ..r.clone()
            }
            .leaf_hash(),
            base
        );
        assert_ne!(
            Record {
                record_time: "2024-01-01T00:00:00.001Z",
                ..r.clone()
            }
            .leaf_hash(),
            base
        );
        assert_ne!(
            Record {
                event_id: "urn:uuid:2",
                ..r.clone()
            }
            .leaf_hash(),
            base
        );
    }
}
