//! Carrying out what a rule planned, once however often the outbox retries: every action takes an id
//! from the rule, the event and its place in the rule's list, and each kind of action is idempotent on
//! it — a hold by its request id, a task or notice by its id, a new disposition by its eventID, an alert by
//! its subject, a webhook call by a record of its delivery.

use serde_json::{Value, json};
use suyuan_rules::{Action, Facts, Planned};

use super::actor;
use crate::Engine;
use crate::operations::{OpsError, now_text};
use crate::quality::holds::HoldRequest;
use crate::tasks::NewTask;

/// The record kind of delivered webhook calls.
const SENT_KIND: &str = "rule.sent";

/// The id of action `index` of rule `rule` on event `event`.
pub fn action_id(rule: &str, event: &str, index: usize) -> String {
    crate::audit::sha256_hex(&format!("{rule}\u{1f}{event}\u{1f}{index}"))[..20].to_string()
}

impl Engine {
    /// Carries out one planned action of rule `rule` for the event of `facts`.
    pub(crate) async fn carry_out(
        &self,
        rule: &str,
        facts: &Facts,
        p: &Planned,
        out: &super::outbound::Outbound,
    ) -> Result<(), OpsError> {
        let who = actor(rule);
        let id = action_id(rule, &facts.event_id, p.index);
        let subject = p.objects.first().cloned();
        match &p.action {
            Action::Hold {
                descendants,
                reason,
            } => {
                // An inspection's hold takes the inspection's id, so the hold the plant (or the demo) made
                // for the same inspection is the same hold.
                let inspection = facts
                    .plain
                    .pointer("/inspection/id")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                let ncr = facts
                    .plain
                    .pointer("/inspection/ncr")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                for (n, object) in p.objects.iter().enumerate() {
                    let request = match (&inspection, n) {
                        (Some(i), 0) => i.clone(),
                        _ => format!("{id}/{n}"),
                    };
                    self.place_hold(
                        &who,
                        &HoldRequest {
                            object: object.clone(),
                            reason: reason.clone(),
                            only_this: !descendants,
                            ncr: ncr.clone(),
                            request_id: Some(request),
                        },
                    )
                    .await?;
                }
            }
            Action::Task {
                title,
                role,
                user,
                due_hours,
            } => {
                self.create_task(
                    &who,
                    NewTask {
                        id: format!("T-{}", &id[..12].to_ascii_uppercase()),
                        kind: "task",
                        title: title.clone(),
                        role: role.clone(),
                        user: user.clone(),
                        due_hours: Some(*due_hours),
                        subject,
                        source: who.clone(),
                        event: Some(facts.event_id.clone()),
                        due: None,
                        link: None,
                    },
                )
                .await?;
            }
            Action::Notify {
                channel,
                to,
                message,
            } if channel == "in_app" => {
                self.create_task(
                    &who,
                    NewTask {
                        id: format!("N-{}", &id[..12].to_ascii_uppercase()),
                        kind: "notice",
                        title: message.clone(),
                        role: Some(to.clone()),
                        user: None,
                        due_hours: None,
                        subject,
                        source: who.clone(),
                        event: Some(facts.event_id.clone()),
                        due: None,
                        link: None,
                    },
                )
                .await?;
            }
            Action::Notify {
                channel,
                to,
                message,
            } => {
                // Sent once: a delivery record is written after the relay or the webhook took it.
                if self.store().account(SENT_KIND, &id).await?.is_some() {
                    return Ok(());
                }
                let status = if channel == "email" {
                    let Some(smtp) = &out.smtp else {
                        return Err(crate::operations::problem(
                            "to",
                            "an e-mail relay on this server (suyuan serve --smtp-url, --smtp-from)",
                        ));
                    };
                    let subject =
                        format!("[Suyuan] {}", message.chars().take(80).collect::<String>());
                    let body = format!(
                        "{message}\n\nRule / 规则: {rule}\nObjects / 对象: {}\nEvent / 事件: {}\n",
                        p.objects.join(", "),
                        facts.event_id
                    );
                    // A relay that refuses or cannot be reached fails the entry, which the outbox
                    // retries.
                    smtp.send(to, &subject, &body).await.map_err(backend)?;
                    None
                } else {
                    if !(out.webhooks)(to) {
                        return Err(crate::operations::problem(
                            "to",
                            format!(
                                "a webhook this server may call ({to} is not in --webhook-allow)"
                            ),
                        ));
                    }
                    let body = json!({"rule": rule, "event": facts.event_id, "objects": p.objects,
                        "message": message, "sent_at": now_text()});
                    Some(webhook(to, &body).await?)
                };
                self.store()
                    .put_account(
                        SENT_KIND,
                        &id,
                        &json!({"to": to, "channel": channel, "status": status, "at": now_text()}),
                        false,
                    )
                    .await?;
            }
            Action::SetDisposition { disposition } => {
                let mut v = json!({
                    "type": "ObjectEvent", "action": "OBSERVE", "eventTime": now_text(),
                    "eventTimeZoneOffset": "+00:00", "disposition": disposition,
                    "eventID": format!("urn:uuid:{}-{}-4{}-8{}-{}", &id[..8], &id[8..12], &id[12..15], &id[15..18],
                        &crate::audit::sha256_hex(&id)[..12]),
                    "sy:actor": who, "sy:rule": rule, "sy:cause": facts.event_id,
                });
                let (units, lots): (Vec<&String>, Vec<&String>) = p
                    .objects
                    .iter()
                    .partition(|k| !(k.contains("/10/") || k.contains(":lot:")));
                if !units.is_empty() {
                    v["epcList"] = json!(units);
                }
                if !lots.is_empty() {
                    v["quantityList"] =
                        Value::Array(lots.iter().map(|l| json!({"epcClass": l})).collect());
                }
                self.record(vec![crate::operations::event(v)?]).await?;
            }
            Action::StartWorkflow { workflow, title } => {
                let data = json!({"rule": rule, "event": facts.event_id, "object": subject});
                self.start_case(
                    &who,
                    workflow,
                    title,
                    subject.clone(),
                    data,
                    Some(&id),
                    chrono::Utc::now(),
                )
                .await
                .map_err(|e| match e {
                    crate::forms::FormError::Ops(e) => e,
                    crate::forms::FormError::Invalid(p) => {
                        crate::operations::problems(p.into_iter().map(|p| (p.field, p.en)))
                    }
                })?;
            }
            Action::Alert { message } => {
                self.raise_alert(
                    suyuan_ops::alerts::AlertKind::Rule,
                    &id,
                    json!({"rule": rule, "message": message, "object": subject, "event": facts.event_id}),
                )
                .await?;
            }
        }
        Ok(())
    }
}

/// A delivery failure as the error that makes the outbox retry the entry.
fn backend(why: String) -> OpsError {
    OpsError::Capture(crate::CaptureError::Store(
        suyuan_store::StoreError::Backend(why),
    ))
}

/// Posts `body` to a webhook; answers its HTTP status, or fails (to be retried) when it cannot be
/// delivered.
pub async fn webhook(url: &str, body: &Value) -> Result<u16, OpsError> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| backend(e.to_string()))?;
    let r = client
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| backend(format!("webhook {url}: {e}")))?;
    let status = r.status().as_u16();
    if r.status().is_server_error() {
        return Err(backend(format!("webhook {url} answered {status}")));
    }
    Ok(status)
}
