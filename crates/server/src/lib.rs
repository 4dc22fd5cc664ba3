//! Suyuan's HTTP surface: [`app`] builds the router (native API, health, metrics, web UI) over an
//! [`AppState`]; [`serve`] runs it on a listener until a shutdown signal.

pub mod access;
pub mod api;
pub mod auth;
pub mod epcis;
pub mod error;
pub mod limits;
pub mod mqtt;
pub mod public;
pub mod routes;
pub mod web;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::{Arc, OnceLock};
use std::time::Instant;
use suyuan_engine::Engine;

/// Largest request body accepted (an EPCIS document of 10,000 events fits).
pub const BODY_LIMIT: usize = 64 * 1024 * 1024;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The write path and, through it, the store.
    pub engine: Engine,
    /// Renders the Prometheus metrics.
    pub metrics: PrometheusHandle,
    /// Label print jobs of this process.
    pub jobs: Arc<api::labels::Jobs>,
    /// Signs ledger checkpoints, when a key is configured.
    pub signer: Option<Arc<suyuan_ledger::checkpoint::CheckpointSigner>>,
    /// Sign-in and public request budgets.
    pub limits: Arc<limits::Limits>,
    /// EPCIS capture jobs of this process.
    pub epcis_jobs: Arc<epcis::bindings::CaptureJobs>,
    /// Where webhook subscriptions may deliver.
    pub webhooks: Arc<WebhookAllowList>,
    /// The MQTT subscriber of process parameters, when one is configured.
    pub mqtt: Option<Arc<mqtt::MqttStatus>>,
}

/// The hosts webhook subscriptions may deliver to, as an administrator configured them (`--webhook-allow`);
/// empty, no webhook may be created. Entries are host names or IP addresses, optionally with `:port`.
#[derive(Debug, Clone, Default)]
pub struct WebhookAllowList(pub Vec<String>);

impl WebhookAllowList {
    /// Whether a destination URL's host (and port, when the entry names one) is on the list.
    pub fn allows(&self, url: &str) -> bool {
        let Some(rest) = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
        else {
            return false;
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        // No credentials in a destination.
        if authority.contains('@') {
            return false;
        }
        let host = match authority.rsplit_once(':') {
            Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) && !h.ends_with(':') => h,
            _ => authority,
        };
        self.0.iter().any(|entry| {
            let entry = entry.trim().to_ascii_lowercase();
            entry == authority.to_ascii_lowercase() || entry == host.to_ascii_lowercase()
        })
    }
}

impl AppState {
    /// State over an engine, with the process-wide metrics recorder.
    pub fn new(engine: Engine) -> Self {
        AppState {
            engine,
            metrics: metrics_handle(),
            jobs: Arc::default(),
            signer: None,
            limits: Arc::default(),
            epcis_jobs: Arc::default(),
            webhooks: Arc::default(),
            mqtt: None,
        }
    }

    /// The same state, reporting this MQTT subscriber in `/readyz`.
    pub fn with_mqtt(mut self, status: Arc<mqtt::MqttStatus>) -> Self {
        self.mqtt = Some(status);
        self
    }

    /// The same state, letting webhooks deliver to these hosts.
    pub fn with_webhooks(mut self, allow: WebhookAllowList) -> Self {
        self.webhooks = Arc::new(allow);
        self
    }

    /// The same state, with these request budgets.
    pub fn with_limits(mut self, config: limits::LimitConfig) -> Self {
        self.limits = Arc::new(limits::Limits::new(config));
        self
    }

    /// The same state, signing checkpoints with `signer`.
    pub fn with_signer(mut self, signer: Arc<suyuan_ledger::checkpoint::CheckpointSigner>) -> Self {
        self.signer = Some(signer);
        self
    }
}

/// The process-wide Prometheus recorder, installed on first use.
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new();
            let builder = builder
                .set_buckets_for_metric(
                    Matcher::Suffix("seconds".into()),
                    &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0],
                )
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed; /metrics shows only what this one records");
            }
            handle
        })
        .clone()
}

/// The whole application router, built from the capability modules' route lists ([`routes::all`]).
pub fn app(state: AppState) -> Router {
    let mut all = routes::all();
    let api = routes::mount(Router::new(), "/api/v1", &mut all).fallback(api_not_found);
    let epcis = routes::mount(Router::new(), "/epcis", &mut all)
        .route_layer(middleware::from_fn(epcis::bindings::versions));
    routes::mount(Router::new(), "", &mut all)
        .nest("/api/v1", api)
        .nest("/epcis", epcis)
        .layer(middleware::from_fn_with_state(state.clone(), auth::guard))
        .layer(middleware::from_fn(track))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// Health, readiness and metrics.
pub(crate) fn operations_routes() -> Vec<routes::Route> {
    use suyuan_core::access::Permission as P;
    vec![
        routes::get("/healthz", P::Public, healthz),
        routes::get("/readyz", P::Public, readyz),
        routes::get("/metrics", P::MetricsRead, metrics_text),
    ]
}

async fn api_not_found() -> error::ApiError {
    error::ApiError::NotFound(
        "no such API endpoint; see /api/v1/events and /api/v1/objects/{uri}".into(),
    )
}

/// Counts requests and their latency per route, and sets security headers on every answer.
async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let started = Instant::now();
    let mut resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::histogram!("suyuan_http_request_duration_seconds", "route" => route.clone(), "method" => method.clone())
        .record(started.elapsed().as_secs_f64());
    metrics::counter!("suyuan_http_requests_total", "route" => route, "method" => method, "status" => status).increment(1);
    let h = resp.headers_mut();
    h.entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static("nosniff"));
    h.entry(header::X_FRAME_OPTIONS)
        .or_insert(HeaderValue::from_static("DENY"));
    h.entry(header::REFERRER_POLICY)
        .or_insert(HeaderValue::from_static("same-origin"));
    // No inline scripts or styles anywhere: pages load htmx and CSS from /static only.
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        ));
    resp
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(st): State<AppState>) -> Response {
    if let Some(w) = st.engine.warming() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "starting: reading the ledger (operations {}, genealogy {} and dashboard {} of {} events)\n",
                w.operations.min(w.target),
                w.genealogy.min(w.target),
                w.dashboard.min(w.target),
                w.target
            ),
        )
            .into_response();
    }
    match st.engine.reader().ping().await {
        // The store answers: ready. A subscriber that lost its broker is said, not a reason to stop serving.
        Ok(()) => match &st.mqtt {
            Some(m) => format!("ready\n{}\n", m.line()).into_response(),
            None => "ready".into_response(),
        },
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "store unavailable").into_response()
        }
    }
}

async fn metrics_text(State(st): State<AppState>) -> Response {
    let store = st.engine.reader();
    match store.stats().await {
        Ok(s) => {
            let backend = store.backend();
            metrics::gauge!("suyuan_store_events", "backend" => backend).set(s.events as f64);
            metrics::gauge!("suyuan_store_objects", "backend" => backend).set(s.objects as f64);
            metrics::gauge!("suyuan_store_bytes", "backend" => backend).set(s.bytes as f64);
            metrics::gauge!("suyuan_outbox_pending", "backend" => backend)
                .set(s.outbox_pending as f64);
            metrics::gauge!("suyuan_store_up", "backend" => backend).set(1.0);
        }
        Err(e) => {
            tracing::warn!(error = %e, "stats for /metrics failed");
            metrics::gauge!("suyuan_store_up", "backend" => store.backend()).set(0.0);
        }
    }
    let (genealogy, whereabouts) = {
        let index = st.engine.tracer().read();
        (index.heap_bytes(), index.whereabouts_heap_bytes())
    };
    metrics::gauge!("suyuan_memory_bytes", "part" => "genealogy").set(genealogy as f64);
    metrics::gauge!("suyuan_memory_bytes", "part" => "whereabouts").set(whereabouts as f64);
    st.metrics.run_upkeep();
    let mut resp = st.metrics.render().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    resp
}

/// How often the metrics recorder folds recorded histogram samples into its buckets.
const METRICS_UPKEEP: std::time::Duration = std::time::Duration::from_secs(5);

/// Serves `app` on `listener` until `shutdown` completes, then finishes in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // A recorder built by hand keeps every histogram sample until upkeep folds it into the buckets: without
    // this, a server nobody scrapes grows by each request it answers.
    let metrics = state.metrics.clone();
    let upkeep = tokio::spawn(async move {
        let mut every = tokio::time::interval(METRICS_UPKEEP);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            metrics.run_upkeep();
        }
    });
    let served = axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    upkeep.abort();
    served
}
