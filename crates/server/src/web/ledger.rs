//! The event ledger as people browse it: newest first, filtered by business step, place, day range and
//! object, with places and products by name. Unfiltered plant-wide browsing pages by seq; filtered or scoped
//! browsing runs an EPCIS query (the same planner and row scope as `GET /epcis/events`).

use crate::AppState;
use crate::web::pages::{Chrome, EventRow, display_offset, render};
use crate::web::viewer::Viewer;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use std::collections::HashMap;
use suyuan_engine::query::{QueryError, fingerprint};

/// Events a page shows.
const PER_PAGE: u64 = 50;

/// The filters of the events page, as given.
#[derive(Default)]
pub struct Filters {
    /// Business step (bare CBV value).
    pub step: String,
    /// Place id.
    pub place: String,
    /// First day (`YYYY-MM-DD`).
    pub from: String,
    /// Last day.
    pub to: String,
    /// An object's identifier (EPC URN or Digital Link).
    pub object: String,
}

impl Filters {
    fn of(q: &HashMap<String, String>) -> Filters {
        let get = |k: &str| q.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
        Filters {
            step: get("step"),
            place: get("place"),
            from: get("from"),
            to: get("to"),
            object: get("object"),
        }
    }

    fn is_empty(&self) -> bool {
        self.step.is_empty()
            && self.place.is_empty()
            && self.from.is_empty()
            && self.to.is_empty()
            && self.object.is_empty()
    }

    /// The filters as EPCIS query parameters, newest first; a malformed day is named.
    fn params(&self) -> Result<Vec<(String, String)>, &'static str> {
        let mut p = vec![
            ("orderBy".to_string(), "eventTime".to_string()),
            ("orderDirection".to_string(), "DESC".to_string()),
        ];
        let day = |v: &str, next: bool| -> Result<String, &'static str> {
            let d =
                chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| "events.bad_day")?;
            let d = if next { d + chrono::Days::new(1) } else { d };
            let t = d
                .and_hms_opt(0, 0, 0)
                .and_then(|t| t.and_local_timezone(display_offset()).single())
                .ok_or("events.bad_day")?;
            Ok(t.to_rfc3339())
        };
        if !self.step.is_empty() {
            p.push(("EQ_bizStep".into(), self.step.clone()));
        }
        if !self.place.is_empty() {
            p.push(("EQ_bizLocation".into(), self.place.clone()));
        }
        if !self.from.is_empty() {
            p.push(("GE_eventTime".into(), day(&self.from, false)?));
        }
        if !self.to.is_empty() {
            p.push(("LT_eventTime".into(), day(&self.to, true)?));
        }
        if !self.object.is_empty() {
            p.push(("MATCH_anyEPC".into(), self.object.clone()));
        }
        Ok(p)
    }

    /// This page's query string without paging.
    fn query(&self) -> String {
        [
            ("step", &self.step),
            ("place", &self.place),
            ("from", &self.from),
            ("to", &self.to),
            ("object", &self.object),
        ]
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, NON_ALPHANUMERIC)))
        .collect::<Vec<_>>()
        .join("&")
    }
}

#[derive(Template)]
#[template(path = "events.html")]
struct EventsPage {
    chrome: Chrome,
    rows: Vec<EventRow>,
    filters: Filters,
    /// Business steps to filter by: (value, name).
    steps: Vec<(String, String)>,
    /// Places to filter by: (id, name).
    places: Vec<(String, String)>,
    next: Option<String>,
    newest: Option<String>,
    error: String,
}

/// The steps a filter offers, in the reader's language.
const STEP_CHOICES: [&str; 14] = [
    "receiving",
    "inspecting",
    "commissioning",
    "transforming",
    "packing",
    "storing",
    "shipping",
    "unpacking",
    "retail_selling",
    "holding",
    "destroying",
    "sampling",
    "accepting",
    "departing",
];

/// `GET /events?step=&place=&from=&to=&object=&before=&page=`: the ledger, newest first.
pub async fn events(State(st): State<AppState>, v: Viewer) -> Response {
    let (me, uri, _headers, q, lang, set) =
        (&v.me, &v.uri, &v.headers, &v.query, v.lang, v.chose_lang);
    let chrome = Chrome::new(lang, "events", uri, me);
    let filters = Filters::of(q);
    let names = match st.engine.names().await {
        Ok(n) => n,
        Err(e) => return crate::web::pages::store_down(e),
    };
    let mut error = String::new();
    let (list, next) = if filters.is_empty() && me.rows.is_all() {
        // Seqs are dense: a page is the 50 before `before`, newest first.
        let last = match st.engine.reader().recent_events(1).await {
            Ok(e) => e.first().map_or(0, |e| e.seq),
            Err(e) => return crate::web::pages::store_down(e),
        };
        let before = q
            .get("before")
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(last + 1)
            .min(last + 1);
        let start = before.saturating_sub(PER_PAGE + 1);
        let mut page = match st
            .engine
            .reader()
            .events_after(start, (before - 1 - start) as u32)
            .await
        {
            Ok(p) => p,
            Err(e) => return crate::web::pages::store_down(e),
        };
        page.reverse();
        let next = page
            .last()
            .filter(|e| e.seq > 1)
            .map(|e| format!("/events?before={}", e.seq));
        (page, next)
    } else {
        match filters.params() {
            Err(key) => {
                error = chrome.tr.t(key).to_string();
                (Vec::new(), None)
            }
            Ok(params) => {
                let token = q.get("page").cloned();
                let parsed = suyuan_epcis::query::Query::parse(&params, &HashMap::new());
                match parsed {
                    Err(errs) => {
                        error = format!(
                            "{} {}",
                            chrome.tr.t("events.bad_filter"),
                            errs.iter()
                                .map(|e| e.message.clone())
                                .collect::<Vec<_>>()
                                .join("; ")
                        );
                        (Vec::new(), None)
                    }
                    Ok(query) => match st
                        .engine
                        .query_events(
                            me,
                            query,
                            &fingerprint(&params),
                            PER_PAGE as usize,
                            token.as_deref(),
                        )
                        .await
                    {
                        Ok(page) => {
                            let next = page.next.map(|t| {
                                format!(
                                    "/events?{}&page={}",
                                    filters.query(),
                                    utf8_percent_encode(&t, NON_ALPHANUMERIC)
                                )
                            });
                            (page.events, next)
                        }
                        Err(QueryError::Store(e)) => return crate::web::pages::store_down(e),
                        Err(e) => {
                            error = format!("{} {e}", chrome.tr.t("events.bad_filter"));
                            (Vec::new(), None)
                        }
                    },
                }
            }
        }
    };
    let newest = (q.contains_key("before") || q.contains_key("page")).then(|| {
        let f = filters.query();
        if f.is_empty() {
            "/events".to_string()
        } else {
            format!("/events?{f}")
        }
    });
    let tr = chrome.tr;
    let page = EventsPage {
        rows: list.iter().map(|e| EventRow::named(e, &names)).collect(),
        steps: STEP_CHOICES
            .iter()
            .map(|s| (s.to_string(), tr.step(s)))
            .collect(),
        places: names.places(),
        chrome,
        filters,
        next,
        newest,
        error,
    };
    let status = if page.error.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    (status, render(&page, lang, set)).into_response()
}

/// The routes of this module, each with the permission it needs.
pub(crate) fn routes() -> Vec<crate::routes::Route> {
    use crate::routes;
    use suyuan_core::access::Permission as P;
    vec![routes::get("/events", P::EventsRead, events)]
}
