//! Routes as data: each capability module declares its routes — method, path, the permission it needs and
//! the handler — in one place ([`Route`]); the router and the permission table the guard reads
//! ([`crate::access`]) are both built from those lists, so they cannot drift apart.

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter, on};
use suyuan_core::access::Permission;

use crate::AppState;

/// One route: method, path pattern as matched from the root, the permission it needs, and its handler.
pub struct Route {
    /// The HTTP method (HEAD is answered as GET).
    pub method: Method,
    /// The path pattern, from the root (`/api/v1/events`, `/epcis/queries/{name}`).
    pub path: &'static str,
    /// What the caller needs ([`Permission::Public`] for anyone).
    pub permission: Permission,
    handler: MethodRouter<AppState>,
}

fn make<H, T>(method: Method, path: &'static str, permission: Permission, h: H) -> Route
where
    H: Handler<T, AppState>,
    T: 'static,
{
    let filter = match method.as_str() {
        "POST" => MethodFilter::POST,
        "PATCH" => MethodFilter::PATCH,
        "DELETE" => MethodFilter::DELETE,
        "PUT" => MethodFilter::PUT,
        _ => MethodFilter::GET,
    };
    Route {
        method,
        path,
        permission,
        handler: on(filter, h),
    }
}

/// A GET route (HEAD too).
pub fn get<H: Handler<T, AppState>, T: 'static>(
    path: &'static str,
    permission: Permission,
    h: H,
) -> Route {
    make(Method::GET, path, permission, h)
}

/// A POST route.
pub fn post<H: Handler<T, AppState>, T: 'static>(
    path: &'static str,
    permission: Permission,
    h: H,
) -> Route {
    make(Method::POST, path, permission, h)
}

/// A PATCH route.
pub fn patch<H: Handler<T, AppState>, T: 'static>(
    path: &'static str,
    permission: Permission,
    h: H,
) -> Route {
    make(Method::PATCH, path, permission, h)
}

/// A DELETE route.
pub fn delete<H: Handler<T, AppState>, T: 'static>(
    path: &'static str,
    permission: Permission,
    h: H,
) -> Route {
    make(Method::DELETE, path, permission, h)
}

/// Every route of the server, capability by capability.
pub fn all() -> Vec<Route> {
    [
        crate::web::routes(),
        crate::api::routes(),
        crate::epcis::routes(),
        crate::public::resolver::routes(),
        crate::operations_routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Adds the routes under `mount` (`""` for the root) to `router`, their paths taken relative to it.
pub fn mount(
    mut router: Router<AppState>,
    mount: &str,
    routes: &mut Vec<Route>,
) -> Router<AppState> {
    let (mine, rest): (Vec<Route>, Vec<Route>) =
        std::mem::take(routes).into_iter().partition(|r| {
            mount.is_empty()
                || r.path == mount
                || r.path
                    .strip_prefix(mount)
                    .is_some_and(|p| p.starts_with('/'))
        });
    *routes = rest;
    for r in mine {
        let rel = match r.path.strip_prefix(mount) {
            Some("") => "/",
            Some(p) => p,
            None => r.path,
        };
        router = router.route(rel, r.handler);
    }
    router
}
