//! The labels page of the web UI: coding rules and label templates with previews, and a form that issues
//! codes and prints a batch (PDF, ZPL or a port-9100 printer) with live progress.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use axum::{Extension, Form};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use suyuan_core::coding::Context;
use suyuan_engine::accounts::Principal;
use suyuan_labels::{Format, LabelTemplate, Vars};
use suyuan_store::kinds;

use crate::AppState;
use crate::api::labels::{JobRequest, JobState, job_state, start};
use crate::web::i18n::{Lang, Tr};
use crate::web::pages::{Chrome, lang_of, render, store_down};

/// A coding rule as the page lists it.
pub struct RuleRow {
    /// Name.
    pub name: String,
    /// Latest version.
    pub version: u32,
    /// Token template.
    pub template: String,
    /// What the codes identify.
    pub target: String,
    /// Codes issued so far.
    pub issued: u64,
    /// What a capture naming a code of the rule that it never issued gets: `accept`, `warn` or `refuse`.
    pub unknown_codes: String,
}

/// A label template as the page lists it.
pub struct TemplateRow {
    /// Name.
    pub name: String,
    /// Latest version.
    pub version: u32,
    /// Size, e.g. `60 × 40 mm, 300 dpi`.
    pub size: String,
    /// Its variables, e.g. `{lot} {serial}`.
    pub variables: String,
    /// Preview URL.
    pub preview: String,
}

#[derive(Template)]
#[template(path = "labels.html")]
struct LabelsPage {
    chrome: Chrome,
    rules: Vec<RuleRow>,
    templates: Vec<TemplateRow>,
}

#[derive(Template)]
#[template(path = "label_job.html")]
struct JobPartial {
    chrome: Chrome,
    job: Option<JobState>,
    error: Option<String>,
    percent: u64,
}

/// `GET /labels`.
pub async fn page(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (lang, set) = lang_of(&q, &headers);
    let store = st.engine.reader();
    let (rules, templates) = match tokio::try_join!(
        store.definitions(kinds::CODING_RULE),
        store.definitions(kinds::LABEL_TEMPLATE)
    ) {
        Ok(v) => v,
        Err(e) => return store_down(e),
    };
    let mut rule_rows = Vec::new();
    for r in rules {
        let issued = match store.issued_count(&r.name).await {
            Ok(n) => n,
            Err(e) => return store_down(e),
        };
        let text = |k: &str| r.definition[k].as_str().unwrap_or("").to_string();
        rule_rows.push(RuleRow {
            target: if text("target").is_empty() {
                "internal".into()
            } else {
                text("target")
            },
            template: text("template"),
            unknown_codes: if text("unknown_codes").is_empty() {
                "accept".into()
            } else {
                text("unknown_codes")
            },
            name: r.name,
            version: r.version,
            issued,
        });
    }
    let template_rows = templates
        .into_iter()
        .map(|t| {
            let parsed = LabelTemplate::from_json(&t.definition).ok();
            TemplateRow {
                size: parsed
                    .as_ref()
                    .map(|p| format!("{} × {} mm, {} dpi", p.width_mm, p.height_mm, p.dpi))
                    .unwrap_or_default(),
                variables: parsed
                    .map(|p| {
                        p.variables()
                            .iter()
                            .map(|v| format!("{{{v}}}"))
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .unwrap_or_default(),
                preview: format!(
                    "/api/v1/label-templates/{}/preview?format=png&version={}",
                    t.name, t.version
                ),
                name: t.name,
                version: t.version,
            }
        })
        .collect();
    render(
        &LabelsPage {
            chrome: Chrome::new(lang, "labels", &uri, &me),
            rules: rule_rows,
            templates: template_rows,
        },
        lang,
        set,
    )
}

fn partial(
    lang: Lang,
    uri: &Uri,
    me: &Principal,
    job: Option<JobState>,
    error: Option<String>,
) -> Response {
    let percent = job
        .as_ref()
        .map(|j| (j.done * 100).checked_div(j.total).unwrap_or(0))
        .unwrap_or(0);
    render(
        &JobPartial {
            chrome: Chrome::new(lang, "labels", uri, me),
            job,
            error,
            percent,
        },
        lang,
        false,
    )
}

/// Parses label values: one `name=value` per line, or several on a line separated by commas; a comma
/// followed by text without `=` belongs to the value before it (`product_name_en=Infant formula, 800 g`).
/// `Err` holds the part that is not `name=value`.
fn pairs(text: &str) -> Result<Vars, String> {
    let mut out = Vars::new();
    for line in text.lines() {
        let mut last: Option<String> = None;
        for part in line.split(',') {
            match part.split_once('=') {
                Some((k, v)) if !k.trim().is_empty() => {
                    let k = k.trim().to_string();
                    out.insert(k.clone(), v.trim().to_string());
                    last = Some(k);
                }
                _ if part.trim().is_empty() => {}
                _ => match last.as_ref().and_then(|k| out.get_mut(k)) {
                    Some(v) => {
                        v.push(',');
                        v.push_str(part.trim_end());
                    }
                    None => return Err(part.trim().to_string()),
                },
            }
        }
    }
    Ok(out)
}

/// `POST /labels/jobs` (form): starts a print job and answers its progress fragment.
pub async fn start_form(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let (lang, _) = lang_of(&q, &headers);
    let get = |k: &str| {
        f.get(k)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let tr = Tr { lang };
    let request = (|| -> Result<JobRequest, String> {
        let count = get("count")
            .unwrap_or_default()
            .parse::<u64>()
            .map_err(|_| tr.t("labels.err.count").to_string())?;
        let format = get("format")
            .and_then(|s| Format::from_name(&s))
            .ok_or(tr.t("labels.err.format"))?;
        Ok(JobRequest {
            template: get("template").ok_or(tr.t("labels.err.template"))?,
            template_version: None,
            rule: get("rule").ok_or(tr.t("labels.err.rule"))?,
            count,
            context: Context::from_lookup(get),
            location: get("location"),
            vars: pairs(&get("vars").unwrap_or_default())
                .map_err(|part| format!("{} {part}", tr.t("labels.err.vars")))?,
            format,
            layout: get("layout"),
            printer: get("printer"),
        })
    })();
    match request {
        Err(e) => partial(lang, &uri, &me, None, Some(e)),
        Ok(req) => match start(&st, req).await {
            Ok(id) => partial(lang, &uri, &me, job_state(&st, id), None),
            Err(e) => partial(lang, &uri, &me, None, Some(form_error(tr, &e))),
        },
    }
}

/// A refused print job as the form says it: the label variables still to give named in the reader's
/// language; other refusals as the API words them.
fn form_error(tr: Tr, e: &crate::error::ApiError) -> String {
    let missing: Vec<String> = e
        .located()
        .iter()
        .filter_map(|l| {
            l.pointer
                .as_deref()?
                .strip_prefix("/vars/")
                .map(str::to_string)
        })
        .collect();
    if missing.is_empty() {
        return e.to_string();
    }
    format!(
        "{} {}",
        tr.t("labels.err.missing_vars"),
        missing
            .iter()
            .map(|m| format!("{m}=…"))
            .collect::<Vec<_>>()
            .join(tr.t("list.separator"))
    )
}

/// `GET /labels/jobs/{id}`: the progress fragment, polled while the job runs.
pub async fn job(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<u64>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (lang, _) = lang_of(&q, &headers);
    match job_state(&st, id) {
        Some(j) => partial(lang, &uri, &me, Some(j), None),
        None => partial(lang, &uri, &me, None, Some(format!("no label job {id}"))),
    }
}

#[derive(Template)]
#[template(path = "label_preview.html")]
struct PreviewPartial {
    chrome: Chrome,
    src: String,
    error: String,
}

/// `GET /labels/preview?template=&rule=&plant=&line=&shift=&gtin=&vars=`: the print form's values rendered
/// as the job's first label will be (the rule's next code shape, the job's context and variables), or what
/// is missing for it.
pub async fn preview_form(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (lang, _) = lang_of(&q, &headers);
    let get = |k: &str| {
        q.get(k)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let checked = async {
        let template = get("template").ok_or("template: choose a label template")?;
        let rule = get("rule").ok_or("rule: choose a coding rule")?;
        let vars = pairs(&get("vars").unwrap_or_default()).map_err(|e| format!("vars: {e}"))?;
        let ctx = Context::from_lookup(get);
        // The same check the job makes first: a code of the rule's shape for this context.
        st.engine
            .preview_codes(&rule, &ctx, 1)
            .await
            .map_err(|e| e.to_string())?;
        let enc = |v: &str| utf8_percent_encode(v, NON_ALPHANUMERIC).to_string();
        let mut src = format!(
            "/api/v1/label-templates/{}/preview?format=png&rule={}",
            enc(&template),
            enc(&rule)
        );
        for (k, v) in ctx.values() {
            src.push_str(&format!("&context.{k}={}", enc(v)));
        }
        for (k, v) in &vars {
            src.push_str(&format!("&var.{}={}", enc(k), enc(v)));
        }
        Ok::<String, String>(src)
    };
    let (src, error) = match checked.await {
        Ok(src) => (src, String::new()),
        Err(e) => (String::new(), e),
    };
    render(
        &PreviewPartial {
            chrome: Chrome::new(lang, "labels", &uri, &me),
            src,
            error,
        },
        lang,
        false,
    )
}

/// The routes of this module, each with the permission it needs.
pub(crate) fn routes() -> Vec<crate::routes::Route> {
    use crate::routes;
    use suyuan_core::access::Permission as P;
    vec![
        routes::get("/labels", P::LabelsRead, page),
        routes::post("/labels/jobs", P::LabelsWrite, start_form),
        routes::get("/labels/preview", P::LabelsRead, preview_form),
        routes::get("/labels/jobs/{id}", P::LabelsRead, job),
    ]
}

#[cfg(test)]
mod tests {
    use super::pairs;

    #[test]
    fn label_values_read_by_line_and_keep_commas_inside_values() {
        let v =
            pairs("lot=L1\nproduct_name_en=Infant formula stage 1, 800 g\n\nplant=SH, line=001")
                .expect("values");
        assert_eq!(v.get("lot").map(String::as_str), Some("L1"));
        assert_eq!(
            v.get("product_name_en").map(String::as_str),
            Some("Infant formula stage 1, 800 g")
        );
        assert_eq!(v.get("line").map(String::as_str), Some("001"));
        assert_eq!(pairs("just text").expect_err("refused"), "just text");
        assert!(pairs("").expect("empty").is_empty());
    }
}
