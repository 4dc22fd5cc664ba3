//! Loading the demo factory into a store through the normal write path.

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use std::sync::Arc;
use suyuan_core::projection::object_key;
use suyuan_demo::{DemoConfig, DemoItem};
use suyuan_engine::{Engine, Pipeline};
use suyuan_store::{ScanRecord, Store};

/// Events per capture while loading.
const BATCH: usize = 1000;

/// Loads the demo factory unless the store already holds events; prints what it did.
pub async fn load(store: &Arc<dyn Store>, cfg: DemoConfig) -> Result<()> {
    let stats = store.stats().await?;
    save_definitions(store).await?;
    if stats.events > 0 {
        println!(
            "Reusing the existing data: {} events, {} objects.",
            stats.events, stats.objects
        );
        // Data from before master data or access control: give it the demo's (nobody could sign in).
        if store.master_data(&[]).await?.is_empty() {
            save_master_data(store).await?;
        }
        if store.definitions("md.product").await?.is_empty() {
            save_operations(store, cfg.scale).await?;
        }
        if Engine::new(store.clone()).users().await?.is_empty() {
            return create_users(store).await;
        }
        // Passwords are printed once, when the users are made; say how to set a new one.
        println!(
            "The demo users (admin, quality, operator, partner, regulator, …) keep the passwords printed when              this data was first loaded. To set a new one:\n  \
             echo 'new-password' | suyuan user set admin --password-stdin\n\
             (with the same --data or --database as here; or delete the data and run `suyuan demo` again \
             for fresh ones)."
        );
        return Ok(());
    }
    let estimate = suyuan_demo::estimate(cfg);
    println!(
        "Loading the demo factory (seed {}, {} line(s), {} days, about {estimate} events)…",
        cfg.seed, cfg.scale, cfg.days
    );
    let bar = ProgressBar::new(estimate);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} events  {per_sec}  eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    enum Chunk {
        Events(Vec<suyuan_core::Event>),
        Scans(Vec<ScanRecord>),
        Issued(suyuan_demo::IssuedSerials),
    }
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Chunk, String>>(4);
    let producer = tokio::task::spawn_blocking(move || {
        let mut events = Vec::with_capacity(BATCH);
        let mut scans = Vec::new();
        let mut failed = false;
        suyuan_demo::generate(cfg, &mut |item| {
            if failed {
                return;
            }
            match item {
                DemoItem::Event(v) => match suyuan_epcis::parse_capture(&v) {
                    Ok(mut evs) => events.append(&mut evs),
                    Err(e) => {
                        failed = true;
                        let _ = tx.blocking_send(Err(format!(
                            "the demo generator made an invalid event: {e}"
                        )));
                        return;
                    }
                },
                // Registered (and their sequence reserved) before the canning event that follows them.
                DemoItem::Issued(i) => {
                    failed |= tx.blocking_send(Ok(Chunk::Issued(i))).is_err();
                }
                DemoItem::Scan(s) => scans.push(ScanRecord {
                    object: object_key(&s.object),
                    scanned_at: s.time,
                    city: Some(s.city.to_string()),
                    province: Some(s.province.to_string()),
                    channel: "demo".into(),
                }),
            }
            if events.len() >= BATCH {
                let full = std::mem::replace(&mut events, Vec::with_capacity(BATCH));
                failed |= tx.blocking_send(Ok(Chunk::Events(full))).is_err();
            }
        });
        if !failed && !events.is_empty() {
            let _ = tx.blocking_send(Ok(Chunk::Events(events)));
        }
        if !failed && !scans.is_empty() {
            let _ = tx.blocking_send(Ok(Chunk::Scans(scans)));
        }
    });
    let engine = Engine::new(store.clone());
    let mut issued = 0u64;
    let mut pipeline = Pipeline::new(engine.clone());
    let started = std::time::Instant::now();
    let mut scanned = 0u64;
    while let Some(chunk) = rx.recv().await {
        match chunk.map_err(anyhow::Error::msg)? {
            Chunk::Events(batch) => {
                let n = batch.len() as u64;
                pipeline.push(batch).await.context("storing demo events")?;
                bar.inc(n);
            }
            Chunk::Scans(s) => {
                scanned += s.len() as u64;
                engine.record_scans(s).await.context("storing demo scans")?;
            }
            Chunk::Issued(i) => {
                issued += register(&engine, i).await?;
            }
        }
    }
    let stored = pipeline
        .finish()
        .await
        .context("storing demo events")?
        .stored;
    producer.await.context("demo generator failed")?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "Stored {stored} demo events and {scanned} consumer scans in {secs:.1} s ({:.0} events/s); \
         {issued} can serials issued by coding rule {CAN_RULE}.",
        stored as f64 / secs.max(1e-9)
    );
    save_master_data(store).await?;
    save_operations(store, cfg.scale).await?;
    react_to_history(store).await?;
    let (d, l, b) = suyuan_demo::FAILING_BATCH;
    println!(
        "Batch {} failed final inspection and is on hold.",
        suyuan_demo::batch_lot(d, l, b)
    );
    create_users(store).await
}

/// The plant's rules over the demo's history, as `suyuan serve` would have run them as it happened: the
/// failed lots' holds are already there (the rule's hold is the same hold), and the quality manager gets
/// the review tasks and notices; those of reports closed since are marked done.
async fn react_to_history(store: &Arc<dyn Store>) -> Result<()> {
    let engine = Engine::new(store.clone());
    let rt = suyuan_engine::reactor::Runtime::new(engine.clone(), "demo-loader")
        .with(Arc::new(suyuan_engine::rules::run::Rules::default()));
    rt.drain()
        .await
        .map_err(|e| anyhow::anyhow!("the plant's rules over the demo: {e}"))?;
    rt.release().await;
    let closed: Vec<String> = engine
        .ncrs()
        .await?
        .into_iter()
        .filter(|n| n.state == suyuan_quality::ncr::NcrState::Closed)
        .map(|n| n.id)
        .collect();
    let mut open = 0;
    for t in engine.tasks().await? {
        if t.state != "open" {
            continue;
        }
        if closed.iter().any(|c| t.title.contains(c.as_str())) {
            engine
                .complete_task("quality", &t.id, "报告已关闭 / the report is closed")
                .await?;
        } else {
            open += 1;
        }
    }
    println!(
        "Ran the plant's rules over the history: {open} open task(s) for the quality manager."
    );
    Ok(())
}

/// Stores the demo's master data (places with their hierarchy and addresses, product classes).
async fn save_master_data(store: &Arc<dyn Store>) -> Result<()> {
    let doc = serde_json::json!({"epcisHeader": {"epcisMasterData": {"vocabularyList": suyuan_demo::master_data()}}});
    let elements = suyuan_epcis::masterdata::from_document(&doc).map_err(|errs| {
        anyhow::anyhow!(
            "the demo's master data is invalid: {}",
            errs.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        )
    })?;
    let n = elements.len();
    Engine::new(store.clone())
        .save_master_data("demo", elements)
        .await?;
    println!("Stored {n} master data elements (locations, parties and product classes).");
    Ok(())
}

/// Stores the plant's operations master data (locations, products, BOM, routing, equipment, suppliers,
/// distributors, operators), each record a versioned definition with its ledger event.
pub async fn save_operations(store: &Arc<dyn Store>, lines: u32) -> Result<()> {
    let engine = Engine::new(store.clone());
    let records = suyuan_demo::operations::records(lines);
    let n = records.len();
    for (kind, record) in records {
        let map = record.as_object().cloned().unwrap_or_default();
        engine
            .save_record("demo", kind, &map)
            .await
            .map_err(|e| anyhow::anyhow!("the demo's {kind} record {record} is refused: {e}"))?;
    }
    println!(
        "Stored {n} operations records (locations, products, BOM, routing, partners, operators)."
    );
    let plans = suyuan_demo::quality::plans();
    let p = plans.len();
    for doc in plans {
        let plan: suyuan_quality::plan::InspectionPlan = serde_json::from_value(doc.clone())
            .map_err(|e| anyhow::anyhow!("the demo's inspection plan {doc} is invalid: {e}"))?;
        engine
            .save_inspection_plan("demo", &plan)
            .await
            .map_err(|e| {
                anyhow::anyhow!("the demo's inspection plan {} is refused: {e}", plan.code)
            })?;
    }
    println!("Stored {p} inspection plans (incoming per supplier material, final for the can).");
    let forms = suyuan_demo::forms::forms();
    let f = forms.len();
    for doc in forms {
        let form: suyuan_forms::Form = serde_json::from_value(doc.clone())
            .map_err(|e| anyhow::anyhow!("the demo's form {doc} is invalid: {e}"))?;
        engine
            .save_form("demo", &form)
            .await
            .map_err(|e| anyhow::anyhow!("the demo's form {} is refused: {e}", form.code))?;
    }
    println!(
        "Stored {f} forms (raw milk receipt, release details, storage round, line clearance)."
    );
    for doc in suyuan_demo::reports::reports() {
        let r: suyuan_reports::Report = serde_json::from_value(doc.clone())
            .map_err(|e| anyhow::anyhow!("the demo's report {doc} is invalid: {e}"))?;
        engine
            .save_report("demo", &r)
            .await
            .map_err(|e| anyhow::anyhow!("the demo's report {} is refused: {e}", r.code))?;
    }
    for doc in suyuan_demo::reports::dashboards() {
        let d: suyuan_reports::Dashboard = serde_json::from_value(doc.clone())
            .map_err(|e| anyhow::anyhow!("the demo's dashboard {doc} is invalid: {e}"))?;
        engine
            .save_dashboard("demo", &d)
            .await
            .map_err(|e| anyhow::anyhow!("the demo's dashboard {} is refused: {e}", d.code))?;
    }
    println!("Stored 3 reports and a quality dashboard.");
    Ok(())
}

/// The demo's users, one per role (name, role, display name).
const DEMO_USERS: [(&str, &str, &str); 9] = [
    ("admin", "admin", "系统管理员"),
    ("engineer", "engineer", "工艺工程师"),
    ("operator", "operator", "产线操作员"),
    ("inspector", "inspector", "质检员"),
    ("quality", "quality_manager", "质量经理"),
    ("warehouse", "warehouse", "仓库管理员"),
    ("viewer", "viewer", "只读用户"),
    ("distributor", "partner", "广州母婴商贸"),
    ("regulator", "regulator", "市场监管局"),
];

/// Creates one user per role (the partner is the Guangzhou distributor; the regulator holds a grant on the
/// demo can for the production period) and prints their generated passwords.
async fn create_users(store: &Arc<dyn Store>) -> Result<()> {
    let engine = Engine::new(store.clone());
    println!(
        "Demo users (passwords are shown once; change them with suyuan user set NAME --password-stdin):"
    );
    for (name, role, display) in DEMO_USERS {
        let new = suyuan_engine::accounts::NewUser {
            name: name.into(),
            role: role.into(),
            password: None,
            display: Some(display.into()),
            company_prefixes: if role == "partner" {
                vec![suyuan_demo::DISTRIBUTORS[0].prefix.to_string()]
            } else {
                Vec::new()
            },
        };
        let (_, password) = engine
            .create_user("demo", &new)
            .await
            .with_context(|| format!("creating demo user {name}"))?;
        println!("  {name:<12} {role:<16} {}", password.unwrap_or_default());
    }
    let (y, m, d) = suyuan_demo::START_DATE;
    let grant = suyuan_engine::accounts::NewGrant {
        user: "regulator".into(),
        gtins: vec![demo_gtin()],
        from: format!("{y:04}-{m:02}-{d:02}T00:00:00+08:00"),
        to: format!("{:04}-01-01T00:00:00+08:00", y + 1),
        expires_at: "365d".into(),
        note: "demo: infant formula stage 1 production audit".into(),
    };
    engine
        .create_grant("demo", &grant)
        .await
        .context("creating the demo regulator's grant")?;
    Ok(())
}

/// The demo can's GTIN-14.
fn demo_gtin() -> String {
    // The EPC item reference starts with the GTIN's indicator digit.
    let (indicator, item) = suyuan_demo::CAN_ITEM_REF.split_at(1);
    let gtin = format!("{indicator}{}{item}", suyuan_demo::COMPANY_PREFIX);
    format!(
        "{gtin}{}",
        suyuan_core::id::lint::mod10(gtin.as_bytes()).unwrap_or(0)
    )
}

/// The demo's can coding rule (and label template).
const CAN_RULE: &str = "demo-can";

/// Registers one batch's serials as issued by the can rule (their sequence numbers reserved first, so that codes
/// issued later for the same line, shift and day continue after them). Returns how many.
async fn register(engine: &Engine, batch: suyuan_demo::IssuedSerials) -> Result<u64> {
    let issued_at = suyuan_core::time::parse_timestamp(&batch.at)
        .map(|t| suyuan_core::time::canonical_millis(&t))
        .unwrap_or(batch.at);
    engine
        .register_issued(CAN_RULE, &batch.scope, batch.serials, &issued_at)
        .await
        .context("registering the demo's can serials")
}

/// The demo's coding rule and label template for its cans, both named `demo-can` (saved again unchanged on
/// every start, so an existing data directory gets them too).
pub async fn save_definitions(store: &Arc<dyn Store>) -> Result<()> {
    use suyuan_store::kinds;
    let gtin = demo_gtin();
    let rule = serde_json::json!({
        "template": suyuan_demo::CAN_RULE_TEMPLATE,
        "target": "sgtin",
        "gtin": gtin,
        "unknown_codes": "refuse",
        "description": "Can serials: plant, line, year, day of year, shift, daily sequence per line and shift, \
                        check character; a capture naming a can serial this rule never issued is refused"
    });
    suyuan_engine::codes::parse_rule(&rule)?;
    let engine = Engine::new(store.clone());
    engine
        .save_definition("demo", kinds::CODING_RULE, CAN_RULE, &rule)
        .await?;
    let mut template = suyuan_labels::demo_template();
    template["description"] = serde_json::json!("Can label of the demo infant formula");
    if let Some(fields) = template["fields"].as_array_mut() {
        for f in fields {
            match f["text"].as_str() {
                Some("{product_name}") => f["text"] = "婴儿配方奶粉 1段 800g".into(),
                Some("{product_name_en}") => f["text"] = "Infant formula stage 1, 800 g".into(),
                _ => {}
            }
        }
    }
    suyuan_labels::LabelTemplate::from_json(&template)?;
    engine
        .save_definition("demo", kinds::LABEL_TEMPLATE, "demo-can", &template)
        .await?;
    Ok(())
}
