//! The storage conformance suite on every backend: SQLite always, PostgreSQL when `SUYUAN_TEST_PG_URL` is set
//! (each test in a schema of its own, dropped afterwards).

use std::sync::Arc;
use suyuan_store::suite::{self, TestStore};
use suyuan_store::{PgStore, SqliteStore};

macro_rules! sqlite_tests {
    ($($name:ident),*) => {
        mod sqlite {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let dir = tempfile::tempdir().expect("tempdir");
                    let store: TestStore = Arc::new(SqliteStore::open(dir.path()).expect("open sqlite"));
                    suite::$name(store).await;
                }
            )*
        }
    };
}

macro_rules! postgres_tests {
    ($($name:ident),*) => {
        mod postgres {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Ok(url) = std::env::var("SUYUAN_TEST_PG_URL") else {
                        eprintln!("skipped PostgreSQL: SUYUAN_TEST_PG_URL is not set");
                        return;
                    };
                    let schema = format!("t_{}_{}", stringify!($name), std::process::id());
                    PgStore::drop_schema(&url, &schema).await.expect("clean schema");
                    let store: TestStore = Arc::new(PgStore::connect(&url, Some(&schema)).await.expect("connect postgres"));
                    suite::$name(store).await;
                    PgStore::drop_schema(&url, &schema).await.expect("drop schema");
                }
            )*
        }
    };
}

suyuan_store::for_each_check!(sqlite_tests);
suyuan_store::for_each_check!(postgres_tests);

/// A store reopened on the same directory keeps its events and continues the seq.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_reopen_continues_the_ledger() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let s = SqliteStore::open(dir.path()).expect("open");
        use suyuan_store::EventLog;
        s.append(vec![suite::prepare(suite::observe(1, 1))])
            .await
            .expect("append");
    }
    use suyuan_store::EventLog;
    let s = SqliteStore::open(dir.path()).expect("reopen");
    let out = s
        .append(vec![suite::prepare(suite::observe(2, 2))])
        .await
        .expect("append");
    assert_eq!(out[0].seq, 2);
}
