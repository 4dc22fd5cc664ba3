//! Inspections: the list with the section's figures, and the entry from a plan — choose the plan, the lot
//! and its size, see the GB/T 2828.1 sample the scheme's current stage asks for, enter measurements and
//! defects per characteristic, and the engine judges the lot (a rejected lot is held with everything
//! made from it and a report opened).

use askama::Template;
use axum::Extension;
use axum::extract::{Form, State};
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::HashMap;
use suyuan_engine::accounts::Principal;
use suyuan_engine::quality::InspectionRecord;
use suyuan_engine::quality::inspect::{Attachment, InspectionRequest};
use suyuan_quality::plan::{Finding, InspectionPlan};

use super::{enc, short, tabs, word};
use crate::AppState;
use crate::web::i18n::Tr;
use crate::web::operations::{num, ops_down, say, staff_only};
use crate::web::pages::{Chrome, friendly_time, render};
use crate::web::viewer::Viewer;

/// One inspection as the list shows it.
struct Row {
    time: String,
    plan: String,
    stage: String,
    lot: String,
    report: String,
    lot_size: u64,
    sample: u64,
    severity: String,
    accepted: bool,
    defects: u64,
    inspector: String,
    ncr: String,
    /// Photos and certificates: (name, link).
    files: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "quality_inspections.html")]
struct ListPage {
    chrome: Chrome,
    tabs: Vec<(&'static str, String, bool)>,
    stats: Vec<(String, String)>,
    rows: Vec<Row>,
    notice: String,
    stage: String,
    stages: Vec<(String, String)>,
    can_write: bool,
}

fn row(tr: Tr, i: &InspectionRecord) -> Row {
    let lot = i.lot.clone().unwrap_or_else(|| short(&i.object));
    Row {
        time: friendly_time(&i.at),
        plan: i.plan.clone(),
        stage: i.stage.to_uppercase(),
        report: format!("/quality/report?lot={}", enc(&i.object)),
        lot,
        lot_size: i.lot_size,
        sample: i.sample_size,
        severity: word(tr, "q.severity", &i.severity),
        accepted: i.accepted,
        defects: i.defects,
        inspector: i.inspector.clone(),
        ncr: i.ncr.clone().unwrap_or_default(),
        files: files(i),
    }
}

/// The photos and certificates of an inspection: (name, link).
pub(crate) fn files(i: &InspectionRecord) -> Vec<(String, String)> {
    i.attachments
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| {
            let name = a.get("name")?.as_str()?.to_string();
            let sha = a.get("sha256")?.as_str()?;
            Some((name, suyuan_engine::quality::attachments::url(sha)))
        })
        .collect()
}

/// `GET /quality?stage=&done=`: the latest inspections, and the outcome of one just recorded.
pub async fn list(State(st): State<AppState>, v: Viewer) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    let tr = Tr { lang: v.lang };
    let stage = v.param("stage");
    let done = v.param("done");
    let got = st
        .engine
        .quality(|q| {
            let rows: Vec<Row> = q
                .inspections
                .iter()
                .rev()
                .filter(|i| stage.is_empty() || i.stage == stage)
                .take(300)
                .map(|i| row(tr, i))
                .collect();
            let open_ncrs = q
                .ncrs
                .values()
                .filter(|n| n.state != suyuan_quality::ncr::NcrState::Closed)
                .count();
            let open_holds = q.holds.all().filter(|h| h.open).count();
            let rejected = q.inspections.iter().filter(|i| !i.accepted).count();
            let outcome = q.inspections.iter().find(|i| i.id == done).map(|i| {
                let held = i
                    .ncr
                    .as_ref()
                    .and_then(|n| q.ncrs.get(n))
                    .map(|n| {
                        n.holds
                            .iter()
                            .filter_map(|h| q.holds.get(h))
                            .map(|h| h.objects.len())
                            .sum::<usize>()
                    })
                    .unwrap_or(0);
                (i.clone(), held)
            });
            (
                rows,
                [
                    (open_ncrs, "q.open_ncrs"),
                    (open_holds, "q.open_holds"),
                    (q.holds.held_objects(), "q.held_objects"),
                    (rejected, "q.rejected_lots"),
                ],
                outcome,
            )
        })
        .await;
    let (rows, stats, outcome) = match got {
        Ok(x) => x,
        Err(e) => return ops_down(e),
    };
    let notice = outcome
        .as_ref()
        .map(|(i, held)| {
            // The rule holds the lot from the outbox, moments after the inspection is stored.
            let key = match (i.accepted, held) {
                (true, _) => "q.done.accepted",
                (false, 0) => "q.done.holding",
                (false, _) => "q.done.rejected",
            };
            tr.t(key)
                .replace("{id}", &i.id)
                .replace("{n}", &i.sample_size.to_string())
                .replace("{held}", &held.to_string())
                .replace("{ncr}", i.ncr.as_deref().unwrap_or(""))
        })
        .unwrap_or_default();
    let page = ListPage {
        chrome: v.chrome("quality"),
        tabs: tabs(tr, "inspections"),
        stats: stats
            .iter()
            .map(|(n, k)| (tr.t(k).to_string(), n.to_string()))
            .collect(),
        rows,
        notice,
        stages: ["iqc", "ipqc", "fqc"]
            .iter()
            .map(|s| (s.to_string(), tr.t(&format!("q.stage.{s}")).to_string()))
            .collect(),
        stage,
        can_write: v.me.allows(suyuan_core::access::Permission::EventsWrite),
    };
    render(&page, v.lang, v.chose_lang)
}

/// One characteristic's input on the entry form.
struct Field {
    index: usize,
    name: String,
    class: String,
    quantitative: bool,
    limits: String,
    method: String,
    value: String,
}

/// One defect class's sampling plan.
struct ClassPlan {
    class: String,
    aql: String,
    letter: String,
    sample: u32,
    ac: u32,
    re: u32,
    full: bool,
}

#[derive(Template)]
#[template(path = "quality_inspect.html")]
struct FormPage {
    chrome: Chrome,
    tabs: Vec<(&'static str, String, bool)>,
    plans: Vec<(String, String)>,
    plan: String,
    object: String,
    lot_size: String,
    supplier: String,
    error: String,
    /// The scheme's stage and the sample, once plan and lot size are known.
    stage: String,
    sample: u32,
    classes: Vec<ClassPlan>,
    fields: Vec<Field>,
    inspector: String,
    instrument: String,
    /// Makes a resubmitted form record the inspection once.
    request_id: String,
    /// The upload script and its messages.
    script: String,
    texts: String,
    /// The plan's own form: its title, its fields (named `x__…`) and the script that keeps them live.
    extra_title: String,
    extra_code: String,
    extra: Vec<crate::web::forms::render::Input>,
    forms_script: String,
    form_texts: String,
}

/// The browser's fields of the plan's own form (`x__…`), named as the form names them.
fn extra_pairs(all: &[(String, String)]) -> Vec<(String, String)> {
    all.iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("x__")?.to_string(), v.clone())))
        .collect()
}

fn limits(c: &suyuan_quality::plan::Characteristic) -> String {
    let unit = c.unit.clone().unwrap_or_default();
    match (c.lsl, c.usl) {
        (Some(l), Some(u)) => format!("{} – {} {unit}", num(l), num(u)),
        (Some(l), None) => format!("≥ {} {unit}", num(l)),
        (None, Some(u)) => format!("≤ {} {unit}", num(u)),
        (None, None) => String::new(),
    }
}

async fn draw_form(
    st: &AppState,
    v: &Viewer,
    f: &HashMap<String, String>,
    error: String,
) -> Response {
    let tr = Tr { lang: v.lang };
    let g = |k: &str| f.get(k).map(|x| x.trim().to_string()).unwrap_or_default();
    let plans = match st.engine.inspection_plans().await {
        Ok(p) => p,
        Err(e) => return ops_down(e),
    };
    let chosen: Option<&InspectionPlan> = plans.iter().find(|p| p.code == g("plan"));
    let lot_size = g("lot_size").parse::<u64>().ok().filter(|n| *n > 0);
    let mut page = FormPage {
        chrome: v.chrome("quality"),
        tabs: tabs(tr, "inspections"),
        plans: plans
            .iter()
            .map(|p| (p.code.clone(), format!("{} · {}", p.code, p.name)))
            .collect(),
        plan: g("plan"),
        object: g("object"),
        lot_size: g("lot_size"),
        supplier: g("supplier"),
        error,
        stage: String::new(),
        sample: 0,
        classes: Vec::new(),
        fields: Vec::new(),
        inspector: match g("inspector") {
            s if s.is_empty() => v.me.user.clone(),
            s => s,
        },
        request_id: match g("request_id") {
            s if s.is_empty() => format!(
                "{}-{}",
                v.me.user,
                chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
            ),
            s => s,
        },
        instrument: g("instrument"),
        script: crate::web::assets::url("js/quality.js"),
        texts: crate::web::operations::texts_json(v.lang, &["q.attach"]),
        extra_title: String::new(),
        extra_code: String::new(),
        extra: Vec::new(),
        forms_script: crate::web::assets::url("js/forms.js"),
        form_texts: crate::web::operations::texts_json(v.lang, &["form."]),
    };
    if let Some(code) = chosen.and_then(|p| p.form.clone())
        && lot_size.is_some()
    {
        match st.engine.form(&code, None).await {
            Ok(fv) => {
                let pairs: Vec<(String, String)> = f
                    .iter()
                    .filter_map(|(k, x)| Some((k.strip_prefix("x__")?.to_string(), x.clone())))
                    .collect();
                let values = crate::web::forms::render::values_of(&fv.form, &pairs);
                page.extra_title = fv.form.name.get(v.lang.code()).to_string();
                page.extra =
                    crate::web::forms::render::inputs(&fv.form.fields, &values, &[], v.lang, "x__");
                page.extra_code = code;
            }
            Err(e) => {
                tracing::warn!(plan = %page.plan, form = %code, error = %e, "a plan names a form that cannot be read")
            }
        }
    }
    if let (Some(p), Some(n)) = (chosen, lot_size) {
        let supplier = Some(page.supplier.as_str()).filter(|s| !s.is_empty());
        match st.engine.sampling_for(p, supplier, n).await {
            Ok((stage, sample)) => {
                page.stage = word(tr, "q.severity", stage.as_str());
                page.sample = sample;
                if let Ok(by_class) = p.sampling(n, stage.severity()) {
                    page.classes = by_class
                        .iter()
                        .map(|(c, s)| ClassPlan {
                            class: word(tr, "q.class", c.as_str()),
                            aql: p.aql.get(c).map(|a| num(*a)).unwrap_or_default(),
                            // The arrow followed, when the plan is another letter's.
                            letter: if s.plan_letter == s.code_letter {
                                s.code_letter.to_string()
                            } else {
                                format!("{} → {}", s.code_letter, s.plan_letter)
                            },
                            sample: s.sample_size,
                            ac: s.ac,
                            re: s.re,
                            full: s.full_inspection,
                        })
                        .collect();
                }
                page.fields = p
                    .characteristics
                    .iter()
                    .enumerate()
                    .map(|(i, c)| Field {
                        index: i,
                        name: c.name.clone(),
                        class: word(tr, "q.class", c.class.as_str()),
                        quantitative: c.is_quantitative(),
                        limits: limits(c),
                        method: [c.method.clone(), c.instrument.clone()]
                            .into_iter()
                            .flatten()
                            .collect::<Vec<_>>()
                            .join(" · "),
                        value: g(&format!("c{i}")),
                    })
                    .collect();
            }
            Err(e) => page.error = say(tr, &e),
        }
    }
    render(&page, v.lang, v.chose_lang)
}

/// `GET /quality/attachments/{sha256}`: a stored photo or certificate, shown in the browser.
pub async fn attachment(
    State(st): State<AppState>,
    axum::extract::Path(sha): axum::extract::Path<String>,
    v: Viewer,
) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    let tr = Tr { lang: v.lang };
    match st.engine.attachment(&sha).await {
        Ok(Some(f)) => (
            [
                (axum::http::header::CONTENT_TYPE, f.mime),
                (
                    axum::http::header::CONTENT_DISPOSITION,
                    format!("inline; filename*=UTF-8''{}", enc(&f.name)),
                ),
                (
                    axum::http::header::CACHE_CONTROL,
                    "private, max-age=31536000, immutable".to_string(),
                ),
            ],
            f.bytes,
        )
            .into_response(),
        Ok(None) => super::missing(
            tr,
            suyuan_engine::operations::OpsError::NotFound(format!("attachment {sha}")),
        ),
        Err(e) => ops_down(e),
    }
}

/// `GET /quality/inspect?plan=&object=&lot_size=&supplier=`: the entry form.
pub async fn form(State(st): State<AppState>, v: Viewer) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    let q = v.query.clone();
    draw_form(&st, &v, &q, String::new()).await
}

/// The findings the form holds: measurements for measured characteristics, a count for the others.
fn findings(
    tr: Tr,
    plan: &InspectionPlan,
    f: &HashMap<String, String>,
) -> Result<Vec<Finding>, String> {
    let mut out = Vec::new();
    for (i, c) in plan.characteristics.iter().enumerate() {
        let raw = f.get(&format!("c{i}")).map(|s| s.trim()).unwrap_or("");
        if c.is_quantitative() {
            let mut values = Vec::new();
            for part in raw
                .split(|ch: char| ch == ',' || ch == '，' || ch.is_whitespace())
                .filter(|p| !p.is_empty())
            {
                match part.parse::<f64>() {
                    Ok(x) if x.is_finite() => values.push(x),
                    _ => return Err(format!("{}: {}{part}", c.name, tr.t("q.bad_number"))),
                }
            }
            if !values.is_empty() {
                out.push(Finding {
                    characteristic: c.name.clone(),
                    values,
                    defects: 0,
                });
            }
        } else {
            let defects = if raw.is_empty() {
                0
            } else {
                raw.parse::<u32>()
                    .map_err(|_| format!("{}: {}{raw}", c.name, tr.t("q.bad_number")))?
            };
            out.push(Finding {
                characteristic: c.name.clone(),
                values: Vec::new(),
                defects,
            });
        }
    }
    Ok(out)
}

/// `POST /quality/inspect`: records the inspection and shows its outcome on the list.
pub async fn submit(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    v: Viewer,
    Form(all): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    let tr = Tr { lang: v.lang };
    // Uploaded files come back as one `attachment` field each (the upload's answer, as JSON).
    let attachments: Vec<Attachment> = all
        .iter()
        .filter(|(k, _)| k == "attachment")
        .filter_map(|(_, v)| serde_json::from_str(v).ok())
        .collect();
    let extra = extra_pairs(&all);
    let f: HashMap<String, String> = all.into_iter().filter(|(k, _)| k != "attachment").collect();
    let g = |k: &str| f.get(k).map(|x| x.trim().to_string()).unwrap_or_default();
    let plan = match st.engine.inspection_plan(&g("plan")).await {
        Ok(p) => p,
        Err(e) => return draw_form(&st, &v, &f, say(tr, &e)).await,
    };
    let findings = match findings(tr, &plan, &f) {
        Ok(x) => x,
        Err(e) => return draw_form(&st, &v, &f, e).await,
    };
    let object = super::resolve(&st, &me, &g("object")).await;
    // The plan's own form first: its problems are shown before anything is recorded.
    let mut submission = None;
    if let Some(code) = &plan.form {
        let fv = match st.engine.form(code, None).await {
            Ok(fv) => fv,
            Err(e) => {
                return draw_form(&st, &v, &f, crate::web::forms::said(e, v.lang).join("; ")).await;
            }
        };
        let mut values = crate::web::forms::render::values_of(&fv.form, &extra);
        // The inspected lot is the form's object unless the inspector scanned another.
        if let Some(k) = fv.form.fields.iter().find_map(|x| match &x.kind {
            suyuan_forms::Kind::Scan { role, .. } if *role == suyuan_forms::form::Role::Object => {
                Some(x.key.clone())
            }
            _ => None,
        }) && values
            .get(&k)
            .and_then(serde_json::Value::as_str)
            .is_none_or(|s| s.trim().is_empty())
        {
            values[&k] = serde_json::json!(object);
        }
        let request = format!("inspection/{}", g("request_id"));
        match st
            .engine
            .submit_form(&me.user, code, &values, Some(&request))
            .await
        {
            Ok(s) => submission = Some(s.id),
            Err(e) => {
                return draw_form(&st, &v, &f, crate::web::forms::said(e, v.lang).join("; ")).await;
            }
        }
    }
    let req = InspectionRequest {
        plan: plan.code.clone(),
        object,
        lot_size: g("lot_size").parse().unwrap_or(0),
        findings,
        inspector: Some(g("inspector")).filter(|s| !s.is_empty()),
        instrument: Some(g("instrument")).filter(|s| !s.is_empty()),
        attachments,
        supplier: Some(g("supplier")).filter(|s| !s.is_empty()),
        request_id: Some(g("request_id")).filter(|s| !s.is_empty()),
        submission,
    };
    match st.engine.record_inspection(&me.user, &req).await {
        Ok(out) => Redirect::to(&format!("/quality?done={}", enc(&out.id))).into_response(),
        Err(e) => draw_form(&st, &v, &f, say(tr, &e)).await,
    }
}
