//! Stored events read again: the search-index rows of an event as the ledger holds it (used to backfill the
//! index).

/// Every event-level row of a stored event (JSON-LD) at `seq`: [`event_terms`] and its transactions'
/// links to it; none for a body that no longer parses.
pub fn stored_event_terms(event: &serde_json::Value, seq: u64) -> Vec<suyuan_core::search::Term> {
    let Some(e) = crate::jsonld::parse_stored(event)
        .ok()
        .and_then(|mut v| v.pop())
    else {
        return Vec::new();
    };
    let mut out = suyuan_core::search::event_terms(&e);
    out.extend(
        e.biz_transaction_list
            .iter()
            .map(|bt| suyuan_core::search::transaction_event(&bt.id, seq)),
    );
    out
}
