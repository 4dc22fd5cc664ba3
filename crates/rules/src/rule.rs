//! A rule's definition: what events it looks at ([`Pattern`]), the condition they must meet (an
//! expression over the event and its object), and what it then does ([`Action`]). Definitions are data —
//! versioned, exported as YAML, edited on a screen — so every field is checked with a located problem.

use serde::{Deserialize, Serialize};

/// Which events a rule looks at: every given field must match (lists: any of their values).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Pattern {
    /// Event types (`ObjectEvent`, `TransformationEvent`, …).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub event_type: Vec<String>,
    /// Business steps, bare CBV terms or URIs (`inspecting`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub biz_step: Vec<String>,
    /// Dispositions (`non_conformant`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub disposition: Vec<String>,
    /// Products (GTIN-14 or plant product codes) one of the event's objects must be.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub product: Vec<String>,
    /// Locations (read point or business location: GLN, SGLN or the plant's code).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub location: Vec<String>,
    /// Forms whose submissions it looks at (form codes).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub form: Vec<String>,
}

/// What a rule does when an event matches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case")]
pub enum Action {
    /// Hold the event's objects (and, with `descendants`, everything made from them).
    Hold {
        /// Also what was made from them, packed or shipped.
        #[serde(default = "yes")]
        descendants: bool,
        /// Why (placeholders: `{object}`, `{lot}`, `{rule}`, `{step}`).
        reason: String,
    },
    /// A to-do in a role's (or a user's) inbox.
    Task {
        /// What to do (placeholders as for `hold`).
        title: String,
        /// The role it is for (`quality_manager`), unless a user is named.
        #[serde(default)]
        role: Option<String>,
        /// The user it is for.
        #[serde(default)]
        user: Option<String>,
        /// Hours until it is due.
        #[serde(default = "day")]
        due_hours: u32,
    },
    /// A message: in the app to a role, to a webhook, or by e-mail.
    Notify {
        /// `in_app`, `webhook` or `email`.
        channel: String,
        /// The role (in the app), the URL (webhook) or the addresses, separated by commas (e-mail).
        to: String,
        /// The message (placeholders as for `hold`).
        message: String,
    },
    /// Record a new disposition for the event's objects.
    SetDisposition {
        /// A CBV disposition (`non_sellable_other`).
        disposition: String,
    },
    /// Raise an alert on the alerts screen.
    Alert {
        /// The message (placeholders as for `hold`).
        message: String,
    },
    /// Start a case of a workflow about the event's lot or object (once per event).
    StartWorkflow {
        /// The workflow's code (`ncr-review`).
        workflow: String,
        /// The case's title (placeholders as for `hold`).
        title: String,
    },
}

fn yes() -> bool {
    true
}

fn day() -> u32 {
    24
}

impl Action {
    /// Its name, as `do:` writes it.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Hold { .. } => "hold",
            Action::Task { .. } => "task",
            Action::Notify { .. } => "notify",
            Action::SetDisposition { .. } => "set_disposition",
            Action::Alert { .. } => "alert",
            Action::StartWorkflow { .. } => "start_workflow",
        }
    }
}

/// A rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// Its code (letters, digits, `-`, `_`, `.`).
    pub code: String,
    /// What people call it.
    pub name: String,
    /// Whether it runs.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Which events it looks at.
    #[serde(default)]
    pub when: Pattern,
    /// The condition (an expression over `event` and `object`; empty: always).
    #[serde(default, rename = "if", skip_serializing_if = "String::is_empty")]
    pub condition: String,
    /// What it does, in order.
    pub then: Vec<Action>,
}

/// A field of a definition that is wrong, and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Its path (`then/0/reason`).
    pub field: String,
    /// What was expected.
    pub expected: String,
}

fn problem(field: impl Into<String>, expected: impl Into<String>) -> Problem {
    Problem {
        field: field.into(),
        expected: expected.into(),
    }
}

/// The dispositions a rule may set (CBV 2.0).
pub const DISPOSITIONS: [&str; 10] = [
    "active",
    "available",
    "damaged",
    "destroyed",
    "expired",
    "non_conformant",
    "non_sellable_other",
    "recalled",
    "returned",
    "sellable_not_accessible",
];

impl Rule {
    /// What is wrong with the definition (the condition is checked when it is compiled).
    pub fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        if self.code.is_empty()
            || self.code.len() > 64
            || !self
                .code
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            out.push(problem("code", "1 to 64 letters, digits, '-', '_' or '.'"));
        }
        if self.name.trim().is_empty() {
            out.push(problem("name", "a name people recognise"));
        }
        if self.then.is_empty() {
            out.push(problem("then", "at least one action"));
        }
        let blank = |s: &str| s.trim().is_empty();
        for (i, a) in self.then.iter().enumerate() {
            let at = |f: &str| format!("then/{i}/{f}");
            match a {
                Action::Hold { reason, .. } if blank(reason) => {
                    out.push(problem(at("reason"), "why the objects are held"))
                }
                Action::Task {
                    title, role, user, ..
                } => {
                    if blank(title) {
                        out.push(problem(at("title"), "what is to be done"));
                    }
                    if role.as_deref().is_none_or(blank) && user.as_deref().is_none_or(blank) {
                        out.push(problem(at("role"), "the role (or user) the task is for"));
                    }
                }
                Action::Notify {
                    channel,
                    to,
                    message,
                } => {
                    if !matches!(channel.as_str(), "in_app" | "webhook" | "email") {
                        out.push(problem(at("channel"), "in_app, webhook or email"));
                    }
                    let addresses_ok = to.split(',').map(str::trim).all(|a| {
                        a.split_once('@')
                            .is_some_and(|(u, d)| !u.is_empty() && d.contains('.'))
                    });
                    if channel == "email" && !addresses_ok {
                        out.push(problem(at("to"), "e-mail addresses, separated by commas"));
                    } else if channel == "webhook"
                        && !(to.starts_with("https://") || to.starts_with("http://"))
                    {
                        out.push(problem(at("to"), "the webhook's URL (http:// or https://)"));
                    } else if blank(to) {
                        out.push(problem(at("to"), "the role to tell"));
                    }
                    if blank(message) {
                        out.push(problem(at("message"), "what to say"));
                    }
                }
                Action::SetDisposition { disposition }
                    if !DISPOSITIONS.contains(&disposition.as_str()) =>
                {
                    out.push(problem(
                        at("disposition"),
                        format!("one of {}", DISPOSITIONS.join(", ")),
                    ))
                }
                Action::Alert { message } if blank(message) => {
                    out.push(problem(at("message"), "what the alert says"))
                }
                Action::StartWorkflow { workflow, title } => {
                    if blank(workflow) {
                        out.push(problem(at("workflow"), "the workflow's code"));
                    }
                    if blank(title) {
                        out.push(problem(at("title"), "the case's title"));
                    }
                }
                _ => {}
            }
        }
        out
    }
}

/// Fills a message's placeholders from `values` (`{name}` → value; unknown ones stay).
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut s = template.to_string();
    for (k, v) in values {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s
}
