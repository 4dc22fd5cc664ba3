//! The object-state projection of parsed events: packing sets the container, unpacking clears it.

use suyuan_core::projection::{ProjectionOp, projection_ops};
use suyuan_epcis::parse_capture;

#[test]
fn packing_sets_and_unpacking_clears_the_container() {
    let pack = serde_json::json!({
        "type": "AggregationEvent", "eventTime": "2024-01-01T10:00:00+08:00", "eventTimeZoneOffset": "+08:00",
        "parentID": "urn:epc:id:sscc:6901234.0000000017", "childEPCs": ["urn:epc:id:sgtin:6901234.012345.1"],
        "action": "ADD", "bizStep": "packing", "bizLocation": {"id": "urn:epc:id:sgln:6901234.00001.0"}
    });
    let e = parse_capture(&pack).expect("valid").remove(0);
    let ops = projection_ops(&e);
    let case = "https://id.gs1.org/00/069012340000000177".to_string();
    let can = "https://id.gs1.org/01/06901234123456/21/1".to_string();
    assert!(ops.contains(&ProjectionOp::SetContainer {
        child: can.clone(),
        parent: case.clone()
    }));
    assert!(ops.iter().any(
        |o| matches!(o, ProjectionOp::Touch { object, location: Some(_), .. } if *object == case)
    ));
    let mut unpack = pack.clone();
    unpack["action"] = "DELETE".into();
    let e = parse_capture(&unpack).expect("valid").remove(0);
    assert!(projection_ops(&e).contains(&ProjectionOp::ClearContainer {
        child: can,
        parent: case
    }));
}
