//! One decision per document: every GS1 example (JSON-LD and XML EPCIS documents) and a set of invalid
//! documents get the same answer from `POST /api/v1/events`, `POST /epcis/capture` and `suyuan import` —
//! accepted, or refused with the same located reasons and nothing stored. Each way in gets the documents in
//! the same order on a store of its own (examples reuse eventIDs, so a later one may rightly be refused as a
//! conflict — by all three alike).

use super::{Server, admin_token, bin, client_with};

use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// What a way in decided: accepted, or refused with these pointers (sorted, deduplicated).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Decision {
    Accepted,
    Refused(Vec<String>),
}

fn documents(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            documents(&p, out);
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&p) else {
            continue;
        };
        let is_doc = match p.extension().and_then(|x| x.to_str()) {
            Some("jsonld" | "json") => {
                serde_json::from_str::<Value>(&text).is_ok_and(|v| v["type"] == "EPCISDocument")
            }
            Some("xml") => text.contains("EPCISDocument") && !text.contains("EPCISQueryDocument"),
            _ => false,
        };
        if is_doc {
            out.push(p);
        }
    }
}

/// Invalid documents made from a valid one: each breaks one rule a capture must keep.
fn invalid_documents(dir: &Path) -> Vec<PathBuf> {
    let base = json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2024-03-01T08:00:00Z",
        "epcisBody": {"eventList": [{
            "type": "ObjectEvent", "eventTime": "2024-03-01T08:00:00.000+08:00", "eventTimeZoneOffset": "+08:00",
            "eventID": "urn:uuid:7d3cd3f0-7d5e-4a4b-9f5a-0f0c6b1c0001",
            "epcList": ["urn:epc:id:sgtin:6901234.012345.1"], "action": "OBSERVE", "bizStep": "inspecting"}]}
    });
    let mut docs: Vec<(&str, String)> = Vec::new();
    let mut put = |name: &'static str, f: &dyn Fn(&mut Value)| {
        let mut d = base.clone();
        f(&mut d);
        docs.push((name, d.to_string()));
    };
    put("no-event-time", &|d| {
        if let Some(o) = d["epcisBody"]["eventList"][0].as_object_mut() {
            o.remove("eventTime");
        }
    });
    put("bad-action", &|d| {
        d["epcisBody"]["eventList"][0]["action"] = json!("MAYBE")
    });
    put("bad-epc", &|d| {
        d["epcisBody"]["eventList"][0]["epcList"] = json!(["not an EPC"])
    });
    put("future", &|d| {
        d["epcisBody"]["eventList"][0]["eventTime"] = json!("2099-01-01T00:00:00Z")
    });
    put("bad-offset", &|d| {
        d["epcisBody"]["eventList"][0]["eventTimeZoneOffset"] = json!("8 hours")
    });
    put("second-bad", &|d| {
        let mut e = d["epcisBody"]["eventList"][0].clone();
        e["eventID"] = json!("urn:uuid:7d3cd3f0-7d5e-4a4b-9f5a-0f0c6b1c0002");
        e["quantityList"] =
            json!([{"epcClass": "urn:epc:class:lgtin:6901234.012345.L1", "quantity": "many"}]);
        if let Some(l) = d["epcisBody"]["eventList"].as_array_mut() {
            l.push(e);
        }
    });
    put("bad-master-data", &|d| {
        d["epcisHeader"] = json!({"epcisMasterData": {"vocabularyList": [
            {"type": "urn:epcglobal:epcis:vtype:BusinessLocation", "vocabularyElementList": [{"attributes": []}]}]}});
    });
    put("no-events-key", &|d| d["epcisBody"] = json!({}));
    docs.push(("not-json", "{\"type\": \"EPCISDocument\",".into()));
    docs.push((
        "xml-bad-action",
        r#"<?xml version="1.0" encoding="UTF-8"?>
<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" schemaVersion="2.0" creationDate="2024-03-01T08:00:00Z">
  <EPCISBody><EventList><ObjectEvent>
    <eventTime>2024-03-01T08:00:00.000+08:00</eventTime><eventTimeZoneOffset>+08:00</eventTimeZoneOffset>
    <epcList><epc>urn:epc:id:sgtin:6901234.012345.1</epc></epcList><action>MAYBE</action>
  </ObjectEvent></EventList></EPCISBody>
</epcis:EPCISDocument>"#
            .into(),
    ));
    docs.into_iter()
        .map(|(name, text)| {
            let ext = if text.starts_with("<?xml") {
                "xml"
            } else {
                "jsonld"
            };
            let p = dir.join(format!("invalid-{name}.{ext}"));
            std::fs::write(&p, text).expect("write");
            p
        })
        .collect()
}

fn pointers(errors: &Value) -> Vec<String> {
    let mut p: Vec<String> = errors
        .as_array()
        .map(|l| {
            l.iter()
                .map(|e| e["pointer"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default();
    p.sort();
    p.dedup();
    p
}

async fn post(client: &reqwest::Client, url: &str, file: &Path) -> (u16, Value) {
    let bytes = std::fs::read(file).expect("read");
    let ct = if file.extension().is_some_and(|x| x == "xml") {
        "application/xml"
    } else {
        "application/ld+json"
    };
    let r = client
        .post(url)
        .header("content-type", ct)
        .body(bytes)
        .send()
        .await
        .expect("post");
    let status = r.status().as_u16();
    let text = r.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The last stored seq (every stored event, audit events too, moves it).
async fn events_stored(client: &reqwest::Client, base: &str) -> u64 {
    let mut after = 0;
    loop {
        let v = super::get_json(
            client,
            &format!("{base}/api/v1/events?after_seq={after}&limit=1000"),
        )
        .await;
        let list = v["events"].as_array().cloned().unwrap_or_default();
        match list.last().and_then(|e| e["seq"].as_u64()) {
            Some(seq) if v.get("next").is_some() => after = seq,
            Some(seq) => return seq,
            None => return after,
        }
    }
}

fn import(data: &Path, file: &Path) -> (Decision, String) {
    let out = bin()
        .arg("import")
        .arg(file)
        .arg("--data")
        .arg(data)
        .output()
        .expect("import");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    if out.status.success() {
        return (Decision::Accepted, stderr);
    }
    assert_eq!(out.status.code(), Some(2), "{}: {stderr}", file.display());
    let prefix = format!("{}: ", file.display());
    let mut p: Vec<String> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .filter(|l| !l.starts_with("warning:"))
        .map(|l| {
            let ptr = l.split(": ").next().unwrap_or("");
            if ptr == "/" {
                String::new()
            } else {
                ptr.to_string()
            }
        })
        .collect();
    p.sort();
    p.dedup();
    (Decision::Refused(p), stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_document_gets_one_decision_on_every_way_in() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/epcis");
    let mut files = Vec::new();
    documents(&root.join("JSON"), &mut files);
    documents(&root.join("XML"), &mut files);
    assert!(
        files.len() >= 30,
        "the GS1 examples are missing under {}",
        root.display()
    );
    files.sort();
    let tmp = tempfile::tempdir().expect("tmp");
    files.extend(invalid_documents(tmp.path()));
    let dirs: Vec<PathBuf> = ["api", "capture", "import"]
        .iter()
        .map(|d| tmp.path().join(d))
        .collect();
    let servers: Vec<(Server, reqwest::Client)> = dirs[..2]
        .iter()
        .map(|d| {
            let token = admin_token(d);
            (Server::start(d), client_with(&token))
        })
        .collect();
    let (mut accepted, mut refused) = (0, 0);
    for f in &files {
        let name = f.display().to_string();
        let (api, capture) = (&servers[0], &servers[1]);
        let before = (
            events_stored(&api.1, &api.0.url).await,
            events_stored(&capture.1, &capture.0.url).await,
        );
        let (s1, b1) = post(&api.1, &format!("{}/api/v1/events", api.0.url), f).await;
        let d1 = match s1 {
            200 | 201 => Decision::Accepted,
            400 | 409 | 422 => Decision::Refused(pointers(&b1["errors"])),
            other => panic!("{name}: /api/v1/events answered {other}: {b1}"),
        };
        let (s2, b2) = post(&capture.1, &format!("{}/epcis/capture", capture.0.url), f).await;
        let d2 = match s2 {
            202 if b2["success"] == true => Decision::Accepted,
            400 | 409 => Decision::Refused(pointers(&b2["errors"])),
            other => panic!("{name}: /epcis/capture answered {other}: {b2}"),
        };
        let (d3, stderr) = import(&dirs[2], f);
        assert_eq!(
            d1, d2,
            "{name}: the native API and EPCIS capture disagree: {b1} / {b2}"
        );
        assert_eq!(
            d1, d3,
            "{name}: the native API and import disagree: {b1} / {stderr}"
        );
        if d1 == Decision::Accepted {
            accepted += 1;
        } else {
            refused += 1;
            let after = (
                events_stored(&api.1, &api.0.url).await,
                events_stored(&capture.1, &capture.0.url).await,
            );
            assert_eq!(before, after, "{name}: a refused document stored something");
        }
    }
    assert!(
        accepted >= 25 && refused >= 10,
        "accepted {accepted}, refused {refused}"
    );
    drop(servers);
}
