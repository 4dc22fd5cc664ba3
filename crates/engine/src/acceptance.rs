//! Acceptance rules every capture passes besides the EPCIS checks: the plant's own codes (a serial of a GTIN
//! that a coding rule issues, which the register does not know, is accepted, warned about or refused as that
//! rule's `unknown_codes` policy says) and terms newer than our vocabulary lists (stored, with a warning).

use serde::Serialize;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use suyuan_core::coding::{Target, UnknownCodes};
use suyuan_core::{Event, FieldError};
use suyuan_store::{StoreError, kinds};

use crate::Engine;

/// How long the rules' policies are kept before they are read again (rules saved by this engine refresh
/// them at once).
const FRESH_FOR: Duration = Duration::from_secs(5);

/// Most refused serials named one by one in an answer.
const MAX_LISTED: usize = 100;

/// Something the capture should know about an event it stored.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CaptureWarning {
    /// Where, as a JSON pointer into an EPCIS document (`/epcisBody/eventList/{i}/epcList/{j}`).
    pub pointer: String,
    /// `unknown_own_code`, `unknown_measurement_type`.
    pub code: &'static str,
    /// What was found.
    pub detail: String,
}

/// Per GTIN (14 digits), the rule that issues its serials and that rule's policy (only rules that do not
/// simply accept).
type ByGtin = HashMap<String, (String, UnknownCodes)>;

/// The policies of the rules, cached for a few seconds.
#[derive(Default)]
pub(crate) struct Policies {
    cached: Mutex<Option<(Instant, ByGtin)>>,
}

impl Policies {
    /// Forgets the cached policies (a rule was saved).
    pub(crate) fn invalidate(&self) {
        if let Ok(mut c) = self.cached.lock() {
            *c = None;
        }
    }
}

/// The instance EPCs an event names, with the field each is in.
fn instances(e: &Event) -> impl Iterator<Item = (&'static str, usize, &String)> {
    [
        ("epcList", &e.epc_list),
        ("childEPCs", &e.child_epcs),
        ("inputEPCList", &e.input_epc_list),
        ("outputEPCList", &e.output_epc_list),
    ]
    .into_iter()
    .flat_map(|(field, list)| list.iter().enumerate().map(move |(j, v)| (field, j, v)))
}

impl Engine {
    async fn policies(&self) -> Result<ByGtin, StoreError> {
        if let Ok(c) = self.policies.cached.lock()
            && let Some((at, p)) = c.as_ref()
            && at.elapsed() < FRESH_FOR
        {
            return Ok(p.clone());
        }
        let mut out = HashMap::new();
        for r in self.store.definitions(kinds::CODING_RULE).await? {
            let Ok((def, _)) = crate::codes::parse_rule(&r.definition) else {
                continue;
            };
            if def.target != Target::Sgtin || def.unknown_codes == UnknownCodes::Accept {
                continue;
            }
            if let Some(gtin) = def.gtin.as_deref() {
                out.insert(format!("{gtin:0>14}"), (r.name.clone(), def.unknown_codes));
            }
        }
        if let Ok(mut c) = self.policies.cached.lock() {
            *c = Some((Instant::now(), out.clone()));
        }
        Ok(out)
    }

    /// Judges a capture by the rules' unknown-code policies, in full: every warning and every refused serial
    /// with the index of its event in `events` (pointers count events from 0 too).
    pub async fn judge_own_codes(&self, events: &[Event]) -> Result<OwnCodeVerdict, StoreError> {
        let mut verdict = OwnCodeVerdict::default();
        let policies = self.policies().await?;
        if policies.is_empty() {
            return Ok(verdict);
        }
        // (event, pointer, identity, rule, policy) of every serial under a policed GTIN.
        let mut named = Vec::new();
        for (i, e) in events.iter().enumerate() {
            if e.error_declaration.is_some() {
                continue;
            }
            for (field, j, epc) in instances(e) {
                let key = suyuan_core::projection::object_key(epc);
                let Some(gtin) = sgtin_gtin(&key) else {
                    continue;
                };
                if let Some((rule, policy)) = policies.get(gtin) {
                    named.push((
                        i,
                        format!("/epcisBody/eventList/{i}/{field}/{j}"),
                        key.clone(),
                        rule.clone(),
                        *policy,
                    ));
                }
            }
        }
        if named.is_empty() {
            return Ok(verdict);
        }
        let mut uris: Vec<String> = named.iter().map(|n| n.2.clone()).collect();
        uris.sort_unstable();
        uris.dedup();
        let known: std::collections::HashSet<String> =
            self.store.issued_uris(&uris).await?.into_iter().collect();
        for (i, pointer, uri, rule, policy) in named {
            if known.contains(&uri) {
                continue;
            }
            let detail = format!(
                "{uri} is one of the plant's own codes (rule {rule}) but was never issued: a copied, \
                 guessed or mistyped serial, or one printed outside Suyuan"
            );
            match policy {
                UnknownCodes::Refuse => verdict.refused.push((
                    i,
                    FieldError {
                        pointer,
                        message: format!("{detail}; rule {rule} refuses such codes"),
                    },
                )),
                _ => verdict.warnings.push(CaptureWarning {
                    pointer,
                    code: "unknown_own_code",
                    detail,
                }),
            }
        }
        Ok(verdict)
    }
}

/// Warnings as an answer lists them: unknown own codes raise an alert (log and metric), and at most a
/// hundred are named one by one, with a count of the rest.
pub fn listed_warnings(mut warnings: Vec<CaptureWarning>) -> Vec<CaptureWarning> {
    let own: Vec<&CaptureWarning> = warnings
        .iter()
        .filter(|w| w.code == "unknown_own_code")
        .collect();
    if let Some(first) = own.first() {
        tracing::warn!(count = own.len(), first = %first.detail, "alert: unknown own codes captured");
        metrics::counter!("suyuan_unknown_own_codes_total").increment(own.len() as u64);
    }
    let more = warnings.len().saturating_sub(MAX_LISTED);
    warnings.truncate(MAX_LISTED);
    if more > 0 {
        warnings.push(CaptureWarning {
            pointer: String::new(),
            code: "more",
            detail: format!("… and {more} more warnings"),
        });
    }
    warnings
}

/// What the unknown-code policies say of a capture, in full.
#[derive(Debug, Clone, Default)]
pub struct OwnCodeVerdict {
    /// Serials stored with a warning.
    pub warnings: Vec<CaptureWarning>,
    /// Serials refused, each with the index of its event.
    pub refused: Vec<(usize, FieldError)>,
}

/// Refusals as an answer names them: a whole copied batch would list thousands, so the first hundred and a
/// count of the rest.
pub fn capped_errors(mut errors: Vec<FieldError>) -> Vec<FieldError> {
    let more = errors.len().saturating_sub(MAX_LISTED);
    errors.truncate(MAX_LISTED);
    if more > 0 {
        errors.push(FieldError {
            pointer: String::new(),
            message: format!("… and {more} more serials that were never issued"),
        });
    }
    errors
}

/// Warnings for sensor measurement types in GS1's namespace that this release's list does not hold (GS1 adds
/// types with each CBV release; a misspelt one reads as unknown too).
pub fn vocabulary_warnings(events: &[Event]) -> Vec<CaptureWarning> {
    use suyuan_core::cbv::Vocab;
    let mut out = Vec::new();
    for (i, e) in events.iter().enumerate() {
        for (k, el) in e.sensor_element_list.iter().enumerate() {
            for (j, r) in el.reports.iter().enumerate() {
                if let Some(t) = r.get("type").and_then(|v| v.as_str())
                    && !Vocab::MeasurementType.is_known(t)
                {
                    out.push(CaptureWarning {
                        pointer: format!(
                            "/epcisBody/eventList/{i}/sensorElementList/{k}/sensorReport/{j}/type"
                        ),
                        code: "unknown_measurement_type",
                        detail: format!(
                            "gs1:{t} is not in this release's list of GS1 measurement types: stored as given; \
                             check the spelling if it is not a newer type"
                        ),
                    });
                }
            }
        }
    }
    out
}

/// The GTIN of an SGTIN key (`https://id.gs1.org/01/{gtin}/21/{serial}`).
fn sgtin_gtin(key: &str) -> Option<&str> {
    let rest = key.strip_prefix("https://id.gs1.org/01/")?;
    let (gtin, rest) = rest.split_once('/')?;
    rest.starts_with("21/").then_some(gtin)
}
