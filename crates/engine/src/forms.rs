//! Forms: definitions (kind `form`, versioned, each version on the ledger), looking up what a scan field
//! was given, and submissions — checked against the latest version, turned into the form's event and
//! recorded through the one write path with the submission record in the same transaction. A submission
//! keeps its form version, so it renders with that version forever.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use suyuan_forms::event::{Context, to_event};
use suyuan_forms::{Form, Found, Problem, Scanned, check};
use suyuan_store::{StoreError, Write};

use crate::Engine;
use crate::operations::{OpsError, event, event_id_for, now_text};

/// The definition kind of forms.
pub const FORM_KIND: &str = "form";

/// The record kind of submissions.
pub const SUBMISSION_KIND: &str = "form.submission";

/// Why a form or a submission was refused.
#[derive(Debug, thiserror::Error)]
pub enum FormError {
    /// Fields are wrong; each problem names one, in both languages.
    #[error("{}", .0.iter().map(|p| format!("{}: {}", p.field, p.en)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<Problem>),
    /// Anything else (not found, the store, the ledger's own checks).
    #[error(transparent)]
    Ops(#[from] OpsError),
}

impl From<StoreError> for FormError {
    fn from(e: StoreError) -> Self {
        FormError::Ops(e.into())
    }
}

/// A form version.
#[derive(Debug, Clone, Serialize)]
pub struct FormView {
    /// The definition.
    pub form: Form,
    /// Its version.
    pub version: u32,
    /// When it was saved.
    pub saved_at: String,
}

/// A submission as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Submission {
    /// Its id (`FS-…`).
    pub id: String,
    /// The form's code.
    pub form: String,
    /// The form version it was made with.
    pub version: u32,
    /// The checked values.
    pub values: Value,
    /// The event it became.
    pub event_id: String,
    /// Who submitted it.
    pub by: String,
    /// When.
    pub at: String,
}

fn view(d: suyuan_store::StoredDefinition) -> Option<FormView> {
    Some(FormView {
        form: serde_json::from_value(d.definition).ok()?,
        version: d.version,
        saved_at: d.created_at,
    })
}

impl Engine {
    /// Saves a form (a new version when it changed) after checking every field.
    pub async fn save_form(&self, actor: &str, form: &Form) -> Result<FormView, FormError> {
        let problems = form.problems();
        if !problems.is_empty() {
            return Err(FormError::Invalid(problems));
        }
        let doc = serde_json::to_value(form).unwrap_or(Value::Null);
        let d = self
            .save_definition(actor, FORM_KIND, &form.code, &doc)
            .await
            .map_err(OpsError::from)?;
        view(d).ok_or_else(|| OpsError::NotFound(format!("form {}", form.code)).into())
    }

    /// The latest version of every form, by code.
    pub async fn forms(&self) -> Result<Vec<FormView>, FormError> {
        let mut v: Vec<FormView> = self
            .store()
            .definitions(FORM_KIND)
            .await?
            .into_iter()
            .filter_map(view)
            .collect();
        v.sort_by(|a, b| a.form.code.cmp(&b.form.code));
        Ok(v)
    }

    /// A version of form `code` (the latest when `version` is `None`).
    pub async fn form(&self, code: &str, version: Option<u32>) -> Result<FormView, FormError> {
        self.store()
            .definition(FORM_KIND, code, version)
            .await?
            .and_then(view)
            .ok_or_else(|| {
                OpsError::NotFound(match version {
                    Some(v) => format!("form {code} version {v}"),
                    None => format!("form {code}"),
                })
                .into()
            })
    }

    /// Every version of form `code`, oldest first.
    pub async fn form_versions(&self, code: &str) -> Result<Vec<FormView>, FormError> {
        Ok(self
            .store()
            .definition_versions(FORM_KIND, code)
            .await?
            .into_iter()
            .filter_map(view)
            .collect())
    }

    /// What a scan field was given: the code read (a printed lot or serial number is looked up in the
    /// search index and stands for its one match) and what the ledger knows of the object; `None` when it
    /// is neither a code nor a number the plant printed.
    pub async fn lookup_scan(&self, text: &str) -> Result<Option<(Scanned, Found)>, StoreError> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let scanned = match Scanned::read(text) {
            Ok(s) => s,
            Err(_) => {
                let mut keys = Vec::new();
                for term in suyuan_core::search::read_query(text).terms {
                    for (kind, target) in self.store().search_terms(&term, 3).await? {
                        if matches!(kind.as_str(), "serial" | "lot" | "sscc")
                            && !keys.contains(&target)
                        {
                            keys.push(target);
                        }
                    }
                }
                let [key] = keys.as_slice() else {
                    return Ok(None);
                };
                let Ok(mut s) = Scanned::read(key) else {
                    return Ok(None);
                };
                s.text = text.to_string();
                s
            }
        };
        let state = self.store().object(&scanned.key).await?;
        let names = self.names().await?;
        let (gtin, lot, serial) = scanned.gs1_parts();
        let product = gtin
            .map(str::to_string)
            .or_else(|| suyuan_ops::facts::product_and_lot(&scanned.key).map(|(p, _)| p));
        let name = names.of(&scanned.key).map(|n| n.name.clone());
        let rule = self
            .store()
            .issued(&scanned.key)
            .await?
            .into_iter()
            .find(|c| c.revoked.is_none())
            .map(|c| c.rule);
        let found = Found {
            key: scanned.key.clone(),
            exists: state.is_some(),
            product,
            name,
            lot: lot.map(str::to_string),
            serial: serial.map(str::to_string),
            location: state.as_ref().and_then(|s| s.location.clone()),
            disposition: state
                .as_ref()
                .and_then(|s| s.disposition.as_deref())
                .map(|d| suyuan_core::cbv::bare_term(d).to_string()),
            container: state.and_then(|s| s.container),
            rule,
        };
        Ok(Some((scanned, found)))
    }

    /// Records a submission of form `code` by `actor`: checked against the form's latest version, turned
    /// into its event and stored with the submission record in one transaction. The same `request_id`
    /// answers the first submission again instead of recording a second.
    pub async fn submit_form(
        &self,
        actor: &str,
        code: &str,
        raw: &Value,
        request_id: Option<&str>,
    ) -> Result<Submission, FormError> {
        let fv = self.form(code, None).await?;
        if !fv.form.enabled {
            return Err(FormError::Invalid(vec![Problem::new(
                "form",
                format!("a form that takes submissions ({code} is disabled)"),
                format!("可提交的表单（{code} 已停用）"),
            )]));
        }
        let seed = request_id
            .map(str::to_string)
            .unwrap_or_else(|| format!("{actor}\u{1f}{}\u{1f}{raw}", now_text()));
        let id = crate::quality::short_id("FS", &format!("{code}\u{1f}{seed}"));
        if let Some(done) = self.submission(&id).await? {
            return Ok(done);
        }
        let mut resolved = BTreeMap::new();
        for t in suyuan_forms::fill::scan_texts(&fv.form, raw) {
            if let Some(x) = self.lookup_scan(&t).await? {
                resolved.insert(t, x);
            }
        }
        let filled = check(&fv.form, raw, &resolved).map_err(FormError::Invalid)?;
        let at = now_text();
        let ctx = Context {
            submission: id.clone(),
            version: fv.version,
            actor: actor.to_string(),
            time: at.clone(),
        };
        let mut v = to_event(&fv.form, &filled, &ctx);
        let event_id = event_id_for("form", &id);
        v["eventID"] = json!(event_id);
        let ev = event(v)?;
        let sub = Submission {
            id: id.clone(),
            form: code.to_string(),
            version: fv.version,
            values: Value::Object(filled.values),
            event_id,
            by: actor.to_string(),
            at,
        };
        let write = Write::PutRecord {
            kind: SUBMISSION_KIND.into(),
            id: id.clone(),
            doc: serde_json::to_value(&sub).unwrap_or_default(),
            create: true,
        };
        match self.capture_events_with(vec![ev], vec![write]).await {
            Ok(_) => Ok(sub),
            // The same request made meanwhile: that one stands.
            Err(crate::CaptureError::Store(StoreError::Exists { .. })) => {
                Ok(self.submission(&id).await?.unwrap_or(sub))
            }
            Err(e) => Err(OpsError::from(e).into()),
        }
    }

    /// The submission `id`.
    pub async fn submission(&self, id: &str) -> Result<Option<Submission>, StoreError> {
        Ok(self
            .store()
            .account(SUBMISSION_KIND, id)
            .await?
            .and_then(|d| serde_json::from_value(d).ok()))
    }

    /// The submissions of form `code` (every form when `None`), newest first, at most `limit`.
    pub async fn submissions(
        &self,
        code: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Submission>, StoreError> {
        let mut v: Vec<Submission> = self
            .store()
            .accounts(SUBMISSION_KIND)
            .await?
            .into_iter()
            .filter_map(|(_, d)| serde_json::from_value::<Submission>(d).ok())
            .filter(|s| code.is_none_or(|c| s.form == c))
            .collect();
        v.sort_by(|a, b| b.at.cmp(&a.at).then(b.id.cmp(&a.id)));
        v.truncate(limit);
        Ok(v)
    }
}
