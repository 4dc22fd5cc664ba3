//! Running the rules: the shared reactor takes each outbox entry's events, binds each event once, checks
//! every enabled rule whose pattern matches, and carries out what fires. Events made by rules themselves
//! (`sy:actor` `rule:…`) set no rule off, so rules cannot chase each other. A condition that cannot be
//! checked counts as the rule's error, shown with it; a failed action fails the entry, which the outbox
//! retries (actions are done once however often that happens).

use async_trait::async_trait;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use suyuan_rules::condition::Bindings;
use suyuan_rules::{Compiled, Facts, Planned};
use suyuan_store::OutboxEntry;

use super::{STATUS_KIND, Status};
use crate::Engine;
use crate::operations::{OpsError, now_text};
use crate::reactor::{Reactor, ReactorError};

pub use super::outbound::{Outbound, WebhookAllow};

/// The reactor that runs the rules, with where they may send (the server's `--webhook-allow` and
/// `--smtp-url`).
#[derive(Default)]
pub struct Rules {
    out: Outbound,
}

impl Rules {
    /// Rules that may send through `out`.
    pub fn new(out: Outbound) -> Rules {
        Rules { out }
    }
}

#[async_trait]
impl Reactor for Rules {
    fn name(&self) -> &'static str {
        "rules"
    }
    async fn react(&self, engine: &Engine, entries: &[OutboxEntry]) -> Result<(), ReactorError> {
        let (Some(first), Some(last)) = (entries.first(), entries.last()) else {
            return Ok(());
        };
        engine
            .run_rules(first.first_seq, last.last_seq, &self.out)
            .await
            .map(|_| ())
            .map_err(|e| ReactorError(e.to_string()))
    }
}

/// Whether rules look at an event (not one a rule made).
fn from_outside(event: &Value) -> bool {
    !event
        .get("sy:actor")
        .and_then(Value::as_str)
        .is_some_and(|a| a.starts_with("rule:"))
}

impl Engine {
    /// The `object` a condition reads: the state of the event's first object, and whether it is held.
    async fn object_binding(&self, facts: &Facts) -> Result<Value, OpsError> {
        let Some(key) = facts.objects.first() else {
            return Ok(json!({}));
        };
        let held = self.quality(|q| q.holds.is_held(key)).await?;
        let state = self.store().object(key).await?;
        let mut v = serde_json::to_value(&state).unwrap_or(Value::Null);
        if !v.is_object() {
            v = json!({});
        }
        v["held"] = json!(held);
        v["key"] = json!(key);
        Ok(v)
    }

    /// The `object` bindings of `keys` (states and whether held), in one store lookup.
    async fn object_bindings(
        &self,
        keys: &[String],
    ) -> Result<std::collections::HashMap<String, Value>, OpsError> {
        let mut out = std::collections::HashMap::new();
        if keys.is_empty() {
            return Ok(out);
        }
        let mut unique: Vec<String> = keys.to_vec();
        unique.sort();
        unique.dedup();
        let held: Vec<bool> = self
            .quality(|q| unique.iter().map(|k| q.holds.is_held(k)).collect())
            .await?;
        let states = self.store().objects(&unique).await?;
        for (k, h) in unique.iter().zip(held) {
            let mut v = states
                .iter()
                .find(|s| &s.id == k)
                .and_then(|s| serde_json::to_value(s).ok())
                .filter(Value::is_object)
                .unwrap_or_else(|| json!({}));
            v["held"] = json!(h);
            v["key"] = json!(k);
            out.insert(k.clone(), v);
        }
        Ok(out)
    }

    /// What `rule` plans for `event` (`None`: it does not fire), or why its condition failed.
    pub(crate) async fn plan_one(
        &self,
        rule: &Compiled,
        event: &Value,
    ) -> Result<Option<Vec<Planned>>, String> {
        let facts = Facts::of(event);
        if !rule.matches(&facts) {
            return Ok(None);
        }
        let object = if rule.reads_object() {
            self.object_binding(&facts)
                .await
                .map_err(|e| e.to_string())?
        } else {
            json!({})
        };
        let b = Bindings::new(&facts.plain, &object).map_err(|e| e.to_string())?;
        rule.plan(&facts, &b).map_err(|e| e.to_string())
    }

    /// Runs the enabled rules over the events `first..=last`; answers how many actions were carried out.
    pub async fn run_rules(
        &self,
        first: u64,
        last: u64,
        out: &Outbound,
    ) -> Result<usize, OpsError> {
        let rules = self.active_rules().await?;
        if rules.is_empty() {
            return Ok(0);
        }
        let mut status: BTreeMap<String, Status> = BTreeMap::new();
        let mut done = 0;
        let mut after = first.saturating_sub(1);
        while after < last {
            let page = self
                .store()
                .events_after(after, (last - after).min(2_000) as u32)
                .await?;
            let Some(end) = page.last().map(|e| e.seq) else {
                break;
            };
            // The page's events with the rules their patterns match (cheap: no bindings yet).
            let mut work: Vec<(&suyuan_store::StoredEvent, Facts, Vec<&Compiled>)> = Vec::new();
            for stored in page.iter().filter(|e| e.seq <= last) {
                if !from_outside(&stored.event) {
                    continue;
                }
                let facts = Facts::of(&stored.event);
                let matching: Vec<&Compiled> = rules.iter().filter(|r| r.matches(&facts)).collect();
                if !matching.is_empty() {
                    work.push((stored, facts, matching));
                }
            }
            // The states of the objects conditions read, in one lookup for the page.
            let wanted: Vec<String> = work
                .iter()
                .filter(|(_, _, m)| m.iter().any(|r| r.reads_object()))
                .filter_map(|(_, f, _)| f.objects.first().cloned())
                .collect();
            let objects = self.object_bindings(&wanted).await?;
            for (stored, facts, matching) in work {
                // One binding of the event for every rule that looks at it.
                let object = facts
                    .objects
                    .first()
                    .and_then(|k| objects.get(k))
                    .cloned()
                    .unwrap_or_else(|| json!({}));
                let bindings = match Bindings::new(&facts.plain, &object) {
                    Ok(b) => b,
                    Err(e) => {
                        for r in &matching {
                            note_error(&mut status, &r.rule.code, &stored.event_id, &e.to_string());
                        }
                        continue;
                    }
                };
                for r in matching {
                    match r.plan(&facts, &bindings) {
                        Ok(Some(planned)) => {
                            for p in &planned {
                                match self.carry_out(&r.rule.code, &facts, p, out).await {
                                    Ok(()) => done += 1,
                                    // What the rule asks cannot be done (a refused webhook, a bad
                                    // object): the rule's error, shown with it; retrying would not help.
                                    Err(OpsError::Invalid(why)) => note_error(
                                        &mut status,
                                        &r.rule.code,
                                        &stored.event_id,
                                        &why.iter()
                                            .map(|p| format!("{}: {}", p.field, p.expected))
                                            .collect::<Vec<_>>()
                                            .join("; "),
                                    ),
                                    Err(e) => return Err(e),
                                }
                            }
                            let s = status.entry(r.rule.code.clone()).or_default();
                            s.fired += 1;
                            s.last_fired = Some(now_text());
                        }
                        Ok(None) => {}
                        Err(e) => {
                            note_error(&mut status, &r.rule.code, &stored.event_id, &e.to_string())
                        }
                    }
                }
            }
            after = end;
        }
        self.save_status(status).await?;
        Ok(done)
    }

    /// Adds a run's counts to each rule's stored status.
    async fn save_status(&self, run: BTreeMap<String, Status>) -> Result<(), OpsError> {
        for (code, s) in run {
            let mut stored: Status = self
                .store()
                .account(STATUS_KIND, &code)
                .await?
                .and_then(|v| serde_json::from_value(v).ok())
                .unwrap_or_default();
            stored.fired += s.fired;
            stored.errors += s.errors;
            if s.last_error.is_some() {
                stored.last_error = s.last_error;
            }
            if s.last_fired.is_some() {
                stored.last_fired = s.last_fired;
            }
            let doc = serde_json::to_value(&stored).unwrap_or_default();
            self.store()
                .put_account(STATUS_KIND, &code, &doc, false)
                .await?;
        }
        Ok(())
    }
}

fn note_error(status: &mut BTreeMap<String, Status>, rule: &str, event: &str, why: &str) {
    tracing::warn!(rule, event, why, "a rule's condition failed");
    let s = status.entry(rule.to_string()).or_default();
    s.errors += 1;
    s.last_error = Some((event.to_string(), why.to_string()));
}
