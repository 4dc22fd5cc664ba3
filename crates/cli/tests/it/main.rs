//! End-to-end tests of the `suyuan` binary: hash, import/export, demo, and durability across SIGKILL.

use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

mod backup;
mod config;
mod demo;
mod disk_full;
mod durability;
mod load;
mod two_servers;

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

/// A URL of the PostgreSQL database at `base` whose search path is `schema`, created empty (dropped first).
async fn pg_schema(base: &str, schema: &str) -> String {
    suyuan_store::PgStore::drop_schema(base, schema)
        .await
        .expect("clean");
    let (client, conn) = tokio_postgres::connect(base, tokio_postgres::NoTls)
        .await
        .expect("connect");
    let task = tokio::spawn(conn);
    client
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await
        .expect("schema");
    drop(client);
    let _ = task.await;
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-c%20search_path%3D{schema}")
}

/// A running `suyuan serve` and its base URL.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(data: &Path) -> Server {
        Server::start_with(data, &[])
    }

    /// Starts `suyuan serve` on `data` with more options.
    fn start_with(data: &Path, extra: &[&str]) -> Server {
        let data = data.to_string_lossy().into_owned();
        let mut args = vec!["--data", data.as_str()];
        args.extend_from_slice(extra);
        Server::spawn(&args)
    }

    /// Starts `suyuan serve ARGS` on a free port.
    fn spawn(args: &[&str]) -> Server {
        let mut child = bin()
            .arg("serve")
            .args(args)
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
    // The value the template needs, named with how to give it.
    let said = String::from_utf8_lossy(&bad.stderr);
    assert!(
        said.contains("uses {lot}") && said.contains("lot=…"),
        "{said}"
    );
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
