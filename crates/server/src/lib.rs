//! Suyuan's HTTP surface: [`app`] builds the router (native API, health, metrics, web UI) over an
//! [`AppState`]; [`serve`] runs it on a listener until a shutdown signal.

pub mod access;
pub mod admin_api;
pub mod api;
pub mod assets;
pub mod auth;
pub mod codes_api;
pub mod epcis_api;
pub mod epcis_masterdata;
pub mod epcis_queries;
pub mod error;
pub mod i18n;
pub mod identifiers;
pub mod labels_api;
pub mod labels_page;
pub mod ledger_api;
pub mod limits;
pub mod login;
pub mod pages;
pub mod recall;
pub mod search;
pub mod story;
pub mod trace_api;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
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
    pub jobs: Arc<labels_api::Jobs>,
    /// Signs ledger checkpoints, when a key is configured.
    pub signer: Option<Arc<suyuan_ledger::checkpoint::CheckpointSigner>>,
    /// Sign-in and public request budgets.
    pub limits: Arc<limits::Limits>,
    /// EPCIS capture jobs of this process.
    pub epcis_jobs: Arc<epcis_api::CaptureJobs>,
    /// Where webhook subscriptions may deliver.
    pub webhooks: Arc<WebhookAllowList>,
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
        }
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

/// The whole application router.
pub fn app(state: AppState) -> Router {
    let api = Router::new()
        .route("/events", post(api::capture).get(api::list_events))
        .route("/events/{*event_id}", get(api::get_event))
        .route("/objects/{*uri}", get(api::get_object))
        .route("/trace/backward", get(trace_api::backward))
        .route("/trace/forward", get(trace_api::forward))
        .route("/trace/recall", get(recall::recall))
        .route("/identifiers/parse", get(identifiers::parse))
        .route("/search", get(search::api))
        .route(
            "/coding-rules",
            get(codes_api::list_rules).post(codes_api::save_rule),
        )
        .route("/coding-rules/{name}", get(codes_api::get_rule))
        .route("/codes", post(codes_api::issue))
        .route("/codes/check", get(codes_api::check))
        .route("/codes/revoke", post(codes_api::revoke))
        .route(
            "/label-templates",
            get(labels_api::list_templates).post(labels_api::save_template),
        )
        .route("/label-templates/{name}", get(labels_api::get_template))
        .route("/label-templates/{name}/preview", get(labels_api::preview))
        .route("/label-jobs", post(labels_api::start_job))
        .route("/label-jobs/{id}", get(labels_api::job))
        .route("/label-jobs/{id}/output", get(labels_api::job_output))
        .route("/barcodes", get(labels_api::barcode))
        .route("/ledger/key", get(ledger_api::key))
        .route("/ledger/checkpoint", get(ledger_api::checkpoint))
        .route("/ledger/consistency", get(ledger_api::consistency))
        .route("/proofs/{*event_id}", get(ledger_api::proof))
        .route("/me", get(login::me))
        .route("/roles", get(admin_api::roles))
        .route(
            "/users",
            get(admin_api::list_users).post(admin_api::create_user),
        )
        .route(
            "/users/{name}",
            get(admin_api::get_user).patch(admin_api::update_user),
        )
        .route(
            "/tokens",
            get(admin_api::list_tokens).post(admin_api::create_token),
        )
        .route("/tokens/{id}", delete(admin_api::revoke_token))
        .route(
            "/grants",
            get(admin_api::list_grants).post(admin_api::create_grant),
        )
        .route("/grants/{id}", delete(admin_api::revoke_grant))
        .route("/access-log", get(admin_api::access_log))
        .fallback(api_not_found);
    let epcis = Router::new()
        .route("/", get(epcis_api::root))
        .route(
            "/capture",
            post(epcis_api::capture).get(epcis_api::capture_jobs),
        )
        .route("/capture/{id}", get(epcis_api::capture_job))
        .route(
            "/events",
            get(epcis_api::events).post(epcis_api::capture_event),
        )
        .route("/events/{*event_id}", get(epcis_api::event))
        .route(
            "/queries",
            get(epcis_queries::list).post(epcis_queries::create),
        )
        .route(
            "/queries/{name}",
            get(epcis_queries::get).delete(epcis_queries::delete),
        )
        .route("/queries/{name}/events", get(epcis_queries::events))
        .route(
            "/queries/{name}/subscriptions",
            get(epcis_queries::subscriptions).post(epcis_queries::subscribe),
        )
        .route(
            "/queries/{name}/subscriptions/{id}",
            get(epcis_queries::subscription).delete(epcis_queries::unsubscribe),
        )
        .route("/masterData", get(epcis_masterdata::query))
        .route(
            "/nextPageToken/{token}",
            delete(epcis_api::release_page_token),
        )
        .route("/{resource}", get(epcis_api::collection))
        .route("/{resource}/{value}", get(epcis_api::resource_value))
        .route(
            "/{resource}/{value}/events",
            get(epcis_api::resource_events),
        )
        .route_layer(middleware::from_fn(epcis_api::versions));
    Router::new()
        .nest("/api/v1", api)
        .nest("/epcis", epcis)
        .route("/", get(pages::home))
        .route("/partials/recent", get(pages::recent_partial))
        .route("/events", get(pages::events))
        .route("/events/view", get(pages::event))
        .route("/objects", get(pages::object))
        .route("/search", get(search::page))
        .route("/labels", get(labels_page::page))
        .route("/labels/jobs", post(labels_page::start_form))
        .route("/labels/preview", get(labels_page::preview_form))
        .route("/labels/jobs/{id}", get(labels_page::job))
        .route("/static/{*path}", get(assets::serve))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .route("/login", get(login::page).post(login::submit))
        .route("/logout", post(login::logout))
        .layer(middleware::from_fn_with_state(state.clone(), auth::guard))
        .layer(middleware::from_fn(track))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
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
    match st.engine.store().ping().await {
        Ok(()) => "ready".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "store unavailable").into_response()
        }
    }
}

async fn metrics_text(State(st): State<AppState>) -> Response {
    let store = st.engine.store();
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
    st.metrics.run_upkeep();
    let mut resp = st.metrics.render().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    resp
}

/// Serves `app` on `listener` until `shutdown` completes, then finishes in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
