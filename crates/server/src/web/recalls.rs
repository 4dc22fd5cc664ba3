//! The recall workbench: start a recall (or a mock recall) from suspect lots or a work centre's time window,
//! see every affected unit, case and pallet grouped by where it is now and the customers to contact with
//! quantities, record each acknowledgement, close it, export the list (CSV, XLSX, PDF). Each step is an
//! engine command stored with its ledger event ([`suyuan_engine::recall`]).

use crate::AppState;
use crate::web::i18n::{Lang, Tr};
use crate::web::pages::{Chrome, friendly_time, object_href, render, store_down};
use crate::web::viewer::Viewer;
use askama::Template;
use axum::Extension;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use std::collections::HashMap;
use suyuan_engine::accounts::Principal;
use suyuan_engine::recall::{AffectedItem, Recall, RecallError, Scope};

/// Where affected goods can be, in the order the workbench lists them.
pub const PLACES: [&str; 6] = [
    "plant",
    "in_transit",
    "distributor",
    "store",
    "sold",
    "scanned",
];

/// Affected objects a page lists (the exports hold all).
const LISTED: usize = 300;

#[derive(Template)]
#[template(path = "recalls.html")]
struct RecallsPage {
    chrome: Chrome,
    recalls: Vec<(String, Recall, String)>,
    lots: String,
    title: String,
    places: Vec<(String, String)>,
    error: String,
    can_start: bool,
}

#[derive(Template)]
#[template(path = "recall.html")]
struct RecallPage {
    chrome: Chrome,
    r: Recall,
    started: String,
    closed: String,
    places: Vec<(String, u64, u64)>,
    contacts: Vec<(String, String, u64, u64, String, String)>,
    items: Vec<(String, String, String, String, String)>,
    more: usize,
    enc: String,
    can_act: bool,
    acknowledged: usize,
}

fn recall_error(e: RecallError, tr: Tr) -> (StatusCode, String) {
    match e {
        RecallError::Invalid { field, message } => (
            StatusCode::BAD_REQUEST,
            format!("{}: {message}", tr.t(&format!("recall.field.{field}"))),
        ),
        RecallError::NotFound(id) => (
            StatusCode::NOT_FOUND,
            format!("{} {id}", tr.t("recall.not_found")),
        ),
        RecallError::Capture(e) => {
            tracing::error!(error = %e, "recall step failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                tr.t("recall.unavailable").to_string(),
            )
        }
    }
}

/// `GET /recalls` (and `/recalls/new?lots=`): the recalls and the form to start one.
pub async fn list(State(st): State<AppState>, v: Viewer) -> Response {
    let (me, uri, _headers, q, lang, set) =
        (&v.me, &v.uri, &v.headers, &v.query, v.lang, v.chose_lang);
    let page = match list_page(
        &st,
        me,
        uri,
        lang,
        q.get("lots").cloned().unwrap_or_default(),
        String::new(),
        String::new(),
    )
    .await
    {
        Ok(p) => p,
        Err(r) => return r,
    };
    render(&page, lang, set)
}

async fn list_page(
    st: &AppState,
    me: &Principal,
    uri: &Uri,
    lang: Lang,
    lots: String,
    title: String,
    error: String,
) -> Result<RecallsPage, Response> {
    let chrome = Chrome::new(lang, "recalls", uri, me);
    let (recalls, names) =
        tokio::try_join!(st.engine.recalls(), st.engine.names()).map_err(store_down)?;
    Ok(RecallsPage {
        recalls: recalls
            .into_iter()
            .map(|r| {
                (
                    format!("/recalls/{}", r.id),
                    r.clone(),
                    friendly_time(&r.started.0),
                )
            })
            .collect(),
        lots: lots
            .split(['\n', ','])
            .map(|l| l.trim().rsplit('/').next().unwrap_or_default().to_string())
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("\n"),
        title,
        places: names.places(),
        error,
        can_start: me.allows(suyuan_core::access::Permission::EventsWrite),
        chrome,
    })
}

/// `POST /recalls`: starts a recall from the form.
pub async fn start(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    uri: Uri,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let lang = Lang::of_request(None, &headers);
    let tr = Tr { lang };
    let field = |k: &str| f.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    // Each line is any code: a lot number, an element string, a Digital Link.
    let mut lots = Vec::new();
    let mut unknown = Vec::new();
    for line in field("lots")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        match crate::web::search::find(&st, &me, line).await {
            Ok(a) => {
                let found: Vec<String> = a
                    .matches
                    .iter()
                    .filter(|m| matches!(m.kind, "lot" | "instance" | "logistic_unit"))
                    .map(|m| m.id.clone())
                    .collect();
                if found.is_empty() {
                    unknown.push(line.to_string());
                }
                lots.extend(found);
            }
            Err(_) => unknown.push(line.to_string()),
        }
    }
    let back = |error: String| async {
        match list_page(&st, &me, &uri, lang, field("lots"), field("title"), error).await {
            Ok(p) => (StatusCode::BAD_REQUEST, render(&p, lang, false)).into_response(),
            Err(r) => r,
        }
    };
    if !unknown.is_empty() {
        return back(format!(
            "{} {}",
            tr.t("recall.unknown_lots"),
            unknown.join(", ")
        ))
        .await;
    }
    let local = |k: &str| {
        let v = field(k);
        (!v.is_empty()).then(|| {
            chrono::NaiveDateTime::parse_from_str(&v, "%Y-%m-%dT%H:%M")
                .ok()
                .and_then(|t| {
                    t.and_local_timezone(crate::web::pages::display_offset())
                        .single()
                })
                .map(|t| t.to_rfc3339())
                .unwrap_or(v)
        })
    };
    let scope = Scope {
        lots,
        place: Some(field("place")).filter(|p| !p.is_empty()),
        from: local("from"),
        to: local("to"),
    };
    let mock = f.contains_key("mock");
    match st
        .engine
        .start_recall(&me.user, &field("title"), scope, mock)
        .await
    {
        Ok(r) => Redirect::to(&format!("/recalls/{}", r.id)).into_response(),
        Err(e) => {
            let (_, msg) = recall_error(e, tr);
            back(msg).await
        }
    }
}

/// `GET /recalls/{id}`: the workbench of one recall.
pub async fn show(State(st): State<AppState>, Path(id): Path<String>, v: Viewer) -> Response {
    let (me, uri, _headers, _q, lang, set) =
        (&v.me, &v.uri, &v.headers, &v.query, v.lang, v.chose_lang);
    let chrome = Chrome::new(lang, "recalls", uri, me);
    let tr = chrome.tr;
    let r = match st.engine.recall(&id).await {
        Ok(Some(r)) => r,
        Ok(None) => {
            return (
                StatusCode::NOT_FOUND,
                recall_error(RecallError::NotFound(id), tr).1,
            )
                .into_response();
        }
        Err(e) => return store_down(e),
    };
    let items = match st.engine.affected(&r.scope).await {
        Ok(i) => i,
        Err(e) => {
            let (status, msg) = recall_error(e, tr);
            return (status, msg).into_response();
        }
    };
    let names = match st.engine.names().await {
        Ok(n) => n,
        Err(e) => return store_down(e),
    };
    let more = items.len().saturating_sub(LISTED);
    let page = RecallPage {
        started: friendly_time(&r.started.0),
        closed: r
            .closed
            .as_ref()
            .map(|c| friendly_time(&c.0))
            .unwrap_or_default(),
        places: PLACES
            .iter()
            .map(|p| {
                let (u, l) = r.places.get(*p).copied().unwrap_or_default();
                (p.to_string(), u, l)
            })
            .collect(),
        contacts: r
            .contacts
            .iter()
            .map(|c| {
                (
                    c.party.clone(),
                    c.name.clone(),
                    c.units,
                    c.logistic_units,
                    c.acknowledged
                        .as_ref()
                        .map(|a| format!("{} · {}", friendly_time(&a.0), a.1))
                        .unwrap_or_default(),
                    c.holders.join("、"),
                )
            })
            .collect(),
        items: items
            .iter()
            .take(LISTED)
            .map(|i| {
                (
                    object_href(&i.id),
                    i.id.rsplit('/').next().unwrap_or(&i.id).to_string(),
                    tr.t(&format!("recall.kind.{}", i.kind)).to_string(),
                    tr.t(&format!("recall.place.{}", i.place)).to_string(),
                    i.holder
                        .as_deref()
                        .map(|h| names.label(h))
                        .unwrap_or_default(),
                )
            })
            .collect(),
        more,
        enc: utf8_percent_encode(&r.id, NON_ALPHANUMERIC).to_string(),
        can_act: me.allows(suyuan_core::access::Permission::EventsWrite) && r.closed.is_none(),
        acknowledged: r
            .contacts
            .iter()
            .filter(|c| c.acknowledged.is_some())
            .count(),
        r,
        chrome,
    };
    render(&page, lang, set)
}

/// After a recall step: back to the workbench (at `anchor`), or the refusal in the reader's language.
fn after_step(
    id: &str,
    headers: &HeaderMap,
    anchor: &str,
    done: Result<Recall, RecallError>,
) -> Response {
    match done {
        Ok(_) => Redirect::to(&format!(
            "/recalls/{}{anchor}",
            utf8_percent_encode(id, NON_ALPHANUMERIC)
        ))
        .into_response(),
        Err(e) => recall_error(
            e,
            Tr {
                lang: Lang::of_request(None, headers),
            },
        )
        .into_response(),
    }
}

/// `POST /recalls/{id}/acknowledge` (`party`): a customer confirmed.
pub async fn acknowledge(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let party = f.get("party").cloned().unwrap_or_default();
    let done = st.engine.acknowledge_recall(&me.user, &id, &party).await;
    after_step(&id, &headers, "#contacts", done)
}

/// `POST /recalls/{id}/close` (`note`).
pub async fn close(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let note = f.get("note").cloned().unwrap_or_default();
    let done = st.engine.close_recall(&me.user, &id, &note).await;
    after_step(&id, &headers, "", done)
}

/// The export's rows: a header in the reader's language, then one row per affected object.
pub fn export_rows(
    items: &[AffectedItem],
    names: &suyuan_engine::names::Names,
    tr: Tr,
) -> Vec<[String; 7]> {
    let mut rows = vec![[
        tr.t("recall.col.code").to_string(),
        tr.t("recall.col.kind").to_string(),
        tr.t("recall.col.product").to_string(),
        tr.t("recall.col.where").to_string(),
        tr.t("recall.col.holder").to_string(),
        tr.t("recall.col.location").to_string(),
        tr.t("recall.col.id").to_string(),
    ]];
    for i in items {
        rows.push([
            i.id.rsplit('/').next().unwrap_or(&i.id).to_string(),
            tr.t(&format!("recall.kind.{}", i.kind)).to_string(),
            names.of(&i.id).map(|n| n.name.clone()).unwrap_or_default(),
            tr.t(&format!("recall.place.{}", i.place)).to_string(),
            i.holder
                .as_deref()
                .map(|h| names.label(h))
                .unwrap_or_default(),
            i.location
                .as_deref()
                .map(|l| names.label(l))
                .unwrap_or_default(),
            i.id.clone(),
        ]);
    }
    rows
}

/// `GET /recalls/{id}/export?format=csv|xlsx|pdf&lang=`: the whole list, named in the reader's language.
pub async fn export(
    State(st): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let lang = Lang::of_request(q.get("lang").map(String::as_str), &headers);
    let tr = Tr { lang };
    let r = match st.engine.recall(&id).await {
        Ok(Some(r)) => r,
        Ok(None) => return recall_error(RecallError::NotFound(id), tr).into_response(),
        Err(e) => return store_down(e),
    };
    let (items, names) =
        match tokio::try_join!(async { st.engine.affected(&r.scope).await }, async {
            st.engine.names().await.map_err(RecallError::from)
        }) {
            Ok(v) => v,
            Err(e) => return recall_error(e, tr).into_response(),
        };
    let rows = export_rows(&items, &names, tr);
    let stem = format!("recall-{}-{}", r.id, lang.code());
    let (body, mime, ext) = match q.get("format").map(String::as_str).unwrap_or("csv") {
        "csv" => {
            let mut s = String::from("\u{feff}");
            for row in &rows {
                s.push_str(
                    &row.iter()
                        .map(|f| crate::api::recall::csv_field(f))
                        .collect::<Vec<_>>()
                        .join(","),
                );
                s.push_str("\r\n");
            }
            (s.into_bytes(), "text/csv; charset=utf-8", "csv")
        }
        "xlsx" => match crate::web::recall_files::xlsx(&r, &rows, tr) {
            Ok(b) => (
                b,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "xlsx",
            ),
            Err(e) => {
                tracing::error!(error = %e, "recall workbook failed");
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    tr.t("recall.unavailable"),
                )
                    .into_response();
            }
        },
        "pdf" => match crate::web::recall_files::pdf(&r, &rows, tr) {
            Ok(b) => (b, "application/pdf", "pdf"),
            Err(e) => {
                tracing::error!(error = %e, "recall PDF failed");
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    tr.t("recall.unavailable"),
                )
                    .into_response();
            }
        },
        other => {
            return crate::error::ApiError::bad_param(
                "format",
                format!("csv, xlsx or pdf, got '{other}'"),
            )
            .into_response();
        }
    };
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{stem}.{ext}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

/// The routes of this module, each with the permission it needs.
pub(crate) fn routes() -> Vec<crate::routes::Route> {
    use crate::routes;
    use suyuan_core::access::Permission as P;
    vec![
        routes::get("/recalls", P::TraceRead, list),
        routes::get("/recalls/new", P::TraceRead, list),
        routes::post("/recalls", P::EventsWrite, start),
        routes::get("/recalls/{id}", P::TraceRead, show),
        routes::post("/recalls/{id}/acknowledge", P::EventsWrite, acknowledge),
        routes::post("/recalls/{id}/close", P::EventsWrite, close),
        routes::get("/recalls/{id}/export", P::TraceRead, export),
    ]
}
