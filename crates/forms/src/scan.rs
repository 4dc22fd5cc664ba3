//! What a scan field was given: any GS1 form (element string from a barcode, Digital Link from a QR code,
//! EPC URN or hex from an RFID reader, a bare GTIN or SSCC) or the plant's own `urn:suyuan:` code, read
//! into the object key the ledger files it under, its kind and its AIs. What the engine found about the
//! object ([`Found`]) then prefills the fields the form names.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use suyuan_core::id::{InputKind, ParseOptions, parse};
use suyuan_core::projection::object_key;

/// A scanned code, read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scanned {
    /// What was scanned or typed.
    pub text: String,
    /// The object key (canonical Digital Link, or the URN as given).
    pub key: String,
    /// `instance` (a serial), `class` (a lot or a product), `container` (an SSCC) or `internal`.
    pub kind: String,
    /// Its GS1 Application Identifiers.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ais: BTreeMap<String, String>,
}

impl Scanned {
    /// Reads `text`; the error says, in English and Chinese, what a code looks like.
    pub fn read(text: &str) -> Result<Scanned, (String, String)> {
        let text = text.trim();
        let p = parse(text, &ParseOptions::default()).map_err(|e| {
            (
                format!("a GS1 code, Digital Link, EPC URN or the plant's code: {e}"),
                format!("GS1 条码、数字链接、EPC URN 或本厂编码：{e}"),
            )
        })?;
        let ais: BTreeMap<String, String> = p.ais.pairs.iter().cloned().collect();
        let kind = if p.kind == InputKind::Internal {
            "internal"
        } else if ais.contains_key("00") {
            "container"
        } else if ais.contains_key("01") && !ais.contains_key("21") {
            "class"
        } else {
            "instance"
        };
        let uri = match (&p.dl, &p.urn) {
            (Some(dl), _) => dl.clone(),
            (None, Some(urn)) => urn.clone(),
            (None, None) => text.to_string(),
        };
        Ok(Scanned {
            text: text.to_string(),
            key: object_key(&uri),
            kind: kind.to_string(),
            ais,
        })
    }

    /// The GTIN, lot and serial it carries.
    pub fn gs1_parts(&self) -> (Option<&str>, Option<&str>, Option<&str>) {
        (
            self.ais.get("01").map(String::as_str),
            self.ais.get("10").map(String::as_str),
            self.ais.get("21").map(String::as_str),
        )
    }
}

/// What the engine knows of a scanned object: the values a scan field can prefill, and what its checks
/// need.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Found {
    /// The object key.
    pub key: String,
    /// Whether the ledger knows it.
    pub exists: bool,
    /// Its product (GTIN or the plant's product code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// The product's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its lot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lot: Option<String>,
    /// Its serial.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// Where it is now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Its disposition now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disposition: Option<String>,
    /// The container it is in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// The coding rule that issued it, when the plant issued it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

impl Found {
    /// The value a prefill names (`product`, `name`, `lot`, …).
    pub fn value(&self, what: &str) -> Option<&str> {
        match what {
            "product" => self.product.as_deref(),
            "name" => self.name.as_deref(),
            "lot" => self.lot.as_deref(),
            "serial" => self.serial.as_deref(),
            "location" => self.location.as_deref(),
            "disposition" => self.disposition.as_deref(),
            "container" => self.container.as_deref(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_way_of_writing_a_code_reads_to_one_key() {
        let forms = [
            "(01)06901234567892(10)L2026101212",
            "https://id.gs1.org/01/06901234567892/10/L2026101212",
            "]C10106901234567892 10L2026101212",
        ];
        let first = Scanned::read(forms[0]).expect("element string");
        assert_eq!(first.kind, "class");
        assert_eq!(first.gs1_parts().1, Some("L2026101212"));
        for f in &forms[1..2] {
            assert_eq!(Scanned::read(f).expect(f).key, first.key, "{f}");
        }
        let serial = Scanned::read("urn:epc:id:sgtin:6901234.056789.1001").expect("urn");
        assert_eq!(serial.kind, "instance");
        assert_eq!(
            Scanned::read("(00)069012340000000016").expect("sscc").kind,
            "container"
        );
        assert_eq!(
            Scanned::read("urn:suyuan:demo:batch:B1").expect("own").kind,
            "internal"
        );
        let (en, zh) = Scanned::read("hello").expect_err("not a code");
        assert!(en.contains("GS1") && zh.contains("GS1"));
    }
}
