//! Issuing codes by coding rule: reserve a block of sequence numbers in one transaction, render the codes,
//! register them (a repeated identity refuses the batch, so no duplicate is ever issued) and record their
//! commissioning on the ledger. Also the check of a scanned code against its rule and the register.

use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use suyuan_core::coding::{CodingError, Context, RuleDef, Target, Template, Token};
use suyuan_store::{IssuedCode, StoreError, StoredDefinition, kinds};

use crate::{CaptureError, Engine};

/// Most codes one request may issue.
pub const MAX_ISSUE: u64 = 100_000;
/// Objects named by one commissioning event.
const EPCS_PER_EVENT: usize = 1_000;

/// The seven digits after each GTIN's indicator: a 7-digit company prefix (GS1 China's), the length our own
/// parties' and lots' identifiers are compared at (the rules do not record the prefix length).
pub fn seven_digit_prefixes(gtins: &[String]) -> Vec<String> {
    gtins
        .iter()
        .filter_map(|g| g.get(1..8).map(str::to_string))
        .collect()
}

/// Why a rule was not saved or codes were not issued; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum CodeError {
    /// No rule of that name (or version).
    #[error("no coding rule named {0}")]
    UnknownRule(String),
    /// A request field is wrong.
    #[error("{field}: {msg}")]
    Field {
        /// The field (`name`, `count`, `definition.template`, …).
        field: String,
        /// What is wrong.
        msg: String,
    },
    /// The template or context cannot produce codes.
    #[error(transparent)]
    Coding(#[from] CodingError),
    /// The store failed or refused a duplicate.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Recording the commissioning events failed.
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// The operating system's random source failed.
    #[error("the random source failed: {0}")]
    Random(String),
}

fn field(f: &str, msg: impl Into<String>) -> CodeError {
    CodeError::Field {
        field: f.into(),
        msg: msg.into(),
    }
}

/// What to issue.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueRequest {
    /// Rule name.
    pub rule: String,
    /// How many codes.
    pub count: u64,
    /// Values for the template's context tokens (plant, line, product, category, shift, gtin).
    #[serde(default)]
    pub context: Context,
    /// Where they are commissioned (an SGLN or own location URI), for the commissioning events.
    #[serde(default)]
    pub location: Option<String>,
    /// Issue as of this time instead of now (RFC 3339); decides the date parts and the sequence period.
    #[serde(default)]
    pub at: Option<String>,
    /// The lot the codes are printed for: recorded on their commissioning as the ILMD lot number, so the
    /// serials belong to that lot in every trace.
    #[serde(default)]
    pub lot: Option<String>,
    /// The label they are printed on, recorded on their commissioning (`sy:label`).
    #[serde(default)]
    pub label: Option<LabelRecord>,
}

/// What a label job printed with the codes: template, version and every variable that is the same on each
/// label of the job (lot, dates, plant, line, shift, product text…).
#[derive(Debug, Clone, Default, serde::Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct LabelRecord {
    /// Template name.
    pub template: String,
    /// Template version.
    pub version: u32,
    /// The job's variables, by name.
    #[serde(default)]
    pub vars: std::collections::BTreeMap<String, String>,
}

/// One issued code.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Code {
    /// The code as printed.
    pub code: String,
    /// The identity it stands for.
    pub uri: String,
}

/// The answer to an issue request.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedBatch {
    /// Rule name.
    pub rule: String,
    /// Rule version the codes were issued under.
    pub version: u32,
    /// The codes, in sequence order.
    pub codes: Vec<Code>,
    /// Ledger seqs of the commissioning events.
    pub events: Vec<u64>,
}

/// The verdict on a scanned code.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CodeCheck {
    /// `valid`, `revoked`, `unknown` (fits a rule but was never issued) or `invalid`.
    pub status: &'static str,
    /// The rule it belongs to or fits.
    pub rule: Option<String>,
    /// The rule version it was issued under.
    pub version: Option<u32>,
    /// Its identity, when issued.
    pub uri: Option<String>,
    /// What was found, in words.
    pub message: String,
}

fn is_rule_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 60
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Parses and checks a stored or submitted definition.
pub fn parse_rule(definition: &Value) -> Result<(RuleDef, Template), CodeError> {
    let def: RuleDef = serde_json::from_value(definition.clone())
        .map_err(|e| field("definition", e.to_string()))?;
    let t = def.check().map_err(|e| match e {
        CodingError::Context { field: f, msg } => field(&format!("definition.{f}"), msg),
        CodingError::Template(m) => field("definition.template", m),
        other => CodeError::Coding(other),
    })?;
    Ok((def, t))
}

/// The spellings under which a scanned value may be registered: as given, its object key, and for a Digital
/// Link or element string the identity alone (a printed label's link also carries the lot, dates, …).
fn identities(value: &str) -> Vec<String> {
    use suyuan_core::id;
    let mut out = vec![value.to_string()];
    let key = suyuan_core::projection::object_key(value);
    if key != value {
        out.push(key);
    }
    if let Ok(p) = id::parse(value, &id::ParseOptions::default()) {
        for ais in [
            &["01", "21"][..],
            &["01", "235"],
            &["01", "10"],
            &["00"],
            &["01"],
        ] {
            if !ais.iter().all(|a| p.ais.get(a).is_some()) {
                continue;
            }
            let mut only = id::AiData::default();
            let ok = ais
                .iter()
                .all(|a| p.ais.get(a).is_some_and(|v| only.push(a, v).is_ok()));
            if ok
                && let Ok(dl) =
                    id::dl::to_digital_link(&only, suyuan_core::gs1::CANONICAL_DL_DOMAIN)
            {
                out.push(dl);
                break;
            }
        }
    }
    out
}

impl Engine {
    /// Saves a rule definition as the rule's next version (unchanged definitions keep their version).
    pub async fn save_rule(
        &self,
        actor: &str,
        name: &str,
        definition: &Value,
    ) -> Result<StoredDefinition, CodeError> {
        if !is_rule_name(name) {
            return Err(field(
                "name",
                format!("1 to 60 letters, digits, - or _, got '{name}'"),
            ));
        }
        parse_rule(definition)?;
        let saved = self
            .save_definition(actor, kinds::CODING_RULE, name, definition)
            .await?;
        self.policies.invalidate();
        Ok(saved)
    }

    /// The latest version of a coding rule, parsed.
    async fn latest_rule(
        &self,
        rule: &str,
    ) -> Result<(suyuan_store::StoredDefinition, RuleDef, Template), CodeError> {
        let stored = self
            .store
            .definition(kinds::CODING_RULE, rule, None)
            .await?
            .ok_or_else(|| CodeError::UnknownRule(rule.to_string()))?;
        let (def, template) = parse_rule(&stored.definition)?;
        Ok((stored, def, template))
    }

    /// Registers codes a rule's template produced outside [`Engine::issue_codes`] (a printer's batch, the demo
    /// factory) as issued by rule `rule` at `issued_at`: the numbers they used in sequence `scope` are reserved
    /// first, so codes issued later continue after them; every code must form an identity under the rule and
    /// be new (all are registered, or none). Their commissioning events come from the caller's own capture.
    pub async fn register_issued(
        &self,
        rule: &str,
        scope: &str,
        codes: Vec<String>,
        issued_at: &str,
    ) -> Result<u64, CodeError> {
        let (stored, def, template) = self.latest_rule(rule).await?;
        let n = codes.len() as u64;
        let cap = template.capacity().unwrap_or(u64::MAX);
        self.store
            .reserve_sequence(rule, scope, n, cap)
            .await?
            .ok_or_else(|| {
                CodeError::Coding(CodingError::Exhausted(format!(
                    "rule {rule} has no room for {n} more numbers in '{scope}'"
                )))
            })?;
        let context = suyuan_core::coding::Context::default();
        let mut issued = Vec::with_capacity(codes.len());
        for code in codes {
            let uri = def.identity(&code, &context)?;
            issued.push(IssuedCode {
                code,
                uri,
                rule: stored.name.clone(),
                version: stored.version,
                issued_at: issued_at.to_string(),
                revoked: None,
            });
        }
        self.store.register_codes(issued).await?;
        Ok(n)
    }

    /// The GTIN-14s our coding rules issue: our own products (what tells our lots and parties from a
    /// supplier's or a customer's).
    pub async fn own_gtins(&self) -> Result<Vec<String>, StoreError> {
        Ok(self
            .store
            .definitions(suyuan_store::kinds::CODING_RULE)
            .await?
            .iter()
            .filter_map(|d| d.definition.get("gtin")?.as_str().map(str::to_string))
            .collect())
    }

    /// Records consumer scans of printed codes (where and when a code was scanned; not ledger events).
    pub async fn record_scans(
        &self,
        scans: Vec<suyuan_store::ScanRecord>,
    ) -> Result<Vec<u64>, StoreError> {
        self.store.record_scans(scans).await
    }

    /// Issues `req.count` codes of a rule and records their commissioning; all of them, or none.
    pub async fn issue_codes(&self, req: &IssueRequest) -> Result<IssuedBatch, CodeError> {
        if !(1..=MAX_ISSUE).contains(&req.count) {
            return Err(field(
                "count",
                format!("1 to {MAX_ISSUE} per request, got {}", req.count),
            ));
        }
        let (stored, def, template) = self.latest_rule(&req.rule).await?;
        let offset = suyuan_core::time::parse_offset(&def.utc_offset)
            .ok_or_else(|| field("definition.utc_offset", "invalid"))?;
        let at: DateTime<FixedOffset> = match &req.at {
            Some(s) => suyuan_core::time::parse_timestamp(s).map_err(|e| field("at", e))?,
            None => Utc::now().with_timezone(&offset),
        };
        let date = at.with_timezone(&offset).date_naive();
        let scope = template.scope(&req.context, date)?;
        // Fail before reserving when the identity cannot be formed (e.g. no GTIN for an SGTIN rule).
        if def.target != Target::Internal {
            let probe = template.render(&req.context, date, 0, &mut std::iter::repeat(0u8))?;
            def.identity(&probe, &req.context)?;
        }
        let has_seq = template
            .tokens
            .iter()
            .any(|t| matches!(t, Token::Seq { .. }));
        let rand_len: usize = template
            .tokens
            .iter()
            .map(|t| if let Token::Rand(n) = t { *n } else { 0 })
            .sum();
        let issued_at = suyuan_core::time::canonical_millis(&at);
        // Random-only rules may collide with an earlier code: the register refuses, and they draw again.
        let mut attempts = 0;
        let codes = loop {
            attempts += 1;
            let first = if has_seq {
                let cap = template.capacity().unwrap_or(u64::MAX);
                self.store
                    .reserve_sequence(&req.rule, &scope, req.count, cap)
                    .await?
                    .ok_or_else(|| {
                        CodeError::Coding(CodingError::Exhausted(format!(
                            "rule {} has {} numbers per period and {} more do not fit in '{scope}'; \
                             widen {{SEQ}} or choose a shorter reset period",
                            req.rule,
                            cap - 1,
                            req.count
                        )))
                    })?
            } else {
                1
            };
            let mut random = vec![0u8; rand_len * req.count as usize];
            if rand_len > 0 {
                getrandom::fill(&mut random).map_err(|e| CodeError::Random(e.to_string()))?;
            }
            let mut bytes = random.into_iter();
            let mut codes = Vec::with_capacity(req.count as usize);
            for i in 0..req.count {
                let code = template.render(&req.context, date, first + i, &mut bytes)?;
                let uri = def.identity(&code, &req.context)?;
                codes.push(IssuedCode {
                    code,
                    uri,
                    rule: stored.name.clone(),
                    version: stored.version,
                    issued_at: issued_at.clone(),
                    revoked: None,
                });
            }
            match self.store.register_codes(codes.clone()).await {
                Ok(()) => break codes,
                Err(StoreError::DuplicateCode { .. }) if !has_seq && attempts < 5 => continue,
                Err(e) => return Err(e.into()),
            }
        };
        let events = self.commission(&codes, &def, req, &issued_at).await?;
        Ok(IssuedBatch {
            rule: stored.name,
            version: stored.version,
            codes: codes
                .into_iter()
                .map(|c| Code {
                    code: c.code,
                    uri: c.uri,
                })
                .collect(),
            events,
        })
    }

    /// Codes of the shape a rule would issue (sequence from 1, random parts zero), issuing nothing: for
    /// previews and for checking a print job before any code is spent.
    pub async fn preview_codes(
        &self,
        rule: &str,
        context: &Context,
        n: u64,
    ) -> Result<(RuleDef, Vec<Code>), CodeError> {
        let (_, def, template) = self.latest_rule(rule).await?;
        let offset = suyuan_core::time::parse_offset(&def.utc_offset)
            .ok_or_else(|| field("definition.utc_offset", "invalid"))?;
        let date = Utc::now().with_timezone(&offset).date_naive();
        let mut codes = Vec::new();
        for i in 1..=n {
            let code = template.render(context, date, i, &mut std::iter::repeat(0u8))?;
            let uri = def.identity(&code, context)?;
            codes.push(Code { code, uri });
        }
        Ok((def, codes))
    }

    async fn commission(
        &self,
        codes: &[IssuedCode],
        def: &RuleDef,
        req: &IssueRequest,
        at: &str,
    ) -> Result<Vec<u64>, CodeError> {
        let location = req.location.as_deref();
        let offset = &at[at.len().saturating_sub(6)..];
        let offset = if offset.starts_with(['+', '-']) {
            offset
        } else {
            "+00:00"
        };
        let events: Vec<Value> = codes
            .chunks(EPCS_PER_EVENT)
            .map(|chunk| {
                let uris = chunk.iter().map(|c| c.uri.as_str());
                let mut e = json!({
                    "type": "ObjectEvent",
                    "eventTime": at,
                    "eventTimeZoneOffset": offset,
                    "action": "ADD",
                    "bizStep": "commissioning",
                    "disposition": "active",
                });
                if def.target == Target::Lgtin {
                    e["quantityList"] = uris.map(|u| json!({"epcClass": u})).collect();
                } else {
                    e["epcList"] = uris.collect();
                }
                if let Some(l) = location {
                    e["readPoint"] = json!({"id": l});
                    e["bizLocation"] = json!({"id": l});
                }
                if let Some(lot) = req
                    .lot
                    .as_deref()
                    .filter(|l| !l.is_empty() && def.target == Target::Sgtin)
                {
                    e["ilmd"] = json!({"cbvmda:lotNumber": lot});
                }
                if let Some(label) = &req.label {
                    let vars: serde_json::Map<String, Value> = label
                        .vars
                        .iter()
                        .map(|(k, v)| (format!("sy:{k}"), json!(v)))
                        .collect();
                    e["sy:label"] = json!({"sy:template": label.template,
                        "sy:version": label.version, "sy:vars": vars});
                }
                e
            })
            .collect();
        let doc = json!({
            "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
                {"sy": crate::accounts::SY_NS}],
            "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": at,
            "epcisBody": {"eventList": events}
        });
        let outcome = self.capture(&doc).await?;
        Ok(outcome.events.iter().map(|a| a.seq).collect())
    }

    /// Checks a scanned code (code text, Digital Link or URN): right structure and check character for its
    /// rule, issued, and not revoked.
    pub async fn check_code(&self, value: &str) -> Result<CodeCheck, CodeError> {
        let value = value.trim();
        let mut found = Vec::new();
        for candidate in identities(value) {
            found = self.store.issued(&candidate).await?;
            if !found.is_empty() {
                break;
            }
        }
        if let Some(c) = found.first() {
            let rule = self
                .store
                .definition(kinds::CODING_RULE, &c.rule, Some(c.version))
                .await?;
            if let Some(r) = rule {
                let (_, t) = parse_rule(&r.definition)?;
                if let Err(e) = t.validate(&c.code) {
                    return Ok(CodeCheck {
                        status: "invalid",
                        rule: Some(c.rule.clone()),
                        version: Some(c.version),
                        uri: Some(c.uri.clone()),
                        message: e.to_string(),
                    });
                }
            }
            let (status, message) = match &c.revoked {
                Some(why) => ("revoked", format!("revoked: {why}")),
                None if found.len() > 1 => (
                    "valid",
                    format!(
                        "issued {} times under different identities; scan the full code to tell them apart",
                        found.len()
                    ),
                ),
                None => ("valid", format!("issued {}", c.issued_at)),
            };
            return Ok(CodeCheck {
                status,
                rule: Some(c.rule.clone()),
                version: Some(c.version),
                uri: Some(c.uri.clone()),
                message,
            });
        }
        // Not issued: say whether it at least has the shape of one of the rules (a copied or guessed code).
        let mut nearest = None;
        for r in self.store.definitions(kinds::CODING_RULE).await? {
            if let Ok((_, t)) = parse_rule(&r.definition) {
                match t.validate(value) {
                    Ok(()) => {
                        return Ok(CodeCheck {
                            status: "unknown",
                            rule: Some(r.name.clone()),
                            version: Some(r.version),
                            uri: None,
                            message: format!(
                                "has the structure of rule {} but was never issued",
                                r.name
                            ),
                        });
                    }
                    Err(e @ CodingError::Mismatch(_))
                        if e.to_string().contains("check character") =>
                    {
                        nearest = Some((r.name.clone(), r.version, e.to_string()));
                    }
                    Err(_) => {}
                }
            }
        }
        Ok(match nearest {
            Some((rule, version, msg)) => CodeCheck {
                status: "invalid",
                rule: Some(rule),
                version: Some(version),
                uri: None,
                message: msg,
            },
            None => CodeCheck {
                status: "invalid",
                rule: None,
                version: None,
                uri: None,
                message: "matches no coding rule and was never issued".into(),
            },
        })
    }
}
