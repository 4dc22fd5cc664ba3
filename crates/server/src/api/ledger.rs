//! Tamper evidence over HTTP: the checkpoint verifier key, the latest signed checkpoint, inclusion proofs by
//! eventID and consistency proofs between tree sizes.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use suyuan_engine::ledger::LedgerError;

use crate::AppState;
use crate::error::ApiError;

impl From<LedgerError> for ApiError {
    fn from(e: LedgerError) -> Self {
        match e {
            LedgerError::Store(s) => s.into(),
            LedgerError::NotFound(m) => ApiError::NotFound(m),
            other => ApiError::Unavailable(other.to_string()),
        }
    }
}

fn text(body: String) -> Response {
    let mut r = body.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn signer(st: &AppState) -> Result<&suyuan_ledger::checkpoint::CheckpointSigner, ApiError> {
    st.signer.as_deref().ok_or_else(|| {
        ApiError::NotFound("this server signs no checkpoints (no ledger key configured)".into())
    })
}

fn size_param(q: &HashMap<String, String>, name: &str) -> Result<Option<u64>, ApiError> {
    q.get(name)
        .map(|v| {
            v.parse::<u64>().map_err(|_| {
                ApiError::bad_param(
                    name,
                    format!("expected a tree size (whole number), got {v}"),
                )
            })
        })
        .transpose()
}

/// What an export was built on: a signed checkpoint covering it and the hashes of the events its facts come
/// from, so that a reader can verify each fact with an inclusion proof.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LedgerAnchor {
    /// Tree size of the checkpoint (or of the integrated tree when none is signed).
    #[serde(rename = "treeSize")]
    pub tree_size: u64,
    /// Root at that size (hex), when signed.
    pub root: Option<String>,
    /// The signed checkpoint (C2SP signed note), when this server signs.
    pub checkpoint: Option<String>,
    /// The events the export covers.
    pub events: Vec<CoveredEvent>,
}

/// One event an export covers.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CoveredEvent {
    /// Ledger position.
    pub seq: u64,
    /// Canonical event hash.
    #[serde(rename = "eventHash")]
    pub event_hash: String,
    /// RFC 6962 leaf hash (hex).
    #[serde(rename = "leafHash")]
    pub leaf_hash: String,
}

/// The anchor for an export built from the events at `seqs`: the newest stored checkpoint when it covers them,
/// else one made now (when this server signs); without either, the tree size and no root.
pub async fn anchor(st: &AppState, seqs: &[u64]) -> Result<LedgerAnchor, ApiError> {
    let store = st.engine.reader();
    let events = store
        .record_hashes(seqs)
        .await?
        .into_iter()
        .map(|(seq, event_hash, leaf_hash)| CoveredEvent {
            seq,
            event_hash,
            leaf_hash,
        })
        .collect();
    let newest = seqs.iter().copied().max().unwrap_or(0);
    let stored = store.checkpoint(None).await?.filter(|c| c.size >= newest);
    let cp = match (stored, st.signer.as_deref()) {
        (Some(c), _) => Some(c),
        (None, Some(s)) => st.engine.sign_checkpoint(s).await?,
        (None, None) => None,
    };
    Ok(match cp {
        Some(c) => LedgerAnchor {
            tree_size: c.size,
            root: Some(c.root),
            checkpoint: Some(c.note),
            events,
        },
        None => LedgerAnchor {
            tree_size: store.tree_size().await?,
            root: None,
            checkpoint: None,
            events,
        },
    })
}

/// `GET /api/v1/ledger/key`: the C2SP verifier key of the checkpoints (text).
pub async fn key(State(st): State<AppState>) -> Result<Response, ApiError> {
    Ok(text(format!("{}\n", signer(&st)?.verifier_key())))
}

/// `GET /api/v1/ledger/checkpoint`: the latest signed checkpoint (text, C2SP signed note); a new one is made
/// first when events arrived since.
pub async fn checkpoint(State(st): State<AppState>) -> Result<Response, ApiError> {
    let s = signer(&st)?;
    match st.engine.sign_checkpoint(s).await? {
        Some(c) => Ok(text(c.note)),
        None => Err(ApiError::NotFound(
            "the ledger is empty: no checkpoint yet".into(),
        )),
    }
}

/// `GET /api/v1/proofs/{eventId}?size=`: where the event sits in the tree and the inclusion proof.
pub async fn proof(
    State(st): State<AppState>,
    axum::Extension(me): axum::Extension<suyuan_engine::accounts::Principal>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let size = size_param(&q, "size")?;
    let store = st.engine.reader();
    let event = store
        .event_by_id(&id)
        .await?
        .filter(|e| me.rows.event_visible(&e.event))
        .ok_or_else(|| ApiError::NotFound(format!("no event with eventID {id}")))?;
    let p = st.engine.inclusion(event.seq, size).await?;
    let checkpoint = store.checkpoint(Some(p.tree_size)).await?.map(|c| c.note);
    Ok(Json(json!({
        "eventID": event.event_id, "eventHash": event.event_hash, "recordTime": event.record_time,
        "seq": p.seq, "leafHash": p.leaf_hash, "treeSize": p.tree_size, "root": p.root,
        "proof": p.proof, "checkpoint": checkpoint,
    }))
    .into_response())
}

/// `GET /api/v1/ledger/consistency?from=&to=`: proof that the tree of `from` leaves is a prefix of `to`.
pub async fn consistency(
    State(st): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let missing = |p: &str| ApiError::bad_param(p, "required: a tree size");
    let from = size_param(&q, "from")?.ok_or_else(|| missing("from"))?;
    let to = size_param(&q, "to")?.ok_or_else(|| missing("to"))?;
    let p = st.engine.consistency(from, to).await?;
    Ok(Json(p).into_response())
}

/// The routes of this module, each with the permission it needs.
pub(crate) fn routes() -> Vec<crate::routes::Route> {
    use crate::routes;
    use suyuan_core::access::Permission as P;
    vec![
        routes::get("/api/v1/ledger/key", P::Public, key),
        routes::get("/api/v1/ledger/checkpoint", P::Public, checkpoint),
        routes::get("/api/v1/ledger/consistency", P::LedgerRead, consistency),
        routes::get("/api/v1/proofs/{*event_id}", P::LedgerRead, proof),
    ]
}
