//! Signed checkpoints in the C2SP formats: `tlog-checkpoint` bodies (`origin`, `size`, base64 root) signed as
//! `signed-note`s with Ed25519. The key is a 32-byte seed kept by the caller (Suyuan keeps it in the data
//! directory, mode 0600); the verifier key `name+keyid+base64(0x01 ‖ public key)` is what a regulator holds.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use signed_note::{Note, StandardSigner, StandardVerifier, VerifierList};

use crate::Hash;

/// Why a checkpoint or key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The key text is malformed.
    #[error("key: {0}")]
    Key(String),
    /// The note is malformed or its signature does not verify with the key.
    #[error("signature: {0}")]
    Signature(String),
    /// The note's body is not a checkpoint.
    #[error("checkpoint: {0}")]
    Body(String),
}

/// A signing key for checkpoints.
pub struct CheckpointSigner {
    name: String,
    signer: StandardSigner,
    verifier_key: String,
}

fn key_id(name: &str, public: &[u8; 32]) -> u32 {
    let mut k = vec![0x01u8];
    k.extend_from_slice(public);
    signed_note::key_id(name, &k)
}

impl CheckpointSigner {
    /// A signer named `name` (the log's origin, e.g. `suyuan.example.cn/ledger`) from a 32-byte seed.
    pub fn new(name: &str, seed: &[u8; 32]) -> Result<Self, CheckpointError> {
        if !signed_note::is_key_name_valid(name) {
            return Err(CheckpointError::Key(format!(
                "'{name}' is not a valid key name"
            )));
        }
        let sk = ed25519_dalek::SigningKey::from_bytes(seed);
        let public = sk.verifying_key().to_bytes();
        let id = key_id(name, &public);
        let mut seed_k = vec![0x01u8];
        seed_k.extend_from_slice(seed);
        let skey = format!("PRIVATE+KEY+{name}+{id:08x}+{}", STANDARD.encode(&seed_k));
        let signer = StandardSigner::new(&skey).map_err(|e| CheckpointError::Key(e.to_string()))?;
        let verifier_key = signed_note::new_ed25519_verifier_key(name, &sk.verifying_key());
        Ok(CheckpointSigner {
            name: name.to_string(),
            signer,
            verifier_key,
        })
    }

    /// The verifier key to publish.
    pub fn verifier_key(&self) -> &str {
        &self.verifier_key
    }

    /// The origin (key name).
    pub fn origin(&self) -> &str {
        &self.name
    }

    /// A signed checkpoint for a tree of `size` leaves with `root`.
    pub fn sign(&self, size: u64, root: &Hash) -> Result<String, CheckpointError> {
        let body = format!("{}\n{size}\n{}\n", self.name, STANDARD.encode(root));
        let mut note =
            Note::new(body.as_bytes(), &[]).map_err(|e| CheckpointError::Body(e.to_string()))?;
        note.add_sigs(&[&self.signer])
            .map_err(|e| CheckpointError::Signature(e.to_string()))?;
        String::from_utf8(note.to_bytes()).map_err(|e| CheckpointError::Body(e.to_string()))
    }
}

/// A checkpoint whose signature verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Origin line.
    pub origin: String,
    /// Tree size.
    pub size: u64,
    /// Root hash.
    pub root: Hash,
}

/// Verifies a signed checkpoint with a verifier key and parses its body.
pub fn verify(note_text: &str, verifier_key: &str) -> Result<Checkpoint, CheckpointError> {
    let v = StandardVerifier::new(verifier_key).map_err(|e| CheckpointError::Key(e.to_string()))?;
    let list = VerifierList::new(vec![Box::new(v)]);
    let note = Note::from_bytes(note_text.as_bytes())
        .map_err(|e| CheckpointError::Signature(e.to_string()))?;
    let (verified, _) = note
        .verify(&list)
        .map_err(|e| CheckpointError::Signature(e.to_string()))?;
    if verified.is_empty() {
        return Err(CheckpointError::Signature(
            "no signature by this key".into(),
        ));
    }
    let text =
        std::str::from_utf8(note.text()).map_err(|e| CheckpointError::Body(e.to_string()))?;
    let mut lines = text.lines();
    let origin = lines.next().unwrap_or_default().to_string();
    let size = lines
        .next()
        .and_then(|l| l.parse::<u64>().ok())
        .ok_or_else(|| CheckpointError::Body("second line is not a tree size".into()))?;
    let root_bytes = lines
        .next()
        .and_then(|l| STANDARD.decode(l).ok())
        .ok_or_else(|| CheckpointError::Body("third line is not a base64 root hash".into()))?;
    let root: Hash = root_bytes
        .try_into()
        .map_err(|_| CheckpointError::Body("the root hash is not 32 bytes".into()))?;
    Ok(Checkpoint { origin, size, root })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_checkpoints_verify_and_tampering_is_caught() {
        let s = CheckpointSigner::new("suyuan.test/ledger", &[7u8; 32]).expect("signer");
        let root = [9u8; 32];
        let note = s.sign(42, &root).expect("sign");
        assert!(note.starts_with("suyuan.test/ledger\n42\n"));
        let c = verify(&note, s.verifier_key()).expect("verifies");
        assert_eq!((c.size, c.root), (42, root));
        let forged = note.replace("\n42\n", "\n43\n");
        assert!(verify(&forged, s.verifier_key()).is_err());
        let other = CheckpointSigner::new("suyuan.test/ledger", &[8u8; 32]).expect("other key");
        assert!(
            verify(&note, other.verifier_key()).is_err(),
            "another key does not verify it"
        );
    }
}
