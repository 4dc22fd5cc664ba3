//! The operations API: master data (CRUD, history, CSV/XLSX import with dry run), work orders, station scans,
//! warehouse actions, process parameters, inventory, the operations figures and alerts. Every write is an
//! engine command over the one write path; a refusal answers 409 with its code and values
//! (`refusal: {code, …}`) so a screen can say it in the operator's language.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use suyuan_engine::accounts::Principal;
use suyuan_engine::operations::OpsError;
use suyuan_engine::operations::orders::NewWorkOrder;
use suyuan_engine::operations::station::StationScan;
use suyuan_engine::operations::warehouse::Action;
use suyuan_ops::Status;
use suyuan_ops::inventory::StockFilter;
use suyuan_ops::workorder::WoState;

use crate::AppState;
use crate::api::events::json_body;
use crate::error::ApiError;

/// The answer to an operations error: located fields (400), refusals with their code (409), the rest as
/// the API answers them; or an API error as it is (a bad query parameter, a body that is not JSON).
pub enum OpsFailure {
    /// What the engine said.
    Ops(OpsError),
    /// What the request's reading said.
    Api(ApiError),
}

impl From<OpsError> for OpsFailure {
    fn from(e: OpsError) -> Self {
        OpsFailure::Ops(e)
    }
}

impl From<ApiError> for OpsFailure {
    fn from(e: ApiError) -> Self {
        OpsFailure::Api(e)
    }
}

impl IntoResponse for OpsFailure {
    fn into_response(self) -> Response {
        let e = match self {
            OpsFailure::Api(e) => return e.into_response(),
            OpsFailure::Ops(e) => e,
        };
        match e {
            OpsError::Invalid(problems) => ApiError::Validation(suyuan_core::ValidationErrors(
                problems
                    .into_iter()
                    .map(|p| suyuan_core::FieldError {
                        pointer: format!("/{}", p.field),
                        message: p.expected,
                    })
                    .collect(),
            ))
            .into_response(),
            OpsError::Refused(r) => {
                let mut refusal = Map::new();
                refusal.insert("code".into(), json!(r.code()));
                for (k, v) in r.values() {
                    refusal.insert(k, json!(v));
                }
                let body = json!({"type": "https://suyuan.dev/problems/refused", "status": 409, "code": "refused",
                    "title": "Refused; nothing was recorded", "detail": r.to_string(), "refusal": refusal});
                (
                    StatusCode::CONFLICT,
                    [(header::CONTENT_TYPE, "application/problem+json")],
                    body.to_string(),
                )
                    .into_response()
            }
            OpsError::NotFound(what) => {
                ApiError::NotFound(format!("{what} not found")).into_response()
            }
            OpsError::Import(e) => ApiError::invalid("", e.to_string()).into_response(),
            OpsError::Capture(c) => ApiError::from(c).into_response(),
        }
    }
}

type R = Result<Response, OpsFailure>;

mod master;

/// Plant-wide operations are for plant staff: partners and regulators read and write within their scope
/// only (a partner records receipts through `POST /api/v1/warehouse`).
pub(crate) fn staff(me: &Principal) -> Result<(), OpsFailure> {
    if me.rows.is_all() {
        Ok(())
    } else {
        Err(OpsFailure::Ops(OpsError::Capture(
            suyuan_engine::CaptureError::Forbidden("plant operations are for plant staff".into()),
        )))
    }
}

/// The caller, when they are plant staff ([`staff`]); handlers of plant-wide operations take it instead
/// of the bare principal, so the check cannot be forgotten.
pub struct Staff(pub Principal);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Staff {
    type Rejection = OpsFailure;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        let me = parts
            .extensions
            .get::<Principal>()
            .cloned()
            .unwrap_or_else(Principal::anonymous);
        staff(&me)?;
        Ok(Staff(me))
    }
}

/// A JSON body read as `T`; a mismatch answers 400 with serde's words.
pub(crate) fn parse<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, OpsFailure> {
    serde_json::from_value(v).map_err(|e| ApiError::invalid("", format!("{e}")).into())
}

/// Work order list filters.
#[derive(Deserialize)]
pub struct OrdersQuery {
    state: Option<String>,
    line: Option<String>,
    limit: Option<usize>,
}

/// `GET /api/v1/work-orders?state=&line=`.
pub async fn list_orders(State(st): State<AppState>, _: Staff, Query(q): Query<OrdersQuery>) -> R {
    let state = match q.state.as_deref() {
        None | Some("") => None,
        Some(s) => Some(WoState::parse(s).ok_or_else(|| {
            OpsFailure::from(ApiError::bad_param(
                "state",
                "one of created, released, started, paused, completed, closed",
            ))
        })?),
    };
    let list = st
        .engine
        .work_orders(
            state,
            q.line.as_deref().filter(|l| !l.is_empty()),
            q.limit.unwrap_or(200).min(5000),
        )
        .await?;
    Ok(Json(json!({"workOrders": list})).into_response())
}

/// `POST /api/v1/work-orders`: `{product, planned, line, number?, lot?, due?}`.
pub async fn create_order(
    State(st): State<AppState>,
    Staff(me): Staff,
    headers: HeaderMap,
    body: Bytes,
) -> R {
    let req: NewWorkOrder = parse(json_body(&headers, &body)?)?;
    Ok((
        StatusCode::CREATED,
        Json(st.engine.create_work_order(&me.user, &req).await?),
    )
        .into_response())
}

/// `GET /api/v1/work-orders/{id}`: with its material balance.
pub async fn get_order(State(st): State<AppState>, _: Staff, Path(id): Path<String>) -> R {
    Ok(Json(st.engine.work_order(&id).await?).into_response())
}

/// `POST /api/v1/work-orders/{id}/state`: `{state}` (released, started, paused, completed, closed).
pub async fn move_order(
    State(st): State<AppState>,
    Staff(me): Staff,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> R {
    let v = json_body(&headers, &body)?;
    let to = v
        .get("state")
        .and_then(Value::as_str)
        .and_then(WoState::parse)
        .ok_or_else(|| {
            OpsFailure::from(ApiError::invalid(
                "/state",
                "one of released, started, paused, completed, closed",
            ))
        })?;
    Ok(Json(st.engine.move_work_order(&me.user, &id, to).await?).into_response())
}

/// `POST /api/v1/work-orders/{id}/serials`: `{rule, count, label?}` — serials of the order's product for its
/// lot, issued by a coding rule and commissioned (printed).
pub async fn issue_serials(
    State(st): State<AppState>,
    _: Staff,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> R {
    let req: suyuan_engine::operations::orders::SerialRequest = parse(json_body(&headers, &body)?)?;
    Ok((
        StatusCode::CREATED,
        Json(st.engine.issue_serials(&id, &req).await?),
    )
        .into_response())
}

/// `POST /api/v1/stations/{station}/scans`: `{id, code, operator?, work_order?, quantity?}`.
pub async fn station_scan(
    State(st): State<AppState>,
    Staff(me): Staff,
    Path(station): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> R {
    let scan: StationScan = parse(json_body(&headers, &body)?)?;
    match st.engine.station_scan(&me.user, &station, &scan).await {
        Ok(done) => Ok(Json(done).into_response()),
        Err(OpsError::Refused(r)) => Ok(refused_named(&st, &headers, &r).await),
        Err(e) => Err(e.into()),
    }
}

/// A refusal whose product codes read as the products' names in the reader's language, so an operator
/// sees "混合料 is not an input (expected 生牛乳, 乳清粉 …)" rather than GTINs.
async fn refused_named(
    st: &AppState,
    headers: &HeaderMap,
    r: &suyuan_ops::checks::Refusal,
) -> Response {
    let english = crate::web::i18n::Lang::of_request(None, headers) == crate::web::i18n::Lang::En;
    let records = st.engine.records().await.ok();
    let name = |code: &str| match &records {
        Some(rec) if rec.has("product", code) => {
            format!("{} ({code})", rec.label("product", code, english))
        }
        _ => code.to_string(),
    };
    let mut refusal = Map::new();
    refusal.insert("code".into(), json!(r.code()));
    for (k, v) in r.values() {
        let v = match k.as_str() {
            "product" => name(&v),
            "expected" => v
                .split(", ")
                .map(|c| {
                    records
                        .as_ref()
                        .map_or(c.to_string(), |rec| rec.label("product", c, english))
                })
                .collect::<Vec<_>>()
                .join(", "),
            _ => v,
        };
        refusal.insert(k, json!(v));
    }
    let body = json!({"type": "https://suyuan.dev/problems/refused", "status": 409, "code": "refused",
        "title": "Refused; nothing was recorded", "detail": r.to_string(), "refusal": refusal});
    (
        StatusCode::CONFLICT,
        [(header::CONTENT_TYPE, "application/problem+json")],
        body.to_string(),
    )
        .into_response()
}

/// `POST /api/v1/warehouse`: `{id, action, …}` (receive, move, pick, pack, unpack, ship, receipt, return,
/// count, rfid).
pub async fn warehouse(
    State(st): State<AppState>,
    axum::Extension(me): axum::Extension<Principal>,
    headers: HeaderMap,
    body: Bytes,
) -> R {
    let mut v = json_body(&headers, &body)?;
    let id = v
        .as_object_mut()
        .and_then(|o| o.remove("id"))
        .and_then(|i| i.as_str().map(str::to_string))
        .ok_or_else(|| {
            OpsFailure::from(ApiError::invalid("/id", "the client's id for this action"))
        })?;
    let action: Action = parse(v)?;
    Ok(Json(st.engine.warehouse_as(&me, &id, &action).await?).into_response())
}

/// `POST /api/v1/stations/{station}/parameters`: `{line, equipment, readings: [{time, parameter, value, unit}]}`.
pub async fn parameters(
    State(st): State<AppState>,
    _: Staff,
    Path(station): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> R {
    let v = json_body(&headers, &body)?;
    let text = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let source = suyuan_ops::params::Source {
        site: text("site"),
        line: text("line"),
        station,
        equipment: text("equipment"),
    };
    let readings =
        serde_json::to_vec(v.get("readings").unwrap_or(&Value::Null)).unwrap_or_default();
    let readings = suyuan_ops::params::readings(&readings)
        .map_err(|e| OpsFailure::from(ApiError::invalid("/readings", e.to_string())))?;
    Ok(Json(st.engine.record_parameters(&source, &readings).await?).into_response())
}

/// Inventory filters.
#[derive(Deserialize)]
pub struct InventoryQuery {
    product: Option<String>,
    lot: Option<String>,
    location: Option<String>,
    status: Option<String>,
    limit: Option<usize>,
}

/// `GET /api/v1/inventory?product=&lot=&location=&status=&limit=`: at most `limit` rows (1,000 unless
/// asked; 10,000 at most) and how many there are in all.
pub async fn inventory(State(st): State<AppState>, _: Staff, Query(q): Query<InventoryQuery>) -> R {
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(Status::parse(s).ok_or_else(|| {
            OpsFailure::from(ApiError::bad_param(
                "status",
                "one of available, on_hold, in_transit, returned",
            ))
        })?),
    };
    let records = st.engine.records().await?;
    let locations = match q.location.as_deref().filter(|s| !s.is_empty()) {
        None => Vec::new(),
        Some(l) => st.engine.location_keys(&records, l),
    };
    let filter = StockFilter {
        product: q
            .product
            .filter(|s| !s.is_empty())
            .map(|p| suyuan_ops::kinds::gtin14(&p).unwrap_or(p)),
        lot: q.lot.filter(|s| !s.is_empty()),
        locations,
        status,
    };
    let limit = q.limit.unwrap_or(1000).clamp(1, 10_000);
    let page = st
        .engine
        .operations()
        .await
        .map_err(OpsError::from)?
        .inventory
        .stock_page(&filter, limit);
    Ok(Json(page).into_response())
}

/// `GET /api/v1/inventory/fefo?product=`: lots with available stock, earliest expiry first.
pub async fn fefo(State(st): State<AppState>, _: Staff, Query(q): Query<InventoryQuery>) -> R {
    let product = q.product.filter(|p| !p.is_empty()).ok_or_else(|| {
        OpsFailure::from(ApiError::bad_param("product", "a product code or GTIN"))
    })?;
    let product = suyuan_ops::kinds::gtin14(&product).unwrap_or(product);
    let lots = st
        .engine
        .operations()
        .await
        .map_err(OpsError::from)?
        .inventory
        .fefo(&product);
    let list: Vec<Value> = lots
        .into_iter()
        .map(|(lot, expiry, at)| json!({"lot": lot, "expiry": expiry, "locations": at}))
        .collect();
    Ok(Json(json!({"product": product, "lots": list})).into_response())
}

/// Figure query.
#[derive(Deserialize)]
pub struct MetricQuery {
    from: Option<String>,
    to: Option<String>,
    group_by: Option<String>,
}

/// `GET /api/v1/metrics/{name}?from=&to=&group_by=day|shift|line|product`.
pub async fn metric(
    State(st): State<AppState>,
    _: Staff,
    Path(name): Path<String>,
    Query(q): Query<MetricQuery>,
) -> R {
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let to = q.to.unwrap_or_else(|| today.clone());
    let from = q.from.unwrap_or_else(|| {
        chrono::NaiveDate::parse_from_str(&to, "%Y-%m-%d")
            .map(|d| {
                (d - chrono::Duration::days(29))
                    .format("%Y-%m-%d")
                    .to_string()
            })
            .unwrap_or(today)
    });
    Ok(Json(
        st.engine
            .ops_metric(&name, &from, &to, q.group_by.as_deref().unwrap_or("day"))
            .await?,
    )
    .into_response())
}

/// Alert filters.
#[derive(Deserialize)]
pub struct AlertQuery {
    kind: Option<String>,
    state: Option<String>,
}

/// `GET /api/v1/alerts?kind=&state=`.
pub async fn alerts(State(st): State<AppState>, _: Staff, Query(q): Query<AlertQuery>) -> R {
    let list = st
        .engine
        .alerts(
            q.kind.as_deref().filter(|s| !s.is_empty()),
            q.state.as_deref().filter(|s| !s.is_empty()),
        )
        .await?;
    Ok(Json(json!({"alerts": list})).into_response())
}

/// `POST /api/v1/alerts/{id}`: `{state: acknowledged|closed, owner?, note?}`.
pub async fn update_alert(
    State(st): State<AppState>,
    Staff(me): Staff,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> R {
    let v = json_body(&headers, &body)?;
    let state = v.get("state").and_then(Value::as_str).unwrap_or("");
    let a = st
        .engine
        .update_alert(
            &me.user,
            &id,
            state,
            v.get("owner").and_then(Value::as_str),
            v.get("note").and_then(Value::as_str).unwrap_or(""),
        )
        .await?;
    Ok(Json(a).into_response())
}

/// `GET /api/v1/alerts/settings`: the counterfeit thresholds.
pub async fn alert_settings(State(st): State<AppState>, _: Staff) -> R {
    Ok(Json(st.engine.counterfeit_limits().await?).into_response())
}

/// `POST /api/v1/alerts/settings`: `{max_scans, max_regions}` — a code scanned more often, or from more
/// regions, raises a counterfeit alert.
pub async fn save_alert_settings(
    State(st): State<AppState>,
    Staff(me): Staff,
    headers: HeaderMap,
    body: Bytes,
) -> R {
    let limits: suyuan_ops::alerts::CounterfeitLimits = parse(json_body(&headers, &body)?)?;
    st.engine.set_counterfeit_limits(&me.user, &limits).await?;
    Ok(Json(limits).into_response())
}

/// The routes of operations, each with the permission it needs.
pub(crate) fn routes() -> Vec<crate::routes::Route> {
    use crate::routes;
    use suyuan_core::access::Permission as P;
    let mut all = master::routes();
    all.extend([
        routes::get("/api/v1/work-orders", P::EventsRead, list_orders),
        routes::post("/api/v1/work-orders", P::EventsWrite, create_order),
        routes::get("/api/v1/work-orders/{id}", P::EventsRead, get_order),
        routes::post("/api/v1/work-orders/{id}/state", P::EventsWrite, move_order),
        routes::post(
            "/api/v1/work-orders/{id}/serials",
            P::CodesWrite,
            issue_serials,
        ),
        routes::post(
            "/api/v1/stations/{station}/scans",
            P::EventsWrite,
            station_scan,
        ),
        routes::post(
            "/api/v1/stations/{station}/parameters",
            P::EventsWrite,
            parameters,
        ),
        routes::post("/api/v1/warehouse", P::EventsWrite, warehouse),
        routes::get("/api/v1/inventory", P::EventsRead, inventory),
        routes::get("/api/v1/inventory/fefo", P::EventsRead, fefo),
        routes::get("/api/v1/metrics/{name}", P::EventsRead, metric),
        routes::get("/api/v1/alerts", P::EventsRead, alerts),
        routes::get("/api/v1/alerts/settings", P::EventsRead, alert_settings),
        routes::post("/api/v1/alerts/settings", P::Admin, save_alert_settings),
        routes::post("/api/v1/alerts/{id}", P::EventsWrite, update_alert),
    ]);
    all
}
