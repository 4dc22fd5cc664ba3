//! The permission every route needs, in one table. [`crate::auth::guard`] looks each request up here;
//! a route missing from the table is refused to everyone (fail closed), and the permission-matrix test walks
//! this table for every role.

use axum::http::Method;
use suyuan_core::access::Permission;

use Permission as P;

/// Every route: method, path pattern (as the router matches it) and the permission it needs.
pub const ROUTES: &[(Method, &str, Permission)] = &[
    // Open to anyone.
    (Method::GET, "/healthz", P::Public),
    (Method::GET, "/readyz", P::Public),
    (Method::GET, "/static/{*path}", P::Public),
    (Method::GET, "/login", P::Public),
    (Method::POST, "/login", P::Public),
    (Method::POST, "/logout", P::Public),
    (Method::GET, "/api/v1/me", P::Public),
    (Method::GET, "/api/v1/ledger/key", P::Public),
    (Method::GET, "/api/v1/ledger/checkpoint", P::Public),
    // Events and objects (partners and regulators see their scope only).
    (Method::GET, "/", P::EventsRead),
    (Method::GET, "/partials/recent", P::EventsRead),
    (Method::GET, "/events", P::EventsRead),
    (Method::GET, "/events/view", P::EventsRead),
    (Method::GET, "/objects", P::EventsRead),
    (Method::GET, "/search", P::EventsRead),
    (Method::GET, "/api/v1/search", P::EventsRead),
    (Method::GET, "/api/v1/events", P::EventsRead),
    (Method::GET, "/api/v1/events/{*event_id}", P::EventsRead),
    (Method::GET, "/api/v1/objects/{*uri}", P::EventsRead),
    (Method::POST, "/api/v1/events", P::EventsWrite),
    // EPCIS 2.0 REST bindings (partners and regulators see their scope only).
    (Method::GET, "/epcis", P::EventsRead),
    (Method::GET, "/epcis/events", P::EventsRead),
    (Method::GET, "/epcis/events/{*event_id}", P::EventsRead),
    (Method::GET, "/epcis/masterData", P::EventsRead),
    (
        Method::DELETE,
        "/epcis/nextPageToken/{token}",
        P::EventsRead,
    ),
    (Method::GET, "/epcis/{resource}", P::EventsRead),
    (Method::GET, "/epcis/{resource}/{value}", P::EventsRead),
    (
        Method::GET,
        "/epcis/{resource}/{value}/events",
        P::EventsRead,
    ),
    (Method::POST, "/epcis/events", P::EventsWrite),
    (Method::POST, "/epcis/capture", P::EventsWrite),
    (Method::GET, "/epcis/capture", P::EventsWrite),
    (Method::GET, "/epcis/capture/{id}", P::EventsWrite),
    (Method::GET, "/epcis/queries", P::EventsRead),
    (Method::POST, "/epcis/queries", P::QueriesWrite),
    (Method::GET, "/epcis/queries/{name}", P::EventsRead),
    (Method::DELETE, "/epcis/queries/{name}", P::QueriesWrite),
    (Method::GET, "/epcis/queries/{name}/events", P::EventsRead),
    (
        Method::GET,
        "/epcis/queries/{name}/subscriptions",
        P::EventsRead,
    ),
    (
        Method::POST,
        "/epcis/queries/{name}/subscriptions",
        P::QueriesWrite,
    ),
    (
        Method::GET,
        "/epcis/queries/{name}/subscriptions/{id}",
        P::EventsRead,
    ),
    (
        Method::DELETE,
        "/epcis/queries/{name}/subscriptions/{id}",
        P::QueriesWrite,
    ),
    // Trace and recall.
    (Method::GET, "/api/v1/trace/backward", P::TraceRead),
    (Method::GET, "/api/v1/trace/forward", P::TraceRead),
    (Method::GET, "/api/v1/trace/recall", P::TraceRead),
    // Identifiers and codes.
    (Method::GET, "/api/v1/identifiers/parse", P::CodesRead),
    (Method::GET, "/api/v1/coding-rules", P::CodesRead),
    (Method::GET, "/api/v1/coding-rules/{name}", P::CodesRead),
    (Method::GET, "/api/v1/codes/check", P::CodesRead),
    (Method::POST, "/api/v1/coding-rules", P::CodesWrite),
    (Method::POST, "/api/v1/codes", P::CodesWrite),
    (Method::POST, "/api/v1/codes/revoke", P::CodesWrite),
    // Labels.
    (Method::GET, "/labels", P::LabelsRead),
    (Method::GET, "/labels/jobs/{id}", P::LabelsRead),
    (Method::GET, "/labels/preview", P::LabelsRead),
    (Method::GET, "/api/v1/label-templates", P::LabelsRead),
    (Method::GET, "/api/v1/label-templates/{name}", P::LabelsRead),
    (
        Method::GET,
        "/api/v1/label-templates/{name}/preview",
        P::LabelsRead,
    ),
    (Method::GET, "/api/v1/label-jobs/{id}", P::LabelsRead),
    (Method::GET, "/api/v1/label-jobs/{id}/output", P::LabelsRead),
    (Method::GET, "/api/v1/barcodes", P::LabelsRead),
    (Method::POST, "/labels/jobs", P::LabelsWrite),
    (Method::POST, "/api/v1/label-templates", P::LabelsWrite),
    (Method::POST, "/api/v1/label-jobs", P::LabelsWrite),
    // Ledger proofs.
    (Method::GET, "/api/v1/proofs/{*event_id}", P::LedgerRead),
    (Method::GET, "/api/v1/ledger/consistency", P::LedgerRead),
    // Operations.
    (Method::GET, "/metrics", P::MetricsRead),
    // Administration.
    (Method::GET, "/api/v1/roles", P::Admin),
    (Method::GET, "/api/v1/users", P::Admin),
    (Method::POST, "/api/v1/users", P::Admin),
    (Method::GET, "/api/v1/users/{name}", P::Admin),
    (Method::PATCH, "/api/v1/users/{name}", P::Admin),
    (Method::GET, "/api/v1/tokens", P::Admin),
    (Method::POST, "/api/v1/tokens", P::Admin),
    (Method::DELETE, "/api/v1/tokens/{id}", P::Admin),
    (Method::GET, "/api/v1/grants", P::Admin),
    (Method::POST, "/api/v1/grants", P::Admin),
    (Method::DELETE, "/api/v1/grants/{id}", P::Admin),
    (Method::GET, "/api/v1/access-log", P::Admin),
];

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
    for (m, p, perm) in ROUTES {
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
    ROUTES
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
        for (m, p, _) in ROUTES {
            assert!(seen.insert((m.clone(), *p)), "{m} {p} listed twice");
        }
    }
}
