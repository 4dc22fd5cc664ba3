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
use crate::web::i18n::Lang;
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

/// Parses `key=value` lines (or `,`-separated pairs).
fn pairs(text: &str) -> Result<Vars, String> {
    let mut out = Vars::new();
    for part in text
        .split(['\n', ','])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| format!("expected key=value, got '{part}'"))?;
        out.insert(k.trim().to_string(), v.trim().to_string());
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
    let request = (|| -> Result<JobRequest, String> {
        let count = get("count")
            .unwrap_or_default()
            .parse::<u64>()
            .map_err(|_| "count: a whole number of labels".to_string())?;
        let format = get("format")
            .and_then(|s| Format::from_name(&s))
            .ok_or("format: pdf or zpl")?;
        Ok(JobRequest {
            template: get("template").ok_or("template: choose a label template")?,
            template_version: None,
            rule: get("rule").ok_or("rule: choose a coding rule")?,
            count,
            context: Context::from_lookup(get),
            location: get("location"),
            vars: pairs(&get("vars").unwrap_or_default()).map_err(|e| format!("vars: {e}"))?,
            format,
            layout: get("layout"),
            printer: get("printer"),
        })
    })();
    match request {
        Err(e) => partial(lang, &uri, &me, None, Some(e)),
        Ok(req) => match start(&st, req).await {
            Ok(id) => partial(lang, &uri, &me, job_state(&st, id), None),
            Err(e) => partial(lang, &uri, &me, None, Some(e.to_string())),
        },
    }
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
