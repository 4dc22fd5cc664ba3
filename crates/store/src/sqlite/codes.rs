//! Definitions, code sequences and the issued-code register on SQLite.

#[allow(unused_imports)]
use super::*;

pub(super) fn save_definition(
    conn: &Connection,
    kind: &str,
    name: &str,
    def: &Value,
) -> Result<StoredDefinition, StoreError> {
    let latest = conn
        .query_row(
            "SELECT version, definition, created_at FROM definitions WHERE kind = ?1 AND name = ?2 ORDER BY version DESC LIMIT 1",
            [kind, name],
            |r| Ok((r.get::<_, u32>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)),
        )
        .optional()?;
    let stored = |version, created_at| StoredDefinition {
        kind: kind.to_string(),
        name: name.to_string(),
        version,
        definition: def.clone(),
        created_at,
    };
    if let Some((version, text, created_at)) = &latest
        && serde_json::from_str::<Value>(text).ok().as_ref() == Some(def)
    {
        return Ok(stored(*version, created_at.clone()));
    }
    let version = latest.map_or(1, |(v, _, _)| v + 1);
    let created_at = now_record_time();
    conn.execute(
        "INSERT INTO definitions (kind, name, version, definition, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![kind, name, version, def.to_string(), created_at],
    )?;
    Ok(stored(version, created_at))
}

pub(super) fn reserve(
    conn: &Connection,
    rule: &str,
    scope: &str,
    count: u64,
    limit: u64,
) -> Result<Option<u64>, StoreError> {
    if count.saturating_add(1) > limit {
        return Ok(None);
    }
    let next: Option<i64> = conn
        .query_row(
            "INSERT INTO code_sequences (rule, scope, next) VALUES (?1, ?2, 1 + ?3)
             ON CONFLICT (rule, scope) DO UPDATE SET next = next + ?3 WHERE next + ?3 <= ?4
             RETURNING next",
            params![rule, scope, count as i64, limit.min(i64::MAX as u64) as i64],
            |r| r.get(0),
        )
        .optional()?;
    Ok(next.map(|n| n as u64 - count))
}

pub(super) fn register(conn: &Connection, codes: &[IssuedCode]) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO codes (uri, code, rule, version, issued_at, revoked) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (uri) DO NOTHING",
    )?;
    for c in codes {
        let n = stmt.execute(params![
            c.uri,
            c.code,
            c.rule,
            c.version,
            c.issued_at,
            c.revoked
        ])?;
        if n == 0 {
            return Err(StoreError::DuplicateCode {
                code: c.code.clone(),
                uri: c.uri.clone(),
            });
        }
    }
    Ok(())
}

pub(super) fn revoke(conn: &Connection, code: &str, reason: &str) -> Result<u64, StoreError> {
    let n = conn.execute(
        "UPDATE codes SET revoked = ?2 WHERE (uri = ?1 OR code = ?1) AND revoked IS NULL",
        params![code, reason],
    )?;
    Ok(n as u64)
}

pub(super) fn definition_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredDefinition> {
    let text: String = r.get(3)?;
    Ok(StoredDefinition {
        kind: r.get(0)?,
        name: r.get(1)?,
        version: r.get(2)?,
        definition: serde_json::from_str(&text).unwrap_or(Value::Null),
        created_at: r.get(4)?,
    })
}

pub(super) fn code_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<IssuedCode> {
    Ok(IssuedCode {
        uri: r.get(0)?,
        code: r.get(1)?,
        rule: r.get(2)?,
        version: r.get(3)?,
        issued_at: r.get(4)?,
        revoked: r.get(5)?,
    })
}

#[async_trait]
impl CodeRegistry for SqliteStore {
    async fn save_definition(
        &self,
        kind: &str,
        name: &str,
        definition: &Value,
    ) -> Result<StoredDefinition, StoreError> {
        let work = Work::SaveDefinition(
            kind.to_string(),
            name.to_string(),
            Box::new(definition.clone()),
        );
        match self.submit(work).await? {
            Done::Definition(r) => Ok(r),
            _ => Err(StoreError::Backend("writer answered the wrong job".into())),
        }
    }

    async fn definition(
        &self,
        kind: &str,
        name: &str,
        version: Option<u32>,
    ) -> Result<Option<StoredDefinition>, StoreError> {
        let (kind, name) = (kind.to_string(), name.to_string());
        self.read(move |c| {
            let sql = "SELECT kind, name, version, definition, created_at FROM definitions WHERE kind = ?1 AND name = ?2 AND (?3 IS NULL OR version = ?3) ORDER BY version DESC LIMIT 1";
            Ok(c.query_row(sql, params![kind, name, version], definition_row).optional()?)
        })
        .await
    }

    async fn definition_versions(
        &self,
        kind: &str,
        name: &str,
    ) -> Result<Vec<StoredDefinition>, StoreError> {
        let (kind, name) = (kind.to_string(), name.to_string());
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT kind, name, version, definition, created_at FROM definitions WHERE kind = ?1 AND name = ?2 ORDER BY version",
            )?;
            Ok(stmt.query_map([kind, name], definition_row)?.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn definitions(&self, kind: &str) -> Result<Vec<StoredDefinition>, StoreError> {
        let kind = kind.to_string();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT d.kind, d.name, d.version, d.definition, d.created_at FROM definitions d
                 WHERE d.kind = ?1 AND d.version = (SELECT MAX(version) FROM definitions WHERE kind = d.kind AND name = d.name)
                 ORDER BY d.name",
            )?;
            Ok(stmt.query_map([kind], definition_row)?.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn reserve_sequence(
        &self,
        rule: &str,
        scope: &str,
        count: u64,
        limit: u64,
    ) -> Result<Option<u64>, StoreError> {
        match self
            .submit(Work::Reserve(
                rule.to_string(),
                scope.to_string(),
                count,
                limit,
            ))
            .await?
        {
            Done::Reserved(n) => Ok(n),
            _ => Err(StoreError::Backend("writer answered the wrong job".into())),
        }
    }

    async fn register_codes(&self, codes: Vec<IssuedCode>) -> Result<(), StoreError> {
        if codes.is_empty() {
            return Ok(());
        }
        match self.submit(Work::Register(codes)).await? {
            Done::Nothing => Ok(()),
            _ => Err(StoreError::Backend("writer answered the wrong job".into())),
        }
    }

    async fn issued(&self, code_or_uri: &str) -> Result<Vec<IssuedCode>, StoreError> {
        let key = code_or_uri.to_string();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT uri, code, rule, version, issued_at, revoked FROM codes WHERE uri = ?1
                 UNION SELECT uri, code, rule, version, issued_at, revoked FROM codes WHERE code = ?1",
            )?;
            Ok(stmt.query_map([key], code_row)?.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn issued_uris(&self, uris: &[String]) -> Result<Vec<String>, StoreError> {
        let uris = uris.to_vec();
        self.read(move |c| {
            let mut out = Vec::new();
            for chunk in uris.chunks(500) {
                let marks = vec!["?"; chunk.len()].join(",");
                let mut stmt =
                    c.prepare(&format!("SELECT uri FROM codes WHERE uri IN ({marks})"))?;
                let found = stmt
                    .query_map(rusqlite::params_from_iter(chunk), |r| r.get::<_, String>(0))?
                    .collect::<Result<Vec<_>, _>>()?;
                out.extend(found);
            }
            Ok(out)
        })
        .await
    }

    async fn revoke_code(&self, code_or_uri: &str, reason: &str) -> Result<u64, StoreError> {
        match self
            .submit(Work::Revoke(code_or_uri.to_string(), reason.to_string()))
            .await?
        {
            Done::Number(n) => Ok(n),
            _ => Err(StoreError::Backend("writer answered the wrong job".into())),
        }
    }

    async fn issued_count(&self, rule: &str) -> Result<u64, StoreError> {
        let rule = rule.to_string();
        self.read(move |c| {
            let n: i64 =
                c.query_row("SELECT COUNT(*) FROM codes WHERE rule = ?1", [rule], |r| {
                    r.get(0)
                })?;
            Ok(n as u64)
        })
        .await
    }
}
