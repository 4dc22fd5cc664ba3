//! Finding objects by what is printed on them, on SQLite and PostgreSQL: bare serials and lots, printed and
//! scanned element strings, SSCCs, work orders, and a Digital Link whose lot is not the serial's; and what a
//! found lot tells (its story and backward trace through its cans).

use super::*;

fn batch() -> Value {
    let wo = "urn:suyuan:demo:wo:WO-20261012-1-2";
    let canning = json!({"type": "TransformationEvent", "eventTime": "2026-10-12T12:00:00+08:00",
        "eventTimeZoneOffset": "+08:00",
        "inputQuantityList": [{"epcClass": "urn:epc:class:lgtin:6901234.020002.BP2026101212", "quantity": 480, "uom": "KGM"}],
        "outputEPCList": ["urn:epc:id:sgtin:6901234.012345.4UPQLLFPVL", "urn:epc:id:sgtin:6901234.012345.7KQ2M9XWAB"],
        "bizTransactionList": [{"type": "prodorder", "bizTransaction": wo}],
        "ilmd": {"cbvmda:lotNumber": "L2026101212"}});
    let inspect = json!({"type": "ObjectEvent", "action": "OBSERVE", "eventTime": "2026-10-12T15:00:00+08:00",
        "eventTimeZoneOffset": "+08:00", "bizStep": "inspecting",
        "quantityList": [{"epcClass": "urn:epc:class:lgtin:6901234.012345.L2026101212", "quantity": 2, "uom": "H87"}],
        "bizTransactionList": [{"type": "prodorder", "bizTransaction": wo}]});
    let pack = json!({"type": "AggregationEvent", "eventTime": "2026-10-12T16:00:00+08:00",
        "eventTimeZoneOffset": "+08:00", "action": "ADD", "parentID": "urn:epc:id:sscc:6901234.1000000007",
        "childEPCs": ["urn:epc:id:sgtin:6901234.012345.4UPQLLFPVL"]});
    document(vec![canning, inspect, pack])
}

async fn exercise(t: TestApp) {
    assert_eq!(
        t.post_json("/api/v1/events", &batch()).await.status,
        StatusCode::CREATED
    );
    let search = |q: &str| {
        let uri = format!("/api/v1/search?q={}", percent_encode(q));
        let q = q.to_string();
        let t = &t;
        async move {
            let a = t.get(&uri).await;
            assert_eq!(a.status, StatusCode::OK, "{q}: {}", a.body);
            a.json()
        }
    };
    let can = "https://id.gs1.org/01/06901234123456/21/4UPQLLFPVL";
    let lot = "https://id.gs1.org/01/06901234123456/10/L2026101212";
    let ids = |j: &Value| -> Vec<String> {
        j["matches"]
            .as_array()
            .expect("matches")
            .iter()
            .filter_map(|m| m["id"].as_str().map(str::to_string))
            .collect()
    };
    for (q, want, read_as) in [
        ("4UPQLLFPVL", can, "text"),
        ("4upqllfpvl", can, "text"),
        ("L2026101212", lot, "text"),
        ("(01)06901234123456(21)4UPQLLFPVL", can, "element_string"),
        // As a scanner sends it: no symbology identifier, FNC1 as GS before the lot.
        (
            "0106901234123456214UPQLLFPVL\u{1d}10L2026101212",
            can,
            "element_string",
        ),
        (
            "169012340000000075",
            "https://id.gs1.org/00/169012340000000075",
            "sscc",
        ),
        ("urn:epc:id:sgtin:6901234.012345.4UPQLLFPVL", can, "epc_urn"),
    ] {
        let j = search(q).await;
        assert_eq!(ids(&j), [want], "{q}: {j}");
        assert_eq!(j["readAs"], read_as, "{q}");
    }
    let j = search("L2026101212").await;
    assert_eq!(j["matches"][0]["kind"], "lot");
    assert_eq!(j["matches"][0]["name"], "(01)06901234123456(10)L2026101212");
    // A work order by its number: the transaction and its events, oldest first.
    let j = search("WO-20261012-1-2").await;
    assert_eq!(ids(&j), ["urn:suyuan:demo:wo:WO-20261012-1-2"], "{j}");
    assert_eq!(j["matches"][0]["kind"], "business_transaction");
    let steps: Vec<&str> = j["matches"][0]["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["step"].as_str())
        .collect();
    assert_eq!(steps, ["TransformationEvent", "inspecting"]);
    // The link names lot L2026100112, the serial was made in L2026101212: said, not resolved silently.
    let j = search("https://id.gs1.org/01/06901234123456/10/L2026100112/21/4UPQLLFPVL").await;
    assert_eq!(j["warnings"][0]["code"], "lot_mismatch", "{j}");
    assert_eq!(j["warnings"][0]["recordedLot"], "L2026101212");
    assert_eq!(j["warnings"][0]["claimedLot"], "L2026100112");
    let right = search("https://id.gs1.org/01/06901234123456/10/L2026101212/21/4UPQLLFPVL").await;
    assert_eq!(right["warnings"], json!([]), "{right}");
    assert!(ids(&search("NO-SUCH-CODE").await).is_empty());
    let empty = t.get("/api/v1/search?q=%20").await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert!(empty.body.contains("\"parameter\":\"q\""), "{}", empty.body);
    // The page: one match opens it, in the page's language.
    let one = t.get("/search?q=4UPQLLFPVL&lang=en").await;
    assert_eq!(one.status, StatusCode::SEE_OTHER, "{}", one.body);
    let to = one.headers[header::LOCATION].to_str().expect("location");
    assert!(
        to.starts_with("/objects?id=https%3A%2F%2Fid%2Egs1%2Eorg") && to.ends_with("lang=en"),
        "{to}"
    );
    // A mismatch stays on the results and says so, in either language.
    let q = percent_encode("https://id.gs1.org/01/06901234123456/10/L2026100112/21/4UPQLLFPVL");
    let en = t.get(&format!("/search?q={q}&lang=en")).await;
    assert_eq!(en.status, StatusCode::OK, "{}", en.body);
    assert!(
        en.body.contains("The code says lot L2026100112, but"),
        "{}",
        en.body
    );
    let zh = t.get(&format!("/search?q={q}&lang=zh-CN")).await;
    assert!(
        zh.body.contains("编码中的批号是 L2026100112"),
        "{}",
        zh.body
    );
    let none = t.get("/search?q=NO-SUCH-CODE&lang=en").await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    assert!(none.body.contains("Nothing matches this code."));
}

#[tokio::test]
async fn search_finds_what_is_printed_sqlite() {
    exercise(test_app().await).await;
}

#[tokio::test]
async fn search_finds_what_is_printed_postgres() {
    if let Some(t) = pg_app("search_finds_what_is_printed").await {
        exercise(t).await;
    }
}

/// A lot's story and backward trace reach the canning of its cans and the powder that went in: the lot is
/// its instances too.
#[tokio::test]
async fn a_lots_story_and_backward_trace_reach_what_made_its_cans() {
    let t = test_app().await;
    assert_eq!(
        t.post_json("/api/v1/events", &batch()).await.status,
        StatusCode::CREATED
    );
    let lot = percent_encode("urn:epc:class:lgtin:6901234.012345.L2026101212");
    let back = t.get(&format!("/api/v1/trace/backward?id={lot}")).await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.body);
    assert!(
        back.body
            .contains("https://id.gs1.org/01/06901234200027/10/BP2026101212"),
        "the powder: {}",
        back.body
    );
    let story = t.get(&format!("/api/v1/objects/{lot}/story")).await;
    assert_eq!(story.status, StatusCode::OK, "{}", story.body);
    let j = story.json();
    let stages: Vec<&str> = j["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .filter_map(|s| s["stage"].as_str())
        .collect();
    assert!(
        stages.contains(&"production") && stages.contains(&"quality"),
        "{stages:?}"
    );
}
