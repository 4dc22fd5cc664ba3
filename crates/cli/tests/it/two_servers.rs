//! Two `suyuan serve` processes on one PostgreSQL database behave as one system: concurrent captures through
//! both keep the ledger gapless and the tree verifiable, each follows the other's writes, and a rule's
//! action and a subscription's delivery are carried out once however many servers run the reactions.

#[allow(unused_imports)]
use super::*;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// `n` events numbered from `first`, every fifth a shipment.
fn batch(first: usize, n: usize) -> Value {
    let events: Vec<Value> = (first..first + n)
        .map(|i| {
            let (step, disposition) = if i % 5 == 0 {
                ("shipping", "in_transit")
            } else {
                ("inspecting", "active")
            };
            json!({
                "type": "ObjectEvent", "eventTime": "2024-03-01T08:00:00.000+08:00", "eventTimeZoneOffset": "+08:00",
                "eventID": format!("urn:uuid:00000000-0000-4000-8000-{i:012}"),
                "epcList": [format!("urn:epc:id:sgtin:4012345.011111.{i}")], "action": "OBSERVE",
                "bizStep": step, "disposition": disposition
            })
        })
        .collect();
    json!({"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2024-03-01T08:00:00Z",
        "epcisBody": {"eventList": events}})
}

async fn post(client: &reqwest::Client, url: &str, path: &str, body: &Value) -> (u16, String) {
    let r = client
        .post(format!("{url}{path}"))
        .header("content-type", "application/ld+json")
        .body(body.to_string())
        .send()
        .await
        .expect("post");
    (r.status().as_u16(), r.text().await.unwrap_or_default())
}

/// A webhook receiver on a free local port: answers 200 to every POST and keeps each body.
async fn receiver() -> (u16, Arc<Mutex<Vec<String>>>) {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let got: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = got.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut read = BufReader::new(read);
                loop {
                    let mut length = 0usize;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        match read.read_line(&mut line).await {
                            Ok(0) | Err(_) => return,
                            Ok(_) => {}
                        }
                        if line == "\r\n" {
                            break;
                        }
                        if let Some((k, v)) = line.split_once(':')
                            && k.eq_ignore_ascii_case("content-length")
                        {
                            length = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0u8; length];
                    if read.read_exact(&mut body).await.is_err() {
                        return;
                    }
                    seen.lock()
                        .expect("lock")
                        .push(String::from_utf8_lossy(&body).into_owned());
                    let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
                    if write.write_all(ok).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, got)
}

/// The eventIDs of every event the webhook deliveries carried.
fn delivered(bodies: &[String]) -> Vec<String> {
    bodies
        .iter()
        .filter_map(|b| serde_json::from_str::<Value>(b).ok())
        .flat_map(|d| {
            d["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|e| e["eventID"].as_str().map(str::to_string))
        .collect()
}

/// Runs `suyuan ARGS` and answers its standard output, failing the test on a non-zero exit.
fn cli(args: &[&str]) -> String {
    let out = bin().args(args).output().expect("run suyuan");
    assert!(
        out.status.success(),
        "suyuan {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(super) async fn two_servers_on_one_postgresql_behave_as_one() {
    let Some(base) = suyuan_store::suite::pg_url() else {
        return;
    };
    let schema = format!("t_two_{}", std::process::id());
    let url = pg_schema(&base, &schema).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("ledger.key");
    let key = key.to_str().expect("utf-8");
    let store = ["--database", url.as_str(), "--ledger-key", key];
    let with = |args: &[&str]| -> Vec<String> {
        args.iter()
            .chain(store.iter())
            .map(|s| s.to_string())
            .collect()
    };
    let run = |args: &[&str]| {
        let owned = with(args);
        cli(&owned.iter().map(String::as_str).collect::<Vec<_>>())
    };
    run(&["user", "create", "tester", "--role", "admin"]);
    let token = run(&["token", "create", "--user", "tester", "--expires", "1d"]);
    let client = client_with(&token);
    let (port, hooks) = receiver().await;
    let allow = format!("127.0.0.1:{port}");
    let serve: Vec<&str> = store
        .iter()
        .copied()
        .chain(["--webhook-allow", allow.as_str()])
        .collect();
    let a = Server::spawn(&serve);
    let b = Server::spawn(&serve);

    // An EPCIS subscription made through B: every shipment streamed to the webhook.
    let query = json!({"name": "shipments", "query": {"EQ_bizStep": ["shipping"]}});
    let (status, body) = post(&client, &b.url, "/epcis/queries", &query).await;
    assert_eq!(status, 201, "{body}");
    let sub = json!({"dest": format!("http://127.0.0.1:{port}/hook"), "stream": true});
    let (status, body) = post(
        &client,
        &b.url,
        "/epcis/queries/shipments/subscriptions",
        &sub,
    )
    .await;
    assert_eq!(status, 201, "{body}");

    // A rule saved through one server: a task for every shipment.
    let rule = json!({"code": "each-shipment", "name": "每次发货复核 / check every shipment",
        "when": {"biz_step": ["shipping"]},
        "then": [{"do": "task", "title": "复核 {object}", "role": "admin", "due_hours": 4}]});
    let (status, body) = post(&client, &a.url, "/api/v1/rules", &rule).await;
    assert_eq!(status, 201, "{body}");

    // Concurrent captures through both: two writers per server.
    let mut writers = Vec::new();
    for (w, url) in [&a.url, &a.url, &b.url, &b.url].into_iter().enumerate() {
        let (client, url) = (client.clone(), url.clone());
        writers.push(tokio::spawn(async move {
            for k in 0..15 {
                let (status, body) = post(
                    &client,
                    &url,
                    "/api/v1/events",
                    &batch((w * 15 + k) * 20, 20),
                )
                .await;
                assert_eq!(status, 201, "{body}");
            }
        }));
    }
    for w in writers {
        w.await.expect("writer");
    }
    let captured = 4 * 15 * 20;
    let shipments = captured / 5;

    // Each follows the other's writes: a pallet packed through A is traced through B.
    let pack = json!({"type": "AggregationEvent", "eventTime": "2024-03-01T09:00:00.000+08:00",
        "eventTimeZoneOffset": "+08:00", "parentID": "urn:epc:id:sscc:4012345.0000000001",
        "childEPCs": ["urn:epc:id:sgtin:4012345.011111.1", "urn:epc:id:sgtin:4012345.011111.2"],
        "action": "ADD", "bizStep": "packing"});
    let (status, body) = post(&client, &a.url, "/api/v1/events", &pack).await;
    assert_eq!(status, 201, "{body}");
    let packed = Instant::now();
    loop {
        let t = get_json(
            &client,
            &format!(
                "{}/api/v1/trace/backward?id=urn:epc:id:sscc:4012345.0000000001",
                b.url
            ),
        )
        .await;
        if t["counts"]["nodes"] == 3 {
            break;
        }
        assert!(
            packed.elapsed() < Duration::from_secs(5),
            "B never saw A's packing: {t}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!(
        "B traced A's packing after {} ms",
        packed.elapsed().as_millis()
    );

    // A hold placed through A keeps B's capture checks from shipping the can at once: B's operations
    // projections read A's hold before judging.
    let held = "urn:epc:id:sgtin:4012345.011111.3";
    let (status, body) = post(
        &client,
        &a.url,
        "/api/v1/quality/holds",
        &json!({"object": held, "reason": "dented", "only_this": true}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let hold = serde_json::from_str::<Value>(&body).expect("json")["hold"]
        .as_str()
        .expect("hold id")
        .to_string();
    let ship = json!({"type": "ObjectEvent", "eventTime": "2024-03-01T10:00:00.000+08:00",
        "eventTimeZoneOffset": "+08:00", "epcList": [held], "action": "OBSERVE",
        "bizStep": "shipping", "disposition": "in_transit"});
    let (status, body) = post(&client, &b.url, "/api/v1/events", &ship).await;
    assert!(
        (400..500).contains(&status) && body.contains(&hold),
        "B shipped a can A had put on hold: {status} {body}"
    );

    // The rule's task, once per shipment, whichever server ran the rules.
    let tasks = |url: String| {
        let client = client.clone();
        async move {
            let inbox = get_json(&client, &format!("{url}/api/v1/tasks?all=true")).await;
            inbox["tasks"].as_array().map_or(0, |t| {
                t.iter()
                    .filter(|t| t["title"].as_str().is_some_and(|s| s.starts_with("复核 ")))
                    .count()
            })
        }
    };
    let started = Instant::now();
    while tasks(b.url.clone()).await < shipments {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the rule did not run for every shipment"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Both servers' reactions have had time to run again: still once each.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(tasks(a.url.clone()).await, shipments);
    assert_eq!(tasks(b.url.clone()).await, shipments);
    // Every shipment delivered to the webhook once, whichever server held the subscriptions' lease.
    let started = Instant::now();
    while delivered(&hooks.lock().expect("lock")).len() < shipments {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "not every shipment was delivered"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let ids = delivered(&hooks.lock().expect("lock"));
    let unique: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), shipments);
    assert_eq!(ids.len(), shipments, "a shipment was delivered twice");

    a.terminate();
    b.terminate();
    // One gapless ledger and a tree that verifies.
    let opened = suyuan_store::open(&url).await.expect("open");
    let events = opened.events_after(0, 100_000).await.expect("events");
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(
        seqs,
        (1..=events.len() as u64).collect::<Vec<_>>(),
        "gapless"
    );
    assert!(events.len() > captured, "{} events", events.len());
    run(&["checkpoint"]);
    let verified = run(&["verify"]);
    assert!(verified.starts_with("intact:"), "{verified}");
    suyuan_store::PgStore::drop_schema(&base, &schema)
        .await
        .expect("drop");
}
