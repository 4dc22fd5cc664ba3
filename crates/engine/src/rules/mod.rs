//! Rules over the ledger: definitions (`rule`, versioned, with a built-in one a plant may edit), their
//! status (fired, errors with the last one — a rule that errors is shown, never skipped silently), the
//! reactor that runs them from the outbox ([`run`]), the actions it carries out once however often the
//! outbox retries ([`actions`]), and a dry run over past events.

pub mod actions;
pub mod outbound;
pub mod run;

use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use suyuan_rules::{Compiled, Rule, compile};

use crate::Engine;
use crate::operations::{OpsError, problem};

/// The definition kind of rules.
pub const RULE_KIND: &str = "event_rule";

/// The record kind of rule status.
pub const STATUS_KIND: &str = "event_rule.status";

/// The actor name rule actions carry (`rule:<code>`); events made by rules do not set rules off.
pub fn actor(code: &str) -> String {
    format!("rule:{code}")
}

/// The rules that come with Suyuan: when an inspection fails, hold the lot and everything made from it,
/// tell the quality manager and give them the review as a task. A plant edits or disables it like any
/// other rule.
pub fn builtin() -> Vec<Rule> {
    serde_json::from_value(json!([{
        "code": "inspection-failed",
        "name": "检验不合格：隔离批次及其制成品，通知质量经理并创建评审任务 / Failed inspection: hold the lot and everything made from it, notify quality, create a review task",
        "when": {"biz_step": ["inspecting"], "disposition": ["non_conformant"]},
        "if": "has(event.inspection.ncr)",
        "then": [
            {"do": "hold", "descendants": true, "reason": "{event.inspection.stage} {event.inspection.plan} 不合格 failed: {event.inspection.failing}"},
            {"do": "notify", "channel": "in_app", "to": "quality_manager", "message": "{lot} 检验不合格，已隔离，不合格报告 {event.inspection.ncr} / {lot} failed inspection, held; report {event.inspection.ncr}"},
            {"do": "task", "title": "评审不合格报告 {event.inspection.ncr}（{lot}）/ Review report {event.inspection.ncr} ({lot})", "role": "quality_manager", "due_hours": 24}
        ]
    }]))
    .unwrap_or_default()
}

/// A rule with its version, whether it is a built-in one, and its status.
#[derive(Debug, Clone, Serialize)]
pub struct RuleView {
    /// The definition.
    pub rule: Rule,
    /// Its version (0: the built-in one as shipped).
    pub version: u32,
    /// Whether Suyuan ships it.
    pub builtin: bool,
    /// How it has run.
    pub status: Status,
}

/// How a rule has run.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct Status {
    /// Events it fired on.
    pub fired: u64,
    /// Events its condition or an action failed on.
    pub errors: u64,
    /// The last error, with the event it was on.
    pub last_error: Option<(String, String)>,
    /// When it last fired.
    pub last_fired: Option<String>,
}

/// What a dry run found.
#[derive(Debug, Clone, Serialize)]
pub struct DryRun {
    /// Events looked at.
    pub events: u64,
    /// Events the rule would have fired on, with what it would have done (at most 500 listed).
    pub fired: Vec<Value>,
    /// How many it would have fired on in all.
    pub fired_total: u64,
    /// Events its condition failed on, with why (at most 100 listed).
    pub errors: Vec<Value>,
}

/// The located problems of a rule as an operations error.
pub(crate) fn invalid(list: Vec<suyuan_rules::Problem>) -> OpsError {
    crate::operations::problems(list.into_iter().map(|p| (p.field, p.expected)))
}

impl Engine {
    /// Every rule: the saved ones, and the built-in ones not saved over.
    pub async fn event_rules(&self) -> Result<Vec<RuleView>, OpsError> {
        let status: BTreeMap<String, Status> = self
            .store()
            .accounts(STATUS_KIND)
            .await?
            .into_iter()
            .filter_map(|(k, v)| Some((k, serde_json::from_value(v).ok()?)))
            .collect();
        Ok(self
            .rule_definitions()
            .await?
            .into_iter()
            .map(|(rule, version, builtin)| RuleView {
                status: status.get(&rule.code).cloned().unwrap_or_default(),
                rule,
                version,
                builtin,
            })
            .collect())
    }

    /// Every rule with its version and whether Suyuan ships it (its status not read), by code.
    async fn rule_definitions(&self) -> Result<Vec<(Rule, u32, bool)>, OpsError> {
        let shipped: Vec<String> = builtin().into_iter().map(|r| r.code).collect();
        let mut out: Vec<(Rule, u32, bool)> = self
            .store()
            .definitions(RULE_KIND)
            .await?
            .into_iter()
            .filter_map(|d| {
                let rule: Rule = serde_json::from_value(d.definition).ok()?;
                let shipped = shipped.contains(&rule.code);
                Some((rule, d.version, shipped))
            })
            .collect();
        for r in builtin() {
            if !out.iter().any(|(v, _, _)| v.code == r.code) {
                out.push((r, 0, true));
            }
        }
        out.sort_by(|a, b| a.0.code.cmp(&b.0.code));
        Ok(out)
    }

    /// The rule `code`.
    pub async fn event_rule(&self, code: &str) -> Result<RuleView, OpsError> {
        self.event_rules()
            .await?
            .into_iter()
            .find(|r| r.rule.code == code)
            .ok_or_else(|| OpsError::NotFound(format!("rule {code}")))
    }

    /// Saves a rule (a new version when it changed) after checking every field and its condition.
    pub async fn save_event_rule(&self, actor: &str, rule: &Rule) -> Result<RuleView, OpsError> {
        compile(rule).map_err(invalid)?;
        let doc = serde_json::to_value(rule).unwrap_or(Value::Null);
        self.save_definition(actor, RULE_KIND, &rule.code, &doc)
            .await?;
        self.event_rule(&rule.code).await
    }

    /// The enabled rules, compiled; a stored rule that no longer compiles (saving checks it, so only a
    /// change of the condition language can do that) is left out with a warning in the log.
    pub(crate) async fn active_rules(&self) -> Result<Vec<Compiled>, OpsError> {
        let mut out = Vec::new();
        // The reactor's path: definitions only, not the status shown on screens.
        for (rule, _, _) in self.rule_definitions().await? {
            if !rule.enabled {
                continue;
            }
            match compile(&rule) {
                Ok(c) => out.push(c),
                Err(p) => {
                    let why = p
                        .iter()
                        .map(|p| format!("{}: {}", p.field, p.expected))
                        .collect::<Vec<_>>()
                        .join("; ");
                    tracing::warn!(rule = %rule.code, %why, "a stored rule does not compile");
                }
            }
        }
        Ok(out)
    }

    /// What `rule` would have done over the events recorded from `from` to `to` (dates, both included),
    /// looking at the newest 200,000 events at most.
    pub async fn dry_run(&self, rule: &Rule, from: &str, to: &str) -> Result<DryRun, OpsError> {
        let compiled = compile(rule).map_err(invalid)?;
        for (k, d) in [("from", from), ("to", to)] {
            if chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_err() {
                return Err(problem(k, format!("a date as YYYY-MM-DD, got '{d}'")));
            }
        }
        let head = self
            .store()
            .recent_events(1)
            .await?
            .first()
            .map_or(0, |e| e.seq);
        let mut after = head.saturating_sub(200_000);
        let mut out = DryRun {
            events: 0,
            fired: Vec::new(),
            fired_total: 0,
            errors: Vec::new(),
        };
        loop {
            let page = self.store().events_after(after, 2_000).await?;
            let Some(last) = page.last().map(|e| e.seq) else {
                break;
            };
            for e in &page {
                let day = e
                    .event
                    .get("eventTime")
                    .and_then(Value::as_str)
                    .and_then(|t| t.get(..10))
                    .unwrap_or("");
                if day < from || day > to {
                    continue;
                }
                out.events += 1;
                match self.plan_one(&compiled, &e.event).await {
                    Ok(Some(planned)) => {
                        out.fired_total += 1;
                        if out.fired.len() < 500 {
                            out.fired.push(json!({
                                "seq": e.seq, "event_id": e.event_id,
                                "event_time": e.event.get("eventTime"),
                                "actions": planned.iter().map(|p| json!({"action": p.action, "objects": p.objects})).collect::<Vec<_>>(),
                            }));
                        }
                    }
                    Ok(None) => {}
                    Err(why) => {
                        if out.errors.len() < 100 {
                            out.errors
                                .push(json!({"seq": e.seq, "event_id": e.event_id, "error": why}));
                        }
                    }
                }
            }
            after = last;
        }
        Ok(out)
    }
}
