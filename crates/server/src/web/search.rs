//! Finding objects by what is printed on them: `GET /api/v1/search?q=` (JSON) and the page `/search?q=`.
//! The query is read by `suyuan_core::search::read_query`; exact identifiers are looked up by key, bare
//! serials, lots, SSCCs and business transactions through the search index — never by scanning the ledger.

use crate::AppState;
use crate::error::{ApiError, Located};
use crate::web::i18n::Lang;
use crate::web::pages::{Chrome, event_href, lang_of, object_href, render};
use askama::Template;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, response::Redirect};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;
use std::collections::HashMap;
use suyuan_core::search::{self as terms, read_query};
use suyuan_engine::accounts::Principal;
use suyuan_trace::{Relation, TraceOptions, node_kind};

/// Most index rows read per term, and most events listed per business transaction.
const LIMIT: u32 = 50;

/// One thing the query found.
#[derive(Debug, Clone, Serialize)]
pub struct Match {
    /// `instance`, `lot`, `logistic_unit`, `product`, `location`, `business_transaction`, …
    pub kind: &'static str,
    /// Its key (canonical Digital Link, or the transaction URI).
    pub id: String,
    /// What is printed for it: the element string, or the transaction number.
    pub name: String,
    /// How it was found: `identifier`, `serial`, `lot`, `sscc` or `transaction`.
    pub matched: &'static str,
    /// Where to look at it.
    pub link: String,
    /// The events carrying a business transaction (newest last).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<TxEvent>,
}

/// An event of a business transaction.
#[derive(Debug, Clone, Serialize)]
pub struct TxEvent {
    /// Ledger seq.
    pub seq: u64,
    /// Its eventID.
    #[serde(rename = "eventID")]
    pub event_id: String,
    /// Its eventTime.
    #[serde(rename = "eventTime")]
    pub event_time: String,
    /// Its bizStep (or event type when it has none), with the operation when the event names one
    /// (`commissioning · mixing`).
    pub step: String,
    /// Its page.
    pub link: String,
}

/// The answer to a search.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    /// The query as typed.
    pub query: String,
    /// How it was read (`digital_link`, `element_string`, `epc_urn`, `gtin`, `sscc`, `uri`, `text`).
    #[serde(rename = "readAs")]
    pub read_as: &'static str,
    /// What it found.
    pub matches: Vec<Match>,
    /// What the reader should know: a lot in the code that is not the serial's recorded lot.
    pub warnings: Vec<LotMismatch>,
}

/// A code naming an instance with a lot other than the one it was commissioned in.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LotMismatch {
    /// Always `lot_mismatch`.
    pub code: &'static str,
    /// The instance.
    pub id: String,
    /// The lot the code names.
    pub claimed_lot: String,
    /// The lot recorded for the instance.
    pub recorded_lot: String,
    /// The same in a sentence.
    pub message: String,
}

impl Answer {
    /// The one match a page may open directly: exactly one, and nothing to warn about.
    pub fn single(&self) -> Option<&Match> {
        (self.matches.len() == 1 && self.warnings.is_empty()).then(|| &self.matches[0])
    }
}

/// The element string printed for an object key (the key itself when it is no GS1 identifier).
fn printed(key: &str) -> String {
    suyuan_core::id::parse(key, &Default::default())
        .map(|p| p.element_string)
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| key.to_string())
}

/// Runs a search as `me` sees the data.
pub async fn find(st: &AppState, me: &Principal, q: &str) -> Result<Answer, ApiError> {
    let reading = read_query(q);
    if reading.read_as.is_empty() {
        return Err(ApiError::BadQuery(vec![Located {
            pointer: None,
            parameter: Some("q".into()),
            detail: "required: a code as printed or scanned (serial, lot, SSCC, element string, Digital Link, \
                     EPC URN, work or purchase order)"
                .into(),
        }]));
    }
    let store = st.engine.reader();
    let mut answer = Answer {
        query: q.trim().to_string(),
        read_as: reading.read_as,
        matches: Vec::new(),
        warnings: Vec::new(),
    };
    let mut candidates: Vec<(String, &'static str)> = reading
        .keys
        .iter()
        .map(|k| (k.clone(), "identifier"))
        .collect();
    let mut transactions: Vec<String> = Vec::new();
    for term in &reading.terms {
        for (kind, target) in store.search_terms(term, LIMIT).await? {
            match kind.as_str() {
                terms::SERIAL => candidates.push((target, "serial")),
                terms::LOT => candidates.push((target, "lot")),
                terms::SSCC => candidates.push((target, "sscc")),
                terms::TRANSACTION if !transactions.contains(&target) => transactions.push(target),
                _ => {}
            }
        }
    }
    for (key, matched) in candidates {
        if answer.matches.iter().any(|m| m.id == key) {
            continue;
        }
        if !st.engine.object_visible(&me.rows, &key).await? {
            continue;
        }
        // A lot known only from its instances' ILMD has no object page of its own: its trace stands in.
        let link = if store.object(&key).await?.is_some() {
            object_href(&key)
        } else if matched == "lot" {
            format!(
                "/api/v1/trace/forward?id={}",
                utf8_percent_encode(&key, NON_ALPHANUMERIC)
            )
        } else {
            continue;
        };
        answer.matches.push(Match {
            kind: node_kind(&key),
            name: printed(&key),
            id: key,
            matched,
            link,
            events: Vec::new(),
        });
    }
    for tx in transactions {
        let seqs: Vec<u64> = store
            .search_terms(&tx, 10_000)
            .await?
            .into_iter()
            .filter(|(k, _)| k == terms::TRANSACTION_EVENT)
            .filter_map(|(_, s)| s.parse().ok())
            .collect();
        let newest = &seqs[seqs.len().saturating_sub(LIMIT as usize)..];
        let events: Vec<TxEvent> = store
            .events_by_seq(newest)
            .await?
            .into_iter()
            .filter(|e| me.rows.event_visible(&e.event))
            .map(|e| {
                let field = |k: &str| {
                    e.event
                        .get(k)
                        .and_then(|v| v.as_str())
                        .unwrap_or_default()
                        .to_string()
                };
                let step = field("bizStep");
                let step = if step.is_empty() { field("type") } else { step };
                let operation = field("sy:operation");
                TxEvent {
                    seq: e.seq,
                    link: event_href(&e.event_id),
                    event_id: e.event_id.clone(),
                    event_time: field("eventTime"),
                    step: if operation.is_empty() {
                        step
                    } else {
                        format!("{step} · {operation}")
                    },
                }
            })
            .collect();
        if events.is_empty() {
            continue;
        }
        answer.matches.push(Match {
            kind: "business_transaction",
            name: tx
                .rsplit([':', '/'])
                .next()
                .filter(|t| !t.is_empty())
                .unwrap_or(&tx)
                .to_string(),
            link: format!("/search?q={}", utf8_percent_encode(&tx, NON_ALPHANUMERIC)),
            id: tx,
            matched: "transaction",
            events,
        });
    }
    if let Some((key, claimed)) = &reading.claimed_lot
        && let Some(recorded) = recorded_lot(st, key).await?
        && recorded != *claimed
    {
        answer.warnings.push(LotMismatch {
            code: "lot_mismatch",
            id: key.clone(),
            message: format!(
                "the code says lot {claimed}, but {} was recorded in lot {recorded}",
                printed(key)
            ),
            claimed_lot: claimed.clone(),
            recorded_lot: recorded,
        });
    }
    Ok(answer)
}

/// The lot an instance was commissioned in (its ILMD lot number), from the genealogy.
async fn recorded_lot(st: &AppState, key: &str) -> Result<Option<String>, ApiError> {
    let tracer = st.engine.trace_index().await?;
    let index = tracer.read();
    let opts = TraceOptions {
        max_depth: Some(1),
        ..Default::default()
    };
    Ok(index.backward(key, &opts).and_then(|t| {
        t.edges
            .iter()
            .filter_map(|e| index.edge(*e))
            .find(|e| e.relation == Relation::Member)
            .and_then(|e| {
                let lot_key = index.name(e.from);
                lot_key.rsplit_once("/10/").map(|(_, lot)| {
                    percent_encoding::percent_decode_str(lot)
                        .decode_utf8_lossy()
                        .into_owned()
                })
            })
    }))
}

/// `GET /api/v1/search?q=`: the matches as JSON.
pub async fn api(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let answer = find(&st, &me, q.get("q").map(String::as_str).unwrap_or("")).await?;
    let mut resp = Json(&answer).into_response();
    resp.extensions_mut()
        .insert(crate::auth::ItemCount(answer.matches.len() as u64));
    Ok(resp)
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    chrome: Chrome,
    query: String,
    answer: Option<Answer>,
    error: String,
}

/// `GET /search?q=`: the matches as a page; one match with nothing to warn about opens directly.
pub async fn page(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (lang, set) = lang_of(&q, &headers);
    let query = q.get("q").map(|s| s.trim().to_string()).unwrap_or_default();
    let (answer, error, status) = if query.is_empty() {
        (None, String::new(), StatusCode::OK)
    } else {
        match find(&st, &me, &query).await {
            Ok(a) => {
                if let Some(m) = a.single()
                    && m.matched != "transaction"
                {
                    let mut resp = Redirect::to(&with_lang(&m.link, lang)).into_response();
                    if set
                        && let Ok(v) = format!("lang={}; Path=/; SameSite=Lax", lang.code()).parse()
                    {
                        resp.headers_mut().insert(header::SET_COOKIE, v);
                    }
                    return resp;
                }
                let status = if a.matches.is_empty() {
                    StatusCode::NOT_FOUND
                } else {
                    StatusCode::OK
                };
                (Some(a), String::new(), status)
            }
            Err(ApiError::BadQuery(v)) => (
                None,
                v.into_iter()
                    .map(|l| l.detail)
                    .collect::<Vec<_>>()
                    .join("; "),
                StatusCode::BAD_REQUEST,
            ),
            Err(e) => return e.into_response(),
        }
    };
    let page = SearchPage {
        chrome: Chrome::new(lang, "objects", &uri, &me),
        query,
        answer,
        error,
    };
    (status, render(&page, lang, set)).into_response()
}

/// A link that keeps the page language.
fn with_lang(link: &str, lang: Lang) -> String {
    if link.starts_with("/api/") {
        return link.to_string();
    }
    let sep = if link.contains('?') { '&' } else { '?' };
    format!("{link}{sep}lang={}", lang.code())
}

/// The routes of this module, each with the permission it needs.
pub(crate) fn routes() -> Vec<crate::routes::Route> {
    use crate::routes;
    use suyuan_core::access::Permission as P;
    vec![
        routes::get("/search", P::EventsRead, page),
        routes::get("/api/v1/search", P::EventsRead, api),
    ]
}
