//! The condition language behind our own types: a rule's `if` is compiled once into a [`Condition`] and
//! checked against the [`Bindings`] of each event (`event`, `object`). CEL (the `cel` crate) does the
//! work today; it changes its API between minor versions, so nothing outside this module names it.

use serde_json::Value;

/// Why a condition cannot be compiled or checked.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConditionError {
    /// The expression does not parse.
    #[error("the condition does not parse: {0}")]
    Syntax(String),
    /// It names a variable other than `event` and `object`.
    #[error("the condition may name only `event` and `object`, not `{0}`")]
    Variable(String),
    /// Checking it failed (a missing field, a wrong type).
    #[error("{0}")]
    Eval(String),
    /// It answered something other than true or false.
    #[error("the condition must answer true or false, it answered {0}")]
    NotBool(String),
    /// An expression names a variable it may not read.
    #[error("the expression may name only {allowed}, not `{name}`")]
    NotAllowed {
        /// The variable named.
        name: String,
        /// The ones it may name.
        allowed: String,
    },
}

/// What a condition may read: the event and the state of its (first) object.
pub struct Bindings {
    context: cel::Context<'static, 'static>,
}

impl Bindings {
    /// The bindings of one event (as the rule sees it, see [`crate::facts::plain`]) and its object.
    pub fn new(event: &Value, object: &Value) -> Result<Bindings, ConditionError> {
        let mut context = cel::Context::default();
        context
            .add_variable("event", event.clone())
            .map_err(|e| ConditionError::Eval(e.to_string()))?;
        context
            .add_variable("object", object.clone())
            .map_err(|e| ConditionError::Eval(e.to_string()))?;
        Ok(Bindings { context })
    }
}

/// A compiled condition.
pub struct Condition {
    program: Option<cel::Program>,
    reads_object: bool,
}

impl std::fmt::Debug for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.program.is_some() {
            "Condition(expression)"
        } else {
            "Condition(always)"
        })
    }
}

impl Condition {
    /// Compiles `source` (empty: a condition that always holds).
    pub fn compile(source: &str) -> Result<Condition, ConditionError> {
        if source.trim().is_empty() {
            return Ok(Condition {
                program: None,
                reads_object: false,
            });
        }
        let program = cel::Program::compile(source)
            .map_err(|e| ConditionError::Syntax(e.to_string().trim().to_string()))?;
        let references = program.references();
        let names = references.variables();
        if let Some(v) = names.iter().find(|v| !matches!(**v, "event" | "object")) {
            return Err(ConditionError::Variable(v.to_string()));
        }
        Ok(Condition {
            reads_object: names.contains(&"object"),
            program: Some(program),
        })
    }

    /// Whether it reads `object` (which costs a lookup of the object's state).
    pub fn reads_object(&self) -> bool {
        self.reads_object
    }

    /// Whether the condition holds for `b`.
    pub fn check(&self, b: &Bindings) -> Result<bool, ConditionError> {
        let Some(p) = &self.program else {
            return Ok(true);
        };
        match p.execute(&b.context) {
            Ok(cel::Value::Bool(x)) => Ok(x),
            Ok(other) => Err(ConditionError::NotBool(format!("{other:?}"))),
            Err(e) => Err(ConditionError::Eval(e.to_string())),
        }
    }
}

/// An expression over named values — a form's fields (`form.weight * 2`), a workflow case's data
/// (`case.cost > 1000`) — compiled once and evaluated to a JSON value or checked as true or false.
pub struct Expression {
    program: cel::Program,
}

impl std::fmt::Debug for Expression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Expression")
    }
}

impl Expression {
    /// Compiles `source`, which may name only the variables in `allowed`.
    pub fn compile(source: &str, allowed: &[&str]) -> Result<Expression, ConditionError> {
        let program = cel::Program::compile(source.trim())
            .map_err(|e| ConditionError::Syntax(e.to_string().trim().to_string()))?;
        let references = program.references();
        if let Some(v) = references
            .variables()
            .iter()
            .find(|v| !allowed.contains(*v))
        {
            return Err(ConditionError::NotAllowed {
                name: v.to_string(),
                allowed: allowed
                    .iter()
                    .map(|a| format!("`{a}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        Ok(Expression { program })
    }

    /// Its value with `vars` bound.
    pub fn eval(&self, vars: &[(&str, &Value)]) -> Result<Value, ConditionError> {
        let mut context = cel::Context::default();
        for (name, value) in vars {
            context
                .add_variable(*name, (*value).clone())
                .map_err(|e| ConditionError::Eval(e.to_string()))?;
        }
        let v = self
            .program
            .execute(&context)
            .map_err(|e| ConditionError::Eval(e.to_string()))?;
        v.json().map_err(|e| ConditionError::Eval(e.to_string()))
    }

    /// Whether it holds with `vars` bound.
    pub fn check(&self, vars: &[(&str, &Value)]) -> Result<bool, ConditionError> {
        match self.eval(vars)? {
            Value::Bool(b) => Ok(b),
            other => Err(ConditionError::NotBool(other.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn conditions_read_the_event_and_the_object() {
        let b = Bindings::new(
            &json!({"bizStep": "inspecting", "inspection": {"stage": "fqc", "defects": {"critical": 1}}}),
            &json!({"held": false}),
        )
        .expect("bindings");
        let c = Condition::compile(
            "event.inspection.stage in ['fqc', 'ipqc'] && event.inspection.defects.critical > 0 && !object.held",
        )
        .expect("compiles");
        assert_eq!(c.check(&b), Ok(true));
        assert_eq!(Condition::compile("").expect("empty").check(&b), Ok(true));
    }

    #[test]
    fn bad_conditions_say_why() {
        assert!(matches!(
            Condition::compile("event.bizStep == "),
            Err(ConditionError::Syntax(_))
        ));
        assert_eq!(
            Condition::compile("lot == 1").err(),
            Some(ConditionError::Variable("lot".into()))
        );
        let b = Bindings::new(&json!({"bizStep": "x"}), &json!({})).expect("bindings");
        let missing = Condition::compile("event.inspection.stage == 'fqc'").expect("compiles");
        assert!(matches!(missing.check(&b), Err(ConditionError::Eval(_))));
        let number = Condition::compile("1 + 1").expect("compiles");
        assert!(matches!(number.check(&b), Err(ConditionError::NotBool(_))));
    }

    #[test]
    fn expressions_compute_over_their_variables() {
        let e = Expression::compile("form.gross - form.tare", &["form"]).expect("compiles");
        let form = json!({"gross": 12.5, "tare": 0.5});
        assert_eq!(e.eval(&[("form", &form)]), Ok(json!(12.0)));
        let g = Expression::compile("case.cost > 1000.0", &["case"]).expect("compiles");
        assert_eq!(g.check(&[("case", &json!({"cost": 1500.0}))]), Ok(true));
        assert!(matches!(
            Expression::compile("event.x", &["form"]),
            Err(ConditionError::NotAllowed { .. })
        ));
        assert!(matches!(
            e.check(&[("form", &form)]),
            Err(ConditionError::NotBool(_))
        ));
    }
}
