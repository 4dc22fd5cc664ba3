//! Finding objects by what is printed on them (pure): the search terms an object key or an event puts in the
//! index, and how a typed query is read — a bare serial, lot or SSCC, a printed or scanned element string, a
//! Digital Link or EPC URN, a work order or other business transaction.

use crate::event::Event;
use crate::id::{self, InputKind, ParseOptions};
use crate::projection::object_key;
use percent_encoding::percent_decode_str;

/// A serial number (AI 21) of an instance; the target is the instance's key.
pub const SERIAL: &str = "serial";
/// A lot or batch number (AI 10); the target is the lot's key.
pub const LOT: &str = "lot";
/// An SSCC (AI 00); the target is the logistic unit's key.
pub const SSCC: &str = "sscc";
/// A business transaction (work order, purchase or sales order…), by its full URI and by its last segment;
/// the target is the transaction's URI.
pub const TRANSACTION: &str = "transaction";
/// An event carrying a business transaction: the term is the transaction URI, the target the event's seq
/// written with 20 digits (so that targets sort in ledger order).
pub const TRANSACTION_EVENT: &str = "transaction_event";

/// One index row: the term as typed, its kind, and what it finds.
pub type Term = (String, &'static str, String);

/// The terms an object key puts in the index when the object first appears: the serial, lot or SSCC in
/// its canonical Digital Link.
pub fn object_terms(key: &str) -> Vec<Term> {
    let Some(path) = key.strip_prefix("https://id.gs1.org/") else {
        return Vec::new();
    };
    let segs: Vec<&str> = path.split('/').collect();
    let mut out = Vec::new();
    for pair in segs.chunks(2) {
        let [ai, value] = pair else { continue };
        let kind = match *ai {
            "21" => SERIAL,
            "10" => LOT,
            "00" => SSCC,
            _ => continue,
        };
        let value = percent_decode_str(value).decode_utf8_lossy().into_owned();
        if !value.is_empty() {
            out.push((value, kind, key.to_string()));
        }
    }
    out
}

/// The last segment of a transaction URI (`urn:suyuan:demo:wo:WO-20261012-1-2` → `WO-20261012-1-2`,
/// `http://transaction.acme.com/po/12345678` → `12345678`), when it differs from the whole.
fn tail(uri: &str) -> Option<&str> {
    let t = uri.trim_end_matches('/').rsplit([':', '/']).next()?;
    (!t.is_empty() && t != uri).then_some(t)
}

/// The event-level terms of an event: its business transactions (by URI and last segment), and the lot of
/// the instances it commissions with an ILMD lot number (a lot can be known only from there).
pub fn event_terms(e: &Event) -> Vec<Term> {
    let mut out: Vec<Term> = Vec::new();
    for bt in &e.biz_transaction_list {
        out.push((bt.id.clone(), TRANSACTION, bt.id.clone()));
        if let Some(t) = tail(&bt.id) {
            out.push((t.to_string(), TRANSACTION, bt.id.clone()));
        }
    }
    let lot = e.ilmd.as_ref().and_then(|ilmd| {
        ilmd.iter().find_map(|(k, v)| {
            (k.rsplit(':').next() == Some("lotNumber"))
                .then(|| v.as_str().map(str::to_string))
                .flatten()
        })
    });
    if let Some(lot) = lot {
        // The instances of one event share a few GTINs: convert one EPC per class, not every serial.
        let mut seen: Vec<&str> = Vec::new();
        for epc in e.epc_list.iter().chain(&e.output_epc_list) {
            let class = epc
                .rsplit_once(if epc.starts_with("urn:") { '.' } else { '/' })
                .map_or(epc.as_str(), |(c, _)| c);
            if seen.contains(&class) {
                continue;
            }
            seen.push(class);
            let key = object_key(epc);
            if let Some(gtin) = key
                .strip_prefix("https://id.gs1.org/01/")
                .and_then(|r| r.split('/').next())
            {
                let class = format!("https://id.gs1.org/01/{gtin}/10/{lot}");
                if !out.iter().any(|(_, _, t)| *t == class) {
                    out.push((lot.clone(), LOT, class));
                }
            }
        }
    }
    out
}

/// The row linking the event at `seq` to a business transaction it carries.
pub fn transaction_event(transaction: &str, seq: u64) -> Term {
    (
        transaction.to_string(),
        TRANSACTION_EVENT,
        format!("{seq:020}"),
    )
}

/// What a typed query was read as.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reading {
    /// Object keys the input names exactly (it parsed as an identifier).
    pub keys: Vec<String>,
    /// Terms to look up in the index.
    pub terms: Vec<String>,
    /// An instance the input names together with a lot (`…/10/LOT/21/SERIAL`): the lot it claims, to check
    /// against the lot recorded for the instance.
    pub claimed_lot: Option<(String, String)>,
    /// How the input was read: `digital_link`, `element_string`, `epc_urn`, `gtin`, `sscc`, `uri` or `text`.
    pub read_as: &'static str,
}

/// Reads what a person typed or a scanner sent. Identifiers are parsed with the identification code (and
/// also looked up as terms where a bare number could be a serial or lot); anything else is a term.
pub fn read_query(input: &str) -> Reading {
    let q = input.trim_matches([' ', '\r', '\n', '\t']);
    if q.is_empty() {
        return Reading::default();
    }
    let opts = ParseOptions::default();
    // A scanner without a symbology identifier sends the raw element string: AI digits first, FNC1 as GS.
    let scanned_raw = q.starts_with(|c: char| c.is_ascii_digit())
        && (q.contains('\u{1d}') || q.len() > 18)
        && !q.contains(['/', ':']);
    let parsed = id::parse(q, &opts)
        .ok()
        .filter(|p| p.kind != InputKind::Internal)
        .or_else(|| {
            scanned_raw
                .then(|| id::parse(&format!("^{q}"), &opts).ok())
                .flatten()
        });
    if let Some(p) = parsed {
        let mut r = Reading {
            read_as: match p.kind {
                InputKind::DigitalLink => "digital_link",
                InputKind::ElementString => "element_string",
                InputKind::EpcUrn | InputKind::EpcTagUri | InputKind::EpcHex => "epc_urn",
                InputKind::Gtin => "gtin",
                InputKind::Sscc => "sscc",
                InputKind::Internal => "uri",
            },
            ..Reading::default()
        };
        if let Some(dl) = &p.dl {
            let key = object_key(dl);
            if let (Some(lot), true) = (p.ais.get("10"), p.ais.get("21").is_some()) {
                r.claimed_lot = Some((key.clone(), lot.to_string()));
            }
            r.keys.push(key);
        }
        // A bare number may also be printed as a serial or a lot.
        if matches!(p.kind, InputKind::Gtin | InputKind::Sscc) {
            r.terms.push(q.to_string());
        }
        return r;
    }
    if crate::cbv::is_uri(q) {
        return Reading {
            keys: vec![object_key(q)],
            terms: vec![q.to_string()],
            read_as: "uri",
            ..Reading::default()
        };
    }
    let mut terms = vec![q.to_string()];
    let upper = q.to_uppercase();
    if upper != q {
        terms.push(upper);
    }
    Reading {
        terms,
        read_as: "text",
        ..Reading::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_keys_give_their_serial_lot_or_sscc() {
        assert_eq!(
            object_terms("https://id.gs1.org/01/06901234123456/21/4UPQLLFPVL"),
            [(
                "4UPQLLFPVL".to_string(),
                SERIAL,
                "https://id.gs1.org/01/06901234123456/21/4UPQLLFPVL".to_string()
            )]
        );
        assert_eq!(
            object_terms("https://id.gs1.org/01/06901234123456/10/L2026%2F1")[0].0,
            "L2026/1"
        );
        assert_eq!(
            object_terms("https://id.gs1.org/00/169012340000000075")[0].1,
            SSCC
        );
        assert!(object_terms("transformation:x").is_empty());
    }

    #[test]
    fn queries_are_read_as_what_is_printed() {
        let r = read_query("(01)06901234123456(21)4UPQLLFPVL");
        assert_eq!(r.read_as, "element_string");
        assert_eq!(
            r.keys,
            ["https://id.gs1.org/01/06901234123456/21/4UPQLLFPVL"]
        );
        // As a scanner sends it: no brackets, FNC1 as GS, no symbology identifier.
        let r = read_query("0106901234123456214UPQLLFPVL\u{1d}10L2026101212");
        assert_eq!(r.read_as, "element_string");
        assert_eq!(
            r.claimed_lot,
            Some((
                "https://id.gs1.org/01/06901234123456/21/4UPQLLFPVL".to_string(),
                "L2026101212".to_string()
            ))
        );
        let r = read_query(" 4upqllfpvl ");
        assert_eq!(
            (r.read_as, r.terms.as_slice()),
            (
                "text",
                &["4upqllfpvl".to_string(), "4UPQLLFPVL".to_string()][..]
            )
        );
        let r = read_query("169012340000000075");
        assert_eq!(r.read_as, "sscc");
        assert_eq!(r.keys, ["https://id.gs1.org/00/169012340000000075"]);
        let r = read_query("https://id.gs1.org/01/06901234123456/10/L2026100112/21/4UPQLLFPVL");
        assert_eq!(
            r.claimed_lot.map(|(_, l)| l),
            Some("L2026100112".to_string())
        );
        assert_eq!(read_query("WO-20261012-1-2").terms[0], "WO-20261012-1-2");
        assert_eq!(read_query("").read_as, "");
    }

    #[test]
    fn transactions_are_found_by_their_last_segment() {
        assert_eq!(
            tail("urn:suyuan:demo:wo:WO-20261012-1-2"),
            Some("WO-20261012-1-2")
        );
        assert_eq!(
            tail("http://transaction.acme.com/po/12345678"),
            Some("12345678")
        );
        assert_eq!(tail("plain"), None);
    }
}
