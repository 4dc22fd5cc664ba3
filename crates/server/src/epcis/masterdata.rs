//! EPCIS master data over HTTP: the vocabulary elements a capture carries in its header, the location
//! hierarchy behind `WD_readPoint` / `WD_bizLocation`, and `GET /epcis/masterData` (SimpleMasterDataQuery).

use axum::Extension;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Value, json};

use suyuan_engine::accounts::Principal;
use suyuan_epcis::masterdata::{Hierarchy, MasterDataQuery, vocabulary_list};

use crate::AppState;
use crate::epcis::bindings::{EpcisError, params_of};

/// `GET /epcis/masterData`: the captured vocabulary elements that answer a SimpleMasterDataQuery
/// (`vocabularyName`, `EQ_name`, `WD_name`, `HASATTR`, `EQ_ATTR_<id>`, `attributeNames`,
/// `includeAttributes`, `includeChildren`, `maxElementCount`) as an EPCISQueryDocument whose results hold a
/// `vocabularyList`, in JSON-LD or XML. Partners and regulators see only the elements of the places and
/// products within their scope.
pub async fn query(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, EpcisError> {
    let params = params_of(raw.as_deref())?;
    let q = MasterDataQuery::parse(&params).map_err(EpcisError::query_params)?;
    let store = st.engine.reader();
    // A scoped principal sees the elements of its own places and products (RowScope::object_visible).
    let mut all = store.master_data(&q.vocabularies).await?;
    all.retain(|e| me.rows.object_visible(&e.id));
    let hierarchy = if q.within.is_empty() {
        Hierarchy::default()
    } else {
        Hierarchy::of(&all)
    };
    let answer = q.answer(&all, &hierarchy);
    if let Some(max) = q.max_element_count
        && answer.len() as u64 > max
    {
        return Err(EpcisError::too_large(format!(
            "{} vocabulary elements match, more than maxElementCount ({max}); narrow the query",
            answer.len()
        )));
    }
    let mut namespaces = serde_json::Map::new();
    for e in &answer {
        for (p, iri) in &e.namespaces {
            namespaces.insert(p.clone(), json!(iri));
        }
    }
    let mut context = vec![json!(crate::epcis::bindings::CONTEXT)];
    if !namespaces.is_empty() {
        context.push(Value::Object(namespaces));
    }
    let doc = json!({
        "@context": context, "type": "EPCISQueryDocument", "schemaVersion": "2.0",
        "creationDate": suyuan_core::time::format_utc_millis(chrono::Utc::now()),
        "epcisBody": {"queryResults": {"queryName": "SimpleMasterDataQuery",
            "resultsBody": {"vocabularyList": vocabulary_list(&answer)}}},
    });
    let mut resp = crate::epcis::bindings::negotiated(&headers, doc)?;
    resp.extensions_mut()
        .insert(crate::auth::ItemCount(answer.len() as u64));
    Ok(resp)
}

/// The routes of this module, each with the permission it needs.
pub(crate) fn routes() -> Vec<crate::routes::Route> {
    use crate::routes;
    use suyuan_core::access::Permission as P;
    vec![routes::get("/epcis/masterData", P::EventsRead, query)]
}
