//! `suyuan`: the one binary. Serves the web UI and APIs, loads the demo factory, imports and exports
//! EPCIS documents, prints event hashes and runs benchmarks.

mod access;
mod backup;
mod bench;
mod bench_capture;
mod bench_crash;
mod bench_epcis;
mod bench_labels;
mod bench_ledger;
mod bench_load;
mod bench_ops;
mod bench_quality;
mod bench_rules;
mod bench_server;
mod bench_trace;
mod bench_web;
mod config;
mod demo;
mod id;
mod labels;
mod quality;
mod serve;
mod trace;
mod transfer;
mod verify;

pub use access::cli_actor;
use anyhow::{Context, Result};

/// mimalloc: measured faster than the system allocator for the write path and the trace index, whose work is
/// dominated by many small allocations (see docs/benchmarks.md). Without the default `mimalloc` feature the
/// system allocator serves, for heap profilers.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use suyuan_engine::Engine;
use suyuan_store::Store;

/// Suyuan (溯源): production traceability on GS1 EPCIS 2.0.
#[derive(Parser)]
#[command(name = "suyuan", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// How far ahead of this machine's clock an event time may be, in seconds, for every way in (HTTP, EPCIS,
    /// import); later events are refused with a located error.
    #[arg(long, global = true, env = "SUYUAN_MAX_CLOCK_SKEW", default_value_t = suyuan_core::time::DEFAULT_MAX_FUTURE_SKEW_SECS)]
    max_clock_skew: i64,
    /// Hosts (or host:port) EPCIS webhook subscriptions may deliver to, comma-separated; none by default, so no
    /// webhook can be created until an administrator names its destinations.
    #[arg(
        long,
        global = true,
        env = "SUYUAN_WEBHOOK_ALLOW",
        value_delimiter = ','
    )]
    webhook_allow: Vec<String>,
    /// The MQTT broker equipment publishes process parameters to (`mqtt://[user:password@]host[:port]`);
    /// `suyuan serve` subscribes to `suyuan/+/+/+/+/params` there.
    #[arg(long, global = true, env = "SUYUAN_MQTT_URL")]
    mqtt_url: Option<String>,
    /// The MQTT client id (the broker keeps unacknowledged messages for it across restarts).
    #[arg(
        long,
        global = true,
        env = "SUYUAN_MQTT_CLIENT_ID",
        default_value = "suyuan-server"
    )]
    mqtt_client_id: String,
    /// The SMTP relay rules send e-mail through (`smtp://[user:password@]host[:port]`, plain SMTP as an
    /// internal relay speaks it); without it an e-mail action is the rule's error.
    #[arg(long, global = true, env = "SUYUAN_SMTP_URL")]
    smtp_url: Option<String>,
    /// The sender of rules' e-mail (`Suyuan <qa@plant.example>`).
    #[arg(
        long,
        global = true,
        env = "SUYUAN_SMTP_FROM",
        default_value = "Suyuan <suyuan@localhost.localdomain>"
    )]
    smtp_from: String,
}

/// What `suyuan serve` connects to besides its store.
#[derive(Clone, Default)]
pub struct ServeOptions {
    /// Where webhooks may deliver.
    pub webhooks: suyuan_server::WebhookAllowList,
    /// The MQTT broker and client id, when process parameters come over MQTT.
    pub mqtt: Option<(String, String)>,
    /// The e-mail relay rules send through.
    pub smtp: Option<suyuan_engine::rules::outbound::Smtp>,
}

/// Where the data lives: a SQLite data directory (default) or a PostgreSQL database.
#[derive(Args, Clone)]
pub struct StoreArgs {
    /// SQLite data directory.
    #[arg(long, default_value = "./suyuan-data", env = "SUYUAN_DATA")]
    data: PathBuf,
    /// PostgreSQL URL (postgres://user@host:port/db); overrides --data.
    #[arg(long, env = "SUYUAN_DATABASE")]
    database: Option<String>,
    /// Where the trace index is saved for fast restarts; the operations projections are saved beside it, as
    /// operations.snapshot [default: trace-index.snapshot in the SQLite data directory; none for PostgreSQL].
    #[arg(long, env = "SUYUAN_TRACE_SNAPSHOT")]
    trace_snapshot: Option<PathBuf>,
    /// The checkpoint signing key (created, mode 0600, on first use) [default: ledger.key in --data; required
    /// with --database, so that every process of a deployment signs with one key].
    #[arg(long, env = "SUYUAN_LEDGER_KEY")]
    ledger_key: Option<PathBuf>,
    /// The largest the SQLite database may grow, in MB; past it captures are refused with 507 (as on a full
    /// disk) while reads go on [default: no limit but the disk's].
    #[arg(long, env = "SUYUAN_MAX_STORE_MB")]
    max_store_mb: Option<u64>,
    /// The log's origin line in checkpoints (a key name: no spaces or '+').
    #[arg(
        long,
        env = "SUYUAN_LEDGER_ORIGIN",
        default_value = "suyuan.local/ledger"
    )]
    ledger_origin: String,
}

impl StoreArgs {
    /// Opens the store these arguments name.
    pub async fn open(&self) -> Result<Arc<dyn Store>> {
        let target = match (&self.database, self.max_store_mb) {
            (Some(_), Some(_)) => anyhow::bail!(
                "--max-store-mb caps a SQLite data directory; a PostgreSQL database is sized by its own disk"
            ),
            (Some(url), None) => url.clone(),
            (None, Some(mb)) => {
                let store = suyuan_store::SqliteStore::open_limited(
                    &self.data,
                    Some(mb.saturating_mul(1_000_000)),
                )
                .with_context(|| format!("cannot open the store at {}", self.data.display()))?;
                return Ok(Arc::new(store));
            }
            (None, None) => self.data.to_string_lossy().into_owned(),
        };
        suyuan_store::open(&target)
            .await
            .with_context(|| format!("cannot open the store at {target}"))
    }

    /// The checkpoint signer, its key loaded from (or created in) the key file.
    pub fn signer(&self) -> Result<Arc<suyuan_ledger::checkpoint::CheckpointSigner>> {
        Ok(Arc::new(suyuan_engine::ledger::load_or_create_key(
            &self.key_path()?,
            &self.ledger_origin,
        )?))
    }

    /// The existing signing key (for verifying: never creates one).
    pub fn existing_key(&self) -> Result<suyuan_ledger::checkpoint::CheckpointSigner> {
        Ok(suyuan_engine::ledger::load_key(
            &self.key_path()?,
            &self.ledger_origin,
        )?)
    }

    /// Where the signing key is: `--ledger-key`, or `ledger.key` in the SQLite data directory. A PostgreSQL
    /// deployment is shared by every process that signs, so it must name its one key: there is no default.
    fn key_path(&self) -> Result<PathBuf> {
        match (&self.ledger_key, &self.database) {
            (Some(p), _) => Ok(p.clone()),
            (None, None) => Ok(self.data.join("ledger.key")),
            (None, Some(_)) => anyhow::bail!(
                "with --database, name the deployment's one signing key with --ledger-key PATH (or \
                 SUYUAN_LEDGER_KEY): every process that signs checkpoints must use the same key"
            ),
        }
    }

    /// The trace index snapshot file, if any.
    pub fn trace_snapshot(&self) -> Option<PathBuf> {
        match (&self.trace_snapshot, &self.database) {
            (Some(p), _) => Some(p.clone()),
            (None, None) => Some(self.data.join("trace-index.snapshot")),
            (None, Some(_)) => None,
        }
    }

    /// An engine over the opened store, with the trace snapshot these arguments name.
    pub fn engine(&self, store: Arc<dyn Store>) -> Engine {
        match self.trace_snapshot() {
            Some(p) => Engine::with_trace_snapshot(store, p),
            None => Engine::new(store),
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web UI and the APIs.
    Serve {
        #[command(flatten)]
        store: StoreArgs,
        /// Address to listen on (port 0 picks a free port).
        #[arg(long, default_value = "127.0.0.1:8080", env = "SUYUAN_LISTEN")]
        listen: SocketAddr,
    },
    /// Load the demo infant-formula factory (unless the store already has events) and serve it.
    Demo {
        #[command(flatten)]
        store: StoreArgs,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Production lines (1 ≈ 15,000 events over 30 days; 700 ≈ 10M).
        #[arg(long, default_value_t = 1)]
        scale: u32,
        /// Random seed; the same seed gives the same factory.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Production days.
        #[arg(long, default_value_t = 30)]
        days: u32,
        /// Load only; do not serve.
        #[arg(long)]
        no_serve: bool,
    },
    /// Import EPCIS 2.0 JSON-LD documents (resumable: events already stored are skipped).
    Import {
        #[command(flatten)]
        store: StoreArgs,
        /// Documents to import.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Export the ledger as an EPCIS 2.0 JSON-LD document on standard output; `sy:ledger` names the signed
    /// checkpoint it was built on and the seq, event hash and leaf hash of every event it holds.
    Export {
        #[command(flatten)]
        store: StoreArgs,
        /// Export only events after this seq.
        #[arg(long, default_value_t = 0)]
        since_seq: u64,
    },
    /// Print the canonical event hash of every event in an EPCIS JSON-LD document, in document order.
    Hash {
        /// The document (or a single event).
        file: PathBuf,
        /// Print the pre-hash string under each hash.
        #[arg(long)]
        prehash: bool,
    },
    /// Trace an object backward (where it came from) or forward (what was made from it, where it went).
    Trace {
        /// backward or forward.
        #[arg(value_enum)]
        direction: TraceDirection,
        /// The object: EPC URN, GS1 Digital Link or your own URI.
        id: String,
        #[command(flatten)]
        store: StoreArgs,
        /// Most hops from the object.
        #[arg(long)]
        depth: Option<u32>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = TraceFormat::Json)]
        format: TraceFormat,
    },
    /// Coding rules: save a rule, issue codes, check a scanned code.
    Codes {
        #[command(subcommand)]
        what: labels::CodesCommand,
    },
    /// Label templates and printing.
    Labels {
        #[command(subcommand)]
        what: labels::LabelsCommand,
    },
    /// Recompute every event hash, leaf hash and tree hash from the stored events and check every checkpoint's
    /// signature and root; exit 0 when intact, 1 naming the first bad seq.
    Verify {
        #[command(flatten)]
        store: StoreArgs,
        /// Verify with this verifier key (text or file) instead of the key file's.
        #[arg(long)]
        verifier_key: Option<String>,
    },
    /// Bring the Merkle tree up to date and sign a checkpoint now; prints it.
    Checkpoint {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Check an inclusion proof offline: its checkpoint's signature (with the verifier key), root and path.
    VerifyProof {
        /// The proof as served by GET /api/v1/proofs/{eventId} (JSON file).
        proof: PathBuf,
        /// The verifier key (text or file) as served by GET /api/v1/ledger/key.
        #[arg(long)]
        key: String,
        /// A saved checkpoint (file) to check against instead of the one inside the proof.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
    },
    /// Copy the store, while it serves, into a new backup file: one SQLite database file, taken with SQLite's
    /// online backup API or from one repeatable-read snapshot of PostgreSQL.
    Backup {
        #[command(flatten)]
        store: StoreArgs,
        /// The backup file to create (never overwritten).
        #[arg(long)]
        out: PathBuf,
    },
    /// Write a backup into an empty data directory or PostgreSQL database, then verify it.
    Restore {
        /// The backup file.
        file: PathBuf,
        #[command(flatten)]
        target: backup::RestoreTarget,
        #[command(flatten)]
        key: backup::KeyArgs,
    },
    /// Move a SQLite data directory into an empty PostgreSQL database (a server may keep running on it), then
    /// prove both hold the same tree head and verify the copy.
    Migrate {
        /// The SQLite data directory.
        #[arg(long)]
        from: PathBuf,
        /// The PostgreSQL database (postgres://user@host:port/db).
        #[arg(long)]
        to: String,
        #[command(flatten)]
        key: backup::KeyArgs,
    },
    /// Create the first administrator.
    Admin {
        #[command(subcommand)]
        what: access::AdminCommand,
    },
    /// Users and their roles.
    User {
        #[command(subcommand)]
        what: access::UserCommand,
    },
    /// API tokens with scopes and expiry (a running server accepts new ones at once).
    Token {
        #[command(subcommand)]
        what: access::TokenCommand,
    },
    /// Regulator grants: products, period, expiry.
    Grant {
        #[command(subcommand)]
        what: access::GrantCommand,
    },
    /// Identifiers: parse any GS1 form, encode RFID tags.
    Id {
        #[command(subcommand)]
        what: id::IdCommand,
    },
    /// Configuration as data: definitions exported and imported as YAML files.
    Config {
        #[command(subcommand)]
        what: config::ConfigCommand,
    },
    /// Quality: GB/T 2828.1 sampling plans.
    Quality {
        #[command(subcommand)]
        what: quality::QualityCommand,
    },
    /// Measure performance.
    Bench {
        #[command(subcommand)]
        what: bench::BenchCommand,
    },
}

/// Direction of `suyuan trace`.
#[derive(Clone, Copy, clap::ValueEnum)]
enum TraceDirection {
    /// Where it came from.
    Backward,
    /// What was made from it and where it went.
    Forward,
    /// The forward trace with each affected object's location and holder, and the shipments.
    Recall,
}

/// Output of `suyuan trace`.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum TraceFormat {
    /// One JSON document with nodes and edges.
    Json,
    /// One CSV row per node.
    Csv,
}

fn init_logging() {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    // Colour only for a person at a terminal: a log file or pipe gets plain text.
    use std::io::IsTerminal;
    // A log that cannot be written (its disk full, its pipe closed) must not stop the server: the subscriber's
    // own complaint about it would go to that same stderr, and a failed eprintln! panics.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .log_internal_errors(false)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_logging();
    suyuan_core::time::set_max_future_skew(Some(cli.max_clock_skew.max(0)));
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<std::process::ExitCode> {
    use std::process::ExitCode;
    let webhooks = ServeOptions {
        webhooks: suyuan_server::WebhookAllowList(cli.webhook_allow.clone()),
        mqtt: cli
            .mqtt_url
            .clone()
            .map(|u| (u, cli.mqtt_client_id.clone())),
        smtp: cli
            .smtp_url
            .as_deref()
            .map(|u| suyuan_engine::rules::outbound::Smtp::parse(u, &cli.smtp_from))
            .transpose()
            .map_err(anyhow::Error::msg)?,
    };
    match cli.command {
        Command::Serve { store, listen } => serve::serve(
            store.engine(store.open().await?),
            store.signer()?,
            listen,
            webhooks,
        )
        .await
        .map(|_| ExitCode::SUCCESS),
        Command::Demo {
            store,
            listen,
            scale,
            seed,
            days,
            no_serve,
        } => {
            let s = store.open().await?;
            demo::load(&s, suyuan_demo::DemoConfig { seed, scale, days }).await?;
            // Every load ends signed, so the ledger can be verified even if nothing serves it.
            if let Some(c) =
                suyuan_engine::ledger::checkpoint(s.as_ref(), &*store.signer()?).await?
            {
                println!("Signed a checkpoint of the ledger at {} events.", c.size);
            }
            if no_serve {
                return Ok(ExitCode::SUCCESS);
            }
            serve::serve(store.engine(s), store.signer()?, listen, webhooks)
                .await
                .map(|_| ExitCode::SUCCESS)
        }
        Command::Import { store, files } => transfer::import(&store.open().await?, &files).await,
        Command::Export { store, since_seq } => {
            let signer = store.signer()?;
            transfer::export(&store.open().await?, since_seq, &signer)
                .await
                .map(|_| ExitCode::SUCCESS)
        }
        Command::Hash { file, prehash } => Ok(transfer::hash(&file, prehash)),
        Command::Trace {
            direction,
            id,
            store,
            depth,
            format,
        } => {
            trace::trace(
                store.engine(store.open().await?),
                direction,
                &id,
                depth,
                format,
            )
            .await
        }
        Command::Id { what } => Ok(id::run(what)),
        Command::Quality { what } => Ok(quality::run(what)),
        Command::Config { what } => config::run(what).await.map(|()| ExitCode::SUCCESS),
        Command::Admin { what } => access::admin(what).await,
        Command::User { what } => access::user(what).await,
        Command::Token { what } => access::token(what).await,
        Command::Grant { what } => access::grant(what).await,
        Command::Verify {
            store,
            verifier_key,
        } => verify::verify(&store, verifier_key.as_deref()).await,
        Command::Backup { store, out } => backup::backup(&store, &out).await,
        Command::Restore { file, target, key } => {
            backup::restore(
                &file,
                target.data.as_deref(),
                target.database.as_deref(),
                key.ledger_key.as_deref(),
                &key.ledger_origin,
            )
            .await
        }
        Command::Migrate { from, to, key } => {
            backup::migrate(&from, &to, key.ledger_key.as_deref(), &key.ledger_origin).await
        }
        Command::Checkpoint { store } => verify::checkpoint(&store).await,
        Command::VerifyProof {
            proof,
            key,
            checkpoint,
        } => verify::verify_proof(&proof, &key, checkpoint.as_deref()),
        Command::Codes { what } => labels::codes(what).await,
        Command::Labels { what } => labels::labels(what).await,
        Command::Bench { what } => bench::run(what).await.map(|_| ExitCode::SUCCESS),
    }
}
