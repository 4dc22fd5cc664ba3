//! `suyuan id`: parse any identifier form and encode EPC binary for RFID tags.

use std::process::ExitCode;

use clap::Subcommand;
use suyuan_core::id::{self, ParseOptions, rfid};

/// What `suyuan id` does.
#[derive(Subcommand)]
pub enum IdCommand {
    /// Parse a Digital Link, element string, EPC URN, tag URI, EPC hex or bare GTIN/SSCC and print every
    /// form of it as JSON (exit 2 with the error on stderr when invalid). `-` reads one value per line.
    Parse {
        /// The identifier, or `-` for standard input.
        value: String,
        #[command(flatten)]
        opts: IdOpts,
    },
    /// Encode an identifier as EPC binary (hex) for writing to a UHF RFID tag.
    Encode {
        /// Any identifier form `parse` accepts.
        value: String,
        /// Tag encoding: sgtin-96, sgtin-198, sscc-96, sgln-96, sgln-195, grai-96, grai-170, giai-96, giai-202.
        #[arg(long, default_value = "sgtin-96")]
        scheme: String,
        /// Filter value 0–7 (1 = point of sale item, 2 = case, 6 = unit load …).
        #[arg(long, default_value_t = 1)]
        filter: u8,
        #[command(flatten)]
        opts: IdOpts,
    },
}

/// Options shared by the `id` commands.
#[derive(clap::Args)]
pub struct IdOpts {
    /// GS1 Company Prefix length for EPC URNs (6–12).
    #[arg(long, default_value_t = id::epc::DEFAULT_GCP_LENGTH, env = "SUYUAN_GCP_LENGTH")]
    gcp_length: usize,
    /// Domain of generated Digital Links.
    #[arg(long, default_value = suyuan_core::gs1::CANONICAL_DL_DOMAIN, env = "SUYUAN_DL_BASE")]
    dl_base: String,
}

impl IdOpts {
    fn options(&self) -> ParseOptions {
        ParseOptions {
            gcp_length: self.gcp_length,
            dl_base: self.dl_base.clone(),
        }
    }
}

/// Runs an `id` command.
pub fn run(cmd: IdCommand) -> ExitCode {
    match cmd {
        IdCommand::Parse { value, opts } => {
            let o = opts.options();
            if value == "-" {
                let mut failed = false;
                for line in std::io::stdin().lines().map_while(Result::ok) {
                    match id::parse(&line, &o) {
                        Ok(p) => println!("{}", p.to_json()),
                        Err(e) => {
                            failed = true;
                            println!(
                                "{}",
                                serde_json::json!({"input": line, "error": e.to_string()})
                            );
                        }
                    }
                }
                return if failed {
                    ExitCode::from(2)
                } else {
                    ExitCode::SUCCESS
                };
            }
            match id::parse(&value, &o) {
                Ok(p) => {
                    println!("{}", p.to_json());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("{e}");
                    ExitCode::from(2)
                }
            }
        }
        IdCommand::Encode {
            value,
            scheme,
            filter,
            opts,
        } => {
            let Some(s) = rfid::Scheme::from_name(&scheme) else {
                eprintln!("--scheme: unknown tag encoding {scheme}");
                return ExitCode::from(2);
            };
            let encoded = id::parse(&value, &opts.options()).and_then(|p| {
                let urn = p
                    .urn
                    .ok_or_else(|| id::IdError::Epc(format!("{value} has no EPC pure identity")))?;
                let hex = rfid::encode(&urn, s, filter)?;
                let tag = rfid::decode(&hex)?;
                Ok(serde_json::json!({"hex": hex, "tag_uri": tag.tag_uri, "urn": urn}))
            });
            match encoded {
                Ok(v) => {
                    println!("{v}");
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
