//! The reactor runtime: every outbox entry reaches every reactor exactly once — through injected failures
//! (retried), across a restart (progress is in the store), after a crash (the lease expires on a clock the
//! test moves), and with two engines on one PostgreSQL sharing the work (the lease) — and the outbox settles.

use async_trait::async_trait;
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use suyuan_engine::Engine;
use suyuan_engine::reactor::{ManualClock, Reactor, ReactorError, Runtime, Settings, Step};
use suyuan_store::{OutboxEntry, PgStore, SqliteStore, Store};

/// Counts the deliveries of each outbox entry; fails every `fail_every`-th call before doing anything.
#[derive(Default)]
struct Counting {
    seen: Mutex<HashMap<u64, usize>>,
    calls: AtomicUsize,
    fail_every: usize,
}

#[async_trait]
impl Reactor for Counting {
    fn name(&self) -> &'static str {
        "counting"
    }

    async fn react(&self, _engine: &Engine, entries: &[OutboxEntry]) -> Result<(), ReactorError> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if self.fail_every > 0 && call.is_multiple_of(self.fail_every) {
            return Err(ReactorError(format!("injected failure on call {call}")));
        }
        let mut seen = self.seen.lock().expect("lock");
        for e in entries {
            *seen.entry(e.id).or_default() += 1;
        }
        Ok(())
    }
}

impl Counting {
    fn failing(every: usize) -> Arc<Counting> {
        Arc::new(Counting {
            fail_every: every,
            ..Counting::default()
        })
    }

    fn deliveries(&self) -> HashMap<u64, usize> {
        self.seen.lock().expect("lock").clone()
    }
}

fn event(serial: u32) -> serde_json::Value {
    json!({"type": "ObjectEvent", "eventTime": "2024-03-01T08:00:00.000+08:00", "eventTimeZoneOffset": "+08:00",
           "epcList": [format!("urn:epc:id:sgtin:6901234.012345.{serial}")], "action": "OBSERVE",
           "bizStep": "inspecting"})
}

async fn capture(engine: &Engine, from: u32, to: u32) {
    for serial in from..to {
        engine.capture(&event(serial)).await.expect("capture");
    }
}

fn small_batches() -> Settings {
    Settings {
        batch: 3,
        lease: Duration::from_secs(30),
        ..Settings::default()
    }
}

/// Steps until idle, retrying failures (each step's error is an injected one); gives up after `max` steps.
async fn drain_retrying(rt: &Runtime, max: usize) -> usize {
    let mut failures = 0;
    for _ in 0..max {
        match rt.step(0).await {
            Ok(Step::Reacted(_)) => {}
            Ok(_) => return failures,
            Err(_) => failures += 1,
        }
    }
    panic!("the runtime did not drain within {max} steps");
}

async fn exactly_once_through_failures_and_restarts(store: Arc<dyn Store>) {
    let engine = Engine::new(store.clone());
    capture(&engine, 1, 11).await;
    let clock = ManualClock::at(1_000_000);
    let reactor = Counting::failing(2);
    let rt = Runtime::new(engine.clone(), "one")
        .with_clock(clock.clone())
        .with_settings(small_batches())
        .with(reactor.clone());
    let failures = drain_retrying(&rt, 50).await;
    assert!(failures >= 3, "failures were injected: {failures}");
    let entries = store.outbox_after(0, 100).await.expect("outbox");
    assert_eq!(entries.len(), 10);
    let seen = reactor.deliveries();
    assert!(
        entries.iter().all(|e| seen.get(&e.id) == Some(&1)),
        "{seen:?}"
    );
    let state = &store.reactor_states().await.expect("states")[0];
    assert_eq!((state.done_id, state.failures), (entries[9].id, 0));
    assert_eq!(
        store.stats().await.expect("stats").outbox_pending,
        0,
        "settled"
    );

    // A clean restart: the new runtime (another owner) continues where the first stopped.
    rt.release().await;
    capture(&engine, 11, 16).await;
    let rt2 = Runtime::new(engine.clone(), "two")
        .with_clock(clock.clone())
        .with_settings(small_batches())
        .with(reactor.clone());
    drain_retrying(&rt2, 50).await;
    // A crash (no release): a third runtime waits for the lease to expire, then takes over.
    capture(&engine, 16, 19).await;
    let rt3 = Runtime::new(engine.clone(), "three")
        .with_clock(clock.clone())
        .with_settings(small_batches())
        .with(reactor.clone());
    assert_eq!(rt3.step(0).await.expect("step"), Step::Elsewhere);
    clock.advance(31_000);
    drain_retrying(&rt3, 50).await;
    let seen = reactor.deliveries();
    assert_eq!(seen.len(), 18);
    assert!(seen.values().all(|n| *n == 1), "{seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    let dir = tempfile::tempdir().expect("tmp");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).expect("open"));
    exactly_once_through_failures_and_restarts(store).await;
}

/// The runtime as the server runs it: a commit wakes it at once, and a stop releases the lease.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_runtime_follows_commits() {
    let dir = tempfile::tempdir().expect("tmp");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).expect("open"));
    let engine = Engine::new(store.clone());
    let reactor = Counting::failing(0);
    let rt = Arc::new(
        Runtime::new(engine.clone(), "server")
            .with_settings(Settings {
                poll: Duration::from_secs(3600),
                ..Settings::default()
            })
            .with(reactor.clone()),
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(rt.run(stopped));
    capture(&engine, 1, 6).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while reactor.deliveries().len() < 5 {
        assert!(
            std::time::Instant::now() < deadline,
            "commits did not wake the runtime"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(true).expect("stop");
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("stops in time")
        .expect("task");
    let state = &store.reactor_states().await.expect("states")[0];
    assert_eq!(state.lease_owner, None, "released on stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    let Some(url) = suyuan_store::suite::pg_url() else {
        return;
    };
    let schema = format!("t_react_{}", std::process::id());
    PgStore::drop_schema(&url, &schema).await.expect("clean");
    let connect = || async {
        let s: Arc<dyn Store> = Arc::new(
            PgStore::connect(&url, Some(&schema))
                .await
                .expect("connect"),
        );
        s
    };
    exactly_once_through_failures_and_restarts(connect().await).await;
    two_engines_share_the_work(connect().await, connect().await).await;
    PgStore::drop_schema(&url, &schema).await.expect("drop");
}

/// Two engines (two pools, as two servers) run the same reactor while both capture: every entry is
/// delivered once in all.
async fn two_engines_share_the_work(a: Arc<dyn Store>, b: Arc<dyn Store>) {
    let (ea, eb) = (Engine::new(a.clone()), Engine::new(b));
    let reactor = Counting::failing(0);
    let rt_a = Arc::new(
        Runtime::new(ea.clone(), "server-a")
            .with_settings(Settings {
                poll: Duration::from_millis(20),
                ..small_batches()
            })
            .with(reactor.clone()),
    );
    let rt_b = Arc::new(
        Runtime::new(eb.clone(), "server-b")
            .with_settings(Settings {
                poll: Duration::from_millis(20),
                ..small_batches()
            })
            .with(reactor.clone()),
    );
    let before = a.outbox_after(0, 10_000).await.expect("outbox").len();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let ta = tokio::spawn(rt_a.run(stopped.clone()));
    let tb = tokio::spawn(rt_b.run(stopped));
    tokio::join!(capture(&ea, 100, 130), capture(&eb, 200, 230));
    let total = a.outbox_after(0, 10_000).await.expect("outbox").len() - before;
    assert_eq!(total, 60);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while reactor.deliveries().len() < total {
        assert!(std::time::Instant::now() < deadline, "not drained in time");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(true).expect("stop");
    for t in [ta, tb] {
        tokio::time::timeout(Duration::from_secs(10), t)
            .await
            .expect("stops in time")
            .expect("task");
    }
    let seen = reactor.deliveries();
    assert_eq!(seen.len(), total);
    assert!(
        seen.values().all(|n| *n == 1),
        "an entry was delivered twice: {seen:?}"
    );
}
