//! Users, sign-in sessions, API tokens and regulator grants. Passwords are argon2id hashes; session cookies
//! and token secrets are random and stored only as SHA-256. Every administrative change is recorded as an
//! event on the ledger (the audit trail is the ledger itself), naming who made it and never a secret.

use crate::audit::sha256_hex;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use std::sync::OnceLock;
use suyuan_core::access::{Grant, Permission, Role, RowScope};
use suyuan_store::{AccessEntry, StoreError, Write, account_kinds};

use crate::{CaptureError, Engine};

mod commands;

pub use crate::audit::{ADMIN_BIZSTEP, SY_NS};

/// How long a sign-in session lasts.
pub const SESSION_HOURS: i64 = 12;

/// Shortest password accepted.
pub const MIN_PASSWORD: usize = 10;

/// Why an account operation was refused; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// A field of the request is wrong.
    #[error("{field}: {msg}")]
    Field {
        /// The field (`name`, `password`, `scopes/1`, …).
        field: String,
        /// What is wrong.
        msg: String,
    },
    /// The record already exists.
    #[error("{0} already exists")]
    Exists(String),
    /// No such user, token or grant.
    #[error("{0}")]
    NotFound(String),
    /// Wrong user name or password (deliberately not saying which).
    #[error("wrong user name or password")]
    BadLogin,
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
    /// The change and its ledger event could not be stored; neither was.
    #[error("the change could not be recorded: {0}")]
    Audit(CaptureError),
    /// The operating system's random source or the password hasher failed.
    #[error("{0}")]
    Crypto(String),
}

impl From<StoreError> for AccountError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Exists { kind, id } => AccountError::Exists(format!("{kind} '{id}'")),
            other => AccountError::Store(other),
        }
    }
}

impl From<CaptureError> for AccountError {
    fn from(e: CaptureError) -> Self {
        match e {
            CaptureError::Store(s) => AccountError::from(s),
            other => AccountError::Audit(other),
        }
    }
}

fn field(f: &str, msg: impl Into<String>) -> AccountError {
    AccountError::Field {
        field: f.into(),
        msg: msg.into(),
    }
}

/// A user as stored (without its password hash when serialised).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    /// Sign-in name.
    pub name: String,
    /// Its role.
    #[serde(serialize_with = "ser_display")]
    pub role: Role,
    /// Name shown in the UI.
    pub display: String,
    /// A disabled user cannot sign in and its tokens stop working.
    pub disabled: bool,
    /// A partner's GS1 company prefixes (its parties and locations).
    #[serde(rename = "companyPrefixes")]
    pub company_prefixes: Vec<String>,
    /// When it was created.
    #[serde(rename = "createdAt")]
    pub created_at: String,
    #[serde(skip)]
    password_hash: String,
}

/// A record write of an account document.
fn put(kind: &str, id: &str, doc: Value, create: bool) -> Write {
    Write::PutRecord {
        kind: kind.into(),
        id: id.into(),
        doc,
        create,
    }
}

fn ser_display<S: serde::Serializer, T: std::fmt::Display>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

impl User {
    fn to_doc(&self) -> Value {
        json!({"role": self.role.as_str(), "display": self.display, "disabled": self.disabled,
               "companyPrefixes": self.company_prefixes, "createdAt": self.created_at,
               "passwordHash": self.password_hash})
    }

    fn from_doc(name: &str, v: &Value) -> Result<User, AccountError> {
        let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let role = Role::parse(&s("role")).ok_or_else(|| {
            AccountError::Store(StoreError::Backend(format!(
                "stored user '{name}' has an unknown role"
            )))
        })?;
        Ok(User {
            name: name.to_string(),
            role,
            display: s("display"),
            disabled: v.get("disabled").and_then(Value::as_bool).unwrap_or(false),
            company_prefixes: strings(v.get("companyPrefixes")),
            created_at: s("createdAt"),
            password_hash: s("passwordHash"),
        })
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// A new user.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Sign-in name: 1–64 lower-case letters, digits, `.`, `_` or `-`.
    pub name: String,
    /// Role name.
    pub role: String,
    /// Password; generated (and answered once) when absent.
    #[serde(default)]
    pub password: Option<String>,
    /// Name shown in the UI (defaults to the sign-in name).
    #[serde(default)]
    pub display: Option<String>,
    /// A partner's GS1 company prefixes (required for partners).
    #[serde(default, rename = "companyPrefixes")]
    pub company_prefixes: Vec<String>,
}

/// A change to a user; absent fields stay as they are.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserChange {
    /// New role.
    #[serde(default)]
    pub role: Option<String>,
    /// New password (ends the user's sessions).
    #[serde(default)]
    pub password: Option<String>,
    /// Disable (ends the user's sessions) or enable.
    #[serde(default)]
    pub disabled: Option<bool>,
    /// New display name.
    #[serde(default)]
    pub display: Option<String>,
    /// New company prefixes (partners).
    #[serde(default, rename = "companyPrefixes")]
    pub company_prefixes: Option<Vec<String>>,
}

/// A sign-in session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The user.
    pub user: String,
    /// The token state-changing forms must carry.
    pub csrf: String,
    /// Expiry (Unix ms).
    pub expires_ms: i64,
}

/// An API token as listed (never with its secret).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenInfo {
    /// Token id (the public part of the token).
    pub id: String,
    /// Its user.
    pub user: String,
    /// What it may do (within its user's role).
    #[serde(serialize_with = "ser_scopes")]
    pub scopes: Vec<Permission>,
    /// Expiry (RFC 3339).
    #[serde(rename = "expiresAt")]
    pub expires_at: String,
    /// When it was created.
    #[serde(rename = "createdAt")]
    pub created_at: String,
    /// Whether it was revoked.
    pub revoked: bool,
    /// What it is for.
    pub note: String,
    #[serde(skip)]
    secret_hash: String,
}

fn ser_scopes<S: serde::Serializer>(v: &[Permission], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|p| p.as_str()))
}

/// A regulator grant as listed (and as stored).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct GrantInfo {
    /// Grant id.
    pub id: String,
    /// The regulator user.
    pub user: String,
    /// GTIN-14s covered.
    pub gtins: Vec<String>,
    /// Start of the covered event-time period (RFC 3339).
    pub from: String,
    /// End of the covered period (exclusive).
    pub to: String,
    /// When the grant stops working.
    #[serde(rename = "expiresAt")]
    pub expires_at: String,
    /// Why it was granted.
    #[serde(default)]
    pub note: String,
}

/// A new grant.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewGrant {
    /// The regulator user.
    pub user: String,
    /// GTINs (GTIN-8/12/13/14) or product URIs.
    pub gtins: Vec<String>,
    /// Start of the period (RFC 3339).
    pub from: String,
    /// End of the period (RFC 3339, exclusive).
    pub to: String,
    /// Expiry (RFC 3339 or a duration like `90d`).
    #[serde(rename = "expiresAt")]
    pub expires_at: String,
    /// Why it is granted.
    #[serde(default)]
    pub note: String,
}

/// Who is asking, as resolved from a session cookie or an API token.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    /// User name (`anonymous` for the public).
    pub user: String,
    /// Its role.
    pub role: Role,
    /// A token's scopes; `None` for a session (the whole role).
    pub scopes: Option<Vec<Permission>>,
    /// The rows it may see.
    pub rows: RowScope,
    /// The session's CSRF token, when signed in by cookie.
    pub csrf: Option<String>,
    /// The session key (SHA-256 of the cookie), when signed in by cookie.
    pub session: Option<String>,
}

impl Principal {
    /// The unauthenticated public.
    pub fn anonymous() -> Principal {
        Principal {
            user: "anonymous".into(),
            role: Role::Public,
            scopes: None,
            rows: RowScope::Regulator { grants: Vec::new() },
            csrf: None,
            session: None,
        }
    }

    /// Suyuan itself or an operator's tool (`suyuan import`, the demo): an administrator seeing every row.
    pub fn system(name: &str) -> Principal {
        Principal {
            user: name.into(),
            role: Role::Admin,
            scopes: None,
            rows: RowScope::All,
            csrf: None,
            session: None,
        }
    }

    /// Whether it may do `p`: its role holds it and, for a token, the token's scopes include it.
    pub fn allows(&self, p: Permission) -> bool {
        self.role.allows(p)
            && (p == Permission::Public || self.scopes.as_ref().is_none_or(|s| s.contains(&p)))
    }

    /// Whether it is signed in at all.
    pub fn is_authenticated(&self) -> bool {
        self.role != Role::Public
    }
}

fn now() -> DateTime<Utc> {
    Utc::now()
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn random_hex(bytes: usize) -> Result<String, AccountError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| AccountError::Crypto(format!("random source: {e}")))?;
    Ok(hex::encode(buf))
}

/// Compares two secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A random password of 16 characters without look-alikes (about 80 bits).
pub fn generate_password() -> Result<String, AccountError> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut buf = [0u8; 16];
    getrandom::fill(&mut buf).map_err(|e| AccountError::Crypto(format!("random source: {e}")))?;
    // 256 is not a multiple of 54: reject bytes ≥ 216 would be exact; the bias of a plain modulo is small but
    // avoidable, so draw again for those.
    let mut out = String::with_capacity(16);
    let mut pool = buf.to_vec();
    while out.len() < 16 {
        let Some(b) = pool.pop() else {
            let mut more = [0u8; 16];
            getrandom::fill(&mut more)
                .map_err(|e| AccountError::Crypto(format!("random source: {e}")))?;
            pool.extend_from_slice(&more);
            continue;
        };
        if usize::from(b) < 256 - 256 % ALPHABET.len() {
            out.push(char::from(ALPHABET[usize::from(b) % ALPHABET.len()]));
        }
    }
    Ok(out)
}

fn hasher() -> Argon2<'static> {
    // OWASP's argon2id minimum: 19 MiB, 2 passes, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_password(password: &str) -> Result<String, AccountError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| AccountError::Crypto(format!("random source: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| AccountError::Crypto(e.to_string()))?;
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AccountError::Crypto(format!("password hashing failed: {e}")))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| hasher().verify_password(password.as_bytes(), &h).is_ok())
}

/// A hash nobody's password matches, verified for unknown users so that timing does not tell who exists.
fn dummy_hash() -> &'static str {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| hash_password("no user has this password").unwrap_or_default())
}

fn check_password(p: &str) -> Result<(), AccountError> {
    if p.chars().count() < MIN_PASSWORD {
        return Err(field(
            "password",
            format!(
                "at least {MIN_PASSWORD} characters, got {}",
                p.chars().count()
            ),
        ));
    }
    if p.len() > 1024 {
        return Err(field("password", "at most 1024 bytes"));
    }
    Ok(())
}

fn check_name(n: &str) -> Result<(), AccountError> {
    let ok = (1..=64).contains(&n.len())
        && n.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(field(
            "name",
            format!("1 to 64 lower-case letters, digits, '.', '_' or '-', got '{n}'"),
        ))
    }
}

fn parse_role(field_name: &str, s: &str) -> Result<Role, AccountError> {
    match Role::parse(s) {
        Some(Role::Public) => Err(field(
            field_name,
            "'public' is the role of anonymous visitors, not of a user",
        )),
        Some(r) => Ok(r),
        None => Err(field(
            field_name,
            format!(
                "expected one of {}, got '{s}'",
                Role::ALL
                    .iter()
                    .filter(|r| **r != Role::Public)
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

fn check_prefixes(role: Role, prefixes: &[String]) -> Result<(), AccountError> {
    for (i, p) in prefixes.iter().enumerate() {
        if !(4..=12).contains(&p.len()) || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(field(
                &format!("companyPrefixes/{i}"),
                format!("expected a GS1 company prefix of 4 to 12 digits, got '{p}'"),
            ));
        }
    }
    if role == Role::Partner && prefixes.is_empty() {
        return Err(field(
            "companyPrefixes",
            "a partner needs at least one GS1 company prefix: it sees what is shipped to or by it",
        ));
    }
    Ok(())
}

/// Parses an expiry: RFC 3339, or a duration from now such as `30d`, `12h`, `90m`.
pub fn parse_expiry(s: &str, at: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    let (n, unit) = s.split_at(s.len().saturating_sub(1));
    let n: i64 = n.parse().map_err(|_| {
        format!("expected an RFC 3339 time or a duration like 30d, 12h, 90m; got '{s}'")
    })?;
    let d = match unit {
        "d" => Duration::try_days(n),
        "h" => Duration::try_hours(n),
        "m" => Duration::try_minutes(n),
        _ => None,
    }
    .filter(|_| n > 0)
    .ok_or_else(|| format!("expected a positive duration like 30d, 12h, 90m; got '{s}'"))?;
    at.checked_add_signed(d)
        .ok_or_else(|| format!("'{s}' is too far in the future"))
}

fn parse_time(field_name: &str, s: &str) -> Result<DateTime<Utc>, AccountError> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            field(
                field_name,
                format!("expected an RFC 3339 date-time, got '{s}'"),
            )
        })
}

/// Normalises a GTIN given as 8/12/13/14 digits or a product URI to GTIN-14, checking its check digit.
fn gtin14(s: &str) -> Option<String> {
    let s = s.trim();
    if s.bytes().all(|b| b.is_ascii_digit()) && [8, 12, 13, 14].contains(&s.len()) {
        let g = format!("{s:0>14}");
        let (body, check) = g.split_at(13);
        return (suyuan_core::gs1::check_digit(body)
            .map(|d| d.to_string())
            .as_deref()
            == Some(check))
        .then_some(g);
    }
    suyuan_core::access::gtin_of(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("correct horse battery").expect("hash");
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse battery!", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn generated_passwords_are_long_and_unambiguous() {
        let a = generate_password().expect("password");
        let b = generate_password().expect("password");
        assert_eq!(a.len(), 16);
        assert_ne!(a, b);
        assert!(!a.contains(['0', 'O', '1', 'l', 'I']));
    }

    #[test]
    fn expiries_parse() {
        let t0 = DateTime::parse_from_rfc3339("2026-11-26T00:00:00Z")
            .expect("time")
            .with_timezone(&Utc);
        assert_eq!(
            rfc3339(parse_expiry("30d", t0).expect("30d")),
            "2026-12-26T00:00:00.000Z"
        );
        assert_eq!(
            rfc3339(parse_expiry("2027-01-01T08:00:00+08:00", t0).expect("date")),
            "2027-01-01T00:00:00.000Z"
        );
        assert!(parse_expiry("0d", t0).is_err());
        assert!(parse_expiry("soon", t0).is_err());
    }

    #[test]
    fn gtins_normalise() {
        assert_eq!(gtin14("6901234123456").as_deref(), Some("06901234123456"));
        assert_eq!(gtin14("6901234123457"), None);
        assert_eq!(
            gtin14("urn:epc:idpat:sgtin:6901234.012345.*").as_deref(),
            Some("06901234123456")
        );
    }
}
