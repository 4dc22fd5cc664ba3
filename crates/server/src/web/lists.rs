//! The lists behind the dashboard's figures: objects standing in a disposition now, and the codes consumers
//! scanned in a period (with the suspicious ones marked).

use crate::AppState;
use crate::web::pages::{Chrome, friendly_time, object_href, render, store_down};
use crate::web::viewer::Viewer;
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use suyuan_engine::dashboard::Range;

/// Objects a list shows.
const SHOWN: usize = 200;

/// One object in a list.
pub struct Item {
    /// Link to its page.
    pub href: String,
    /// Its identifier.
    pub id: String,
    /// Its product name, when master data gives one.
    pub name: String,
}

#[derive(Template)]
#[template(path = "objects_in.html")]
struct ObjectsIn {
    chrome: Chrome,
    title: String,
    summary: String,
    items: Vec<Item>,
}

/// `GET /objects/in?disposition=`: objects standing in a disposition now, most recently changed first.
pub async fn objects_in(State(st): State<AppState>, v: Viewer) -> Response {
    let (me, uri, _headers, q, lang, set) =
        (&v.me, &v.uri, &v.headers, &v.query, v.lang, v.chose_lang);
    if !me.rows.is_all() {
        return axum::response::Redirect::to("/events").into_response();
    }
    let chrome = Chrome::new(lang, "home", uri, me);
    let disposition = q.get("disposition").cloned().unwrap_or_default();
    let (ids, total) = match st.engine.objects_in_disposition(&disposition, SHOWN).await {
        Ok(v) => v,
        Err(e) => return store_down(e),
    };
    let names = match st.engine.names().await {
        Ok(n) => n,
        Err(e) => return store_down(e),
    };
    let tr = chrome.tr;
    let page = ObjectsIn {
        title: tr
            .t("lists.objects_in")
            .replace("{d}", &tr.disposition(&disposition)),
        summary: tr
            .t("lists.objects_total")
            .replace("{n}", &total.to_string())
            .replace("{m}", &ids.len().to_string()),
        items: ids
            .into_iter()
            .map(|id| Item {
                href: object_href(&id),
                name: names.of(&id).map(|n| n.name.clone()).unwrap_or_default(),
                id,
            })
            .collect(),
        chrome,
    };
    render(&page, lang, set)
}

/// One scanned code.
pub struct Scanned {
    /// Link to its trace.
    pub href: String,
    /// Its identifier.
    pub id: String,
    /// Product name.
    pub name: String,
    /// Scans.
    pub count: u64,
    /// First scan: when, where.
    pub first: String,
    /// Latest scan: when, where.
    pub last: String,
    /// Cities, in order.
    pub cities: String,
    /// Scanned in two cities or many times.
    pub suspicious: bool,
}

#[derive(Template)]
#[template(path = "scans.html")]
struct ScansPage {
    chrome: Chrome,
    hint: String,
    rows: Vec<Scanned>,
}

/// `GET /scans?from=&to=`: codes consumers scanned in a period, latest first.
pub async fn scans(State(st): State<AppState>, v: Viewer) -> Response {
    let (me, uri, _headers, q, lang, set) =
        (&v.me, &v.uri, &v.headers, &v.query, v.lang, v.chose_lang);
    if !me.rows.is_all() {
        return axum::response::Redirect::to("/events").into_response();
    }
    let chrome = Chrome::new(lang, "home", uri, me);
    let day = |k: &str| {
        q.get(k)
            .and_then(|v| chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").ok())
    };
    let today = chrono::Utc::now().date_naive();
    let range = match (day("from"), day("to")) {
        (Some(from), Some(to)) if from <= to => Range { from, to },
        _ => match st.engine.default_range(today).await {
            Ok(r) => r,
            Err(e) => return store_down(e),
        },
    };
    let (codes, names) =
        match tokio::try_join!(st.engine.scanned_codes(range, 500), st.engine.names()) {
            Ok(v) => v,
            Err(e) => return store_down(e),
        };
    let at = |(t, c): &(String, String)| format!("{} · {c}", friendly_time(t));
    let rows = codes
        .into_iter()
        .map(|(id, c)| Scanned {
            href: format!(
                "/trace?q={}",
                percent_encoding::utf8_percent_encode(&id, percent_encoding::NON_ALPHANUMERIC)
            ),
            name: names.of(&id).map(|n| n.name.clone()).unwrap_or_default(),
            count: c.count,
            first: at(&c.first),
            last: at(&c.last),
            cities: c.cities.join(" → "),
            suspicious: c.cities.len() > 1 || c.count >= suyuan_engine::dashboard::SUSPICIOUS_SCANS,
            id,
        })
        .collect();
    let hint = chrome
        .tr
        .t("lists.scans_hint")
        .replace("{from}", &range.from.to_string())
        .replace("{to}", &range.to.to_string());
    render(&ScansPage { chrome, hint, rows }, lang, set)
}

/// The routes of this module, each with the permission it needs.
pub(crate) fn routes() -> Vec<crate::routes::Route> {
    use crate::routes;
    use suyuan_core::access::Permission as P;
    vec![
        routes::get("/objects/in", P::EventsRead, objects_in),
        routes::get("/scans", P::EventsRead, scans),
    ]
}
