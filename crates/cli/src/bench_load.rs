//! `suyuan bench load`: a sustained mixed load on a `suyuan serve` child over loopback. At stated rates it sends
//! single and batched captures, backward and forward traces, EPCIS queries followed through their pages,
//! consumer-page scans (each from a loopback address of its own, as phones are) and dashboard reads. For each
//! kind it reports throughput, p50/p99 and errors, and it reports the server's resident memory after warm-up
//! and at the end.

use crate::bench::{percentile, round_to};
use crate::bench_crash::server::{Target, staff_client, start, token};
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// What to run.
pub struct Options {
    /// Print a JSON object as the last line.
    pub json: bool,
    /// Seconds of load.
    pub seconds: u64,
    /// Demo events in the store.
    pub events: usize,
    /// Requests per second of each kind, in [`KINDS`] order.
    pub rates: [f64; 7],
    /// Seconds before memory is first measured; `None` for a tenth of the run (at least five seconds).
    pub warm_up: Option<u64>,
}

/// The kinds of request, in the order `Options::rates` gives their rates.
pub const KINDS: [&str; 7] = [
    "capture_single",
    "capture_batch",
    "trace_backward",
    "trace_forward",
    "epcis_query",
    "consumer_scan",
    "dashboard",
];

/// The default rates (requests per second) of [`KINDS`].
pub const DEFAULT_RATES: [f64; 7] = [50.0, 5.0, 20.0, 20.0, 10.0, 20.0, 2.0];

/// Events per batched capture.
const BATCH: usize = 100;

/// Resident memory of process `pid` in MB, from `/proc`: all of it (`VmRSS`, which counts the database pages
/// read through mmap) and the heap alone (`RssAnon`, where a leak would show).
fn rss_mb(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("RssAnon:"))
}

/// Memory at the start and at the end of the watched span: each the median of its tenth of the samples
/// (`(all, heap)` in MB), so that a request's passing allocation at one instant does not read as growth.
fn memory_ends(samples: &[(f64, f64)]) -> ((f64, f64), (f64, f64)) {
    let window = (samples.len() / 10).max(1).min(samples.len());
    let median = |part: &[(f64, f64)]| {
        let (mut all, mut heap): (Vec<f64>, Vec<f64>) = part.iter().copied().unzip();
        all.sort_by(f64::total_cmp);
        heap.sort_by(f64::total_cmp);
        (percentile(&all, 50.0), percentile(&heap, 50.0))
    };
    (
        median(&samples[..window]),
        median(&samples[samples.len() - window..]),
    )
}

/// The highest resident memory sampled, in MB.
fn peak(samples: &[(f64, f64)]) -> f64 {
    samples.iter().map(|s| s.0).fold(0.0, f64::max)
}

/// The server's own account of its memory, from `/metrics`: megabytes per part (`genealogy` and
/// `whereabouts`, the two halves of the trace index). Empty when the scrape fails.
async fn memory_parts(staff: &reqwest::Client, base: &str) -> BTreeMap<String, f64> {
    let Ok(r) = staff.get(format!("{base}/metrics")).send().await else {
        return BTreeMap::new();
    };
    let text = r.text().await.unwrap_or_default();
    text.lines()
        .filter_map(|l| l.strip_prefix("suyuan_memory_bytes{part=\""))
        .filter_map(|l| {
            let (part, rest) = l.split_once('"')?;
            let bytes: f64 = rest.rsplit(' ').next()?.parse().ok()?;
            Some((part.to_string(), round_to(bytes / 1_048_576.0, 1)))
        })
        .collect()
}

/// Serials the captures observe: a plant's stable population of objects, so that memory held per object
/// stays flat while the ledger grows.
const POPULATION: u64 = 20_000;

/// What the store offers to ask about: scanned cans (Digital Links), lots, and the dashboard's widgets.
struct Targets {
    cans: Vec<String>,
    lots: Vec<String>,
}

fn event(i: u64) -> Value {
    json!({
        "type": "ObjectEvent", "eventTime": "2026-12-01T08:00:00.000+08:00", "eventTimeZoneOffset": "+08:00",
        "eventID": format!("urn:uuid:6c6f6164-0000-4000-8000-{i:012}"),
        "epcList": [format!("urn:epc:id:sgtin:4012345.011111.L{}", i % POPULATION)], "action": "OBSERVE",
        "bizStep": "receiving", "readPoint": {"id": "urn:epc:id:sgln:4012345.00001.0"}
    })
}

fn batch(first: u64) -> Value {
    let events: Vec<Value> = (first..first + BATCH as u64).map(event).collect();
    json!({"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-12-01T08:00:00Z",
        "epcisBody": {"eventList": events}})
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// One request of `kind` (number `n`); answers whether it succeeded. A query follows up to three pages.
async fn request(
    kind: usize,
    n: u64,
    base: &str,
    staff: &reqwest::Client,
    phones: &[reqwest::Client],
    t: &Targets,
    widgets: &[String],
) -> Result<bool> {
    let ok = |r: reqwest::Response| async move {
        let good = r.status().is_success();
        r.bytes().await.map(|_| good).unwrap_or(false)
    };
    let capture = |doc: Value| {
        staff
            .post(format!("{base}/api/v1/events"))
            .header("content-type", "application/ld+json")
            .body(doc.to_string())
            .send()
    };
    let trace = |direction: &str, id: &str| {
        staff
            .get(format!("{base}/api/v1/trace/{direction}?id={}", enc(id)))
            .send()
    };
    Ok(match KINDS[kind] {
        "capture_single" => ok(capture(event(n)).await?).await,
        "capture_batch" => ok(capture(batch(1_000_000_000 + n * BATCH as u64)).await?).await,
        "trace_backward" => ok(trace("backward", &t.cans[n as usize % t.cans.len()]).await?).await,
        "trace_forward" => ok(trace("forward", &t.lots[n as usize % t.lots.len()]).await?).await,
        "epcis_query" => {
            let step = ["shipping", "receiving", "commissioning", "packing"][n as usize % 4];
            let mut url = format!("{base}/epcis/events?EQ_bizStep={step}&perPage=50");
            for _ in 0..3 {
                let r = staff.get(&url).send().await?;
                let next = r
                    .headers()
                    .get(reqwest::header::LINK)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|l| l.split('<').nth(1))
                    .and_then(|l| l.split('>').next())
                    .map(str::to_string);
                if !ok(r).await {
                    return Ok(false);
                }
                match next {
                    Some(n) if n.starts_with("http") => url = n,
                    Some(n) => url = format!("{base}{n}"),
                    None => break,
                }
            }
            true
        }
        "consumer_scan" => {
            let can = &t.cans[(n as usize * 7) % t.cans.len()];
            let path = can.trim_start_matches("https://id.gs1.org");
            let phone = &phones[n as usize % phones.len()];
            let r = phone
                .get(format!("{base}{path}"))
                .header("accept-language", "zh-CN")
                .send()
                .await?;
            ok(r).await
        }
        _ => {
            // A dashboard as a browser loads it: the page, then every widget's figure.
            if !ok(staff.get(format!("{base}/?lang=zh-CN")).send().await?).await {
                return Ok(false);
            }
            let mut all = true;
            for w in widgets {
                all &= ok(staff
                    .get(format!("{base}/api/v1/dashboard/{w}?lang=zh-CN"))
                    .send()
                    .await?)
                .await;
            }
            all
        }
    })
}

/// Latencies and errors of one kind.
#[derive(Default)]
struct Seen {
    ms: Vec<f64>,
    errors: u64,
}

/// Runs the load; prints a line per kind and, with `json`, a JSON object last.
pub async fn run(o: Options) -> Result<()> {
    let (dir, store) = crate::bench::demo_store(o.events, None).await?;
    let events = store.stats().await?.events;
    let cans: Vec<String> = store
        .scans_after(0, 2000)
        .await?
        .into_iter()
        .map(|(_, s)| s.object)
        .collect();
    if cans.is_empty() {
        bail!("the demo store has no scanned cans");
    }
    // Raw-milk lots of the first supplier, as `bench web` traces them: each reaches thousands of cans.
    let lots: Vec<String> = (1..=10)
        .map(|n| suyuan_demo::supplier_lot(&suyuan_demo::SUPPLIERS[0], n))
        .collect();
    drop(store);
    let data = dir.path().to_path_buf();
    let target = Target {
        serve_args: vec!["--data".into(), data.to_string_lossy().into_owned()],
        store: data.to_string_lossy().into_owned(),
        key: data.join("ledger.key"),
        log: dir.path().with_extension("log"),
        dir: data.clone(),
    };
    let (token, _) = token(&target.store).await?;
    let (server, ready) = start(&target).await?;
    println!(
        "store: {events} demo events; server ready in {:.1} s",
        ready.as_secs_f64()
    );
    let base = server.url.clone();
    let staff = staff_client(&token)?;
    // Phones: each from a loopback address of its own (the whole of 127.0.0.0/8 is this machine), so the
    // per-client budgets of the consumer page apply to each as to a person.
    let phones: Vec<reqwest::Client> = (0..200u8)
        .map(|i| {
            reqwest::Client::builder()
                .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 1, i.saturating_add(1))))
                .timeout(Duration::from_secs(30))
                .build()
        })
        .collect::<Result<_, _>>()?;
    let widgets = crate::bench_web::dashboard_widgets(&staff, &base).await?;
    let targets = Arc::new(Targets { cans, lots });
    let widgets = Arc::new(widgets);
    let phones = Arc::new(phones);
    let seen: Arc<Vec<Mutex<Seen>>> = Arc::new(KINDS.iter().map(|_| Mutex::default()).collect());
    let pid = server.child.id();
    let started = Instant::now();
    let end = started + Duration::from_secs(o.seconds);
    // Memory after warm-up (by default a tenth of the run, at least five seconds); sampled twice a second from
    // then on.
    let warm_up = o.warm_up.unwrap_or((o.seconds / 10).max(5)).min(o.seconds);
    let warm_at = started + Duration::from_secs(warm_up);
    let rss = tokio::spawn({
        let (staff, base) = (staff.clone(), base.clone());
        async move {
            tokio::time::sleep_until(warm_at.into()).await;
            let parts = memory_parts(&staff, &base).await;
            let mut samples = Vec::new();
            loop {
                samples.push(rss_mb(pid));
                if Instant::now() >= end {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            (samples, parts, memory_parts(&staff, &base).await)
        }
    });
    let mut tasks = Vec::new();
    for (kind, &rate) in o.rates.iter().enumerate() {
        if rate <= 0.0 {
            continue;
        }
        // Bounded loops: a few workers per kind, each one request at a time on its own schedule.
        let workers = (rate / 10.0).ceil().clamp(1.0, 8.0) as u64;
        let interval = Duration::from_secs_f64(workers as f64 / rate);
        for w in 0..workers {
            let (staff, phones, targets, widgets, seen, base) = (
                staff.clone(),
                phones.clone(),
                targets.clone(),
                widgets.clone(),
                seen.clone(),
                base.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let mut k = 0u64;
                loop {
                    let due = started + interval.mul_f64(k as f64 + w as f64 / workers as f64);
                    if due >= end {
                        break;
                    }
                    tokio::time::sleep_until(due.into()).await;
                    let n = k * workers + w;
                    k += 1;
                    let t = Instant::now();
                    let good = request(kind, n, &base, &staff, &phones, &targets, &widgets)
                        .await
                        .unwrap_or(false);
                    let ms = t.elapsed().as_secs_f64() * 1000.0;
                    let mut s = seen[kind].lock().await;
                    if good {
                        s.ms.push(ms);
                    } else {
                        s.errors += 1;
                    }
                }
            }));
        }
    }
    for t in tasks {
        t.await?;
    }
    let took = started.elapsed().as_secs_f64();
    let (samples, parts_start, parts_end) = rss.await.context("memory watch")?;
    let ((rss_start, rss_end), rss_peak) = (memory_ends(&samples), peak(&samples));
    drop(server);
    let mut report = json!({"events": events, "seconds": o.seconds, "warm_up_s": warm_up});
    let mut errors = 0;
    for (kind, name) in KINDS.iter().enumerate() {
        let mut s = std::mem::take(&mut *seen[kind].lock().await);
        s.ms.sort_by(f64::total_cmp);
        errors += s.errors;
        let row = json!({
            "rate": o.rates[kind],
            "requests": s.ms.len() as u64 + s.errors,
            "throughput_rps": round_to(s.ms.len() as f64 / took, 1),
            "p50_ms": round_to(percentile(&s.ms, 50.0), 2),
            "p99_ms": round_to(percentile(&s.ms, 99.0), 2),
            "errors": s.errors,
        });
        println!(
            "{name:<16} {:>7.1}/s  p50 {:>8.2} ms  p99 {:>8.2} ms  errors {}",
            row["throughput_rps"].as_f64().unwrap_or(0.0),
            row["p50_ms"].as_f64().unwrap_or(0.0),
            row["p99_ms"].as_f64().unwrap_or(0.0),
            s.errors
        );
        report[*name] = row;
    }
    let pct = |a: f64, b: f64| if a > 0.0 { (b - a) / a * 100.0 } else { 0.0 };
    let (growth, heap_growth) = (pct(rss_start.0, rss_end.0), pct(rss_start.1, rss_end.1));
    report["errors"] = json!(errors);
    report["rss_start_mb"] = json!(round_to(rss_start.0, 1));
    report["rss_peak_mb"] = json!(round_to(rss_peak, 1));
    report["rss_end_mb"] = json!(round_to(rss_end.0, 1));
    report["rss_growth_pct"] = json!(round_to(growth, 1));
    report["heap_start_mb"] = json!(round_to(rss_start.1, 1));
    report["heap_end_mb"] = json!(round_to(rss_end.1, 1));
    report["heap_growth_pct"] = json!(round_to(heap_growth, 1));
    report["parts_start_mb"] = json!(parts_start);
    report["parts_end_mb"] = json!(parts_end);
    println!(
        "server memory (medians of the first and last tenth after warm-up): {:.1} MB after warm-up, {:.1} MB at the end ({growth:+.1}%), peak {rss_peak:.1} MB; heap {:.1} → {:.1} MB ({heap_growth:+.1}%); {errors} errors",
        rss_start.0, rss_end.0, rss_start.1, rss_end.1
    );
    for (part, start) in &parts_start {
        let end = parts_end.get(part).copied().unwrap_or(0.0);
        println!("  of which {part}: {start:.1} → {end:.1} MB");
    }
    if o.json {
        println!("{report}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_ends_are_medians_of_the_first_and_last_tenth() {
        // A passing spike in the first tenth is not the start; a step up in the last tenth is the end.
        let mut samples: Vec<(f64, f64)> = (0..100).map(|_| (500.0, 400.0)).collect();
        samples[0] = (900.0, 800.0);
        for s in &mut samples[90..] {
            *s = (600.0, 480.0);
        }
        let ((all0, heap0), (all1, heap1)) = memory_ends(&samples);
        assert_eq!((all0, heap0), (500.0, 400.0));
        assert_eq!((all1, heap1), (600.0, 480.0));
        assert_eq!(peak(&samples), 900.0);
        // Fewer than ten samples: the first and the last one.
        assert_eq!(
            memory_ends(&[(1.0, 1.0), (2.0, 2.0)]),
            ((1.0, 1.0), (2.0, 2.0))
        );
    }
}
