//! `suyuan bench labels`: issuing codes on SQLite (with their commissioning events), rendering label PDFs with a
//! QR Code and Chinese text, and parsing GS1 element strings on one core.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, Result};
use serde_json::json;
use suyuan_core::coding::Context;
use suyuan_engine::Engine;
use suyuan_engine::codes::IssueRequest;
use suyuan_labels::{LabelTemplate, PageLayout, Vars};
use suyuan_store::{SqliteStore, Store};

use crate::bench::{median, round_to};

/// Runs the benchmark; prints a line per measurement and, with `json`, a JSON object last.
pub async fn run(
    json_out: bool,
    codes: u64,
    labels: usize,
    parses: usize,
    runs: usize,
) -> Result<()> {
    let mut codes_rates = Vec::new();
    let mut pdf_rates = Vec::new();
    let mut parse_rates = Vec::new();
    for run in 1..=runs {
        let c = issue(codes).await?;
        let p = tokio::task::spawn_blocking(move || render_pdf(labels)).await??;
        let q = tokio::task::spawn_blocking(move || parse(parses)).await??;
        println!(
            "run {run}: {c:.0} codes/s issued (SQLite, commissioning events included), {p:.0} labels/s to PDF, {q:.0} element strings/s parsed"
        );
        codes_rates.push(c);
        pdf_rates.push(p);
        parse_rates.push(q);
    }
    let (c, p, q) = (median(codes_rates), median(pdf_rates), median(parse_rates));
    println!("median of {runs}: codes_per_s {c:.0}, labels_pdf_per_s {p:.0}, parse_per_s {q:.0}");
    if json_out {
        println!(
            "{}",
            json!({
                "codes_per_s": round_to(c, 0),
                "labels_pdf_per_s": round_to(p, 0),
                "parse_per_s": round_to(q, 0),
                "codes": codes, "labels": labels, "parses": parses, "runs": runs,
            })
        );
    }
    Ok(())
}

/// Issues `n` codes in requests of 10,000 on a fresh SQLite store; codes per second.
async fn issue(n: u64) -> Result<f64> {
    let dir = tempfile::tempdir()?;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path())?);
    let engine = Engine::new(store);
    engine
        .save_rule(
            "bench",
            "bench",
            &json!({"template": "{PLANT:2}{LINE:2}{YY}{JJJ}{SEQ:8:10:daily}{CHECK:mod37-36}",
                "target": "sgtin", "gtin": "06901234567892"}),
        )
        .await?;
    let req = |count| IssueRequest {
        rule: "bench".into(),
        count,
        context: Context {
            plant: Some("SH".into()),
            line: Some("L1".into()),
            ..Context::default()
        },
        ..IssueRequest::default()
    };
    let started = Instant::now();
    let mut left = n;
    while left > 0 {
        let k = left.min(10_000);
        engine
            .issue_codes(&req(k))
            .await
            .context("issuing failed")?;
        left -= k;
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

/// Lays out and renders `n` demo labels (QR Code with a Digital Link, GS1 DataMatrix, Chinese text) to one
/// PDF; labels per second.
fn render_pdf(n: usize) -> Result<f64> {
    let t = LabelTemplate::from_json(&suyuan_labels::demo_template())?;
    let values: Vec<Vars> = (0..n)
        .map(|i| {
            let mut v = suyuan_labels::sample_vars();
            let serial = format!("SH0126112{i:08}");
            v.insert("serial".into(), serial.clone());
            v.insert(
                "dl".into(),
                format!("https://id.gs1.org/01/06901234567892/10/L2611250A/21/{serial}"),
            );
            v.insert(
                "element_string".into(),
                format!("(01)06901234567892(10)L2611250A(21){serial}"),
            );
            v
        })
        .collect();
    let started = Instant::now();
    let pdf = suyuan_labels::render(&t, &values, suyuan_labels::Format::Pdf, PageLayout::Roll)?;
    let rate = n as f64 / started.elapsed().as_secs_f64();
    anyhow::ensure!(pdf.starts_with(b"%PDF-"), "not a PDF");
    Ok(rate)
}

/// Parses and checks `n` element strings (bracketed and raw with FNC1, four AIs each) on this thread.
fn parse(n: usize) -> Result<f64> {
    let inputs: Vec<String> = (0..1000)
        .map(|i| {
            if i % 2 == 0 {
                format!("(01)06901234567892(17)271231(10)L{i:05}(21)SN{i:08}")
            } else {
                format!(
                    "]d2010690123456789217271231{}",
                    format_args!("10L{i:05}\u{1d}21SN{i:08}")
                )
            }
        })
        .collect();
    let started = Instant::now();
    let mut ais = 0usize;
    for i in 0..n {
        let d = suyuan_core::id::parse_element_string(&inputs[i % inputs.len()])
            .map_err(|e| anyhow::anyhow!("bench input rejected: {e}"))?;
        ais += d.pairs.len();
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    anyhow::ensure!(ais == n * 4, "parsed {ais} AIs");
    Ok(rate)
}
