//! `suyuan bench web`: the consumer page and the console through HTTP on a SQLite store of the demo factory.
//! `consumer_p99_ms`: consumer pages of scanned cans at a fixed rate (open loop: latency counts from the
//! scheduled send, as `bench capture` does); `dashboard_p99_ms`: a whole dashboard as a browser loads it (the
//! page, then every widget's figure at once); `trace_graph_p99_ms`: the explorer's first views, a can's
//! origins and a raw-milk lot's descendants (clustered); `consumer_page_bytes`: the page with its stylesheet and script.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use serde_json::{Value, json};
use suyuan_engine::Engine;

use crate::bench::{BenchServer, percentile, round_to};

/// What to measure.
pub struct Options {
    /// Print a JSON object last.
    pub json: bool,
    /// Demo events in the store.
    pub events: usize,
    /// Consumer page requests per second.
    pub rate: u32,
    /// Seconds of consumer load.
    pub seconds: u32,
    /// Dashboards and graph views timed.
    pub rounds: usize,
    /// An existing data directory.
    pub data: Option<std::path::PathBuf>,
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

async fn timed(client: &reqwest::Client, url: &str) -> Result<(f64, usize)> {
    let t = Instant::now();
    let resp = client.get(url).send().await?;
    let ok = resp.status().is_success();
    let body = resp.bytes().await?;
    anyhow::ensure!(ok, "{url}: {}", String::from_utf8_lossy(&body));
    Ok((t.elapsed().as_secs_f64() * 1000.0, body.len()))
}

/// The metrics of the widgets on the home dashboard, as the page declares them for the browser to fetch.
pub(crate) async fn dashboard_widgets(client: &reqwest::Client, base: &str) -> Result<Vec<String>> {
    let page = client
        .get(format!("{base}/?lang=zh-CN"))
        .send()
        .await?
        .text()
        .await?;
    let metrics: Vec<String> = page
        .split("data-metric=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next().map(str::to_string))
        .collect();
    anyhow::ensure!(!metrics.is_empty(), "the dashboard declares no widget");
    Ok(metrics)
}

/// Runs the benchmark; prints a line per figure and, with `json`, a JSON object last.
pub async fn run(o: Options) -> Result<()> {
    let loading = Instant::now();
    let (_dir, store) = crate::bench::demo_store(o.events, o.data.as_deref()).await?;
    let events = store.stats().await?.events;
    println!(
        "store: {events} events ({:.0} s to prepare)",
        loading.elapsed().as_secs_f64()
    );
    let engine = Engine::new(store.clone());
    // What `suyuan serve` does in the background before the first visitor: the genealogy index and the
    // dashboard's counts.
    let warm = Instant::now();
    engine.trace_index().await?;
    engine.tally().await?;
    engine.disposition_counts().await?;
    let warm_s = warm.elapsed().as_secs_f64();
    println!("genealogy index and dashboard counts built in {warm_s:.1} s");
    let scanned: Vec<String> = store
        .scans_after(0, 5000)
        .await?
        .into_iter()
        .map(|(_, s)| s.object)
        .collect();
    anyhow::ensure!(!scanned.is_empty(), "the store has no scanned cans");
    let open = suyuan_server::limits::Budget {
        burst: 1_000_000,
        every: Duration::from_micros(1),
    };
    let state =
        suyuan_server::AppState::new(engine).with_limits(suyuan_server::limits::LimitConfig {
            public_per_client: open,
            scan_per_client_code: open,
            ..Default::default()
        });
    let server = BenchServer::start(state).await?;
    let base = format!("http://{}", server.addr);
    let client = server.client(256)?;
    let anonymous = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;

    // Page weight: the HTML of a sold can and what it loads (its stylesheet and the small script that offers to
    // share the phone's city).
    let path = |dl: &str| dl.trim_start_matches("https://id.gs1.org").to_string();
    let html = anonymous
        .get(format!("{base}{}", path(&scanned[0])))
        .send()
        .await?
        .text()
        .await?;
    let mut page_bytes = html.len();
    let linked: Vec<&str> = ["href=\"", "src=\""]
        .iter()
        .flat_map(|attr| html.split(attr).skip(1))
        .filter_map(|s| s.split('"').next())
        .filter(|u| u.starts_with("/static/") && (u.contains(".css") || u.contains(".js")))
        .collect();
    for url in linked {
        page_bytes += anonymous
            .get(format!("{base}{url}"))
            .send()
            .await?
            .bytes()
            .await?
            .len();
    }

    // Consumer pages, open loop.
    let total = (o.rate * o.seconds) as usize;
    let interval = Duration::from_secs_f64(1.0 / f64::from(o.rate));
    let start = Instant::now() + Duration::from_millis(200);
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        let due = start + interval * i as u32;
        tokio::time::sleep_until(due.into()).await;
        let url = format!("{base}{}", path(&scanned[i % scanned.len()]));
        let c = anonymous.clone();
        tasks.push(tokio::spawn(async move {
            let ok = match c.get(&url).header("accept-language", "zh-CN").send().await {
                Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                Err(_) => false,
            };
            (due.elapsed().as_secs_f64() * 1000.0, ok)
        }));
    }
    let mut consumer = Vec::with_capacity(total);
    let mut errors = 0usize;
    for t in tasks {
        let (ms, ok) = t.await?;
        if ok { consumer.push(ms) } else { errors += 1 }
    }
    let achieved = total as f64 / start.elapsed().as_secs_f64();
    consumer.sort_by(f64::total_cmp);

    // Whole dashboards: the page, then every widget's figure at once (as the browser does).
    let metrics = dashboard_widgets(&client, &base).await?;
    let mut dashboard = Vec::new();
    for _ in 0..o.rounds {
        let t = Instant::now();
        timed(&client, &format!("{base}/?lang=zh-CN")).await?;
        let mut figures = tokio::task::JoinSet::new();
        for m in &metrics {
            let (c, url) = (
                client.clone(),
                format!("{base}/api/v1/dashboard/{m}?lang=zh-CN"),
            );
            figures.spawn(async move { timed(&c, &url).await });
        }
        while let Some(r) = figures.join_next().await {
            r??;
        }
        dashboard.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    dashboard.sort_by(f64::total_cmp);

    // The explorer's first views: a scanned can's origins, a raw-milk lot's descendants.
    let lots: Vec<String> = (1..=o.rounds as u32)
        .map(|n| suyuan_demo::supplier_lot(&suyuan_demo::SUPPLIERS[0], n))
        .collect();
    let (mut can_graph, mut lot_graph, mut lot_nodes) = (Vec::new(), Vec::new(), 0usize);
    for i in 0..o.rounds {
        let can = &scanned[(i * 7) % scanned.len()];
        let (ms, _) = timed(
            &client,
            &format!("{base}/api/v1/graph?id={}&dir=backward", enc(can)),
        )
        .await?;
        can_graph.push(ms);
        let url = format!("{base}/api/v1/graph?id={}&dir=forward", enc(&lots[i]));
        let t = Instant::now();
        let bytes = client.get(&url).send().await?.bytes().await?;
        let body: Value = serde_json::from_slice(&bytes).context("graph")?;
        lot_graph.push(t.elapsed().as_secs_f64() * 1000.0);
        lot_nodes = lot_nodes.max(body["nodes"].as_array().map_or(0, Vec::len));
    }
    let mut graph: Vec<f64> = can_graph.iter().chain(&lot_graph).copied().collect();
    graph.sort_by(f64::total_cmp);
    can_graph.sort_by(f64::total_cmp);
    lot_graph.sort_by(f64::total_cmp);
    server.stop().await;

    let r = |x: f64| round_to(x, 2);
    let report = json!({
        "events": events,
        "warm_s": r(warm_s),
        "consumer_p50_ms": r(percentile(&consumer, 50.0)),
        "consumer_p99_ms": r(percentile(&consumer, 99.0)),
        "consumer_rate": o.rate,
        "consumer_achieved_rps": achieved.round(),
        "consumer_errors": errors,
        "consumer_page_bytes": page_bytes,
        "dashboard_p50_ms": r(percentile(&dashboard, 50.0)),
        "dashboard_p99_ms": r(percentile(&dashboard, 99.0)),
        "dashboard_widgets": metrics.len(),
        "trace_graph_p50_ms": r(percentile(&graph, 50.0)),
        "trace_graph_p99_ms": r(percentile(&graph, 99.0)),
        "trace_graph_can_p99_ms": r(percentile(&can_graph, 99.0)),
        "trace_graph_lot_p99_ms": r(percentile(&lot_graph, 99.0)),
        "trace_graph_lot_nodes": lot_nodes,
    });
    let rows = [
        ("consumer_p99_ms", "≤ 20"),
        ("consumer_page_bytes", "≤ 100000"),
        ("dashboard_p99_ms", "≤ 100"),
        ("trace_graph_p99_ms", "≤ 50"),
        ("trace_graph_can_p99_ms", ""),
        ("trace_graph_lot_p99_ms", ""),
        ("trace_graph_lot_nodes", ""),
    ];
    for (k, target) in rows {
        println!("{k:<28} {:>10}  {target}", report[k]);
    }
    println!(
        "consumer load: {} requests/s for {} s, achieved {achieved:.0}/s, {errors} errors",
        o.rate, o.seconds
    );
    if o.json {
        println!("{report}");
    }
    let _ = Arc::strong_count(&store);
    Ok(())
}
