//! `suyuan bench ledger`: `suyuan verify` throughput and inclusion-proof latency on a SQLite store of the demo
//! factory (as many production lines as `--events` needs) with its Merkle tree and a checkpoint.

use std::time::Instant;

use anyhow::Result;
use serde_json::json;
use suyuan_engine::ledger;
use suyuan_ledger::checkpoint::CheckpointSigner;

use crate::bench::{median, percentile, round_to};

/// Runs the benchmark; prints a line per measurement and, with `json`, a JSON object last.
pub async fn run(
    json_out: bool,
    events: usize,
    proofs: usize,
    runs: usize,
    data: Option<std::path::PathBuf>,
) -> Result<()> {
    let (_dir, store) = crate::bench::demo_store(events, data.as_deref()).await?;
    let n = store.stats().await?.events;
    // An existing directory's checkpoints are signed with its own key (and the default origin).
    let signer = match &data {
        Some(d) => ledger::load_or_create_key(&d.join("ledger.key"), "suyuan.local/ledger")?,
        None => CheckpointSigner::new("bench.suyuan/ledger", &[1u8; 32])?,
    };
    let started = Instant::now();
    ledger::checkpoint(store.as_ref(), &signer).await?;
    let integrate_s = started.elapsed().as_secs_f64();
    println!("{n} events stored; Merkle tree built and checkpoint signed in {integrate_s:.2} s");
    // How much of verify is only reading the events back.
    let started = Instant::now();
    let (mut after, mut read) = (0u64, 0u64);
    loop {
        let page = store.events_after(after, 10_000).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        read += page.len() as u64;
    }
    let read_eps = read as f64 / started.elapsed().as_secs_f64();
    println!("reading the events back alone: {read_eps:.0} events/s");
    let mut rates = Vec::new();
    for run in 1..=runs {
        let started = Instant::now();
        let v = ledger::verify(store.as_ref(), signer.verifier_key(), &|_| {}).await?;
        let rate = v.events as f64 / started.elapsed().as_secs_f64();
        anyhow::ensure!(
            v.finding.is_none(),
            "the bench store does not verify: {:?}",
            v.finding
        );
        println!(
            "run {run}: verify {rate:.0} events/s ({} events, {} checkpoints)",
            v.events, v.checkpoints
        );
        rates.push(rate);
    }
    let mut lat = Vec::with_capacity(proofs);
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..proofs {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let seq = 1 + x % n;
        let started = Instant::now();
        let p = ledger::inclusion(store.as_ref(), seq, Some(n)).await?;
        lat.push(started.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(p.seq == seq, "wrong proof");
    }
    lat.sort_by(f64::total_cmp);
    let (p50, p99) = (percentile(&lat, 50.0), percentile(&lat, 99.0));
    let verify = median(rates);
    println!(
        "median: verify_eps {verify:.0}; inclusion proof p50 {p50:.3} ms, p99 {p99:.3} ms ({proofs} proofs at {n} events)"
    );
    if json_out {
        println!(
            "{}",
            json!({"verify_eps": round_to(verify, 0), "read_eps": round_to(read_eps, 0), "proof_p99_ms": round_to(p99, 3), "proof_p50_ms": round_to(p50, 3),
                "events": n, "integrate_s": round_to(integrate_s, 2), "runs": runs, "proofs": proofs})
        );
    }
    Ok(())
}
