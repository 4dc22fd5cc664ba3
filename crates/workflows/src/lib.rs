//! Workflows a plant runs without code: a definition of states (each assigned to a role or a user, with
//! an SLA and whom to escalate to) and transitions (guarded by an expression over the case's data,
//! optionally requiring a form) ([`workflow`]); how a case moves and when it is overdue ([`case`]); and
//! the templates that work out of the box — NCR review, supplier corrective action (8D), deviation
//! approval, recall execution ([`templates`]). Pure: the engine stores cases and makes their tasks.

pub mod case;
pub mod templates;
pub mod workflow;

pub use case::{Case, Move, Step};
pub use workflow::{State, Transition, Workflow};
