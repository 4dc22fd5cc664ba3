//! `suyuan admin|user|token|grant …`: accounts, API tokens and regulator grants, written straight into the
//! store, so they work against the data directory or database of a running server, which sees them at once.

use std::io::Read as _;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use clap::Subcommand;
use suyuan_engine::Engine;
use suyuan_engine::accounts::{AccountError, NewGrant, NewUser, UserChange, parse_expiry};

use crate::StoreArgs;

/// Who makes changes from the command line, as the ledger records it: `cli:<login name>`.
pub fn cli_actor() -> String {
    let who = std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "unknown".into());
    format!("cli:{who}")
}

/// What `suyuan admin` does.
#[derive(Subcommand)]
pub enum AdminCommand {
    /// Create the first administrator (prints a generated password unless --password-stdin).
    Create {
        /// Sign-in name.
        #[arg(long, default_value = "admin")]
        user: String,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// What `suyuan user` does.
#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user (prints a generated password unless --password-stdin).
    Create {
        /// Sign-in name.
        name: String,
        /// admin, engineer, operator, inspector, quality_manager, warehouse, viewer, partner or regulator.
        #[arg(long)]
        role: String,
        /// Name shown in the UI.
        #[arg(long)]
        display: Option<String>,
        /// A partner's GS1 company prefix (repeat for several).
        #[arg(long = "company-prefix")]
        company_prefixes: Vec<String>,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List users.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Change a user's role, password, or disable/enable it (ends its sessions).
    Set {
        /// Sign-in name.
        name: String,
        /// New role.
        #[arg(long)]
        role: Option<String>,
        /// Disable the user.
        #[arg(long, conflicts_with = "enable")]
        disable: bool,
        /// Enable the user.
        #[arg(long)]
        enable: bool,
        /// Read a new password from standard input.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// What `suyuan token` does.
#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create an API token; prints it once (send it as `Authorization: Bearer <token>`).
    Create {
        /// Its user.
        #[arg(long)]
        user: String,
        /// Scopes (repeat or comma-separate: events:read,events:write); none = everything the role holds.
        #[arg(long = "scope", value_delimiter = ',')]
        scopes: Vec<String>,
        /// Expiry: a duration (30d, 12h) or an RFC 3339 time.
        #[arg(long, default_value = "90d")]
        expires: String,
        /// What it is for.
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List tokens (never their secrets).
    List {
        /// Only this user's.
        #[arg(long)]
        user: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revoke a token at once.
    Revoke {
        /// Token id (the part after `sy_`, before the second `_`).
        id: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// What `suyuan grant` does.
#[derive(Subcommand)]
pub enum GrantCommand {
    /// Grant a regulator read access to products over a period.
    Create {
        /// The regulator user.
        #[arg(long)]
        user: String,
        /// GTINs (repeat or comma-separate).
        #[arg(long = "gtin", value_delimiter = ',', required = true)]
        gtins: Vec<String>,
        /// Start of the period (RFC 3339).
        #[arg(long)]
        from: String,
        /// End of the period (RFC 3339, exclusive).
        #[arg(long)]
        to: String,
        /// Expiry: a duration (365d) or an RFC 3339 time.
        #[arg(long, default_value = "365d")]
        expires: String,
        /// Why it is granted.
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List grants.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revoke a grant at once.
    Revoke {
        /// Grant id.
        id: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

fn read_password() -> Result<String> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .context("reading the password from standard input")?;
    let p = s.trim_end_matches(['\r', '\n']).to_string();
    if p.is_empty() {
        bail!("no password on standard input");
    }
    Ok(p)
}

/// A refused request is the user's mistake: say it and exit 2; anything else is an error.
fn refused(e: AccountError) -> Result<ExitCode> {
    match e {
        AccountError::Store(_) | AccountError::Audit(_) | AccountError::Crypto(_) => {
            Err(anyhow::Error::new(e))
        }
        other => {
            eprintln!("{other}");
            Ok(ExitCode::from(2))
        }
    }
}

async fn create_user(engine: &Engine, new: NewUser) -> Result<ExitCode> {
    match engine.create_user(&cli_actor(), &new).await {
        Ok((u, generated)) => {
            println!("created user {} ({})", u.name, u.role);
            if let Some(p) = generated {
                println!("password: {p}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => refused(e),
    }
}

/// Runs `suyuan admin …`.
pub async fn admin(cmd: AdminCommand) -> Result<ExitCode> {
    let AdminCommand::Create {
        user,
        password_stdin,
        store,
    } = cmd;
    let engine = store.engine(store.open().await?);
    let password = password_stdin.then(read_password).transpose()?;
    create_user(
        &engine,
        NewUser {
            name: user,
            role: "admin".into(),
            password,
            ..Default::default()
        },
    )
    .await
}

/// Runs `suyuan user …`.
pub async fn user(cmd: UserCommand) -> Result<ExitCode> {
    match cmd {
        UserCommand::Create {
            name,
            role,
            display,
            company_prefixes,
            password_stdin,
            store,
        } => {
            let engine = store.engine(store.open().await?);
            let password = password_stdin.then(read_password).transpose()?;
            create_user(
                &engine,
                NewUser {
                    name,
                    role,
                    password,
                    display,
                    company_prefixes,
                },
            )
            .await
        }
        UserCommand::List { store } => {
            let engine = store.engine(store.open().await?);
            for u in engine.users().await? {
                println!(
                    "{}\t{}\t{}\t{}{}",
                    u.name,
                    u.role,
                    u.display,
                    u.company_prefixes.join(","),
                    if u.disabled { "\tdisabled" } else { "" }
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        UserCommand::Set {
            name,
            role,
            disable,
            enable,
            password_stdin,
            store,
        } => {
            let engine = store.engine(store.open().await?);
            let change = UserChange {
                role,
                password: password_stdin.then(read_password).transpose()?,
                disabled: (disable || enable).then_some(disable),
                ..Default::default()
            };
            match engine.update_user(&cli_actor(), &name, &change).await {
                Ok(u) => {
                    println!(
                        "user {} ({}){}",
                        u.name,
                        u.role,
                        if u.disabled { ", disabled" } else { "" }
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e),
            }
        }
    }
}

/// Runs `suyuan token …`.
pub async fn token(cmd: TokenCommand) -> Result<ExitCode> {
    match cmd {
        TokenCommand::Create {
            user,
            scopes,
            expires,
            note,
            store,
        } => {
            let expires = match parse_expiry(&expires, chrono::Utc::now()) {
                Ok(t) => t,
                Err(m) => {
                    eprintln!("--expires: {m}");
                    return Ok(ExitCode::from(2));
                }
            };
            let engine = store.engine(store.open().await?);
            match engine
                .create_token(&cli_actor(), &user, &scopes, expires, &note)
                .await
            {
                Ok((token, info)) => {
                    eprintln!(
                        "token {} for {} ({}), expires {}",
                        info.id,
                        info.user,
                        info.scopes
                            .iter()
                            .map(|p| p.as_str())
                            .collect::<Vec<_>>()
                            .join(","),
                        info.expires_at
                    );
                    println!("{token}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e),
            }
        }
        TokenCommand::List { user, store } => {
            let engine = store.engine(store.open().await?);
            for t in engine.tokens(user.as_deref()).await? {
                println!(
                    "{}\t{}\t{}\t{}{}",
                    t.id,
                    t.user,
                    t.scopes
                        .iter()
                        .map(|p| p.as_str())
                        .collect::<Vec<_>>()
                        .join(","),
                    t.expires_at,
                    if t.revoked { "\trevoked" } else { "" }
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::Revoke { id, store } => {
            let engine = store.engine(store.open().await?);
            match engine.revoke_token(&cli_actor(), &id).await {
                Ok(t) => {
                    println!("token {} of {} revoked", t.id, t.user);
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e),
            }
        }
    }
}

/// Runs `suyuan grant …`.
pub async fn grant(cmd: GrantCommand) -> Result<ExitCode> {
    match cmd {
        GrantCommand::Create {
            user,
            gtins,
            from,
            to,
            expires,
            note,
            store,
        } => {
            let engine = store.engine(store.open().await?);
            let g = NewGrant {
                user,
                gtins,
                from,
                to,
                expires_at: expires,
                note,
            };
            match engine.create_grant(&cli_actor(), &g).await {
                Ok(g) => {
                    println!(
                        "grant {} for {}: {} from {} to {}, expires {}",
                        g.id,
                        g.user,
                        g.gtins.join(","),
                        g.from,
                        g.to,
                        g.expires_at
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e),
            }
        }
        GrantCommand::List { store } => {
            let engine = store.engine(store.open().await?);
            for g in engine.grants(None).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    g.id,
                    g.user,
                    g.gtins.join(","),
                    g.from,
                    g.to,
                    g.expires_at
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        GrantCommand::Revoke { id, store } => {
            let engine = store.engine(store.open().await?);
            match engine.revoke_grant(&cli_actor(), &id).await {
                Ok(()) => {
                    println!("grant {id} revoked");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e),
            }
        }
    }
}
