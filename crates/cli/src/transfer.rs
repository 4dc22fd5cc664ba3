//! Import and export of EPCIS documents, and `suyuan hash`.

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use suyuan_engine::{Engine, Pipeline};
use suyuan_store::Store;

/// Events per capture while importing.
const CHUNK: usize = 1000;

/// Reads and validates a document; prints every located error and returns `None` when invalid.
fn read_document(path: &Path) -> Option<Vec<suyuan_core::Event>> {
    read_document_with(path, |_| ()).map(|(events, ())| events)
}

/// Reads an EPCIS document's events, and `also` of the whole document.
fn read_document_with<T>(
    path: &Path,
    also: impl FnOnce(&serde_json::Value) -> T,
) -> Option<(Vec<suyuan_core::Event>, T)> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{}: cannot read: {e}", path.display());
            return None;
        }
    };
    // EPCIS XML or JSON-LD, by the first character.
    let value: serde_json::Value = if suyuan_core::xml::looks_like_xml(&bytes) {
        match suyuan_core::xml::document_from_xml(&String::from_utf8_lossy(&bytes)) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("{}: {e}", path.display());
                return None;
            }
        }
    } else {
        match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("{}: not valid JSON: {e}", path.display());
                return None;
            }
        }
    };
    let extra = also(&value);
    match suyuan_core::parse_capture(&value) {
        Ok(events) => Some((events, extra)),
        Err(errs) => {
            for e in &errs.0 {
                eprintln!("{}: {e}", path.display());
            }
            None
        }
    }
}

/// `suyuan import`: validates each file whole, then stores it in chunks; a rerun skips what is stored.
pub async fn import(store: &Arc<dyn Store>, files: &[PathBuf]) -> Result<ExitCode> {
    let engine = Engine::new(store.clone());
    let mut invalid = false;
    for path in files {
        let Some(events) = read_document(path) else {
            invalid = true;
            continue;
        };
        // The plant's own codes are checked over the whole file too, before anything of it is stored.
        match engine.check_own_codes(&events).await {
            Ok(warnings) => {
                for w in warnings {
                    eprintln!("{}: warning: {}: {}", path.display(), w.pointer, w.detail);
                }
            }
            Err(suyuan_engine::CaptureError::Invalid(errs)) => {
                for e in &errs.0 {
                    eprintln!("{}: {e}", path.display());
                }
                invalid = true;
                continue;
            }
            Err(e) => return Err(e.into()),
        }
        let bar = ProgressBar::new(events.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{msg} {bar:40} {pos}/{len}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message(path.display().to_string());
        let mut pipeline = Pipeline::new(engine.clone());
        let mut events = events;
        while !events.is_empty() {
            let rest = events.split_off(events.len().min(CHUNK));
            let n = events.len();
            pipeline
                .push(std::mem::replace(&mut events, rest))
                .await
                .with_context(|| format!("{}: storing failed (rerun to resume)", path.display()))?;
            bar.inc(n as u64);
        }
        let totals = pipeline
            .finish()
            .await
            .with_context(|| format!("{}: storing failed (rerun to resume)", path.display()))?;
        let (stored, skipped) = (totals.stored, totals.duplicates);
        bar.finish_and_clear();
        println!(
            "{}: {stored} events stored, {skipped} already stored",
            path.display()
        );
    }
    Ok(if invalid {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// `suyuan export`: streams the ledger after `since_seq` as one EPCIS document.
pub async fn export(
    store: &Arc<dyn Store>,
    since_seq: u64,
    signer: &suyuan_ledger::checkpoint::CheckpointSigner,
) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let creation = suyuan_core::time::format_utc_millis(chrono::Utc::now());
    write!(
        out,
        "{{\"@context\":[\"{}\",{{\"sy\":\"{}\"}}],\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\",\"creationDate\":\"{creation}\",\"epcisBody\":{{\"eventList\":[",
        suyuan_core::jsonld::EPCIS_CONTEXT,
        suyuan_demo::SY_NS
    )?;
    // What the export covers, written beside it and appended as `sy:ledger` once the checkpoint is known.
    let mut covered = std::io::BufWriter::new(tempfile::tempfile()?);
    let mut after = since_seq;
    let mut first = true;
    loop {
        let page = store.events_after(after, 1000).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for e in &page {
            if !first {
                out.write_all(b",\n")?;
                covered.write_all(b",")?;
            }
            first = false;
            serde_json::to_writer(&mut out, &e.event_with_record_time())?;
            serde_json::to_writer(
                &mut covered,
                &serde_json::json!({"seq": e.seq, "eventID": e.event_id, "eventHash": e.event_hash, "leafHash": e.leaf_hash}),
            )?;
        }
    }
    let cp = suyuan_engine::ledger::checkpoint(store.as_ref(), signer).await?;
    let anchor = serde_json::json!({
        "treeSize": cp.as_ref().map(|c| c.size),
        "root": cp.as_ref().map(|c| c.root.clone()),
        "checkpoint": cp.as_ref().map(|c| c.note.clone()),
        "verifierKey": signer.verifier_key(),
    });
    let anchor = anchor.to_string();
    write!(
        out,
        "]}},\"sy:ledger\":{},\"events\":[",
        &anchor[..anchor.len() - 1]
    )?;
    let mut file = covered.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
    use std::io::Seek;
    file.seek(std::io::SeekFrom::Start(0))?;
    std::io::copy(&mut file, &mut out)?;
    out.write_all(b"]}}\n")?;
    out.flush()?;
    Ok(())
}

/// `suyuan hash FILE`: one hash per event in document order; exit 2 when the document is invalid.
pub fn hash(path: &Path, with_prehash: bool) -> ExitCode {
    // A hashing tool hashes any well-formed event, whenever it says it happened.
    suyuan_core::time::set_max_future_skew(None);
    let Some((events, ignore)) = read_document_with(path, suyuan_core::hash::ignored_fields) else {
        return ExitCode::from(2);
    };
    for e in &events {
        let pre = suyuan_core::hash::prehash_ignoring(e, &ignore);
        println!("{}", suyuan_core::hash::hash_of_prehash(&pre));
        if with_prehash {
            println!("{pre}");
        }
    }
    ExitCode::SUCCESS
}
