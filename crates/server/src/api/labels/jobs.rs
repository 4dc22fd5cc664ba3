//! Print jobs: a job request checked and prepared (codes issued, variables filled, template laid out), run in the background with progress, and the jobs this server keeps.

#[allow(unused_imports)]
use super::*;

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
pub(super) fn today(def: &RuleDef) -> String {
    let offset = suyuan_core::time::parse_offset(&def.utc_offset)
        .unwrap_or_else(|| chrono::FixedOffset::east_opt(0).expect("zero offset is valid"));
    chrono::Utc::now()
        .with_timezone(&offset)
        .format("%Y-%m-%d")
        .to_string()
}

pub(super) async fn load_template(
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

pub(super) fn layout_of(req: &JobRequest, t: &LabelTemplate) -> Result<PageLayout, ApiError> {
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
    pub(super) template: LabelTemplate,
    pub(super) version: u32,
    pub(super) layout: PageLayout,
    pub(super) def: RuleDef,
    pub(super) date: String,
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
        let vars = code_vars(p, &def, &req.context, &req.vars, &date);
        let missing = missing_vars(&template, &vars);
        if !missing.is_empty() {
            // One located error per variable: `/vars/lot` — the form names them in the reader's language.
            return Err(ApiError::Validation(suyuan_core::ValidationErrors(
                missing
                    .iter()
                    .map(|m| suyuan_core::FieldError {
                        pointer: format!("/vars/{m}"),
                        message: format!(
                            "template {} uses {{{m}}}: give it as a label variable ({m}=…)",
                            req.template
                        ),
                    })
                    .collect(),
            )));
        }
        template
            .layout(&vars)
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

/// The variables a template uses that `vars` (one code's values, [`code_vars`]) does not fill, in the order
/// the template names them: what the person printing must still give.
pub fn missing_vars(template: &suyuan_labels::LabelTemplate, vars: &Vars) -> Vec<String> {
    template
        .variables()
        .into_iter()
        .filter(|v| !vars.contains_key(v))
        .collect()
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
pub(super) async fn run_prepared(
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
    pub(super) file: Option<(Arc<Vec<u8>>, Format)>,
}

/// The print jobs of this process (kept in memory; the last [`KEEP`] finished files stay downloadable).
#[derive(Debug, Default)]
pub struct Jobs {
    pub(super) next: AtomicU64,
    pub(super) map: Mutex<HashMap<u64, JobState>>,
}

/// Finished job files kept for download.
pub const KEEP: usize = 20;

impl Jobs {
    pub(super) fn update(&self, id: u64, f: impl FnOnce(&mut JobState)) {
        if let Ok(mut m) = self.map.lock()
            && let Some(j) = m.get_mut(&id)
        {
            f(j);
        }
    }

    pub(super) fn get(&self, id: u64) -> Option<JobState> {
        self.map.lock().ok()?.get(&id).cloned()
    }

    pub(super) fn start(&self, total: u64, printer: Option<String>) -> u64 {
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
