//! Supplier scorecards: lot acceptance rate, defect rate and PPM per supplier and material over a
//! period, month by month, with the sampling scheme's switching state and the open reports.

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use super::{pct, tabs, word};
use crate::AppState;
use crate::web::i18n::{Lang, Tr};
use crate::web::operations::{num, ops_down, staff_only};
use crate::web::pages::{Chrome, friendly_time, render};
use crate::web::viewer::Viewer;

/// One scorecard row.
struct Card {
    supplier: String,
    code: String,
    material: String,
    lots: u64,
    accepted: u64,
    acceptance: String,
    inspected: u64,
    defects: u64,
    defect_rate: String,
    ppm: String,
    stage: String,
    stage_key: String,
    open_ncrs: usize,
    last: String,
    months: Vec<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "quality_suppliers.html")]
struct Page {
    chrome: Chrome,
    tabs: Vec<(&'static str, String, bool)>,
    cards: Vec<Card>,
    from: String,
    to: String,
}

/// `GET /quality/suppliers?from=&to=`.
pub async fn page(State(st): State<AppState>, v: Viewer) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    let tr = Tr { lang: v.lang };
    let day = |k: &str| {
        let s = v.param(k);
        chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d")
            .ok()
            .map(|_| s)
    };
    let (from, to) = (day("from"), day("to"));
    let cards = match st
        .engine
        .supplier_scorecards(from.as_deref(), to.as_deref())
        .await
    {
        Ok(c) => c,
        Err(e) => return ops_down(e),
    };
    let records = match st.engine.records().await {
        Ok(r) => r,
        Err(e) => return ops_down(e),
    };
    let english = v.lang == Lang::En;
    let page = Page {
        chrome: v.chrome("quality"),
        tabs: tabs(tr, "suppliers"),
        cards: cards
            .into_iter()
            .map(|c| Card {
                supplier: if english {
                    c.name_en.clone()
                } else {
                    c.name.clone()
                },
                code: c.supplier.clone(),
                material: records.label("product", &c.material, english),
                lots: c.figures.lots,
                accepted: c.figures.accepted,
                acceptance: pct(c.figures.acceptance_rate),
                inspected: c.figures.inspected,
                defects: c.figures.defects,
                defect_rate: pct(c.figures.defect_rate),
                ppm: num(c.figures.ppm.round()),
                stage: word(tr, "q.severity", &c.stage),
                stage_key: c.stage.clone(),
                open_ncrs: c.open_ncrs,
                last: friendly_time(&c.last),
                months: c
                    .months
                    .iter()
                    .map(|(m, f)| {
                        (
                            m.clone(),
                            format!("{}/{}", f.accepted, f.lots),
                            num(f.ppm.round()),
                        )
                    })
                    .collect(),
            })
            .collect(),
        from: from.unwrap_or_default(),
        to: to.unwrap_or_default(),
    };
    render(&page, v.lang, v.chose_lang)
}
