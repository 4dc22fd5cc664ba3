//! Query parsing and matching tests.
use super::*;
use serde_json::json;

fn q(params: &[(&str, &str)]) -> Result<Query, Vec<QueryParamError>> {
    let p: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Query::parse(&p, &HashMap::new())
}

fn ship() -> Value {
    json!({"type": "ObjectEvent", "eventTime": "2026-10-02T08:00:00+08:00", "action": "OBSERVE",
           "bizStep": "shipping", "disposition": "in_transit",
           "epcList": ["urn:epc:id:sgtin:0614141.107346.2017"],
           "readPoint": {"id": "urn:epc:id:sgln:0614141.07346.1234"},
           "bizTransactionList": [{"type": "po", "bizTransaction": "urn:epc:id:gdti:0614141.00001.1618034"}],
           "destinationList": [{"type": "owning_party", "destination": "urn:epc:id:pgln:0614141.00001"}],
           "quantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.012345.998877", "quantity": 200, "uom": "KGM"}],
           "@context": [{"example": "http://ns.example.com/epcis/"}],
           "example:myField": {"example:inner": "7"},
           "sensorElementList": [{"sensorMetadata": {"time": "2026-10-02T07:00:00Z", "deviceID": "urn:epc:id:giai:4000001.111"},
                                  "sensorReport": [{"type": "Temperature", "value": 26.0, "uom": "CEL"}]}]})
}

fn hit(params: &[(&str, &str)]) -> bool {
    q(params).expect("valid").matches(&ship(), 0)
}

#[test]
fn the_parameter_families_match() {
    assert!(hit(&[("eventType", "ObjectEvent|AggregationEvent")]));
    assert!(!hit(&[("eventType", "AggregationEvent")]));
    assert!(hit(&[(
        "EQ_bizStep",
        "https://ref.gs1.org/cbv/BizStep-shipping"
    )]));
    assert!(hit(&[("EQ_bizStep", "urn:epcglobal:cbv:bizstep:shipping")]));
    assert!(!hit(&[("EQ_disposition", "active")]));
    assert!(hit(&[
        ("GE_eventTime", "2026-10-02T00:00:00Z"),
        ("LT_eventTime", "2026-10-03T00:00:00Z")
    ]));
    assert!(!hit(&[("LT_eventTime", "2026-10-02T00:00:00Z")]));
    assert!(hit(&[(
        "MATCH_epc",
        "https://id.gs1.org/01/10614141073464/21/2017"
    )]));
    assert!(hit(&[(
        "MATCH_epc",
        "urn:epc:idpat:sgtin:0614141.107346.*"
    )]));
    assert!(!hit(&[(
        "MATCH_epc",
        "urn:epc:idpat:sgtin:0614141.107347.*"
    )]));
    assert!(hit(&[(
        "MATCH_anyEPCClass",
        "urn:epc:class:lgtin:4012345.012345.998877"
    )]));
    assert!(hit(&[(
        "EQ_readPoint",
        "https://id.gs1.org/414/0614141073467/254/1234"
    )]));
    assert!(hit(&[(
        "EQ_bizTransaction_po",
        "urn:epc:id:gdti:0614141.00001.1618034"
    )]));
    assert!(hit(&[(
        "EQ_destination_owning_party",
        "urn:epc:id:pgln:0614141.00001"
    )]));
    assert!(!hit(&[(
        "EQ_source_owning_party",
        "urn:epc:id:pgln:0614141.00001"
    )]));
    assert!(hit(&[("GE_quantity", "200"), ("LT_quantity_KGM", "201")]));
    assert!(!hit(&[("GT_quantity", "200")]));
    assert!(hit(&[
        ("EQ_type", "gs1:Temperature"),
        ("GE_value_CEL", "25")
    ]));
    assert!(!hit(&[("GE_value_FAR", "25")]));
    assert!(hit(&[("EQ_deviceID", "urn:epc:id:giai:4000001.111")]));
    assert!(hit(&[("GE_time", "2026-10-02T06:00:00Z")]));
    assert!(!hit(&[("LT_time", "2026-10-02T06:00:00Z")]));
    assert!(hit(&[("EXISTS_sensorElementList", "")]));
    assert!(!hit(&[("EXISTS_errorDeclaration", "")]));
    assert!(hit(&[("EXISTS_example:myField", "")]));
    assert!(hit(&[("EQ_INNER_example:inner", "7")]));
    assert!(hit(&[("GT_INNER_example:inner", "6")]));
    assert!(!hit(&[("EQ_example:inner", "7")]), "not a top-level field");
}

#[test]
fn bad_parameters_are_named() {
    let e = q(&[
        ("EQ_bizStep", "shipping"),
        ("colour", "red"),
        ("GE_eventTime", "yesterday"),
    ])
    .expect_err("invalid");
    let names: Vec<&str> = e.iter().map(|x| x.parameter.as_str()).collect();
    assert_eq!(names, ["colour", "GE_eventTime"]);
    assert!(q(&[("EQ_ATTR_urn:epcglobal:cbv:mda:sst", "x")]).is_err());
    assert!(q(&[("HASATTR_epcList", "x")]).is_err());
    assert!(q(&[("EQ_ATTR_bizLocation", "x")]).is_err());
    assert!(q(&[("EQ_ATTR_bizLocation_urn:epcglobal:cbv:mda:sst", "201")]).is_ok());
    assert!(q(&[("orderDirection", "UP")]).is_err());
    assert!(q(&[("eventCountLimit", "2"), ("maxEventCount", "3")]).is_err());
    let exact = q(&[("MATCH_epc", "urn:epc:id:sgtin:0614141.107346.2017")]).expect("ok");
    assert_eq!(
        exact.exact_objects,
        Some(vec![
            "https://id.gs1.org/01/10614141073464/21/2017".to_string()
        ])
    );
    let class = q(&[(
        "MATCH_inputEPCClass",
        "urn:epc:class:lgtin:6920001.000011.RM1",
    )])
    .expect("ok");
    assert_eq!(
        class.exact_objects,
        Some(vec![
            "https://id.gs1.org/01/06920001000110/10/RM1".to_string()
        ])
    );
    let pattern = q(&[("MATCH_epcClass", "urn:epc:idpat:sgtin:6920001.000011.*")]).expect("ok");
    assert_eq!(
        pattern.exact_objects, None,
        "a wildcard cannot use the object index"
    );
}
