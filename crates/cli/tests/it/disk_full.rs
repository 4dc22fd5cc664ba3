//! A full disk: captures are refused with 507 and a plain message, nothing of a refused batch is stored,
//! reads go on, and once there is room again captures resume with nothing acknowledged lost. The store's
//! size limit (`--max-store-mb`) stands in for the disk: SQLite answers a write past it as it answers a
//! full disk.

#[allow(unused_imports)]
use super::*;

/// A capture of `n` observations of a partner's products, numbered from `first`.
fn batch(first: usize, n: usize) -> Value {
    let events: Vec<Value> = (first..first + n)
        .map(|i| {
            json!({
                "type": "ObjectEvent", "eventTime": "2024-03-01T08:00:00.000+08:00", "eventTimeZoneOffset": "+08:00",
                "eventID": format!("urn:uuid:00000000-0000-4000-8000-{i:012}"),
                "epcList": [format!("urn:epc:id:sgtin:4012345.011111.{i}")], "action": "OBSERVE",
                "bizStep": "inspecting", "readPoint": {"id": "urn:epc:id:sgln:4012345.00001.0"}
            })
        })
        .collect();
    json!({"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2024-03-01T08:00:00Z",
        "epcisBody": {"eventList": events}})
}

async fn post(client: &reqwest::Client, url: &str, doc: &Value) -> (u16, Value) {
    let r = client
        .post(format!("{url}/api/v1/events"))
        .header("content-type", "application/ld+json")
        .body(doc.to_string())
        .send()
        .await
        .expect("capture");
    let status = r.status().as_u16();
    let body = r.text().await.expect("body");
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(super) async fn a_full_disk_refuses_captures_with_507_keeps_reads_and_resumes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let client = client_with(&admin_token(&data));
    let server = Server::start_with(&data, &["--max-store-mb", "2"]);
    let url = server.url.clone();
    let mut acked: Vec<String> = Vec::new();
    let mut next = 0;
    let refusal = loop {
        assert!(next < 200_000, "the store never filled");
        let (status, body) = post(&client, &url, &batch(next, 100)).await;
        match status {
            201 => {
                for e in body["events"].as_array().expect("events") {
                    acked.push(e["eventID"].as_str().expect("id").to_string());
                }
                next += 100;
            }
            507 => break body,
            other => panic!("unexpected {other}: {body}"),
        }
    };
    assert!(acked.len() >= 500, "{} events fitted in 2 MB", acked.len());
    assert_eq!(refusal["code"], "storage-full", "{refusal}");
    let detail = refusal["detail"].as_str().expect("detail");
    assert!(
        detail.contains("storage is full") && detail.contains("nothing of this request was stored"),
        "{detail}"
    );
    assert!(
        !detail.contains("sqlite") && !detail.contains("SQLITE"),
        "no internals: {detail}"
    );
    // Still refused, and reads go on: the last acknowledged event, the listing.
    let (status, _) = post(&client, &url, &batch(next, 100)).await;
    assert_eq!(status, 507);
    let last = acked.last().expect("acked").clone();
    let got = get_json(
        &client,
        &format!(
            "{url}/api/v1/events/{}",
            percent_encoding::utf8_percent_encode(&last, percent_encoding::NON_ALPHANUMERIC)
        ),
    )
    .await;
    assert_eq!(got["eventID"], last.as_str(), "{got}");
    server.terminate();

    // Room again: the same batch is taken, and everything acknowledged is there once.
    let server = Server::start_with(&data, &["--max-store-mb", "64"]);
    let (status, body) = post(&client, &server.url, &batch(next, 100)).await;
    assert_eq!(status, 201, "{body}");
    server.terminate();
    let store = suyuan_store::open(&data.to_string_lossy())
        .await
        .expect("open");
    let stored = store.events_after(0, 100_000).await.expect("events");
    let ids: std::collections::HashSet<&str> = stored.iter().map(|e| e.event_id.as_str()).collect();
    assert!(
        acked.iter().all(|id| ids.contains(id.as_str())),
        "acknowledged events lost"
    );
    let ours = stored
        .iter()
        .filter(|e| e.event_id.starts_with("urn:uuid:00000000-0000-4000-8000-"))
        .count();
    assert_eq!(
        ours,
        acked.len() + 100,
        "nothing of a refused batch was stored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(super) async fn a_server_whose_log_cannot_be_written_keeps_serving() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let client = client_with(&admin_token(&data));
    // Every log line fails to be written, as on a full disk.
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let mut child = bin()
        .env("RUST_LOG", "debug")
        .args(["serve", "--data"])
        .arg(&data)
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::from(full))
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("listening line");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("url")
        .trim_end_matches('/')
        .to_string();
    for k in 0..5 {
        let (status, body) = post(&client, &url, &batch(k * 10, 10)).await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, _) = post(&client, &url, &json!({"not": "an event"})).await;
    assert_eq!(status, 400);
    assert!(
        child.try_wait().expect("try_wait").is_none(),
        "the server stopped when its log could not be written"
    );
    let _ = child.kill();
    let _ = child.wait();
}
