//! `suyuan bench ops`: the shop floor through HTTP and MQTT. `scan_p99_ms`: station scans (validate and
//! record) with `--stations` stations scanning at once, each alternating a material lot and a unit made;
//! `mqtt_msgs_per_s`: parameter messages published to the real broker until every reading is stored (each
//! acknowledged to the broker only once stored); `inventory_p99_ms` and `metrics_p99_ms`: the inventory and
//! figure queries on a demo store of `--events` events.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use serde_json::{Map, Value, json};
use suyuan_engine::Engine;
use suyuan_store::{SqliteStore, Store};

use crate::bench::{BenchServer, median, percentile, round_to};

/// What to measure.
pub struct Options {
    /// Print a JSON object last.
    pub json: bool,
    /// Stations scanning at once.
    pub stations: usize,
    /// Scans per station.
    pub scans: usize,
    /// The MQTT broker (`None` skips the MQTT figure).
    pub mqtt: Option<String>,
    /// Parameter messages published.
    pub messages: usize,
    /// Demo events for the inventory and figure queries (0 skips them).
    pub events: usize,
    /// Queries of each kind timed.
    pub rounds: usize,
    /// An existing data directory for the queries.
    pub data: Option<PathBuf>,
}

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

/// A plant of `n` lines, each with one station, one operator, a released work order and a lot of empty
/// cans of its own in the raw material warehouse.
async fn plant(engine: &Engine, n: usize) -> Result<()> {
    for (kind, record) in suyuan_demo::operations::records(1) {
        engine
            .save_record("bench", kind, &obj(record))
            .await
            .map_err(|e| anyhow::anyhow!("{kind}: {e}"))?;
    }
    let cans = suyuan_demo::operations::gtin("6920004", "000041");
    for i in 1..=n {
        engine.save_record("bench", "location", &obj(json!({"code": format!("BL{i:02}"), "name_zh": format!("压测线 {i}"), "level": "line", "parent": "WS1"}))).await?;
        engine.save_record("bench", "location", &obj(json!({"code": format!("BS{i:02}"), "name_zh": format!("压测工位 {i}"), "level": "station", "parent": format!("BL{i:02}")}))).await?;
        engine.save_record("bench", "operator", &obj(json!({"badge": format!("{}", 2000 + i), "name": format!("操作员 {i}"), "lines": [format!("BL{i:02}")]}))).await?;
        let action = suyuan_engine::operations::warehouse::Action::Receive {
            po: format!("PO-B{i}"),
            supplier: "SUP4".into(),
            product: cans.clone(),
            lot: format!("B{i:02}"),
            quantity: 1_000_000.0,
            expiry: None,
            location: "RM".into(),
            certificate: None,
        };
        engine
            .warehouse("bench", &format!("bench-receive-{i}"), &action)
            .await?;
        let wo = suyuan_engine::operations::orders::NewWorkOrder {
            number: Some(format!("WO-B{i:02}")),
            product: suyuan_demo::operations::can_gtin(),
            planned: 1_000_000.0,
            line: format!("BL{i:02}"),
            lot: Some(format!("LB{i:02}")),
            due: None,
            lot_rule: None,
        };
        engine.create_work_order("bench", &wo).await?;
        engine
            .move_work_order(
                "bench",
                &format!("WO-B{i:02}"),
                suyuan_ops::workorder::WoState::Started,
            )
            .await
            .ok();
        engine
            .move_work_order(
                "bench",
                &format!("WO-B{i:02}"),
                suyuan_ops::workorder::WoState::Released,
            )
            .await
            .ok();
        engine
            .move_work_order(
                "bench",
                &format!("WO-B{i:02}"),
                suyuan_ops::workorder::WoState::Started,
            )
            .await?;
    }
    Ok(())
}

async fn scan(
    client: &reqwest::Client,
    base: &str,
    station: usize,
    id: &str,
    body: Value,
) -> Result<f64> {
    let t = Instant::now();
    let mut body = body;
    body["id"] = json!(id);
    let resp = client
        .post(format!("{base}/api/v1/stations/BS{station:02}/scans"))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.to_string())
        .send()
        .await?;
    let ok = resp.status().is_success();
    let text = resp.text().await?;
    anyhow::ensure!(ok, "station {station}: {text}");
    Ok(t.elapsed().as_secs_f64() * 1000.0)
}

/// Runs the benchmark; prints a line per figure and, with `json`, a JSON object last.
pub async fn run(o: Options) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path())?);
    let engine = Engine::new(store.clone());
    let t = Instant::now();
    plant(&engine, o.stations)
        .await
        .context("preparing the plant")?;
    println!(
        "plant: {} stations ready in {:.1} s",
        o.stations,
        t.elapsed().as_secs_f64()
    );
    let server = BenchServer::start(suyuan_server::AppState::new(engine.clone())).await?;
    let base = format!("http://{}", server.addr);
    let client = server.client(o.stations * 2)?;

    // Station scans: every station at once, each alternating a lot of cans and a can made.
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for s in 1..=o.stations {
        let (client, base, scans) = (client.clone(), base.clone(), o.scans);
        tasks.spawn(async move {
            let badge = format!("{}", 2000 + s);
            let wo = format!("WO-B{s:02}");
            let mut times = Vec::with_capacity(scans);
            for i in 0..scans {
                let code = if i % 2 == 0 {
                    format!("(01)06920004000414(10)B{s:02}")
                } else {
                    format!("(01)06901234123456(21)B{s:02}U{i:06}")
                };
                let body =
                    json!({"code": code, "operator": badge, "work_order": wo, "quantity": 1});
                times.push(scan(&client, &base, s, &format!("b{s}-{i}"), body).await?);
            }
            anyhow::Ok(times)
        });
    }
    let mut scan_ms = Vec::new();
    while let Some(r) = tasks.join_next().await {
        scan_ms.extend(r??);
    }
    let scan_secs = started.elapsed().as_secs_f64();
    scan_ms.sort_by(f64::total_cmp);
    let scans_per_s = scan_ms.len() as f64 / scan_secs;
    println!(
        "station scans: {} from {} stations at once, p50 {:.2} ms, p99 {:.2} ms, {:.0} scans/s",
        scan_ms.len(),
        o.stations,
        percentile(&scan_ms, 50.0),
        percentile(&scan_ms, 99.0),
        scans_per_s
    );

    // Parameters over MQTT.
    let mut mqtt_rate = None;
    if let Some(url) = &o.mqtt {
        let (_stop, stopped) = tokio::sync::watch::channel(false);
        let id = format!("suyuan-bench-{}", std::process::id());
        let status = suyuan_server::mqtt::spawn(engine.clone(), url, &id, stopped)?;
        let deadline = Instant::now() + Duration::from_secs(15);
        while !status.connected.load(std::sync::atomic::Ordering::Acquire) {
            anyhow::ensure!(Instant::now() < deadline, "no MQTT connection to {url}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let (opts, _) = suyuan_server::mqtt::options(url, &format!("{id}-pub"))?;
        let mut opts = opts;
        opts.set_manual_acks(false);
        opts.set_clean_start(true);
        opts.set_session_expiry_interval(None);
        let (publisher, mut events) = rumqttc::v5::AsyncClient::new(opts, 10_000);
        tokio::spawn(async move { while events.poll().await.is_ok() {} });
        let t0 = Instant::now();
        for m in 0..o.messages {
            let s = m % o.stations + 1;
            let topic = format!("suyuan/PLANT/BL{s:02}/BS{s:02}/EQ{s:02}/params");
            let payload = json!({"time": chrono::Utc::now().to_rfc3339(), "parameter": "temperature",
                "value": 50.0 + (m % 100) as f64 / 10.0, "unit": "CEL"});
            publisher
                .publish(
                    topic,
                    rumqttc::v5::mqttbytes::QoS::AtLeastOnce,
                    false,
                    payload.to_string(),
                )
                .await?;
        }
        let deadline = Instant::now() + Duration::from_secs(600);
        while status.recorded.load(std::sync::atomic::Ordering::Acquire) < o.messages as u64 {
            anyhow::ensure!(
                Instant::now() < deadline,
                "the readings were not all stored within 10 minutes"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let rate = o.messages as f64 / t0.elapsed().as_secs_f64();
        println!(
            "MQTT: {} parameter messages published and stored at {:.0} messages/s",
            o.messages, rate
        );
        mqtt_rate = Some(rate);
    }
    server.stop().await;

    // Inventory and figures on a large demo store.
    let (mut inventory_ms, mut metrics_ms, mut fold_s, mut events_n) =
        (Vec::new(), Vec::new(), 0.0, 0);
    if o.events > 0 {
        let (_dir, big) = crate::bench::demo_store(o.events, o.data.as_deref()).await?;
        if big.definitions("md.product").await?.is_empty() {
            crate::demo::save_operations(&big, 1).await?;
        }
        events_n = big.stats().await?.events;
        let engine = Engine::new(big.clone());
        let t = Instant::now();
        drop(engine.operations().await?);
        fold_s = t.elapsed().as_secs_f64();
        println!("{events_n} events: inventory, work orders and figures folded in {fold_s:.1} s");
        let server = BenchServer::start(suyuan_server::AppState::new(engine)).await?;
        let base = format!("http://{}", server.addr);
        let client = server.client(8)?;
        let can = suyuan_demo::operations::can_gtin();
        let milk = suyuan_demo::operations::gtin("6920001", "000011");
        let lot = suyuan_demo::batch_lot(3, 0, 0);
        let queries = [
            format!("product={can}"),
            format!("product={can}&status=available"),
            "location=FG".to_string(),
            format!("product={can}&lot={lot}"),
            "status=on_hold".to_string(),
            format!("product={milk}"),
            String::new(),
        ];
        let get = |url: String| {
            let c = client.clone();
            async move {
                let t = Instant::now();
                let r = c.get(&url).send().await?;
                let ok = r.status().is_success();
                let body = r.text().await?;
                anyhow::ensure!(ok, "{url}: {body}");
                anyhow::Ok(t.elapsed().as_secs_f64() * 1000.0)
            }
        };
        for i in 0..o.rounds {
            inventory_ms.push(
                get(format!(
                    "{base}/api/v1/inventory?{}",
                    queries[i % queries.len()]
                ))
                .await?,
            );
        }
        let names = suyuan_engine::operations::figures::METRICS;
        for i in 0..o.rounds {
            let group = ["day", "line", "product", "shift"][i / names.len() % 4];
            let url = format!(
                "{base}/api/v1/metrics/{}?from=2026-10-01&to=2026-10-31&group_by={group}",
                names[i % names.len()]
            );
            metrics_ms.push(get(url).await?);
        }
        server.stop().await;
        inventory_ms.sort_by(f64::total_cmp);
        metrics_ms.sort_by(f64::total_cmp);
        println!(
            "inventory: p50 {:.2} ms, p99 {:.2} ms; figures: p50 {:.2} ms, p99 {:.2} ms",
            percentile(&inventory_ms, 50.0),
            percentile(&inventory_ms, 99.0),
            percentile(&metrics_ms, 50.0),
            percentile(&metrics_ms, 99.0)
        );
    }

    let r = |x: f64| round_to(x, 2);
    let report = json!({
        "stations": o.stations,
        "scans": scan_ms.len(),
        "scan_p50_ms": r(percentile(&scan_ms, 50.0)),
        "scan_p99_ms": r(percentile(&scan_ms, 99.0)),
        "scans_per_s": r(scans_per_s),
        "mqtt_messages": o.mqtt.as_ref().map(|_| o.messages),
        "mqtt_msgs_per_s": mqtt_rate.map(r),
        "events": events_n,
        "ops_fold_s": r(fold_s),
        "inventory_p50_ms": r(median(inventory_ms.clone())),
        "inventory_p99_ms": r(percentile(&inventory_ms, 99.0)),
        "metrics_p50_ms": r(median(metrics_ms.clone())),
        "metrics_p99_ms": r(percentile(&metrics_ms, 99.0)),
    });
    if o.json {
        println!("{report}");
    }
    Ok(())
}
