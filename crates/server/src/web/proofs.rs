//! Proof for people who must be able to check: the trace report (an object's story, every event with its
//! hashes and an inclusion proof verified against the latest signed checkpoint; printable, and as PDF) and the
//! proofs page (the ledger's public key, its latest checkpoints, how to verify offline, and for a regulator
//! the grants that scope what they see).

use crate::AppState;
use crate::web::i18n::Tr;
use crate::web::pages::{Chrome, event_href, friendly_time, render, store_down};
use crate::web::viewer::Viewer;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use suyuan_engine::report::{ReportError, TraceReport};

/// One event row of the report.
pub struct Row {
    /// Local time.
    pub time: String,
    /// Business step (as captured; the template names it).
    pub step: String,
    /// Event type.
    pub kind: String,
    /// Place by name.
    pub place: String,
    /// Subject as printed.
    pub subject: String,
    /// Event page.
    pub href: String,
    /// Its eventID.
    pub event_id: String,
    /// Event hash.
    pub event_hash: String,
    /// Leaf hash.
    pub leaf_hash: String,
    /// Proof path length.
    pub path: usize,
    /// Verified against the checkpoint.
    pub verified: bool,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    chrome: Chrome,
    key: String,
    name: String,
    generated: String,
    checkpoint: Option<(u64, String, String, String)>,
    signature_ok: bool,
    verified: usize,
    rows: Vec<Row>,
    more: usize,
    verifier_key: String,
    pdf_href: String,
    first_event: String,
    host: String,
}

fn rows_of(r: &TraceReport, names: &suyuan_engine::names::Names) -> Vec<Row> {
    r.events
        .iter()
        .map(|e| {
            let ev = &e.story.event;
            let s = |k: &str| {
                ev.get(k)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            let place = ["bizLocation", "readPoint"]
                .iter()
                .find_map(|k| ev.get(k)?.get("id")?.as_str())
                .map(|p| names.label(p))
                .unwrap_or_default();
            let subject = e.story.subjects.iter().next().cloned().unwrap_or_default();
            Row {
                time: friendly_time(&s("eventTime")),
                step: s("bizStep"),
                kind: s("type"),
                place,
                subject: subject.rsplit('/').next().unwrap_or(&subject).to_string(),
                href: event_href(&e.event_id),
                event_id: e.event_id.clone(),
                event_hash: e.event_hash.clone(),
                leaf_hash: e.leaf_hash.clone(),
                path: e.proof.len(),
                verified: e.verified,
            }
        })
        .collect()
}

/// `GET /trace/report?id=&format=html|pdf`: the trace report of an object, scoped to the reader.
pub async fn report(State(st): State<AppState>, v: Viewer) -> Response {
    let (me, uri, headers, q, lang, set) =
        (&v.me, &v.uri, &v.headers, &v.query, v.lang, v.chose_lang);
    let chrome = Chrome::new(lang, "trace", uri, me);
    let tr = chrome.tr;
    let id = q.get("id").cloned().unwrap_or_default();
    let key = st.signer.as_ref().map(|s| s.verifier_key().to_string());
    let r = match st.engine.trace_report(&me.rows, &id, key.as_deref()).await {
        Ok(r) => r,
        Err(ReportError::NotFound(_)) => {
            return (
                StatusCode::NOT_FOUND,
                format!("{} {id}", tr.t("report.not_found")),
            )
                .into_response();
        }
        Err(ReportError::Store(e)) => return store_down(e),
        Err(ReportError::Ledger(e)) => {
            tracing::error!(error = %e, "trace report proof failed");
            return (StatusCode::SERVICE_UNAVAILABLE, tr.t("recall.unavailable")).into_response();
        }
    };
    let names = match st.engine.names().await {
        Ok(n) => n,
        Err(e) => return store_down(e),
    };
    let rows = rows_of(&r, &names);
    // A regulator's reading is logged with the events it showed.
    let items = crate::auth::ItemCount(r.events.len() as u64);
    if q.get("format").map(String::as_str) == Some("pdf") {
        let mut resp = pdf(&r, &rows, &names, tr);
        resp.extensions_mut().insert(items);
        return resp;
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost")
        .to_string();
    let page = ReportPage {
        name: names.of(&r.key).map(|n| n.name.clone()).unwrap_or_default(),
        generated: friendly_time(&suyuan_core::time::format_utc_millis(chrono::Utc::now())),
        checkpoint: r.checkpoint.as_ref().map(|c| {
            (
                c.size,
                c.root.clone(),
                friendly_time(&c.created_at),
                c.note.clone(),
            )
        }),
        signature_ok: r.signature_ok,
        verified: r.events.iter().filter(|e| e.verified).count(),
        more: r.more,
        verifier_key: key.unwrap_or_default(),
        pdf_href: format!(
            "/trace/report?id={}&format=pdf&lang={}",
            utf8_percent_encode(&id, NON_ALPHANUMERIC),
            lang.code()
        ),
        first_event: rows
            .first()
            .map(|r| utf8_percent_encode(&r.event_id, NON_ALPHANUMERIC).to_string())
            .unwrap_or_default(),
        host,
        key: r.key.clone(),
        rows,
        chrome,
    };
    let mut resp = render(&page, lang, set);
    resp.extensions_mut().insert(items);
    resp
}

fn pdf(r: &TraceReport, rows: &[Row], names: &suyuan_engine::names::Names, tr: Tr) -> Response {
    use suyuan_labels::document::{Report, Table, report_pdf};
    let mut facts = vec![
        (tr.t("report.object").to_string(), r.key.clone()),
        (
            tr.t("col.product").to_string(),
            names.of(&r.key).map(|n| n.name.clone()).unwrap_or_default(),
        ),
        (
            tr.t("report.generated").to_string(),
            friendly_time(&suyuan_core::time::format_utc_millis(chrono::Utc::now())),
        ),
    ];
    if let Some(c) = &r.checkpoint {
        facts.push((
            tr.t("report.checkpoint").to_string(),
            format!("{} · {}", c.size, friendly_time(&c.created_at)),
        ));
        facts.push((tr.t("report.root").to_string(), c.root.clone()));
        facts.push((
            tr.t("report.signature").to_string(),
            tr.t(if r.signature_ok {
                "report.signature_ok"
            } else {
                "report.signature_unchecked"
            })
            .to_string(),
        ));
    }
    facts.push((
        tr.t("report.proofs").to_string(),
        format!(
            "{}/{}",
            r.events.iter().filter(|e| e.verified).count(),
            r.events.len()
        ),
    ));
    let doc = Report {
        title: format!(
            "{} · {}",
            tr.t("report.title"),
            r.key.rsplit('/').next().unwrap_or(&r.key)
        ),
        facts,
        tables: vec![Table {
            heading: tr.t("report.events").to_string(),
            columns: vec![
                (tr.t("col.time").to_string(), 1.6),
                (tr.t("col.step").to_string(), 1.1),
                (tr.t("col.place").to_string(), 1.6),
                (tr.t("report.event_hash").to_string(), 3.4),
                (tr.t("report.proof").to_string(), 0.7),
            ],
            rows: rows
                .iter()
                .map(|x| {
                    vec![
                        x.time.clone(),
                        if x.step.is_empty() {
                            tr.event_type(&x.kind)
                        } else {
                            tr.step(&x.step)
                        },
                        x.place.clone(),
                        x.event_hash.clone(),
                        if x.verified {
                            "✓".into()
                        } else {
                            "✗".into()
                        },
                    ]
                })
                .collect(),
        }],
        footer: format!("{} · {}", tr.t("app.name"), tr.t("report.footer")),
    };
    match report_pdf(&doc) {
        Ok(bytes) => {
            let mut resp = bytes.into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            );
            let name = format!(
                "trace-report-{}.pdf",
                r.key.rsplit('/').next().unwrap_or("object")
            );
            let safe: String = name
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || "-._".contains(*c))
                .collect();
            if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
                resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
            }
            resp
        }
        Err(e) => {
            tracing::error!(error = %e, "trace report PDF failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                tr.t("recall.unavailable"),
            )
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "proofs.html")]
struct ProofsPage {
    chrome: Chrome,
    verifier_key: String,
    checkpoints: Vec<(u64, String, String)>,
    latest_note: String,
    grants: Vec<(String, String, String, String)>,
    host: String,
}

/// `GET /proofs`: the ledger's key and checkpoints, offline verification, and a regulator's grants.
pub async fn proofs(State(st): State<AppState>, v: Viewer) -> Response {
    let (me, uri, headers, _q, lang, set) =
        (&v.me, &v.uri, &v.headers, &v.query, v.lang, v.chose_lang);
    let chrome = Chrome::new(lang, "proofs", uri, me);
    let mut checkpoints = match st.engine.reader().checkpoints().await {
        Ok(c) => c,
        Err(e) => return store_down(e),
    };
    checkpoints.sort_by_key(|c| std::cmp::Reverse(c.size));
    let latest_note = checkpoints
        .first()
        .map(|c| c.note.clone())
        .unwrap_or_default();
    let grants = match &me.rows {
        suyuan_core::access::RowScope::Regulator { .. } => st
            .engine
            .grants(Some(&me.user))
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|g| {
                (
                    g.gtins.join(", "),
                    friendly_time(&g.from),
                    friendly_time(&g.to),
                    g.note,
                )
            })
            .collect(),
        _ => Vec::new(),
    };
    let page = ProofsPage {
        verifier_key: st
            .signer
            .as_ref()
            .map(|s| s.verifier_key().to_string())
            .unwrap_or_default(),
        checkpoints: checkpoints
            .iter()
            .take(10)
            .map(|c| (c.size, c.root.clone(), friendly_time(&c.created_at)))
            .collect(),
        latest_note,
        grants,
        host: headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost")
            .to_string(),
        chrome,
    };
    render(&page, lang, set)
}

/// The routes of this module, each with the permission it needs.
pub(crate) fn routes() -> Vec<crate::routes::Route> {
    use crate::routes;
    use suyuan_core::access::Permission as P;
    vec![
        routes::get("/trace/report", P::TraceRead, report),
        routes::get("/proofs", P::LedgerRead, proofs),
    ]
}
