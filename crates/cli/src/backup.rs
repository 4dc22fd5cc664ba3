//! `suyuan backup`, `suyuan restore` and `suyuan migrate`: whole stores copied while servers run, and proved
//! the same afterwards by recomputing the Merkle tree head.
//!
//! A backup is one SQLite database file, whatever the store: SQLite's online backup API copies a data
//! directory's database; a PostgreSQL database is read from one repeatable-read snapshot into a new file.
//! `sqlite3 FILE` opens it; `suyuan restore` writes it into an empty data directory or database.

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;
use suyuan_store::copy::{Copied, Place, copy_store, online_backup, summary};
use suyuan_store::{Store, sqlite::DB_FILE};

use crate::StoreArgs;

/// A spinner naming the table being copied and its rows so far.
fn spinner() -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg}  {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

async fn copy_with_progress(from: &Place, to: &Place) -> Result<Copied> {
    let bar = spinner();
    let shown = bar.clone();
    let copied = copy_store(from, to, &move |table, n| {
        shown.set_message(format!("{table}: {n} rows"));
    })
    .await;
    bar.finish_and_clear();
    Ok(copied?)
}

fn print_counts(copied: &Copied) {
    for (table, n) in copied.tables.iter().filter(|(_, n)| *n > 0) {
        println!("  {table:<16} {n:>12}");
    }
}

fn file_size(path: &Path) -> String {
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// `suyuan backup --out FILE`: an online, consistent copy of the store into a new SQLite file.
pub async fn backup(store: &StoreArgs, out: &Path) -> Result<ExitCode> {
    if out.exists() {
        bail!(
            "{} already exists: a backup never overwrites a file",
            out.display()
        );
    }
    let started = Instant::now();
    match &store.database {
        None => {
            let db = store.data.join(DB_FILE);
            if !db.is_file() {
                bail!("{}: no Suyuan store here", store.data.display());
            }
            let out2 = out.to_path_buf();
            tokio::task::spawn_blocking(move || online_backup(&db, &out2))
                .await
                .context("the backup task failed")??;
        }
        Some(url) => {
            let copied = copy_with_progress(&Place::parse(url), &Place::Sqlite(out.into())).await?;
            print_counts(&copied);
        }
    }
    let held = summary(out)?;
    let signed = match &held.checkpoint {
        Some((size, root)) => format!(
            "signed checkpoint at {size}: {}",
            &root[..root.len().min(16)]
        ),
        None => "no signed checkpoint yet".into(),
    };
    println!(
        "Backed up {} events (tree size {}, {signed}) to {} ({}) in {:.1} s.",
        held.events,
        held.tree_size,
        out.display(),
        file_size(out),
        started.elapsed().as_secs_f64()
    );
    println!(
        "The checkpoint signing key is not in the backup: keep a copy of it apart, as restore verifies with it."
    );
    Ok(ExitCode::SUCCESS)
}

/// `suyuan restore FILE --data DIR | --database URL`: writes a backup into an empty store, then verifies it.
pub async fn restore(
    file: &Path,
    data: Option<&Path>,
    database: Option<&str>,
    ledger_key: Option<&Path>,
    origin: &str,
) -> Result<ExitCode> {
    if !file.is_file() {
        bail!("{}: no such backup file", file.display());
    }
    let started = Instant::now();
    let from = Place::Sqlite(file.into());
    let (target, key) = match (data, database) {
        (Some(dir), None) => {
            let db = dir.join(DB_FILE);
            if db.exists() {
                // An existing store is written into only when empty (copy_store refuses otherwise).
                let copied = copy_with_progress(&from, &Place::Sqlite(db)).await?;
                print_counts(&copied);
            } else {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
                let (src, dst) = (file.to_path_buf(), db);
                tokio::task::spawn_blocking(move || online_backup(&src, &dst))
                    .await
                    .context("the restore task failed")??;
            }
            let key = match ledger_key {
                Some(k) => {
                    let dest = dir.join("ledger.key");
                    if !dest.exists() {
                        std::fs::copy(k, &dest).with_context(|| {
                            format!("cannot copy the key {} into {}", k.display(), dir.display())
                        })?;
                    }
                    Some(dest)
                }
                None => Some(dir.join("ledger.key")).filter(|k| k.is_file()),
            };
            (dir.to_string_lossy().into_owned(), key)
        }
        (None, Some(url)) => {
            let copied = copy_with_progress(&from, &Place::parse(url)).await?;
            print_counts(&copied);
            (url.to_string(), ledger_key.map(Path::to_path_buf))
        }
        _ => bail!("name where to restore: --data DIR or --database URL"),
    };
    let restored = suyuan_store::open(&target).await?;
    println!(
        "Restored {} events from {} in {:.1} s.",
        restored.stats().await?.events,
        file.display(),
        started.elapsed().as_secs_f64()
    );
    verify_with(restored.as_ref(), key.as_deref(), origin).await
}

/// `suyuan migrate --from DIR --to postgres://…`: copies a SQLite data directory into an empty PostgreSQL
/// database from one snapshot (a server may go on running), then proves both hold the same tree head.
pub async fn migrate(
    from: &Path,
    to: &str,
    ledger_key: Option<&Path>,
    origin: &str,
) -> Result<ExitCode> {
    if !(to.starts_with("postgres://") || to.starts_with("postgresql://")) {
        bail!("--to must be a PostgreSQL URL (postgres://user@host:port/db), not {to}");
    }
    let db = from.join(DB_FILE);
    if !db.is_file() {
        bail!("{}: no Suyuan store here", from.display());
    }
    let started = Instant::now();
    let copied = copy_with_progress(&Place::Sqlite(db), &Place::parse(to)).await?;
    print_counts(&copied);
    println!(
        "Copied {} events in {:.1} s.",
        copied.rows("events"),
        started.elapsed().as_secs_f64()
    );
    let source = suyuan_store::open(&from.to_string_lossy()).await?;
    let dest = suyuan_store::open(to).await?;
    let size = dest.tree_size().await?;
    if size > 0 {
        let (a, b) = (
            suyuan_engine::ledger::root(source.as_ref(), size).await?,
            suyuan_engine::ledger::root(dest.as_ref(), size).await?,
        );
        if a != b {
            println!(
                "DIFFERENT tree heads at size {size}: {} here, {} there",
                hex::encode(a),
                hex::encode(b)
            );
            return Ok(ExitCode::from(1));
        }
        println!("Same tree head at size {size}: {}", hex::encode(b));
    }
    let key = ledger_key
        .map(Path::to_path_buf)
        .or_else(|| Some(from.join("ledger.key")).filter(|k| k.is_file()));
    verify_with(dest.as_ref(), key.as_deref(), origin).await
}

/// The tree size and root of a store, for messages.
async fn head(store: &dyn Store) -> Result<String> {
    let size = store.tree_size().await?;
    if size == 0 {
        return Ok("no tree yet".into());
    }
    let root = suyuan_engine::ledger::root(store, size).await?;
    Ok(format!("tree head {size}:{}", &hex::encode(root)[..16]))
}

/// Verifies a copied store with the key file's verifier key, or says how to when no key is at hand.
async fn verify_with(store: &dyn Store, key: Option<&Path>, origin: &str) -> Result<ExitCode> {
    let Some(key) = key else {
        println!(
            "Not verified: no signing key given. Run `suyuan verify --verifier-key KEY` on it, or pass --ledger-key."
        );
        return Ok(ExitCode::SUCCESS);
    };
    let signer = suyuan_engine::ledger::load_key(key, origin)
        .with_context(|| format!("cannot read the signing key {}", key.display()))?;
    let code = crate::verify::verify_store(store, signer.verifier_key()).await?;
    if code == ExitCode::SUCCESS {
        println!("The copy's {}.", head(store).await?);
    }
    Ok(code)
}

/// The signing key a restored or migrated store is verified with.
#[derive(clap::Args)]
pub struct KeyArgs {
    /// The checkpoint signing key of the original store [default: ledger.key in the data directory]; a restore
    /// into a data directory copies it there.
    #[arg(long)]
    pub ledger_key: Option<PathBuf>,
    /// The log's origin line in checkpoints.
    #[arg(long, default_value = "suyuan.local/ledger")]
    pub ledger_origin: String,
}

/// Where `suyuan restore` writes.
#[derive(clap::Args)]
pub struct RestoreTarget {
    /// An empty SQLite data directory (created if missing).
    #[arg(
        long,
        conflicts_with = "database",
        required_unless_present = "database"
    )]
    pub data: Option<PathBuf>,
    /// An empty PostgreSQL database (postgres://user@host:port/db).
    #[arg(long)]
    pub database: Option<String>,
}
