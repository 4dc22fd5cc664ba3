//! Operations end to end through the API, on SQLite and PostgreSQL: master data import (with a dry run that
//! lists every bad row), receiving, a work order at a scan station (with every refusal), packing, shipping
//! with a despatch advice, receipt at the distributor, the inventory at each step, the genealogy, process
//! parameters with an alert, and the inventory rebuilt from the ledger equal to the live one.

use super::*;
use axum::http::Method;

fn gtin(body12: &str) -> String {
    let b = format!("0{body12}");
    let c = suyuan_core::gs1::check_digit(&b).expect("digits");
    format!("{b}{c}")
}

impl TestApp {
    pub(super) async fn send_bytes(&self, method: Method, uri: &str, body: Vec<u8>) -> Answer {
        self.send(
            Request::builder()
                .method(method)
                .uri(uri)
                .header(header::CONTENT_TYPE, "text/csv")
                .body(Body::from(body))
                .expect("request"),
        )
        .await
    }

    pub(super) async fn import(&self, kind: &str, csv: &str) {
        let a = self
            .send_bytes(
                Method::POST,
                &format!("/api/v1/masterdata/{kind}/import"),
                csv.as_bytes().to_vec(),
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{kind}: {}", a.body);
        assert_eq!(a.json()["imported"], true, "{kind}: {}", a.body);
    }

    async fn wh(&self, body: Value) -> Answer {
        self.post_json("/api/v1/warehouse", &body).await
    }

    async fn stock(&self, query: &str) -> Vec<Value> {
        let a = self.get(&format!("/api/v1/inventory?{query}")).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        a.json()["rows"].as_array().cloned().unwrap_or_default()
    }

    async fn scan(&self, id: &str, code: &str, op: Option<&str>, wo: Option<&str>) -> Answer {
        self.post_json(
            "/api/v1/stations/ST1/scans",
            &json!({"id": id, "code": code, "operator": op, "work_order": wo}),
        )
        .await
    }
}

fn gln13(body12: &str) -> String {
    format!(
        "{body12}{}",
        suyuan_core::gs1::check_digit(body12).expect("digits")
    )
}

fn refusal(a: &Answer) -> String {
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.body);
    a.json()["refusal"]["code"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

fn qty(rows: &[Value]) -> f64 {
    rows.iter().filter_map(|r| r["quantity"].as_f64()).sum()
}

async fn flow(t: TestApp) {
    let finished = gtin("690123400001");
    // A file with mistakes: every bad row and column listed, nothing stored.
    let bad = "code,name_zh,level,parent\nS1,一厂,site,\nL1,一线,lane,W9\n";
    let a = t
        .send_bytes(
            Method::POST,
            "/api/v1/masterdata/location/import?dry_run=true",
            bad.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);
    let problems = a.json()["problems"].clone();
    assert_eq!(problems[0]["row"], 3, "{problems}");
    assert_eq!(problems[0]["column"], "level");
    assert_eq!(problems[1]["column"], "parent");
    assert!(
        t.get("/api/v1/masterdata/location").await.json()["records"]
            .as_array()
            .expect("list")
            .is_empty()
    );

    t.import(
        "location",
        "code,name_zh,name_en,level,parent,gln\nS1,一厂,Plant 1,site,,\nW1,总装车间,Assembly,workshop,S1,\n\
         L1,一号线,Line 1,line,W1,\nST1,灌装工位,Filling,station,L1,\nL2,二号线,Line 2,line,W1,\n\
         ST2,二线工位,Line 2 station,station,L2,\nWH,成品仓,Warehouse,warehouse,S1,\nB1,原料库位,Bin 1,bin,WH,\n\
         DOCK,发货口,Dock,zone,WH,\n",
    )
    .await;
    t.import(
        "product",
        &format!("code,name_zh,unit,category,shelf_life_days\n{finished},成品,H87,finished,365\nMILK,奶,KGM,raw,\nCAN,罐,H87,packaging,\nSUGAR,糖,KGM,raw,\n"),
    )
    .await;
    t.import("bom", &format!("product,input,quantity,unit,tolerance_pct\n{finished},MILK,2,KGM,5\n{finished},CAN,1,H87,0\n")).await;
    t.import("routing", &format!("product,step,operation,station,parameter,min,max,unit\n{finished},1,filling,ST1,temperature,50,60,CEL\n")).await;
    t.import(
        "supplier",
        "code,name_zh,materials,blocked\nSUP1,好奶,,no\nSUP2,坏奶,,yes\n",
    )
    .await;
    let gln = {
        let b = "693000100001";
        format!("{b}{}", suyuan_core::gs1::check_digit(b).expect("digits"))
    };
    t.import(
        "customer",
        &format!(
            "code,name_zh,level,parent,regions,gln\nD1,华南经销,distributor,,广东;广西,{gln}\n\
             D2,西南经销,distributor,,四川,{}\nD2-S1,成都门店,store,D2,,{}\n",
            gln13("693000200000"),
            gln13("693000200011")
        ),
    )
    .await;
    t.import("operator", "badge,name,lines\n1001,王芳,L1\n")
        .await;

    // Receiving.
    let receive = |id: &str, product: &str, lot: &str, q: f64, expiry: &str, sup: &str| {
        json!({"id": id, "action": "receive", "po": "PO-1", "supplier": sup, "product": product, "lot": lot,
            "quantity": q, "expiry": expiry, "location": "B1", "certificate": "COA-7"})
    };
    for (id, p, l, q, x) in [
        ("r1", "MILK", "M1", 1000.0, "2099-01-01"),
        ("r2", "CAN", "C1", 500.0, "2099-01-01"),
        ("r3", "MILK", "OLD", 50.0, "2020-01-01"),
        ("r4", "SUGAR", "S1", 10.0, "2099-01-01"),
    ] {
        let a = t.wh(receive(id, p, l, q, x, "SUP1")).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    }
    assert_eq!(
        refusal(
            &t.wh(receive("r5", "MILK", "B9", 5.0, "2099-01-01", "SUP2"))
                .await
        ),
        "blocked_supplier"
    );
    let milk = t.stock("product=MILK&lot=M1").await;
    assert_eq!(qty(&milk), 1000.0);
    assert_eq!(milk[0]["status"], "available");
    assert_eq!(milk[0]["expiry"], "2099-01-01");

    // A work order at the station.
    let a = t
        .post_json(
            "/api/v1/work-orders",
            &json!({"product": finished, "planned": 3, "line": "L1", "number": "WO-1"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    assert_eq!(a.json()["state"], "created");
    assert_eq!(
        refusal(&t.scan("s0", "WO-1", None, None).await),
        "work_order_not_running"
    );
    let a = t
        .post_json(
            "/api/v1/work-orders/WO-1/state",
            &json!({"state": "completed"}),
        )
        .await;
    assert_eq!(
        a.status,
        StatusCode::BAD_REQUEST,
        "created cannot jump to completed: {}",
        a.body
    );
    let a = t
        .post_json(
            "/api/v1/work-orders/WO-1/state",
            &json!({"state": "released"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);

    let a = t.scan("s1", "1001", None, None).await;
    assert_eq!(a.json()["kind"], "operator", "{}", a.body);
    assert_eq!(a.json()["name"], "王芳");
    let a = t.scan("s2", "WO-1", Some("1001"), None).await;
    assert_eq!(a.json()["kind"], "work_order", "{}", a.body);
    let m1 = "urn:suyuan:plant:lot:MILK.M1";
    assert_eq!(
        refusal(&t.scan("s3", m1, None, Some("WO-1")).await),
        "no_operator"
    );
    assert_eq!(
        refusal(
            &t.scan(
                "s4",
                "urn:suyuan:plant:lot:SUGAR.S1",
                Some("1001"),
                Some("WO-1")
            )
            .await
        ),
        "wrong_material"
    );
    assert_eq!(
        refusal(
            &t.scan(
                "s5",
                "urn:suyuan:plant:lot:MILK.OLD",
                Some("1001"),
                Some("WO-1")
            )
            .await
        ),
        "expired"
    );
    let a = t.scan("s6", m1, Some("1001"), Some("WO-1")).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.json()["kind"], "consumed");
    assert_eq!(a.json()["quantity"], 6.0, "the BOM's need: 2 × 3");
    // The same scan again (a retry): the same answer, recorded once.
    let again = t.scan("s6", m1, Some("1001"), Some("WO-1")).await;
    assert_eq!(again.json(), a.json());
    assert_eq!(qty(&t.stock("product=MILK&lot=M1").await), 994.0);
    let a = t
        .scan(
            "s7",
            "urn:suyuan:plant:lot:CAN.C1",
            Some("1001"),
            Some("WO-1"),
        )
        .await;
    assert_eq!(a.json()["quantity"], 3.0, "{}", a.body);
    let units: Vec<String> = (1..=3).map(|n| format!("(01){finished}(21)U{n}")).collect();
    for (i, u) in units.iter().enumerate() {
        let a = t
            .scan(&format!("p{i}"), u, Some("1001"), Some("WO-1"))
            .await;
        assert_eq!(a.json()["kind"], "produced", "{}", a.body);
    }
    assert_eq!(
        refusal(&t.scan("p9", &units[0], Some("1001"), Some("WO-1")).await),
        "already_recorded"
    );
    let wo = t.get("/api/v1/work-orders/WO-1").await.json();
    assert_eq!(
        wo["state"], "started",
        "the first production scan starts a released order"
    );
    assert_eq!(wo["output"], 3.0);
    assert_eq!(wo["balance_flagged"], false, "{wo}");
    let milk_line = wo["balance"]
        .as_array()
        .expect("balance")
        .iter()
        .find(|l| l["input"] == "MILK")
        .cloned();
    assert_eq!(
        milk_line.map(|l| (l["expected"].clone(), l["actual"].clone())),
        Some((json!(6.0), json!(6.0)))
    );
    assert_eq!(
        qty(&t
            .stock(&format!("product={finished}&status=available"))
            .await),
        3.0
    );

    // The genealogy: a unit comes from the milk lot.
    let unit_key = format!("https://id.gs1.org/01/{finished}/21/U1");
    let back = t
        .get(&format!(
            "/api/v1/trace/backward?id={}",
            unit_key.replace('/', "%2F").replace(':', "%3A")
        ))
        .await;
    assert!(back.body.contains(m1), "{}", back.body);

    // Packing, with the refusals of shipped and in-transit containers.
    let a = t
        .wh(json!({"id": "k1", "action": "pack", "children": units, "location": "DOCK"}))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let case = a.json()["parent"]
        .as_str()
        .expect("sscc issued")
        .to_string();
    assert!(case.starts_with("https://id.gs1.org/00/3"), "{case}");
    let pallet = {
        let b = "36901234000000900";
        format!(
            "(00){b}{}",
            suyuan_core::gs1::check_digit(b).expect("digits")
        )
    };
    let a = t.wh(json!({"id": "k0", "action": "pack", "parent": case, "children": [case], "location": "DOCK"})).await;
    assert_eq!(
        a.status,
        StatusCode::BAD_REQUEST,
        "a case inside itself: {}",
        a.body
    );
    let a = t.wh(json!({"id": "k2", "action": "pack", "parent": pallet, "children": [case], "location": "DOCK"})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let a = t.wh(json!({"id": "sh1", "action": "ship", "customer": "D1", "codes": [pallet], "from": "DOCK"})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let despatch = a.json()["despatch"].as_str().unwrap_or("").to_string();
    assert!(despatch.starts_with("DA-"), "{}", a.body);
    // An RFID reader at the dock reads the pallet's tag twice and a stray can: one read, one extra.
    let opts = suyuan_core::id::ParseOptions {
        gcp_length: 7,
        ..Default::default()
    };
    let urn = suyuan_core::id::parse(&pallet, &opts)
        .expect("sscc")
        .urn
        .expect("urn");
    let scheme = suyuan_core::id::rfid::Scheme::from_name("sscc-96").expect("scheme");
    let hex = suyuan_core::id::rfid::encode(&urn, scheme, 0).expect("tag");
    let a = t.wh(json!({"id": "rf1", "action": "rfid", "purpose": "ship_check", "despatch": despatch, "location": "DOCK",
        "tags": [hex, hex, "urn:epc:id:sgtin:6901234.000001.STRAY"]})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.json()["read"], 2);
    let diffs = a.json()["differences"].clone();
    assert_eq!(diffs.as_array().map(Vec::len), Some(1), "{diffs}");
    assert_eq!(diffs[0][2], 1.0, "the stray can is extra");
    assert_eq!(
        qty(&t
            .stock(&format!("product={finished}&status=in_transit"))
            .await),
        3.0
    );
    assert_eq!(
        refusal(
            &t.wh(json!({"id": "u1", "action": "unpack", "parent": pallet, "location": "DOCK"}))
                .await
        ),
        "in_transit"
    );
    assert_eq!(refusal(&t.wh(json!({"id": "k3", "action": "pack", "parent": pallet, "children": ["urn:suyuan:plant:unit:CAN.X"], "location": "DOCK"})).await), "container_shipped");
    assert_eq!(refusal(&t.wh(json!({"id": "pk1", "action": "pick", "order": "SO-1", "code": m1, "quantity": 5000, "location": "B1"})).await), "more_than_on_hand");
    // A held lot may not be picked (the hold captured through EPCIS like any event).
    let hold = json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "holding", "disposition": "non_sellable_other",
        "eventTime": "2026-01-01T00:00:00Z", "eventTimeZoneOffset": "+00:00",
        "quantityList": [{"epcClass": "urn:suyuan:plant:lot:CAN.C1"}]});
    assert_eq!(
        t.post_json("/api/v1/events", &hold).await.status,
        StatusCode::CREATED
    );
    assert_eq!(refusal(&t.wh(json!({"id": "pk2", "action": "pick", "order": "SO-1", "code": "urn:suyuan:plant:lot:CAN.C1", "quantity": 5, "location": "B1"})).await), "held");

    // Receipt at the distributor, by the distributor: a partner records receipts only, at its own places,
    // and reads nothing of the plant's operations.
    let engine = &t.state.engine;
    let partner = suyuan_engine::accounts::NewUser {
        name: "d1".into(),
        role: "partner".into(),
        company_prefixes: vec!["6930001".into()],
        ..Default::default()
    };
    engine.create_user("test", &partner).await.expect("partner");
    let expires = chrono::Utc::now() + chrono::Duration::days(1);
    let (token, _) = engine
        .create_token("test", "d1", &[], expires, "d1")
        .await
        .expect("token");
    let as_partner = |uri: &str, body: Value| {
        Request::post(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .expect("request")
    };
    let a = t
        .send(as_partner(
            "/api/v1/warehouse",
            json!({"id": "pm1", "action": "move", "code": m1, "to": "B1"}),
        ))
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    let a = t
        .send(as_partner(
            "/api/v1/warehouse",
            json!({"id": "rc0", "action": "receipt", "codes": [pallet], "location": "D2-S1"}),
        ))
        .await;
    assert_eq!(
        a.status,
        StatusCode::FORBIDDEN,
        "another distributor's store: {}",
        a.body
    );
    let a = t
        .send(
            Request::get("/api/v1/inventory")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    let a = t
        .send(as_partner(
            "/api/v1/warehouse",
            json!({"id": "rc1", "action": "receipt", "codes": [pallet], "location": "D1"}),
        ))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let at_d1 = t.stock(&format!("product={finished}&location=D1")).await;
    assert_eq!(qty(&at_d1), 3.0, "{at_d1:?}");
    assert_eq!(at_d1[0]["status"], "available");

    // One of the cans is sold at a store of another distributor, outside D1's regions: diverted (窜货).
    let sale = json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "retail_selling", "disposition": "retail_sold",
        "eventTime": "2026-12-01T02:00:00Z", "eventTimeZoneOffset": "+08:00", "epcList": [unit_key.replace("/U1", "/U2")],
        "bizLocation": {"id": "urn:epc:id:sgln:6930002.00011.0"}});
    assert_eq!(
        t.post_json("/api/v1/events", &sale).await.status,
        StatusCode::CREATED
    );
    assert_eq!(t.state.engine.watch_sales().await.expect("watch"), 1);
    let alerts = t.get("/api/v1/alerts?kind=diversion").await.json();
    assert_eq!(
        alerts["alerts"][0]["detail"]["distributor"], "D1",
        "{alerts}"
    );
    assert_eq!(alerts["alerts"][0]["detail"]["seen_in"], "成都门店");

    // A stock count with a difference.
    let a = t.wh(json!({"id": "c1", "action": "count", "location": "B1", "counted": [{"code": m1, "quantity": 990}]})).await;
    assert_eq!(a.json()["differences"][0][1], 994.0, "{}", a.body);
    assert_eq!(qty(&t.stock("product=MILK&lot=M1").await), 990.0);

    // Process parameters: one outside the routing's limits raises an alert.
    let a = t
        .post_json("/api/v1/stations/ST1/parameters", &json!({"line": "L1", "equipment": "FILL-1", "readings": [
            {"time": "2026-12-07T08:00:00+08:00", "parameter": "temperature", "value": 55.0, "unit": "CEL"},
            {"time": "2026-12-07T08:01:00+08:00", "parameter": "temperature", "value": 63.5, "unit": "CEL"}]}))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.json()["excursions"], 1);
    assert!(
        a.json()["work_order"]
            .as_str()
            .is_some_and(|w| w.ends_with("WO-1"))
    );
    let alerts = t.get("/api/v1/alerts?kind=parameter").await.json();
    let id = alerts["alerts"][0]["id"]
        .as_str()
        .expect("alert")
        .to_string();
    let a = t
        .post_json(
            &format!("/api/v1/alerts/{id}"),
            &json!({"state": "closed", "note": ""}),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "closing needs a reason");
    let a = t
        .post_json(
            &format!("/api/v1/alerts/{id}"),
            &json!({"state": "acknowledged", "owner": "qa"}),
        )
        .await;
    assert_eq!(a.json()["owner"], "qa", "{}", a.body);

    // Counterfeit thresholds are settings on the ledger.
    let a = t
        .post_json(
            "/api/v1/alerts/settings",
            &json!({"max_scans": 0, "max_regions": 1}),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    let a = t
        .post_json(
            "/api/v1/alerts/settings",
            &json!({"max_scans": 3, "max_regions": 2}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(
        t.get("/api/v1/alerts/settings").await.json()["max_scans"],
        3
    );

    // Figures.
    // The plant's day (UTC+8) is a day ahead of UTC's for eight hours of every UTC day.
    let today = (chrono::Utc::now() + chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    let out = t
        .get(&format!(
            "/api/v1/metrics/output?from=2026-01-01&to={today}&group_by=line"
        ))
        .await
        .json();
    assert_eq!(out["points"][0]["group"], "L1", "{out}");
    assert_eq!(out["points"][0]["value"], 3.0);
    assert_eq!(
        t.get("/api/v1/metrics/nonsense").await.status,
        StatusCode::NOT_FOUND
    );

    // The live inventory is the ledger's.
    let live = t
        .state
        .engine
        .operations()
        .await
        .expect("ops")
        .inventory
        .fingerprint();
    let rebuilt = t
        .state
        .engine
        .rebuild_operations()
        .await
        .expect("rebuild")
        .inventory
        .fingerprint();
    assert_eq!(live, rebuilt);
    assert!(!live.is_empty());
}

#[tokio::test]
async fn operations_end_to_end_on_sqlite() {
    flow(test_app().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_end_to_end_on_postgres() {
    // Skips with a message when SUYUAN_TEST_PG_URL is unset; fails then under SUYUAN_REQUIRE_SERVICES.
    if let Some(t) = pg_app("operations").await {
        flow(t).await;
    }
}

/// Codes come from the plant's coding rules: the output lot of a work order, its serials (commissioned when
/// printed, recorded as made when scanned at the station), and the SSCC of a case.
#[tokio::test]
async fn coding_rules_issue_lots_serials_and_ssccs() {
    let t = test_app().await;
    let finished = gtin("690123400002");
    t.import("location", "code,name_zh,level,parent\nS1,厂,site,\nL1,一线,line,S1\nST1,工位,station,L1\nWH,仓,warehouse,S1\n").await;
    t.import(
        "product",
        &format!("code,name_zh,unit,category\n{finished},成品,H87,finished\nMILK,奶,KGM,raw\n"),
    )
    .await;
    t.import(
        "bom",
        &format!("product,input,quantity,unit\n{finished},MILK,1,KGM\n"),
    )
    .await;
    t.import("operator", "badge,name\n7,李娜\n").await;
    for (name, def) in [
        (
            "wo-lot",
            json!({"template": "{LINE:2}{YY}{JJJ}{SEQ:3:10:daily}", "target": "lgtin"}),
        ),
        (
            "wo-serial",
            json!({"template": "{YY}{SEQ:6}", "target": "sgtin"}),
        ),
        (
            "case",
            json!({"template": "36901234{SEQ:9}{CHECK:mod10}", "target": "sscc"}),
        ),
    ] {
        let a = t
            .post_json(
                "/api/v1/coding-rules",
                &json!({"name": name, "definition": def}),
            )
            .await;
        assert!(a.status.is_success(), "{name}: {}", a.body);
    }
    let a = t.post_json("/api/v1/work-orders", &json!({"product": finished, "planned": 2, "line": "L1", "number": "WO-R", "lot_rule": "wo-lot"})).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let lot = a.json()["lot"].as_str().expect("lot").to_string();
    assert!(lot.starts_with("L1") && lot.ends_with("001"), "{lot}");
    t.post_json(
        "/api/v1/work-orders/WO-R/state",
        &json!({"state": "released"}),
    )
    .await;
    let a = t
        .post_json(
            "/api/v1/work-orders/WO-R/serials",
            &json!({"rule": "wo-serial", "count": 2}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let serials: Vec<String> = a.json()["codes"]
        .as_array()
        .expect("codes")
        .iter()
        .filter_map(|c| c["uri"].as_str().map(str::to_string))
        .collect();
    assert_eq!(serials.len(), 2);
    // Printed is not made: the station records each once.
    t.scan("r1", "7", None, None).await;
    let a = t.scan("r2", &serials[0], Some("7"), Some("WO-R")).await;
    assert_eq!(a.json()["kind"], "produced", "{}", a.body);
    assert_eq!(a.json()["lot"], lot.as_str());
    assert_eq!(
        refusal(&t.scan("r3", &serials[0], Some("7"), Some("WO-R")).await),
        "already_recorded"
    );
    let stock = t.stock(&format!("product={finished}&lot={lot}")).await;
    assert_eq!(
        qty(&stock),
        2.0,
        "both serials carry the lot once printed and made: {stock:?}"
    );
    let a = t.wh(json!({"id": "p1", "action": "pack", "children": [serials[0]], "location": "WH", "rule": "case"})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(
        a.json()["parent"],
        "https://id.gs1.org/00/369012340000000017"
    );
    // Scrap booked on the work order.
    let a = t.wh(json!({"id": "x1", "action": "scrap", "code": serials[1], "work_order": "WO-R", "location": "WH", "reason": "dented"})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(t.get("/api/v1/work-orders/WO-R").await.json()["scrap"], 1.0);
    assert_eq!(
        qty(&t.stock(&format!("product={finished}&lot={lot}")).await),
        1.0
    );
}
