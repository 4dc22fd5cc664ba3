//! Demo generator tests.
use super::*;

fn all(cfg: DemoConfig) -> Vec<Value> {
    let mut v = Vec::new();
    generate_events(cfg, &mut |e| v.push(e));
    v
}

#[test]
fn sold_cans_are_scanned_and_one_looks_copied() {
    let mut scans = Vec::new();
    let mut issued = Vec::new();
    let mut sold = std::collections::HashSet::new();
    generate(DemoConfig::default(), &mut |item| match item {
        DemoItem::Event(e) if e["bizStep"] == "retail_selling" => {
            sold.insert(e["epcList"][0].as_str().unwrap_or_default().to_string());
        }
        DemoItem::Scan(s) => scans.push(s),
        DemoItem::Event(_) => {}
        DemoItem::Issued(i) => issued.extend(i.serials),
    });
    // Every can is issued by the rule, each serial once, with a right check character.
    let rule = suyuan_core::coding::Template::parse(CAN_RULE_TEMPLATE).expect("rule");
    let distinct: std::collections::HashSet<&String> = issued.iter().collect();
    assert_eq!(distinct.len(), issued.len());
    assert!(issued.iter().all(|s| rule.validate(s).is_ok()));
    assert!(sold.iter().all(|c| {
        c.rsplit('.')
            .next()
            .is_some_and(|s| distinct.contains(&s.to_string()))
    }));
    assert!(scans.len() > 50, "{}", scans.len());
    assert!(
        scans.iter().all(|s| sold.contains(&s.object)),
        "only sold cans are scanned, after the sale"
    );
    let far: Vec<&DemoScan> = scans.iter().filter(|s| s.city == "乌鲁木齐").collect();
    assert_eq!(far.len(), 1);
    assert_eq!(
        scans.iter().filter(|s| s.object == far[0].object).count(),
        2
    );
}

#[test]
fn same_seed_same_events_and_every_event_is_valid() {
    let cfg = DemoConfig {
        seed: 7,
        scale: 1,
        days: 3,
    };
    let a = all(cfg);
    let b = all(cfg);
    assert_eq!(a, b);
    assert!(a.len() > 500, "{}", a.len());
    for (i, e) in a.iter().enumerate() {
        if let Err(err) = suyuan_epcis::parse_capture(e) {
            panic!("demo event {i} is invalid: {err}\n{e}");
        }
    }
    let c = all(DemoConfig { seed: 8, ..cfg });
    assert_ne!(a, c);
}

#[test]
fn events_come_in_time_order() {
    let evs = all(DemoConfig {
        seed: 1,
        scale: 2,
        days: 4,
    });
    let times: Vec<i64> = evs
        .iter()
        .map(|e| {
            suyuan_core::time::parse_timestamp(e["eventTime"].as_str().unwrap_or_default())
                .map(|t| t.timestamp())
                .unwrap_or(0)
        })
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn default_run_is_about_the_documented_size_with_one_failed_batch() {
    let evs = all(DemoConfig::default());
    let est = estimate(DemoConfig::default());
    let n = evs.len() as u64;
    assert!(
        n > est * 8 / 10 && n < est * 12 / 10,
        "{n} vs estimate {est}"
    );
    let fails = evs
        .iter()
        .filter(|e| e["sy:inspection"]["sy:type"] == "FQC" && e["disposition"] == "non_conformant")
        .count();
    assert_eq!(fails, 1);
    let failed_lot = can_lot_class(FAILING_BATCH.0, FAILING_BATCH.1, FAILING_BATCH.2);
    assert!(
        evs.iter()
            .any(|e| e["quantityList"][0]["epcClass"] == failed_lot.as_str()
                && e["disposition"] == "non_conformant")
    );
}

#[test]
fn the_quality_path_follows_the_engines_shapes() {
    let evs = all(DemoConfig::default());
    let ncr_steps = |id: &str| -> Vec<String> {
        evs.iter()
            .filter(|e| e["sy:ncr"]["sy:id"] == id && e["bizStep"] == crate::quality::NCR_STEP)
            .map(|e| {
                e["sy:ncr"]["sy:state"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect()
    };
    // Whey lot WP0002: rejected under its plan, reported, and the report closed after the return.
    let whey = supplier_lot(&SUPPLIERS[1], 2);
    let iqc = evs
        .iter()
        .find(|e| e["bizStep"] == "inspecting" && e["quantityList"][0]["epcClass"] == whey.as_str())
        .expect("WP0002 is inspected");
    let ins = &iqc["sy:inspection"];
    assert_eq!(ins["sy:accepted"], false, "{ins}");
    assert_eq!(ins["sy:plan"], "IQC-WP");
    assert_eq!(
        ins["sy:scheme"],
        format!("iqc/SUP2/{}", crate::operations::gtin("6920002", "000021"))
    );
    // 8,000 kg in 25 kg bags: 320 items, code letter H, 50 sampled.
    assert_eq!(
        (ins["sy:lotSize"].as_u64(), ins["sy:sampleSize"].as_u64()),
        (Some(320), Some(50))
    );
    let ncr = ins["sy:ncr"].as_str().expect("an NCR is raised");
    assert_eq!(
        ncr_steps(ncr),
        ["raised", "under_review", "disposed", "closed"]
    );
    let returned = evs
        .iter()
        .find(|e| {
            e["disposition"] == "returned" && e["quantityList"][0]["epcClass"] == whey.as_str()
        })
        .expect("WP0002 goes back");
    assert!(returned["sy:release"]["sy:hold"].is_string());
    // The failing batch: its FQC holds the lot and its 600 cans, the NCR stays under review.
    let lot = can_lot_class(FAILING_BATCH.0, FAILING_BATCH.1, FAILING_BATCH.2);
    let fqc = evs
        .iter()
        .find(|e| {
            e["sy:inspection"]["sy:plan"] == crate::quality::FQC_PLAN
                && e["quantityList"][0]["epcClass"] == lot.as_str()
        })
        .expect("the failing batch is inspected");
    let ncr = fqc["sy:inspection"]["sy:ncr"]
        .as_str()
        .expect("an NCR is raised");
    assert_eq!(ncr_steps(ncr), ["raised", "under_review"]);
    let hold = evs
        .iter()
        .find(|e| e["bizStep"] == "holding" && e["sy:hold"]["sy:ncr"] == ncr)
        .expect("a hold");
    assert_eq!(
        hold["epcList"].as_array().map(Vec::len),
        Some(CANS_PER_BATCH)
    );
    assert_eq!(hold["quantityList"][0]["epcClass"], lot.as_str());
    // Every other lot is accepted.
    let rejected = evs
        .iter()
        .filter(|e| e["sy:inspection"]["sy:accepted"] == false)
        .count();
    assert_eq!(rejected, 2);
}
