//! SPC: choose a plan and one of its measured characteristics; the page draws the X̄-R (or I-MR) chart
//! with its control limits, flags the points that break a Western Electric rule, and gives Cp and Cpk
//! against the specification.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use suyuan_engine::operations::OpsError;
use suyuan_engine::quality::analysis::SpcView;

use super::tabs;
use crate::AppState;
use crate::web::i18n::Tr;
use crate::web::operations::{num, ops_down, say, staff_only};
use crate::web::pages::{Chrome, render};
use crate::web::viewer::Viewer;

#[derive(Template)]
#[template(path = "quality_spc.html")]
struct Page {
    chrome: Chrome,
    tabs: Vec<(&'static str, String, bool)>,
    plans: Vec<(String, String)>,
    plan: String,
    characteristics: Vec<String>,
    characteristic: String,
    subgroup: String,
    error: String,
    view: Option<SpcView>,
    /// The chart's data for the page's script.
    data: String,
    facts: Vec<(String, String)>,
    flagged: Vec<(usize, String, String, String)>,
}

/// `GET /quality/spc?plan=&characteristic=&subgroup=`.
pub async fn page(State(st): State<AppState>, v: Viewer) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    let tr = Tr { lang: v.lang };
    let plans = match st.engine.inspection_plans().await {
        Ok(p) => p,
        Err(e) => return ops_down(e),
    };
    let with_measures: Vec<_> = plans
        .iter()
        .filter(|p| p.characteristics.iter().any(|c| c.is_quantitative()))
        .collect();
    let plan = match v.param("plan") {
        p if p.is_empty() => with_measures
            .iter()
            .rev()
            .map(|p| p.code.clone())
            .next()
            .unwrap_or_default(),
        p => p,
    };
    let characteristics: Vec<String> = with_measures
        .iter()
        .find(|p| p.code == plan)
        .map(|p| {
            p.characteristics
                .iter()
                .filter(|c| c.is_quantitative())
                .map(|c| c.name.clone())
                .collect()
        })
        .unwrap_or_default();
    let characteristic = match v.param("characteristic") {
        c if c.is_empty() || !characteristics.contains(&c) => {
            characteristics.first().cloned().unwrap_or_default()
        }
        c => c,
    };
    let subgroup = v.param("subgroup");
    let mut page = Page {
        chrome: v.chrome("quality"),
        tabs: tabs(tr, "spc"),
        plans: with_measures
            .iter()
            .map(|p| (p.code.clone(), format!("{} · {}", p.code, p.name)))
            .collect(),
        plan: plan.clone(),
        characteristics,
        characteristic: characteristic.clone(),
        subgroup: subgroup.clone(),
        error: String::new(),
        view: None,
        data: String::new(),
        facts: Vec::new(),
        flagged: Vec::new(),
    };
    if !plan.is_empty() && !characteristic.is_empty() {
        let n = subgroup.parse::<usize>().ok();
        match st.engine.spc(&plan, &characteristic, n).await {
            Ok(view) => {
                let c = &view.chart;
                let opt = |x: Option<f64>| x.map(|x| format!("{x:.2}")).unwrap_or("–".into());
                page.facts = vec![
                    (
                        tr.t("q.spc.kind").to_string(),
                        tr.t(&format!("q.spc.kind.{}", c.kind)).to_string(),
                    ),
                    (tr.t("q.spc.subgroup").to_string(), c.subgroup.to_string()),
                    (tr.t("q.spc.points").to_string(), c.points.len().to_string()),
                    (
                        tr.t("q.limits").to_string(),
                        format!(
                            "{} – {} {}",
                            view.lsl.map(num).unwrap_or("–".into()),
                            view.usl.map(num).unwrap_or("–".into()),
                            view.unit.clone().unwrap_or_default()
                        ),
                    ),
                    (
                        "UCL / CL / LCL".into(),
                        format!(
                            "{:.3} / {:.3} / {:.3}",
                            c.location.ucl, c.location.cl, c.location.lcl
                        ),
                    ),
                    (tr.t("q.spc.sigma").to_string(), format!("{:.4}", c.sigma)),
                    ("Cp".into(), opt(c.cp)),
                    ("Cpk".into(), opt(c.cpk)),
                ];
                page.flagged = c
                    .points
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| !p.rules.is_empty())
                    .map(|(i, p)| {
                        (
                            i + 1,
                            view.labels.get(i).cloned().unwrap_or_default(),
                            format!("{:.3}", p.value),
                            p.rules
                                .iter()
                                .map(|r| tr.t(&format!("q.spc.rule.{r}")))
                                .collect::<Vec<_>>()
                                .join("；"),
                        )
                    })
                    .collect();
                page.data = serde_json::to_string(&view)
                    .unwrap_or_default()
                    .replace("</", "<\\/");
                page.view = Some(view);
            }
            Err(OpsError::Invalid(_)) => page.error = tr.t("q.spc.no_data").to_string(),
            Err(e) => page.error = say(tr, &e),
        }
    }
    render(&page, v.lang, v.chose_lang)
}
