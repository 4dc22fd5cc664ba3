//! Backup, restore and migrate: an online backup while captures go on, restored and verified, and a SQLite
//! data directory moved to PostgreSQL and back, each copy answering the same traces as the original.

#[allow(unused_imports)]
use super::*;

const LOT: &str = "urn:epc:class:lgtin:6920001.000011.RM0001";

/// The demo factory's two days, loaded into `data`.
fn demo(data: &Path) {
    let out = bin()
        .arg("demo")
        .arg("--data")
        .arg(data)
        .args(["--days", "2", "--no-serve"])
        .output()
        .expect("demo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `suyuan ARGS` and answers its exit code and standard output and error together.
fn run(args: &[&str]) -> (Option<i32>, String) {
    let out = bin().args(args).output().expect("run suyuan");
    (
        out.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// The forward trace of the demo's first milk lot, as `suyuan trace` prints it from a store: its nodes and
/// edges (the ledger anchor names the newest checkpoint, which a server running on after a backup renews).
fn trace(store: &[&str]) -> Value {
    let mut args = vec!["trace", "forward", LOT];
    args.extend_from_slice(store);
    let out = bin().args(&args).output().expect("trace");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("trace JSON");
    assert!(
        v["nodes"].as_array().is_some_and(|n| n.len() > 100),
        "a whole genealogy"
    );
    json!({"nodes": v["nodes"], "edges": v["edges"]})
}

/// Asserts two traces are the same without printing megabytes when they are not.
fn same_trace(a: &Value, b: &Value) {
    assert!(
        a == b,
        "traces differ: {} vs {} nodes, {} vs {} edges",
        a["nodes"].as_array().map_or(0, Vec::len),
        b["nodes"].as_array().map_or(0, Vec::len),
        a["edges"].as_array().map_or(0, Vec::len),
        b["edges"].as_array().map_or(0, Vec::len)
    );
}

/// An observation of a partner's product (the demo plant refuses its own codes unless issued).
fn partner_event(i: usize) -> Value {
    json!({
        "type": "ObjectEvent", "eventTime": "2024-03-01T08:00:00.000+08:00", "eventTimeZoneOffset": "+08:00",
        "eventID": format!("urn:uuid:00000000-0000-4000-8000-{i:012}"),
        "epcList": [format!("urn:epc:id:sgtin:4012345.011111.{i}")], "action": "OBSERVE", "bizStep": "inspecting"
    })
}

/// Restores the backup `file` into the new data directory `into` with the signing key `key`, and asserts that
/// the restore verified it.
fn restore_verified(file: &Path, into: &Path, key: &Path) {
    let (code, out) = run(&[
        "restore",
        s(file),
        "--data",
        s(into),
        "--ledger-key",
        s(key),
    ]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("intact:"), "{out}");
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(super) async fn an_online_backup_restores_verified_with_the_same_traces() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    demo(&data);
    let server = Server::start(&data);
    let client = client_with(&admin_token(&data));
    // Captures go on while the backup is taken.
    let url = server.url.clone();
    let capturing = tokio::spawn(async move {
        let mut acked = 0;
        for i in 0..200 {
            let r = client
                .post(format!("{url}/api/v1/events"))
                .header("content-type", "application/json")
                .body(partner_event(i).to_string())
                .send()
                .await
                .expect("capture");
            let status = r.status();
            assert!(
                status.is_success(),
                "{status}: {}",
                r.text().await.unwrap_or_default()
            );
            acked += 1;
        }
        acked
    });
    let file = dir.path().join("backup.db");
    let (code, out) = run(&["backup", "--data", s(&data), "--out", s(&file)]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("Backed up") && out.contains("signed checkpoint at"),
        "{out}"
    );
    let (code, out) = run(&["backup", "--data", s(&data), "--out", s(&file)]);
    assert_eq!(code, Some(1), "a backup never overwrites: {out}");
    assert!(out.contains("already exists"), "{out}");
    assert_eq!(capturing.await.expect("captures"), 200);
    server.terminate();

    let restored = dir.path().join("restored");
    let key = data.join("ledger.key");
    restore_verified(&file, &restored, &key);
    same_trace(
        &trace(&["--data", s(&restored)]),
        &trace(&["--data", s(&data)]),
    );
    // Restoring over a store that holds data is refused, and it keeps what it had.
    let (code, out) = run(&["restore", s(&file), "--data", s(&restored)]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("is not empty"), "{out}");
    let (code, out) = run(&["verify", "--data", s(&restored)]);
    assert_eq!(code, Some(0), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(super) async fn migrate_to_postgres_then_back_up_and_restore_keep_the_tree_head_and_traces() {
    let Some(base) = suyuan_store::suite::pg_url() else {
        return;
    };
    let schema = format!("t_migrate_{}", std::process::id());
    let url = pg_schema(&base, &schema).await;

    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    demo(&data);
    let key = data.join("ledger.key");
    let (code, out) = run(&["migrate", "--from", s(&data), "--to", &url]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("Same tree head at size"), "{out}");
    assert!(out.contains("intact:"), "{out}");
    let pg = ["--database", url.as_str(), "--ledger-key", s(&key)];
    same_trace(&trace(&pg), &trace(&["--data", s(&data)]));
    let (code, out) = run(&["migrate", "--from", s(&data), "--to", &url]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("is not empty"), "{out}");

    // A backup of PostgreSQL, restored into a new data directory.
    let file = dir.path().join("pg-backup.db");
    let (code, out) = run(&["backup", "--database", &url, "--out", s(&file)]);
    assert_eq!(code, Some(0), "{out}");
    let restored = dir.path().join("restored");
    restore_verified(&file, &restored, &key);
    same_trace(&trace(&["--data", s(&restored)]), &trace(&pg));
    suyuan_store::PgStore::drop_schema(&base, &schema)
        .await
        .expect("drop");
}
