//! Durability: nothing acknowledged is lost to SIGKILL, and the trace index, operations projections and dashboard
//! counts are saved on shutdown and loaded at start.

#[allow(unused_imports)]
use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(super) async fn serve_saves_the_trace_index_on_shutdown_and_starts_from_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("demo");
    let loaded = bin()
        .arg("demo")
        .arg("--data")
        .arg(&data)
        .args(["--days", "2", "--no-serve"])
        .output()
        .expect("demo");
    assert!(loaded.status.success());
    let snapshot = data.join("trace-index.snapshot");
    assert!(
        !snapshot.exists(),
        "a small load does not save one by itself"
    );
    let client = client_with(&admin_token(&data));
    let forward = |url: String| {
        let client = client.clone();
        async move {
            let j = get_json(
                &client,
                &format!("{url}/api/v1/trace/forward?id=urn:epc:class:lgtin:6920001.000011.RM0001"),
            )
            .await;
            j["counts"].clone()
        }
    };
    let server = Server::start(&data);
    let counts = forward(server.url.clone()).await;
    assert!(
        counts["nodes"].as_u64().is_some_and(|n| n > 1000),
        "{counts}"
    );
    server.terminate();
    let mtime = |name: &str| {
        std::fs::metadata(data.join(name))
            .unwrap_or_else(|e| panic!("{name} saved on shutdown: {e}"))
            .modified()
            .expect("mtime")
    };
    let saved = std::fs::metadata(&snapshot)
        .expect("saved on shutdown")
        .modified()
        .expect("mtime");
    // The operations projections and the dashboard counts are saved beside it.
    let others = [mtime("operations.snapshot"), mtime("dashboard.snapshot")];

    // The next start answers the same from the snapshot; as nothing changed, shutting down again does not
    // rewrite it (a rebuilt index would be saved anew).
    let server = Server::start(&data);
    assert_eq!(forward(server.url.clone()).await, counts);
    server.terminate();
    let after = std::fs::metadata(&snapshot)
        .expect("still there")
        .modified()
        .expect("mtime");
    assert_eq!(saved, after, "the index was rebuilt instead of loaded");
    assert_eq!(
        others,
        [mtime("operations.snapshot"), mtime("dashboard.snapshot")],
        "the projections were read from the ledger instead of loaded"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(super) async fn sigkill_loses_no_acknowledged_event() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let server = Server::start(&data);
    let url = server.url.clone();
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    // Made by another process while the server runs: accepted at once.
    let client = client_with(&admin_token(&data));
    let mut tasks = Vec::new();
    for w in 0..4usize {
        let (client, url, acked) = (client.clone(), url.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0.. {
                let e = event(w * 1_000_000 + i);
                let id = e["eventID"].as_str().unwrap_or_default().to_string();
                let resp = client
                    .post(format!("{url}/api/v1/events"))
                    .header("content-type", "application/json")
                    .body(e.to_string())
                    .send()
                    .await;
                match resp {
                    Ok(r) if r.status().is_success() => acked.lock().expect("lock").push(id),
                    _ => break, // the server is gone
                }
            }
        }));
    }
    // Let the writers run, then pull the plug mid-stream.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        assert!(
            std::time::Instant::now() < deadline,
            "the server acknowledged {} events in a minute",
            acked.lock().expect("lock").len()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if acked.lock().expect("lock").len() >= 300 {
            break;
        }
    }
    server.kill9();
    for t in tasks {
        let _ = t.await;
    }
    let acked = acked.lock().expect("lock").clone();
    assert!(acked.len() >= 300);

    let server = Server::start(&data);
    let mut stored: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut next = Some(format!("{}/api/v1/events?limit=1000", server.url));
    let mut seqs = Vec::new();
    while let Some(u) = next.take() {
        let page = get_json(&client, &u).await;
        for e in page["events"].as_array().expect("events") {
            stored.insert(e["eventID"].as_str().unwrap_or_default().to_string());
            seqs.push(e["seq"].as_u64().unwrap_or(0));
        }
        next = page["next"].as_str().map(|p| format!("{}{p}", server.url));
    }
    let missing: Vec<&String> = acked.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged events lost after SIGKILL, e.g. {:?}",
        missing.len(),
        missing.first()
    );
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<_>>(),
        "the ledger must stay gapless"
    );
    // The restarted server keeps appending after the last seq.
    let text = client
        .post(format!("{}/api/v1/events", server.url))
        .header("content-type", "application/json")
        .body(event(9_999_999).to_string())
        .send()
        .await
        .expect("post")
        .text()
        .await
        .expect("body");
    let r: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(r["events"][0]["seq"].as_u64(), Some(seqs.len() as u64 + 1));
}
