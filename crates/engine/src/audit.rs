//! Administrative changes and their ledger events: a change to accounts, definitions, codes or master data is
//! stored in the same transaction as the event that records it (who, what, which record), so the audit trail
//! can never miss a change nor tell of one that did not happen.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use suyuan_store::{Appended, Commit, NewEvent, StoreError, StoredDefinition, Write};

use crate::{CaptureError, Engine};

/// The business step of administrative change events.
pub const ADMIN_BIZSTEP: &str = "https://suyuan.dev/voc/bizStep/administering";
/// Suyuan's JSON-LD namespace (the `sy:` prefix of extension fields).
pub const SY_NS: &str = "https://suyuan.dev/ns#";

/// Lowercase hex SHA-256 of a text.
pub(crate) fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// `subject` with every character a URI may not hold as it is percent-encoded (a record named
/// `06901234123456/2/inlet temperature` or `配料间`).
fn uri_safe(subject: &str) -> String {
    let mut out = String::with_capacity(subject.len());
    for b in subject.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:/@!$&'()*+,;=".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The ledger event recording that `actor` made `change` to `subject`.
pub fn admin_event(
    actor: &str,
    change: &str,
    subject: &str,
    details: Value,
) -> Result<NewEvent, CaptureError> {
    let at = suyuan_core::time::format_utc_millis(chrono::Utc::now());
    let event = json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"sy": SY_NS}],
        "type": "ObjectEvent", "eventTime": at, "eventTimeZoneOffset": "+00:00",
        "action": "OBSERVE", "bizStep": ADMIN_BIZSTEP,
        "epcList": [format!("urn:suyuan:sys:{}", uri_safe(subject))],
        "sy:change": change, "sy:actor": actor, "sy:details": details,
    });
    let mut events = suyuan_epcis::parse_capture(&event)?;
    let e = events.pop().ok_or(CaptureError::Empty)?;
    Ok(NewEvent::from_event(e))
}

impl Engine {
    /// Stores `writes` and the event recording them in one transaction: both, or neither. Outside the engine,
    /// changes go through the named commands that build their writes.
    pub(crate) async fn change(
        &self,
        actor: &str,
        change: &str,
        subject: &str,
        details: Value,
        writes: Vec<Write>,
    ) -> Result<Appended, CaptureError> {
        let event = admin_event(actor, change, subject, details)?;
        let mut out = self
            .commit(Commit {
                events: vec![event],
                writes,
            })
            .await?;
        out.pop().ok_or_else(|| {
            CaptureError::Store(StoreError::Backend("commit answered nothing".into()))
        })
    }

    /// Records an administrative change that writes nothing else (a sign-in policy, an export…).
    pub async fn record_admin_change(
        &self,
        actor: &str,
        change: &str,
        subject: &str,
        details: Value,
    ) -> Result<(), CaptureError> {
        self.change(actor, change, subject, details, Vec::new())
            .await
            .map(|_| ())
    }

    /// Saves a versioned definition (coding rule, label template, query…): a new version is stored with the
    /// ledger event naming the SHA-256 of its JCS form. An unchanged save keeps its version and records
    /// nothing; a save racing another is retried on the version it made.
    pub async fn save_definition(
        &self,
        actor: &str,
        kind: &str,
        name: &str,
        definition: &Value,
    ) -> Result<StoredDefinition, CaptureError> {
        for _ in 0..5 {
            let latest = self
                .store()
                .definition(kind, name, None)
                .await
                .map_err(CaptureError::Store)?;
            if let Some(d) = &latest
                && &d.definition == definition
            {
                return Ok(d.clone());
            }
            let version = latest.map_or(1, |d| d.version + 1);
            let jcs = suyuan_ledger::jcs::canonical_json(definition);
            let write = Write::Definition {
                kind: kind.into(),
                name: name.into(),
                version,
                definition: definition.clone(),
            };
            let details =
                json!({"kind": kind, "name": name, "version": version, "sha256": sha256_hex(&jcs)});
            match self
                .change(
                    actor,
                    "definition.saved",
                    &format!("{kind}:{name}"),
                    details,
                    vec![write],
                )
                .await
            {
                Ok(_) => {
                    return self
                        .store()
                        .definition(kind, name, Some(version))
                        .await
                        .map_err(CaptureError::Store)?
                        .ok_or_else(|| {
                            CaptureError::Store(StoreError::Backend(format!(
                                "definition {kind}:{name} v{version} was stored but cannot be read"
                            )))
                        });
                }
                Err(CaptureError::Store(StoreError::Exists { .. })) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(CaptureError::Store(StoreError::Backend(format!(
            "definition {kind}:{name} kept changing while it was saved"
        ))))
    }

    /// The master data elements as one write, and the details of the event that records their capture (each
    /// element with the SHA-256 of its JCS form as captured).
    pub(crate) fn master_data_change(
        elements: Vec<suyuan_epcis::masterdata::VocabularyElement>,
    ) -> (Write, Value) {
        let listed: Vec<Value> = elements
            .iter()
            .map(|e| {
                let jcs = suyuan_ledger::jcs::canonical_json(&e.to_doc());
                json!({"type": e.vtype, "id": e.id, "sha256": sha256_hex(&jcs)})
            })
            .collect();
        (Write::MasterData(elements), json!({"elements": listed}))
    }

    /// Stores a new EPCIS subscription `id` (its document `doc`: `query`, `dest`, `stream`, `schedule`, …) with
    /// the event recording who sends which query's events where.
    pub async fn create_subscription(
        &self,
        actor: &str,
        id: &str,
        doc: &Value,
    ) -> Result<Appended, CaptureError> {
        let details = json!({"query": doc["query"], "dest": doc["dest"], "stream": doc["stream"],
                             "schedule": doc["schedule"]});
        let write = Write::PutRecord {
            kind: suyuan_store::account_kinds::SUBSCRIPTION.into(),
            id: id.into(),
            doc: doc.clone(),
            create: true,
        };
        self.change(
            actor,
            "subscription.created",
            &format!("subscription:{id}"),
            details,
            vec![write],
        )
        .await
    }

    /// Ends EPCIS subscription `id` (of named query `query`) with the event recording who ended it.
    pub async fn delete_subscription(
        &self,
        actor: &str,
        id: &str,
        query: &str,
    ) -> Result<Appended, CaptureError> {
        let write = Write::DeleteRecord {
            kind: suyuan_store::account_kinds::SUBSCRIPTION.into(),
            id: id.into(),
            must_exist: false,
        };
        self.change(
            actor,
            "subscription.deleted",
            &format!("subscription:{id}"),
            json!({"query": query}),
            vec![write],
        )
        .await
    }

    /// Writes operational state that is not an administrative change — a subscription's delivery cursor and
    /// back-off — as the record `kind`/`id`, without a ledger event (its creation and deletion have one).
    pub async fn save_state(&self, kind: &str, id: &str, doc: &Value) -> Result<(), StoreError> {
        self.store().put_account(kind, id, doc, false).await
    }

    /// Remembers a user's interface language (`zh-CN`, `en`), so that it follows them to another device.
    pub async fn set_language(&self, user: &str, lang: &str) -> Result<(), StoreError> {
        let current = self.store().account("preference", user).await?;
        if current
            .as_ref()
            .and_then(|v| v.get("lang"))
            .and_then(Value::as_str)
            == Some(lang)
        {
            return Ok(());
        }
        self.save_state("preference", user, &json!({"lang": lang}))
            .await
    }

    /// The interface language a user chose last, if any.
    pub async fn language(&self, user: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .store()
            .account("preference", user)
            .await?
            .and_then(|v| v.get("lang")?.as_str().map(str::to_string)))
    }

    /// Stores master data (merged per type and id) with the event recording its capture, in one transaction.
    pub async fn save_master_data(
        &self,
        actor: &str,
        elements: Vec<suyuan_epcis::masterdata::VocabularyElement>,
    ) -> Result<(), CaptureError> {
        if elements.is_empty() {
            return Ok(());
        }
        let (write, details) = Self::master_data_change(elements);
        self.change(
            actor,
            "masterdata.captured",
            "masterdata",
            details,
            vec![write],
        )
        .await
        .map(|_| ())
    }

    /// Revokes an issued code (by text or identity) with the event recording who and why; fails with
    /// [`StoreError::Missing`] when no unrevoked code matches.
    pub async fn revoke_code(
        &self,
        actor: &str,
        code: &str,
        reason: &str,
    ) -> Result<Appended, CaptureError> {
        self.change(
            actor,
            "code.revoked",
            &format!("code:{code}"),
            json!({"code": code, "reason": reason}),
            vec![Write::RevokeCode {
                code: code.into(),
                reason: reason.into(),
            }],
        )
        .await
    }
}
