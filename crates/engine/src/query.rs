//! The EPCIS event query planner: which index answers a SimpleEventQuery (named events, object histories,
//! places, business steps and event time, or the ledger), how a page is collected from it under the
//! principal's row scope, and what its `nextPageToken` carries. The HTTP bindings parse parameters and write
//! documents; this module decides what the answer holds.

use serde_json::Value;
use sha2::{Digest, Sha256};
use suyuan_epcis::query::{OrderBy, Query, QueryParamError};
use suyuan_store::{StepPosition, StoreError, StoredEvent};

use crate::Engine;
use crate::accounts::Principal;
use crate::audit::ADMIN_BIZSTEP;

/// Most events examined per unsorted page when no index narrows the query; the token continues from there.
const SCAN_LIMIT: u64 = 200_000;

/// Why a query was not answered.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// A parameter (or the page token) is invalid.
    #[error("invalid query parameters")]
    Params(Vec<QueryParamError>),
    /// More events match than `maxEventCount` allows.
    #[error("{0}")]
    TooMany(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One page of a query's answer and the token of the next, if there is more.
#[derive(Debug, Clone)]
pub struct QueryPage {
    /// The events, in the answer's order.
    pub events: Vec<StoredEvent>,
    /// `nextPageToken` of the next page.
    pub next: Option<String>,
}

/// A fingerprint of the query (paging excluded), so a page token cannot be replayed on another query.
pub fn fingerprint(params: &[(String, String)]) -> String {
    let mut h = Sha256::new();
    for (k, v) in params {
        if !suyuan_epcis::query::PAGING.contains(&k.as_str()) {
            h.update(k.as_bytes());
            h.update([0]);
            h.update(v.as_bytes());
            h.update([1]);
        }
    }
    hex::encode(&h.finalize()[..6])
}

/// Where an unsorted page looks for its events.
enum Candidates<'a> {
    /// The whole ledger in seq order, at most [`SCAN_LIMIT`] events examined per page.
    Ledger,
    /// The events of these business steps within an event-time window, in event-time order through their
    /// index.
    Steps(&'a [String], Option<i64>, Option<i64>),
    /// The events at these places (read point or business location), in seq order through their index.
    Places(&'a [String]),
    /// The histories of these objects, in seq order.
    Objects(&'a [String]),
    /// The events with these eventIDs, in seq order.
    Ids(&'a [String]),
}

impl Candidates<'_> {
    /// Up to `n` candidates after `after` (the ledger reads only its seq).
    async fn next(
        &self,
        store: &dyn suyuan_store::Store,
        after: StepPosition,
        n: u32,
    ) -> Result<Vec<StoredEvent>, suyuan_store::StoreError> {
        match self {
            Candidates::Ledger => store.events_after(after.seq, n).await,
            Candidates::Steps(steps, from, to) => {
                store.events_by_step(steps, *from, *to, after, n).await
            }
            Candidates::Places(places) => store.events_at_places(places, after.seq, n).await,
            Candidates::Objects(objects) => store.objects_history(objects, after.seq, n).await,
            Candidates::Ids(ids) => store.events_with_ids(ids, after.seq).await,
        }
    }

    /// Where `e` stands in this candidates' order.
    fn position(&self, e: &StoredEvent) -> StepPosition {
        match self {
            Candidates::Ledger
            | Candidates::Places(_)
            | Candidates::Objects(_)
            | Candidates::Ids(_) => StepPosition {
                event_time_ms: 0,
                seq: e.seq,
            },
            Candidates::Steps(..) => StepPosition::of(e),
        }
    }
}

/// Up to `want` events after `after` that satisfy `hit`, in the candidates' order: the events, the position
/// of the last one examined, and whether there may be more.
async fn collect(
    store: &dyn suyuan_store::Store,
    source: Candidates<'_>,
    after: StepPosition,
    want: usize,
    hit: &impl Fn(&StoredEvent) -> bool,
) -> Result<(Vec<StoredEvent>, StepPosition, bool), suyuan_store::StoreError> {
    let (batch, max_scan) = match source {
        Candidates::Ledger => (1000u32, SCAN_LIMIT),
        // A page's worth first: when the other filters keep most candidates, one read answers it.
        Candidates::Steps(..)
        | Candidates::Places(_)
        | Candidates::Objects(_)
        | Candidates::Ids(_) => ((want as u32 + 1).clamp(32, 500), u64::MAX),
    };
    let (mut out, mut cursor, mut scanned) = (Vec::new(), after, 0u64);
    loop {
        let page = source.next(store, cursor, batch).await?;
        let done = page.len() < batch as usize;
        for e in page {
            if out.len() >= want {
                return Ok((out, cursor, true));
            }
            cursor = source.position(&e);
            scanned += 1;
            if hit(&e) {
                out.push(e);
            }
        }
        if done {
            return Ok((out, cursor, false));
        }
        if scanned >= max_scan {
            return Ok((out, cursor, true));
        }
    }
}

/// How a query's answer is produced, and so what its `nextPageToken` carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// The events the query names by eventID, in seq order.
    Ids,
    /// The histories of the objects the query names exactly, in seq order.
    Objects,
    /// The place index, in seq order.
    Places,
    /// The business step/event-time index, in event-time order.
    Steps,
    /// The ledger in seq order.
    Ledger,
    /// Every match collected and sorted (an `orderBy` no index serves, or a `maxEventCount` that needs the
    /// total).
    Sorted,
}

impl Plan {
    /// The narrowest index the query can use: named events, then named objects (their histories are short),
    /// then places, then steps; else the ledger.
    fn narrowest(q: &Query) -> Plan {
        if q.event_ids().is_some() {
            Plan::Ids
        } else if q.exact_objects.is_some() {
            Plan::Objects
        } else if q.place_keys().is_some() {
            Plan::Places
        } else if q.step_window().is_some() {
            Plan::Steps
        } else {
            Plan::Ledger
        }
    }

    fn of(q: &Query) -> Plan {
        if q.max_event_count.is_some() {
            return Plan::Sorted;
        }
        let narrowest = Plan::narrowest(q);
        match (q.order_by, q.ascending) {
            (None, _) => narrowest,
            // Steps come in event-time order, not record-time order.
            (Some(OrderBy::RecordTime), true) if narrowest == Plan::Steps => Plan::Ledger,
            (Some(OrderBy::RecordTime), true) => narrowest,
            (Some(OrderBy::EventTime), true)
                if q.step_window().is_some() && q.exact_objects.is_none() =>
            {
                Plan::Steps
            }
            _ => Plan::Sorted,
        }
    }

    /// The candidates this plan reads (`window` is the query's step window); a sorted answer reads those of
    /// [`Plan::narrowest`].
    fn candidates<'a>(
        self,
        q: &'a Query,
        window: &'a Option<(Vec<String>, Option<i64>, Option<i64>)>,
    ) -> Candidates<'a> {
        match self {
            Plan::Ids => Candidates::Ids(q.event_ids().unwrap_or_default()),
            Plan::Objects => Candidates::Objects(q.exact_objects.as_deref().unwrap_or_default()),
            Plan::Places => Candidates::Places(q.place_keys().unwrap_or_default()),
            Plan::Steps => match window {
                Some((steps, from, to)) => Candidates::Steps(steps, *from, *to),
                None => Candidates::Ledger,
            },
            Plan::Ledger => Candidates::Ledger,
            Plan::Sorted => Plan::narrowest(q).candidates(q, window),
        }
    }
}

/// Where the next page starts: after a position with so many events answered (unsorted plans), or at an
/// offset into the sorted matches. Its text is `time_seq_answered` or `offset`, then `.` and the query's
/// fingerprint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PageAt {
    After(StepPosition, u64),
    Offset(usize),
}

impl PageAt {
    fn token(&self, print: &str) -> String {
        match self {
            PageAt::After(p, answered) => {
                format!("{}_{}_{answered}.{print}", p.event_time_ms, p.seq)
            }
            PageAt::Offset(o) => format!("{o}.{print}"),
        }
    }

    fn parse(token: &str, print: &str, plan: Plan) -> Option<PageAt> {
        let (at, fingerprint) = token.split_once('.')?;
        if fingerprint != print {
            return None;
        }
        if plan == Plan::Sorted {
            return at.parse().ok().map(PageAt::Offset);
        }
        let mut parts = at.split('_');
        let (t, s, a) = (parts.next()?, parts.next()?, parts.next()?);
        let position = StepPosition {
            event_time_ms: t.parse().ok()?,
            seq: s.parse().ok()?,
        };
        Some(PageAt::After(position, a.parse().ok()?)).filter(|_| parts.next().is_none())
    }
}

/// Whether an event answers a query for a principal: within its row scope, matching the query, and not one
/// of Suyuan's own administrative events (users, tokens, definitions stay out of the EPCIS interface).
pub fn deliverable(me: &Principal, q: &Query, e: &StoredEvent) -> bool {
    let record_ms = suyuan_core::time::parse_timestamp(&e.record_time)
        .map(|t| suyuan_core::time::unix_millis(&t))
        .unwrap_or(0);
    e.event.get("bizStep").and_then(Value::as_str) != Some(ADMIN_BIZSTEP)
        && me.rows.event_visible(&e.event)
        && q.matches(&e.event, record_ms)
}

impl Engine {
    /// Resolves the query's master-data filters (`WD_readPoint` / `WD_bizLocation` descendants, `HASATTR_`,
    /// `EQ_ATTR_`) against the stored master data (one read, only when the query has such a parameter).
    pub async fn resolve_master_data(&self, q: &mut Query) -> Result<(), StoreError> {
        if q.wants_master_data() {
            q.resolve_master_data(&self.store().master_data(&[]).await?);
        }
        Ok(())
    }

    /// A page of the events that answer `q` for `me`: `per_page` at most, from `token` (a `nextPageToken`
    /// of the same query, whose fingerprint is `print`).
    pub async fn query_events(
        &self,
        me: &Principal,
        mut q: Query,
        print: &str,
        per_page: usize,
        token: Option<&str>,
    ) -> Result<QueryPage, QueryError> {
        self.resolve_master_data(&mut q).await?;
        let plan = Plan::of(&q);
        let start = match token {
            None if plan == Plan::Sorted => PageAt::Offset(0),
            None => PageAt::After(StepPosition::START, 0),
            Some(t) => PageAt::parse(t, print, plan).ok_or_else(|| {
                QueryError::Params(vec![QueryParamError {
                    parameter: "nextPageToken".into(),
                    message: "unknown token, or a token of another query".into(),
                }])
            })?,
        };
        let store = self.store();
        let hit = |e: &StoredEvent| deliverable(me, &q, e);
        let limit = q.event_count_limit.unwrap_or(u64::MAX);
        let window = q.step_window();
        if let PageAt::After(after, answered) = start {
            // Unsorted plans page from their candidates: the token holds the position after which to continue,
            // and the count already answered (for eventCountLimit).
            let want = per_page.min(limit.saturating_sub(answered) as usize);
            let (out, cursor, more) = collect(
                store.as_ref(),
                plan.candidates(&q, &window),
                after,
                want,
                &hit,
            )
            .await?;
            let answered = answered + out.len() as u64;
            let more = more && answered < limit;
            return Ok(QueryPage {
                events: out,
                next: more.then(|| PageAt::After(cursor, answered).token(print)),
            });
        }
        // Sorted by event or record time: collect every match from the narrowest candidates (the ledger when
        // nothing narrows), sort, answer the page at the offset.
        let source = plan.candidates(&q, &window);
        let mut all = Vec::new();
        let mut cursor = StepPosition::START;
        loop {
            let batch = source.next(store.as_ref(), cursor, 5000).await?;
            let done = batch.len() < 5000;
            for e in batch {
                cursor = source.position(&e);
                if hit(&e) {
                    all.push(e);
                }
            }
            if done {
                break;
            }
        }
        let key = |e: &StoredEvent| match q.order_by {
            Some(OrderBy::EventTime) => e
                .event
                .get("eventTime")
                .and_then(Value::as_str)
                .and_then(|s| suyuan_core::time::parse_timestamp(s).ok())
                .map(|t| suyuan_core::time::unix_millis(&t))
                .unwrap_or(0),
            _ => record_ms(e),
        };
        all.sort_by_key(|e| (key(e), e.seq));
        // orderBy defaults to descending; without orderBy the order is the ledger's.
        if q.order_by.is_some() && !q.ascending {
            all.reverse();
        }
        all.truncate(limit.min(usize::MAX as u64) as usize);
        if let Some(m) = q.max_event_count
            && all.len() as u64 > m
        {
            return Err(QueryError::TooMany(format!(
                "more than maxEventCount ({m}) events match; narrow the query"
            )));
        }
        let from = match start {
            PageAt::Offset(o) => o.min(all.len()),
            PageAt::After(..) => 0,
        };
        let to = (from + per_page).min(all.len());
        let next = (to < all.len()).then(|| PageAt::Offset(to).token(print));
        Ok(QueryPage {
            events: all.drain(from..to).collect(),
            next,
        })
    }
}

/// When Suyuan recorded an event (ms since the epoch).
fn record_ms(e: &StoredEvent) -> i64 {
    suyuan_core::time::parse_timestamp(&e.record_time)
        .map(|t| suyuan_core::time::unix_millis(&t))
        .unwrap_or(0)
}
