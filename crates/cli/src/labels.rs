//! `suyuan codes …` and `suyuan labels …`: coding rules, issuing and checking codes, label templates and
//! printing batches of labels to PDF, ZPL files or a port-9100 printer.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;
use suyuan_core::coding::Context;
use suyuan_engine::codes::IssueRequest;
use suyuan_labels::{Format, LabelTemplate, Vars};
use suyuan_server::api::labels::{JobRequest, run_job};
use suyuan_store::kinds;

use crate::StoreArgs;

/// What `suyuan codes` does.
#[derive(Subcommand)]
pub enum CodesCommand {
    /// Save a coding rule (a new version when it changed). DEFINITION is a JSON file or inline JSON, e.g.
    /// '{"template": "{PLANT}{YY}{JJJ}{SEQ:6:10:daily}{CHECK:mod10}", "target": "sgtin", "gtin": "6901234567892"}'.
    SaveRule {
        /// Rule name.
        name: String,
        /// JSON file or inline JSON.
        definition: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Issue codes by rule and record their commissioning; prints one `code<TAB>identity` per line.
    Issue {
        /// Rule name.
        rule: String,
        /// How many.
        #[arg(long, default_value_t = 1)]
        count: u64,
        /// Context values: plant=SH,line=L1,gtin=6901234567892.
        #[arg(long, value_parser = parse_pairs, default_value = "")]
        context: Vars,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Check a scanned code: right for its rule, issued, not revoked (exit 2 when not valid).
    Check {
        /// Code text, Digital Link or URN.
        value: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// What `suyuan labels` does.
#[derive(Subcommand)]
pub enum LabelsCommand {
    /// Save a label template (a new version when it changed): a JSON file or inline JSON.
    SaveTemplate {
        /// Template name.
        name: String,
        /// JSON file or inline JSON.
        definition: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Issue N codes by a rule and print a label for each: a PDF or ZPL file, or ZPL to a printer.
    Print {
        /// Label template name.
        #[arg(long)]
        template: String,
        /// Coding rule.
        #[arg(long)]
        rule: String,
        /// Labels (= codes).
        #[arg(long, default_value_t = 1)]
        count: u64,
        /// Output file (.pdf or .zpl); with --printer and no --out, nothing is written.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Raw printer `host[:port]` (port 9100 by default) to send ZPL to.
        #[arg(long)]
        printer: Option<String>,
        /// Context for the rule: plant=SH,line=L1,gtin=6901234567892.
        #[arg(long, value_parser = parse_pairs, default_value = "")]
        context: Vars,
        /// Template values: product_name=…,lot=…
        #[arg(long = "var", value_parser = parse_pairs, default_value = "")]
        vars: Vars,
        /// PDF page layout: roll (one label a page) or a4 (as many as fit).
        #[arg(long, default_value = "roll")]
        layout: String,
        /// Where the codes are commissioned (SGLN or own location URI).
        #[arg(long)]
        location: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Render a template with sample values (and --var overrides) to a PNG, SVG, PDF or ZPL file.
    Preview {
        /// Template name, or a JSON file.
        template: String,
        /// Output file; its extension picks the format.
        #[arg(long)]
        out: PathBuf,
        /// Values overriding the samples: lot=…
        #[arg(long = "var", value_parser = parse_pairs, default_value = "")]
        vars: Vars,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Parses `k=v,k=v` (also repeated flags).
fn parse_pairs(s: &str) -> Result<Vars, String> {
    let mut out = Vars::new();
    for part in s.split(',').filter(|p| !p.is_empty()) {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| format!("expected key=value, got '{part}'"))?;
        out.insert(k.trim().to_string(), v.to_string());
    }
    Ok(out)
}

fn context_of(pairs: &Vars) -> Result<Context> {
    let v = serde_json::to_value(pairs)?;
    serde_json::from_value(v).context(
        "--context takes plant, line, product, category, shift and gtin (e.g. plant=SH,line=L1)",
    )
}

fn json_arg(arg: &str) -> Result<Value> {
    let text = if Path::new(arg).is_file() {
        std::fs::read_to_string(arg).with_context(|| format!("cannot read {arg}"))?
    } else {
        arg.to_string()
    };
    serde_json::from_str(&text).with_context(|| format!("{arg}: not JSON"))
}

/// Runs a `codes` command.
pub async fn codes(cmd: CodesCommand) -> Result<ExitCode> {
    match cmd {
        CodesCommand::SaveRule {
            name,
            definition,
            store,
        } => {
            let engine = store.engine(store.open().await?);
            match engine
                .save_rule(&crate::cli_actor(), &name, &json_arg(&definition)?)
                .await
            {
                Ok(r) => {
                    println!("coding rule {} version {}", r.name, r.version);
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("{e}");
                    Ok(ExitCode::from(2))
                }
            }
        }
        CodesCommand::Issue {
            rule,
            count,
            context,
            store,
        } => {
            let engine = store.engine(store.open().await?);
            let req = IssueRequest {
                rule,
                count,
                context: context_of(&context)?,
                ..IssueRequest::default()
            };
            match engine.issue_codes(&req).await {
                Ok(batch) => {
                    use std::io::Write;
                    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                    for c in &batch.codes {
                        writeln!(out, "{}\t{}", c.code, c.uri)?;
                    }
                    out.flush()?;
                    eprintln!(
                        "issued {} codes of rule {} version {}",
                        batch.codes.len(),
                        batch.rule,
                        batch.version
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("{e}");
                    Ok(ExitCode::from(2))
                }
            }
        }
        CodesCommand::Check { value, store } => {
            let engine = store.engine(store.open().await?);
            let verdict = engine.check_code(&value).await?;
            println!("{}", serde_json::to_string(&verdict)?);
            Ok(if verdict.status == "valid" {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            })
        }
    }
}

/// Runs a `labels` command.
pub async fn labels(cmd: LabelsCommand) -> Result<ExitCode> {
    match cmd {
        LabelsCommand::SaveTemplate {
            name,
            definition,
            store,
        } => {
            let def = json_arg(&definition)?;
            if let Err(e) = LabelTemplate::from_json(&def) {
                eprintln!("{e}");
                return Ok(ExitCode::from(2));
            }
            let engine = store.engine(store.open().await?);
            let saved = engine
                .save_definition(&crate::cli_actor(), kinds::LABEL_TEMPLATE, &name, &def)
                .await?;
            println!("label template {} version {}", saved.name, saved.version);
            Ok(ExitCode::SUCCESS)
        }
        LabelsCommand::Preview {
            template,
            out,
            vars,
            store,
        } => {
            let format = Format::from_name(&out.to_string_lossy())
                .context("--out must end in .png, .svg, .pdf or .zpl")?;
            let def = if Path::new(&template).is_file() {
                json_arg(&template)?
            } else {
                store
                    .open()
                    .await?
                    .definition(kinds::LABEL_TEMPLATE, &template, None)
                    .await?
                    .with_context(|| format!("no label template named {template}"))?
                    .definition
            };
            let t = LabelTemplate::from_json(&def)?;
            let mut values = suyuan_labels::sample_vars();
            for var in t.variables() {
                values.entry(var).or_insert_with(|| "X".into());
            }
            values.extend(vars);
            let bytes =
                suyuan_labels::render(&t, &[values], format, suyuan_labels::PageLayout::Roll)?;
            std::fs::write(&out, bytes)
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!("wrote {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
        LabelsCommand::Print {
            template,
            rule,
            count,
            out,
            printer,
            context,
            vars,
            layout,
            location,
            store,
        } => {
            let format = match (&out, &printer) {
                (Some(path), _) => Format::from_name(&path.to_string_lossy())
                    .filter(|f| matches!(f, Format::Pdf | Format::Zpl))
                    .context("--out must end in .pdf or .zpl")?,
                (None, Some(_)) => Format::Zpl,
                (None, None) => {
                    bail!("give --out FILE.pdf|FILE.zpl, --printer HOST[:9100], or both")
                }
            };
            let req = JobRequest {
                template,
                template_version: None,
                rule,
                count,
                context: context_of(&context)?,
                location,
                vars,
                format,
                layout: Some(layout),
                printer,
            };
            let engine = store.engine(store.open().await?);
            let bar = ProgressBar::new(count);
            bar.set_style(
                ProgressStyle::with_template("{bar:40} {pos}/{len} labels  {per_sec}  eta {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            let progress = {
                let bar = bar.clone();
                move |done: u64, _total: u64| bar.set_position(done)
            };
            let started = std::time::Instant::now();
            let result = run_job(&engine, &req, &progress).await;
            bar.finish_and_clear();
            let output = match result {
                Ok(o) => o,
                Err(e) => {
                    eprintln!("{e}");
                    return Ok(ExitCode::from(2));
                }
            };
            if let Some(path) = &out {
                std::fs::write(path, output.bytes.as_slice())
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            println!(
                "{} labels ({} … {}) in {:.1} s{}{}",
                output.labels,
                output.first_code,
                output.last_code,
                started.elapsed().as_secs_f64(),
                out.as_ref()
                    .map(|p| format!(
                        ", written to {} ({} bytes)",
                        p.display(),
                        output.bytes.len()
                    ))
                    .unwrap_or_default(),
                req.printer
                    .as_ref()
                    .map(|p| format!(", sent to printer {p}"))
                    .unwrap_or_default(),
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
