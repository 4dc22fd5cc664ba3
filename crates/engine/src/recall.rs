//! Recalls: from a suspect lot (or several, or what a work centre made in a time window) to every affected
//! unit, case and pallet grouped by where it is now, and the customers to contact with quantities. A recall
//! is a record (definition kind `recall`, one version per step) whose every step — start, each customer's
//! acknowledgement, close — is stored with its ledger event; a real recall also marks the affected lots
//! `recalled` with an EPCIS event, so the consumer page warns. A mock recall changes nothing but the record,
//! and keeps the time from its start to the complete list.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use suyuan_core::projection::object_key;
use suyuan_store::{StoreError, Write, kinds};
use suyuan_trace::{TraceOptions, node_kind};

use crate::audit::SY_NS;
use crate::{CaptureError, Engine};

/// What a recall starts from.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Scope {
    /// Suspect lots (or any objects), as given.
    #[serde(default)]
    pub lots: Vec<String>,
    /// A work centre: everything made there between `from` and `to`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    /// Start of the window (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// End of the window (RFC 3339, exclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// One customer or partner to contact.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Contact {
    /// The party's id.
    pub party: String,
    /// Its name.
    pub name: String,
    /// Affected units it holds or sold.
    pub units: u64,
    /// Affected cases and pallets it holds.
    #[serde(rename = "logisticUnits")]
    pub logistic_units: u64,
    /// Where those are now: the holders under this customer (its stores), by name.
    #[serde(default)]
    pub holders: Vec<String>,
    /// When it acknowledged (RFC 3339), and who recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged: Option<(String, String)>,
}

/// A recall record.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Recall {
    /// `R-20261012-1`.
    pub id: String,
    /// What it is about.
    pub title: String,
    /// Where it starts.
    pub scope: Scope,
    /// A drill: nothing is marked recalled.
    pub mock: bool,
    /// When it started (RFC 3339) and who started it.
    pub started: (String, String),
    /// Milliseconds from the start to the complete list.
    #[serde(rename = "listedInMs")]
    pub listed_in_ms: u64,
    /// Affected objects by where they are now (`plant`, `in_transit`, `distributor`, `store`, `sold`,
    /// `scanned`), counts of units and of logistic units.
    pub places: BTreeMap<String, (u64, u64)>,
    /// The lots found affected.
    pub lots: Vec<String>,
    /// Who to contact.
    pub contacts: Vec<Contact>,
    /// When it closed and who closed it, with a note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<(String, String, String)>,
}

/// One affected object in the list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AffectedItem {
    /// Object key.
    pub id: String,
    /// `instance`, `logistic_unit`, `lot`.
    pub kind: &'static str,
    /// Where it is now (see [`Recall::places`]).
    pub place: &'static str,
    /// Its holder (party id), if handed over.
    pub holder: Option<String>,
    /// Its location id, if known.
    pub location: Option<String>,
}

/// Why a recall step was refused.
#[derive(Debug, thiserror::Error)]
pub enum RecallError {
    /// A field is wrong; `field` names it.
    #[error("{field}: {message}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What was expected.
        message: String,
    },
    /// No such recall.
    #[error("no recall {0}")]
    NotFound(String),
    /// The store failed.
    #[error(transparent)]
    Capture(#[from] CaptureError),
}

impl From<StoreError> for RecallError {
    fn from(e: StoreError) -> Self {
        RecallError::Capture(CaptureError::Store(e))
    }
}

fn invalid(field: &'static str, message: impl Into<String>) -> RecallError {
    RecallError::Invalid {
        field,
        message: message.into(),
    }
}

/// Whether a party (URN or Digital Link) carries one of our company prefixes.
fn is_ours(own: &[String], party: &str) -> bool {
    let prefix = crate::dashboard::tally::company_prefix(party);
    // A Digital Link names a party by GLN (`…/417/6901234000009`): the prefix starts it.
    let digits = party.rsplit('/').next().unwrap_or(party);
    own.iter()
        .any(|p| prefix == p || digits.starts_with(p.as_str()))
}

fn now() -> String {
    suyuan_core::time::format_utc_millis(chrono::Utc::now())
}

impl Engine {
    /// Every recall, newest first.
    pub async fn recalls(&self) -> Result<Vec<Recall>, StoreError> {
        let mut out: Vec<Recall> = self
            .store()
            .definitions(kinds::RECALL)
            .await?
            .into_iter()
            .filter_map(|d| serde_json::from_value(d.definition).ok())
            .collect();
        out.sort_by(|a: &Recall, b| b.started.0.cmp(&a.started.0));
        Ok(out)
    }

    /// One recall.
    pub async fn recall(&self, id: &str) -> Result<Option<Recall>, StoreError> {
        Ok(self
            .store()
            .definition(kinds::RECALL, id, None)
            .await?
            .and_then(|d| serde_json::from_value(d.definition).ok()))
    }

    /// The objects a scope starts from: its lots, and what was made at its place in its window.
    async fn starts(&self, scope: &Scope) -> Result<Vec<String>, RecallError> {
        let mut starts: Vec<String> = scope.lots.iter().map(|l| object_key(l.trim())).collect();
        if let Some(place) = scope.place.as_ref().filter(|p| !p.is_empty()) {
            let parse = |v: &Option<String>, field| -> Result<i64, RecallError> {
                let s = v
                    .as_deref()
                    .ok_or_else(|| invalid(field, "a time (with a place, both ends are needed)"))?;
                suyuan_core::time::parse_timestamp(s)
                    .map(|t| t.timestamp_millis())
                    .map_err(|e| invalid(field, e.to_string()))
            };
            let (from, to) = (parse(&scope.from, "from")?, parse(&scope.to, "to")?);
            if to <= from {
                return Err(invalid("to", "after 'from'"));
            }
            let mut after = 0;
            loop {
                let page = self
                    .store()
                    .events_at_place(&object_key(place), after, 2000)
                    .await?;
                let Some(last) = page.last().map(|e| e.seq) else {
                    break;
                };
                after = last;
                for e in page {
                    let t = e
                        .event
                        .get("eventTime")
                        .and_then(Value::as_str)
                        .and_then(|t| suyuan_core::time::parse_timestamp(t).ok())
                        .map(|t| t.timestamp_millis())
                        .unwrap_or(i64::MIN);
                    if t < from || t >= to {
                        continue;
                    }
                    let made = |k: &str| {
                        e.event
                            .get(k)
                            .and_then(Value::as_array)
                            .cloned()
                            .unwrap_or_default()
                    };
                    for o in made("outputEPCList") {
                        starts.extend(o.as_str().map(object_key));
                    }
                    for q in made("outputQuantityList") {
                        starts.extend(q.get("epcClass").and_then(Value::as_str).map(object_key));
                    }
                }
            }
        }
        starts.sort();
        starts.dedup();
        if starts.is_empty() {
            return Err(invalid(
                "lots",
                "at least one lot, or a place with a time window where something was made",
            ));
        }
        Ok(starts)
    }

    /// Every affected object of a scope, with where it is now.
    pub async fn affected(&self, scope: &Scope) -> Result<Vec<AffectedItem>, RecallError> {
        let starts = self.starts(scope).await?;
        let own = crate::codes::seven_digit_prefixes(&self.own_gtins().await?);
        let names = self.names().await?;
        let tracer = self.trace_index().await?;
        let scanned = self
            .tally()
            .await?
            .read()
            .codes
            .keys()
            .cloned()
            .collect::<BTreeSet<_>>();
        let index = tracer.read();
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for start in &starts {
            let Some(trace) = index.forward(start, &TraceOptions::default()) else {
                return Err(invalid("lots", format!("no event names {start}")));
            };
            for n in &trace.nodes {
                // Containers the goods have left carry nothing affected any more.
                if n.until_ms.is_some() || !seen.insert(n.node) {
                    continue;
                }
                let id = index.name(n.node);
                let kind = node_kind(&id);
                if !matches!(kind, "instance" | "logistic_unit" | "lot") {
                    continue;
                }
                let disposition = index
                    .current_disposition(n.node)
                    .map(crate::dashboard::tally::bare_term);
                let (location, holder, _) = index.located(n.node);
                let place = if scanned.contains(&id) {
                    "scanned"
                } else if disposition == Some("retail_sold") {
                    "sold"
                } else if disposition == Some("in_transit") {
                    "in_transit"
                } else if holder.is_none_or(|h| is_ours(&own, h)) {
                    "plant"
                } else if location
                    .and_then(|l| names.of(l))
                    .is_some_and(|n| n.parent.is_some())
                {
                    "store"
                } else {
                    "distributor"
                };
                out.push(AffectedItem {
                    id,
                    kind,
                    place,
                    holder: holder.map(str::to_string),
                    location: location.map(str::to_string),
                });
            }
        }
        Ok(out)
    }

    /// Starts a recall (or a mock recall) and stores it with its list; a real one marks its lots recalled.
    pub async fn start_recall(
        &self,
        actor: &str,
        title: &str,
        scope: Scope,
        mock: bool,
    ) -> Result<Recall, RecallError> {
        let started = std::time::Instant::now();
        let at = now();
        if title.trim().is_empty() {
            return Err(invalid("title", "what the recall is about"));
        }
        let items = self.affected(&scope).await?;
        let names = self.names().await?;
        let mut places: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        // Our own parties hold nothing to recall from a customer.
        let own = crate::codes::seven_digit_prefixes(&self.own_gtins().await?);
        let ours = |party: &str| is_ours(&own, party);
        // Per customer (a holder's parent party in master data, else the holder): units, cases and pallets,
        // and the holders under it.
        let mut by_holder: BTreeMap<String, (u64, u64, BTreeSet<String>)> = BTreeMap::new();
        let mut lots = Vec::new();
        for i in &items {
            let e = places.entry(i.place.to_string()).or_default();
            match i.kind {
                "instance" => e.0 += 1,
                "logistic_unit" => e.1 += 1,
                _ => lots.push(i.id.clone()),
            }
            if let Some(h) = i.holder.as_ref().filter(|h| !ours(h)) {
                let customer = names
                    .of(h)
                    .and_then(|n| n.parent.clone())
                    .unwrap_or_else(|| h.clone());
                let c = by_holder.entry(customer).or_default();
                match i.kind {
                    "instance" => c.0 += 1,
                    "logistic_unit" => c.1 += 1,
                    _ => {}
                }
                c.2.insert(names.label(h));
            }
        }
        let contacts = by_holder
            .into_iter()
            .filter(|(_, (units, logistic_units, _))| units + logistic_units > 0)
            .map(|(party, (units, logistic_units, holders))| Contact {
                name: names.label(&party),
                party,
                units,
                logistic_units,
                holders: holders.into_iter().collect(),
                acknowledged: None,
            })
            .collect();
        let day = chrono::Utc::now().format("%Y%m%d");
        let n = self
            .store()
            .definitions(kinds::RECALL)
            .await?
            .iter()
            .filter(|d| d.name.contains(&format!("-{day}-")))
            .count();
        let recall = Recall {
            id: format!("R-{day}-{}", n + 1),
            title: title.trim().to_string(),
            scope,
            mock,
            started: (at, actor.to_string()),
            listed_in_ms: started.elapsed().as_millis() as u64,
            places,
            lots,
            contacts,
            closed: None,
        };
        self.save_recall(actor, "recall.started", &recall, 1)
            .await?;
        if !mock && !recall.lots.is_empty() {
            self.mark_recalled(actor, &recall).await?;
        }
        Ok(recall)
    }

    /// Records a customer's acknowledgement.
    pub async fn acknowledge_recall(
        &self,
        actor: &str,
        id: &str,
        party: &str,
    ) -> Result<Recall, RecallError> {
        let (mut r, version) = self.recall_version(id).await?;
        if r.closed.is_some() {
            return Err(invalid("party", "the recall is closed"));
        }
        let at = now();
        let c = r
            .contacts
            .iter_mut()
            .find(|c| c.party == party)
            .ok_or_else(|| invalid("party", format!("{party} is not a contact of {id}")))?;
        if c.acknowledged.is_none() {
            c.acknowledged = Some((at, actor.to_string()));
            self.save_recall(actor, "recall.acknowledged", &r, version + 1)
                .await?;
        }
        Ok(r)
    }

    /// Closes a recall with a note.
    pub async fn close_recall(
        &self,
        actor: &str,
        id: &str,
        note: &str,
    ) -> Result<Recall, RecallError> {
        let (mut r, version) = self.recall_version(id).await?;
        if r.closed.is_none() {
            r.closed = Some((now(), actor.to_string(), note.trim().to_string()));
            self.save_recall(actor, "recall.closed", &r, version + 1)
                .await?;
        }
        Ok(r)
    }

    async fn recall_version(&self, id: &str) -> Result<(Recall, u32), RecallError> {
        let d = self
            .store()
            .definition(kinds::RECALL, id, None)
            .await?
            .ok_or_else(|| RecallError::NotFound(id.to_string()))?;
        let r = serde_json::from_value(d.definition).map_err(|e| {
            RecallError::Capture(CaptureError::Store(StoreError::Backend(format!(
                "recall {id}: {e}"
            ))))
        })?;
        Ok((r, d.version))
    }

    async fn save_recall(
        &self,
        actor: &str,
        change: &str,
        r: &Recall,
        version: u32,
    ) -> Result<(), RecallError> {
        let definition = serde_json::to_value(r).map_err(|e| {
            RecallError::Capture(CaptureError::Store(StoreError::Backend(e.to_string())))
        })?;
        let details = json!({"recall": r.id, "version": version, "mock": r.mock, "title": r.title,
            "affectedLots": r.lots.len(), "contacts": r.contacts.len(),
            "sha256": crate::audit::sha256_hex(&suyuan_ledger::jcs::canonical_json(&definition))});
        let write = Write::Definition {
            kind: kinds::RECALL.into(),
            name: r.id.clone(),
            version,
            definition,
        };
        self.change(
            actor,
            change,
            &format!("recall:{}", r.id),
            details,
            vec![write],
        )
        .await?;
        Ok(())
    }

    /// The EPCIS event marking a real recall's lots `recalled` (bizStep `holding`), naming the recall.
    async fn mark_recalled(&self, actor: &str, r: &Recall) -> Result<(), RecallError> {
        let classes: Vec<Value> = r
            .lots
            .iter()
            .filter(|l| l.contains("/10/"))
            .map(|c| json!({"epcClass": c}))
            .collect();
        if classes.is_empty() {
            return Ok(());
        }
        let event = json!({
            "type": "ObjectEvent", "action": "OBSERVE", "eventTime": now(), "eventTimeZoneOffset": "+00:00",
            "bizStep": "holding", "disposition": "recalled", "quantityList": classes,
            "sy:recall": r.id, "sy:actor": actor,
        });
        let mut event = event;
        event["@context"] = json!(["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"sy": SY_NS}]);
        let mut events = suyuan_epcis::parse_capture(&event).map_err(CaptureError::from)?;
        if let Some(e) = events.pop() {
            self.capture_events(vec![e]).await?;
        }
        Ok(())
    }
}
