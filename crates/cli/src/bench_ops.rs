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
    /// Milliseconds between one station's scans in the paced run.
    pub pace_ms: u64,
    /// Where the parameter messages go.
    pub mqtt: Broker,
    /// Parameter messages published.
    pub messages: usize,
    /// Demo events for the inventory and figure queries (0 skips them).
    pub events: usize,
    /// Queries of each kind timed.
    pub rounds: usize,
    /// An existing data directory for the queries.
    pub data: Option<PathBuf>,
}

/// The MQTT broker of the parameter figure.
pub enum Broker {
    /// No MQTT figure.
    Skip,
    /// A Mosquitto of the bench's own on a free port, configured as a plant would run it for equipment
    /// that sends thousands of readings a second (no cap on messages in flight or queued per client).
    Own,
    /// This broker, as it is configured.
    Url(String),
}

/// A Mosquitto process on a free port, stopped when dropped.
struct OwnBroker {
    child: std::process::Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl OwnBroker {
    fn start() -> Result<OwnBroker> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let dir = tempfile::tempdir()?;
        let conf = dir.path().join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!(
                "listener {port} 127.0.0.1\nallow_anonymous true\nmax_inflight_messages 0\n\
                 max_queued_messages 0\npersistence false\n"
            ),
        )?;
        let child = std::process::Command::new("mosquitto")
            .arg("-c")
            .arg(&conf)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .context(
                "starting mosquitto (Debian package mosquitto); or pass --mqtt URL, or --no-mqtt",
            )?;
        std::thread::sleep(Duration::from_millis(300));
        Ok(OwnBroker {
            child,
            url: format!("mqtt://127.0.0.1:{port}"),
            _dir: dir,
        })
    }
}

impl Drop for OwnBroker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
        for to in [
            suyuan_ops::workorder::WoState::Released,
            suyuan_ops::workorder::WoState::Started,
        ] {
            engine
                .move_work_order("bench", &format!("WO-B{i:02}"), to)
                .await?;
        }
    }
    Ok(())
}

/// `stations` stations each scanning `scans` times (a lot of cans, then a can made, in turn), paced or as
/// fast as answered; the latencies (sorted) and the scans per second.
async fn stations(
    client: &reqwest::Client,
    base: &str,
    stations: usize,
    scans: usize,
    pace: Option<Duration>,
    phase: &str,
) -> Result<(Vec<f64>, f64)> {
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for s in 1..=stations {
        let (client, base, phase) = (client.clone(), base.to_string(), phase.to_string());
        tasks.spawn(async move {
            let badge = format!("{}", 2000 + s);
            let wo = format!("WO-B{s:02}");
            let mut times = Vec::with_capacity(scans);
            // Stations start spread over one pace, as operators do.
            let offset = pace.map_or(Duration::ZERO, |p| p * s as u32 / stations as u32);
            let t0 = tokio::time::Instant::now() + offset;
            for i in 0..scans {
                let code = if i % 2 == 0 {
                    format!("(01)06920004000414(10)B{s:02}")
                } else {
                    format!("(01)06901234123456(21)B{s:02}{phase}{i:06}")
                };
                let due = match pace {
                    Some(p) => {
                        let due = t0 + p * i as u32;
                        tokio::time::sleep_until(due).await;
                        due
                    }
                    None => tokio::time::Instant::now(),
                };
                let body =
                    json!({"code": code, "operator": badge, "work_order": wo, "quantity": 1});
                scan(&client, &base, s, &format!("{phase}{s}-{i}"), body).await?;
                times.push(due.elapsed().as_secs_f64() * 1000.0);
            }
            anyhow::Ok(times)
        });
    }
    let mut ms = Vec::new();
    while let Some(r) = tasks.join_next().await {
        ms.extend(r??);
    }
    let rate = ms.len() as f64 / started.elapsed().as_secs_f64();
    ms.sort_by(f64::total_cmp);
    Ok((ms, rate))
}

async fn scan(
    client: &reqwest::Client,
    base: &str,
    station: usize,
    id: &str,
    body: Value,
) -> Result<()> {
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
    Ok(())
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
    // Paced: every station scans every `--pace-ms` (an operator's quick rhythm), latency counted from the
    // scheduled moment. Then saturated: every station scans as fast as answers come back.
    let pace = Duration::from_millis(o.pace_ms.max(1));
    let (scan_ms, _) = stations(&client, &base, o.stations, o.scans, Some(pace), "a").await?;
    println!(
        "station scans: {} from {} stations, one every {} ms each, p50 {:.2} ms, p99 {:.2} ms",
        scan_ms.len(),
        o.stations,
        o.pace_ms,
        percentile(&scan_ms, 50.0),
        percentile(&scan_ms, 99.0)
    );
    let (saturated_ms, scans_per_s) =
        stations(&client, &base, o.stations, o.scans, None, "b").await?;
    println!(
        "saturated: {} scans from {} stations as fast as answered, {:.0} scans/s, p99 {:.2} ms",
        saturated_ms.len(),
        o.stations,
        scans_per_s,
        percentile(&saturated_ms, 99.0)
    );

    // Parameters over MQTT.
    let mut mqtt_rate = None;
    let own = match o.mqtt {
        Broker::Own => Some(OwnBroker::start()?),
        _ => None,
    };
    let url = match (&o.mqtt, &own) {
        (Broker::Url(u), _) => Some(u.clone()),
        (_, Some(b)) => Some(b.url.clone()),
        _ => None,
    };
    if let Some(url) = &url {
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
        opts.set_clean_start(false);
        opts.set_session_expiry_interval(Some(600));
        let (publisher, mut events) = rumqttc::v5::AsyncClient::new(opts, 10_000);
        // Keep polling through errors: the client reconnects and sends again what the broker did not
        // acknowledge.
        tokio::spawn(async move {
            loop {
                if let Err(e) = events.poll().await {
                    eprintln!("publisher: {e}; reconnecting");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        });
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
        // Stops when every reading is stored, or when nothing more arrives for 20 s (a broker that drops
        // messages it cannot queue: say so rather than wait).
        let (mut seen, mut since) = (0u64, Instant::now());
        loop {
            let now = status.recorded.load(std::sync::atomic::Ordering::Acquire);
            if now >= o.messages as u64 {
                break;
            }
            if now > seen {
                (seen, since) = (now, Instant::now());
            }
            anyhow::ensure!(
                since.elapsed() < Duration::from_secs(20),
                "only {now} of {} readings stored ({} refused): the broker at {url} dropped the rest \
                 (its max_queued_messages / max_inflight_messages)",
                o.messages,
                status.rejected.load(std::sync::atomic::Ordering::Acquire)
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
        "pace_ms": o.pace_ms,
        "saturated_p99_ms": r(percentile(&saturated_ms, 99.0)),
        "scans_per_s_max": r(scans_per_s),
        "mqtt_messages": url.as_ref().map(|_| o.messages),
        "mqtt_broker": match o.mqtt { Broker::Own => "own mosquitto", Broker::Url(_) => "given", Broker::Skip => "none" },
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
