//! The object page: an object's current state, what it contains, its history and its story (materials →
//! production → quality → packing → logistics → consumer), as a person reads them.

use crate::AppState;
use crate::web::i18n::Lang;
use crate::web::pages::*;
use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;
use std::collections::HashMap;
use suyuan_core::projection::object_key;
use suyuan_engine::accounts::Principal;

#[derive(Template)]
#[template(path = "object.html")]
struct ObjectPage {
    chrome: Chrome,
    query: String,
    key: String,
    state: Option<suyuan_store::ObjectState>,
    container_href: String,
    contents: Vec<(String, String)>,
    rows: Vec<EventRow>,
    scan_count: u64,
    scans: Vec<suyuan_store::ScanRecord>,
    story: Vec<StageView>,
    trace_links: (String, String),
}

/// One stage of a unit's story, ready to show.
pub struct StageView {
    /// Its stage key (the dot's colour).
    pub stage: String,
    /// Stage label in the page's language.
    pub label: String,
    /// Its events, oldest first.
    pub rows: Vec<StoryRow>,
}

/// One event in a story.
pub struct StoryRow {
    /// The subject as printed (serial, lot, SSCC).
    pub subject_short: String,
    /// Event time as sent.
    pub time: String,
    /// Business step.
    pub step: String,
    /// Event type.
    pub kind: String,
    /// What the event concerned (first subject).
    pub subject: String,
    /// Link to the subject's page.
    pub subject_href: String,
    /// Where (read point or business location).
    pub place: String,
    /// The place's name from master data (empty when it has none).
    pub place_name: String,
    /// Link to the event page.
    pub href: String,
}

pub(crate) fn story_view(
    story: &Value,
    lang: Lang,
    names: &suyuan_engine::names::Names,
) -> Vec<StageView> {
    // Time order first: consecutive events of one stage are shown under one heading, so an unpacking at the
    // distribution centre sits between the shipping before it and the sale after it.
    let mut out: Vec<StageView> = Vec::new();
    for e in story["timeline"].as_array().into_iter().flatten() {
        let stage = e["stage"].as_str().unwrap_or_default();
        let ev = &e["event"];
        let subject = e["subjects"][0].as_str().unwrap_or_default().to_string();
        let place = ev["bizLocation"]["id"]
            .as_str()
            .or_else(|| ev["readPoint"]["id"].as_str())
            .unwrap_or_default();
        let row = StoryRow {
            time: crate::web::pages::friendly_time(str_at(ev, "eventTime")),
            step: str_at(ev, "bizStep").to_string(),
            kind: str_at(ev, "type").to_string(),
            subject_href: object_href(&subject),
            subject_short: subject.rsplit('/').next().unwrap_or(&subject).to_string(),
            subject,
            place_name: names.of(place).map(|n| n.name.clone()).unwrap_or_default(),
            place: place.to_string(),
            href: event_href(str_at(ev, "eventID")),
        };
        match out.last_mut() {
            Some(last) if last.stage == stage => last.rows.push(row),
            _ => out.push(StageView {
                stage: stage.to_string(),
                label: crate::web::story::stage_name(stage, lang).to_string(),
                rows: vec![row],
            }),
        }
    }
    out
}

/// `GET /objects?id=`: current state, contents and history of an object.
pub async fn object(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (lang, set) = lang_of(&q, &headers);
    let query = q
        .get("id")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let store = st.engine.reader();
    let key = if query.is_empty() {
        String::new()
    } else {
        object_key(&query)
    };
    let (state, contents, history, (scan_count, scans)) = if key.is_empty() {
        (None, Vec::new(), Vec::new(), (0, Vec::new()))
    } else if !me.rows.is_all() {
        // Partners and regulators: the object only through their visible events; no contents, scans or story.
        match st.engine.visible_history(&me.rows, &key, 0, 200).await {
            Ok(h) if h.is_empty() => (None, Vec::new(), h, (0, Vec::new())),
            Ok(h) => match store.object(&key).await {
                Ok(s) => (
                    s.map(|s| suyuan_engine::scope::scoped_state(&me.rows, s, &h)),
                    Vec::new(),
                    h,
                    (0, Vec::new()),
                ),
                Err(e) => return store_down(e),
            },
            Err(e) => return crate::error::ApiError::from(e).into_response(),
        }
    } else {
        match tokio::try_join!(
            store.object(&key),
            store.contents(&key, 200),
            store.object_history(&key, 0, 200),
            store.scans(&key, 20)
        ) {
            Ok(v) => v,
            Err(e) => return store_down(e),
        }
    };
    let story = if state.is_some() && me.rows.is_all() {
        match crate::web::story::build(&st, &key).await {
            Ok(v) => match st.engine.names().await {
                Ok(names) => story_view(&v, lang, &names),
                Err(e) => return store_down(e),
            },
            Err(e) => {
                tracing::warn!(error = %e, "story for the object page failed");
                Vec::new()
            }
        }
    } else {
        Vec::new()
    };
    let enc = utf8_percent_encode(&key, NON_ALPHANUMERIC).to_string();
    let trace_links = (
        format!("/trace?q={enc}&dir=backward"),
        format!("/trace?q={enc}&dir=forward"),
    );
    let status = if !key.is_empty() && state.is_none() {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    let page = ObjectPage {
        chrome: Chrome::new(lang, "objects", &uri, &me),
        container_href: state
            .as_ref()
            .and_then(|s| s.container.as_deref())
            .map(object_href)
            .unwrap_or_default(),
        query,
        key,
        state,
        contents: contents
            .iter()
            .map(|c| (object_href(&c.id), c.id.clone()))
            .collect(),
        rows: history.iter().map(EventRow::from).collect(),
        scan_count,
        scans,
        story,
        trace_links,
    };
    (status, render(&page, lang, set)).into_response()
}

/// The routes of this module, each with the permission it needs.
pub(crate) fn routes() -> Vec<crate::routes::Route> {
    use crate::routes;
    use suyuan_core::access::Permission as P;
    vec![routes::get("/objects", P::EventsRead, object)]
}
