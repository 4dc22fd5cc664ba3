//! Subscriptions belong to their subscriber; webhooks go only to allowed hosts.

#[allow(unused_imports)]
use super::*;

/// Named queries and subscriptions are for administrators and integrators; a subscriber sees and ends only
/// their own subscriptions; webhooks go only to allowed hosts.
#[tokio::test]
pub(super) async fn subscriptions_belong_to_their_subscriber_and_webhooks_go_only_where_allowed() {
    let t = test_app().await;
    let engine = engine_of(&t);
    let integrator = user_token(&engine, "erp", Role::Integrator).await;
    let other = user_token(&engine, "wms", Role::Integrator).await;
    let viewer = user_token(&engine, "look", Role::Viewer).await;
    let post = |uri: &str, tok: &str, body: Value| {
        let mut r = req(&axum::http::Method::POST, uri, Some(tok));
        *r.body_mut() = Body::from(body.to_string());
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            "application/json".parse().expect("header"),
        );
        t.send_as_is(r)
    };
    let q = json!({"name": "erp-ships", "query": {"EQ_bizStep": "shipping"}});
    // A viewer reads, but keeps no queries and no webhooks.
    assert_eq!(
        post("/epcis/queries", &viewer, q.clone()).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post("/epcis/queries", &integrator, q).await.status,
        StatusCode::CREATED
    );
    let sub = json!({"dest": "http://127.0.0.1:9/hook", "stream": true});
    let made = post("/epcis/queries/erp-ships/subscriptions", &integrator, sub).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let loc = made.headers[header::LOCATION]
        .to_str()
        .expect("location")
        .to_string();
    // Not on the allow-list: refused, located.
    let far = post(
        "/epcis/queries/erp-ships/subscriptions",
        &integrator,
        json!({"dest": "https://attacker.example/hook", "stream": true}),
    )
    .await;
    assert_eq!(far.status, StatusCode::BAD_REQUEST, "{}", far.body);
    assert!(far.body.contains("allow-list"), "{}", far.body);
    // Another subscriber neither lists nor reads nor ends it; the owner and an administrator do.
    let list = |tok: String| {
        let t = &t;
        async move {
            t.send_as_is(req(
                &axum::http::Method::GET,
                "/epcis/queries/erp-ships/subscriptions",
                Some(&tok),
            ))
            .await
            .json()
        }
    };
    assert_eq!(list(other.clone()).await, json!([]));
    assert_eq!(
        list(integrator.clone()).await.as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(
        list(t.token.clone()).await.as_array().map(Vec::len),
        Some(1)
    );
    let get = t
        .send_as_is(req(&axum::http::Method::GET, &loc, Some(&other)))
        .await;
    assert_eq!(get.status, StatusCode::NOT_FOUND);
    let end = t
        .send_as_is(req(&axum::http::Method::DELETE, &loc, Some(&other)))
        .await;
    assert_eq!(end.status, StatusCode::NOT_FOUND);
    let end = t
        .send_as_is(req(&axum::http::Method::DELETE, &loc, Some(&integrator)))
        .await;
    assert_eq!(end.status, StatusCode::NO_CONTENT);
    // Who sent the ledger where, and who stopped it, is on the ledger.
    let id = loc.rsplit('/').next().expect("id");
    let audit = t
        .get(&format!("/api/v1/objects/urn:suyuan:sys:subscription:{id}"))
        .await
        .json();
    let changes: Vec<&str> = audit["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|e| e["event"]["sy:change"].as_str())
        .collect();
    assert_eq!(
        changes,
        ["subscription.created", "subscription.deleted"],
        "{audit}"
    );
    assert_eq!(
        audit["history"][0]["event"]["sy:details"]["dest"],
        "http://127.0.0.1:9/hook"
    );
}

#[test]
pub(super) fn the_webhook_allow_list_matches_hosts_and_ports() {
    let allow =
        suyuan_server::WebhookAllowList(vec!["hooks.example.cn".into(), "10.1.2.3:8443".into()]);
    assert!(allow.allows("https://hooks.example.cn/epcis"));
    assert!(allow.allows("https://HOOKS.example.cn:443/x"));
    assert!(allow.allows("https://10.1.2.3:8443/x"));
    assert!(!allow.allows("https://10.1.2.3:9000/x"));
    assert!(!allow.allows("https://hooks.example.cn@evil.example/x"));
    assert!(!allow.allows("https://evil.example/hooks.example.cn"));
    assert!(!allow.allows("ftp://hooks.example.cn/"));
    assert!(!suyuan_server::WebhookAllowList::default().allows("http://127.0.0.1/"));
}
