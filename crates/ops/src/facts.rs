//! What the operations projections read off an event: the product and lot of an identifier, the stock status
//! a disposition means, and Suyuan's extension fields (in any prefix spelling).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use suyuan_core::Event;
use suyuan_core::cbv::bare_term;

/// Suyuan's JSON-LD namespace.
pub const SY_NS: &str = "https://suyuan.dev/ns#";

/// The business step of a work order's lifecycle events.
pub const WORK_ORDER_STEP: &str = "https://suyuan.dev/voc/bizStep/work_order";

/// Where stock stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Usable.
    Available,
    /// Held or judged non-conformant: it may not be consumed, packed, shipped or sold.
    OnHold,
    /// Shipped, not yet received.
    InTransit,
    /// Returned (to a supplier, or by a customer).
    Returned,
}

impl Status {
    /// Its name, as the API and the screens use it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Available => "available",
            Status::OnHold => "on_hold",
            Status::InTransit => "in_transit",
            Status::Returned => "returned",
        }
    }

    /// The status named `s`.
    pub fn parse(s: &str) -> Option<Status> {
        [
            Status::Available,
            Status::OnHold,
            Status::InTransit,
            Status::Returned,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// What an event's disposition (with its business step) does to the stock it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Leaves the status as it was.
    Keep,
    /// Sets this status.
    Set(Status),
    /// Takes the stock out (consumed, sold, destroyed).
    Gone,
}

/// The effect of an event's disposition and business step on stock.
pub fn effect(e: &Event) -> Effect {
    let step = e.biz_step.as_deref().map(bare_term).unwrap_or("");
    let disp = e.disposition.as_deref().map(bare_term).unwrap_or("");
    if step == "holding" {
        return Effect::Set(Status::OnHold);
    }
    match disp {
        "" => Effect::Keep,
        "in_transit" => Effect::Set(Status::InTransit),
        "returned" => Effect::Set(Status::Returned),
        "non_conformant"
        | "non_sellable_other"
        | "damaged"
        | "expired"
        | "recalled"
        | "stolen"
        | "mismatch_instance"
        | "mismatch_class"
        | "mismatch_quantity"
        | "needs_replacement"
        | "partially_dispensed" => Effect::Set(Status::OnHold),
        "destroyed" | "disposed" | "retail_sold" | "consumed" | "dispensed" | "encoded"
        | "inactive" | "no_pedigree_match" | "unknown" => Effect::Gone,
        _ => Effect::Set(Status::Available),
    }
}

/// An extension field of Suyuan's namespace, whatever prefix the capturer gave it.
pub fn sy<'e>(e: &'e Event, name: &str) -> Option<&'e Value> {
    e.extensions.iter().find_map(|(k, v)| {
        let local = k.strip_prefix(SY_NS).or_else(|| k.strip_prefix("sy:"))?;
        (local == name).then_some(v)
    })
}

/// A text extension field of Suyuan's namespace.
pub fn sy_str<'e>(e: &'e Event, name: &str) -> Option<&'e str> {
    sy(e, name).and_then(Value::as_str)
}

/// The product and the lot of an identifier key: an LGTIN class (`…/01/{gtin}/10/{lot}`), an SGTIN
/// (`…/01/{gtin}/21/{serial}`: lot unknown here), or an internal lot (`urn:suyuan:{t}:lot:{product}.{lot}`).
pub fn product_and_lot(key: &str) -> Option<(String, Option<String>)> {
    if let Some(rest) = key.strip_prefix("https://id.gs1.org/01/") {
        let mut parts = rest.split('/');
        let gtin = parts.next()?.to_string();
        return match (parts.next(), parts.next()) {
            (Some("10"), Some(lot)) => Some((gtin, Some(lot.to_string()))),
            _ => Some((gtin, None)),
        };
    }
    if let Some(rest) = key.strip_prefix("urn:suyuan:") {
        let mut parts = rest.splitn(3, ':');
        let (_tenant, kind, code) = (parts.next()?, parts.next()?, parts.next()?);
        let (product, tail) = code.split_once('.')?;
        return match kind {
            "lot" => Some((product.to_string(), Some(tail.to_string()))),
            "unit" => Some((product.to_string(), None)),
            _ => None,
        };
    }
    None
}

/// Whether a key names a logistic unit (an SSCC, or an internal case or pallet).
pub fn is_container(key: &str) -> bool {
    key.starts_with("https://id.gs1.org/00/") || key.contains(":case:") || key.contains(":pallet:")
}

/// The lot an event's ILMD gives its outputs (`cbvmda:lotNumber` in any spelling).
pub fn ilmd(e: &Event, name: &str) -> Option<String> {
    e.ilmd.as_ref()?.iter().find_map(|(k, v)| {
        let local = k.rsplit([':', '#']).next().unwrap_or(k);
        (local == name)
            .then(|| v.as_str().map(str::to_string))
            .flatten()
    })
}

/// The work order an event belongs to: `sy:workOrder`, else a `prodorder` business transaction.
pub fn work_order(e: &Event) -> Option<String> {
    if let Some(w) = sy_str(e, "workOrder") {
        return Some(w.to_string());
    }
    e.biz_transaction_list
        .iter()
        .find(|t| t.kind.as_deref().map(bare_term) == Some("prodorder"))
        .map(|t| t.id.clone())
}

/// The date part (`YYYY-MM-DD`) of an expiry given as a date or a date-time.
pub fn date_part(s: &str) -> Option<String> {
    let d = s.get(..10)?;
    chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
        .ok()
        .map(|_| d.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_give_product_and_lot() {
        assert_eq!(
            product_and_lot("https://id.gs1.org/01/06901234123456/10/B1"),
            Some(("06901234123456".into(), Some("B1".into())))
        );
        assert_eq!(
            product_and_lot("https://id.gs1.org/01/06901234123456/21/7"),
            Some(("06901234123456".into(), None))
        );
        assert_eq!(
            product_and_lot("urn:suyuan:acme:lot:RAW-1.L7"),
            Some(("RAW-1".into(), Some("L7".into())))
        );
        assert_eq!(product_and_lot("urn:epc:id:sgln:1.2.3"), None);
        assert!(is_container("https://id.gs1.org/00/069012340000000017"));
    }
}
