//! The account commands of the engine: users, sign-in sessions, API tokens and regulator grants, each change stored with its ledger event.

#[allow(unused_imports)]
use super::*;

impl Engine {
    /// Creates a user; answers it and, when none was given, the generated password (shown once).
    pub async fn create_user(
        &self,
        actor: &str,
        new: &NewUser,
    ) -> Result<(User, Option<String>), AccountError> {
        check_name(&new.name)?;
        let role = parse_role("role", &new.role)?;
        check_prefixes(role, &new.company_prefixes)?;
        let (password, generated) = match &new.password {
            Some(p) => (p.clone(), None),
            None => {
                let p = generate_password()?;
                (p.clone(), Some(p))
            }
        };
        check_password(&password)?;
        let hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| AccountError::Crypto(e.to_string()))??;
        let user = User {
            name: new.name.clone(),
            role,
            display: new
                .display
                .clone()
                .filter(|d| !d.trim().is_empty())
                .unwrap_or_else(|| new.name.clone()),
            disabled: false,
            company_prefixes: new.company_prefixes.clone(),
            created_at: rfc3339(now()),
            password_hash: hash,
        };
        self.change(
            actor,
            "user.created",
            &format!("user:{}", user.name),
            json!({"role": role.as_str(), "display": user.display, "companyPrefixes": user.company_prefixes}),
            vec![put(account_kinds::USER, &user.name, user.to_doc(), true)],
        )
        .await?;
        Ok((user, generated))
    }

    /// Changes a user's role, password, display name, prefixes or disabled flag. A new password or disabling
    /// ends its sessions.
    pub async fn update_user(
        &self,
        actor: &str,
        name: &str,
        change: &UserChange,
    ) -> Result<User, AccountError> {
        let mut user = self
            .user(name)
            .await?
            .ok_or_else(|| AccountError::NotFound(format!("no user named '{name}'")))?;
        let mut details = serde_json::Map::new();
        if let Some(r) = &change.role {
            user.role = parse_role("role", r)?;
            details.insert("role".into(), json!(user.role.as_str()));
        }
        if let Some(p) = &change.company_prefixes {
            user.company_prefixes = p.clone();
            details.insert("companyPrefixes".into(), json!(p));
        }
        check_prefixes(user.role, &user.company_prefixes)?;
        if let Some(d) = &change.display {
            user.display = d.clone();
            details.insert("display".into(), json!(d));
        }
        if let Some(d) = change.disabled {
            user.disabled = d;
            details.insert("disabled".into(), json!(d));
        }
        if let Some(p) = &change.password {
            check_password(p)?;
            let p = p.clone();
            user.password_hash = tokio::task::spawn_blocking(move || hash_password(&p))
                .await
                .map_err(|e| AccountError::Crypto(e.to_string()))??;
            details.insert("password".into(), json!("changed"));
        }
        if details.is_empty() {
            return Ok(user);
        }
        self.change(
            actor,
            "user.changed",
            &format!("user:{name}"),
            Value::Object(details),
            vec![put(account_kinds::USER, name, user.to_doc(), false)],
        )
        .await?;
        if change.password.is_some() || change.disabled == Some(true) || change.role.is_some() {
            self.end_sessions_of(name).await?;
        }
        Ok(user)
    }

    /// One user.
    pub async fn user(&self, name: &str) -> Result<Option<User>, AccountError> {
        match self.store().account(account_kinds::USER, name).await? {
            Some(doc) => Ok(Some(User::from_doc(name, &doc)?)),
            None => Ok(None),
        }
    }

    /// Every user, by name.
    pub async fn users(&self) -> Result<Vec<User>, AccountError> {
        self.store()
            .accounts(account_kinds::USER)
            .await?
            .iter()
            .map(|(n, d)| User::from_doc(n, d))
            .collect()
    }

    /// Checks a user name and password (argon2id, off the async threads); a disabled user cannot sign in.
    pub async fn authenticate(&self, name: &str, password: &str) -> Result<User, AccountError> {
        let user = self.user(name).await.ok().flatten();
        let hash = user
            .as_ref()
            .map_or_else(|| dummy_hash().to_string(), |u| u.password_hash.clone());
        let password = password.to_string();
        let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
            .await
            .map_err(|e| AccountError::Crypto(e.to_string()))?;
        match user {
            Some(u) if ok && !u.disabled => Ok(u),
            _ => Err(AccountError::BadLogin),
        }
    }

    /// Starts a session for a signed-in user; answers the cookie secret (never stored) and the session.
    pub async fn create_session(&self, user: &User) -> Result<(String, Session), AccountError> {
        // Sessions nobody presents again would pile up: each sign-in sweeps the expired ones.
        let now_ms = now().timestamp_millis();
        for (id, doc) in self.store().accounts(account_kinds::SESSION).await? {
            if doc.get("expiresMs").and_then(Value::as_i64).unwrap_or(0) <= now_ms {
                self.store()
                    .delete_account(account_kinds::SESSION, &id)
                    .await?;
            }
        }
        let secret = random_hex(32)?;
        let session = Session {
            user: user.name.clone(),
            csrf: random_hex(32)?,
            expires_ms: (now() + Duration::hours(SESSION_HOURS)).timestamp_millis(),
        };
        let doc = json!({"user": session.user, "csrf": session.csrf, "expiresMs": session.expires_ms,
                         "createdAt": rfc3339(now())});
        self.store()
            .put_account(account_kinds::SESSION, &sha256_hex(&secret), &doc, true)
            .await?;
        Ok((secret, session))
    }

    /// Ends the session of a cookie secret; whether there was one.
    pub async fn end_session(&self, secret: &str) -> Result<bool, AccountError> {
        Ok(self
            .store()
            .delete_account(account_kinds::SESSION, &sha256_hex(secret))
            .await?)
    }

    pub(super) async fn end_sessions_of(&self, user: &str) -> Result<(), AccountError> {
        for (id, doc) in self.store().accounts(account_kinds::SESSION).await? {
            if doc.get("user").and_then(Value::as_str) == Some(user) {
                self.store()
                    .delete_account(account_kinds::SESSION, &id)
                    .await?;
            }
        }
        Ok(())
    }

    /// The principal of a session cookie secret, if the session is live and its user enabled.
    pub async fn session_principal(&self, secret: &str) -> Result<Option<Principal>, AccountError> {
        let key = sha256_hex(secret);
        let Some(doc) = self.store().account(account_kinds::SESSION, &key).await? else {
            return Ok(None);
        };
        let expires = doc.get("expiresMs").and_then(Value::as_i64).unwrap_or(0);
        if expires <= now().timestamp_millis() {
            self.store()
                .delete_account(account_kinds::SESSION, &key)
                .await?;
            return Ok(None);
        }
        let name = doc.get("user").and_then(Value::as_str).unwrap_or("");
        let Some(user) = self.user(name).await?.filter(|u| !u.disabled) else {
            return Ok(None);
        };
        let mut p = self.principal_of(&user, None).await?;
        p.csrf = doc.get("csrf").and_then(Value::as_str).map(str::to_string);
        p.session = Some(key);
        Ok(Some(p))
    }

    /// The principal of an enabled user (whole role, no token scopes), for work done on its behalf such as
    /// subscription deliveries; `None` when the user is missing or disabled.
    pub async fn principal_for(&self, name: &str) -> Result<Option<Principal>, AccountError> {
        match self.user(name).await?.filter(|u| !u.disabled) {
            Some(u) => Ok(Some(self.principal_of(&u, None).await?)),
            None => Ok(None),
        }
    }

    pub(super) async fn principal_of(
        &self,
        user: &User,
        scopes: Option<Vec<Permission>>,
    ) -> Result<Principal, AccountError> {
        let rows = match user.role {
            Role::Partner => RowScope::Partner {
                prefixes: user.company_prefixes.clone(),
            },
            Role::Regulator => RowScope::Regulator {
                grants: self.live_grants(&user.name).await?,
            },
            _ => RowScope::All,
        };
        Ok(Principal {
            user: user.name.clone(),
            role: user.role,
            scopes,
            rows,
            csrf: None,
            session: None,
        })
    }

    /// Creates an API token for `user` with `scopes` (each held by the user's role; empty = all of them)
    /// expiring at `expires`. Answers the token text (shown once) and its listing.
    pub async fn create_token(
        &self,
        actor: &str,
        user: &str,
        scopes: &[String],
        expires: DateTime<Utc>,
        note: &str,
    ) -> Result<(String, TokenInfo), AccountError> {
        let u = self
            .user(user)
            .await?
            .ok_or_else(|| AccountError::NotFound(format!("no user named '{user}'")))?;
        let mut perms = Vec::new();
        for (i, s) in scopes.iter().enumerate() {
            let p = Permission::parse(s.trim()).ok_or_else(|| {
                field(
                    &format!("scopes/{i}"),
                    format!(
                        "expected one of {}, got '{s}'",
                        Permission::ALL.map(|p| p.as_str()).join(", ")
                    ),
                )
            })?;
            if !u.role.allows(p) {
                return Err(field(
                    &format!("scopes/{i}"),
                    format!("user '{user}' is a {} and does not hold '{p}'", u.role),
                ));
            }
            if !perms.contains(&p) {
                perms.push(p);
            }
        }
        if perms.is_empty() {
            perms = u.role.permissions();
        }
        if expires <= now() {
            return Err(field("expiresAt", "must be in the future"));
        }
        let id = random_hex(6)?;
        let secret = random_hex(32)?;
        let info = TokenInfo {
            id: id.clone(),
            user: user.to_string(),
            scopes: perms,
            expires_at: rfc3339(expires),
            created_at: rfc3339(now()),
            revoked: false,
            note: note.to_string(),
            secret_hash: sha256_hex(&secret),
        };
        self.change(
            actor,
            "token.created",
            &format!("token:{id}"),
            json!({"user": user, "scopes": info.scopes.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
                   "expiresAt": info.expires_at, "note": note}),
            vec![put(account_kinds::TOKEN, &id, token_doc(&info), true)],
        )
        .await?;
        Ok((format!("sy_{id}_{secret}"), info))
    }

    /// Every token (of one user, when given).
    pub async fn tokens(&self, user: Option<&str>) -> Result<Vec<TokenInfo>, AccountError> {
        Ok(self
            .store()
            .accounts(account_kinds::TOKEN)
            .await?
            .iter()
            .map(|(id, d)| token_from_doc(id, d))
            .filter(|t| user.is_none_or(|u| t.user == u))
            .collect())
    }

    /// Revokes a token at once.
    pub async fn revoke_token(&self, actor: &str, id: &str) -> Result<TokenInfo, AccountError> {
        let doc = self
            .store()
            .account(account_kinds::TOKEN, id)
            .await?
            .ok_or_else(|| AccountError::NotFound(format!("no token with id '{id}'")))?;
        let mut info = token_from_doc(id, &doc);
        if info.revoked {
            return Ok(info);
        }
        info.revoked = true;
        self.change(
            actor,
            "token.revoked",
            &format!("token:{id}"),
            json!({"user": info.user}),
            vec![put(account_kinds::TOKEN, id, token_doc(&info), false)],
        )
        .await?;
        Ok(info)
    }

    /// The principal of an API token (`sy_{id}_{secret}`), if it is valid, unexpired, unrevoked and its
    /// user enabled.
    pub async fn token_principal(&self, token: &str) -> Result<Option<Principal>, AccountError> {
        let Some((id, secret)) = token.strip_prefix("sy_").and_then(|t| t.split_once('_')) else {
            return Ok(None);
        };
        if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let Some(doc) = self.store().account(account_kinds::TOKEN, id).await? else {
            return Ok(None);
        };
        let info = token_from_doc(id, &doc);
        let same = same_secret(&sha256_hex(secret), &info.secret_hash);
        let live = DateTime::parse_from_rfc3339(&info.expires_at)
            .is_ok_and(|t| t.with_timezone(&Utc) > now());
        if !same || !live || info.revoked {
            return Ok(None);
        }
        let Some(user) = self.user(&info.user).await?.filter(|u| !u.disabled) else {
            return Ok(None);
        };
        Ok(Some(self.principal_of(&user, Some(info.scopes)).await?))
    }

    /// Grants a regulator read access to products over a period, until an expiry.
    pub async fn create_grant(&self, actor: &str, g: &NewGrant) -> Result<GrantInfo, AccountError> {
        let user = self
            .user(&g.user)
            .await?
            .ok_or_else(|| field("user", format!("no user named '{}'", g.user)))?;
        if user.role != Role::Regulator {
            return Err(field(
                "user",
                format!("'{}' is a {}; grants are for regulators", g.user, user.role),
            ));
        }
        if g.gtins.is_empty() {
            return Err(field("gtins", "name at least one product (GTIN)"));
        }
        let mut gtins = Vec::new();
        for (i, s) in g.gtins.iter().enumerate() {
            let v = gtin14(s).ok_or_else(|| {
                field(
                    &format!("gtins/{i}"),
                    format!("expected a GTIN (8, 12, 13 or 14 digits with a valid check digit) or a product URI, got '{s}'"),
                )
            })?;
            gtins.push(v);
        }
        let from = parse_time("from", &g.from)?;
        let to = parse_time("to", &g.to)?;
        if to <= from {
            return Err(field("to", "must be after 'from'"));
        }
        let expires = parse_expiry(&g.expires_at, now()).map_err(|m| field("expiresAt", m))?;
        if expires <= now() {
            return Err(field("expiresAt", "must be in the future"));
        }
        let info = GrantInfo {
            id: random_hex(6)?,
            user: g.user.clone(),
            gtins,
            from: rfc3339(from),
            to: rfc3339(to),
            expires_at: rfc3339(expires),
            note: g.note.clone(),
        };
        let doc = serde_json::to_value(&info).map_err(|e| AccountError::Crypto(e.to_string()))?;
        let write = put(account_kinds::GRANT, &info.id, doc.clone(), true);
        self.change(
            actor,
            "grant.created",
            &format!("grant:{}", info.id),
            doc,
            vec![write],
        )
        .await?;
        Ok(info)
    }

    /// Every grant (of one user, when given), expired ones included.
    pub async fn grants(&self, user: Option<&str>) -> Result<Vec<GrantInfo>, AccountError> {
        Ok(self
            .store()
            .accounts(account_kinds::GRANT)
            .await?
            .into_iter()
            .filter_map(|(_, d)| serde_json::from_value::<GrantInfo>(d).ok())
            .filter(|g| user.is_none_or(|u| g.user == u))
            .collect())
    }

    /// Revokes a grant at once.
    pub async fn revoke_grant(&self, actor: &str, id: &str) -> Result<(), AccountError> {
        let write = Write::DeleteRecord {
            kind: account_kinds::GRANT.into(),
            id: id.into(),
            must_exist: true,
        };
        match self
            .change(
                actor,
                "grant.revoked",
                &format!("grant:{id}"),
                json!({}),
                vec![write],
            )
            .await
        {
            Err(CaptureError::Store(StoreError::Missing { .. })) => {
                Err(AccountError::NotFound(format!("no grant with id '{id}'")))
            }
            other => other.map(|_| ()).map_err(AccountError::from),
        }
    }

    pub(super) async fn live_grants(&self, user: &str) -> Result<Vec<Grant>, AccountError> {
        let ms = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.timestamp_millis())
                .unwrap_or(0)
        };
        let now_ms = now().timestamp_millis();
        Ok(self
            .grants(Some(user))
            .await?
            .into_iter()
            .map(|g| Grant {
                from_ms: ms(&g.from),
                to_ms: ms(&g.to),
                expires_ms: ms(&g.expires_at),
                id: g.id,
                gtins: g.gtins,
            })
            .filter(|g| g.expires_ms > now_ms)
            .collect())
    }

    /// Logs one read of a logged principal (regulators).
    pub async fn log_access(
        &self,
        user: &str,
        request: &str,
        status: u16,
        items: u64,
    ) -> Result<(), AccountError> {
        self.store()
            .log_access(AccessEntry {
                id: 0,
                at: rfc3339(now()),
                user: user.to_string(),
                request: request.to_string(),
                status,
                items,
            })
            .await?;
        Ok(())
    }
}

pub(super) fn token_doc(t: &TokenInfo) -> Value {
    json!({"user": t.user, "scopes": t.scopes.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
           "expiresAt": t.expires_at, "createdAt": t.created_at, "revoked": t.revoked, "note": t.note,
           "secretHash": t.secret_hash})
}

pub(super) fn token_from_doc(id: &str, d: &Value) -> TokenInfo {
    let s = |k: &str| d.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    TokenInfo {
        id: id.to_string(),
        user: s("user"),
        scopes: strings(d.get("scopes"))
            .iter()
            .filter_map(|p| Permission::parse(p))
            .collect(),
        expires_at: s("expiresAt"),
        created_at: s("createdAt"),
        revoked: d.get("revoked").and_then(Value::as_bool).unwrap_or(false),
        note: s("note"),
        secret_hash: s("secretHash"),
    }
}
