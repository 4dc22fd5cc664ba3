//! Access control through the router: the permission matrix on every route for every role, partner and
//! regulator row scopes, sessions (fixation, CSRF, sign-out), sign-in throttling, public rate limits, tokens
//! revoked at once, and administrative changes on the ledger.

use super::*;
use std::collections::HashMap;
use std::time::Duration;
use suyuan_core::access::Role;
use suyuan_engine::accounts::{NewGrant, NewUser};
use suyuan_server::access::table;
use suyuan_server::limits::{Budget, LimitConfig};

mod sessions;
mod webhooks;

use sessions::login;

const PASSWORD: &str = "correct horse battery";

/// Creates user `name` with `role` (partners get the prefix 6930001) and answers an API token of it.
pub(crate) async fn user_token(engine: &Engine, name: &str, role: Role) -> String {
    let new = NewUser {
        name: name.into(),
        role: role.as_str().into(),
        password: Some(PASSWORD.into()),
        company_prefixes: if role == Role::Partner {
            vec!["6930001".into()]
        } else {
            Vec::new()
        },
        ..Default::default()
    };
    engine.create_user("test", &new).await.expect("user");
    let expires = chrono::Utc::now() + chrono::Duration::days(1);
    engine
        .create_token("test", name, &[], expires, "")
        .await
        .expect("token")
        .0
}

pub(crate) fn engine_of(t: &TestApp) -> Engine {
    Engine::new(t.store.clone())
}

pub(crate) fn req(method: &axum::http::Method, uri: &str, token: Option<&str>) -> Request<Body> {
    let mut b = Request::builder().method(method.clone()).uri(uri);
    if let Some(tok) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {tok}"));
    }
    if method != axum::http::Method::GET {
        b = b.header(header::CONTENT_TYPE, "application/json");
        return b.body(Body::from("{}")).expect("request");
    }
    b.body(Body::empty()).expect("request")
}

/// A concrete URL for a route pattern.
fn concrete(path: &str) -> String {
    path.replace("{*path}", "css/app.css")
        .replace(
            "{*event_id}",
            "urn:uuid:00000000-0000-4000-8000-000000000001",
        )
        .replace("{*uri}", "urn:epc:id:sgtin:6901234.012345.1")
        .replace("{name}", "nobody")
        .replace("{id}", "1")
        .replace("{resource}", "bizSteps")
        .replace("{value}", "shipping")
}

/// Routes of the plant's operations, which partners and regulators may not use whatever their permissions.
fn plant_only(path: &str, role: Role) -> bool {
    const PLANT: [&str; 27] = [
        "/api/v1/forms",
        "/api/v1/submissions",
        "/api/v1/workflows",
        "/api/v1/cases",
        "/api/v1/reports",
        "/api/v1/dashboards",
        "/forms",
        "/workflows",
        "/cases",
        "/reports",
        "/dashboards",
        "/api/v1/masterdata",
        "/api/v1/quality/",
        "/api/v1/work-orders",
        "/api/v1/stations",
        "/api/v1/inventory",
        "/api/v1/metrics/",
        "/api/v1/alerts",
        "/station",
        "/orders",
        "/masterdata",
        "/alerts",
        "/quality",
        "/api/v1/rules",
        "/api/v1/tasks",
        "/rules",
        "/tasks",
    ];
    // The import template is the headings of a kind, nothing of the plant's.
    // The sampling table is the standard's, nothing of the plant's.
    (PLANT.iter().any(|p| path.starts_with(p))
        && !path.ends_with("template.csv")
        && path != "/api/v1/quality/sampling")
        || (path == "/warehouse" && role == Role::Regulator)
}

/// Quality decisions (holds, releases, nonconformance steps, resuming a scheme) are the quality
/// manager's, whatever else a role may write.
fn quality_decision(method: &axum::http::Method, path: &str, role: Role) -> bool {
    *method == axum::http::Method::POST
        && (path.starts_with("/api/v1/quality/holds")
            || path.starts_with("/api/v1/quality/ncrs/")
            || path.starts_with("/quality/holds")
            || path.starts_with("/quality/ncrs/")
            || path == "/api/v1/quality/schemes/resume")
        && !matches!(role, Role::QualityManager | Role::Admin | Role::Integrator)
}

#[tokio::test]
async fn every_route_answers_every_role_as_the_matrix_says() {
    let t = test_app().await;
    let engine = engine_of(&t);
    let mut tokens: HashMap<Role, String> = HashMap::new();
    for role in Role::ALL {
        if role != Role::Public {
            let tok = user_token(&engine, &format!("u-{role}"), role).await;
            tokens.insert(role, tok);
        }
    }
    let mut checked = 0;
    for (method, path, perm) in table() {
        let uri = concrete(path);
        for role in Role::ALL {
            let a = t
                .send_as_is(req(method, &uri, tokens.get(&role).map(String::as_str)))
                .await;
            let s = a.status;
            let what = format!("{role} {method} {uri} ({perm}): {} {}", s, a.body);
            if role.allows(*perm) && *path == "/api/v1/trace/recall" && role == Role::Regulator {
                // Held by the matrix, refused by the row scope: a recall names holders beyond any grant.
                assert_eq!(s, StatusCode::FORBIDDEN, "{what}");
                assert!(a.body.contains("beyond any grant"), "{what}");
            } else if role.allows(*perm)
                && path.starts_with("/api/v1/dashboard/")
                && matches!(role, Role::Partner | Role::Regulator)
            {
                // Held by the matrix, refused by the row scope: plant-wide figures are for plant staff.
                assert_eq!(s, StatusCode::FORBIDDEN, "{what}");
                assert!(a.body.contains("plant-wide figures"), "{what}");
            } else if role.allows(*perm)
                && matches!(role, Role::Partner | Role::Regulator)
                && plant_only(path, role)
            {
                // Held by the matrix, refused by the row scope: plant operations are for plant staff (a
                // partner records receipts through the warehouse routes, which judge the action). A form
                // post without its form is turned away before it reaches the check.
                assert!(
                    s == StatusCode::FORBIDDEN
                        || (*method == axum::http::Method::POST
                            && s == StatusCode::UNSUPPORTED_MEDIA_TYPE),
                    "{what}"
                );
            } else if role.allows(*perm) && quality_decision(method, path, role) {
                assert!(
                    s == StatusCode::FORBIDDEN || s == StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "{what}"
                );
            } else if role.allows(*perm) {
                assert!(
                    s != StatusCode::UNAUTHORIZED && s != StatusCode::FORBIDDEN,
                    "allowed, got {what}"
                );
            } else if role == Role::Public {
                let page = suyuan_server::auth::is_page(path);
                if page && *method == axum::http::Method::GET {
                    assert_eq!(s, StatusCode::SEE_OTHER, "{what}");
                    let loc = a.headers[header::LOCATION].to_str().expect("location");
                    assert!(loc.starts_with("/login?next="), "{what}");
                } else {
                    assert_eq!(s, StatusCode::UNAUTHORIZED, "{what}");
                    assert!(a.headers.contains_key(header::WWW_AUTHENTICATE), "{what}");
                }
            } else {
                assert_eq!(s, StatusCode::FORBIDDEN, "{what}");
                assert!(
                    a.body.contains(&format!("does not hold '{perm}'")),
                    "{what}"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, table().len() * Role::ALL.len());
    // A token narrower than its role: refused for the missing scope, with the reason.
    let expires = chrono::Utc::now() + chrono::Duration::days(1);
    let (narrow, _) = engine
        .create_token("test", "admin", &["events:read".into()], expires, "")
        .await
        .expect("token");
    let a = t
        .send_as_is(req(
            &axum::http::Method::POST,
            "/api/v1/events",
            Some(&narrow),
        ))
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(
        a.body.contains("lacks the scope 'events:write'"),
        "{}",
        a.body
    );
    // A scope the role does not hold cannot be granted to a token.
    let e = engine
        .create_token("test", "u-viewer", &["admin".into()], expires, "")
        .await
        .expect_err("viewer cannot hold admin");
    assert!(e.to_string().contains("scopes/0"), "{e}");
}

#[tokio::test]
async fn unknown_paths_are_404_and_anonymous_sees_no_internal_data() {
    let t = test_app().await;
    assert_eq!(
        t.send_as_is(req(&axum::http::Method::GET, "/api/v1/nothing-here", None))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let me = t
        .send_as_is(req(&axum::http::Method::GET, "/api/v1/me", None))
        .await
        .json();
    assert_eq!(me["role"], "public");
    assert_eq!(me["permissions"], json!([]));
    // The sign-in page explains no scope to an anonymous visitor (the regulator banner is for regulators).
    for lang in ["zh-CN", "en"] {
        let page = t
            .send_as_is(req(
                &axum::http::Method::GET,
                &format!("/login?lang={lang}"),
                None,
            ))
            .await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            !page.body.contains("监管视图") && !page.body.contains("Regulator view"),
            "{}",
            page.body
        );
    }
    let bad = t
        .send_as_is(req(
            &axum::http::Method::GET,
            "/api/v1/events",
            Some("sy_000000000000_nope"),
        ))
        .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    assert!(bad.body.contains("unknown, expired or revoked"));
}

/// Events of a small supply chain: production at the plant, a shipment to distributor 6930001 (partner)
/// and one to 6930002 (another partner), and the partner's receipt.
fn chain() -> Vec<Value> {
    let can = |n: u32| format!("urn:epc:id:sgtin:6901234.012345.{n}");
    let base = |id: &str, t: &str| {
        json!({"type": "ObjectEvent", "eventID": format!("urn:uuid:00000000-0000-4000-8000-00000000000{id}"),
               "eventTime": t, "eventTimeZoneOffset": "+08:00", "action": "OBSERVE"})
    };
    let mut made = base("1", "2026-10-01T08:00:00+08:00");
    made["action"] = json!("ADD");
    made["bizStep"] = json!("commissioning");
    made["epcList"] = json!([can(1), can(2)]);
    made["readPoint"] = json!({"id": "urn:epc:id:sgln:6901234.00001.0"});
    let mut ship1 = base("2", "2026-10-02T08:00:00+08:00");
    ship1["bizStep"] = json!("shipping");
    ship1["epcList"] = json!([can(1)]);
    ship1["sourceList"] =
        json!([{"type": "owning_party", "source": "urn:epc:id:pgln:6901234.00000"}]);
    ship1["destinationList"] =
        json!([{"type": "owning_party", "destination": "urn:epc:id:pgln:6930001.00000"}]);
    let mut ship2 = base("3", "2026-10-02T09:00:00+08:00");
    ship2["bizStep"] = json!("shipping");
    ship2["epcList"] = json!([can(2)]);
    ship2["destinationList"] =
        json!([{"type": "owning_party", "destination": "urn:epc:id:pgln:6930002.00000"}]);
    let mut recv = base("4", "2026-10-03T08:00:00+08:00");
    recv["bizStep"] = json!("receiving");
    recv["epcList"] = json!([can(1)]);
    recv["bizLocation"] = json!({"id": "urn:epc:id:sgln:6930001.00001.0"});
    let mut milk = base("5", "2026-10-01T07:00:00+08:00");
    milk["bizStep"] = json!("receiving");
    milk["quantityList"] = json!([{"epcClass": "urn:epc:class:lgtin:6920001.000011.RM1", "quantity": 3000, "uom": "KGM"}]);
    let mut late = base("6", "2026-11-20T08:00:00+08:00");
    late["epcList"] = json!([can(1)]);
    late["bizStep"] = json!("inspecting");
    vec![made, ship1, ship2, recv, milk, late]
}

async fn load_chain(t: &TestApp) {
    for e in chain() {
        let a = t.post_json("/api/v1/events", &e).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    }
}

fn ids(list: &Value) -> Vec<String> {
    list["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["eventID"].as_str())
        .map(|s| s[s.len() - 1..].to_string())
        .collect()
}

#[tokio::test]
async fn partners_see_and_capture_only_their_shipments() {
    let t = test_app().await;
    load_chain(&t).await;
    let engine = engine_of(&t);
    let p = user_token(&engine, "gz", Role::Partner).await;
    let get = |uri: &str| t.send_as_is(req(&axum::http::Method::GET, uri, Some(&p)));
    let list = get("/api/v1/events").await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(
        ids(&list.json()),
        ["2", "4"],
        "shipped to it, received by it"
    );
    for hidden in ["1", "3", "5", "6"] {
        let uri = format!("/api/v1/events/urn:uuid:00000000-0000-4000-8000-00000000000{hidden}");
        assert_eq!(get(&uri).await.status, StatusCode::NOT_FOUND, "{uri}");
        let proof = format!("/api/v1/proofs/urn:uuid:00000000-0000-4000-8000-00000000000{hidden}");
        assert_eq!(get(&proof).await.status, StatusCode::NOT_FOUND, "{proof}");
    }
    let page = get("/events?lang=en").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Partner view"), "the scope is named");
    assert!(
        !page.body.contains("href=\"/labels\""),
        "no link to a page it may not open"
    );
    assert_eq!(
        page.body.matches("<tr>").count(),
        3,
        "a header and its two events"
    );
    let rows = page.body.split("<tbody>").nth(1).unwrap_or_default();
    assert!(!rows.contains("commissioning") && !rows.contains("Commissioning"));
    let obj = get("/api/v1/objects/urn:epc:id:sgtin:6901234.012345.1").await;
    assert_eq!(obj.status, StatusCode::OK);
    let hist: Vec<u64> = obj.json()["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|e| e["seq"].as_u64())
        .collect();
    assert_eq!(hist.len(), 2, "only the shipment and the receipt");
    // Its state is told as of the partner's own last event (the receipt at its DC).
    assert_eq!(
        obj.json()["object"]["location"],
        "https://id.gs1.org/414/6930001000010"
    );
    assert_eq!(obj.json()["object"]["eventCount"], 2);
    assert_eq!(
        get("/api/v1/objects/urn:epc:id:sgtin:6901234.012345.2")
            .await
            .status,
        StatusCode::NOT_FOUND,
        "shipped to someone else"
    );
    assert_eq!(
        get("/api/v1/objects/urn:epc:id:sgtin:6901234.012345.1/story")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // No trace path around the scope.
    for uri in [
        "/api/v1/trace/backward?id=urn:epc:id:sgtin:6901234.012345.1",
        "/api/v1/trace/recall?id=urn:epc:id:sgtin:6901234.012345.1",
    ] {
        assert_eq!(get(uri).await.status, StatusCode::FORBIDDEN, "{uri}");
    }
    let capture = |e: Value| {
        t.send_as_is(
            Request::post("/api/v1/events")
                .header(header::AUTHORIZATION, format!("Bearer {p}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(e.to_string()))
                .expect("request"),
        )
    };
    let mut own = json!({"type": "ObjectEvent", "eventTime": "2026-10-04T08:00:00+08:00",
        "eventTimeZoneOffset": "+08:00", "action": "OBSERVE", "bizStep": "storing",
        "epcList": ["urn:epc:id:sgtin:6901234.012345.1"],
        "bizLocation": {"id": "urn:epc:id:sgln:6930001.00001.0"}});
    let ok = capture(own.clone()).await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.body);
    own["epcList"] = json!(["urn:epc:id:sgtin:6901234.012345.2"]);
    let other = capture(own.clone()).await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    assert!(
        other.body.contains("neither shipped to you"),
        "{}",
        other.body
    );
    own["epcList"] = json!(["urn:epc:id:sgtin:6901234.012345.1"]);
    own["bizLocation"] = json!({"id": "urn:epc:id:sgln:6901234.00001.0"});
    let elsewhere = capture(own).await;
    assert_eq!(elsewhere.status, StatusCode::FORBIDDEN);
    assert!(
        elsewhere.body.contains("own locations"),
        "{}",
        elsewhere.body
    );
}

#[tokio::test]
async fn regulators_read_within_their_grants_and_every_read_is_logged() {
    let t = test_app().await;
    load_chain(&t).await;
    let engine = engine_of(&t);
    let r = user_token(&engine, "samr", Role::Regulator).await;
    let get = |uri: &str| t.send_as_is(req(&axum::http::Method::GET, uri, Some(&r)));
    assert!(
        ids(&get("/api/v1/events").await.json()).is_empty(),
        "no grant, nothing"
    );
    let grant = engine
        .create_grant(
            "test",
            &NewGrant {
                user: "samr".into(),
                gtins: vec!["6901234123456".into()],
                from: "2026-10-01T00:00:00+08:00".into(),
                to: "2026-11-01T00:00:00+08:00".into(),
                expires_at: "30d".into(),
                note: "audit".into(),
            },
        )
        .await
        .expect("grant");
    assert_eq!(
        ids(&get("/api/v1/events").await.json()),
        ["1", "2", "3", "4"],
        "the can's events in the period; not the milk lot, not after the period"
    );
    let fwd = get("/api/v1/trace/backward?id=urn:epc:id:sgtin:6901234.012345.1").await;
    assert_eq!(fwd.status, StatusCode::OK, "{}", fwd.body);
    let milk = get("/api/v1/trace/forward?id=urn:epc:class:lgtin:6920001.000011.RM1").await;
    assert_eq!(milk.status, StatusCode::NOT_FOUND, "outside the grant");
    let write = t
        .send_as_is(req(&axum::http::Method::POST, "/api/v1/events", Some(&r)))
        .await;
    assert_eq!(write.status, StatusCode::FORBIDDEN);
    let log = t.get("/api/v1/access-log?user=samr").await.json();
    let lines: Vec<&str> = log["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["request"].as_str())
        .collect();
    assert_eq!(
        lines,
        [
            "GET /api/v1/trace/forward?id=urn:epc:class:lgtin:6920001.000011.RM1",
            "GET /api/v1/trace/backward?id=urn:epc:id:sgtin:6901234.012345.1",
            "GET /api/v1/events",
            "GET /api/v1/events",
        ]
    );
    assert_eq!(log["entries"][2]["items"], 4);
    // The backward trace returned the can and its origins: counted, not 0.
    assert!(
        log["entries"][1]["items"].as_u64().is_some_and(|n| n >= 1),
        "{log}"
    );
    // One event by its ID counts one.
    let one = get("/epcis/events/urn:uuid:00000000-0000-4000-8000-000000000001").await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.body);
    let log = t.get("/api/v1/access-log?user=samr").await.json();
    assert_eq!(log["entries"][0]["items"], 1, "{log}");
    engine
        .revoke_grant("test", &grant.id)
        .await
        .expect("revoke");
    assert!(
        ids(&get("/api/v1/events").await.json()).is_empty(),
        "revoked at once"
    );
}

#[tokio::test]
async fn tokens_and_users_change_at_once_and_every_change_is_on_the_ledger() {
    let t = test_app().await;
    let created = t
        .post_json(
            "/api/v1/users",
            &json!({"name": "wang", "role": "operator", "display": "王工"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let password = created.json()["password"]
        .as_str()
        .expect("generated")
        .to_string();
    assert!(!created.body.contains("argon2"));
    let bad = t
        .post_json(
            "/api/v1/users",
            &json!({"name": "Zhang San", "role": "boss"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("/name"), "{}", bad.body);
    let dup = t
        .post_json("/api/v1/users", &json!({"name": "wang", "role": "viewer"}))
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    let tok = t
        .post_json(
            "/api/v1/tokens",
            &json!({"user": "wang", "scopes": ["events:read"], "expiresAt": "1d", "note": "scanner"}),
        )
        .await;
    assert_eq!(tok.status, StatusCode::CREATED, "{}", tok.body);
    let token = tok.json()["token"].as_str().expect("token").to_string();
    let id = tok.json()["info"]["id"].as_str().expect("id").to_string();
    let read = || {
        t.send_as_is(req(
            &axum::http::Method::GET,
            "/api/v1/events",
            Some(&token),
        ))
    };
    assert_eq!(read().await.status, StatusCode::OK);
    let revoked = t
        .send(
            Request::delete(format!("/api/v1/tokens/{id}"))
                .body(Body::empty())
                .expect("r"),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    assert_eq!(
        read().await.status,
        StatusCode::UNAUTHORIZED,
        "revoked at once"
    );
    // Disabling a user ends its sign-ins.
    let disable = t
        .send(
            Request::patch("/api/v1/users/wang")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(r#"{"disabled": true}"#))
                .expect("r"),
        )
        .await;
    assert_eq!(disable.status, StatusCode::OK, "{}", disable.body);
    assert_eq!(
        t.send_as_is(login("wang", &password, None)).await.status,
        StatusCode::UNAUTHORIZED
    );
    // The audit trail is the ledger: who did what, never a secret.
    let hist = t.get("/api/v1/objects/urn:suyuan:sys:user:wang").await;
    assert_eq!(hist.status, StatusCode::OK, "{}", hist.body);
    let changes: Vec<(String, String)> = hist.json()["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|e| {
            (
                e["event"]["sy:change"].as_str().unwrap_or("").to_string(),
                e["event"]["sy:actor"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            ("user.created".to_string(), "admin".to_string()),
            ("user.changed".to_string(), "admin".to_string())
        ]
    );
    assert!(!hist.body.contains(&password) && !hist.body.contains("argon2"));
    let token_hist = t
        .get(&format!("/api/v1/objects/urn:suyuan:sys:token:{id}"))
        .await;
    assert!(token_hist.body.contains("token.revoked"));
    assert!(!token_hist.body.contains(&token[16..]), "no token secret");
    let rule = t
        .post_json(
            "/api/v1/coding-rules",
            &json!({"name": "r9", "definition": {"template": "{SEQ:4}"}}),
        )
        .await;
    assert_eq!(rule.status, StatusCode::CREATED);
    let def = t
        .get("/api/v1/objects/urn:suyuan:sys:coding_rule:r9")
        .await
        .json();
    assert_eq!(def["history"][0]["event"]["sy:details"]["version"], 1);
}
