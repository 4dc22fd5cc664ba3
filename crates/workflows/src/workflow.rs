//! A workflow's definition: its states (who each is assigned to, its SLA, whom it escalates to, whether
//! it ends the case) and its transitions (from which states to which, the guard over the case's data, the
//! form it requires). Definitions are data, so [`Workflow::problems`] names every wrong field.

use serde::{Deserialize, Serialize};
use suyuan_forms::{Problem, Text};
use suyuan_rules::Expression;

/// One state of a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Its key (`review`).
    pub key: String,
    /// What people see.
    pub label: Text,
    /// The role whose inbox the case is in while here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The user whose inbox it is in (before the role).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Hours the case may stay here before it is overdue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla_hours: Option<u32>,
    /// The role told when the SLA is broken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalate_to: Option<String>,
    /// The case ends here.
    #[serde(default, skip_serializing_if = "is_false")]
    pub end: bool,
}

/// A move from some states to another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    /// Its key (`approve`).
    pub key: String,
    /// What the button says.
    pub label: Text,
    /// The states it leaves.
    pub from: Vec<String>,
    /// The state it enters.
    pub to: String,
    /// It may be taken only when this expression over `case` (the case's data) holds.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub guard: String,
    /// The form whose submission it requires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<String>,
    /// A note is required (a rejection says why).
    #[serde(default, skip_serializing_if = "is_false")]
    pub note_required: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn yes() -> bool {
    true
}

/// A workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workflow {
    /// Its code.
    pub code: String,
    /// Its name.
    pub name: Text,
    /// What it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    /// Whether cases may start.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The state a case starts in.
    pub start: String,
    /// Its states.
    pub states: Vec<State>,
    /// Its transitions.
    pub transitions: Vec<Transition>,
}

fn problem(field: &str, en: impl Into<String>, zh: impl Into<String>) -> Problem {
    Problem::new(field, en, zh)
}

fn is_key(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 60
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Workflow {
    /// The state `key`.
    pub fn state(&self, key: &str) -> Option<&State> {
        self.states.iter().find(|s| s.key == key)
    }

    /// The transition `key`.
    pub fn transition(&self, key: &str) -> Option<&Transition> {
        self.transitions.iter().find(|t| t.key == key)
    }

    /// What is wrong with the definition, each with where and what was expected; empty when it is sound.
    pub fn problems(&self) -> Vec<Problem> {
        let mut out: Vec<Problem> = suyuan_forms::code_problem(&self.code).into_iter().collect();
        if self.name.zh.trim().is_empty() {
            out.push(problem("name/zh", "a name", "流程名称"));
        }
        let keys: Vec<&str> = self.states.iter().map(|s| s.key.as_str()).collect();
        for (i, s) in self.states.iter().enumerate() {
            if !is_key(&s.key) {
                out.push(problem(
                    &format!("states/{i}/key"),
                    "a key of letters, digits, '-' or '_'",
                    "由字母、数字、“-”或“_”组成的键",
                ));
            }
            if keys.iter().filter(|k| **k == s.key).count() > 1 {
                out.push(problem(
                    &format!("states/{i}/key"),
                    format!("a key used once ('{}' is used twice)", s.key),
                    format!("不重复的键（“{}”重复）", s.key),
                ));
            }
            if s.label.zh.trim().is_empty() {
                out.push(problem(
                    &format!("states/{i}/label/zh"),
                    "a label",
                    "状态名称",
                ));
            }
            if !s.end && s.role.is_none() && s.user.is_none() {
                out.push(problem(
                    &format!("states/{i}/role"),
                    "the role or user the case is assigned to here",
                    "此状态下负责处理的角色或用户",
                ));
            }
            if s.sla_hours.is_some() && s.escalate_to.is_none() {
                out.push(problem(
                    &format!("states/{i}/escalate_to"),
                    "the role told when the SLA is broken",
                    "超时后升级通知的角色",
                ));
            }
            let leaves = self.transitions.iter().any(|t| t.from.contains(&s.key));
            if s.end && leaves {
                out.push(problem(
                    &format!("states/{i}/end"),
                    format!("an end state no transition leaves ('{}' is left)", s.key),
                    format!("结束状态不能再有流转（“{}”有）", s.key),
                ));
            }
            if !s.end && !leaves {
                out.push(problem(
                    &format!("states/{i}"),
                    format!("a transition leaving '{}', or `end: true`", s.key),
                    format!("离开“{}”的流转，或设为结束状态", s.key),
                ));
            }
        }
        if !self.states.iter().any(|s| s.end) {
            out.push(problem(
                "states",
                "at least one end state",
                "至少一个结束状态",
            ));
        }
        if self.state(&self.start).is_none() {
            out.push(problem(
                "start",
                format!("one of the states ({})", keys.join(", ")),
                format!("某个状态（{}）", keys.join("、")),
            ));
        }
        let tkeys: Vec<&str> = self.transitions.iter().map(|t| t.key.as_str()).collect();
        for (i, t) in self.transitions.iter().enumerate() {
            if !is_key(&t.key) || tkeys.iter().filter(|k| **k == t.key).count() > 1 {
                out.push(problem(
                    &format!("transitions/{i}/key"),
                    "a key of letters, digits, '-' or '_', used once",
                    "由字母、数字、“-”或“_”组成且不重复的键",
                ));
            }
            if t.label.zh.trim().is_empty() {
                out.push(problem(
                    &format!("transitions/{i}/label/zh"),
                    "a label",
                    "按钮文字",
                ));
            }
            if t.from.is_empty() {
                out.push(problem(
                    &format!("transitions/{i}/from"),
                    "the states it leaves",
                    "流转的起始状态",
                ));
            }
            for (j, f) in t.from.iter().enumerate() {
                if self.state(f).is_none() {
                    out.push(problem(
                        &format!("transitions/{i}/from/{j}"),
                        format!("one of the states, not '{f}'"),
                        format!("已定义的状态，没有“{f}”"),
                    ));
                }
            }
            if self.state(&t.to).is_none() {
                out.push(problem(
                    &format!("transitions/{i}/to"),
                    format!("one of the states, not '{}'", t.to),
                    format!("已定义的状态，没有“{}”", t.to),
                ));
            }
            if !t.guard.trim().is_empty()
                && let Err(e) = Expression::compile(&t.guard, &["case"])
            {
                out.push(problem(
                    &format!("transitions/{i}/guard"),
                    format!("an expression over `case`: {e}"),
                    format!("基于 case 的表达式：{e}"),
                ));
            }
        }
        out
    }
}
