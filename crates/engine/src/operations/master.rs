//! Operations master data: every record (product, BOM line, routing step, location, equipment, supplier,
//! customer, operator) is a versioned definition of kind `md.{kind}`, saved with the ledger event naming the
//! SHA-256 of each version, so the audit trail holds every change. A bulk import checks the whole file first
//! and stores every record of a clean file in one transaction with one event.

use serde::Serialize;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use suyuan_ops::import::{Checked, Table};
use suyuan_ops::kinds::{Kind, kind};
use suyuan_store::{StoredDefinition, Write};

use super::{OpsError, problem};
use crate::Engine;
use crate::audit::sha256_hex;

/// The definition kind of master data kind `k`.
pub fn definition_kind(k: &str) -> String {
    format!("md.{k}")
}

/// One live record: its name, its fields and its version.
pub type Record = (String, Map<String, Value>, u32);

/// The latest version of every live record, by kind and name.
#[derive(Debug, Default)]
pub struct Records {
    by_kind: HashMap<String, Vec<Record>>,
}

impl Records {
    /// Every live record of a kind: `(name, record, version)`, by name.
    pub fn of(&self, kind: &str) -> &[Record] {
        self.by_kind.get(kind).map_or(&[], Vec::as_slice)
    }

    /// The record `name` of `kind`.
    pub fn get(&self, kind: &str, name: &str) -> Option<&Map<String, Value>> {
        let list = self.of(kind);
        list.binary_search_by(|(n, _, _)| n.as_str().cmp(name))
            .ok()
            .map(|i| &list[i].1)
    }

    /// Whether `name` of `kind` exists.
    pub fn has(&self, kind: &str, name: &str) -> bool {
        self.get(kind, name).is_some()
    }

    /// A list field of a record (`lines`, `materials`, `regions`); empty when absent.
    pub fn texts(&self, kind: &str, name: &str, field: &str) -> Vec<&str> {
        self.get(kind, name)
            .and_then(|r| r.get(field))
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }

    /// The record of `kind` whose GLN a party or location key names (a PGLN or SGLN Digital Link, or the
    /// GLN itself).
    pub fn by_gln(&self, kind: &str, key: &str) -> Option<&str> {
        self.of(kind).iter().find_map(|(code, r, _)| {
            let gln = r.get("gln").and_then(Value::as_str).unwrap_or("");
            (!gln.is_empty()
                && (key == gln
                    || key.ends_with(&format!("/417/{gln}"))
                    || key.ends_with(&format!("/414/{gln}"))))
            .then_some(code.as_str())
        })
    }

    /// A text field of a record.
    pub fn text(&self, kind: &str, name: &str, field: &str) -> Option<&str> {
        self.get(kind, name)?.get(field)?.as_str()
    }

    /// The display name of a record (`name_zh`/`name_en` by language, else `name`, else its code).
    pub fn label(&self, kind: &str, name: &str, english: bool) -> String {
        let Some(r) = self.get(kind, name) else {
            return name.to_string();
        };
        let pick = |k: &str| r.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
        let first = if english {
            pick("name_en").or(pick("name_zh"))
        } else {
            pick("name_zh").or(pick("name_en"))
        };
        first.or(pick("name")).unwrap_or(name).to_string()
    }

    /// The BOM lines of a product.
    pub fn bom(&self, product: &str) -> Vec<suyuan_ops::workorder::BomLine> {
        self.of("bom")
            .iter()
            .filter(|(_, r, _)| r.get("product").and_then(Value::as_str) == Some(product))
            .map(|(_, r, _)| suyuan_ops::workorder::BomLine {
                input: r.get("input").and_then(Value::as_str).unwrap_or("").into(),
                quantity: r.get("quantity").and_then(Value::as_f64).unwrap_or(0.0),
                unit: r.get("unit").and_then(Value::as_str).unwrap_or("").into(),
                tolerance_pct: r
                    .get("tolerance_pct")
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0),
            })
            .collect()
    }

    /// The location whose GLN/SGLN or code is `key` (a location key as the projections hold it, an SGLN,
    /// or a code).
    pub fn location_by_place(&self, key: &str) -> Option<&str> {
        self.of("location").iter().find_map(|(name, r, _)| {
            let gln = r.get("gln").and_then(Value::as_str).unwrap_or("");
            let matches = name == key
                || (!gln.is_empty()
                    && (gln == key
                        || suyuan_core::projection::object_key(gln) == key
                        || place_uri(gln) == key
                        || suyuan_core::projection::object_key(&place_uri(gln)) == key));
            matches.then_some(name.as_str())
        })
    }

    /// The chain of a location's parents, from itself up.
    pub fn location_chain(&self, code: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut at = Some(code.to_string());
        while let Some(c) = at {
            if out.contains(&c) || out.len() > 16 {
                break;
            }
            at = self.text("location", &c, "parent").map(str::to_string);
            out.push(c);
        }
        out
    }
}

/// The identifier events use for a location: its SGLN (a GLN becomes `…{gln}.0` with a 7-digit company
/// prefix), else `urn:suyuan:plant:loc:{code}`.
pub fn place_uri(gln_or_code: &str) -> String {
    let g = gln_or_code.trim();
    if g.starts_with("urn:") {
        return g.to_string();
    }
    if g.len() == 13 && g.bytes().all(|b| b.is_ascii_digit()) {
        return format!("urn:epc:id:sgln:{}.{}.0", &g[..7], &g[7..12]);
    }
    format!("urn:suyuan:plant:loc:{g}")
}

/// What an import did or would do.
#[derive(Debug, Clone, Serialize)]
pub struct ImportOutcome {
    /// The kind imported.
    pub kind: String,
    /// Data rows read.
    pub rows: usize,
    /// Whether anything was stored (false for a dry run and for a file with problems).
    pub imported: bool,
    /// Records that would be new.
    pub new: usize,
    /// Records that would change.
    pub changed: usize,
    /// Records the same as stored.
    pub unchanged: usize,
    /// Every problem, by row and column.
    pub problems: Vec<suyuan_ops::import::RowProblem>,
}

/// The record cache.
#[derive(Default)]
pub struct RecordCache {
    loaded: tokio::sync::RwLock<Option<(Instant, Arc<Records>)>>,
}

impl std::fmt::Debug for RecordCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecordCache")
    }
}

const FRESH_FOR: Duration = Duration::from_secs(5);

fn kind_or_404(k: &str) -> Result<&'static Kind, OpsError> {
    kind(k).ok_or_else(|| OpsError::NotFound(format!("master data kind '{k}'")))
}

impl Engine {
    /// Every live master data record (cached for a few seconds; a save here refreshes it at once).
    pub async fn records(&self) -> Result<Arc<Records>, OpsError> {
        if let Some((at, r)) = self.records.loaded.read().await.as_ref()
            && at.elapsed() < FRESH_FOR
        {
            return Ok(r.clone());
        }
        let mut fresh = Records::default();
        for k in suyuan_ops::kinds::KINDS {
            let mut list: Vec<Record> = self
                .store()
                .definitions(&definition_kind(k.name))
                .await?
                .into_iter()
                .filter(|d| d.definition.get("retired").and_then(Value::as_bool) != Some(true))
                .filter_map(|d| {
                    Some((
                        d.name,
                        d.definition.get("record")?.as_object()?.clone(),
                        d.version,
                    ))
                })
                .collect();
            list.sort_by(|a, b| a.0.cmp(&b.0));
            fresh.by_kind.insert(k.name.to_string(), list);
        }
        let fresh = Arc::new(fresh);
        *self.records.loaded.write().await = Some((Instant::now(), fresh.clone()));
        Ok(fresh)
    }

    async fn forget_records(&self) {
        *self.records.loaded.write().await = None;
    }

    /// Checks and saves one record of `kind` (a new version when it changed), with its ledger event.
    pub async fn save_record(
        &self,
        actor: &str,
        kind_name: &str,
        raw: &Map<String, Value>,
    ) -> Result<StoredDefinition, OpsError> {
        let k = kind_or_404(kind_name)?;
        let records = self.records().await?;
        let rec = k
            .normalise(raw, &|kind, code| records.has(kind, code))
            .map_err(OpsError::Invalid)?;
        let name = k.id_of(&rec);
        let saved = self
            .save_definition(
                actor,
                &definition_kind(k.name),
                &name,
                &json!({"record": rec}),
            )
            .await?;
        self.forget_records().await;
        Ok(saved)
    }

    /// Retires a record (a new version marked retired: it leaves every list, its history stays).
    pub async fn retire_record(
        &self,
        actor: &str,
        kind_name: &str,
        name: &str,
    ) -> Result<StoredDefinition, OpsError> {
        let k = kind_or_404(kind_name)?;
        let current = self
            .store()
            .definition(&definition_kind(k.name), name, None)
            .await?
            .filter(|d| d.definition.get("retired").and_then(Value::as_bool) != Some(true))
            .ok_or_else(|| OpsError::NotFound(format!("{kind_name} '{name}'")))?;
        let mut doc = current.definition.clone();
        doc["retired"] = Value::Bool(true);
        let saved = self
            .save_definition(actor, &definition_kind(k.name), name, &doc)
            .await?;
        self.forget_records().await;
        Ok(saved)
    }

    /// Every version of a record, oldest first.
    pub async fn record_history(
        &self,
        kind_name: &str,
        name: &str,
    ) -> Result<Vec<StoredDefinition>, OpsError> {
        let k = kind_or_404(kind_name)?;
        Ok(self
            .store()
            .definition_versions(&definition_kind(k.name), name)
            .await?)
    }

    /// Checks a CSV or XLSX file of `kind` and, unless `dry_run` or the file has problems, stores every new or
    /// changed record in one transaction with one ledger event (the file's SHA-256 and each record's).
    pub async fn import_records(
        &self,
        actor: &str,
        kind_name: &str,
        bytes: &[u8],
        dry_run: bool,
    ) -> Result<ImportOutcome, OpsError> {
        let k = kind_or_404(kind_name)?;
        let table = Table::read(bytes)?;
        let records = self.records().await?;
        let checked: Checked =
            suyuan_ops::import::check(k, &table, &|kind, code| records.has(kind, code));
        let dk = definition_kind(k.name);
        let mut out = ImportOutcome {
            kind: k.name.into(),
            rows: checked.rows,
            imported: false,
            new: 0,
            changed: 0,
            unchanged: 0,
            problems: checked.problems.clone(),
        };
        let mut writes = Vec::new();
        let mut listed = Vec::new();
        for (_, name, rec) in &checked.records {
            let latest = self.store().definition(&dk, name, None).await?;
            let doc = json!({"record": rec});
            match &latest {
                Some(d) if d.definition == doc => {
                    out.unchanged += 1;
                    continue;
                }
                Some(_) => out.changed += 1,
                None => out.new += 1,
            }
            let version = latest.map_or(1, |d| d.version + 1);
            let jcs = suyuan_ledger::jcs::canonical_json(&doc);
            listed.push(json!({"name": name, "version": version, "sha256": sha256_hex(&jcs)}));
            writes.push(Write::Definition {
                kind: dk.clone(),
                name: name.clone(),
                version,
                definition: doc,
            });
        }
        if dry_run || !checked.clean() || writes.is_empty() {
            return Ok(out);
        }
        let file_hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes));
        self.change(
            actor,
            "masterdata.imported",
            &format!("{dk}:import"),
            json!({"kind": k.name, "file_sha256": file_hash, "records": listed}),
            writes,
        )
        .await?;
        self.forget_records().await;
        out.imported = true;
        Ok(out)
    }

    /// Whether a location code may feed work centre `line` (inside its line, or a warehouse area).
    pub(crate) fn feeds(records: &Records, location_key: &str, line: &str) -> bool {
        let Some(code) = records.location_by_place(location_key) else {
            return true;
        };
        let chain = records.location_chain(code);
        if chain.iter().any(|c| c == line) {
            return true;
        }
        chain.iter().any(|c| {
            matches!(
                records.text("location", c, "level"),
                Some("warehouse" | "zone" | "bin")
            )
        })
    }

    /// The projection keys of a location and of every location under it (by code; a key given as such is
    /// taken as it is).
    pub fn location_keys(&self, records: &Records, code: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut todo = vec![code.to_string()];
        while let Some(c) = todo.pop() {
            if out.len() > 10_000 {
                break;
            }
            let gln = records
                .text("location", &c, "gln")
                .or_else(|| records.text("customer", &c, "gln"))
                .unwrap_or(&c)
                .to_string();
            out.push(suyuan_core::projection::object_key(&place_uri(&gln)));
            for (name, r, _) in records.of("location") {
                if r.get("parent").and_then(Value::as_str) == Some(c.as_str()) {
                    todo.push(name.clone());
                }
            }
        }
        if !records.has("location", code) && !records.has("customer", code) {
            out.push(suyuan_core::projection::object_key(code));
        }
        out
    }

    /// The error for a field that names an unknown record.
    pub(crate) fn unknown(field: &str, kind: &str) -> OpsError {
        problem(field, format!("the code of an existing {kind}"))
    }
}
