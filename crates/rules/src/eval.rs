//! A rule over one event: does the event match its pattern, does its condition hold, and if so which
//! actions are planned, with their texts filled in. An error in the condition is an answer, never a
//! silent skip: the engine shows it with the rule.

use serde_json::Value;

use crate::condition::{Bindings, Condition, ConditionError};
use crate::facts::Facts;
use crate::rule::{Action, Pattern, Problem, Rule, fill};

/// A rule ready to run: its definition and its compiled condition.
#[derive(Debug)]
pub struct Compiled {
    /// The definition.
    pub rule: Rule,
    condition: Condition,
    /// The pattern with its business steps and dispositions bare, as events give them.
    pattern: Pattern,
}

/// Compiles a rule: every problem of the definition, and the condition's, located.
pub fn compile(rule: &Rule) -> Result<Compiled, Vec<Problem>> {
    let mut problems = rule.problems();
    let condition = match Condition::compile(&rule.condition) {
        Ok(c) => Some(c),
        Err(e) => {
            problems.push(Problem {
                field: "if".into(),
                expected: e.to_string(),
            });
            None
        }
    };
    match (problems.is_empty(), condition) {
        (true, Some(condition)) => {
            let bare = |list: &[String]| -> Vec<String> {
                list.iter()
                    .map(|s| suyuan_core::cbv::bare_term(s).to_string())
                    .collect()
            };
            let mut pattern = rule.when.clone();
            pattern.biz_step = bare(&pattern.biz_step);
            pattern.disposition = bare(&pattern.disposition);
            Ok(Compiled {
                rule: rule.clone(),
                condition,
                pattern,
            })
        }
        _ => Err(problems),
    }
}

/// Fills `{event.a.b}` placeholders with the value at that path of the plain event (lists joined with
/// ", "); a path the event does not have becomes empty.
pub fn fill_event(template: &str, plain: &Value) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{event.") {
        out.push_str(&rest[..start]);
        let Some(len) = rest[start..].find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let path = &rest[start + "{event.".len()..start + len];
        let mut v = plain;
        for part in path.split('.') {
            v = v.get(part).unwrap_or(&Value::Null);
        }
        out.push_str(&match v {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            Value::Array(a) => a
                .iter()
                .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join(", "),
            other => other.to_string(),
        });
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    out
}

/// An action a rule plans for an event, its texts filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// Its place in the rule's list (part of its once-only key).
    pub index: usize,
    /// The action with placeholders filled.
    pub action: Action,
    /// The objects it is about (the event's lots, else its objects).
    pub objects: Vec<String>,
}

fn any_of(wanted: &[String], have: &[String]) -> bool {
    wanted.is_empty() || wanted.iter().any(|w| have.iter().any(|h| h == w))
}

/// Whether `facts` match `p` (business steps and dispositions as bare terms).
pub fn matches(p: &Pattern, facts: &Facts) -> bool {
    (p.event_type.is_empty() || p.event_type.contains(&facts.event_type))
        && (p.biz_step.is_empty() || p.biz_step.contains(&facts.biz_step))
        && (p.disposition.is_empty() || p.disposition.contains(&facts.disposition))
        && any_of(&p.product, &facts.products)
        && any_of(&p.location, &facts.locations)
        && (p.form.is_empty() || facts.form.as_ref().is_some_and(|f| p.form.contains(f)))
}

impl Compiled {
    /// Whether the pattern matches (cheap: no condition, no bindings).
    pub fn matches(&self, facts: &Facts) -> bool {
        self.rule.enabled && matches(&self.pattern, facts)
    }

    /// Whether its condition reads `object`.
    pub fn reads_object(&self) -> bool {
        self.condition.reads_object()
    }

    /// The actions planned for an event whose pattern matched, given its bindings (`None`: the condition
    /// does not hold).
    pub fn plan(
        &self,
        facts: &Facts,
        bindings: &Bindings,
    ) -> Result<Option<Vec<Planned>>, ConditionError> {
        if !self.condition.check(bindings)? {
            return Ok(None);
        }
        let objects = facts.lots();
        let first = objects.first().cloned().unwrap_or_default();
        let lot = first
            .rsplit(['/', '.'])
            .next()
            .unwrap_or(&first)
            .to_string();
        let values = [
            ("object", first.as_str()),
            ("lot", lot.as_str()),
            ("rule", self.rule.name.as_str()),
            ("step", facts.biz_step.as_str()),
        ];
        let f = |s: &str| fill_event(&fill(s, &values), &facts.plain);
        let planned = self
            .rule
            .then
            .iter()
            .enumerate()
            .map(|(index, a)| Planned {
                index,
                objects: objects.clone(),
                action: match a {
                    Action::Hold {
                        descendants,
                        reason,
                    } => Action::Hold {
                        descendants: *descendants,
                        reason: f(reason),
                    },
                    Action::Task {
                        title,
                        role,
                        user,
                        due_hours,
                    } => Action::Task {
                        title: f(title),
                        role: role.clone(),
                        user: user.clone(),
                        due_hours: *due_hours,
                    },
                    Action::Notify {
                        channel,
                        to,
                        message,
                    } => Action::Notify {
                        channel: channel.clone(),
                        to: to.clone(),
                        message: f(message),
                    },
                    Action::Alert { message } => Action::Alert {
                        message: f(message),
                    },
                    Action::StartWorkflow { workflow, title } => Action::StartWorkflow {
                        workflow: workflow.clone(),
                        title: f(title),
                    },
                    other => other.clone(),
                },
            })
            .collect();
        Ok(Some(planned))
    }

    /// Matches, binds and plans in one go (for one rule over one event; the engine binds once per event).
    pub fn evaluate(
        &self,
        event: &Value,
        object: &Value,
    ) -> Result<Option<Vec<Planned>>, ConditionError> {
        let facts = Facts::of(event);
        if !self.matches(&facts) {
            return Ok(None);
        }
        let b = Bindings::new(&facts.plain, object)?;
        self.plan(&facts, &b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn seed_rule() -> Rule {
        serde_json::from_value(json!({
            "code": "inspection-failed", "name": "检验不合格：隔离并通知",
            "when": {"biz_step": ["inspecting"], "disposition": ["non_conformant"]},
            "if": "event.inspection.stage == 'fqc'",
            "then": [
                {"do": "hold", "reason": "{rule}: {lot}"},
                {"do": "notify", "channel": "in_app", "to": "quality_manager", "message": "{lot} failed"},
                {"do": "task", "title": "Review {lot}", "role": "quality_manager"}
            ]
        }))
        .expect("rule")
    }

    fn inspection(stage: &str, disposition: &str) -> Value {
        json!({"eventID": "e1", "type": "ObjectEvent", "bizStep": "inspecting", "disposition": disposition,
            "quantityList": [{"epcClass": "urn:epc:class:lgtin:6901234.012345.L2026101212"}],
            "sy:inspection": {"sy:stage": stage}})
    }

    #[test]
    fn the_seed_rule_plans_hold_notify_and_task_for_a_failed_final_inspection() {
        let c = compile(&seed_rule()).expect("compiles");
        let planned = c
            .evaluate(&inspection("fqc", "non_conformant"), &json!({}))
            .expect("evaluates")
            .expect("fires");
        assert_eq!(planned.len(), 3);
        assert_eq!(
            planned[0].action,
            Action::Hold {
                descendants: true,
                reason: "检验不合格：隔离并通知: L2026101212".into()
            }
        );
        assert_eq!(
            planned[0].objects,
            vec!["https://id.gs1.org/01/06901234123456/10/L2026101212".to_string()]
        );
        // Not for a passed lot, nor (by the condition) for an incoming inspection.
        assert_eq!(
            c.evaluate(&inspection("fqc", "conformant"), &json!({})),
            Ok(None)
        );
        assert_eq!(
            c.evaluate(&inspection("iqc", "non_conformant"), &json!({})),
            Ok(None)
        );
    }

    #[test]
    fn a_broken_definition_is_refused_field_by_field() {
        let mut r = seed_rule();
        r.code = "bad code".into();
        r.condition = "event.inspection.stage ==".into();
        r.then.push(Action::SetDisposition {
            disposition: "on_hold".into(),
        });
        let fields: Vec<String> = compile(&r)
            .expect_err("refused")
            .into_iter()
            .map(|p| p.field)
            .collect();
        assert_eq!(fields, vec!["code", "then/3/disposition", "if"]);
    }

    #[test]
    fn a_condition_that_cannot_be_checked_is_an_error_not_a_skip() {
        let mut r = seed_rule();
        r.condition = "event.form.code == 'X'".into();
        let c = compile(&r).expect("compiles");
        assert!(
            c.evaluate(&inspection("fqc", "non_conformant"), &json!({}))
                .is_err()
        );
    }
}
