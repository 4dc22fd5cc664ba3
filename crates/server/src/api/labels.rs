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

mod jobs;

pub use jobs::*;

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
    let name = v.get("name").and_then(Value::as_str).unwrap_or_default();
    let def = v.get("definition").ok_or_else(|| {
        ApiError::invalid(
            "/definition",
            "required: {width_mm, height_mm, dpi, fields}",
        )
    })?;
    check_template(name, def)?;
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

/// Checks a template before it is saved: its name (1 to 60 letters, digits, `-` or `_`), its definition, and
/// that the sample values fill it (so that previews work from the start).
pub fn check_template(name: &str, def: &Value) -> Result<(), ApiError> {
    if name.is_empty()
        || name.len() > 60
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(ApiError::invalid(
            "/name",
            "required: 1 to 60 letters, digits, - or _",
        ));
    }
    let t = LabelTemplate::from_json(def).map_err(|e| label_error("/definition", e))?;
    let mut sample = suyuan_labels::sample_vars();
    for var in t.variables() {
        sample.entry(var).or_insert_with(|| "X".into());
    }
    t.layout(&sample)
        .map_err(|e| label_error("/definition", e))?;
    Ok(())
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
