//! `GS1-EPC-Format`: EPCs in answers as URNs or Digital Links.

#[allow(unused_imports)]
use super::*;

/// How identifiers appear in answers (`GS1-EPC-Format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpcFormat {
    /// As captured.
    NeverTranslates,
    /// Every GS1 key as a canonical GS1 Digital Link.
    AlwaysDigitalLink,
    /// Every GS1 key as an EPC URN (with this company-prefix length for keys captured as Digital Links).
    AlwaysEpcUrn(usize),
}

impl EpcFormat {
    /// Parses the header value (`Always_GS1_Digital_Link`, `Always_EPC_URN`, `Never_Translates`).
    pub fn parse(v: &str, gcp_length: usize) -> Option<EpcFormat> {
        match v.trim() {
            "Never_Translates" | "No_Preference" => Some(EpcFormat::NeverTranslates),
            "Always_GS1_Digital_Link" => Some(EpcFormat::AlwaysDigitalLink),
            "Always_EPC_URN" => Some(EpcFormat::AlwaysEpcUrn(gcp_length)),
            _ => None,
        }
    }

    pub(super) fn apply(self, v: &str) -> Option<String> {
        match self {
            EpcFormat::NeverTranslates => None,
            EpcFormat::AlwaysDigitalLink => suyuan_core::gs1::canonical_digital_link(v),
            EpcFormat::AlwaysEpcUrn(gcp) => {
                if v.starts_with("urn:epc:") {
                    return None;
                }
                let dl = suyuan_core::id::dl::parse_digital_link(v).ok()?;
                suyuan_core::id::epc::to_epc_urn(&dl.data, gcp).ok()
            }
        }
    }
}

/// Rewrites every identifier of an event (EPCs, parent, classes, read point, business location, sources and
/// destinations) in `format`; identifiers without a GS1 key stay as they are.
pub fn translate_epcs(event: &mut Value, format: EpcFormat) {
    if format == EpcFormat::NeverTranslates {
        return;
    }
    let tr = |v: &mut Value| {
        if let Some(s) = v.as_str()
            && let Some(n) = format.apply(s)
        {
            *v = Value::String(n);
        }
    };
    for k in ["epcList", "childEPCs", "inputEPCList", "outputEPCList"] {
        if let Some(a) = event.get_mut(k).and_then(Value::as_array_mut) {
            a.iter_mut().for_each(tr);
        }
    }
    if let Some(p) = event.get_mut("parentID") {
        tr(p);
    }
    for k in [
        "quantityList",
        "childQuantityList",
        "inputQuantityList",
        "outputQuantityList",
    ] {
        for q in event
            .get_mut(k)
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if let Some(c) = q.get_mut("epcClass") {
                tr(c);
            }
        }
    }
    for k in ["readPoint", "bizLocation"] {
        if let Some(id) = event.get_mut(k).and_then(|p| p.get_mut("id")) {
            tr(id);
        }
    }
    for (k, f) in [("sourceList", "source"), ("destinationList", "destination")] {
        for s in event
            .get_mut(k)
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if let Some(v) = s.get_mut(f) {
                tr(v);
            }
        }
    }
}

#[cfg(test)]
mod format_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn identifiers_translate_both_ways() {
        let mut e = json!({"epcList": ["urn:epc:id:sgtin:0614141.107346.2017", "urn:suyuan:demo:x:1"],
            "readPoint": {"id": "https://id.gs1.org/414/0614141073467/254/1234"},
            "quantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.012345.998877", "quantity": 2}]});
        let mut dl = e.clone();
        translate_epcs(&mut dl, EpcFormat::AlwaysDigitalLink);
        assert_eq!(
            dl["epcList"][0],
            "https://id.gs1.org/01/10614141073464/21/2017"
        );
        assert_eq!(dl["epcList"][1], "urn:suyuan:demo:x:1");
        assert_eq!(
            dl["quantityList"][0]["epcClass"],
            "https://id.gs1.org/01/04012345123456/10/998877"
        );
        translate_epcs(&mut e, EpcFormat::AlwaysEpcUrn(7));
        assert_eq!(e["readPoint"]["id"], "urn:epc:id:sgln:0614141.07346.1234");
        translate_epcs(&mut dl, EpcFormat::AlwaysEpcUrn(7));
        assert_eq!(dl["epcList"][0], "urn:epc:id:sgtin:0614141.107346.2017");
        assert_eq!(EpcFormat::parse("Always_X", 7), None);
    }
}
