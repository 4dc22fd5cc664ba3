//! The PostgreSQL ends of a copy: a repeatable-read snapshot to read from, binary COPY to write with.

use super::{Cell, MUST_BE_EMPTY, Reader, Table, Writer, not_empty};
use crate::StoreError;
use std::collections::HashMap;
use std::str::FromStr;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{Client, NoTls, Row};

/// A client of its own (not the pool's), inside `schema` when given.
async fn connect(url: &str, schema: Option<&str>) -> Result<Client, StoreError> {
    let mut cfg = tokio_postgres::Config::from_str(url)
        .map_err(|e| StoreError::Backend(format!("invalid PostgreSQL URL: {e}")))?;
    if let Some(s) = schema {
        if !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(StoreError::Backend(format!("invalid schema name {s:?}")));
        }
        cfg.options(format!("-c search_path={s}"));
    }
    let (client, conn) = cfg.connect(NoTls).await?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::warn!(error = %e, "copy connection ended");
        }
    });
    Ok(client)
}

/// A value bound as the column's own type (an integer as INT2, INT4 or INT8).
struct Arg<'a>(&'a Cell);

impl std::fmt::Debug for Arg<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl ToSql for Arg<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut tokio_postgres::types::private::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self.0 {
            Cell::Null => Ok(IsNull::Yes),
            Cell::Int(i) => match *ty {
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                _ => i.to_sql(ty, out),
            },
            Cell::Text(t) => t.as_str().to_sql(ty, out),
            Cell::Blob(b) => b.as_slice().to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        matches!(
            *ty,
            Type::INT2 | Type::INT4 | Type::INT8 | Type::TEXT | Type::VARCHAR | Type::BYTEA
        )
    }

    to_sql_checked!();
}

fn cells(row: &Row) -> Result<Vec<Cell>, StoreError> {
    let mut out = Vec::with_capacity(row.len());
    for (i, col) in row.columns().iter().enumerate() {
        let c = match *col.type_() {
            Type::INT2 => row
                .try_get::<_, Option<i16>>(i)?
                .map(|v| Cell::Int(v.into())),
            Type::INT4 => row
                .try_get::<_, Option<i32>>(i)?
                .map(|v| Cell::Int(v.into())),
            Type::INT8 => row.try_get::<_, Option<i64>>(i)?.map(Cell::Int),
            Type::BYTEA => row.try_get::<_, Option<Vec<u8>>>(i)?.map(Cell::Blob),
            _ => row.try_get::<_, Option<String>>(i)?.map(Cell::Text),
        };
        out.push(c.unwrap_or(Cell::Null));
    }
    Ok(out)
}

/// Refuses a database whose schema is not this version's.
async fn check_schema(client: &Client, place: &str) -> Result<(), StoreError> {
    let known = crate::postgres::schema_version() as i32;
    let version: i32 = client
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            &[],
        )
        .await
        .map_err(|_| StoreError::Backend(format!("{place} is not a Suyuan store")))?
        .get(0);
    if version != known {
        return Err(StoreError::Backend(format!(
            "{place} has schema version {version}, this Suyuan writes version {known}: {}",
            if version < known {
                "start this Suyuan on it once to bring it up to date"
            } else {
                "upgrade Suyuan"
            }
        )));
    }
    Ok(())
}

/// Reads one PostgreSQL database inside a REPEATABLE READ, READ ONLY transaction: every page comes from the
/// snapshot its first query took, while servers go on writing.
pub(super) struct PgReader {
    client: Client,
}

impl PgReader {
    pub(super) async fn open(url: &str, schema: Option<&str>) -> Result<Self, StoreError> {
        let client = connect(url, schema).await?;
        check_schema(&client, "the source database").await?;
        client
            .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await?;
        Ok(PgReader { client })
    }
}

#[async_trait::async_trait]
impl Reader for PgReader {
    async fn page(
        &mut self,
        table: &Table,
        after: Option<&[Cell]>,
        limit: usize,
    ) -> Result<Vec<Vec<Cell>>, StoreError> {
        let sql = table.page_query(after.is_some(), limit, |i| format!("${i}"));
        let args: Vec<Arg<'_>> = after.unwrap_or(&[]).iter().map(Arg).collect();
        let params: Vec<&(dyn ToSql + Sync)> =
            args.iter().map(|a| a as &(dyn ToSql + Sync)).collect();
        let rows = self.client.query(&sql, &params).await?;
        rows.iter().map(cells).collect()
    }
}

/// Writes an empty PostgreSQL database (created at the current schema) in one transaction, with binary COPY.
pub(super) struct PgWriter {
    client: Client,
    types: HashMap<&'static str, Vec<Type>>,
}

impl PgWriter {
    pub(super) async fn open(url: &str, schema: Option<&str>) -> Result<Self, StoreError> {
        // Connecting the store applies the migrations (under their advisory lock).
        drop(crate::PgStore::connect(url, schema).await?);
        let client = connect(url, schema).await?;
        check_schema(&client, "the destination database").await?;
        client.batch_execute("BEGIN").await?;
        for (table, what) in MUST_BE_EMPTY {
            let n: i64 = client
                .query_one(&format!("SELECT COUNT(*) FROM {table}"), &[])
                .await?
                .get(0);
            if n > 0 {
                return Err(not_empty("the destination database", what, n));
            }
        }
        Ok(PgWriter {
            client,
            types: HashMap::new(),
        })
    }
}

#[async_trait::async_trait]
impl Writer for PgWriter {
    async fn clear(&mut self, table: &Table) -> Result<(), StoreError> {
        self.client
            .batch_execute(&format!("DELETE FROM \"{}\"", table.name))
            .await?;
        let probe = self
            .client
            .prepare(&format!(
                "SELECT {} FROM \"{}\" LIMIT 0",
                table.column_list(),
                table.name
            ))
            .await?;
        let types = probe.columns().iter().map(|c| c.type_().clone()).collect();
        self.types.insert(table.name, types);
        Ok(())
    }

    async fn write(&mut self, table: &Table, rows: &[Vec<Cell>]) -> Result<(), StoreError> {
        use tokio_postgres::binary_copy::BinaryCopyInWriter;
        let types = self
            .types
            .get(table.name)
            .cloned()
            .ok_or_else(|| StoreError::Backend(format!("{} was not cleared", table.name)))?;
        let sink = self
            .client
            .copy_in(&format!(
                "COPY \"{}\" ({}) FROM STDIN BINARY",
                table.name,
                table.column_list()
            ))
            .await?;
        let writer = BinaryCopyInWriter::new(sink, &types);
        let mut writer = Box::pin(writer);
        for row in rows {
            let args: Vec<Arg<'_>> = row.iter().map(Arg).collect();
            let values: Vec<&(dyn ToSql + Sync)> =
                args.iter().map(|a| a as &(dyn ToSql + Sync)).collect();
            writer.as_mut().write(&values).await?;
        }
        writer.as_mut().finish().await?;
        Ok(())
    }

    async fn finish(self: Box<Self>) -> Result<(), StoreError> {
        // Ids the store assigns continue after the copied ones; the ledger head is the last seq; a lease held
        // in the source belongs to a process that does not run here.
        self.client
            .batch_execute(
                "SELECT setval(pg_get_serial_sequence('objects', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM objects;
                 SELECT setval(pg_get_serial_sequence('outbox', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM outbox;
                 SELECT setval(pg_get_serial_sequence('scans', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM scans;
                 SELECT setval(pg_get_serial_sequence('access_log', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM access_log;
                 UPDATE ledger_head SET last_seq = (SELECT COALESCE(MAX(seq), 0) FROM events);
                 UPDATE reactors SET lease_owner = NULL, lease_until_ms = 0;
                 COMMIT",
            )
            .await?;
        Ok(())
    }
}
