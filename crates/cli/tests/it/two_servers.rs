//! Two `suyuan serve` processes on one PostgreSQL database behave as one system: concurrent captures through
//! both keep the ledger gapless and the tree verifiable, each follows the other's writes, and a rule's
//! action is carried out once however many servers run the reactions.

#[allow(unused_imports)]
use super::*;
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
    let a = Server::spawn(&store);
    let b = Server::spawn(&store);

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
