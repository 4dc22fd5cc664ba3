//! A case: one run of a workflow over a subject (an NCR, a supplier, a lot), its data, the state it is
//! in since when and until when, and every step it took. [`Case::apply`] takes a transition only from a
//! state it leaves, when its guard holds over the case's data (with the move's data merged in), with the
//! form and note it requires; [`Case::overdue`] says when the state's SLA is broken.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use suyuan_forms::Problem;
use suyuan_rules::Expression;

use crate::workflow::{Transition, Workflow};

/// One step a case took.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// The state it left (none for the start).
    #[serde(default)]
    pub from: Option<String>,
    /// The state it entered.
    pub to: String,
    /// The transition taken (none for the start and an escalation).
    #[serde(default)]
    pub transition: Option<String>,
    /// Who took it (`sla` for an escalation).
    pub by: String,
    /// When (RFC 3339).
    pub at: String,
    /// The note given.
    #[serde(default)]
    pub note: String,
    /// The form submission it came with.
    #[serde(default)]
    pub submission: Option<String>,
}

/// A case of a workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// Its id (`WF-…`).
    pub id: String,
    /// The workflow's code.
    pub workflow: String,
    /// The workflow version it runs.
    pub version: u32,
    /// What it is about, in words.
    pub title: String,
    /// What it is about (an object key, an NCR id, a supplier).
    #[serde(default)]
    pub subject: Option<String>,
    /// The state it is in.
    pub state: String,
    /// Its data (what guards read as `case`).
    pub data: Value,
    /// Who started it.
    pub started_by: String,
    /// When.
    pub started_at: String,
    /// When it entered its state.
    pub entered_at: String,
    /// When its state's SLA runs out.
    #[serde(default)]
    pub due: Option<String>,
    /// Whether the current state's SLA breach was escalated.
    #[serde(default)]
    pub escalated: bool,
    /// Whether it reached an end state.
    #[serde(default)]
    pub ended: bool,
    /// Every step, oldest first.
    pub history: Vec<Step>,
}

/// A transition someone takes.
#[derive(Debug, Clone)]
pub struct Move<'a> {
    /// The transition's key.
    pub transition: &'a str,
    /// Who takes it.
    pub by: &'a str,
    /// When.
    pub at: DateTime<Utc>,
    /// Data merged into the case's.
    pub data: Map<String, Value>,
    /// The note.
    pub note: &'a str,
    /// The submission of the form the transition requires.
    pub submission: Option<String>,
}

fn text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn problem(field: &str, en: impl Into<String>, zh: impl Into<String>) -> Problem {
    Problem::new(field, en, zh)
}

fn due(wf: &Workflow, state: &str, at: DateTime<Utc>) -> Option<String> {
    wf.state(state)
        .and_then(|s| s.sla_hours)
        .map(|h| text(at + Duration::hours(i64::from(h))))
}

/// Whether `guard` holds over `data` (an empty guard always does); the error says why it cannot be
/// checked.
pub fn guard_holds(guard: &str, data: &Value) -> Result<bool, String> {
    if guard.trim().is_empty() {
        return Ok(true);
    }
    Expression::compile(guard, &["case"])
        .and_then(|e| e.check(&[("case", data)]))
        .map_err(|e| e.to_string())
}

impl Case {
    /// A case of `wf` (version `version`) started by `by` at `at`, in the workflow's start state.
    #[allow(clippy::too_many_arguments)]
    pub fn start(
        wf: &Workflow,
        version: u32,
        id: &str,
        title: &str,
        subject: Option<String>,
        data: Value,
        by: &str,
        at: DateTime<Utc>,
    ) -> Case {
        Case {
            id: id.to_string(),
            workflow: wf.code.clone(),
            version,
            title: title.to_string(),
            subject,
            state: wf.start.clone(),
            data: if data.is_object() {
                data
            } else {
                Value::Object(Map::new())
            },
            started_by: by.to_string(),
            started_at: text(at),
            entered_at: text(at),
            due: due(wf, &wf.start, at),
            escalated: false,
            ended: wf.state(&wf.start).is_some_and(|s| s.end),
            history: vec![Step {
                from: None,
                to: wf.start.clone(),
                transition: None,
                by: by.to_string(),
                at: text(at),
                note: String::new(),
                submission: None,
            }],
        }
    }

    /// The transitions leaving the case's state, each with whether its guard holds now (and why not).
    pub fn available<'w>(&self, wf: &'w Workflow) -> Vec<(&'w Transition, Result<bool, String>)> {
        wf.transitions
            .iter()
            .filter(|t| !self.ended && t.from.contains(&self.state))
            .map(|t| (t, guard_holds(&t.guard, &self.data)))
            .collect()
    }

    /// Takes a transition; nothing changes when it is refused.
    pub fn apply(&mut self, wf: &Workflow, m: Move<'_>) -> Result<(), Problem> {
        if self.ended {
            return Err(problem(
                "transition",
                format!("an open case ({} has ended)", self.id),
                format!("未结束的流程（{} 已结束）", self.id),
            ));
        }
        let Some(t) = wf.transition(m.transition) else {
            let names: Vec<&str> = wf.transitions.iter().map(|t| t.key.as_str()).collect();
            return Err(problem(
                "transition",
                format!("one of {}, not '{}'", names.join(", "), m.transition),
                format!("以下之一：{}，没有“{}”", names.join("、"), m.transition),
            ));
        };
        if !t.from.contains(&self.state) {
            return Err(problem(
                "transition",
                format!(
                    "a transition leaving '{}' ('{}' leaves {})",
                    self.state,
                    t.key,
                    t.from.join(", ")
                ),
                format!(
                    "从“{}”出发的流转（“{}”只能从 {} 出发）",
                    self.state,
                    t.key,
                    t.from.join("、")
                ),
            ));
        }
        if t.form.is_some() && m.submission.is_none() {
            return Err(problem(
                "submission",
                format!("a submission of form {}", t.form.as_deref().unwrap_or("")),
                format!("表单 {} 的提交记录", t.form.as_deref().unwrap_or("")),
            ));
        }
        if t.note_required && m.note.trim().is_empty() {
            return Err(problem("note", "a note saying why", "请填写说明"));
        }
        let mut data = self.data.as_object().cloned().unwrap_or_default();
        data.extend(m.data);
        let data = Value::Object(data);
        match guard_holds(&t.guard, &data) {
            Ok(true) => {}
            Ok(false) => {
                return Err(problem(
                    "guard",
                    format!("the case's data to meet `{}`", t.guard),
                    format!("流程数据须满足 `{}`", t.guard),
                ));
            }
            Err(why) => {
                return Err(problem(
                    "guard",
                    format!("data the guard `{}` can check: {why}", t.guard),
                    format!("条件 `{}` 可检查的数据：{why}", t.guard),
                ));
            }
        }
        self.history.push(Step {
            from: Some(self.state.clone()),
            to: t.to.clone(),
            transition: Some(t.key.clone()),
            by: m.by.to_string(),
            at: text(m.at),
            note: m.note.trim().to_string(),
            submission: m.submission,
        });
        self.data = data;
        self.state = t.to.clone();
        self.entered_at = text(m.at);
        self.due = due(wf, &t.to, m.at);
        self.escalated = false;
        self.ended = wf.state(&t.to).is_some_and(|s| s.end);
        Ok(())
    }

    /// Whether its state's SLA ran out before `now` and was not yet escalated.
    pub fn overdue(&self, now: DateTime<Utc>) -> bool {
        !self.ended
            && !self.escalated
            && self
                .due
                .as_deref()
                .and_then(|d| DateTime::parse_from_rfc3339(d).ok())
                .is_some_and(|d| d < now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::templates::templates;

    fn at(h: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-07T08:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
            + Duration::hours(h)
    }

    fn deviation() -> Workflow {
        templates()
            .into_iter()
            .find(|w| w.code == "deviation")
            .expect("the deviation template")
    }

    #[test]
    fn a_case_moves_by_its_guards_to_its_end() {
        let wf = deviation();
        assert_eq!(wf.problems(), Vec::new());
        let mut c = Case::start(
            &wf,
            1,
            "WF-1",
            "Seal gauge out",
            None,
            serde_json::json!({"risk": "high"}),
            "eng",
            at(0),
        );
        assert_eq!(c.state, "requested");
        assert!(c.due.is_some());
        let go = |t: &'static str, data: Value, note: &'static str| Move {
            transition: t,
            by: "qm",
            at: at(1),
            data: data.as_object().cloned().unwrap_or_default(),
            note,
            submission: None,
        };
        // Approving a high-risk deviation needs the plant manager first.
        let refused = c.apply(&wf, go("approve", serde_json::json!({}), "ok"));
        assert_eq!(refused.map_err(|p| p.field), Err("guard".to_string()));
        assert_eq!(c.state, "requested", "a refused move changes nothing");
        c.apply(&wf, go("escalate", serde_json::json!({}), "high risk"))
            .expect("to the plant manager");
        c.apply(
            &wf,
            go(
                "approve_high",
                serde_json::json!({"until": "2026-12-31"}),
                "until year end",
            ),
        )
        .expect("approved");
        assert!(c.ended);
        assert_eq!(c.history.len(), 3);
        assert_eq!(c.data["until"], "2026-12-31");
        let late = c.apply(&wf, go("reject", serde_json::json!({}), "x"));
        assert!(late.is_err());
    }

    #[test]
    fn a_state_past_its_sla_is_overdue_once() {
        let wf = deviation();
        let mut c = Case::start(
            &wf,
            1,
            "WF-2",
            "x",
            None,
            serde_json::json!({"risk": "low"}),
            "eng",
            at(0),
        );
        assert!(!c.overdue(at(1)));
        assert!(c.overdue(at(25)));
        c.escalated = true;
        assert!(!c.overdue(at(26)));
    }
}
