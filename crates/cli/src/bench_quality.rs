//! `suyuan bench quality`: `hold_100k_ms` — putting a lot with `--units` descendants (cans made from it,
//! packed in cases of 100) on hold, durable: the hold events on the ledger and the projections updated;
//! `sampling_p99_us` — one GB/T 2828.1 plan lookup (code letter, arrows, sample size).

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, Result};
use serde_json::{Value, json};
use suyuan_engine::Engine;
use suyuan_engine::quality::holds::HoldRequest;
use suyuan_quality::sampling::{self, AQLS, Level, Severity};
use suyuan_store::{SqliteStore, Store};

use crate::bench::{median, percentile, round_to};

const GTIN_RAW: &str = "06901234000109";
const GTIN_CAN: &str = "06901234000116";

fn doc(events: Vec<Value>) -> Value {
    json!({"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-10-12T00:00:00Z",
        "epcisBody": {"eventList": events}})
}

fn at(v: Value) -> Value {
    let mut v = v;
    v["eventTime"] = json!("2026-10-12T08:00:00.000+08:00");
    v["eventTimeZoneOffset"] = json!("+08:00");
    v
}

/// A lot and `units` cans made from it, packed in cases of 100.
async fn goods(engine: &Engine, units: usize) -> Result<String> {
    let lot = format!("https://id.gs1.org/01/{GTIN_RAW}/10/HOLD1");
    engine
        .capture(&doc(vec![at(
            json!({"type": "ObjectEvent", "action": "ADD", "bizStep": "receiving",
            "quantityList": [{"epcClass": lot, "quantity": 1000, "uom": "KGM"}]}),
        )]))
        .await
        .context("receiving")?;
    let can = |i: usize| format!("https://id.gs1.org/01/{GTIN_CAN}/21/{i}");
    for start in (0..units).step_by(5_000) {
        let end = (start + 5_000).min(units);
        let mut events = vec![at(
            json!({"type": "TransformationEvent", "bizStep": "commissioning",
            "inputQuantityList": [{"epcClass": lot, "quantity": 1, "uom": "KGM"}],
            "outputEPCList": (start..end).map(can).collect::<Vec<_>>()}),
        )];
        for c in (start..end).step_by(100) {
            let body = format!("06901234{:09}", c / 100);
            let check = suyuan_core::gs1::check_digit(&body).unwrap_or(0);
            events.push(at(
                json!({"type": "AggregationEvent", "action": "ADD", "bizStep": "packing",
                "parentID": format!("https://id.gs1.org/00/{body}{check}"),
                "childEPCs": (c..(c + 100).min(end)).map(can).collect::<Vec<_>>()}),
            ));
        }
        engine.capture(&doc(events)).await.context("making cans")?;
    }
    Ok(lot)
}

/// Runs the bench and prints its figures.
pub async fn run(json_out: bool, units: usize, runs: usize, lookups: usize) -> Result<()> {
    // Sampling lookups: every level, AQL and severity over lot sizes from 2 to a million.
    let levels = [
        Level::S1,
        Level::S2,
        Level::S3,
        Level::S4,
        Level::I,
        Level::II,
        Level::III,
    ];
    let severities = [Severity::Normal, Severity::Tightened, Severity::Reduced];
    let mut times = Vec::with_capacity(lookups);
    let mut checksum = 0u64;
    for i in 0..lookups {
        let lot = 2 + (i as u64 * 7_919) % 1_000_000;
        let t = Instant::now();
        let p = sampling::plan(lot, levels[i % 7], AQLS[i % AQLS.len()], severities[i % 3]);
        times.push(t.elapsed().as_secs_f64() * 1e6);
        checksum += p.map_or(0, |p| u64::from(p.sample_size));
    }
    times.sort_by(f64::total_cmp);
    let sampling_p99_us = percentile(&times, 99.0);
    eprintln!(
        "sampling: {lookups} lookups, p50 {:.3} µs, p99 {sampling_p99_us:.3} µs (checksum {checksum})",
        percentile(&times, 50.0)
    );

    let dir = tempfile::tempdir()?;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path())?);
    let engine = Engine::new(store);
    let t = Instant::now();
    let lot = goods(&engine, units).await?;
    eprintln!(
        "made {units} cans in cases of 100 in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    // Warm the trace index and projections as a running server has them.
    drop(engine.operations().await?);
    engine.trace_index().await?;
    let mut holds = Vec::new();
    for r in 0..runs {
        let t = Instant::now();
        let placed = engine
            .place_hold(
                "bench",
                &HoldRequest {
                    object: lot.clone(),
                    reason: "bench".into(),
                    request_id: Some(format!("bench-{r}")),
                    ..Default::default()
                },
            )
            .await?;
        let ms = t.elapsed().as_secs_f64() * 1e3;
        eprintln!("hold {r}: {} objects in {ms:.0} ms", placed.objects);
        holds.push(ms);
    }
    let hold_ms = median(holds.clone());
    let out = json!({"hold_100k_ms": round_to(hold_ms, 1), "hold_runs_ms": holds.iter().map(|v| round_to(*v, 1)).collect::<Vec<_>>(),
        "hold_objects": units + units.div_ceil(100) + 1, "sampling_p99_us": round_to(sampling_p99_us, 3)});
    if json_out {
        println!("{out}");
    } else {
        println!(
            "hold of a lot with {units} units: median {hold_ms:.0} ms; sampling lookup p99 {sampling_p99_us:.3} µs"
        );
    }
    Ok(())
}
