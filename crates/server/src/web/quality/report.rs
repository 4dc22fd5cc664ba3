//! `GET /quality/report?lot=&format=html|pdf|xlsx`: the batch quality report of a lot — its inspections
//! and its materials', parameters out of limits, reports and holds, genealogy, and its events with their
//! hashes under the covering checkpoint — on screen, as PDF and as XLSX.

use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::report_files::{Content, content, pdf, xlsx};
use super::{enc, short, tabs};
use crate::AppState;
use crate::web::i18n::Tr;
use crate::web::operations::{ops_down, say, staff_only};
use crate::web::pages::{Chrome, render};
use crate::web::viewer::Viewer;

#[derive(Template)]
#[template(path = "quality_report.html")]
struct Page {
    chrome: Chrome,
    tabs: Vec<(&'static str, String, bool)>,
    c: Content,
    pdf_href: String,
    xlsx_href: String,
}

fn file(bytes: Vec<u8>, mime: &str, name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// The report page or file.
pub async fn page(State(st): State<AppState>, v: Viewer) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    let tr = Tr { lang: v.lang };
    let lot = super::resolve(&st, &v.me, &v.param("lot")).await;
    let key = st.signer.as_ref().map(|s| s.verifier_key().to_string());
    let r = match st.engine.batch_report(&lot, key.as_deref()).await {
        Ok(r) => r,
        Err(suyuan_engine::operations::OpsError::NotFound(_)) => {
            return (
                StatusCode::NOT_FOUND,
                format!("{}{lot}", tr.t("q.report.not_found")),
            )
                .into_response();
        }
        Err(e @ suyuan_engine::operations::OpsError::Invalid(_)) => {
            return (StatusCode::BAD_REQUEST, say(tr, &e)).into_response();
        }
        Err(e) => return ops_down(e),
    };
    let records = match st.engine.records().await {
        Ok(r) => r,
        Err(e) => return ops_down(e),
    };
    let c = content(&r, tr, &records);
    let base = format!("quality-report-{}-{}", short(&r.lot), v.lang.code());
    match v.param("format").as_str() {
        "pdf" => match pdf(&c, tr) {
            Ok(b) => file(b, "application/pdf", &format!("{base}.pdf")),
            Err(e) => {
                tracing::error!(error = %e, "batch report PDF failed");
                (StatusCode::INTERNAL_SERVER_ERROR, tr.t("ops.error")).into_response()
            }
        },
        "xlsx" => match xlsx(&c, tr) {
            Ok(b) => file(
                b,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                &format!("{base}.xlsx"),
            ),
            Err(e) => {
                tracing::error!(error = %e, "batch report workbook failed");
                (StatusCode::INTERNAL_SERVER_ERROR, tr.t("ops.error")).into_response()
            }
        },
        _ => {
            let page = Page {
                chrome: v.chrome("quality"),
                tabs: tabs(tr, "inspections"),
                pdf_href: format!("/quality/report?lot={}&format=pdf", enc(&r.lot)),
                xlsx_href: format!("/quality/report?lot={}&format=xlsx", enc(&r.lot)),
                c,
            };
            render(&page, v.lang, v.chose_lang)
        }
    }
}
