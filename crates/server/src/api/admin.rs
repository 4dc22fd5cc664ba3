//! Administration over HTTP: the permission matrix, users, API tokens, regulator grants and the access log.
//! Every change is recorded on the ledger by the engine, naming the admin who made it.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::collections::HashMap;
use suyuan_core::access::{MATRIX, Permission};
use suyuan_engine::accounts::{NewGrant, NewUser, Principal, UserChange, parse_expiry};

use crate::AppState;
use crate::api::events::json_body;
use crate::error::ApiError;

fn body<T: DeserializeOwned>(headers: &HeaderMap, bytes: &Bytes) -> Result<T, ApiError> {
    let v = json_body(headers, bytes)?;
    serde_json::from_value(v).map_err(|e| ApiError::invalid("", e.to_string()))
}

/// `GET /api/v1/roles`: the permission matrix.
pub async fn roles() -> Json<Value> {
    Json(json!({
        "permissions": Permission::ALL.map(|p| p.as_str()),
        "roles": MATRIX.iter().map(|(r, ps)| json!({"role": r.as_str(),
            "permissions": ps.iter().map(|p| p.as_str()).collect::<Vec<_>>()})).collect::<Vec<_>>(),
    }))
}

/// `GET /api/v1/users`.
pub async fn list_users(State(st): State<AppState>) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({"users": st.engine.users().await?})))
}

/// `POST /api/v1/users`: 201 with the user and, when none was given, its generated password (shown once).
pub async fn create_user(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let new: NewUser = body(&headers, &bytes)?;
    let (user, password) = st.engine.create_user(&me.user, &new).await?;
    let mut v = json!({"user": user});
    if let Some(p) = password {
        v["password"] = json!(p);
    }
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

/// `GET /api/v1/users/{name}`.
pub async fn get_user(
    State(st): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let user = st
        .engine
        .user(&name)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no user named '{name}'")))?;
    let tokens = st.engine.tokens(Some(&name)).await?;
    let grants = st.engine.grants(Some(&name)).await?;
    Ok(Json(
        json!({"user": user, "tokens": tokens, "grants": grants}),
    ))
}

/// `PATCH /api/v1/users/{name}`: role, password, display name, prefixes, disabled.
pub async fn update_user(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    Path(name): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let change: UserChange = body(&headers, &bytes)?;
    if name == me.user && (change.disabled == Some(true) || change.role.is_some()) {
        return Err(ApiError::Refused(
            "you cannot disable yourself or change your own role; ask another admin".into(),
        ));
    }
    let user = st.engine.update_user(&me.user, &name, &change).await?;
    Ok(Json(json!({"user": user})))
}

/// A token request.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenRequest {
    user: String,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default, rename = "expiresAt")]
    expires_at: Option<String>,
    #[serde(default)]
    note: String,
}

/// `POST /api/v1/tokens`: 201 with the token text (shown once) and its listing.
pub async fn create_token(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let req: TokenRequest = body(&headers, &bytes)?;
    let expires = parse_expiry(
        req.expires_at.as_deref().unwrap_or("90d"),
        chrono::Utc::now(),
    )
    .map_err(|m| ApiError::invalid("/expiresAt", m))?;
    let (token, info) = st
        .engine
        .create_token(&me.user, &req.user, &req.scopes, expires, &req.note)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"token": token, "info": info})),
    )
        .into_response())
}

/// `GET /api/v1/tokens?user=`.
pub async fn list_tokens(
    State(st): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let tokens = st.engine.tokens(q.get("user").map(String::as_str)).await?;
    Ok(Json(json!({"tokens": tokens})))
}

/// `DELETE /api/v1/tokens/{id}`: revokes at once.
pub async fn revoke_token(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let info = st.engine.revoke_token(&me.user, &id).await?;
    Ok(Json(json!({"token": info})))
}

/// `POST /api/v1/grants`: 201 with the grant.
pub async fn create_grant(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let g: NewGrant = body(&headers, &bytes)?;
    let info = st.engine.create_grant(&me.user, &g).await?;
    Ok((StatusCode::CREATED, Json(json!({"grant": info}))).into_response())
}

/// `GET /api/v1/grants?user=`.
pub async fn list_grants(
    State(st): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let grants = st.engine.grants(q.get("user").map(String::as_str)).await?;
    Ok(Json(json!({"grants": grants})))
}

/// `DELETE /api/v1/grants/{id}`.
pub async fn revoke_grant(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    st.engine.revoke_grant(&me.user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/access-log?user=&limit=`: newest first.
pub async fn access_log(
    State(st): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let limit = match q.get("limit") {
        None => 100,
        Some(l) => l
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=10_000).contains(n))
            .ok_or_else(|| {
                ApiError::bad_param("limit", format!("expected 1 to 10000, got '{l}'"))
            })?,
    };
    let entries = st
        .engine
        .reader()
        .access_log(q.get("user").map(String::as_str), limit)
        .await?;
    Ok(Json(json!({"entries": entries})))
}

/// `GET /api/v1/reactors`: every reaction of the outbox — how many entries wait, since when, who holds its
/// lease, its failures and last error — and how far this server's genealogy index is behind the ledger.
pub async fn reactors(State(st): State<AppState>) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({"reactors": st.engine.reactor_status().await?})))
}

/// The routes of this module, each with the permission it needs.
pub(crate) fn routes() -> Vec<crate::routes::Route> {
    use crate::routes;
    use suyuan_core::access::Permission as P;
    vec![
        routes::get("/api/v1/roles", P::Admin, roles),
        routes::get("/api/v1/users", P::Admin, list_users),
        routes::post("/api/v1/users", P::Admin, create_user),
        routes::get("/api/v1/users/{name}", P::Admin, get_user),
        routes::patch("/api/v1/users/{name}", P::Admin, update_user),
        routes::get("/api/v1/tokens", P::Admin, list_tokens),
        routes::post("/api/v1/tokens", P::Admin, create_token),
        routes::delete("/api/v1/tokens/{id}", P::Admin, revoke_token),
        routes::get("/api/v1/grants", P::Admin, list_grants),
        routes::post("/api/v1/grants", P::Admin, create_grant),
        routes::delete("/api/v1/grants/{id}", P::Admin, revoke_grant),
        routes::get("/api/v1/access-log", P::Admin, access_log),
        routes::get("/api/v1/reactors", P::Admin, reactors),
    ]
}
