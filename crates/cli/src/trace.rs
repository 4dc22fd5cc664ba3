//! `suyuan trace`: backward, forward and recall traces from the command line, as JSON or CSV.

use crate::{TraceDirection, TraceFormat};
use anyhow::Result;
use suyuan_engine::Engine;
use suyuan_server::AppState;

/// Prints the trace of `id` in `direction`; exit 2 when nothing is recorded for it.
pub async fn trace(
    engine: Engine,
    direction: TraceDirection,
    id: &str,
    depth: Option<u32>,
    format: TraceFormat,
) -> Result<std::process::ExitCode> {
    let tracer = engine.trace_index().await?;
    if tracer.snapshot_due() {
        engine.save_snapshots().await;
    }
    let key = suyuan_core::projection::object_key(id);
    let opts = suyuan_trace::TraceOptions {
        max_depth: depth,
        ..Default::default()
    };
    if let TraceDirection::Recall = direction {
        let state = AppState::new(engine.clone());
        let report = match suyuan_server::api::recall::report(&state, id, &opts).await {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{id}: {e}");
                return Ok(std::process::ExitCode::from(2));
            }
        };
        match format {
            TraceFormat::Csv => print!("{}", suyuan_server::api::recall::to_csv(&report)),
            TraceFormat::Json => println!("{}", serde_json::to_string(&report)?),
        }
        return Ok(std::process::ExitCode::SUCCESS);
    }
    // The index lock is held only while the report is built, never across the anchor's store reads.
    let built = {
        let index = tracer.read();
        let found = match direction {
            TraceDirection::Backward => index.backward(&key, &opts),
            TraceDirection::Forward | TraceDirection::Recall => index.forward(&key, &opts),
        };
        found.map(|t| {
            let ms = |m: Option<i64>| {
                m.and_then(suyuan_core::time::format_unix_millis)
                    .unwrap_or_default()
            };
            match format {
                TraceFormat::Csv => {
                    // A reader that stops early (`| head`) closes the pipe: stop writing, not a panic.
                    use std::io::Write;
                    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                    let mut write = || -> std::io::Result<()> {
                        writeln!(out, "id,type,depth,from,until")?;
                        for n in &t.nodes {
                            let id = index.name(n.node);
                            writeln!(
                                out,
                                "{},{},{},{},{}",
                                suyuan_server::api::recall::csv_field(&id),
                                suyuan_trace::node_kind(&id),
                                n.depth,
                                ms(n.from_ms),
                                ms(n.until_ms)
                            )?;
                        }
                        out.flush()
                    };
                    if let Err(e) = write()
                        && e.kind() != std::io::ErrorKind::BrokenPipe
                    {
                        eprintln!("error writing the trace: {e}");
                    }
                    None
                }
                TraceFormat::Json => {
                    let edges: Vec<serde_json::Value> = t
                        .edges
                        .iter()
                        .filter_map(|e| index.edge(*e))
                        .map(|e| serde_json::json!({"from": index.name(e.from), "to": index.name(e.to), "relation": e.relation, "seq": e.seq}))
                        .collect();
                    let mut seqs: Vec<u64> = t
                        .edges
                        .iter()
                        .filter_map(|e| index.edge(*e))
                        .flat_map(|e| std::iter::once(e.seq).chain(e.end_seq))
                        .collect();
                    seqs.sort_unstable();
                    seqs.dedup();
                    let out = serde_json::json!({"id": key, "nodes": t.nodes.iter().map(|n| { let id = index.name(n.node); serde_json::json!({
                        "id": id, "type": suyuan_trace::node_kind(&id), "depth": n.depth,
                        "from": n.from_ms.and_then(suyuan_core::time::format_unix_millis),
                        "until": n.until_ms.and_then(suyuan_core::time::format_unix_millis)})}).collect::<Vec<_>>(), "edges": edges});
                    Some((out, seqs))
                }
            }
        })
    };
    let Some(json_out) = built else {
        eprintln!("{id}: no genealogy recorded for this object (looked up as {key})");
        return Ok(std::process::ExitCode::from(2));
    };
    if let Some((mut out, seqs)) = json_out {
        // The newest stored checkpoint covering these events, and their hashes.
        let anchor = suyuan_server::api::ledger::anchor(&AppState::new(engine.clone()), &seqs)
            .await
            .map_err(|e| anyhow::anyhow!("ledger anchor: {e}"))?;
        out["ledger"] = serde_json::to_value(anchor)?;
        println!("{out}");
    }
    Ok(std::process::ExitCode::SUCCESS)
}
