//! The server-rendered web UI: overview, event ledger and event detail, in Chinese or English, and what every
//! page shares (the page chrome, rendering, links to events and objects).

use crate::AppState;
use crate::web::i18n::{Lang, Tr};
use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;
use std::collections::HashMap;
use suyuan_core::access::{Permission, RowScope};
use suyuan_engine::accounts::Principal;
use suyuan_store::StoredEvent;

/// What every page shows around its content.
pub struct Chrome {
    /// Translator.
    pub tr: Tr,
    /// Which navigation entry is active.
    pub nav: &'static str,
    /// Stylesheet URL.
    pub css_url: String,
    /// The favicon's URL (content-hashed).
    pub icon_url: String,
    /// htmx URL.
    pub htmx_url: String,
    /// This page in Chinese.
    pub zh_url: String,
    /// This page in English.
    pub en_url: String,
    /// The signed-in user's display (empty for anonymous pages such as sign-in).
    pub user: String,
    /// The session's CSRF token, sent by htmx and forms on every write.
    pub csrf: String,
    /// A banner naming a partner's or regulator's row scope, if any.
    pub scope_note: &'static str,
    /// Whether the codes & labels page is open to this user (its link is shown).
    pub can_labels: bool,
    /// ECharts URL (pages with charts load it).
    pub echarts_url: String,
    /// The console's own script (charts, scanner input, graph).
    pub app_js_url: String,
    /// The navigation this user may open: (key, href, message key).
    pub menu: Vec<(&'static str, &'static str, &'static str)>,
}

/// Every navigation entry: key, link, message key, the permission it needs, and whether only plant staff
/// (not partners or regulators) see it.
const MENU: [(&str, &str, &str, Permission, bool); 18] = [
    ("home", "/", "nav.home", Permission::EventsRead, true),
    ("tasks", "/tasks", "nav.tasks", Permission::EventsRead, true),
    (
        "station",
        "/station",
        "nav.station",
        Permission::EventsWrite,
        true,
    ),
    (
        "orders",
        "/orders",
        "nav.orders",
        Permission::EventsRead,
        true,
    ),
    (
        "warehouse",
        "/warehouse",
        "nav.warehouse",
        Permission::EventsRead,
        true,
    ),
    (
        "quality",
        "/quality",
        "nav.quality",
        Permission::EventsRead,
        true,
    ),
    ("forms", "/forms", "nav.forms", Permission::EventsRead, true),
    (
        "workflows",
        "/workflows",
        "nav.workflows",
        Permission::EventsRead,
        true,
    ),
    (
        "reports",
        "/reports",
        "nav.reports",
        Permission::EventsRead,
        true,
    ),
    (
        "alerts",
        "/alerts",
        "nav.alerts",
        Permission::EventsRead,
        true,
    ),
    (
        "masterdata",
        "/masterdata",
        "nav.masterdata",
        Permission::EventsRead,
        true,
    ),
    ("trace", "/trace", "nav.trace", Permission::TraceRead, false),
    (
        "recalls",
        "/recalls",
        "nav.recalls",
        Permission::TraceRead,
        true,
    ),
    (
        "events",
        "/events",
        "nav.events",
        Permission::EventsRead,
        false,
    ),
    (
        "labels",
        "/labels",
        "nav.labels",
        Permission::LabelsRead,
        true,
    ),
    (
        "proofs",
        "/proofs",
        "nav.proofs",
        Permission::LedgerRead,
        false,
    ),
    (
        "rules",
        "/rules",
        "nav.rules",
        Permission::MasterDataWrite,
        true,
    ),
    ("admin", "/admin", "nav.admin", Permission::Admin, true),
];

/// The navigation `me` may open.
pub fn menu_for(me: &Principal) -> Vec<(&'static str, &'static str, &'static str)> {
    if !me.is_authenticated() {
        return Vec::new();
    }
    let mut menu: Vec<(&'static str, &'static str, &'static str)> = MENU
        .iter()
        .filter(|(_, _, _, p, staff)| me.allows(*p) && (!staff || me.rows.is_all()))
        .map(|(k, h, t, _, _)| (*k, *h, *t))
        .collect();
    // A partner records the receipt of what was shipped to it.
    if matches!(me.rows, RowScope::Partner { .. }) && me.allows(Permission::EventsWrite) {
        menu.insert(
            1.min(menu.len()),
            ("warehouse", "/warehouse", "nav.receipt"),
        );
    }
    menu
}

impl Chrome {
    pub(crate) fn new(lang: Lang, nav: &'static str, uri: &Uri, me: &Principal) -> Chrome {
        let switch = |code: &str| {
            let mut params: Vec<String> = uri
                .query()
                .unwrap_or("")
                .split('&')
                .filter(|p| !p.is_empty() && !p.starts_with("lang="))
                .map(str::to_string)
                .collect();
            params.push(format!("lang={code}"));
            format!("{}?{}", uri.path(), params.join("&"))
        };
        Chrome {
            tr: Tr { lang },
            nav,
            css_url: crate::web::assets::url("css/app.css"),
            icon_url: crate::web::assets::url("favicon.svg"),
            htmx_url: crate::web::assets::url("vendor/htmx-4.0.1/htmx.min.js"),
            zh_url: switch("zh-CN"),
            en_url: switch("en"),
            user: if me.is_authenticated() {
                format!("{} · {}", me.user, me.role)
            } else {
                String::new()
            },
            csrf: me.csrf.clone().unwrap_or_default(),
            can_labels: me.allows(Permission::LabelsRead),
            echarts_url: crate::web::assets::url("vendor/echarts-5.6.0/echarts.min.js"),
            app_js_url: crate::web::assets::url("js/console.js"),
            menu: menu_for(me),
            // Anonymous visitors (the sign-in page) have no scope to explain.
            scope_note: match me.rows {
                _ if !me.is_authenticated() => "",
                RowScope::All => "",
                RowScope::Partner { .. } => "scope.partner",
                RowScope::Regulator { .. } => "scope.regulator",
            },
        }
    }
}

/// One event as a table row.
pub struct EventRow {
    /// Where it happened (business location, else read point), by name; empty when neither is given.
    pub place: String,
    /// The place's identifier.
    pub place_id: String,
    /// The first object's name (product name from master data, or its identifier).
    pub first_name: String,
    /// Ledger seq.
    pub seq: u64,
    /// Event time as sent.
    pub event_time: String,
    /// Event type.
    pub event_type: String,
    /// Business step (bare or URI).
    pub biz_step: String,
    /// First object named.
    pub first_object: String,
    /// Link target for the first object.
    pub first_object_href: String,
    /// How many more objects.
    pub more: usize,
    /// Full eventID.
    pub event_id: String,
    /// Detail page URL.
    pub href: String,
}

pub(crate) fn str_at<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn objects_of(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(p) = v.get("parentID").and_then(Value::as_str) {
        out.push(p.to_string());
    }
    for key in ["epcList", "childEPCs", "inputEPCList", "outputEPCList"] {
        if let Some(a) = v.get(key).and_then(Value::as_array) {
            out.extend(a.iter().filter_map(Value::as_str).map(str::to_string));
        }
    }
    for key in [
        "quantityList",
        "childQuantityList",
        "inputQuantityList",
        "outputQuantityList",
    ] {
        if let Some(a) = v.get(key).and_then(Value::as_array) {
            out.extend(
                a.iter()
                    .filter_map(|q| q.get("epcClass").and_then(Value::as_str))
                    .map(str::to_string),
            );
        }
    }
    out
}

/// The plant's UTC offset for times shown to people: `SUYUAN_UTC_OFFSET` (`+08:00` when unset or invalid).
pub fn display_offset() -> chrono::FixedOffset {
    static OFFSET: std::sync::OnceLock<chrono::FixedOffset> = std::sync::OnceLock::new();
    *OFFSET.get_or_init(|| {
        std::env::var("SUYUAN_UTC_OFFSET")
            .ok()
            .and_then(|v| suyuan_core::time::parse_offset(&v))
            .or_else(|| chrono::FixedOffset::east_opt(8 * 3600))
            .unwrap_or(chrono::FixedOffset::east_opt(0).expect("UTC"))
    })
}

/// A timestamp as people read it: local plant time, to the minute (`2026-10-12 08:30`); anything that is not
/// RFC 3339 is shown as given.
pub fn friendly_time(ts: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(ts) {
        Ok(t) => t
            .with_timezone(&display_offset())
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        Err(_) => ts.to_string(),
    }
}

/// Link to the object page of `id`.
pub fn object_href(id: &str) -> String {
    format!("/objects?id={}", utf8_percent_encode(id, NON_ALPHANUMERIC))
}

/// Link to the page of the event with eventID `id`.
pub fn event_href(id: &str) -> String {
    format!(
        "/events/view?id={}",
        utf8_percent_encode(id, NON_ALPHANUMERIC)
    )
}

impl EventRow {
    pub(crate) fn from(e: &StoredEvent) -> EventRow {
        Self::named(e, &suyuan_engine::names::Names::default())
    }

    /// The row with places and products by their master-data names.
    pub(crate) fn named(e: &StoredEvent, names: &suyuan_engine::names::Names) -> EventRow {
        let objs = objects_of(&e.event);
        let first = objs.first().cloned().unwrap_or_default();
        let place_id = ["bizLocation", "readPoint"]
            .iter()
            .find_map(|k| e.event.get(k)?.get("id")?.as_str())
            .unwrap_or_default()
            .to_string();
        EventRow {
            place: if place_id.is_empty() {
                String::new()
            } else {
                names.label(&place_id)
            },
            place_id,
            first_name: names.of(&first).map(|n| n.name.clone()).unwrap_or_default(),
            seq: e.seq,
            event_time: friendly_time(str_at(&e.event, "eventTime")),
            event_type: str_at(&e.event, "type").to_string(),
            biz_step: str_at(&e.event, "bizStep").to_string(),
            first_object_href: object_href(&first),
            first_object: first,
            more: objs.len().saturating_sub(1),
            event_id: e.event_id.clone(),
            href: event_href(&e.event_id),
        }
    }
}

#[derive(Template)]
#[template(path = "event.html")]
struct EventPage {
    chrome: Chrome,
    id: String,
    found: Option<StoredEvent>,
    pretty: String,
    /// The objects shown at once (link, identifier).
    objects: Vec<(String, String)>,
    /// The rest, behind a "show all" switch (an event may name hundreds).
    more_objects: Vec<(String, String)>,
    /// As people read it: when (plant time), type, step, disposition, where (by name).
    time: String,
    kind: String,
    step: String,
    disposition: String,
    place: String,
}

/// Objects an event page shows before the rest is folded away.
const OBJECTS_SHOWN: usize = 12;

/// Renders a template; a template failure is logged and answered with 500.
pub(crate) fn render(t: &impl Template, lang: Lang, set_cookie: bool) -> Response {
    match t.render() {
        Ok(html) => {
            let mut resp = Html(html).into_response();
            if set_cookie
                && let Ok(v) = HeaderValue::from_str(&format!(
                    "lang={}; Path=/; Max-Age=31536000; SameSite=Lax",
                    lang.code()
                ))
            {
                resp.headers_mut().insert(header::SET_COOKIE, v);
            }
            resp
        }
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "page could not be rendered; see the server log",
            )
                .into_response()
        }
    }
}

pub(crate) fn store_down(e: suyuan_store::StoreError) -> Response {
    tracing::error!(error = %e, "store error on a page");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "the store is unavailable; retry in a moment",
    )
        .into_response()
}

pub(crate) fn lang_of(q: &HashMap<String, String>, headers: &HeaderMap) -> (Lang, bool) {
    let explicit = q.get("lang").map(String::as_str);
    (
        Lang::of_request(explicit, headers),
        explicit.and_then(Lang::parse).is_some(),
    )
}

/// `GET /events/view?id=`: one event with its hashes and JSON-LD.
pub async fn event(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (lang, set) = lang_of(&q, &headers);
    let id = q.get("id").cloned().unwrap_or_default();
    let found = match st.engine.reader().event_by_id(&id).await {
        Ok(f) => f.filter(|e| me.rows.event_visible(&e.event)),
        Err(e) => return store_down(e),
    };
    let pretty = found
        .as_ref()
        .and_then(|e| serde_json::to_string_pretty(&e.event).ok())
        .unwrap_or_default();
    let objects: Vec<(String, String)> = found
        .as_ref()
        .map(|e| {
            objects_of(&e.event)
                .into_iter()
                .map(|o| (object_href(&o), o))
                .collect()
        })
        .unwrap_or_default();
    let status = if found.is_some() {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    let mut objects = objects;
    let more_objects = objects.split_off(objects.len().min(OBJECTS_SHOWN));
    let names = match st.engine.names().await {
        Ok(n) => n,
        Err(e) => return store_down(e),
    };
    let field = |k: &str| {
        found
            .as_ref()
            .map(|e| str_at(&e.event, k).to_string())
            .unwrap_or_default()
    };
    let place = found
        .as_ref()
        .and_then(|e| {
            ["bizLocation", "readPoint"]
                .iter()
                .find_map(|k| e.event.get(k)?.get("id")?.as_str())
        })
        .map(|p| names.label(p))
        .unwrap_or_default();
    let page = EventPage {
        time: friendly_time(&field("eventTime")),
        kind: field("type"),
        step: field("bizStep"),
        disposition: field("disposition"),
        place,
        chrome: Chrome::new(lang, "events", &uri, &me),
        id,
        found,
        pretty,
        objects,
        more_objects,
    };
    (status, render(&page, lang, set)).into_response()
}

/// The routes of this module, each with the permission it needs.
pub(crate) fn routes() -> Vec<crate::routes::Route> {
    use crate::routes;
    use suyuan_core::access::Permission as P;
    vec![routes::get("/events/view", P::EventsRead, event)]
}
