//! The inventory fold over EPCIS events as captured: lots by quantity, units made from them, packed into a
//! case and a pallet, shipped and received; holds; counts.

use serde_json::{Value, json};
use suyuan_ops::Status;
use suyuan_ops::inventory::{Inventory, StockFilter};

fn ev(mut v: Value) -> suyuan_core::Event {
    v["@context"] = json!(["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"sy": "https://suyuan.dev/ns#"}]);
    v["eventTime"] = json!("2026-12-01T00:00:00Z");
    v["eventTimeZoneOffset"] = json!("+00:00");
    suyuan_epcis::parse_capture(&v).expect("event").remove(0)
}

fn total(inv: &Inventory, product: &str, status: Status) -> f64 {
    inv.stock(&StockFilter {
        product: Some(product.into()),
        status: Some(status),
        ..StockFilter::default()
    })
    .iter()
    .map(|r| r.quantity)
    .sum()
}

const P: &str = "06901234000016";

#[test]
fn units_follow_their_case_and_pallet() {
    let mut inv = Inventory::default();
    let wh = "urn:epc:id:sgln:6901234.00001.0";
    inv.apply(&ev(json!({"type": "ObjectEvent", "action": "ADD", "bizStep": "receiving",
        "quantityList": [{"epcClass": "urn:epc:class:lgtin:6920001.000011.M1", "quantity": 100.0, "uom": "KGM"}],
        "bizLocation": {"id": wh}, "ilmd": {"cbvmda:itemExpirationDate": "2030-01-01"}})));
    let units: Vec<String> = (1..=3)
        .map(|n| format!("https://id.gs1.org/01/{P}/21/U{n}"))
        .collect();
    inv.apply(&ev(json!({"type": "TransformationEvent", "bizStep": "commissioning", "disposition": "active",
        "inputQuantityList": [{"epcClass": "urn:epc:class:lgtin:6920001.000011.M1", "quantity": 6.0, "uom": "KGM"}],
        "outputEPCList": units, "bizLocation": {"id": wh}, "transformationID": "urn:suyuan:t:wo:1",
        "ilmd": {"cbvmda:lotNumber": "B1"}})));
    assert_eq!(total(&inv, "06920001000110", Status::Available), 94.0);
    assert_eq!(total(&inv, P, Status::Available), 3.0);
    let rows = inv.stock(&StockFilter {
        product: Some(P.into()),
        ..StockFilter::default()
    });
    assert_eq!(
        rows[0].expiry.as_deref(),
        Some("2030-01-01"),
        "inherited from the milk"
    );
    let case = "https://id.gs1.org/00/369012340000000017";
    let pallet = "https://id.gs1.org/00/369012340000000024";
    inv.apply(&ev(
        json!({"type": "AggregationEvent", "action": "ADD", "bizStep": "packing", "parentID": case,
        "childEPCs": units, "bizLocation": {"id": wh}}),
    ));
    inv.apply(&ev(json!({"type": "AggregationEvent", "action": "ADD", "bizStep": "packing", "parentID": pallet,
        "childEPCs": [case], "bizLocation": {"id": wh}})));
    inv.apply(&ev(json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "shipping", "disposition": "in_transit",
        "epcList": [pallet], "readPoint": {"id": wh},
        "destinationList": [{"type": "owning_party", "destination": "urn:epc:id:pgln:6930001.00000"},
                            {"type": "location", "destination": "urn:epc:id:sgln:6930001.00001.0"}]})));
    assert_eq!(
        total(&inv, P, Status::InTransit),
        3.0,
        "{:?}",
        inv.fingerprint()
    );
    assert!(
        inv.consignee(&units[0])
            .is_some_and(|p| p.contains("6930001"))
    );
    assert!(inv.unit(pallet).is_some_and(|u| u.shipped));
    inv.apply(&ev(json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "receiving", "disposition": "sellable_not_accessible",
        "epcList": [pallet], "bizLocation": {"id": "urn:epc:id:sgln:6930001.00001.0"}})));
    assert_eq!(total(&inv, P, Status::Available), 3.0);
    inv.apply(&ev(json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "retail_selling", "disposition": "retail_sold",
        "epcList": [units[0]], "bizLocation": {"id": "urn:epc:id:sgln:6930001.00011.0"}})));
    assert_eq!(total(&inv, P, Status::Available), 2.0);
    // Containers and documents are not stock.
    assert!(
        inv.fingerprint()
            .iter()
            .all(|r| !r.product.is_empty() && !r.product.starts_with("urn:"))
    );
}

#[test]
fn a_lot_held_and_counted() {
    let mut inv = Inventory::default();
    let bin = "urn:suyuan:t:loc:B1";
    let lot = "urn:suyuan:t:lot:MILK.M1";
    inv.apply(&ev(json!({"type": "ObjectEvent", "action": "ADD", "bizStep": "receiving",
        "quantityList": [{"epcClass": lot, "quantity": 10.0, "uom": "KGM"}], "bizLocation": {"id": bin}})));
    inv.apply(&ev(json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "inspecting", "disposition": "non_conformant",
        "quantityList": [{"epcClass": lot}]})));
    assert_eq!(total(&inv, "MILK", Status::OnHold), 10.0);
    inv.apply(&ev(json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "cycle_counting",
        "quantityList": [{"epcClass": lot, "quantity": 8.0, "uom": "KGM"}], "bizLocation": {"id": bin}})));
    assert_eq!(
        total(&inv, "MILK", Status::Available) + total(&inv, "MILK", Status::OnHold),
        8.0
    );
}
