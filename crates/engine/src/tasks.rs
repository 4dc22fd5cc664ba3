//! Tasks (to-dos) and in-app notices: made by rules (and, later, workflow steps), each in a role's or a
//! user's inbox with a due time, done by someone with a note. A task is a record written in the same
//! transaction as the ledger event recording it; its id comes from what made it, so a rule retried by the
//! outbox makes it once.

use serde::{Deserialize, Serialize};
use serde_json::json;
use suyuan_store::{StoreError, Write};

use crate::Engine;
use crate::operations::{OpsError, now_text, problem};

/// The record kind of tasks.
pub const TASK_KIND: &str = "task";

/// A task or a notice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// Its id (`T-…`).
    pub id: String,
    /// `task` (to be done) or `notice` (to be read).
    pub kind: String,
    /// What to do, or what is said.
    pub title: String,
    /// The role whose inbox it is in.
    #[serde(default)]
    pub role: Option<String>,
    /// The user whose inbox it is in.
    #[serde(default)]
    pub user: Option<String>,
    /// When it is due (RFC 3339), for tasks.
    #[serde(default)]
    pub due: Option<String>,
    /// What it is about (an object key).
    #[serde(default)]
    pub subject: Option<String>,
    /// What made it (`rule:inspection-failed`).
    pub source: String,
    /// The event that set it off.
    #[serde(default)]
    pub event: Option<String>,
    /// Where it is done (a workflow case's page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// `open` or `done`.
    pub state: String,
    /// When it was made.
    pub created_at: String,
    /// When it was done, by whom, with what note.
    #[serde(default)]
    pub done: Option<(String, String, String)>,
}

/// A task to make.
#[derive(Debug, Clone)]
pub struct NewTask {
    /// Its id: derived from what makes it, so that making it again changes nothing.
    pub id: String,
    /// `task` or `notice`.
    pub kind: &'static str,
    /// What to do or what is said.
    pub title: String,
    /// The role it is for.
    pub role: Option<String>,
    /// The user it is for.
    pub user: Option<String>,
    /// Hours until due (tasks).
    pub due_hours: Option<u32>,
    /// When it is due (RFC 3339), instead of hours from now (a workflow state's SLA).
    pub due: Option<String>,
    /// Where it is done.
    pub link: Option<String>,
    /// What it is about.
    pub subject: Option<String>,
    /// What made it.
    pub source: String,
    /// The event that set it off.
    pub event: Option<String>,
}

impl Task {
    /// The task `t` describes, made at `now`.
    pub fn from_new(t: NewTask, now: chrono::DateTime<chrono::Utc>) -> Task {
        Task {
            id: t.id,
            kind: t.kind.to_string(),
            title: t.title.trim().to_string(),
            role: t.role,
            user: t.user,
            due: t.due.or_else(|| {
                t.due_hours.map(|h| {
                    suyuan_core::time::format_utc_millis(
                        now + chrono::Duration::hours(i64::from(h)),
                    )
                })
            }),
            subject: t.subject,
            source: t.source,
            event: t.event,
            link: t.link,
            state: "open".into(),
            created_at: suyuan_core::time::format_utc_millis(now),
            done: None,
        }
    }

    /// Whether it is in the inbox of `user` with `role`.
    pub fn for_user(&self, user: &str, role: &str) -> bool {
        self.user.as_deref() == Some(user)
            || (self.user.is_none() && self.role.as_deref() == Some(role))
    }
}

impl Engine {
    /// Makes a task (nothing changes when one with its id exists) and answers it.
    pub async fn create_task(&self, actor: &str, t: NewTask) -> Result<Task, OpsError> {
        if t.title.trim().is_empty() {
            return Err(problem("title", "what is to be done"));
        }
        if let Some(existing) = self.task(&t.id).await? {
            return Ok(existing);
        }
        let task = Task::from_new(t, chrono::Utc::now());
        let doc = serde_json::to_value(&task).unwrap_or_default();
        let write = Write::PutRecord {
            kind: TASK_KIND.into(),
            id: task.id.clone(),
            doc: doc.clone(),
            create: true,
        };
        match self
            .change(actor, "task.created", &task.id, doc, vec![write])
            .await
        {
            Ok(_) => Ok(task),
            // Made meanwhile by another attempt: that one stands.
            Err(crate::CaptureError::Store(StoreError::Exists { .. })) => {
                Ok(self.task(&task.id).await?.unwrap_or(task))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The task `id`.
    pub async fn task(&self, id: &str) -> Result<Option<Task>, OpsError> {
        Ok(self
            .store()
            .account(TASK_KIND, id)
            .await?
            .and_then(|d| serde_json::from_value(d).ok()))
    }

    /// Every task, newest first.
    pub async fn tasks(&self) -> Result<Vec<Task>, OpsError> {
        let mut v: Vec<Task> = self
            .store()
            .accounts(TASK_KIND)
            .await?
            .into_iter()
            .filter_map(|(_, d)| serde_json::from_value(d).ok())
            .collect();
        v.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        Ok(v)
    }

    /// The open tasks and notices in the inbox of `user` with `role`, soonest due first.
    pub async fn inbox(&self, user: &str, role: &str) -> Result<Vec<Task>, OpsError> {
        let mut v: Vec<Task> = self
            .tasks()
            .await?
            .into_iter()
            .filter(|t| t.state == "open" && t.for_user(user, role))
            .collect();
        v.sort_by(|a, b| {
            a.due
                .is_none()
                .cmp(&b.due.is_none())
                .then(a.due.cmp(&b.due))
                .then(b.created_at.cmp(&a.created_at))
        });
        Ok(v)
    }

    /// Marks a task done (or a notice read) by `actor`, with a note.
    pub async fn complete_task(&self, actor: &str, id: &str, note: &str) -> Result<Task, OpsError> {
        let mut t = self
            .task(id)
            .await?
            .ok_or_else(|| OpsError::NotFound(format!("task {id}")))?;
        if t.state == "done" {
            return Err(problem("state", format!("an open task ({id} is done)")));
        }
        t.state = "done".into();
        t.done = Some((now_text(), actor.to_string(), note.trim().to_string()));
        let doc = serde_json::to_value(&t).unwrap_or_default();
        let write = Write::PutRecord {
            kind: TASK_KIND.into(),
            id: id.to_string(),
            doc,
            create: false,
        };
        self.change(
            actor,
            "task.done",
            id,
            json!({"note": note.trim()}),
            vec![write],
        )
        .await?;
        Ok(t)
    }
}
