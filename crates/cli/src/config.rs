//! `suyuan config export DIR` and `suyuan config import DIR [--dry-run]`: a plant's configuration as
//! versioned YAML files, one per definition (`DIR/<kind>/<name>.yaml`, keys in a stable order), so a setup
//! can be reviewed in git and moved to another site. An import reads and checks every file first — YAML
//! syntax, and each kind's own checks — and lists every problem with its file, line and field; it stores
//! nothing while any problem remains.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use serde_json::Value;
use suyuan_engine::Engine;
use suyuan_store::kinds;

use crate::StoreArgs;

/// The kinds of definitions that are configuration, in the order an import saves them.
pub const KINDS: [&str; 9] = [
    kinds::CODING_RULE,
    kinds::LABEL_TEMPLATE,
    kinds::CONSUMER_PAGE,
    suyuan_engine::quality::PLAN_KIND,
    suyuan_engine::forms::FORM_KIND,
    suyuan_engine::workflows::WORKFLOW_KIND,
    suyuan_engine::rules::RULE_KIND,
    suyuan_engine::reports::REPORT_KIND,
    suyuan_engine::reports::DASHBOARD_KIND,
];

/// `suyuan config …`.
#[derive(clap::Subcommand)]
pub enum ConfigCommand {
    /// Write every definition as YAML under DIR (one file per definition).
    Export {
        /// The folder to write (created if missing).
        dir: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Check the YAML files under DIR and save them as new versions (unchanged ones keep theirs).
    Import {
        /// The folder to read.
        dir: PathBuf,
        /// Check only: list every problem, save nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// `value` with every object's keys in order and empty fields left out, so exports of the same definition
/// are the same text.
fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(m) => {
            // Empty fields are left out: a file says what is set.
            let ordered: BTreeMap<&String, Value> = m
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, sorted(v)))
                .collect();
            Value::Object(ordered.into_iter().map(|(k, v)| (k.clone(), v)).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// Runs a config command.
pub async fn run(what: ConfigCommand) -> Result<()> {
    match what {
        ConfigCommand::Export { dir, store } => {
            let store = store.open().await?;
            let n = export(&store, &dir).await?;
            println!("Wrote {n} definitions under {}.", dir.display());
            Ok(())
        }
        ConfigCommand::Import {
            dir,
            dry_run,
            store,
        } => {
            let files = read(&dir)?;
            let engine = Engine::new(store.open().await?);
            let problems = check(&files);
            if !problems.is_empty() {
                for p in &problems {
                    eprintln!("{p}");
                }
                bail!(
                    "{} problem(s) in {}: nothing was imported",
                    problems.len(),
                    dir.display()
                );
            }
            if dry_run {
                println!(
                    "{} definitions checked under {}: no problems (nothing saved: --dry-run).",
                    files.len(),
                    dir.display()
                );
                return Ok(());
            }
            let (mut changed, mut same) = (0, 0);
            for f in &files {
                let before = engine
                    .reader()
                    .definition(&f.kind, &f.name, None)
                    .await?
                    .map(|d| d.version);
                let saved = save(&engine, f).await?;
                if before == Some(saved) {
                    same += 1;
                } else {
                    changed += 1;
                    println!("{}/{}: version {saved}", f.kind, f.name);
                }
            }
            println!("Imported {changed} new version(s); {same} unchanged.");
            Ok(())
        }
    }
}

/// Writes every configuration definition's latest version; answers how many.
async fn export(store: &std::sync::Arc<dyn suyuan_store::Store>, dir: &Path) -> Result<usize> {
    let mut n = 0;
    for kind in KINDS {
        // The store answers the latest version of each.
        let latest = store.definitions(kind).await?;
        if latest.is_empty() {
            continue;
        }
        let folder = dir.join(kind);
        std::fs::create_dir_all(&folder)
            .with_context(|| format!("cannot create {}", folder.display()))?;
        for d in latest {
            let name = &d.name;
            let yaml = serde_norway::to_string(&sorted(&d.definition))
                .with_context(|| format!("{kind}/{name} as YAML"))?;
            let text = format!("# Suyuan {kind} '{name}', version {}\n{yaml}", d.version);
            let path = folder.join(format!("{name}.yaml"));
            std::fs::write(&path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            n += 1;
        }
    }
    Ok(n)
}

/// One definition read from a file.
struct File {
    path: PathBuf,
    kind: String,
    name: String,
    text: String,
    doc: Result<Value, (usize, String)>,
}

/// Reads every `DIR/<kind>/<name>.yaml` (files of unknown kinds are a problem too).
fn read(dir: &Path) -> Result<Vec<File>> {
    let mut out = Vec::new();
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    let mut folders: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    folders.sort();
    for folder in folders.into_iter().filter(|p| p.is_dir()) {
        let kind = folder
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .collect();
        files.sort();
        for path in files {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let doc = serde_norway::from_str::<Value>(&text).map_err(|e| {
                let line = e.location().map_or(1, |l| l.line());
                (line, e.to_string())
            });
            out.push(File {
                name: path
                    .file_stem()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                kind: kind.clone(),
                path,
                text,
                doc,
            });
        }
    }
    // Saved in the order of KINDS: coding rules and templates before what refers to them.
    out.sort_by_key(|f| {
        KINDS
            .iter()
            .position(|k| *k == f.kind)
            .unwrap_or(usize::MAX)
    });
    Ok(out)
}

/// The line of `field` (its last part) in `text`, or 1.
fn line_of(text: &str, field: &str) -> usize {
    let key = field
        .rsplit('/')
        .find(|p| !p.is_empty() && p.parse::<usize>().is_err())
        .unwrap_or("");
    if key.is_empty() {
        return 1;
    }
    text.lines()
        .position(|l| {
            let t = l.trim_start().trim_start_matches("- ");
            t.starts_with(&format!("{key}:"))
        })
        .map_or(1, |i| i + 1)
}

/// Every problem of the files, as `file:line: field: expected`.
fn check(files: &[File]) -> Vec<String> {
    let mut out = Vec::new();
    for f in files {
        let at = |field: &str, expected: &str| {
            format!(
                "{}:{}: {field}: {expected}",
                f.path.display(),
                line_of(&f.text, field)
            )
        };
        let doc = match &f.doc {
            Ok(d) => d,
            Err((line, why)) => {
                out.push(format!("{}:{line}: {why}", f.path.display()));
                continue;
            }
        };
        for (field, expected) in problems(&f.kind, &f.name, doc) {
            out.push(at(&field, &expected));
        }
    }
    out
}

/// What is wrong with a definition of `kind` named `name`: (field, what was expected).
fn problems(kind: &str, name: &str, doc: &Value) -> Vec<(String, String)> {
    let named = |code: Option<&str>| match code {
        Some(c) if c == name => Vec::new(),
        other => vec![(
            "code".to_string(),
            format!(
                "the file's name '{name}' (found {})",
                other.unwrap_or("none")
            ),
        )],
    };
    match kind {
        k if k == suyuan_engine::rules::RULE_KIND => {
            match serde_json::from_value::<suyuan_rules::Rule>(doc.clone()) {
                Err(e) => vec![(String::new(), e.to_string())],
                Ok(rule) => {
                    let mut p = named(Some(&rule.code));
                    if let Err(list) = suyuan_rules::compile(&rule) {
                        p.extend(list.into_iter().map(|x| (x.field, x.expected)));
                    }
                    p
                }
            }
        }
        k if k == suyuan_engine::forms::FORM_KIND => {
            match serde_json::from_value::<suyuan_forms::Form>(doc.clone()) {
                Err(e) => vec![(String::new(), e.to_string())],
                Ok(form) => {
                    let mut p = named(Some(&form.code));
                    p.extend(form.problems().into_iter().map(|x| (x.field, x.en)));
                    p
                }
            }
        }
        k if k == suyuan_engine::reports::REPORT_KIND => {
            match serde_json::from_value::<suyuan_reports::Report>(doc.clone()) {
                Err(e) => vec![(String::new(), e.to_string())],
                Ok(r) => {
                    let mut p = named(Some(&r.code));
                    p.extend(r.problems().into_iter().map(|x| (x.field, x.en)));
                    p
                }
            }
        }
        k if k == suyuan_engine::reports::DASHBOARD_KIND => {
            match serde_json::from_value::<suyuan_reports::Dashboard>(doc.clone()) {
                Err(e) => vec![(String::new(), e.to_string())],
                Ok(d) => {
                    // Which metrics and reports exist is checked again when it is saved.
                    let named_here = |f: fn(&suyuan_reports::Widget) -> Option<&String>| {
                        d.widgets.iter().filter_map(f).cloned().collect::<Vec<_>>()
                    };
                    let mut p = named(Some(&d.code));
                    p.extend(
                        d.problems(
                            &named_here(|w| w.metric.as_ref()),
                            &named_here(|w| w.report.as_ref()),
                        )
                        .into_iter()
                        .map(|x| (x.field, x.en)),
                    );
                    p
                }
            }
        }
        k if k == suyuan_engine::workflows::WORKFLOW_KIND => {
            match serde_json::from_value::<suyuan_workflows::Workflow>(doc.clone()) {
                Err(e) => vec![(String::new(), e.to_string())],
                Ok(wf) => {
                    let mut p = named(Some(&wf.code));
                    p.extend(wf.problems().into_iter().map(|x| (x.field, x.en)));
                    p
                }
            }
        }
        k if k == suyuan_engine::quality::PLAN_KIND => {
            match serde_json::from_value::<suyuan_quality::plan::InspectionPlan>(doc.clone()) {
                Err(e) => vec![(String::new(), e.to_string())],
                Ok(plan) => {
                    let mut p = named(Some(&plan.code));
                    p.extend(plan.problems().into_iter().map(|x| (x.field, x.expected)));
                    p
                }
            }
        }
        kinds::CODING_RULE => match suyuan_engine::codes::parse_rule(doc) {
            Ok(_) => Vec::new(),
            Err(e) => vec![(String::new(), e.to_string())],
        },
        kinds::LABEL_TEMPLATE => match suyuan_labels::LabelTemplate::from_json(doc) {
            Ok(_) => Vec::new(),
            Err(e) => vec![(String::new(), e.to_string())],
        },
        // The page reads what it knows of its settings and keeps defaults for the rest.
        kinds::CONSUMER_PAGE if doc.is_object() => Vec::new(),
        kinds::CONSUMER_PAGE => vec![(
            String::new(),
            "the consumer page's settings (contact, granularity, links)".into(),
        )],
        other => vec![(
            String::new(),
            format!(
                "a folder named after a kind ({}), not '{other}'",
                KINDS.join(", ")
            ),
        )],
    }
}

/// Saves one checked definition through its kind's command; answers its version.
async fn save(engine: &Engine, f: &File) -> Result<u32> {
    let doc = f.doc.as_ref().map_err(|(_, e)| anyhow::anyhow!("{e}"))?;
    let actor = "config-import";
    Ok(match f.kind.as_str() {
        k if k == suyuan_engine::rules::RULE_KIND => {
            let rule: suyuan_rules::Rule = serde_json::from_value(doc.clone())?;
            engine.save_event_rule(actor, &rule).await?.version
        }
        kinds::CODING_RULE => engine.save_rule(actor, &f.name, doc).await?.version,
        _ => {
            engine
                .save_definition(actor, &f.kind, &f.name, doc)
                .await?
                .version
        }
    })
}
