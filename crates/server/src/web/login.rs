//! Signing in and out: the sign-in page, the form post (throttled per user name and client, a fresh session
//! every time so a planted cookie is never adopted), sign-out, and `GET /api/v1/me`.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form, Json};
use serde_json::json;
use std::collections::HashMap;
use suyuan_core::access::RowScope;
use suyuan_engine::accounts::{AccountError, Principal, SESSION_HOURS};

use crate::AppState;
use crate::auth::{SESSION_COOKIE, client_of, cookie_value, session_cookie};
use crate::error::ApiError;
use crate::web::pages::{Chrome, lang_of, render};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    next: String,
    username: String,
    error: &'static str,
}

/// Only a local path may be a redirect target (no `//host` or scheme).
fn local_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

/// `GET /login?next=`.
pub async fn page(
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (lang, set) = lang_of(&q, &headers);
    let page = LoginPage {
        chrome: Chrome::new(lang, "login", &uri, &Principal::anonymous()),
        next: local_next(q.get("next").map(String::as_str)),
        username: String::new(),
        error: "",
    };
    render(&page, lang, set)
}

/// The sign-in form.
#[derive(Debug, serde::Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
}

/// `POST /login`: checks the password, ends any session the browser already had, starts a new one.
pub async fn submit(
    State(st): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    ext: axum::http::Extensions,
    Form(f): Form<LoginForm>,
) -> Response {
    let (lang, _) = lang_of(&q, &headers);
    let username = f.username.trim().to_lowercase();
    let again = |status: StatusCode, error: &'static str| {
        let page = LoginPage {
            chrome: Chrome::new(lang, "login", &uri, &Principal::anonymous()),
            next: local_next(f.next.as_deref()),
            username: username.clone(),
            error,
        };
        let mut resp = render(&page, lang, false);
        *resp.status_mut() = status;
        resp
    };
    if let Err(wait) = st.limits.login(&username, &client_of(&ext)) {
        tracing::warn!(user = %username, "sign-in throttled");
        let mut resp = again(StatusCode::TOO_MANY_REQUESTS, "login.throttled");
        if let Ok(v) = wait.as_secs().max(1).to_string().parse() {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return resp;
    }
    let user = match st.engine.authenticate(&username, &f.password).await {
        Ok(u) => u,
        Err(AccountError::BadLogin) => {
            tracing::info!(user = %username, "sign-in failed");
            return again(StatusCode::UNAUTHORIZED, "login.failed");
        }
        Err(e) => return ApiError::from(e).into_response(),
    };
    // Never adopt a session id the browser brought along (session fixation): end it, issue a new one.
    if let Some(old) = cookie_value(&headers, SESSION_COOKIE)
        && let Err(e) = st.engine.end_session(old).await
    {
        return ApiError::from(e).into_response();
    }
    let secret = match st.engine.create_session(&user).await {
        Ok((secret, _)) => secret,
        Err(e) => return ApiError::from(e).into_response(),
    };
    tracing::info!(user = %user.name, role = %user.role, "signed in");
    let mut resp = Redirect::to(&local_next(f.next.as_deref())).into_response();
    if let Some(c) = session_cookie(&headers, &secret, SESSION_HOURS * 3600) {
        resp.headers_mut().insert(header::SET_COOKIE, c);
    }
    // The language this user chose last, on whatever device.
    if let Ok(Some(lang)) = st.engine.language(&user.name).await
        && let Some(l) = crate::web::i18n::Lang::parse(&lang)
        && let Ok(v) = axum::http::HeaderValue::from_str(&format!(
            "lang={}; Path=/; Max-Age=31536000; SameSite=Lax",
            l.code()
        ))
    {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// `POST /logout`: ends the session and clears the cookie.
pub async fn logout(State(st): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(secret) = cookie_value(&headers, SESSION_COOKIE)
        && let Err(e) = st.engine.end_session(secret).await
    {
        return ApiError::from(e).into_response();
    }
    let mut resp = Redirect::to("/login").into_response();
    if let Some(c) = session_cookie(&headers, "", 0) {
        resp.headers_mut().insert(header::SET_COOKIE, c);
    }
    resp
}

/// `GET /api/v1/me`: who the request is from, what it may do and see.
pub async fn me(Extension(me): Extension<Principal>) -> Json<serde_json::Value> {
    let permissions: Vec<&str> = suyuan_core::access::Permission::ALL
        .into_iter()
        .filter(|p| me.allows(*p))
        .map(|p| p.as_str())
        .collect();
    let rows = match &me.rows {
        RowScope::All if me.is_authenticated() => json!({"kind": "all"}),
        RowScope::All => json!({"kind": "public"}),
        RowScope::Partner { prefixes } => json!({"kind": "partner", "companyPrefixes": prefixes}),
        RowScope::Regulator { grants } if me.is_authenticated() => json!({"kind": "regulator",
            "grants": grants.iter().map(|g| json!({"id": g.id, "gtins": g.gtins})).collect::<Vec<_>>()}),
        RowScope::Regulator { .. } => json!({"kind": "public"}),
    };
    Json(json!({
        "user": me.user, "role": me.role.as_str(), "authenticated": me.is_authenticated(),
        "via": if me.session.is_some() { "session" } else if me.scopes.is_some() { "token" } else { "none" },
        "permissions": permissions, "rows": rows, "csrf": me.csrf,
    }))
}

/// The routes of this module, each with the permission it needs.
pub(crate) fn routes() -> Vec<crate::routes::Route> {
    use crate::routes;
    use suyuan_core::access::Permission as P;
    vec![
        routes::get("/login", P::Public, page),
        routes::post("/login", P::Public, submit),
        routes::post("/logout", P::Public, logout),
        routes::get("/api/v1/me", P::Public, me),
    ]
}
