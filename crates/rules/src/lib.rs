//! Rules a plant writes without code: `when <event pattern> if <condition> then <actions>`. The
//! definitions and their checks ([`rule`]), the condition language behind our own trait ([`condition`],
//! CEL today), what an event offers a rule ([`facts`]) and the evaluation of a rule over one event
//! ([`eval`]). Pure: the engine feeds events in and carries the planned actions out.

pub mod condition;
pub mod eval;
pub mod facts;
pub mod rule;

pub use condition::{ConditionError, Expression};
pub use eval::{Compiled, Planned, compile};
pub use facts::Facts;
pub use rule::{Action, Pattern, Problem, Rule};
