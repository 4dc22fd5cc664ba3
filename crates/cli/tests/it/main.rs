//! End-to-end tests of the `suyuan` binary: hash, import/export, demo, and durability across SIGKILL.

use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

mod same_decision;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_suyuan"));
    c.env("RUST_LOG", "warn");
    c
}

/// An admin API token for a data directory, made through the CLI (works while a server runs on it): user
/// `tester` is created first when missing.
fn admin_token(data: &Path) -> String {
    let _ = bin()
        .args(["user", "create", "tester", "--role", "admin", "--data"])
        .arg(data)
        .output()
        .expect("user create");
    let out = bin()
        .args([
            "token",
            "create",
            "--user",
            "tester",
            "--expires",
            "1d",
            "--data",
        ])
        .arg(data)
        .output()
        .expect("token create");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// An HTTP client sending `token`.
fn client_with(token: &str) -> reqwest::Client {
    let mut h = reqwest::header::HeaderMap::new();
    h.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().expect("header"),
    );
    reqwest::Client::builder()
        .default_headers(h)
        .build()
        .expect("client")
}

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../epcis/tests/vectors")
}

/// A running `suyuan serve` and its base URL.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(data: &Path) -> Server {
        let mut child = bin()
            .args(["serve", "--data"])
            .arg(data)
            .args(["--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn suyuan serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the listening line");
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in {line:?}"))
            .trim_end_matches('/')
            .to_string();
        Server { child, url }
    }

    /// Sends SIGTERM and waits for a clean exit.
    fn terminate(mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(status.success());
        let exit = self.child.wait().expect("wait");
        assert!(exit.success(), "serve exited with {exit}");
    }

    fn kill9(mut self) {
        // Child::kill sends SIGKILL on Unix: no shutdown code runs.
        self.child.kill().expect("kill");
        self.child.wait().expect("wait");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn hash_prints_the_reference_hashes() {
    let file = vectors().join("epcisDocWithVariousEventTypes.jsonld");
    let out = bin().arg("hash").arg(&file).output().expect("run");
    assert!(out.status.success());
    let want = std::fs::read_to_string(file.with_extension("hashes")).expect("hashes");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), want.trim());
}

#[test]
fn id_parse_prints_every_form_and_exits_2_on_invalid_input() {
    let out = bin()
        .args(["id", "parse", "]d2010690123456789217261231"])
        .arg("--gcp-length=7")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["ais"], json!({"01": "06901234567892", "17": "261231"}));
    assert_eq!(v["dl"], "https://id.gs1.org/01/06901234567892?17=261231");
    assert_eq!(v["urn"], "urn:epc:idpat:sgtin:6901234.056789.*");
    let out = bin()
        .args(["id", "parse", "6901234567891"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "GTIN 6901234567891: check digit should be 2, got 1"
    );
    assert!(out.stdout.is_empty());
    let out = bin()
        .args([
            "id",
            "encode",
            "https://brand.cn/01/06901234567892/21/12345",
            "--filter",
            "3",
        ])
        .output()
        .expect("run");
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let hex = v["hex"].as_str().expect("hex").to_string();
    let out = bin().args(["id", "parse", &hex]).output().expect("run");
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["kind"], "epc_hex");
    assert_eq!(v["ais"], json!({"01": "06901234567892", "21": "12345"}));
    assert_eq!(v["tag"]["filter"], 3);
}

#[test]
fn hash_rejects_an_invalid_document_with_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("bad.jsonld");
    let doc = json!({"type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2024-01-01T00:00:00Z",
        "epcisBody": {"eventList": [{"type": "ObjectEvent", "eventTime": "2024-13-01", "eventTimeZoneOffset": "+08:00",
        "epcList": [], "action": "OBSERVE"}]}});
    std::fs::write(&file, doc.to_string()).expect("write");
    let out = bin().arg("hash").arg(&file).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "/epcisBody/eventList/0/eventTime: expected RFC 3339 date-time, got \"2024-13-01\""
        ),
        "{err}"
    );
}

#[test]
fn import_is_resumable_and_export_round_trips() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let file = vectors().join("epcisDocWithVariousEventTypes.jsonld");
    let first = bin()
        .arg("import")
        .arg("--data")
        .arg(&data)
        .arg(&file)
        .output()
        .expect("import");
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(
        String::from_utf8_lossy(&first.stdout).contains("13 events stored, 0 already stored"),
        "{}",
        String::from_utf8_lossy(&first.stdout)
    );
    let again = bin()
        .arg("import")
        .arg("--data")
        .arg(&data)
        .arg(&file)
        .output()
        .expect("import again");
    assert!(String::from_utf8_lossy(&again.stdout).contains("0 events stored, 13 already stored"));

    let export = bin()
        .arg("export")
        .arg("--data")
        .arg(&data)
        .output()
        .expect("export");
    assert!(export.status.success());
    let doc: Value = serde_json::from_slice(&export.stdout).expect("export is JSON");
    let events = doc["epcisBody"]["eventList"]
        .as_array()
        .expect("event list");
    assert_eq!(events.len(), 13);
    assert!(
        events
            .iter()
            .all(|e| e["recordTime"].is_string() && e["eventID"].is_string())
    );
    // The export names the signed checkpoint it was built on and the hashes of every event it holds.
    let anchor = &doc["sy:ledger"];
    let cp = suyuan_ledger::checkpoint::verify(
        anchor["checkpoint"].as_str().expect("checkpoint"),
        anchor["verifierKey"].as_str().expect("key"),
    )
    .expect("the checkpoint verifies");
    assert_eq!(cp.size, 13);
    let covered = anchor["events"].as_array().expect("covered events");
    assert_eq!(covered.len(), 13);
    let leaves: Vec<[u8; 32]> = covered
        .iter()
        .map(|c| {
            let mut h = [0u8; 32];
            hex::decode_to_slice(c["leafHash"].as_str().expect("leaf"), &mut h).expect("hex");
            h
        })
        .collect();
    assert_eq!(
        suyuan_ledger::merkle_root(&leaves),
        cp.root,
        "the covered leaves give the signed root"
    );
    assert_eq!(covered[4]["eventID"], events[4]["eventID"]);
    let exported = dir.path().join("export.jsonld");
    std::fs::write(&exported, &export.stdout).expect("write export");
    // The export is itself a valid document with the same event hashes as the original.
    let h1 = bin()
        .arg("hash")
        .arg(&file)
        .output()
        .expect("hash original");
    let h2 = bin()
        .arg("hash")
        .arg(&exported)
        .output()
        .expect("hash export");
    assert_eq!(
        String::from_utf8_lossy(&h1.stdout),
        String::from_utf8_lossy(&h2.stdout)
    );
    let since = bin()
        .arg("export")
        .arg("--data")
        .arg(&data)
        .args(["--since-seq", "10"])
        .output()
        .expect("export since");
    let doc: Value = serde_json::from_slice(&since.stdout).expect("JSON");
    assert_eq!(
        doc["epcisBody"]["eventList"].as_array().map(Vec::len),
        Some(3)
    );
    // A data directory without users (imported, or from before access control) gets the demo's on `demo`.
    let demo = bin()
        .args(["demo", "--no-serve", "--data"])
        .arg(&data)
        .output()
        .expect("demo");
    let text = String::from_utf8_lossy(&demo.stdout);
    assert!(
        text.contains("Reusing the existing data") && text.contains("Demo users"),
        "{text}"
    );
}

#[test]
fn a_thousand_demo_labels_print_to_pdf_and_zpl() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    let demo = bin()
        .arg("demo")
        .arg("--data")
        .arg(&data)
        .args(["--days", "1", "--no-serve"])
        .output()
        .expect("demo");
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    let print = |out: &Path| {
        let o = bin()
            .args([
                "labels",
                "print",
                "--template",
                "demo-can",
                "--rule",
                "demo-can",
                "--count",
                "1000",
            ])
            .args(["--var", "lot=L2611250A"])
            .args(["--context", "plant=SH,line=001,shift=1"])
            .arg("--out")
            .arg(out)
            .arg("--data")
            .arg(&data)
            .output()
            .expect("print");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let pdf = dir.path().join("labels.pdf");
    let said = print(&pdf);
    assert!(said.starts_with("1000 labels (SH001"), "{said}");
    let bytes = std::fs::read(&pdf).expect("pdf");
    assert!(bytes.starts_with(b"%PDF-"));
    assert!(String::from_utf8_lossy(&bytes).contains("/Type/Pages/Count 1000/"));
    let zpl = dir.path().join("labels.zpl");
    print(&zpl);
    let text = std::fs::read_to_string(&zpl).expect("zpl");
    assert_eq!(text.matches("^XA").count(), 1000);
    // Every printed code is issued, distinct across both runs, and checks as valid.
    let first = text
        .split("^FDMA,")
        .nth(1)
        .and_then(|r| r.split("^FS").next())
        .expect("a QR field")
        .to_string();
    let check = bin()
        .args(["codes", "check", &first, "--data"])
        .arg(&data)
        .output()
        .expect("check");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let serials: std::collections::HashSet<&str> = text
        .split("/21/")
        .skip(1)
        .filter_map(|r| r.split("^FS").next())
        .collect();
    assert_eq!(serials.len(), 1000);
    let bad = bin()
        .args([
            "labels",
            "print",
            "--template",
            "demo-can",
            "--rule",
            "demo-can",
            "--count",
            "5",
        ])
        .args(["--context", "plant=SH,line=001,shift=1"])
        .arg("--out")
        .arg(dir.path().join("x.pdf"))
        .arg("--data")
        .arg(&data)
        .output()
        .expect("print without lot");
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown variable {lot}"));
}

#[test]
fn verify_says_intact_then_names_the_first_tampered_seq() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    let demo = bin()
        .arg("demo")
        .arg("--data")
        .arg(&data)
        .args(["--days", "1", "--no-serve"])
        .output()
        .expect("demo");
    assert!(demo.status.success());
    let cp = bin()
        .arg("checkpoint")
        .arg("--data")
        .arg(&data)
        .output()
        .expect("checkpoint");
    assert!(
        cp.status.success(),
        "{}",
        String::from_utf8_lossy(&cp.stderr)
    );
    let note = String::from_utf8_lossy(&cp.stdout).into_owned();
    assert!(note.starts_with("suyuan.local/ledger\n"), "{note}");
    let key = data.join("ledger.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).expect("key").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let ok = bin()
        .arg("verify")
        .arg("--data")
        .arg(&data)
        .output()
        .expect("verify");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).starts_with("intact: "));
    let db = rusqlite::Connection::open(data.join("suyuan.db")).expect("db");
    db.execute(
        "UPDATE events SET record_time = '2020-01-01T00:00:00.000Z' WHERE seq = 42",
        [],
    )
    .expect("tamper");
    drop(db);
    let bad = bin()
        .arg("verify")
        .arg("--data")
        .arg(&data)
        .output()
        .expect("verify");
    assert_eq!(bad.status.code(), Some(1));
    let said = String::from_utf8_lossy(&bad.stdout);
    assert!(
        said.starts_with("TAMPERED at seq 42: leaf hash is"),
        "{said}"
    );
}

#[test]
fn postgres_deployments_name_their_one_signing_key_and_verify_never_makes_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    for args in [
        &["verify", "--database", "postgres://nobody@127.0.0.1:1/none"][..],
        &[
            "checkpoint",
            "--database",
            "postgres://nobody@127.0.0.1:1/none",
        ][..],
    ] {
        let out = bin()
            .current_dir(dir.path())
            .env_remove("SUYUAN_LEDGER_KEY")
            .args(args)
            .output()
            .expect("run");
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--ledger-key"), "{args:?}: {err}");
    }
    assert!(
        !dir.path().join("suyuan-data").exists(),
        "no key (nor data folder) appeared where the command ran"
    );
    // On SQLite, verifying a data directory without a key says so instead of making one.
    let data = dir.path().join("empty");
    let out = bin()
        .env_remove("SUYUAN_LEDGER_KEY")
        .arg("verify")
        .arg("--data")
        .arg(&data)
        .output()
        .expect("verify");
    assert!(!out.status.success());
    assert!(!data.join("ledger.key").exists());
}

#[test]
fn demo_loads_once_and_is_reused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("demo");
    let run = |_: ()| {
        bin()
            .arg("demo")
            .arg("--data")
            .arg(&data)
            .args(["--days", "2", "--no-serve"])
            .output()
            .expect("demo")
    };
    let first = run(());
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let text = String::from_utf8_lossy(&first.stdout);
    assert!(
        text.contains("Stored ") && text.contains("demo events"),
        "{text}"
    );
    assert!(text.contains("Signed a checkpoint of the ledger"), "{text}");
    let second = run(());
    let again = String::from_utf8_lossy(&second.stdout);
    assert!(again.contains("Reusing the existing data"), "{again}");
    // Passwords are not printed again, but how to set one is.
    assert!(
        again.contains("suyuan user set admin --password-stdin"),
        "{again}"
    );
    // A load without serving still leaves a signed ledger.
    let verified = bin()
        .arg("verify")
        .arg("--data")
        .arg(&data)
        .output()
        .expect("verify");
    let said = String::from_utf8_lossy(&verified.stdout);
    assert!(
        said.starts_with("intact:") && !said.contains(" 0 signed checkpoints"),
        "{said}"
    );
    // Forward trace of the first raw-milk lot: both batches of day one, 1,200 cans, in 200 cases on 10 pallets.
    let out = bin()
        .args([
            "trace",
            "forward",
            "urn:epc:class:lgtin:6920001.000011.RM0001",
            "--format",
            "csv",
            "--data",
        ])
        .arg(&data)
        .output()
        .expect("trace");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8_lossy(&out.stdout);
    let count = |kind: &str| {
        csv.lines()
            .filter(|l| l.split(',').nth(1) == Some(kind))
            .count()
    };
    assert_eq!(
        (count("instance"), count("logistic_unit")),
        (1200, 210),
        "{csv}"
    );
    // The demo's cans were issued by its coding rule: the register knows them.
    let can = csv
        .lines()
        .find(|l| l.split(',').nth(1) == Some("instance"))
        .and_then(|l| l.split(',').next())
        .expect("a can")
        .to_string();
    let check = bin()
        .args(["codes", "check", &can, "--data"])
        .arg(&data)
        .output()
        .expect("check");
    let said = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success()
            && said.contains("\"status\":\"valid\"")
            && said.contains("demo-can"),
        "{said}"
    );
    // A can serial the rule never issued is refused at import, located, and nothing is stored.
    let fake = dir.path().join("fake.jsonld");
    std::fs::write(
        &fake,
        serde_json::json!({"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
            "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-11-01T00:00:00Z",
            "epcisBody": {"eventList": [{"type": "ObjectEvent", "eventTime": "2026-11-01T10:00:00+08:00",
                "eventTimeZoneOffset": "+08:00", "action": "OBSERVE", "bizStep": "receiving",
                "epcList": ["urn:epc:id:sgtin:6901234.012345.SH0012627419999X"]}]}})
        .to_string(),
    )
    .expect("write");
    let refused = bin()
        .arg("import")
        .arg(&fake)
        .arg("--data")
        .arg(&data)
        .output()
        .expect("import");
    let err = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{err}");
    assert!(
        err.contains("/epcisBody/eventList/0/epcList/0") && err.contains("never issued"),
        "{err}"
    );
    // Backward from a can lot: its cans' canning, drying and mixing, down to the raw milk of that day.
    let out = bin()
        .args([
            "trace",
            "backward",
            "urn:epc:class:lgtin:6901234.012345.L2026100111",
            "--format",
            "csv",
            "--data",
        ])
        .arg(&data)
        .output()
        .expect("trace");
    let csv = String::from_utf8_lossy(&out.stdout);
    for want in [
        "urn:suyuan:demo:op:WO-20261001-1-1:canning",
        "urn:suyuan:demo:op:WO-20261001-1-1:spray_drying",
        "urn:suyuan:demo:op:WO-20261001-1-1:mixing",
        "https://id.gs1.org/01/06920001000110/10/RM0001",
    ] {
        assert!(
            csv.contains(want),
            "backward trace of the lot misses {want}: {csv}"
        );
    }
    let missing = bin()
        .args([
            "trace",
            "backward",
            "urn:epc:id:sgtin:6901234.012345.NOPE",
            "--data",
        ])
        .arg(&data)
        .output()
        .expect("trace");
    assert_eq!(missing.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_saves_the_trace_index_on_shutdown_and_starts_from_it() {
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
    let saved = std::fs::metadata(&snapshot)
        .expect("saved on shutdown")
        .modified()
        .expect("mtime");

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
}

fn event(i: usize) -> Value {
    json!({
        "type": "ObjectEvent", "eventTime": "2024-03-01T08:00:00.000+08:00", "eventTimeZoneOffset": "+08:00",
        "eventID": format!("urn:uuid:00000000-0000-4000-8000-{i:012}"),
        "epcList": [format!("urn:epc:id:sgtin:6901234.012345.{i}")], "action": "OBSERVE", "bizStep": "inspecting"
    })
}

async fn get_json(client: &reqwest::Client, url: &str) -> Value {
    let text = client
        .get(url)
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: not JSON ({e}): {text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_loses_no_acknowledged_event() {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_users_sign_in_and_tokens_made_by_another_process_work_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("demo");
    let demo = bin()
        .arg("demo")
        .arg("--data")
        .arg(&data)
        .args(["--days", "1", "--no-serve"])
        .output()
        .expect("demo");
    assert!(demo.status.success());
    let text = String::from_utf8_lossy(&demo.stdout).into_owned();
    let users: HashMap<String, String> = text
        .lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            (w.len() == 3 && w[2].len() == 16).then(|| (w[0].to_string(), w[2].to_string()))
        })
        .collect();
    assert_eq!(users.len(), 9, "one user per role: {text}");
    let server = Server::start(&data);
    let anon = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let status = |r: reqwest::Response| r.status().as_u16();
    let events = format!("{}/api/v1/events", server.url);
    assert_eq!(status(anon.get(&events).send().await.expect("get")), 401);
    // The demo admin signs in with the printed password.
    let signed = anon
        .post(format!("{}/login", server.url))
        .form(&[("username", "admin"), ("password", users["admin"].as_str())])
        .send()
        .await
        .expect("login");
    assert_eq!(signed.status().as_u16(), 303);
    assert!(signed.headers().contains_key("set-cookie"));
    // Tokens made by the CLI on the running server's data directory work at once, and stop at once.
    let token = |args: &[&str]| {
        let out = bin()
            .args(["token", "create"])
            .args(args)
            .arg("--data")
            .arg(&data)
            .output()
            .expect("token");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).trim().to_string(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, reader, info) = token(&["--user", "admin", "--scope", "events:read"]);
    assert_eq!(code, Some(0), "{info}");
    let c = client_with(&reader);
    assert_eq!(status(c.get(&events).send().await.expect("get")), 200);
    let write = c
        .post(&events)
        .header("content-type", "application/json")
        .body(event(1).to_string())
        .send()
        .await
        .expect("post");
    assert_eq!(status(write), 403, "a read-only token cannot capture");
    let id = info
        .split_whitespace()
        .nth(1)
        .expect("token id")
        .to_string();
    let revoked = bin()
        .args(["token", "revoke", &id, "--data"])
        .arg(&data)
        .output()
        .expect("revoke");
    assert!(revoked.status.success());
    assert_eq!(status(c.get(&events).send().await.expect("get")), 401);
    // The distributor sees only its own part of the demo.
    let (_, dist, _) = token(&["--user", "distributor"]);
    let page = get_json(&client_with(&dist), &format!("{events}?limit=1000")).await;
    let list = page["events"].as_array().expect("events");
    assert!(!list.is_empty());
    assert!(list.iter().all(|e| {
        let s = e["event"].to_string();
        s.contains("6930001") && !s.contains("commissioning")
    }));
    // The demo's master data: the plant's rooms are its children, so WD_bizLocation of the plant finds
    // events in them; the distributor sees the master data of its own places only.
    let (_, admin, _) = token(&["--user", "admin"]);
    let admin = client_with(&admin);
    let plant = "urn:epc:id:sgln:6901234.00001.0";
    let md = get_json(
        &admin,
        &format!("{}/epcis/masterData?EQ_name={plant}", server.url),
    )
    .await;
    let el = &md["epcisBody"]["queryResults"]["resultsBody"]["vocabularyList"][0]["vocabularyElementList"]
        [0];
    assert_eq!(el["children"].as_array().map(Vec::len), Some(7), "{md}");
    let count = |doc: &Value| {
        doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
            .as_array()
            .map_or(0, Vec::len)
    };
    let wd = get_json(
        &admin,
        &format!(
            "{}/epcis/events?perPage=50&WD_bizLocation={plant}",
            server.url
        ),
    )
    .await;
    let eq = get_json(
        &admin,
        &format!(
            "{}/epcis/events?perPage=50&EQ_bizLocation={plant}",
            server.url
        ),
    )
    .await;
    assert_eq!(
        (count(&wd), count(&eq)),
        (50, 0),
        "events happen in the rooms, not at the plant itself"
    );
    let theirs = get_json(
        &client_with(&dist),
        &format!("{}/epcis/masterData", server.url),
    )
    .await;
    let ids: Vec<String> = suyuan_epcis::masterdata::from_document(&theirs)
        .expect("master data")
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(ids.len(), 4, "its warehouse and three stores: {ids:?}");
    assert!(ids.iter().all(|i| i.contains("6930001")));
    let (code, _, err) = token(&["--user", "nobody"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("no user named 'nobody'"), "{err}");
    server.terminate();
    // The first administrator of a fresh directory, password from standard input.
    let fresh = dir.path().join("fresh");
    let mut child = bin()
        .args([
            "admin",
            "create",
            "--user",
            "root",
            "--password-stdin",
            "--data",
        ])
        .arg(&fresh)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("admin create");
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(b"a long enough password\n").expect("write");
    }
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success());
    let listed = bin()
        .args(["user", "list", "--data"])
        .arg(&fresh)
        .output()
        .expect("list");
    assert!(String::from_utf8_lossy(&listed.stdout).starts_with("root\tadmin"));
}
