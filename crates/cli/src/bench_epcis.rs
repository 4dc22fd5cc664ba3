//! `suyuan bench epcis`: the EPCIS REST bindings through HTTP on a SQLite store of the demo factory (or an
//! existing data directory): first-page latency of `MATCH_epc` and of `EQ_bizStep` with a one-day event-time
//! window, and the capture of a 10,000-event document.

use std::time::Instant;

use anyhow::{Context as _, Result};
use serde_json::{Value, json};
use suyuan_engine::Engine;

use crate::bench::{BenchServer, median, percentile, round_to};

/// Runs the benchmark; prints a line per measurement and, with `json`, a JSON object last.
pub async fn run(
    json_out: bool,
    events: usize,
    queries: usize,
    data: Option<std::path::PathBuf>,
) -> Result<()> {
    let (_dir, store) = crate::bench::demo_store(events, data.as_deref()).await?;
    let n = store.stats().await?.events;
    // Sample objects and days from the ledger itself.
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut epcs = Vec::new();
    let mut days = Vec::new();
    while epcs.len() < queries && days.len() < queries * 4 {
        let seq = 1 + next() % n.max(1);
        for e in store.events_by_seq(&[seq]).await? {
            if let Some(t) = e.event.get("eventTime").and_then(Value::as_str) {
                days.push(t[..10].to_string());
            }
            if let Some(epc) = e.event.pointer("/epcList/0").and_then(Value::as_str) {
                epcs.push(epc.to_string());
            }
        }
    }
    anyhow::ensure!(
        !epcs.is_empty() && !days.is_empty(),
        "the store has no events to query"
    );
    let server =
        BenchServer::start(suyuan_server::AppState::new(Engine::new(store.clone()))).await?;
    let client = server.client(4)?;
    let base = format!("http://{}", server.addr);
    let time_get = |url: String| {
        let client = client.clone();
        async move {
            let t = Instant::now();
            let resp = client.get(&url).send().await?;
            let ok = resp.status().is_success();
            let body = resp.bytes().await?;
            anyhow::ensure!(ok, "{url}: {}", String::from_utf8_lossy(&body));
            Ok::<f64, anyhow::Error>(t.elapsed().as_secs_f64() * 1000.0)
        }
    };
    let enc = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    // Warm up once, then measure.
    time_get(format!("{base}/epcis/events?perPage=30")).await?;
    let mut epc_lat = Vec::new();
    for i in 0..queries {
        let epc = &epcs[i % epcs.len()];
        epc_lat.push(
            time_get(format!(
                "{base}/epcis/events?perPage=30&MATCH_epc={}",
                enc(epc)
            ))
            .await?,
        );
    }
    let mut step_lat = Vec::new();
    for i in 0..queries {
        let day = &days[(next() as usize + i) % days.len()];
        let step = ["shipping", "receiving", "packing", "commissioning"][i % 4];
        let url = format!(
            "{base}/epcis/events?perPage=30&EQ_bizStep={step}&GE_eventTime={}&LT_eventTime={}",
            enc(&format!("{day}T00:00:00+08:00")),
            enc(&format!("{day}T23:59:59.999+08:00")),
        );
        step_lat.push(time_get(url).await?);
    }
    epc_lat.sort_by(f64::total_cmp);
    step_lat.sort_by(f64::total_cmp);
    // Capture of a 10,000-event document, three times, with eventIDs and EPCs new to the store (a run on an
    // existing data directory must not be answered from idempotent repeats of an earlier invocation).
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
        & 0xFFFF_FFFF;
    let mut capture_ms = Vec::new();
    for run in 0..3 {
        let list: Vec<Value> = (0..10_000)
            .map(|i| {
                json!({"type": "ObjectEvent", "eventID": format!("urn:uuid:{nonce:08x}-0000-4000-a{run:03}-{i:012}"),
                       "eventTime": "2026-11-01T08:00:00+08:00", "eventTimeZoneOffset": "+08:00",
                       "epcList": [format!("urn:epc:id:sgtin:6901234.054321.B{nonce:x}{run}{i:07}")], "action": "OBSERVE",
                       "bizStep": "inspecting", "readPoint": {"id": "urn:epc:id:sgln:6901234.00005.0"}})
            })
            .collect();
        let doc = json!({"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
            "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-11-26T00:00:00Z",
            "epcisBody": {"eventList": list}});
        let body = doc.to_string();
        let t = Instant::now();
        let resp = client
            .post(format!("{base}/epcis/capture"))
            .header("content-type", "application/ld+json")
            .body(body)
            .send()
            .await
            .context("capture")?;
        let status = resp.status();
        let text = resp.text().await?;
        anyhow::ensure!(status.as_u16() == 202, "capture answered {status}: {text}");
        capture_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    // The same in EPCIS XML, which is also checked against GS1's XSD.
    let mut xml_ms = Vec::new();
    for run in 0..3 {
        let mut events = String::with_capacity(10_000 * 420);
        for i in 0..10_000 {
            events.push_str(&format!(
                "<ObjectEvent><eventTime>2026-11-01T08:00:00+08:00</eventTime>\
                 <eventTimeZoneOffset>+08:00</eventTimeZoneOffset>\
                 <eventID>urn:uuid:{nonce:08x}-0000-4000-b{run:03}-{i:012}</eventID>\
                 <epcList><epc>urn:epc:id:sgtin:6901234.054321.X{nonce:x}{run}{i:07}</epc></epcList>\
                 <action>OBSERVE</action><bizStep>urn:epcglobal:cbv:bizstep:inspecting</bizStep>\
                 <readPoint><id>urn:epc:id:sgln:6901234.00005.0</id></readPoint></ObjectEvent>"
            ));
        }
        let body = format!(
            "<epcis:EPCISDocument xmlns:epcis=\"urn:epcglobal:epcis:xsd:2\" schemaVersion=\"2.0\" \
             creationDate=\"2026-11-26T00:00:00Z\"><EPCISBody><EventList>{events}</EventList></EPCISBody>\
             </epcis:EPCISDocument>"
        );
        let t = Instant::now();
        let resp = client
            .post(format!("{base}/epcis/capture"))
            .header("content-type", "application/xml")
            .body(body)
            .send()
            .await
            .context("XML capture")?;
        let status = resp.status();
        let text = resp.text().await?;
        anyhow::ensure!(
            status.as_u16() == 202,
            "XML capture answered {status}: {text}"
        );
        xml_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    server.stop().await;
    let xml = median(xml_ms.clone());
    let (epc_p50, epc_p99) = (percentile(&epc_lat, 50.0), percentile(&epc_lat, 99.0));
    let (step_p50, step_p99) = (percentile(&step_lat, 50.0), percentile(&step_lat, 99.0));
    let capture = median(capture_ms.clone());
    println!("{n} events stored; {queries} queries of each kind through HTTP");
    println!("MATCH_epc first page: p50 {epc_p50:.2} ms, p99 {epc_p99:.2} ms (target p99 ≤ 50)");
    println!(
        "EQ_bizStep + one day first page: p50 {step_p50:.2} ms, p99 {step_p99:.2} ms (target p99 ≤ 50)"
    );
    println!(
        "capture of a 10,000-event document: {capture:.0} ms (runs {capture_ms:.0?}; target ≤ 1000)"
    );
    println!("the same in XML (with the XSD check): {xml:.0} ms (runs {xml_ms:.0?})");
    if json_out {
        println!(
            "{}",
            json!({"events": n, "queries": queries,
                "match_epc_p50_ms": round_to(epc_p50, 3), "match_epc_p99_ms": round_to(epc_p99, 3),
                "bizstep_day_p50_ms": round_to(step_p50, 3), "bizstep_day_p99_ms": round_to(step_p99, 3),
                "capture_10k_ms": round_to(capture, 1),
                "capture_10k_ms_runs": capture_ms.iter().map(|m| round_to(*m, 1)).collect::<Vec<_>>(),
                "capture_10k_xml_ms": round_to(xml, 1),
                "capture_10k_xml_ms_runs": xml_ms.iter().map(|m| round_to(*m, 1)).collect::<Vec<_>>()})
        );
    }
    Ok(())
}
