//! The search index checks of the storage conformance suite (see [`crate::suite`]).

use crate::suite::{TestStore, prepare};
use serde_json::json;
use suyuan_core::search::{LOT, SERIAL, SSCC, TRANSACTION, TRANSACTION_EVENT};

/// New objects put their serial, lot or SSCC in the search index, events their transactions (by URI and last
/// segment, and linked to the event's seq) and the lots of the instances they commission; a repeat adds
/// nothing.
pub async fn search_index_finds_serials_lots_ssccs_and_transactions(s: TestStore) {
    let wo = "urn:suyuan:demo:wo:WO-20261012-1-2";
    let canning = json!({"type": "TransformationEvent", "eventTime": "2026-10-12T12:00:00+08:00",
        "eventTimeZoneOffset": "+08:00",
        "inputQuantityList": [{"epcClass": "urn:epc:class:lgtin:6901234.020002.BP2026101212", "quantity": 480, "uom": "KGM"}],
        "outputEPCList": ["urn:epc:id:sgtin:6901234.012345.4UPQLLFPVL"],
        "bizTransactionList": [{"type": "prodorder", "bizTransaction": wo}],
        "ilmd": {"cbvmda:lotNumber": "L2026101212"}});
    let pack = json!({"type": "AggregationEvent", "eventTime": "2026-10-12T13:00:00+08:00",
        "eventTimeZoneOffset": "+08:00", "action": "ADD", "parentID": "urn:epc:id:sscc:6901234.1000000007",
        "childEPCs": ["urn:epc:id:sgtin:6901234.012345.4UPQLLFPVL"],
        "bizTransactionList": [{"type": "prodorder", "bizTransaction": wo}]});
    s.append(vec![prepare(canning.clone()), prepare(pack)])
        .await
        .expect("append");
    s.append(vec![prepare(canning)]).await.expect("repeat");
    let hits = |term: &'static str| {
        let s = s.clone();
        async move { s.search_terms(term, 50).await.expect("search") }
    };
    let can = "https://id.gs1.org/01/06901234123456/21/4UPQLLFPVL".to_string();
    assert_eq!(hits("4UPQLLFPVL").await, [(SERIAL.to_string(), can)]);
    assert_eq!(
        hits("L2026101212").await,
        [(
            LOT.to_string(),
            "https://id.gs1.org/01/06901234123456/10/L2026101212".to_string()
        )]
    );
    assert_eq!(
        hits("BP2026101212").await,
        [(
            LOT.to_string(),
            "https://id.gs1.org/01/06901234200027/10/BP2026101212".to_string()
        )]
    );
    assert_eq!(
        hits("169012340000000075").await,
        [(
            SSCC.to_string(),
            "https://id.gs1.org/00/169012340000000075".to_string()
        )]
    );
    assert_eq!(
        hits("WO-20261012-1-2").await,
        [(TRANSACTION.to_string(), wo.to_string())]
    );
    let events = hits(wo).await;
    assert_eq!(
        events,
        [
            (TRANSACTION.to_string(), wo.to_string()),
            (TRANSACTION_EVENT.to_string(), format!("{:020}", 1)),
            (TRANSACTION_EVENT.to_string(), format!("{:020}", 2)),
        ]
    );
    assert!(hits("nothing-like-it").await.is_empty());
}
