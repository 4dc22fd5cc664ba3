//! The one submit pipeline: every way in — the native API, EPCIS capture (JSON-LD and XML, rollback and
//! proceed), `suyuan import`, the demo, and the stations, forms and rule actions to come — hands its input to
//! [`Engine::submit`], so the same document gets the same answer whichever way it came:
//! read (XML through GS1's XSD) → GS1's JSON schema and the semantic checks → the principal's scope → the
//! application features' validators → one transaction holding the events, their projections, the header's
//! master data and the event recording it.

use serde_json::Value;
use suyuan_core::{Event, FieldError, ValidationErrors};
use suyuan_epcis::masterdata::VocabularyElement;
use suyuan_store::Commit;

use crate::acceptance::{CaptureWarning, capped_errors};
use crate::accounts::Principal;
use crate::{CaptureError, CaptureOutcome, Engine, MAX_BATCH, Totals, prepare};

/// The EPCIS 2.0 JSON-LD context.
pub const EPCIS_CONTEXT: &str = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";

/// The text of a submission as it arrived.
#[derive(Debug, Clone)]
pub enum Input {
    /// A JSON-LD EPCIS document or one event.
    Json(Value),
    /// An EPCIS XML document or one event.
    Xml(String),
}

impl Input {
    /// Reads a file or body: EPCIS XML when it starts like XML, JSON otherwise (errors name line and column);
    /// a UTF-8 byte order mark is skipped.
    pub fn from_bytes(bytes: &[u8]) -> Result<Input, CaptureError> {
        // A byte order mark (as some editors write) is not part of the text.
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        if suyuan_epcis::xml::looks_like_xml(bytes) {
            let text = std::str::from_utf8(bytes)
                .map_err(|e| invalid("", format!("the XML document is not UTF-8: {e}")))?;
            return Ok(Input::Xml(text.to_string()));
        }
        serde_json::from_slice(bytes)
            .map(Input::Json)
            .map_err(|e| invalid("", format!("not valid JSON: {e}")))
    }
}

/// What to do with the valid events of a document that also holds invalid ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// All or nothing (EPCIS `rollback`, the default).
    Rollback,
    /// Store every valid event and list the others (EPCIS `proceed`).
    Proceed,
}

/// Which forms a way in takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Only an `EPCISDocument` (`POST /epcis/capture`).
    Document,
    /// A document or one event.
    DocumentOrEvent,
    /// Only one event (`POST /epcis/events`).
    Event,
}

/// One submission: its text, what to do with a partly valid document, and which forms are taken.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The text.
    pub input: Input,
    /// Rollback or proceed.
    pub behaviour: Behaviour,
    /// Document only, or also one event.
    pub shape: Shape,
    /// Most events taken ([`MAX_BATCH`] for a request; a file import takes more and stores it in chunks).
    pub limit: usize,
    /// Read an input without `@context` as having the EPCIS 2.0 context (Suyuan's native API, import and
    /// the engine's own events); the EPCIS bindings follow GS1 and require it.
    pub assume_context: bool,
}

impl Submission {
    /// An all-or-nothing submission of a document or one event.
    pub fn rollback(input: Input) -> Submission {
        Submission {
            input,
            behaviour: Behaviour::Rollback,
            shape: Shape::DocumentOrEvent,
            limit: MAX_BATCH,
            assume_context: true,
        }
    }
}

/// A submission that passed every check, ready to store.
#[derive(Debug, Default)]
pub struct Checked {
    /// The accepted events, in document order.
    pub events: Vec<Event>,
    /// The document index of each accepted event.
    origin: Vec<usize>,
    /// The header's master data.
    pub master_data: Vec<VocabularyElement>,
    /// What was left out (proceed only), located in the document.
    pub errors: Vec<FieldError>,
    /// What the capturer should know about the accepted events, located in the document.
    pub warnings: Vec<CaptureWarning>,
}

fn invalid(pointer: &str, message: String) -> CaptureError {
    CaptureError::Invalid(ValidationErrors(vec![FieldError {
        pointer: pointer.into(),
        message,
    }]))
}

/// The semantic checks (located, with the expected form) and then GS1's JSON schema: an input is accepted
/// exactly when it passes both.
fn parsed(doc: &Value, from_xml: bool) -> Result<Vec<Event>, ValidationErrors> {
    let events = suyuan_epcis::parse_capture(doc)?;
    if from_xml {
        suyuan_epcis::schema::validate_xml_sourced(doc)?;
    } else {
        suyuan_epcis::schema::validate(doc)?;
    }
    Ok(events)
}

/// The document as JSON-LD, and whether it came as XML (read once; GS1's XSD judges it as JSON input meets
/// GS1's JSON schema).
fn read(input: Input) -> Result<(Value, bool), CaptureError> {
    match input {
        Input::Json(v) => Ok((v, false)),
        Input::Xml(text) => {
            let doc = suyuan_epcis::xml::document_from_xml_checked(&text)
                .map_err(|e| invalid("", e.to_string()))?
                .map_err(|v| CaptureError::Invalid(ValidationErrors(v)))?;
            Ok((doc, true))
        }
    }
}

/// A pointer into the events given to a check (`/epcisBody/eventList/{k}/…`) pointed into the document.
fn located(pointer: &str, origin: &[usize]) -> String {
    let Some(rest) = pointer.strip_prefix("/epcisBody/eventList/") else {
        return pointer.to_string();
    };
    let (k, tail) = rest.split_once('/').unwrap_or((rest, ""));
    match k.parse::<usize>().ok().and_then(|k| origin.get(k)) {
        Some(i) if tail.is_empty() => format!("/epcisBody/eventList/{i}"),
        Some(i) => format!("/epcisBody/eventList/{i}/{tail}"),
        None => pointer.to_string(),
    }
}

impl Engine {
    /// Checks and stores a submission for `me`: under rollback all of it or nothing ([`CaptureError`] says
    /// why, located); under proceed every valid event, the answer listing the others.
    pub async fn submit(
        &self,
        me: &Principal,
        submission: Submission,
    ) -> Result<CaptureOutcome, CaptureError> {
        let checked = self.check(me, submission).await?;
        self.commit_checked(&me.user, checked).await
    }

    /// Everything [`Engine::submit`] checks, without storing anything.
    pub async fn check(
        &self,
        me: &Principal,
        submission: Submission,
    ) -> Result<Checked, CaptureError> {
        let (mut doc, from_xml) = read(submission.input)?;
        if submission.assume_context
            && let Some(o) = doc.as_object_mut()
            && !o.contains_key("@context")
        {
            o.insert("@context".into(), serde_json::json!([EPCIS_CONTEXT]));
        }
        let is_doc = doc.get("type").and_then(Value::as_str) == Some("EPCISDocument");
        if submission.shape == Shape::Document && !is_doc {
            return Err(invalid(
                "/type",
                "this way in takes an EPCISDocument; send single events to /events".into(),
            ));
        }
        if submission.shape == Shape::Event && is_doc {
            return Err(invalid(
                "/type",
                "this way in takes a single event; send documents to /capture".into(),
            ));
        }
        let list: &[Value] = if is_doc {
            doc.pointer("/epcisBody/eventList")
                .and_then(Value::as_array)
                .map_or(&[], Vec::as_slice)
        } else {
            std::slice::from_ref(&doc)
        };
        if list.len() > submission.limit {
            return Err(CaptureError::TooLarge {
                count: list.len(),
                limit: submission.limit,
            });
        }
        let mut out = Checked::default();
        let mut errors = Vec::new();
        match suyuan_epcis::masterdata::from_document(&doc) {
            Ok(m) if !m.is_empty() && !me.rows.is_all() => errors.push(FieldError {
                pointer: "/epcisHeader/epcisMasterData".into(),
                message: format!(
                    "master data is shared by every user; a {} may not change it",
                    me.role.as_str()
                ),
            }),
            Ok(m) => out.master_data = m,
            Err(e) => errors.extend(e),
        }
        match submission.behaviour {
            Behaviour::Rollback => {
                match parsed(&doc, from_xml) {
                    Ok(events) if errors.is_empty() => {
                        if let Some(reason) = self.capture_scope(me, &doc).await? {
                            return Err(CaptureError::Forbidden(reason));
                        }
                        out.origin = (0..events.len()).collect();
                        out.events = events;
                    }
                    Ok(_) => {}
                    Err(v) => errors.extend(v.0),
                }
                if !errors.is_empty() {
                    return Err(CaptureError::Invalid(ValidationErrors(errors)));
                }
            }
            Behaviour::Proceed => self.check_each(me, &doc, list, from_xml, &mut out).await?,
        }
        out.errors.splice(0..0, errors);
        let origin = if me.role == suyuan_core::access::Role::Partner {
            crate::validate::Origin::Partner
        } else {
            crate::validate::Origin::Plant
        };
        let verdict = self.judge(&out.events, origin).await?;
        let origin = out.origin.clone();
        out.warnings
            .extend(verdict.warnings.into_iter().map(|mut w| {
                w.pointer = located(&w.pointer, &origin);
                w
            }));
        out.warnings = crate::acceptance::listed_warnings(std::mem::take(&mut out.warnings));
        if !verdict.refused.is_empty() {
            let refused: std::collections::BTreeSet<usize> =
                verdict.refused.iter().map(|(i, _)| *i).collect();
            let errs = capped_errors(
                verdict
                    .refused
                    .into_iter()
                    .map(|(_, mut f)| {
                        f.pointer = located(&f.pointer, &origin);
                        f
                    })
                    .collect(),
            );
            if submission.behaviour == Behaviour::Rollback {
                return Err(CaptureError::Invalid(ValidationErrors(errs)));
            }
            out.errors.extend(errs);
            (out.events, out.origin) = std::mem::take(&mut out.events)
                .into_iter()
                .zip(origin)
                .enumerate()
                .filter(|(k, _)| !refused.contains(k))
                .map(|(_, pair)| pair)
                .unzip();
        }
        Ok(out)
    }

    /// Proceed: each event judged alone, in a document with the document's context (the shell is the
    /// document without its events and header: copying the whole document per event is quadratic).
    async fn check_each(
        &self,
        me: &Principal,
        doc: &Value,
        list: &[Value],
        from_xml: bool,
        out: &mut Checked,
    ) -> Result<(), CaptureError> {
        let mut shell = serde_json::Map::new();
        if let Some(d) = doc.as_object() {
            for (k, v) in d {
                if k != "epcisBody" && k != "epcisHeader" {
                    shell.insert(k.clone(), v.clone());
                }
            }
        }
        for (i, e) in list.iter().enumerate() {
            let mut one = Value::Object(shell.clone());
            one["epcisBody"] = serde_json::json!({"eventList": [e]});
            match parsed(&one, from_xml) {
                Ok(events) => match self.capture_scope(me, &one).await? {
                    None => {
                        out.origin.extend(std::iter::repeat_n(i, events.len()));
                        out.events.extend(events);
                    }
                    Some(reason) => out.errors.push(FieldError {
                        pointer: format!("/epcisBody/eventList/{i}"),
                        message: reason
                            .trim_start_matches("/epcisBody/eventList/0: ")
                            .to_string(),
                    }),
                },
                Err(v) => out.errors.extend(v.0.into_iter().map(|mut f| {
                    f.pointer = f.pointer.replacen(
                        "/epcisBody/eventList/0",
                        &format!("/epcisBody/eventList/{i}"),
                        1,
                    );
                    f
                })),
            }
        }
        Ok(())
    }

    /// Stores what passed the checks in one transaction: the events with their projections, and the master
    /// data with the event recording its capture by `actor`.
    pub async fn commit_checked(
        &self,
        actor: &str,
        checked: Checked,
    ) -> Result<CaptureOutcome, CaptureError> {
        let Checked {
            events,
            origin,
            master_data,
            errors,
            warnings,
        } = checked;
        let n = events.len();
        let ids: Vec<Option<String>> = events.iter().map(|e| e.event_id.clone()).collect();
        let mut commit = Commit::events(prepare_off_thread(events).await?);
        let elements = master_data.len();
        if elements > 0 {
            let (write, details) = Self::master_data_change(master_data);
            commit.events.push(crate::audit::admin_event(
                actor,
                "masterdata.captured",
                "masterdata",
                details,
            )?);
            commit.writes.push(write);
        }
        let mut appended = self.commit(commit).await.map_err(|e| match e {
            // A reused eventID is the document's fault: locate the event that reuses it.
            CaptureError::Conflict { error, .. } => {
                let pointer = match &error {
                    suyuan_store::StoreError::Conflict { event_id, .. } => ids
                        .iter()
                        .position(|id| id.as_deref() == Some(event_id.as_str()))
                        .and_then(|k| origin.get(k))
                        .map(|i| format!("/epcisBody/eventList/{i}/eventID"))
                        .unwrap_or_default(),
                    _ => String::new(),
                };
                CaptureError::Conflict { pointer, error }
            }
            other => other,
        })?;
        appended.truncate(n);
        let Totals { stored, duplicates } = Totals::of(&appended);
        Ok(CaptureOutcome {
            events: appended,
            stored,
            duplicates,
            master_data: elements,
            errors,
            warnings,
        })
    }
}

/// Prepares events for the store, off the async threads when there are many.
pub(crate) async fn prepare_off_thread(
    events: Vec<Event>,
) -> Result<Vec<suyuan_store::NewEvent>, CaptureError> {
    if events.len() <= 64 {
        return Ok(prepare(events));
    }
    tokio::task::spawn_blocking(move || prepare(events))
        .await
        .map_err(|e| {
            CaptureError::Store(suyuan_store::StoreError::Backend(format!(
                "prepare task failed: {e}"
            )))
        })
}
