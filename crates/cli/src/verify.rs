//! `suyuan verify`, `suyuan checkpoint` and `suyuan verify-proof`: tamper evidence from the command line.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;
use suyuan_ledger::{checkpoint, tree};

use crate::StoreArgs;

fn text_or_file(s: &str) -> Result<String> {
    if Path::new(s).is_file() {
        Ok(std::fs::read_to_string(s)
            .with_context(|| format!("cannot read {s}"))?
            .trim()
            .to_string())
    } else {
        Ok(s.trim().to_string())
    }
}

/// Recomputes and checks everything; exit 1 names the first bad seq.
pub async fn verify(store_args: &StoreArgs, verifier_key: Option<&str>) -> Result<ExitCode> {
    let key = match verifier_key {
        Some(k) => text_or_file(k)?,
        None => store_args.existing_key()?.verifier_key().to_string(),
    };
    let store = store_args.open().await?;
    verify_store(store.as_ref(), &key).await
}

/// Verifies `store` with `verifier_key` behind a progress bar and prints the outcome: exit 0 when intact, 1
/// naming the first bad seq.
pub async fn verify_store(store: &dyn suyuan_store::Store, verifier_key: &str) -> Result<ExitCode> {
    let total = store.stats().await?.last_seq;
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} events  {per_sec}  eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = std::time::Instant::now();
    let progress = {
        let bar = bar.clone();
        move |n: u64| bar.set_position(n)
    };
    let v = suyuan_engine::ledger::verify(store, verifier_key, &progress).await?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    match v.finding {
        None => {
            println!(
                "intact: {} events (event hash, leaf hash, tree) and {} signed checkpoints verified in {secs:.1} s ({:.0} events/s)",
                v.events,
                v.checkpoints,
                v.events as f64 / secs.max(1e-9)
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(f) => {
            println!("TAMPERED at seq {}: {}", f.seq, f.problem);
            Ok(ExitCode::from(1))
        }
    }
}

/// Integrates the tree and signs a checkpoint now.
pub async fn checkpoint(store_args: &StoreArgs) -> Result<ExitCode> {
    let signer = store_args.signer()?;
    let store = store_args.open().await?;
    match suyuan_engine::ledger::checkpoint(store.as_ref(), &signer).await? {
        Some(c) => {
            print!("{}", c.note);
            Ok(ExitCode::SUCCESS)
        }
        None => bail!("the ledger is empty: nothing to checkpoint"),
    }
}

fn hex32(v: &Value, what: &str) -> Result<[u8; 32]> {
    let s = v
        .as_str()
        .with_context(|| format!("{what}: expected a hex string"))?;
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).with_context(|| format!("{what}: not 32 bytes of hex"))?;
    Ok(out)
}

/// Checks a served inclusion proof against a signed checkpoint and the verifier key, offline.
pub fn verify_proof(proof: &Path, key: &str, saved: Option<&Path>) -> Result<ExitCode> {
    let p: Value = serde_json::from_str(
        &std::fs::read_to_string(proof)
            .with_context(|| format!("cannot read {}", proof.display()))?,
    )
    .context("the proof is not JSON")?;
    let key = text_or_file(key)?;
    let note = match saved {
        Some(f) => {
            std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?
        }
        None => p["checkpoint"]
            .as_str()
            .context("the proof carries no checkpoint; pass --checkpoint FILE")?
            .to_string(),
    };
    let cp = match checkpoint::verify(&note, &key) {
        Ok(c) => c,
        Err(e) => {
            println!("INVALID: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    let size = p["treeSize"]
        .as_u64()
        .context("treeSize: expected a number")?;
    let seq = p["seq"].as_u64().context("seq: expected a number")?;
    if cp.size != size {
        println!(
            "INVALID: the checkpoint signs size {}, the proof is for size {size}",
            cp.size
        );
        return Ok(ExitCode::from(1));
    }
    let leaf = hex32(&p["leafHash"], "leafHash")?;
    let path = p["proof"]
        .as_array()
        .context("proof: expected a list of hashes")?
        .iter()
        .map(|h| hex32(h, "proof"))
        .collect::<Result<Vec<_>>>()?;
    match tree::check_inclusion(&path, size, cp.root, seq.saturating_sub(1), leaf) {
        Ok(()) => {
            println!(
                "valid: seq {seq} (leaf {}) is in the ledger of {size} events signed by {}",
                hex::encode(leaf),
                cp.origin
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("INVALID: {e}");
            Ok(ExitCode::from(1))
        }
    }
}
