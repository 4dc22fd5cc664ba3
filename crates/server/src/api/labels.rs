//! Label templates, barcodes and print jobs over HTTP, and the print job itself (the CLI's `suyuan labels
//! print` runs the same [`run_job`]): issue codes by rule, fill a template per code, render PDF or ZPL, and
//! optionally send ZPL to a port-9100 printer. Large jobs report progress.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use suyuan_core::coding::{Context, RuleDef, Target};
use suyuan_engine::Engine;
use suyuan_engine::codes::{Code, IssueRequest};
use suyuan_labels::{Format, LabelError, LabelTemplate, PageLayout, Symbology, Vars};
use suyuan_store::kinds;

use crate::AppState;
use crate::api::events::json_body;
use crate::error::{ApiError, Located};

/// Most labels one job may print.
pub const MAX_LABELS: u64 = 100_000;
/// Codes issued (and labels laid out) per step of a job.
const STEP: u64 = 2_000;

fn label_error(pointer_base: &str, e: LabelError) -> ApiError {
    match e {
        LabelError::Template { field, msg } if field.is_empty() => {
            ApiError::invalid(pointer_base, msg)
        }
        LabelError::Template { field, msg } => {
            ApiError::invalid(&format!("{pointer_base}/{field}"), msg)
        }
        LabelError::Content { .. } => ApiError::invalid(pointer_base, e.to_string()),
        LabelError::Render(m) => ApiError::Refused(format!("rendering failed: {m}")),
        LabelError::Printer(m) => ApiError::Refused(format!("printer {m}")),
    }
}

/// A print job as submitted.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobRequest {
    /// Label template name.
    pub template: String,
    /// Template version (latest when absent).
    #[serde(default)]
    pub template_version: Option<u32>,
    /// Coding rule that issues the codes.
    pub rule: String,
    /// How many labels (= codes).
    pub count: u64,
    /// Context for the rule's tokens (plant, line, gtin, …).
    #[serde(default)]
    pub context: Context,
    /// Where the codes are commissioned.
    #[serde(default)]
    pub location: Option<String>,
    /// Extra values for the template (`product_name`, `lot`, …).
    #[serde(default)]
    pub vars: Vars,
    /// `pdf` or `zpl`.
    pub format: Format,
    /// `roll` (one label a page, default) or `a4` (as many as fit on A4 sheets); PDF only.
    #[serde(default)]
    pub layout: Option<String>,
    /// `host:port` of a raw (port 9100) printer to send ZPL to.
    #[serde(default)]
    pub printer: Option<String>,
}

/// What a finished job produced.
#[derive(Debug, Clone)]
pub struct JobOutput {
    /// The file.
    pub bytes: Arc<Vec<u8>>,
    /// Its format.
    pub format: Format,
    /// First and last code issued.
    pub first_code: String,
    /// Last code issued.
    pub last_code: String,
    /// Labels in the file.
    pub labels: u64,
}

/// The values a template can use for one issued code: `code`, `uri`, `dl`, `element_string`, `gtin`,
/// `serial`, `lot`, `date`, the context's `plant`/`line`/`product`/`category`/`shift`, and every extra value.
pub fn code_vars(c: &Code, def: &RuleDef, ctx: &Context, extra: &Vars, date: &str) -> Vars {
    let mut v = extra.clone();
    let mut put = |k: &str, val: &str| {
        v.insert(k.to_string(), val.to_string());
    };
    put("code", &c.code);
    put("uri", &c.uri);
    put("date", date);
    // The GTIN a label shows is the code's own (below), not the issuing context's.
    for (k, val) in ctx.values().filter(|(k, _)| *k != "gtin") {
        put(k, val);
    }
    match suyuan_core::id::dl::parse_digital_link(&c.uri) {
        Ok(link) if def.target != Target::Internal => {
            let mut data = link.data;
            if let Some(g) = data.get("01") {
                put("gtin", g);
            }
            if let Some(s) = data.get("21") {
                put("serial", s);
            }
            let lot = data
                .get("10")
                .map(str::to_string)
                .or_else(|| extra.get("lot").cloned());
            if let Some(l) = &lot {
                put("lot", l);
                // A serial's label names its lot too: /01/…/10/{lot}/21/{serial}.
                if data.get("10").is_none() && data.get("21").is_some() {
                    let mut with_lot = suyuan_core::id::AiData::default();
                    let ok = data
                        .pairs
                        .iter()
                        .filter(|(ai, _)| ai == "01")
                        .chain(std::iter::once(&("10".to_string(), l.clone())))
                        .chain(data.pairs.iter().filter(|(ai, _)| ai != "01"))
                        .all(|(ai, val)| with_lot.push(ai, val).is_ok());
                    if ok {
                        data = with_lot;
                    }
                }
            }
            let dl =
                suyuan_core::id::dl::to_digital_link(&data, suyuan_core::gs1::CANONICAL_DL_DOMAIN)
                    .unwrap_or_else(|_| c.uri.clone());
            put("dl", &dl);
            put("element_string", &data.to_bracketed());
        }
        _ => {
            put("dl", &c.uri);
            put("serial", &c.code);
        }
    }
    v
}

/// Today's date where the rule's plant is.
fn today(def: &RuleDef) -> String {
    let offset = suyuan_core::time::parse_offset(&def.utc_offset)
        .unwrap_or_else(|| chrono::FixedOffset::east_opt(0).expect("zero offset is valid"));
    chrono::Utc::now()
        .with_timezone(&offset)
        .format("%Y-%m-%d")
        .to_string()
}

async fn load_template(
    engine: &Engine,
    name: &str,
    version: Option<u32>,
) -> Result<(LabelTemplate, u32), ApiError> {
    let stored = engine
        .reader()
        .definition(kinds::LABEL_TEMPLATE, name, version)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no label template named {name}")))?;
    let t =
        LabelTemplate::from_json(&stored.definition).map_err(|e| label_error("/template", e))?;
    Ok((t, stored.version))
}

fn layout_of(req: &JobRequest, t: &LabelTemplate) -> Result<PageLayout, ApiError> {
    match req.layout.as_deref() {
        None | Some("roll") => Ok(PageLayout::Roll),
        Some("a4") => Ok(PageLayout::a4_for(t.width_mm, t.height_mm)),
        Some(other) => Err(ApiError::invalid(
            "/layout",
            format!("expected roll or a4, got {other}"),
        )),
    }
}

/// A job that passed its checks: the template, page layout, rule and date it will print with.
pub struct Prepared {
    template: LabelTemplate,
    version: u32,
    layout: PageLayout,
    def: RuleDef,
    date: String,
}

/// Checks a job without issuing anything: count, format, printer, template, layout, and a dry-run label with
/// a code of the rule's shape (which catches missing values and contents a symbology refuses).
pub async fn prepare(engine: &Engine, req: &JobRequest) -> Result<Prepared, ApiError> {
    if !(1..=MAX_LABELS).contains(&req.count) {
        return Err(ApiError::invalid(
            "/count",
            format!("1 to {MAX_LABELS} labels per job, got {}", req.count),
        ));
    }
    if !matches!(req.format, Format::Pdf | Format::Zpl) {
        return Err(ApiError::invalid("/format", "a print job makes pdf or zpl"));
    }
    if req.printer.is_some() && req.format != Format::Zpl {
        return Err(ApiError::invalid(
            "/printer",
            "printers take zpl: set format to zpl",
        ));
    }
    let (template, version) = load_template(engine, &req.template, req.template_version).await?;
    let layout = layout_of(req, &template)?;
    let (def, probe) = engine.preview_codes(&req.rule, &req.context, 1).await?;
    let date = today(&def);
    if let Some(p) = probe.first() {
        template
            .layout(&code_vars(p, &def, &req.context, &req.vars, &date))
            .map_err(|e| label_error("/template", e))?;
    }
    Ok(Prepared {
        template,
        version,
        layout,
        def,
        date,
    })
}

/// Runs a print job: checks everything first (nothing is issued for a job that cannot print), then issues
/// the codes in steps, lays out each label, renders the file and sends it to the printer if one is named.
pub async fn run_job(
    engine: &Engine,
    req: &JobRequest,
    progress: &(dyn Fn(u64, u64) + Send + Sync),
) -> Result<JobOutput, ApiError> {
    let prepared = prepare(engine, req).await?;
    run_prepared(engine, req, prepared, progress).await
}

/// Runs a job [`prepare`] accepted.
async fn run_prepared(
    engine: &Engine,
    req: &JobRequest,
    prepared: Prepared,
    progress: &(dyn Fn(u64, u64) + Send + Sync),
) -> Result<JobOutput, ApiError> {
    let Prepared {
        template,
        version,
        layout,
        def,
        date,
    } = prepared;
    // What every label of the job shares, recorded on the codes' commissioning with the lot.
    let mut shared: std::collections::BTreeMap<String, String> = req
        .vars
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    shared.insert("date".into(), date.clone());
    for (k, v) in req.context.values().filter(|(k, _)| *k != "gtin") {
        shared.insert(k.into(), v.into());
    }
    let label = suyuan_engine::codes::LabelRecord {
        template: req.template.clone(),
        version,
        vars: shared,
    };
    let template = Arc::new(template);
    let mut shapes = Vec::with_capacity(req.count as usize);
    let (mut first_code, mut last_code) = (String::new(), String::new());
    let mut done = 0;
    progress(0, req.count);
    while done < req.count {
        let n = STEP.min(req.count - done);
        let batch = engine
            .issue_codes(&IssueRequest {
                rule: req.rule.clone(),
                count: n,
                context: req.context.clone(),
                location: req.location.clone(),
                at: None,
                lot: req.vars.get("lot").cloned(),
                label: Some(label.clone()),
            })
            .await?;
        if first_code.is_empty() {
            first_code = batch
                .codes
                .first()
                .map(|c| c.code.clone())
                .unwrap_or_default();
        }
        last_code = batch
            .codes
            .last()
            .map(|c| c.code.clone())
            .unwrap_or_default();
        let (t, def, ctx, extra, date) = (
            template.clone(),
            def.clone(),
            req.context.clone(),
            req.vars.clone(),
            date.clone(),
        );
        let laid = tokio::task::spawn_blocking(move || {
            let values: Vec<Vars> = batch
                .codes
                .iter()
                .map(|c| code_vars(c, &def, &ctx, &extra, &date))
                .collect();
            suyuan_labels::layout_all(&t, &values)
        })
        .await
        .map_err(|e| ApiError::Unavailable(format!("layout task failed: {e}")))?
        .map_err(|e| label_error("/template", e))?;
        shapes.extend(laid);
        done += n;
        progress(done, req.count);
    }
    let (format, t) = (req.format, template.clone());
    let bytes = tokio::task::spawn_blocking(move || match format {
        Format::Pdf => suyuan_labels::pdf::render(&shapes, t.width_mm, t.height_mm, layout),
        _ => suyuan_labels::zpl::render(&shapes, t.width_mm, t.height_mm, t.dpi)
            .map(String::into_bytes),
    })
    .await
    .map_err(|e| ApiError::Unavailable(format!("render task failed: {e}")))?
    .map_err(|e| label_error("/template", e))?;
    let bytes = Arc::new(bytes);
    if let Some(p) = &req.printer {
        let (addr, data) = (p.clone(), bytes.clone());
        tokio::task::spawn_blocking(move || {
            suyuan_labels::print::send_raw(&addr, &data, std::time::Duration::from_secs(30))
        })
        .await
        .map_err(|e| ApiError::Unavailable(format!("print task failed: {e}")))?
        .map_err(|e| label_error("/printer", e))?;
    }
    metrics::counter!("suyuan_labels_printed_total", "format" => format.extension())
        .increment(req.count);
    Ok(JobOutput {
        bytes,
        format,
        first_code,
        last_code,
        labels: req.count,
    })
}

/// A job's state as `GET /api/v1/label-jobs/{id}` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct JobState {
    /// Job id.
    pub id: u64,
    /// `running`, `done` or `failed`.
    pub status: &'static str,
    /// Labels laid out so far.
    pub done: u64,
    /// Labels asked for.
    pub total: u64,
    /// Why it failed.
    pub error: Option<Value>,
    /// First code issued.
    #[serde(rename = "firstCode")]
    pub first_code: Option<String>,
    /// Last code issued.
    #[serde(rename = "lastCode")]
    pub last_code: Option<String>,
    /// Where to fetch the file when done.
    pub output: Option<String>,
    /// The printer it was sent to.
    pub printer: Option<String>,
    #[serde(skip)]
    file: Option<(Arc<Vec<u8>>, Format)>,
}

/// The print jobs of this process (kept in memory; the last [`KEEP`] finished files stay downloadable).
#[derive(Debug, Default)]
pub struct Jobs {
    next: AtomicU64,
    map: Mutex<HashMap<u64, JobState>>,
}

/// Finished job files kept for download.
pub const KEEP: usize = 20;

impl Jobs {
    fn update(&self, id: u64, f: impl FnOnce(&mut JobState)) {
        if let Ok(mut m) = self.map.lock()
            && let Some(j) = m.get_mut(&id)
        {
            f(j);
        }
    }

    fn get(&self, id: u64) -> Option<JobState> {
        self.map.lock().ok()?.get(&id).cloned()
    }

    fn start(&self, total: u64, printer: Option<String>) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        if let Ok(mut m) = self.map.lock() {
            // Forget the oldest finished files beyond KEEP.
            let mut finished: Vec<u64> = m
                .values()
                .filter(|j| j.file.is_some())
                .map(|j| j.id)
                .collect();
            finished.sort_unstable();
            for old in finished
                .iter()
                .take(finished.len().saturating_sub(KEEP - 1))
            {
                if let Some(j) = m.get_mut(old) {
                    j.file = None;
                    j.output = None;
                }
            }
            m.insert(
                id,
                JobState {
                    id,
                    status: "running",
                    done: 0,
                    total,
                    error: None,
                    first_code: None,
                    last_code: None,
                    output: None,
                    printer,
                    file: None,
                },
            );
        }
        id
    }
}

/// Checks a job (template, layout, a dry-run label), starts it in the background and answers its id.
pub async fn start(st: &AppState, req: JobRequest) -> Result<u64, ApiError> {
    // Check before answering, so a bad request changes nothing and says why now.
    let prepared = prepare(&st.engine, &req).await?;
    let jobs = st.jobs.clone();
    let id = jobs.start(req.count, req.printer.clone());
    let engine = st.engine.clone();
    tokio::spawn(async move {
        let progress_jobs = jobs.clone();
        let progress = move |done: u64, _total: u64| progress_jobs.update(id, |j| j.done = done);
        let result = run_prepared(&engine, &req, prepared, &progress).await;
        jobs.update(id, |j| match result {
            Ok(out) => {
                j.status = "done";
                j.done = out.labels;
                j.first_code = Some(out.first_code);
                j.last_code = Some(out.last_code);
                j.output = Some(format!("/api/v1/label-jobs/{id}/output"));
                j.file = Some((out.bytes, out.format));
            }
            Err(e) => {
                j.status = "failed";
                j.error = Some(json!({"code": e.code(), "detail": e.to_string()}));
            }
        });
    });
    Ok(id)
}

/// The state of a job of this process.
pub fn job_state(st: &AppState, id: u64) -> Option<JobState> {
    st.jobs.get(id)
}

/// `POST /api/v1/label-jobs`: checks the job, starts it and answers `202` with its id and `Location`.
pub async fn start_job(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let v = json_body(&headers, &body)?;
    let req: JobRequest =
        serde_json::from_value(v).map_err(|e| ApiError::invalid("", e.to_string()))?;
    let id = start(&st, req).await?;
    let mut resp = (StatusCode::ACCEPTED, Json(st.jobs.get(id))).into_response();
    if let Ok(loc) = HeaderValue::from_str(&format!("/api/v1/label-jobs/{id}")) {
        resp.headers_mut().insert(header::LOCATION, loc);
    }
    Ok(resp)
}

/// `GET /api/v1/label-jobs/{id}`: status and progress.
pub async fn job(
    State(st): State<AppState>,
    Path(id): Path<u64>,
) -> Result<Json<JobState>, ApiError> {
    st.jobs
        .get(id)
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no label job {id}")))
}

/// `GET /api/v1/label-jobs/{id}/output`: the finished file.
pub async fn job_output(
    State(st): State<AppState>,
    Path(id): Path<u64>,
) -> Result<Response, ApiError> {
    let j = st
        .jobs
        .get(id)
        .ok_or_else(|| ApiError::NotFound(format!("no label job {id}")))?;
    let (bytes, format) = j.file.ok_or_else(|| match j.status {
        "running" => ApiError::Refused(format!(
            "label job {id} is still running ({}/{})",
            j.done, j.total
        )),
        "failed" => ApiError::Refused(format!("label job {id} failed")),
        _ => ApiError::NotFound(format!("the file of label job {id} is no longer kept")),
    })?;
    file_response(bytes.to_vec(), format, &format!("labels-{id}"))
}

fn file_response(bytes: Vec<u8>, format: Format, stem: &str) -> Result<Response, ApiError> {
    let mut resp = Response::new(Body::from(bytes));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.media_type()),
    );
    if matches!(format, Format::Pdf | Format::Zpl)
        && let Ok(v) = HeaderValue::from_str(&format!(
            "attachment; filename=\"{stem}.{}\"",
            format.extension()
        ))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// `GET /api/v1/label-templates`: latest version of every template.
pub async fn list_templates(State(st): State<AppState>) -> Result<Json<Value>, ApiError> {
    let all = st
        .engine
        .reader()
        .definitions(kinds::LABEL_TEMPLATE)
        .await?;
    Ok(Json(json!({"templates": all})))
}

/// `POST /api/v1/label-templates` `{name, definition}`: checks and stores the next version.
pub async fn save_template(
    State(st): State<AppState>,
    axum::Extension(me): axum::Extension<suyuan_engine::accounts::Principal>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let v = json_body(&headers, &body)?;
    if let Some(k) = v.as_object().and_then(|o| {
        o.keys()
            .find(|k| !matches!(k.as_str(), "name" | "definition"))
    }) {
        return Err(ApiError::invalid(
            &format!("/{k}"),
            "unknown field: expected name and definition",
        ));
    }
    let name = v
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| {
            !n.is_empty()
                && n.len() <= 60
                && n.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .ok_or_else(|| ApiError::invalid("/name", "required: 1 to 60 letters, digits, - or _"))?;
    let def = v.get("definition").ok_or_else(|| {
        ApiError::invalid(
            "/definition",
            "required: {width_mm, height_mm, dpi, fields}",
        )
    })?;
    let t = LabelTemplate::from_json(def).map_err(|e| label_error("/definition", e))?;
    // The sample values must fill it, so that previews work from the start.
    let mut sample = suyuan_labels::sample_vars();
    for var in t.variables() {
        sample.entry(var).or_insert_with(|| "X".into());
    }
    t.layout(&sample)
        .map_err(|e| label_error("/definition", e))?;
    let store = st.engine.reader();
    let before = store
        .definition(kinds::LABEL_TEMPLATE, name, None)
        .await?
        .map(|d| d.version);
    let saved = st
        .engine
        .save_definition(&me.user, kinds::LABEL_TEMPLATE, name, def)
        .await?;
    let status = if before == Some(saved.version) {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(saved)).into_response())
}

/// `GET /api/v1/label-templates/{name}`: latest version and all versions.
pub async fn get_template(
    State(st): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let versions = st
        .engine
        .reader()
        .definition_versions(kinds::LABEL_TEMPLATE, &name)
        .await?;
    let latest = versions
        .last()
        .ok_or_else(|| ApiError::NotFound(format!("no label template named {name}")))?;
    let vars = LabelTemplate::from_json(&latest.definition)
        .map(|t| t.variables())
        .unwrap_or_default();
    Ok(Json(
        json!({"name": name, "version": latest.version, "definition": latest.definition,
        "variables": vars, "versions": versions}),
    ))
}

fn query_format(q: &HashMap<String, String>, default: Format) -> Result<Format, ApiError> {
    match q.get("format") {
        None => Ok(default),
        Some(f) => Format::from_name(f).ok_or_else(|| {
            ApiError::bad_param("format", format!("expected png, svg, pdf or zpl, got {f}"))
        }),
    }
}

/// `GET /api/v1/label-templates/{name}/preview?format=png|svg|pdf|zpl&version=&var.NAME=VALUE&rule=&context.FIELD=`:
/// the template filled with sample values (overridden by `var.*` parameters); with `rule` (and the job's
/// `context.*` values) exactly as a print job would fill it, with the first code of the rule's shape.
pub async fn preview(
    State(st): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let format = query_format(&q, Format::Png)?;
    let version = match q.get("version") {
        Some(v) => Some(v.parse::<u32>().map_err(|_| {
            ApiError::bad_param("version", format!("expected a version number, got {v}"))
        })?),
        None => None,
    };
    if let Some(k) = q.keys().find(|k| {
        !matches!(k.as_str(), "format" | "version" | "rule")
            && !k.starts_with("var.")
            && !k
                .strip_prefix("context.")
                .is_some_and(|f| Context::KEYS.contains(&f))
    }) {
        return Err(ApiError::bad_param(
            k,
            "unknown parameter; expected format, version, rule, var.NAME, context.plant|line|product|category|shift|gtin",
        ));
    }
    let (t, _) = load_template(&st.engine, &name, version).await?;
    let extra: Vars = q
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("var.")
                .filter(|_| !v.is_empty())
                .map(|n| (n.to_string(), v.clone()))
        })
        .collect();
    let vars = match q.get("rule").filter(|r| !r.is_empty()) {
        // What the print job will print: the rule's first code for this context, the job's values.
        Some(rule) => {
            let ctx = Context::from_lookup(|f| q.get(&format!("context.{f}")).cloned());
            let (def, codes) = st
                .engine
                .preview_codes(rule, &ctx, 1)
                .await
                .map_err(preview_error)?;
            let code = codes
                .first()
                .ok_or_else(|| ApiError::invalid("/rule", "the rule gave no code"))?;
            code_vars(code, &def, &ctx, &extra, &today(&def))
        }
        None => {
            let mut vars = suyuan_labels::sample_vars();
            for var in t.variables() {
                vars.entry(var).or_insert_with(|| "X".into());
            }
            vars.extend(extra);
            vars
        }
    };
    let bytes = tokio::task::spawn_blocking(move || {
        suyuan_labels::render(&t, &[vars], format, PageLayout::Roll)
    })
    .await
    .map_err(|e| ApiError::Unavailable(format!("render task failed: {e}")))?
    .map_err(|e| label_error("/template", e))?;
    file_response(bytes, format, &format!("{name}-preview"))
}

/// A preview's rule error, named by its query parameter (`rule`, `context.plant`, …).
fn preview_error(e: suyuan_engine::codes::CodeError) -> ApiError {
    use suyuan_engine::codes::CodeError;
    match e {
        CodeError::Coding(suyuan_core::coding::CodingError::Context { field, msg }) => {
            ApiError::bad_param(&format!("context.{field}"), msg)
        }
        CodeError::UnknownRule(r) => {
            ApiError::bad_param("rule", format!("no coding rule named {r}"))
        }
        other => other.into(),
    }
}

/// `GET /api/v1/barcodes?symbology=qr&content=…&format=svg|png`: one symbol with its quiet zone.
pub async fn barcode(Query(q): Query<HashMap<String, String>>) -> Result<Response, ApiError> {
    let param = |p: &str, detail: String| {
        ApiError::BadQuery(vec![Located {
            pointer: None,
            parameter: Some(p.into()),
            detail,
        }])
    };
    let sym = q.get("symbology").map(String::as_str).unwrap_or("qr");
    let symbology = Symbology::from_name(sym).ok_or_else(|| {
        param(
            "symbology",
            format!(
                "expected one of {}, got {sym}",
                Symbology::ALL.map(Symbology::name).join(", ")
            ),
        )
    })?;
    let content = q
        .get("content")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| param("content", "required: what the symbol carries".into()))?;
    let format = query_format(&q, Format::Svg)?;
    let (w, h) = if symbology.is_2d() {
        (30.0, 30.0)
    } else {
        (60.0, 25.0)
    };
    let field = if symbology.is_2d() {
        json!({"type": "barcode", "x": 0, "y": 0, "symbology": symbology, "content": "{content}", "size": w})
    } else {
        json!({"type": "barcode", "x": 0, "y": 0, "symbology": symbology, "content": "{content}", "width": w, "height": h})
    };
    let t = LabelTemplate::from_json(
        &json!({"width_mm": w, "height_mm": h, "dpi": 300, "fields": [field]}),
    )
    .map_err(|e| label_error("", e))?;
    let vars: Vars = [("content".to_string(), content.clone())].into();
    let bytes =
        suyuan_labels::render(&t, &[vars], format, PageLayout::Roll).map_err(|e| match e {
            LabelError::Template { msg, .. } => param("content", msg),
            other => label_error("", other),
        })?;
    file_response(bytes, format, "barcode")
}

/// The routes of this module, each with the permission it needs.
pub(crate) fn routes() -> Vec<crate::routes::Route> {
    use crate::routes;
    use suyuan_core::access::Permission as P;
    vec![
        routes::get("/api/v1/label-templates", P::LabelsRead, list_templates),
        routes::post("/api/v1/label-templates", P::LabelsWrite, save_template),
        routes::get(
            "/api/v1/label-templates/{name}",
            P::LabelsRead,
            get_template,
        ),
        routes::get(
            "/api/v1/label-templates/{name}/preview",
            P::LabelsRead,
            preview,
        ),
        routes::post("/api/v1/label-jobs", P::LabelsWrite, start_job),
        routes::get("/api/v1/label-jobs/{id}", P::LabelsRead, job),
        routes::get("/api/v1/label-jobs/{id}/output", P::LabelsRead, job_output),
        routes::get("/api/v1/barcodes", P::LabelsRead, barcode),
    ]
}
