//! Definitions, code sequences and the issued-code register on PostgreSQL.

#[allow(unused_imports)]
use super::*;

pub(super) fn definition_from(r: &Row) -> StoredDefinition {
    let text: String = r.get(3);
    StoredDefinition {
        kind: r.get(0),
        name: r.get(1),
        version: r.get::<_, i32>(2) as u32,
        definition: serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        created_at: r.get(4),
    }
}

#[async_trait]
impl CodeRegistry for PgStore {
    async fn save_definition(
        &self,
        kind: &str,
        name: &str,
        definition: &serde_json::Value,
    ) -> Result<StoredDefinition, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtext('definition:' || $1 || ':' || $2))",
            &[&kind, &name],
        )
        .await?;
        let latest = tx
            .query_opt(
                "SELECT kind, name, version, definition, created_at FROM definitions WHERE kind = $1 AND name = $2 ORDER BY version DESC LIMIT 1",
                &[&kind, &name],
            )
            .await?
            .map(|r| definition_from(&r));
        if let Some(r) = &latest
            && &r.definition == definition
        {
            return Ok(r.clone());
        }
        let version = latest.map_or(1, |r| r.version + 1);
        let created_at = now_record_time();
        tx.execute(
            "INSERT INTO definitions (kind, name, version, definition, created_at) VALUES ($1, $2, $3, $4, $5)",
            &[&kind, &name, &(version as i32), &definition.to_string(), &created_at],
        )
        .await?;
        tx.commit().await?;
        Ok(StoredDefinition {
            kind: kind.to_string(),
            name: name.to_string(),
            version,
            definition: definition.clone(),
            created_at,
        })
    }

    async fn definition(
        &self,
        kind: &str,
        name: &str,
        version: Option<u32>,
    ) -> Result<Option<StoredDefinition>, StoreError> {
        let c = self.client().await?;
        let v = version.map(|v| v as i32);
        Ok(c.query_opt(
            "SELECT kind, name, version, definition, created_at FROM definitions WHERE kind = $1 AND name = $2 AND ($3::INT IS NULL OR version = $3) ORDER BY version DESC LIMIT 1",
            &[&kind, &name, &v],
        )
        .await?
        .map(|r| definition_from(&r)))
    }

    async fn definition_versions(
        &self,
        kind: &str,
        name: &str,
    ) -> Result<Vec<StoredDefinition>, StoreError> {
        let c = self.client().await?;
        Ok(c.query(
            "SELECT kind, name, version, definition, created_at FROM definitions WHERE kind = $1 AND name = $2 ORDER BY version",
            &[&kind, &name],
        )
        .await?
        .iter()
        .map(definition_from)
        .collect())
    }

    async fn definitions(&self, kind: &str) -> Result<Vec<StoredDefinition>, StoreError> {
        let c = self.client().await?;
        Ok(c.query(
            "SELECT DISTINCT ON (name) kind, name, version, definition, created_at FROM definitions WHERE kind = $1 ORDER BY name, version DESC",
            &[&kind],
        )
        .await?
        .iter()
        .map(definition_from)
        .collect())
    }

    async fn reserve_sequence(
        &self,
        rule: &str,
        scope: &str,
        count: u64,
        limit: u64,
    ) -> Result<Option<u64>, StoreError> {
        if count.saturating_add(1) > limit {
            return Ok(None);
        }
        let c = self.client().await?;
        let next = c
            .query_opt(
                "INSERT INTO code_sequences (rule, scope, next) VALUES ($1, $2, 1 + $3::BIGINT)
                 ON CONFLICT (rule, scope) DO UPDATE SET next = code_sequences.next + $3::BIGINT
                 WHERE code_sequences.next + $3::BIGINT <= $4::BIGINT
                 RETURNING next",
                &[
                    &rule,
                    &scope,
                    &(count as i64),
                    &(limit.min(i64::MAX as u64) as i64),
                ],
            )
            .await?;
        Ok(next.map(|r| r.get::<_, i64>(0) as u64 - count))
    }

    async fn register_codes(&self, codes: Vec<IssuedCode>) -> Result<(), StoreError> {
        if codes.is_empty() {
            return Ok(());
        }
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let col = |f: fn(&IssuedCode) -> &str| codes.iter().map(f).collect::<Vec<&str>>();
        let (uris, texts, rules, at) = (
            col(|c| &c.uri),
            col(|c| &c.code),
            col(|c| &c.rule),
            col(|c| &c.issued_at),
        );
        let versions: Vec<i32> = codes.iter().map(|c| c.version as i32).collect();
        let inserted = tx
            .query(
                "INSERT INTO codes (uri, code, rule, version, issued_at)
                 SELECT * FROM unnest($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::INT[], $5::TEXT[])
                 ON CONFLICT (uri) DO NOTHING RETURNING uri",
                &[&uris, &texts, &rules, &versions, &at],
            )
            .await?;
        if inserted.len() != codes.len() {
            let fresh: std::collections::HashSet<String> =
                inserted.iter().map(|r| r.get::<_, String>(0)).collect();
            let dup = codes
                .iter()
                .find(|c| !fresh.contains(&c.uri))
                .unwrap_or(&codes[0]);
            return Err(StoreError::DuplicateCode {
                code: dup.code.clone(),
                uri: dup.uri.clone(),
            });
        }
        tx.commit().await?;
        Ok(())
    }

    async fn issued(&self, code_or_uri: &str) -> Result<Vec<IssuedCode>, StoreError> {
        let c = self.client().await?;
        Ok(c.query(
            "SELECT uri, code, rule, version, issued_at, revoked FROM codes WHERE uri = $1 OR code = $1",
            &[&code_or_uri],
        )
        .await?
        .iter()
        .map(|r| IssuedCode {
            uri: r.get(0),
            code: r.get(1),
            rule: r.get(2),
            version: r.get::<_, i32>(3) as u32,
            issued_at: r.get(4),
            revoked: r.get(5),
        })
        .collect())
    }

    async fn issued_uris(&self, uris: &[String]) -> Result<Vec<String>, StoreError> {
        if uris.is_empty() {
            return Ok(Vec::new());
        }
        let c = self.client().await?;
        Ok(
            c.query("SELECT uri FROM codes WHERE uri = ANY($1)", &[&uris])
                .await?
                .iter()
                .map(|r| r.get(0))
                .collect(),
        )
    }

    async fn revoke_code(&self, code_or_uri: &str, reason: &str) -> Result<u64, StoreError> {
        let c = self.client().await?;
        Ok(c.execute(
            "UPDATE codes SET revoked = $2 WHERE (uri = $1 OR code = $1) AND revoked IS NULL",
            &[&code_or_uri, &reason],
        )
        .await?)
    }

    async fn issued_count(&self, rule: &str) -> Result<u64, StoreError> {
        let c = self.client().await?;
        let n: i64 = c
            .query_one("SELECT COUNT(*) FROM codes WHERE rule = $1", &[&rule])
            .await?
            .get(0);
        Ok(n as u64)
    }
}
