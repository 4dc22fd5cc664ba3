//! Import and export of EPCIS documents, and `suyuan hash`.

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use suyuan_engine::accounts::Principal;
use suyuan_engine::submit::{Input, Submission};
use suyuan_engine::{CaptureError, Engine, MAX_BATCH, Pipeline};
use suyuan_store::Store;

/// Events per capture while importing.
const CHUNK: usize = 1000;

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
    let value: serde_json::Value = if suyuan_epcis::xml::looks_like_xml(&bytes) {
        match suyuan_epcis::xml::document_from_xml(&String::from_utf8_lossy(&bytes)) {
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
    match suyuan_epcis::parse_capture(&value) {
        Ok(events) => Some((events, extra)),
        Err(errs) => {
            for e in &errs.0 {
                eprintln!("{}: {e}", path.display());
            }
            None
        }
    }
}

/// `suyuan import`: each file goes through the engine's submit pipeline — the checks `POST /api/v1/events`
/// and `POST /epcis/capture` apply, so the same document gets the same answer — and is stored whole in one
/// transaction; a file of more than one capture's events is stored in chunks after the whole file passed,
/// and a rerun skips what is stored.
pub async fn import(store: &Arc<dyn Store>, files: &[PathBuf]) -> Result<ExitCode> {
    let engine = Engine::new(store.clone());
    let me = Principal::system(&crate::access::cli_actor());
    let mut invalid = false;
    for path in files {
        let checked = match read_and_check(&engine, &me, path).await {
            Ok(c) => c,
            Err(Some(e)) => return Err(e),
            Err(None) => {
                invalid = true;
                continue;
            }
        };
        for w in &checked.warnings {
            eprintln!("{}: warning: {}: {}", path.display(), w.pointer, w.detail);
        }
        let (stored, skipped, elements) = if checked.events.len() <= MAX_BATCH {
            let out = match engine.commit_checked(&me.user, checked).await {
                Ok(out) => out,
                // An eventID reused for other content: the file is refused, like any invalid one.
                Err(e @ CaptureError::Conflict { .. }) => {
                    for f in e.located().unwrap_or_default() {
                        eprintln!("{}: {f}", path.display());
                    }
                    invalid = true;
                    continue;
                }
                Err(e) => {
                    return Err(anyhow::Error::new(e).context(format!(
                        "{}: storing failed (nothing of it was stored)",
                        path.display()
                    )));
                }
            };
            (out.stored, out.duplicates, out.master_data)
        } else {
            store_in_chunks(&engine, &me, path, checked).await?
        };
        let md = if elements > 0 {
            format!(", {elements} master data elements")
        } else {
            String::new()
        };
        println!(
            "{}: {stored} events stored, {skipped} already stored{md}",
            path.display()
        );
    }
    Ok(if invalid {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// Reads a file and puts it through the submit checks: `Err(None)` when it is refused (every located reason
/// printed), `Err(Some(_))` when the store failed.
async fn read_and_check(
    engine: &Engine,
    me: &Principal,
    path: &Path,
) -> Result<suyuan_engine::submit::Checked, Option<anyhow::Error>> {
    let bytes = std::fs::read(path).map_err(|e| {
        eprintln!("{}: cannot read: {e}", path.display());
        None
    })?;
    let refused = |e: &CaptureError| {
        match e.located() {
            Some(list) => {
                for f in &list {
                    eprintln!("{}: {f}", path.display());
                }
            }
            None => eprintln!("{}: {e}", path.display()),
        }
        None
    };
    let input = Input::from_bytes(&bytes).map_err(|e| refused(&e))?;
    let mut submission = Submission::rollback(input);
    submission.limit = usize::MAX;
    match engine.check(me, submission).await {
        Ok(c) => Ok(c),
        Err(CaptureError::Store(e)) => Err(Some(anyhow::Error::new(e).context(format!(
            "{}: the store failed while checking it",
            path.display()
        )))),
        Err(e) => Err(refused(&e)),
    }
}

/// Stores a checked file larger than one capture: its master data first, then its events in pipelined
/// chunks (each atomic; a rerun skips the chunks already stored).
async fn store_in_chunks(
    engine: &Engine,
    me: &Principal,
    path: &Path,
    checked: suyuan_engine::submit::Checked,
) -> Result<(usize, usize, usize)> {
    let elements = checked.master_data.len();
    engine
        .save_master_data(&me.user, checked.master_data)
        .await
        .with_context(|| format!("{}: storing its master data failed", path.display()))?;
    let mut events = checked.events;
    let bar = ProgressBar::new(events.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg} {bar:40} {pos}/{len}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(path.display().to_string());
    let mut pipeline = Pipeline::new(engine.clone());
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
    bar.finish_and_clear();
    Ok((totals.stored, totals.duplicates, elements))
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
        suyuan_epcis::jsonld::EPCIS_CONTEXT,
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
    let Some((events, ignore)) = read_document_with(path, suyuan_epcis::hash::ignored_fields)
    else {
        return ExitCode::from(2);
    };
    for e in &events {
        let pre = suyuan_epcis::hash::prehash_ignoring(e, &ignore);
        println!("{}", suyuan_epcis::hash::hash_of_prehash(&pre));
        if with_prehash {
            println!("{pre}");
        }
    }
    ExitCode::SUCCESS
}
