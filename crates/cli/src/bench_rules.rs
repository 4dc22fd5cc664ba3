//! `suyuan bench rules`: `rules_eps` — events a second the rules reactor evaluates with `--rules` active
//! rules (the built-in one among them) over the demo factory's stream, every event bound once and every
//! rule whose pattern matches checked; the median of `--runs` passes over the whole stream (actions are
//! done in the first pass and found done in the others, as the outbox's retries find them).
//! `form_submit_p99_ms` — the 99th percentile of a submission of the demo's raw-milk receipt (scan
//! looked up, values checked, event and submission record stored) over the same store.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, Result};
use serde_json::json;
use suyuan_engine::Engine;
use suyuan_rules::Rule;
use suyuan_store::{SqliteStore, Store};

use crate::bench::{median, round_to};

/// Steps of the demo's events a bench rule looks at.
const STEPS: [&str; 6] = [
    "commissioning",
    "packing",
    "shipping",
    "inspecting",
    "receiving",
    "retail_selling",
];

/// Rule `i` of the bench: a pattern that matches part of the stream and a condition that (almost) never
/// holds, so the work is the evaluation, not the actions.
fn rule(i: usize) -> Result<Rule> {
    let step = STEPS[i % STEPS.len()];
    let (when, condition) = match i % 4 {
        0 => (
            json!({"biz_step": [step]}),
            "event.bizStep == 'x-never'".to_string(),
        ),
        1 => (
            json!({"biz_step": [step]}),
            format!("has(event.workOrder) && event.workOrder.endsWith('-{i}')"),
        ),
        2 => (
            json!({"disposition": ["in_progress", "active"]}),
            "has(event.sensorElementList) && size(event.sensorElementList) > 5".to_string(),
        ),
        _ => (
            json!({"product": ["06901234123456"], "biz_step": [step]}),
            "object.held && event.bizStep == 'retail_selling'".to_string(),
        ),
    };
    serde_json::from_value(json!({
        "code": format!("bench-{i:03}"), "name": format!("bench rule {i}"), "when": when, "if": condition,
        "then": [{"do": "alert", "message": "bench {lot}"}],
    }))
    .context("a bench rule")
}

/// Runs the bench and prints its figures.
pub async fn run(json_out: bool, lines: u32, days: u32, rules: usize, runs: usize) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path())?);
    let engine = Engine::new(store.clone());
    let mut values = Vec::new();
    suyuan_demo::generate(
        suyuan_demo::DemoConfig {
            seed: 42,
            scale: lines,
            days,
        },
        &mut |item| {
            if let suyuan_demo::DemoItem::Event(v) = item {
                values.push(v);
            }
        },
    );
    for doc in suyuan_demo::quality::plans() {
        let plan = serde_json::from_value(doc).context("a demo plan")?;
        engine.save_inspection_plan("bench", &plan).await?;
    }
    let t = Instant::now();
    let mut events = Vec::with_capacity(values.len());
    for v in &values {
        events.extend(suyuan_epcis::parse_capture(v).context("a demo event")?);
    }
    for chunk in events.chunks(5_000) {
        engine.capture_events(chunk.to_vec()).await?;
    }
    let head = store.recent_events(1).await?.first().map_or(0, |e| e.seq);
    eprintln!(
        "stored {} demo events in {:.1} s",
        events.len(),
        t.elapsed().as_secs_f64()
    );
    // The built-in rule and rules - 1 more.
    for i in 0..rules.saturating_sub(1) {
        engine.save_event_rule("bench", &rule(i)?).await?;
    }
    let active = engine.event_rules().await?.len();
    drop(engine.operations().await?);
    let out = suyuan_engine::rules::outbound::Outbound::default();
    let mut rates = Vec::new();
    for r in 0..runs.max(1) {
        let t = Instant::now();
        let done = engine.run_rules(1, head, &out).await?;
        let secs = t.elapsed().as_secs_f64();
        let eps = head as f64 / secs;
        eprintln!(
            "pass {r}: {head} events, {active} rules, {done} actions in {secs:.2} s ({eps:.0} events/s)"
        );
        rates.push(eps);
    }
    let eps = median(rates.clone());
    let (p50, p99, n) = form_submissions(&engine, days).await?;
    let out = json!({"rules_eps": round_to(eps, 0), "rules_runs_eps": rates.iter().map(|v| round_to(*v, 0)).collect::<Vec<_>>(),
        "rules": active, "events": head, "form_submit_p99_ms": round_to(p99, 2),
        "form_submit_p50_ms": round_to(p50, 2), "form_submissions": n});
    if json_out {
        println!("{out}");
    } else {
        println!("{active} rules over {head} demo events: median {eps:.0} events/s");
        println!("{n} form submissions: p50 {p50:.2} ms, p99 {p99:.2} ms");
    }
    Ok(())
}

/// Submits the demo's raw-milk receipt 400 times (each a lot of the demo's stream, scanned as an element
/// string) and answers the median and 99th percentile in milliseconds, and how many were made.
async fn form_submissions(engine: &Engine, days: u32) -> Result<(f64, f64, usize)> {
    for doc in suyuan_demo::forms::forms() {
        let form: suyuan_forms::Form = serde_json::from_value(doc).context("a demo form")?;
        engine
            .save_form("bench", &form)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let n = 400;
    let mut took = Vec::with_capacity(n);
    for i in 0..n {
        let lot = format!(
            "(01)06920001000110(10)RM{:04}",
            (i as u32 % days.max(1)) + 1
        );
        let values = json!({"lot": lot, "tanker": format!("黑A{i:05}"), "kg": 3000 + i, "temp": 4.2,
            "acidity": 15.0, "result": "accept"});
        let t = Instant::now();
        engine
            .submit_form(
                "bench",
                "milk-receipt",
                &values,
                Some(&format!("bench-{i}")),
            )
            .await
            .map_err(|e| anyhow::anyhow!("a bench submission was refused: {e}"))?;
        took.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    took.sort_by(f64::total_cmp);
    Ok((
        crate::bench::percentile(&took, 50.0),
        crate::bench::percentile(&took, 99.0),
        n,
    ))
}
