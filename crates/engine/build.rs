//! Fingerprints the source of the operations projections' folds, so that a snapshot of them written by a
//! build with other folds (another event model, another fold, another layout) is rebuilt from the ledger
//! instead of being read as if nothing had changed.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The sources a fold's result depends on: the event model and its parsing, the pure projections, and the
/// engine's own operations and quality folds.
const SOURCES: [&str; 7] = [
    "../core/src",
    "../epcis/src",
    "../ops/src",
    "../quality/src",
    "src/operations",
    "src/dashboard",
    "src/quality",
];

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let mut list = Vec::new();
    for s in SOURCES {
        println!("cargo:rerun-if-changed={s}");
        files(&root.join(s), &mut list);
    }
    list.sort();
    let mut h = Sha256::new();
    for path in &list {
        let rel = path.strip_prefix(&root).unwrap_or(path);
        h.update(rel.to_string_lossy().as_bytes());
        h.update([0]);
        h.update(std::fs::read(path).unwrap_or_default());
        h.update([0]);
    }
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    println!("cargo:rustc-env=SUYUAN_FOLD_FINGERPRINT={hex}");
}
