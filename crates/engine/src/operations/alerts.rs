//! Alerts — diversion (窜货), counterfeit, process parameters out of limits — as versioned definitions of
//! kind `alert`: raising, acknowledging (with an owner) and closing each store a version with the ledger
//! event naming it. Raising is idempotent (an alert's id comes from what it is about). The [`AlertWatch`]
//! reactor follows the consumer scans and raises diversion and counterfeit alerts.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use suyuan_ops::alerts::{AlertKind, CounterfeitLimits, counterfeit, diverted};
use suyuan_store::OutboxEntry;

use super::master::Records;
use super::{OpsError, now_text, problem};
use crate::Engine;
use crate::reactor::{Reactor, ReactorError};

/// The definition kind of alerts.
pub const ALERT: &str = "alert";

/// An alert.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Alert {
    /// Its id.
    pub id: String,
    /// What kind.
    pub kind: AlertKind,
    /// What it is about (a unit, a code, a reading).
    pub subject: String,
    /// The facts behind it.
    pub detail: Value,
    /// `open`, `acknowledged` or `closed`.
    pub state: String,
    /// Who looks after it.
    #[serde(default)]
    pub owner: Option<String>,
    /// When it was raised.
    pub raised_at: String,
    /// Each step: `{at, by, state, note}`.
    #[serde(default)]
    pub history: Vec<Value>,
}

impl Engine {
    /// Raises an alert unless one about the same subject exists; answers it.
    pub async fn raise_alert(
        &self,
        kind: AlertKind,
        subject: &str,
        detail: Value,
    ) -> Result<Alert, OpsError> {
        let id = format!(
            "{}-{}",
            kind.as_str(),
            &crate::audit::sha256_hex(subject)[..16]
        );
        if let Some(d) = self.store().definition(ALERT, &id, None).await?
            && let Ok(a) = serde_json::from_value::<Alert>(d.definition)
        {
            return Ok(a);
        }
        let at = now_text();
        let alert = Alert {
            id: id.clone(),
            kind,
            subject: subject.into(),
            detail,
            state: "open".into(),
            owner: None,
            raised_at: at.clone(),
            history: vec![json!({"at": at, "by": "suyuan", "state": "open"})],
        };
        let doc = serde_json::to_value(&alert).unwrap_or(Value::Null);
        self.save_definition("suyuan", ALERT, &id, &doc).await?;
        metrics::counter!("suyuan_alerts_raised_total", "kind" => kind.as_str()).increment(1);
        Ok(alert)
    }

    /// Alerts, newest first, optionally of one kind or state.
    pub async fn alerts(
        &self,
        kind: Option<&str>,
        state: Option<&str>,
    ) -> Result<Vec<Alert>, OpsError> {
        let mut list: Vec<Alert> = self
            .store()
            .definitions(ALERT)
            .await?
            .into_iter()
            .filter_map(|d| serde_json::from_value::<Alert>(d.definition).ok())
            .filter(|a| kind.is_none_or(|k| a.kind.as_str() == k))
            .filter(|a| state.is_none_or(|s| a.state == s))
            .collect();
        list.sort_by(|a, b| b.raised_at.cmp(&a.raised_at).then(a.id.cmp(&b.id)));
        Ok(list)
    }

    /// Moves an alert to `acknowledged` (taking an owner) or `closed`, with a note.
    pub async fn update_alert(
        &self,
        actor: &str,
        id: &str,
        state: &str,
        owner: Option<&str>,
        note: &str,
    ) -> Result<Alert, OpsError> {
        let d = self
            .store()
            .definition(ALERT, id, None)
            .await?
            .ok_or_else(|| OpsError::NotFound(format!("alert '{id}'")))?;
        let mut a: Alert = serde_json::from_value(d.definition)
            .map_err(|e| OpsError::NotFound(format!("alert '{id}' ({e})")))?;
        let allowed = matches!(
            (a.state.as_str(), state),
            ("open", "acknowledged" | "closed") | ("acknowledged", "closed" | "acknowledged")
        );
        if !allowed {
            return Err(problem(
                "state",
                format!(
                    "acknowledged or closed, from {} (the alert is {})",
                    "open", a.state
                ),
            ));
        }
        if state == "closed" && note.trim().is_empty() {
            return Err(problem("note", "why it is closed"));
        }
        a.state = state.into();
        if let Some(o) = owner.filter(|o| !o.trim().is_empty()) {
            a.owner = Some(o.trim().into());
        } else if a.owner.is_none() {
            a.owner = Some(actor.into());
        }
        a.history
            .push(json!({"at": now_text(), "by": actor, "state": state, "note": note.trim()}));
        self.save_definition(
            actor,
            ALERT,
            id,
            &serde_json::to_value(&a).unwrap_or(Value::Null),
        )
        .await?;
        Ok(a)
    }

    /// Saves the counterfeit thresholds (a new version of definition `alert_settings/default`, on the ledger).
    pub async fn set_counterfeit_limits(
        &self,
        actor: &str,
        limits: &CounterfeitLimits,
    ) -> Result<(), OpsError> {
        if limits.max_scans == 0 || limits.max_regions == 0 {
            return Err(problem(
                "max_scans",
                "1 or more scans and 1 or more regions",
            ));
        }
        let doc = serde_json::to_value(limits).unwrap_or(Value::Null);
        self.save_definition(actor, "alert_settings", "default", &doc)
            .await?;
        Ok(())
    }

    /// The counterfeit thresholds (definition `alert_settings/default`, else 5 scans and 1 region).
    pub async fn counterfeit_limits(&self) -> Result<CounterfeitLimits, OpsError> {
        Ok(self
            .store()
            .definition("alert_settings", "default", None)
            .await?
            .and_then(|d| serde_json::from_value(d.definition).ok())
            .unwrap_or_default())
    }
}

/// The customer whose GLN a party or location key names.
pub fn customer_at(records: &Records, key: &str) -> Option<String> {
    records.by_gln("customer", key).map(str::to_string)
}

/// The sales regions of the distributor a party (key) is or belongs to: the first customer up its parent
/// chain that has regions, and those regions.
pub fn regions_of(records: &Records, party: &str) -> Option<(String, Vec<String>)> {
    let code = customer_at(records, party)?;
    let mut at = Some(code.clone());
    let mut hops = 0;
    while let Some(c) = at {
        let regions: Vec<String> = records
            .texts("customer", &c, "regions")
            .into_iter()
            .map(str::to_string)
            .collect();
        if !regions.is_empty() {
            return Some((c, regions));
        }
        hops += 1;
        at = records
            .text("customer", &c, "parent")
            .map(str::to_string)
            .filter(|_| hops < 8);
    }
    Some((code, Vec::new()))
}

/// Follows the consumer scans: a code scanned outside its distributor's regions raises a diversion alert, a
/// code scanned too often or too widely a counterfeit alert.
pub struct AlertWatch;

const CURSOR: &str = "alert_watch";

#[async_trait]
impl Reactor for AlertWatch {
    fn name(&self) -> &'static str {
        "alert_watch"
    }

    fn tick(&self) -> Option<std::time::Duration> {
        Some(std::time::Duration::from_secs(5))
    }

    async fn react(&self, engine: &Engine, _entries: &[OutboxEntry]) -> Result<(), ReactorError> {
        engine
            .watch_scans()
            .await
            .map_err(|e| ReactorError(e.to_string()))?;
        engine
            .watch_sales()
            .await
            .map(|_| ())
            .map_err(|e| ReactorError(e.to_string()))
    }
}

impl Engine {
    /// Looks at the consumer scans recorded since the last look and raises the alerts they call for.
    pub async fn watch_scans(&self) -> Result<usize, OpsError> {
        let mut after = self
            .store()
            .account("reactor_state", CURSOR)
            .await?
            .and_then(|v| v.get("scan").and_then(Value::as_u64))
            .unwrap_or(0);
        let limits = self.counterfeit_limits().await?;
        let records = self.records().await?;
        self.ops.catch_up(self.store().as_ref()).await?;
        let mut raised = 0;
        loop {
            let page = self.store().scans_after(after, 1000).await?;
            let Some(last) = page.last().map(|s| s.0) else {
                break;
            };
            for (_, s) in &page {
                let (n, history) = self.store().scans(&s.object, 200).await?;
                let mut regions: Vec<&str> = history
                    .iter()
                    .filter_map(|h| h.province.as_deref())
                    .collect();
                regions.sort_unstable();
                regions.dedup();
                if counterfeit(n, regions.len(), &limits) {
                    self.raise_alert(
                        AlertKind::Counterfeit,
                        &s.object,
                        json!({"code": s.object, "scans": n, "regions": regions}),
                    )
                    .await?;
                    raised += 1;
                }
                let consignee = self.ops.read().inventory.consignee(&s.object);
                if let (Some(party), Some(province)) = (consignee, s.province.as_deref())
                    && let Some((distributor, allowed)) = regions_of(&records, &party)
                    && diverted(province, &allowed)
                {
                    self.raise_alert(AlertKind::Diversion, &s.object, json!({"code": s.object, "distributor": distributor,
                        "regions": allowed, "seen_in": province, "city": s.city, "at": s.scanned_at})).await?;
                    raised += 1;
                }
            }
            after = last;
            self.save_state("reactor_state", CURSOR, &json!({"scan": after}))
                .await?;
        }
        Ok(raised)
    }

    /// Looks at the retail sales and receipts recorded since the last look: a unit sold or received at a
    /// customer that belongs to another distributor than the one the plant shipped it to, outside that
    /// distributor's regions, is diverted.
    pub async fn watch_sales(&self) -> Result<usize, OpsError> {
        let state = self.store().account("reactor_state", SALES_CURSOR).await?;
        let mut after = state
            .and_then(|v| v.get("seq").and_then(Value::as_u64))
            .unwrap_or(0);
        let records = self.records().await?;
        self.ops.catch_up(self.store().as_ref()).await?;
        let mut raised = 0;
        loop {
            let page = self.store().events_after(after, 2000).await?;
            let Some(last) = page.last().map(|e| e.seq) else {
                break;
            };
            for stored in &page {
                let step = stored
                    .event
                    .get("bizStep")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                raised += self.watch_held(&stored.event, step).await?;
                // A sale, or a receipt at a customer's place (a sub-distributor or store taking goods in).
                if !step.ends_with("retail_selling") && !step.ends_with("receiving") {
                    continue;
                }
                let Some(at) = stored
                    .event
                    .pointer("/bizLocation/id")
                    .and_then(Value::as_str)
                else {
                    continue;
                };
                let place = suyuan_core::projection::object_key(at);
                let Some(seller) = customer_at(&records, &place) else {
                    continue;
                };
                let seller_root = distributor_of(&records, &seller);
                for epc in stored
                    .event
                    .get("epcList")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    let key = suyuan_core::projection::object_key(epc);
                    let consignee = self.ops.read().inventory.consignee(&key);
                    let Some(party) = consignee else { continue };
                    let Some((shipped_to, allowed)) = regions_of(&records, &party) else {
                        continue;
                    };
                    let seller_regions = records.texts("customer", &seller, "regions");
                    let inside = seller_regions
                        .iter()
                        .any(|r| suyuan_ops::alerts::in_regions(r, &allowed));
                    if distributor_of(&records, &shipped_to) != seller_root && !inside {
                        self.raise_alert(AlertKind::Diversion, &key, json!({"code": key, "distributor": shipped_to,
                            "regions": allowed, "seen_in": records.label("customer", &seller, false),
                            "at": stored.event.get("eventTime")})).await?;
                        raised += 1;
                    }
                }
            }
            after = last;
            self.save_state("reactor_state", SALES_CURSOR, &json!({"seq": after}))
                .await?;
        }
        Ok(raised)
    }
}

const SALES_CURSOR: &str = "alert_watch_sales";

impl Engine {
    /// A move of a held object that was stored anyway — a partner's fact, which the ledger never
    /// refuses — raises an alert naming the hold.
    async fn watch_held(&self, event: &Value, step: &str) -> Result<usize, OpsError> {
        let moves = [
            "shipping",
            "receiving",
            "retail_selling",
            "packing",
            "unpacking",
            "picking",
        ];
        if !moves.iter().any(|m| step.ends_with(m)) || event.get("sy:release").is_some() {
            return Ok(0);
        }
        let keys: Vec<String> = ["epcList", "childEPCs"]
            .iter()
            .filter_map(|f| event.get(*f).and_then(Value::as_array))
            .flatten()
            .filter_map(Value::as_str)
            .chain(event.get("parentID").and_then(Value::as_str))
            .map(suyuan_core::projection::object_key)
            .collect();
        let held: Vec<(String, String)> = {
            let ops = self.ops.read();
            keys.iter()
                .filter_map(|k| ops.quality.hold_names(k).map(|n| (k.clone(), n)))
                .collect()
        };
        let mut raised = 0;
        for (key, hold) in held {
            self.raise_alert(
                AlertKind::HeldMoved,
                &format!("{key}\u{1f}{step}"),
                json!({"object": key, "hold": hold, "step": suyuan_core::cbv::bare_term(step),
                    "at": event.get("eventTime")}),
            )
            .await?;
            raised += 1;
        }
        Ok(raised)
    }
}

/// The distributor a customer is or belongs to (the top of its parent chain).
fn distributor_of(records: &Records, code: &str) -> String {
    let mut at = code.to_string();
    for _ in 0..8 {
        match records.text("customer", &at, "parent") {
            Some(p) if !p.is_empty() => at = p.to_string(),
            _ => break,
        }
    }
    at
}
