//! The permission every route needs, in one table built from the routes themselves. [`crate::auth::guard`] looks each request up here;
//! a route missing from the table is refused to everyone (fail closed), and the permission-matrix test walks
//! this table for every role.

use axum::http::Method;
use std::sync::OnceLock;
use suyuan_core::access::Permission;

#[cfg(test)]
use Permission as P;

/// Every route: method, path pattern (as the router matches it) and the permission it needs — read from the
/// capability modules' route lists ([`crate::routes::all`]), the same lists the router is built from.
pub fn table() -> &'static [(Method, &'static str, Permission)] {
    static TABLE: OnceLock<Vec<(Method, &'static str, Permission)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        crate::routes::all()
            .into_iter()
            .map(|r| (r.method, r.path, r.permission))
            .collect()
    })
}

/// What a matched route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// The table's permission for this method and path.
    Permission(Permission),
    /// The path is routed but not for this method: let the router answer 405.
    OtherMethod,
    /// The path is not in the table: refuse (a route someone forgot to list).
    Unlisted,
}

/// The permission a request to the route pattern `path` with `method` needs (HEAD as GET).
pub fn need(method: &Method, path: &str) -> Need {
    let method = if method == Method::HEAD {
        &Method::GET
    } else {
        method
    };
    let mut path_known = false;
    for (m, p, perm) in table() {
        if *p == path {
            if m == method {
                return Need::Permission(*perm);
            }
            path_known = true;
        }
    }
    if path_known {
        Need::OtherMethod
    } else {
        Need::Unlisted
    }
}

/// The methods the route pattern `path` answers, each with the permission it needs (HEAD not listed).
pub fn methods(path: &str) -> Vec<(Method, Permission)> {
    table()
        .iter()
        .filter(|(_, p, _)| *p == path)
        .map(|(m, _, perm)| (m.clone(), *perm))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups() {
        assert_eq!(
            need(&Method::GET, "/api/v1/events"),
            Need::Permission(P::EventsRead)
        );
        assert_eq!(
            need(&Method::HEAD, "/api/v1/events"),
            Need::Permission(P::EventsRead)
        );
        assert_eq!(
            need(&Method::POST, "/api/v1/events"),
            Need::Permission(P::EventsWrite)
        );
        assert_eq!(need(&Method::PUT, "/api/v1/events"), Need::OtherMethod);
        assert_eq!(need(&Method::GET, "/api/v1/secret"), Need::Unlisted);
        let mut seen = std::collections::HashSet::new();
        for (m, p, _) in table() {
            assert!(seen.insert((m.clone(), *p)), "{m} {p} listed twice");
        }
    }
}
