//! `POST /epcis/capture` and `POST /epcis/events` over the engine's submit pipeline, and the capture jobs they leave.

#[allow(unused_imports)]
use super::*;

/// The outcome of one capture.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CaptureJob {
    /// Job id (the last segment of its `Location`).
    #[serde(rename = "captureID")]
    pub capture_id: String,
    /// When it was received.
    #[serde(rename = "createdAt")]
    pub created_at: String,
    /// When it finished.
    #[serde(rename = "finishedAt")]
    pub finished_at: String,
    /// Whether it is still running (captures here finish before the answer).
    pub running: bool,
    /// Whether every event was captured.
    pub success: bool,
    /// `rollback` or `proceed`.
    #[serde(rename = "captureErrorBehaviour")]
    pub capture_error_behaviour: String,
    /// Events stored, and events that were already stored.
    pub stored: usize,
    /// Events already stored before (idempotent repeats).
    pub duplicates: usize,
    /// Master data vocabulary elements stored from the header.
    #[serde(rename = "masterDataElements")]
    pub master_data: usize,
    /// Every problem, located by JSON pointer.
    pub errors: Vec<Value>,
    /// What the capturer should know about stored events (unknown own codes, newer vocabulary terms).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Value>,
}

/// The capture jobs of this process (newest kept).
#[derive(Debug, Default)]
pub struct CaptureJobs {
    pub(super) jobs: Mutex<BTreeMap<u64, CaptureJob>>,
    pub(super) next: std::sync::atomic::AtomicU64,
}

impl CaptureJobs {
    pub(super) fn add(&self, mut job: CaptureJob) -> CaptureJob {
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        job.capture_id = id.to_string();
        if let Ok(mut m) = self.jobs.lock() {
            m.insert(id, job.clone());
            while m.len() > JOBS_KEPT {
                m.pop_first();
            }
        }
        job
    }
}

/// `POST /epcis/capture`: an EPCIS document; `202` with the capture job's `Location` (the capture has
/// finished by then). `GS1-Capture-Error-Behaviour: rollback` (default) stores all or nothing, `proceed`
/// stores every valid event and lists the others.
pub async fn capture(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, EpcisError> {
    let created_at = now();
    let behaviour = match headers
        .get("gs1-capture-error-behaviour")
        .and_then(|v| v.to_str().ok())
    {
        None | Some("rollback") => "rollback",
        Some("proceed") => "proceed",
        Some(other) => {
            return Err(EpcisError::new(
                "ValidationException",
                StatusCode::BAD_REQUEST,
                format!(
                    "GS1-Capture-Error-Behaviour: expected rollback or proceed, got \"{other}\""
                ),
            ));
        }
    };
    let submission = Submission {
        input: crate::api::events::submission_input(&headers, &body)?,
        behaviour: if behaviour == "proceed" {
            Behaviour::Proceed
        } else {
            Behaviour::Rollback
        },
        shape: Shape::Document,
        limit: CAPTURE_LIMIT,
        assume_context: false,
    };
    let mut job = CaptureJob {
        capture_id: String::new(),
        created_at,
        finished_at: String::new(),
        running: false,
        success: true,
        capture_error_behaviour: behaviour.into(),
        stored: 0,
        duplicates: 0,
        master_data: 0,
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    let error = |pointer: &str, detail: &str| json!({"pointer": pointer, "detail": detail});
    match st.engine.submit(&me, submission).await {
        Ok(out) => {
            job.success = out.errors.is_empty();
            job.stored = out.stored;
            job.duplicates = out.duplicates;
            job.master_data = out.master_data;
            job.errors = out
                .errors
                .iter()
                .map(|f| error(&f.pointer, &f.message))
                .collect();
            job.warnings = out
                .warnings
                .iter()
                .map(|w| json!({"pointer": w.pointer, "code": w.code, "detail": w.detail}))
                .collect();
        }
        Err(CaptureError::Invalid(v)) => {
            job.success = false;
            job.errors = v.0.iter().map(|f| error(&f.pointer, &f.message)).collect();
        }
        // An eventID reused for other content is the document's fault.
        Err(CaptureError::Conflict { pointer, error: c }) => {
            job.success = false;
            job.errors.push(error(&pointer, &c.to_string()));
        }
        Err(CaptureError::TooLarge { count, limit }) => {
            return Err(EpcisError::new(
                "CaptureLimitExceededException",
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the document holds {count} events; at most {limit} are accepted in one capture"
                ),
            ));
        }
        // The store failed: nothing of this capture was stored; a 5xx without internal text, logged.
        Err(e) => return Err(ApiError::from(e).into()),
    }
    job.finished_at = now();
    let job = st.epcis_jobs.add(job);
    let location = format!("/epcis/capture/{}", job.capture_id);
    // Anything stored makes it a finished (partial) capture, never a rejection.
    let status = if job.success || behaviour == "proceed" || job.stored + job.duplicates > 0 {
        StatusCode::ACCEPTED
    } else {
        // Nothing was stored: say why at once (the job keeps the same errors).
        StatusCode::BAD_REQUEST
    };
    let mut resp = if status == StatusCode::ACCEPTED {
        (status, Json(json!(job))).into_response()
    } else {
        let mut e = EpcisError::new(
            "ValidationException",
            status,
            format!(
                "the document was rejected, nothing was stored: {}",
                job.errors
                    .iter()
                    .take(5)
                    .map(|e| format!(
                        "{}: {}",
                        e["pointer"].as_str().unwrap_or(""),
                        e["detail"].as_str().unwrap_or("")
                    ))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        );
        e.errors = job
            .errors
            .iter()
            .map(|x| Located {
                pointer: x["pointer"].as_str().map(str::to_string),
                parameter: None,
                detail: x["detail"].as_str().unwrap_or("").to_string(),
            })
            .collect();
        e.into_response()
    };
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(with_epcis_headers(resp))
}

/// `GET /epcis/capture`: the capture jobs this server remembers, newest first.
pub async fn capture_jobs(State(st): State<AppState>) -> Response {
    let jobs: Vec<CaptureJob> = st
        .epcis_jobs
        .jobs
        .lock()
        .map(|m| m.values().rev().cloned().collect())
        .unwrap_or_default();
    ok(json!(jobs))
}

/// `GET /epcis/capture/{captureID}`.
pub async fn capture_job(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, EpcisError> {
    let job = id.parse::<u64>().ok().and_then(|n| {
        st.epcis_jobs
            .jobs
            .lock()
            .ok()
            .and_then(|m| m.get(&n).cloned())
    });
    job.map(|j| ok(json!(j))).ok_or_else(|| {
        EpcisError::new(
            "NoSuchResourceException",
            StatusCode::NOT_FOUND,
            format!("no capture job {id} (this server keeps the last {JOBS_KEPT})"),
        )
    })
}

/// `POST /epcis/events`: one event; `201` with its `Location`.
pub async fn capture_event(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, EpcisError> {
    let submission = Submission {
        input: crate::api::events::submission_input(&headers, &body)?,
        behaviour: Behaviour::Rollback,
        shape: Shape::Event,
        limit: 1,
        assume_context: false,
    };
    let out = st
        .engine
        .submit(&me, submission)
        .await
        .map_err(ApiError::from)?;
    let id = out
        .events
        .first()
        .map(|a| a.event_id.clone())
        .unwrap_or_default();
    let status = if out.stored > 0 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut resp = (status, Json(json!(out))).into_response();
    let loc = format!(
        "/epcis/events/{}",
        percent_encoding::utf8_percent_encode(&id, percent_encoding::NON_ALPHANUMERIC)
    );
    if let Ok(h) = HeaderValue::from_str(&loc) {
        resp.headers_mut().insert(header::LOCATION, h);
    }
    Ok(with_epcis_headers(resp))
}
