//! `suyuan demo`: loaded once and reused, its users sign in, and tokens made by another process work at once.

#[allow(unused_imports)]
use super::*;

#[test]
pub(super) fn demo_loads_once_and_is_reused() {
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
pub(super) async fn demo_users_sign_in_and_tokens_made_by_another_process_work_at_once() {
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
    assert_eq!(
        ids.len(),
        8,
        "its warehouse and three stores, itself and its three stores as parties: {ids:?}"
    );
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
