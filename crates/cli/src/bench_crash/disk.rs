//! The disk-full trial: the data directory on a small tmpfs, filled by captures and a ballast file until the
//! server answers 507; reads must go on, and once the ballast is deleted captures must resume in the same
//! process, with nothing acknowledged lost and `verify` green.

#[allow(unused_imports)]
use super::*;
use std::path::Path;

/// Mounts a tmpfs of `mb` MB at `at`; answers why not when this machine does not allow it.
fn mount(at: &Path, mb: u32) -> Result<(), String> {
    std::fs::create_dir_all(at).map_err(|e| e.to_string())?;
    let out = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={mb}m"), "tmpfs"])
        .arg(at)
        .output()
        .map_err(|e| format!("cannot run mount: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

fn unmount(at: &Path) {
    let _ = std::process::Command::new("umount").arg(at).status();
}

/// Runs the trial under `root`; answers its figures, or why it was skipped.
pub(super) async fn trial(root: &Path) -> Result<Value> {
    let at = root.join("small-disk");
    if let Err(why) = mount(&at, 48) {
        return Ok(json!({"skipped": format!("no tmpfs could be mounted: {why}")}));
    }
    let outcome = run_on(&at).await;
    unmount(&at);
    outcome
}

async fn run_on(at: &Path) -> Result<Value> {
    let dir = at.join("data");
    std::fs::create_dir_all(&dir)?;
    let target = Target {
        serve_args: vec!["--data".into(), dir.to_string_lossy().into_owned()],
        store: dir.to_string_lossy().into_owned(),
        key: dir.join("ledger.key"),
        log: at.with_extension("log"),
        dir: dir.clone(),
    };
    suyuan_engine::ledger::load_or_create_key(&target.key, "suyuan.local/ledger")?;
    let (token, _) = token(&target.store).await?;
    let (server, _) = start(&target).await?;
    // Most of the disk goes to a ballast file, the rest to captures.
    let ballast = at.join("ballast");
    std::fs::write(&ballast, vec![0u8; 36 << 20])?;
    let client = staff_client(&token)?;
    let post = |b: u64| {
        let (doc, ids) = batch_document(7, 0, b, 100);
        let client = client.clone();
        let url = server.url.clone();
        async move {
            let r = client
                .post(format!("{url}/api/v1/events"))
                .header("content-type", "application/ld+json")
                .body(doc.to_string())
                .send()
                .await?;
            let status = r.status().as_u16();
            let body: Value = serde_json::from_slice(&r.bytes().await?).unwrap_or(Value::Null);
            anyhow::Ok((status, body, ids))
        }
    };
    let mut acked: HashMap<String, (String, u64)> = HashMap::new();
    let mut b = 0u64;
    let (full_status, full_code) = loop {
        if b > 100_000 {
            bail!("the small disk never filled");
        }
        let (status, body, _) = post(b).await?;
        if status == 201 {
            note_acks(&body, &mut acked);
            b += 1;
        } else {
            break (
                status,
                body["code"].as_str().unwrap_or_default().to_string(),
            );
        }
    };
    // Reads while full: an acknowledged event and a trace.
    let some = acked.keys().next().cloned().unwrap_or_default();
    let read = client
        .get(format!("{}/api/v1/events/{some}", server.url))
        .send()
        .await?
        .status()
        .as_u16();
    let trace = client
        .get(format!("{}/api/v1/trace/forward", server.url))
        .query(&[("id", "urn:epc:id:sscc:4012345.0000000000")])
        .send()
        .await?
        .status()
        .as_u16();
    std::fs::remove_file(&ballast)?;
    let freed = Instant::now();
    let mut resumed_ms = None;
    while freed.elapsed() < Duration::from_secs(30) {
        let (status, body, _) = post(b).await?;
        if status == 201 {
            note_acks(&body, &mut acked);
            resumed_ms = Some(freed.elapsed().as_secs_f64() * 1000.0);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(server);
    let store = suyuan_store::open(&target.store).await?;
    let (stored, _) = stored_after(store.as_ref(), 0).await?;
    let lost = acked
        .iter()
        .filter(|(id, v)| stored.get(*id) != Some(v))
        .count();
    let key = suyuan_engine::ledger::load_key(&target.key, "suyuan.local/ledger")?;
    let verified =
        suyuan_engine::ledger::verify(store.as_ref(), key.verifier_key(), &|_| {}).await?;
    Ok(json!({
        "acked_events": acked.len(),
        "status_when_full": full_status,
        "code_when_full": full_code,
        "event_read_while_full": read,
        "trace_while_full": trace,
        "resumed_after_ms": resumed_ms.map(|m| round_to(m, 0)),
        "acked_lost": lost,
        "verify_ok": verified.finding.is_none(),
    }))
}
