//! `suyuan quality`: the GB/T 2828.1 sampling plan of a lot, without a server or a store.

use std::process::ExitCode;

use clap::Subcommand;
use serde_json::json;
use suyuan_quality::sampling::{self, Level, Severity};

/// What `suyuan quality` does.
#[derive(Subcommand)]
pub enum QualityCommand {
    /// The single sampling plan of GB/T 2828.1 (ISO 2859-1) for a lot: code letter, sample size (after
    /// following an arrow; the lot size when the whole lot is inspected), acceptance and rejection numbers.
    Sampling {
        /// Items in the lot.
        #[arg(long)]
        lot_size: u64,
        /// Inspection level: I, II, III, S-1, S-2, S-3, S-4.
        #[arg(long, default_value = "II")]
        level: String,
        /// Acceptance quality limit, one of the standard's columns (0.010 … 1000).
        #[arg(long)]
        aql: f64,
        /// normal, tightened or reduced.
        #[arg(long, default_value = "normal")]
        severity: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a `suyuan quality` command.
pub fn run(cmd: QualityCommand) -> ExitCode {
    match cmd {
        QualityCommand::Sampling {
            lot_size,
            level,
            aql,
            severity,
            json,
        } => {
            let Some(level) = Level::parse(&level) else {
                eprintln!("level: expected one of I, II, III, S-1, S-2, S-3, S-4, not {level:?}");
                return ExitCode::from(2);
            };
            let Some(severity) = Severity::parse(&severity) else {
                eprintln!("severity: expected normal, tightened or reduced, not {severity:?}");
                return ExitCode::from(2);
            };
            match sampling::plan(lot_size, level, aql, severity) {
                Ok(p) if json => {
                    println!(
                        "{}",
                        json!({
                            "code_letter": p.code_letter.to_string(),
                            "sample_size": p.sample_size,
                            "ac": p.ac,
                            "re": p.re,
                            "plan_letter": p.plan_letter.to_string(),
                            "full_inspection": p.full_inspection,
                            "lot_size": lot_size,
                            "level": level.as_str(),
                            "aql": aql,
                            "severity": severity.as_str(),
                        })
                    );
                    ExitCode::SUCCESS
                }
                Ok(p) => {
                    println!(
                        "lot {lot_size}, level {level}, AQL {aql}, {}: code letter {}{}, inspect {}{}, accept with {} or fewer, reject with {} or more",
                        severity.as_str(),
                        p.code_letter,
                        if p.plan_letter == p.code_letter {
                            String::new()
                        } else {
                            format!(" (arrow to {})", p.plan_letter)
                        },
                        p.sample_size,
                        if p.full_inspection {
                            " (the whole lot)"
                        } else {
                            ""
                        },
                        p.ac,
                        p.re
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("{e}");
                    ExitCode::from(2)
                }
            }
        }
    }
}
