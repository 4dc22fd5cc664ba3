//! Who is asking and whether they may: resolves the principal from an API token or a session cookie,
//! enforces the permission table on every route, CSRF on cookie-authenticated writes, the public request
//! budget, and logs every read of a regulator.

use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::net::SocketAddr;
use suyuan_core::access::{Permission, Role};
use suyuan_engine::accounts::{Principal, same_secret};

use crate::access::{Need, need};
use crate::error::ApiError;
use crate::{AppState, BODY_LIMIT};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "sy_session";
/// Header carrying the CSRF token on state-changing requests of a signed-in browser.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Form field carrying the CSRF token when the header is not set.
pub const CSRF_FIELD: &str = "_csrf";

/// How many events or objects a scoped answer held; handlers set it for the access log.
#[derive(Debug, Clone, Copy)]
pub struct ItemCount(pub u64);

/// The value of cookie `name`, if the request sends it.
pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find_map(|(k, v)| (k == name).then_some(v))
}

/// The client's address (the TCP peer; `local` when served without one, as in tests).
pub fn client_of(req_extensions: &axum::http::Extensions) -> String {
    req_extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "local".to_string(), |c| c.0.ip().to_string())
}

/// Resolves the principal: a bearer token must be valid (401 otherwise); a session cookie that is not
/// live counts as anonymous.
pub async fn resolve(st: &AppState, headers: &HeaderMap) -> Result<Principal, ApiError> {
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        let token = auth
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| {
                ApiError::Unauthorized("the Authorization header must be 'Bearer <token>'".into())
            })?;
        return st.engine.token_principal(token).await?.ok_or_else(|| {
            ApiError::Unauthorized("the API token is unknown, expired or revoked".into())
        });
    }
    if let Some(secret) = cookie_value(headers, SESSION_COOKIE)
        && let Some(p) = st.engine.session_principal(secret).await?
    {
        return Ok(p);
    }
    Ok(Principal::anonymous())
}

fn is_write(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Refuses a browser request that comes from another site (a write, or a cookie-authenticated WebSocket):
/// `Origin` must name this host and `Sec-Fetch-Site` must not be `cross-site`.
pub(crate) fn same_origin(headers: &HeaderMap) -> Result<(), ApiError> {
    let refuse = |why: String| {
        Err(ApiError::Forbidden(format!(
            "cross-site request refused: {why}"
        )))
    };
    if headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "cross-site")
    {
        return refuse("Sec-Fetch-Site is cross-site".into());
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let origin_host = origin.split_once("://").map_or("", |(_, h)| h);
        if origin == "null" || origin_host != host {
            return refuse(format!("Origin {origin} is not this server ({host})"));
        }
    }
    Ok(())
}

/// Checks the CSRF token of a cookie-authenticated write: the header, or else the form field (the body is
/// read and put back).
async fn check_csrf(req: Request, expected: &str) -> Result<Request, ApiError> {
    let missing =
        || ApiError::Forbidden("CSRF token missing or wrong: reload the page and try again".into());
    if let Some(v) = req.headers().get(CSRF_HEADER) {
        return match v.to_str() {
            Ok(t) if same_secret(t, expected) => Ok(req),
            _ => Err(missing()),
        };
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(missing());
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, BODY_LIMIT)
        .await
        .map_err(|e| ApiError::TooLarge(format!("request body: {e}")))?;
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
    let ok = fields
        .iter()
        .any(|(k, v)| k == CSRF_FIELD && same_secret(v, expected));
    if !ok {
        return Err(missing());
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// Whether a route is a page of the web UI (anonymous visitors are sent to sign in) rather than an API.
pub fn is_page(path: &str) -> bool {
    !path.starts_with("/api/") && !path.starts_with("/epcis") && path != "/metrics"
}

/// The guard on every route: principal, permission, budget, CSRF, access log.
pub async fn guard(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let Some(path) = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .filter(|p| !p.contains("__private__"))
    else {
        // Nothing is routed here: the router answers 404.
        return next.run(req).await;
    };
    let method = req.method().clone();
    let principal = match resolve(&st, req.headers()).await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    // EPCIS discovery: what the resource allows and how this server speaks EPCIS, for whoever may use it.
    if method == Method::OPTIONS && path.starts_with("/epcis") {
        let methods = crate::access::methods(&path);
        return match methods.iter().find(|(_, p)| principal.allows(*p)) {
            Some(_) => crate::epcis::bindings::discovery(
                &path,
                &methods.into_iter().map(|(m, _)| m).collect::<Vec<_>>(),
            ),
            None => match methods.first() {
                Some((m, p)) => refuse(&principal, m, &path, req.uri(), *p),
                None => next.run(req).await,
            },
        };
    }
    match need(&method, &path) {
        Need::Unlisted => {
            tracing::error!(%method, %path, "route missing from the permission table: refused");
            return ApiError::Forbidden(format!(
                "{method} {path} has no entry in the permission table"
            ))
            .into_response();
        }
        Need::OtherMethod => {}
        Need::Permission(p) if !principal.allows(p) => {
            return refuse(&principal, &method, &path, req.uri(), p);
        }
        Need::Permission(_) => {}
    }
    if !principal.is_authenticated()
        && let Err(wait) = st.limits.public(&client_of(req.extensions()))
    {
        return ApiError::TooManyRequests(wait.as_secs().max(1)).into_response();
    }
    let bearer = req.headers().contains_key(header::AUTHORIZATION);
    let mut req = req;
    if is_write(&method) && !bearer {
        if let Err(e) = same_origin(req.headers()) {
            return e.into_response();
        }
        // Signing in acts with no session's authority (it replaces the session): the origin check suffices.
        if let (Some(_), Some(csrf), false) =
            (&principal.session, principal.csrf.clone(), path == "/login")
        {
            req = match check_csrf(req, &csrf).await {
                Ok(r) => r,
                Err(e) => return e.into_response(),
            };
        }
    }
    let logged = principal.role == Role::Regulator;
    let request_line = format!(
        "{method} {}",
        req.uri().path_and_query().map_or("", |p| p.as_str())
    );
    let user = principal.user.clone();
    // A signed-in person switching language: remember it for their next sign-in, on any device.
    let chosen = (principal.session.is_some() && method == axum::http::Method::GET)
        .then(|| {
            req.uri().query().and_then(|q| {
                q.split('&')
                    .find_map(|kv| kv.strip_prefix("lang="))
                    .and_then(crate::web::i18n::Lang::parse)
            })
        })
        .flatten();
    req.extensions_mut().insert(principal);
    let resp = next.run(req).await;
    if let Some(lang) = chosen
        && resp.status().is_success()
        && let Err(e) = st.engine.set_language(&user, lang.code()).await
    {
        tracing::warn!(error = %e, "the language choice was not remembered");
    }
    if logged {
        // Lists count what they returned; any other successful read returned one resource (an event, an
        // object, its story, a page).
        let items = match resp.extensions().get::<ItemCount>() {
            Some(c) => c.0,
            None if resp.status().is_success() && request_line.starts_with("GET ") => 1,
            None => 0,
        };
        if let Err(e) = st
            .engine
            .log_access(&user, &request_line, resp.status().as_u16(), items)
            .await
        {
            // The read already happened: an unlogged regulator read is an operational alarm.
            tracing::error!(error = %e, %user, request = %request_line, "access log write failed");
        }
    }
    resp
}

fn refuse(
    principal: &Principal,
    method: &Method,
    path: &str,
    uri: &axum::http::Uri,
    p: Permission,
) -> Response {
    if !principal.is_authenticated() {
        if is_page(path) && *method == Method::GET {
            let next = uri.path_and_query().map_or("/", |p| p.as_str());
            let next: String =
                percent_encoding::utf8_percent_encode(next, percent_encoding::NON_ALPHANUMERIC)
                    .to_string();
            return Redirect::to(&format!("/login?next={next}")).into_response();
        }
        return ApiError::Unauthorized(format!(
            "{method} {path} needs '{p}': sign in, or send Authorization: Bearer <token>"
        ))
        .into_response();
    }
    let why = if principal.role.allows(p) {
        format!("this API token lacks the scope '{p}'")
    } else {
        format!("the role {} does not hold '{p}'", principal.role)
    };
    let msg = format!("{} may not {method} {path}: {why}", principal.user);
    if is_page(path) {
        return (StatusCode::FORBIDDEN, msg).into_response();
    }
    ApiError::Forbidden(msg).into_response()
}

/// Whether the request came over HTTPS through a proxy that says so in `X-Forwarded-Proto`.
pub fn is_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` value for the session cookie (HTTP-only, SameSite=Lax, whole site; `Secure` when the
/// request came over HTTPS through a proxy that says so in `X-Forwarded-Proto`).
pub fn session_cookie(headers: &HeaderMap, secret: &str, max_age_secs: i64) -> Option<HeaderValue> {
    let secure = is_https(headers);
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{}",
        if secure { "; Secure" } else { "" }
    ))
    .ok()
}
