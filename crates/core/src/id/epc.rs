//! EPC URNs (GS1 Tag Data Standard pure identities and classes) from AI data and back. The URN splits a
//! key at the end of its GS1 Company Prefix, whose length the key itself does not tell: callers pass it.

use super::IdError;
use super::element::AiData;
use crate::gs1;

/// The Company Prefix length used when none is configured: the most common allocation length.
pub const DEFAULT_GCP_LENGTH: usize = 7;

fn bad(msg: impl Into<String>) -> IdError {
    IdError::Epc(msg.into())
}

/// Escapes the characters that TDS requires escaped in URN serials.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("%22"),
            '%' => out.push_str("%25"),
            '&' => out.push_str("%26"),
            '/' => out.push_str("%2F"),
            '<' => out.push_str("%3C"),
            '>' => out.push_str("%3E"),
            '?' => out.push_str("%3F"),
            _ => out.push(c),
        }
    }
    out
}

/// Splits a key at the company prefix: `(prefix, reference)` from `digits[start..end]`.
fn split(digits: &str, start: usize, end: usize, gcp: usize) -> Result<(&str, &str), IdError> {
    if !(6..=12).contains(&gcp) {
        return Err(bad(format!(
            "GS1 Company Prefix length must be 6 to 12, got {gcp}"
        )));
    }
    if start + gcp > end || end > digits.len() {
        return Err(bad(format!(
            "a {gcp}-digit Company Prefix does not fit into {digits}"
        )));
    }
    Ok((&digits[start..start + gcp], &digits[start + gcp..end]))
}

/// The EPC URN of `data` (pure identity for instances, class for GTIN + lot, pattern for a bare GTIN).
pub fn to_epc_urn(data: &AiData, gcp: usize) -> Result<String, IdError> {
    let get = |ai: &str| data.get(ai);
    if let Some(gtin) = get("01") {
        let (p, r) = split(gtin, 1, 13, gcp)?;
        let item = format!("{}{r}", &gtin[..1]);
        return Ok(match (get("21"), get("10"), get("235")) {
            (Some(s), _, _) => format!("urn:epc:id:sgtin:{p}.{item}.{}", escape(s)),
            (None, _, Some(t)) => format!("urn:epc:id:upui:{p}.{item}.{}", escape(t)),
            (None, Some(l), None) => format!("urn:epc:class:lgtin:{p}.{item}.{}", escape(l)),
            (None, None, None) => format!("urn:epc:idpat:sgtin:{p}.{item}.*"),
        });
    }
    if let Some(sscc) = get("00") {
        let (p, r) = split(sscc, 1, 17, gcp)?;
        return Ok(format!("urn:epc:id:sscc:{p}.{}{r}", &sscc[..1]));
    }
    if let Some(gln) = get("414") {
        let (p, r) = split(gln, 0, 12, gcp)?;
        let ext = get("254").map_or_else(|| "0".to_string(), escape);
        return Ok(format!("urn:epc:id:sgln:{p}.{r}.{ext}"));
    }
    if let Some(gln) = get("417") {
        let (p, r) = split(gln, 0, 12, gcp)?;
        return Ok(format!("urn:epc:id:pgln:{p}.{r}"));
    }
    if let Some(grai) = get("8003") {
        let (p, r) = split(grai, 1, 13, gcp)?;
        return match grai.get(14..).filter(|s| !s.is_empty()) {
            Some(s) => Ok(format!("urn:epc:id:grai:{p}.{r}.{}", escape(s))),
            None => Ok(format!("urn:epc:idpat:grai:{p}.{r}.*")),
        };
    }
    if let Some(giai) = get("8004") {
        let (p, r) = (
            giai.get(..gcp)
                .ok_or_else(|| bad("GIAI shorter than its Company Prefix"))?,
            &giai[gcp.min(giai.len())..],
        );
        split(giai, 0, giai.len(), gcp)?;
        return Ok(format!("urn:epc:id:giai:{p}.{}", escape(r)));
    }
    for (ai, scheme) in [("8018", "gsrn"), ("8017", "gsrnp")] {
        if let Some(v) = get(ai) {
            let (p, r) = split(v, 0, 17, gcp)?;
            return Ok(format!("urn:epc:id:{scheme}:{p}.{r}"));
        }
    }
    for (ai, scheme) in [("253", "gdti"), ("255", "sgcn")] {
        if let Some(v) = get(ai) {
            let (p, r) = split(v, 0, 12, gcp)?;
            return match v.get(13..).filter(|s| !s.is_empty()) {
                Some(s) => Ok(format!("urn:epc:id:{scheme}:{p}.{r}.{}", escape(s))),
                None => Ok(format!("urn:epc:idpat:{scheme}:{p}.{r}.*")),
            };
        }
    }
    if let Some(itip) = get("8006") {
        let (p, r) = split(itip, 1, 13, gcp)?;
        let item = format!("{}{r}", &itip[..1]);
        let (piece, total) = (&itip[14..16], &itip[16..18]);
        return Ok(match get("21") {
            Some(s) => format!("urn:epc:id:itip:{p}.{item}.{piece}.{total}.{}", escape(s)),
            None => format!("urn:epc:idpat:itip:{p}.{item}.{piece}.{total}.*"),
        });
    }
    if let Some(cpid) = get("8010") {
        split(cpid, 0, cpid.len(), gcp)?;
        let (p, r) = cpid.split_at(gcp);
        return Ok(match get("8011") {
            Some(s) => format!("urn:epc:id:cpi:{p}.{}.{s}", escape(r)),
            None => format!("urn:epc:idpat:cpi:{p}.{}.*", escape(r)),
        });
    }
    if let Some(ginc) = get("401") {
        split(ginc, 0, ginc.len(), gcp)?;
        let (p, r) = ginc.split_at(gcp);
        return Ok(format!("urn:epc:id:ginc:{p}.{}", escape(r)));
    }
    if let Some(gsin) = get("402") {
        let (p, r) = split(gsin, 0, 16, gcp)?;
        return Ok(format!("urn:epc:id:gsin:{p}.{r}"));
    }
    Err(bad(
        "no GS1 key with an EPC URN form (GTIN, SSCC, GLN, GRAI, GIAI, GSRN, GDTI, GCN, ITIP, CPID, GINC, GSIN)",
    ))
}

/// Whether `input` is an EPC URN (pure identity, class, pattern or tag URI).
pub fn looks_like_epc_urn(input: &str) -> bool {
    input.starts_with("urn:epc:")
}

/// The AI data of an EPC pure identity, class or pattern URN (via its canonical Digital Link).
pub fn parse_epc_urn(urn: &str) -> Result<AiData, IdError> {
    let dl = gs1::epc_uri_to_digital_link(urn).ok_or_else(|| {
        bad(format!(
            "{urn} is not a well-formed EPC URN of a GS1 key (expected e.g. urn:epc:id:sgtin:0614141.812345.6789)"
        ))
    })?;
    Ok(super::dl::parse_digital_link(&dl)?.data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urns_from_ai_data_and_back() {
        let cases = [
            (
                "(01)00614141123452(21)6789",
                7,
                "urn:epc:id:sgtin:0614141.012345.6789",
            ),
            (
                "(01)00614141123452(10)L%/1",
                7,
                "urn:epc:class:lgtin:0614141.012345.L%25%2F1",
            ),
            (
                "(00)106141411234567897",
                7,
                "urn:epc:id:sscc:0614141.1123456789",
            ),
            (
                "(414)0614141123452(254)5678",
                7,
                "urn:epc:id:sgln:0614141.12345.5678",
            ),
            ("(414)0614141123452", 7, "urn:epc:id:sgln:0614141.12345.0"),
            (
                "(8003)00614141123452ABC",
                7,
                "urn:epc:id:grai:0614141.12345.ABC",
            ),
            ("(8004)0614141ASSET-9", 7, "urn:epc:id:giai:0614141.ASSET-9"),
            (
                "(8018)061414112345678902",
                7,
                "urn:epc:id:gsrn:0614141.1234567890",
            ),
        ];
        for (es, gcp, urn) in cases {
            let data = crate::id::element::parse_element_string(es).expect(es);
            assert_eq!(to_epc_urn(&data, gcp).expect(es), urn);
            assert_eq!(parse_epc_urn(urn).expect(urn).pairs, data.pairs, "{urn}");
        }
        let data = crate::id::element::parse_element_string("(01)00614141123452").expect("gtin");
        assert!(to_epc_urn(&data, 13).is_err());
    }
}
