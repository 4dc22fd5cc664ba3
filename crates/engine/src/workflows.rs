//! Workflows: definitions (kind `workflow`, versioned; the built-in templates until a plant saves over
//! them), cases (records written with the ledger event that starts or moves them, and the assignee's task
//! in the same transaction), and SLA escalation at a time the caller gives — the server's timer, or a
//! test's clock. Starting a case and every move are events on the ledger.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};
use suyuan_forms::Problem;
use suyuan_store::{StoreError, Write};
use suyuan_workflows::templates::templates;
use suyuan_workflows::{Case, Move, Workflow};

use crate::Engine;
use crate::forms::FormError;
use crate::operations::OpsError;
use crate::tasks::{NewTask, TASK_KIND, Task};

/// The definition kind of workflows.
pub const WORKFLOW_KIND: &str = "workflow";

/// The record kind of cases.
pub const CASE_KIND: &str = "workflow.case";

/// A workflow with its version and whether Suyuan ships it.
#[derive(Debug, Clone, Serialize)]
pub struct WorkflowView {
    /// The definition.
    pub workflow: Workflow,
    /// Its version (0: the built-in one as shipped).
    pub version: u32,
    /// Whether Suyuan ships it.
    pub builtin: bool,
}

fn refused(field: &str, en: impl Into<String>, zh: impl Into<String>) -> FormError {
    FormError::Invalid(vec![Problem::new(field, en, zh)])
}

fn text(t: DateTime<Utc>) -> String {
    suyuan_core::time::format_utc_millis(t)
}

/// The task of a case in its current state (none in an end state).
fn state_task(wf: &Workflow, case: &Case) -> Option<Task> {
    let s = wf.state(&case.state).filter(|s| !s.end)?;
    let t = NewTask {
        id: format!("T-{}-{}", case.id, case.history.len()),
        kind: "task",
        title: format!("{} · {} · {}", wf.name.zh, s.label.zh, case.title),
        role: s.role.clone(),
        user: s.user.clone(),
        due_hours: None,
        due: case.due.clone(),
        subject: case.subject.clone(),
        source: format!("workflow:{}", wf.code),
        event: None,
        link: Some(format!("/cases/{}", case.id)),
    };
    let now = DateTime::parse_from_rfc3339(&case.entered_at)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|_| Utc::now());
    Some(Task::from_new(t, now))
}

fn put(kind: &str, id: &str, doc: &impl Serialize, create: bool) -> Write {
    Write::PutRecord {
        kind: kind.into(),
        id: id.into(),
        doc: serde_json::to_value(doc).unwrap_or_default(),
        create,
    }
}

impl Engine {
    /// Every workflow: the saved ones, and the built-in templates not saved over, by code.
    pub async fn workflows(&self) -> Result<Vec<WorkflowView>, FormError> {
        let shipped: Vec<String> = templates().into_iter().map(|w| w.code).collect();
        let mut out: Vec<WorkflowView> = self
            .store()
            .definitions(WORKFLOW_KIND)
            .await?
            .into_iter()
            .filter_map(|d| {
                let workflow: Workflow = serde_json::from_value(d.definition).ok()?;
                Some(WorkflowView {
                    builtin: shipped.contains(&workflow.code),
                    workflow,
                    version: d.version,
                })
            })
            .collect();
        for w in templates() {
            if !out.iter().any(|v| v.workflow.code == w.code) {
                out.push(WorkflowView {
                    workflow: w,
                    version: 0,
                    builtin: true,
                });
            }
        }
        out.sort_by(|a, b| a.workflow.code.cmp(&b.workflow.code));
        Ok(out)
    }

    /// A version of workflow `code` (the latest without `version`; 0 is the built-in one as shipped).
    pub async fn workflow(
        &self,
        code: &str,
        version: Option<u32>,
    ) -> Result<WorkflowView, FormError> {
        let shipped = templates().into_iter().find(|w| w.code == code);
        if version != Some(0)
            && let Some(d) = self
                .store()
                .definition(WORKFLOW_KIND, code, version)
                .await?
            && let Ok(workflow) = serde_json::from_value::<Workflow>(d.definition)
        {
            return Ok(WorkflowView {
                workflow,
                version: d.version,
                builtin: shipped.is_some(),
            });
        }
        match (version, shipped) {
            (None | Some(0), Some(w)) => Ok(WorkflowView {
                workflow: w,
                version: 0,
                builtin: true,
            }),
            _ => Err(OpsError::NotFound(format!("workflow {code}")).into()),
        }
    }

    /// Saves a workflow (a new version when it changed) after checking every field.
    pub async fn save_workflow(
        &self,
        actor: &str,
        wf: &Workflow,
    ) -> Result<WorkflowView, FormError> {
        let problems = wf.problems();
        if !problems.is_empty() {
            return Err(FormError::Invalid(problems));
        }
        let doc = serde_json::to_value(wf).unwrap_or(Value::Null);
        self.save_definition(actor, WORKFLOW_KIND, &wf.code, &doc)
            .await
            .map_err(OpsError::from)?;
        self.workflow(&wf.code, None).await
    }

    /// Starts a case of workflow `code` about `subject` at `now`, with its first task; `seed` (a rule's
    /// action id, a client's request id) makes starting it again answer the same case.
    #[allow(clippy::too_many_arguments)]
    pub async fn start_case(
        &self,
        actor: &str,
        code: &str,
        title: &str,
        subject: Option<String>,
        data: Value,
        seed: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Case, FormError> {
        let wv = self.workflow(code, None).await?;
        if !wv.workflow.enabled {
            return Err(refused(
                "workflow",
                format!("a workflow that takes cases ({code} is disabled)"),
                format!("可启动的流程（{code} 已停用）"),
            ));
        }
        if title.trim().is_empty() {
            return Err(refused("title", "what the case is about", "流程标题"));
        }
        if !data.is_object() && !data.is_null() {
            return Err(refused("data", "an object of named values", "键值对象"));
        }
        let seed = seed
            .map(str::to_string)
            .unwrap_or_else(|| format!("{actor}\u{1f}{}\u{1f}{title}", text(now)));
        let id = crate::quality::short_id("WF", &format!("{code}\u{1f}{seed}"));
        if let Some(c) = self.case(&id).await? {
            return Ok(c);
        }
        let case = Case::start(
            &wv.workflow,
            wv.version,
            &id,
            title.trim(),
            subject,
            data,
            actor,
            now,
        );
        let mut writes = vec![put(CASE_KIND, &id, &case, true)];
        if let Some(t) = state_task(&wv.workflow, &case) {
            writes.push(put(TASK_KIND, &t.id, &t, true));
        }
        let details = json!({"workflow": code, "version": wv.version, "title": case.title,
            "subject": case.subject, "state": case.state, "data": case.data});
        match self
            .change(
                actor,
                "workflow.started",
                &format!("case:{id}"),
                details,
                writes,
            )
            .await
        {
            Ok(_) => Ok(case),
            Err(crate::CaptureError::Store(StoreError::Exists { .. })) => {
                Ok(self.case(&id).await?.unwrap_or(case))
            }
            Err(e) => Err(OpsError::from(e).into()),
        }
    }

    /// The case `id`.
    pub async fn case(&self, id: &str) -> Result<Option<Case>, StoreError> {
        Ok(self
            .store()
            .account(CASE_KIND, id)
            .await?
            .and_then(|d| serde_json::from_value(d).ok()))
    }

    /// Every case, open ones first, newest first.
    pub async fn cases(&self) -> Result<Vec<Case>, StoreError> {
        let mut v: Vec<Case> = self
            .store()
            .accounts(CASE_KIND)
            .await?
            .into_iter()
            .filter_map(|(_, d)| serde_json::from_value(d).ok())
            .collect();
        v.sort_by(|a, b| a.ended.cmp(&b.ended).then(b.started_at.cmp(&a.started_at)));
        Ok(v)
    }

    /// Whether `user` with `role` may move case `case` (its state's assignee, or an administrator).
    pub async fn may_move(&self, case: &Case, user: &str, role: &str) -> Result<bool, FormError> {
        if role == "admin" {
            return Ok(true);
        }
        let wv = self.workflow(&case.workflow, Some(case.version)).await?;
        Ok(wv.workflow.state(&case.state).is_some_and(|s| {
            s.user.as_deref() == Some(user) || (s.user.is_none() && s.role.as_deref() == Some(role))
        }))
    }

    /// Takes transition `transition` of case `id` for `actor` at `now` (with `data` merged into the
    /// case's, a note, and the submission of the form the transition requires): the case record, the
    /// ledger event, the old state's task done and the new state's task, in one transaction.
    #[allow(clippy::too_many_arguments)]
    pub async fn move_case(
        &self,
        actor: &str,
        id: &str,
        transition: &str,
        data: Map<String, Value>,
        note: &str,
        submission: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Case, FormError> {
        let _one_at_a_time = self.ops.objects.lock(&format!("case:{id}")).await;
        let mut case = self
            .case(id)
            .await?
            .ok_or_else(|| OpsError::NotFound(format!("case {id}")))?;
        let wv = self.workflow(&case.workflow, Some(case.version)).await?;
        if let (Some(form), Some(s)) = (
            wv.workflow
                .transition(transition)
                .and_then(|t| t.form.clone()),
            submission.as_deref(),
        ) {
            let made_with = self.submission(s).await?.map(|sub| sub.form);
            if made_with.as_deref() != Some(form.as_str()) {
                return Err(refused(
                    "submission",
                    format!("a submission of form {form} ({s} is not one)"),
                    format!("表单 {form} 的提交记录（{s} 不是）"),
                ));
            }
        }
        let before = case.clone();
        case.apply(
            &wv.workflow,
            Move {
                transition,
                by: actor,
                at: now,
                data,
                note,
                submission,
            },
        )
        .map_err(|p| FormError::Invalid(vec![p]))?;
        let mut writes = vec![put(CASE_KIND, id, &case, false)];
        if let Some(mut old) = self
            .task(&format!("T-{}-{}", before.id, before.history.len()))
            .await?
            .filter(|t| t.state == "open")
        {
            old.state = "done".into();
            old.done = Some((text(now), actor.to_string(), note.trim().to_string()));
            writes.push(put(TASK_KIND, &old.id, &old, false));
        }
        if let Some(t) = state_task(&wv.workflow, &case) {
            writes.push(put(TASK_KIND, &t.id, &t, true));
        }
        let step = case.history.last().cloned();
        let details = json!({"workflow": case.workflow, "transition": transition, "from": before.state,
            "to": case.state, "note": note.trim(), "submission": step.and_then(|s| s.submission),
            "ended": case.ended});
        self.change(
            actor,
            "workflow.moved",
            &format!("case:{id}"),
            details,
            writes,
        )
        .await
        .map_err(OpsError::from)?;
        Ok(case)
    }

    /// Escalates every open case whose state's SLA ran out before `now`: the case is marked, the
    /// escalation role gets a notice, and the ledger records it. Answers how many were escalated.
    pub async fn escalate_overdue(&self, now: DateTime<Utc>) -> Result<usize, FormError> {
        let mut n = 0;
        for c in self.cases().await? {
            if !c.overdue(now) {
                continue;
            }
            let _one_at_a_time = self.ops.objects.lock(&format!("case:{}", c.id)).await;
            let Some(mut case) = self.case(&c.id).await?.filter(|c| c.overdue(now)) else {
                continue;
            };
            let wv = self.workflow(&case.workflow, Some(case.version)).await?;
            let Some(state) = wv.workflow.state(&case.state).cloned() else {
                continue;
            };
            case.escalated = true;
            let to = state.escalate_to.clone().unwrap_or_else(|| "admin".into());
            let notice = Task::from_new(
                NewTask {
                    id: format!("N-{}-{}-sla", case.id, case.history.len()),
                    kind: "notice",
                    title: format!(
                        "超时升级 / Overdue: {} · {} · {} (due {})",
                        wv.workflow.name.zh,
                        state.label.zh,
                        case.title,
                        case.due.as_deref().unwrap_or("")
                    ),
                    role: Some(to.clone()),
                    user: None,
                    due_hours: None,
                    due: None,
                    subject: case.subject.clone(),
                    source: format!("workflow:{}", wv.workflow.code),
                    event: None,
                    link: Some(format!("/cases/{}", case.id)),
                },
                now,
            );
            let writes = vec![
                put(CASE_KIND, &case.id, &case, false),
                put(TASK_KIND, &notice.id, &notice, true),
            ];
            let details = json!({"workflow": case.workflow, "state": case.state, "due": case.due,
                "escalated_to": to});
            match self
                .change(
                    "sla",
                    "workflow.escalated",
                    &format!("case:{}", case.id),
                    details,
                    writes,
                )
                .await
            {
                Ok(_) => n += 1,
                Err(crate::CaptureError::Store(StoreError::Exists { .. })) => {}
                Err(e) => return Err(OpsError::from(e).into()),
            }
        }
        Ok(n)
    }
}

/// The reactor that escalates overdue cases: on a tick (every minute, when no entries come) it escalates
/// at its clock's time; a test gives it a clock it moves.
pub struct SlaTimer {
    clock: std::sync::Arc<dyn crate::reactor::Clock>,
}

impl SlaTimer {
    /// A timer reading `clock`.
    pub fn new(clock: std::sync::Arc<dyn crate::reactor::Clock>) -> SlaTimer {
        SlaTimer { clock }
    }
}

impl Default for SlaTimer {
    fn default() -> Self {
        SlaTimer::new(std::sync::Arc::new(crate::reactor::SystemClock))
    }
}

#[async_trait::async_trait]
impl crate::reactor::Reactor for SlaTimer {
    fn name(&self) -> &'static str {
        "workflow_sla"
    }

    async fn react(
        &self,
        engine: &Engine,
        entries: &[suyuan_store::OutboxEntry],
    ) -> Result<(), crate::reactor::ReactorError> {
        if !entries.is_empty() {
            return Ok(());
        }
        let now = DateTime::from_timestamp_millis(self.clock.now_ms()).unwrap_or_else(Utc::now);
        engine
            .escalate_overdue(now)
            .await
            .map(|_| ())
            .map_err(|e| crate::reactor::ReactorError(e.to_string()))
    }

    fn tick(&self) -> Option<std::time::Duration> {
        Some(std::time::Duration::from_secs(60))
    }

    fn ticks_only(&self) -> bool {
        true
    }
}
