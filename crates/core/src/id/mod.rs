//! Identification: GS1 keys and Application Identifiers checked against the GS1 Barcode Syntax Dictionary,
//! element strings, Digital Link URIs, EPC URNs and RFID EPC binary encodings, and one entry point that
//! recognises any of them (`parse`). Pure: no I/O.

pub mod dl;
pub mod element;
pub mod epc;
pub mod lint;
pub mod rfid;
pub mod syntax;

pub use element::{AiData, parse_element_string};

/// Why an identifier was rejected; every message names the part and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The input's structure is wrong.
    #[error("{0}")]
    Syntax(String),
    /// An AI the syntax dictionary does not define.
    #[error("unknown AI ({0})")]
    UnknownAi(String),
    /// A value breaks its AI's format or a linter.
    #[error("{label} {value}: {msg}")]
    Value {
        /// Key name (`GTIN`) or `AI (nn)`.
        label: String,
        /// The offending value.
        value: String,
        /// What is wrong.
        msg: String,
    },
    /// A mandatory companion AI is missing.
    #[error("AI ({ai}) requires {needs}")]
    Requires {
        /// The AI with the requirement.
        ai: String,
        /// The alternatives, e.g. `(01) or (02)`.
        needs: String,
    },
    /// Two AIs that must not appear together.
    #[error("AI ({ai}) must not appear with AI ({other})")]
    Excludes {
        /// The AI with the exclusion.
        ai: String,
        /// The AI it excludes.
        other: String,
    },
    /// The same AI twice with different values.
    #[error("AI ({0}) appears twice with different values")]
    Conflict(String),
    /// A Digital Link rule is broken.
    #[error("Digital Link: {0}")]
    DigitalLink(String),
    /// An EPC URN problem.
    #[error("EPC URN: {0}")]
    Epc(String),
    /// An RFID binary encoding problem.
    #[error("EPC binary: {0}")]
    Rfid(String),
}

/// What kind of text `parse` recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// A GS1 Digital Link URI.
    DigitalLink,
    /// A bracketed or raw GS1 element string.
    ElementString,
    /// An EPC URN (pure identity, class or pattern).
    EpcUrn,
    /// An EPC tag URI (`urn:epc:tag:sgtin-96:…`).
    EpcTagUri,
    /// EPC binary as hex, as RFID readers report it.
    EpcHex,
    /// A bare GTIN-8/12/13/14 (a linear barcode's content).
    Gtin,
    /// A bare 18-digit SSCC.
    Sscc,
    /// A plant's own code: `urn:suyuan:{tenant}:{kind}:{code}`.
    Internal,
}

impl InputKind {
    /// A stable snake_case name for APIs.
    pub fn as_str(self) -> &'static str {
        match self {
            InputKind::DigitalLink => "digital_link",
            InputKind::ElementString => "element_string",
            InputKind::EpcUrn => "epc_urn",
            InputKind::EpcTagUri => "epc_tag_uri",
            InputKind::EpcHex => "epc_hex",
            InputKind::Gtin => "gtin",
            InputKind::Sscc => "sscc",
            InputKind::Internal => "internal",
        }
    }
}

/// Options for `parse`.
#[derive(Debug, Clone)]
pub struct ParseOptions {
    /// GS1 Company Prefix length used to form EPC URNs.
    pub gcp_length: usize,
    /// Domain (and path) of generated Digital Links.
    pub dl_base: String,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            gcp_length: epc::DEFAULT_GCP_LENGTH,
            dl_base: crate::gs1::CANONICAL_DL_DOMAIN.to_string(),
        }
    }
}

/// Everything `parse` found out about one identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// What the input was.
    pub kind: InputKind,
    /// Its AI data.
    pub ais: AiData,
    /// The bracketed element string.
    pub element_string: String,
    /// The Digital Link, when the data has a primary key.
    pub dl: Option<String>,
    /// The EPC URN, when the key has one.
    pub urn: Option<String>,
    /// The decoded tag, for EPC hex and tag URIs.
    pub tag: Option<rfid::Tag>,
}

impl Parsed {
    /// The JSON form served by `suyuan id parse` and `GET /api/v1/identifiers/parse`.
    pub fn to_json(&self) -> serde_json::Value {
        let ais: serde_json::Map<String, serde_json::Value> = self
            .ais
            .pairs
            .iter()
            .map(|(a, v)| (a.clone(), serde_json::Value::String(v.clone())))
            .collect();
        let mut out = serde_json::json!({
            "kind": self.kind.as_str(),
            "ais": ais,
            "element_string": self.element_string,
            "dl": self.dl,
            "urn": self.urn,
        });
        if let Some(t) = &self.tag {
            out["tag"] = serde_json::json!({
                "scheme": t.scheme.name(),
                "filter": t.filter,
                "tag_uri": t.tag_uri,
            });
        }
        out
    }
}

/// Recognises and checks any identifier form: Digital Link, element string, EPC URN, EPC tag URI, EPC hex,
/// bare GTIN or SSCC; the result carries every other form that exists for it.
pub fn parse(input: &str, opts: &ParseOptions) -> Result<Parsed, IdError> {
    let input = input.trim_matches([' ', '\r', '\n', '\t']);
    let mut tag = None;
    if let Some(rest) = input.strip_prefix("urn:suyuan:") {
        let parts: Vec<&str> = rest.splitn(3, ':').collect();
        let ok_part = |p: &str| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        return match parts.as_slice() {
            [tenant, kind, code] if ok_part(tenant) && ok_part(kind) && !code.is_empty() => {
                Ok(Parsed {
                    kind: InputKind::Internal,
                    ais: AiData::default(),
                    element_string: String::new(),
                    dl: None,
                    urn: Some(input.to_string()),
                    tag: None,
                })
            }
            _ => Err(IdError::Syntax(format!(
                "'{input}': an internal code is urn:suyuan:{{tenant}}:{{kind}}:{{code}}"
            ))),
        };
    }
    let (kind, ais) = if dl::looks_like_digital_link(input) {
        (InputKind::DigitalLink, dl::parse_digital_link(input)?.data)
    } else if element::looks_like_element_string(input) {
        (InputKind::ElementString, parse_element_string(input)?)
    } else if let Some(rest) = input.strip_prefix("urn:epc:tag:") {
        let (scheme, body) = rest.split_once(':').ok_or_else(|| {
            IdError::Epc(format!("{input}: expected urn:epc:tag:SCHEME:FILTER.…"))
        })?;
        let s = rfid::Scheme::from_name(scheme)
            .ok_or_else(|| IdError::Epc(format!("unknown tag scheme {scheme}")))?;
        let (filter, pure) = body
            .split_once('.')
            .ok_or_else(|| IdError::Epc(format!("{input}: expected a filter value")))?;
        let filter: u8 = filter
            .parse()
            .map_err(|_| IdError::Epc(format!("filter value must be 0 to 7, got {filter}")))?;
        let pure_uri = format!(
            "urn:epc:id:{}:{pure}",
            s.name().split('-').next().unwrap_or("")
        );
        let hex = rfid::encode(&pure_uri, s, filter)?;
        let decoded = rfid::decode(&hex)?;
        let ais = epc::parse_epc_urn(&decoded.pure_uri)?;
        tag = Some(decoded);
        (InputKind::EpcTagUri, ais)
    } else if epc::looks_like_epc_urn(input) {
        (InputKind::EpcUrn, epc::parse_epc_urn(input)?)
    } else if rfid::looks_like_epc_hex(input) && !input.bytes().all(|b| b.is_ascii_digit()) {
        let decoded = rfid::decode(input)?;
        let ais = epc::parse_epc_urn(&decoded.pure_uri)?;
        tag = Some(decoded);
        (InputKind::EpcHex, ais)
    } else if input.bytes().all(|b| b.is_ascii_digit()) && matches!(input.len(), 8 | 12 | 13 | 14) {
        let mut ais = AiData::default();
        ais.push("01", &format!("{input:0>14}"))
            .map_err(|e| match e {
                IdError::Value { label, msg, .. } => IdError::Value {
                    label,
                    value: input.to_string(),
                    msg,
                },
                e => e,
            })?;
        (InputKind::Gtin, ais)
    } else if input.bytes().all(|b| b.is_ascii_digit()) && input.len() == 18 {
        let mut ais = AiData::default();
        ais.push("00", input)?;
        (InputKind::Sscc, ais)
    } else {
        return Err(IdError::Syntax(format!(
            "'{input}' is not a GS1 identifier: expected a Digital Link (https://…/01/…), an element string \
             ((01)… or ]d2…), an EPC URN (urn:epc:…), EPC hex, or a GTIN-8/12/13/14 or SSCC"
        )));
    };
    let dl = dl::to_digital_link(&ais, &opts.dl_base).ok();
    let urn = match &tag {
        Some(t) => Some(t.pure_uri.clone()),
        None if kind == InputKind::EpcUrn => Some(input.to_string()),
        None => epc::to_epc_urn(&ais, opts.gcp_length).ok(),
    };
    Ok(Parsed {
        kind,
        element_string: ais.to_bracketed(),
        ais,
        dl,
        urn,
        tag,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_of_one_identity_parses_to_the_same_data() {
        let o = ParseOptions::default();
        let forms = [
            "https://id.gs1.org/01/00614141123452/21/400",
            "(01)00614141123452(21)400",
            "]d2010061414112345221400",
            "urn:epc:id:sgtin:0614141.012345.400",
            "urn:epc:tag:sgtin-96:3.0614141.012345.400",
        ];
        let first = parse(forms[0], &o).expect("dl");
        assert_eq!(
            first.urn.as_deref(),
            Some("urn:epc:id:sgtin:0614141.012345.400")
        );
        for f in forms {
            let p = parse(f, &o).expect(f);
            assert_eq!(p.ais, first.ais, "{f}");
            assert_eq!(p.dl, first.dl, "{f}");
        }
        let hex = rfid::encode(
            "urn:epc:id:sgtin:0614141.012345.400",
            rfid::Scheme::Sgtin96,
            3,
        )
        .expect("encode");
        let p = parse(&hex, &o).expect("hex");
        assert_eq!((p.kind, &p.ais), (InputKind::EpcHex, &first.ais));
    }

    #[test]
    fn a_bare_gtin_13_gets_the_message_the_issue_asks_for() {
        let e = parse("6901234567891", &ParseOptions::default()).expect_err("bad");
        assert_eq!(
            e.to_string(),
            "GTIN 6901234567891: check digit should be 2, got 1"
        );
        let p = parse("6901234567892", &ParseOptions::default()).expect("good");
        assert_eq!(
            p.dl.as_deref(),
            Some("https://id.gs1.org/01/06901234567892")
        );
        assert!(parse("hello", &ParseOptions::default()).is_err());
        let own = parse("urn:suyuan:acme:case:T01", &ParseOptions::default()).expect("internal");
        assert_eq!(
            (own.kind, own.urn.as_deref()),
            (InputKind::Internal, Some("urn:suyuan:acme:case:T01"))
        );
        assert!(parse("urn:suyuan:acme", &ParseOptions::default()).is_err());
    }
}
