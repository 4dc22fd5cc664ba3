//! Named queries with webhook and WebSocket subscriptions.

#[allow(unused_imports)]
use super::*;

/// A local webhook receiver: records every delivery; answers 500 to the first `fail_first` ones.
pub(super) async fn receiver(
    fail_first: usize,
) -> (String, Arc<std::sync::Mutex<Vec<(HeaderMapLite, String)>>>) {
    use axum::routing::post;
    let got: Arc<std::sync::Mutex<Vec<(HeaderMapLite, String)>>> = Arc::default();
    let seen = got.clone();
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let app = axum::Router::new().route(
        "/hook",
        post(move |headers: axum::http::HeaderMap, body: String| {
            let seen = seen.clone();
            let calls = calls.clone();
            async move {
                let n = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let sig = headers
                    .get("gs1-signature")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                seen.lock()
                    .expect("lock")
                    .push((HeaderMapLite { signature: sig }, body));
                if n < fail_first {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, got)
}

/// What a delivery carried besides its body.
#[derive(Debug, Clone)]
pub(super) struct HeaderMapLite {
    pub(super) signature: String,
}

pub(super) async fn named_queries_and_webhook_subscriptions_deliver_at_least_once(t: TestApp) {
    let q = json!({"name": "ships", "query": {"EQ_bizStep": ["shipping", "receiving"], "eventType": "ObjectEvent"}});
    let made = post_with(&t, "/epcis/queries", &q, &[]).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    assert_eq!(made.headers[header::LOCATION], "/epcis/queries/ships");
    let again = post_with(&t, "/epcis/queries", &q, &[]).await;
    assert_eq!(
        again.json()["type"],
        "epcisException:ResourceAlreadyExistsException"
    );
    let bad = post_with(
        &t,
        "/epcis/queries",
        &json!({"name": "x", "query": {"EQ_colour": "red"}}),
        &[],
    )
    .await;
    assert_eq!(bad.json()["type"], "epcisException:QueryParameterException");
    let (url, got) = receiver(1).await;
    let no_controls = post_with(
        &t,
        "/epcis/queries/ships/subscriptions",
        &json!({"dest": url}),
        &[],
    )
    .await;
    assert_eq!(
        no_controls.json()["type"],
        "epcisException:SubscriptionControlsException"
    );
    let bad_schedule = post_with(
        &t,
        "/epcis/queries/ships/subscriptions",
        &json!({"dest": url, "schedule": {"minute": "75"}}),
        &[],
    )
    .await;
    assert!(
        bad_schedule.body.contains("minute"),
        "{}",
        bad_schedule.body
    );
    let sub = post_with(
        &t,
        "/epcis/queries/ships/subscriptions",
        &json!({"dest": url, "signatureToken": "s3cret", "stream": true}),
        &[],
    )
    .await;
    assert_eq!(sub.status, StatusCode::CREATED, "{}", sub.body);
    assert_eq!(
        sub.json()["signatureToken"],
        "(set)",
        "the secret is not echoed"
    );
    let loc = sub.headers[header::LOCATION]
        .to_str()
        .expect("location")
        .to_string();
    // Capture after subscribing: the shipment and the receipt match, the commissioning does not.
    let a = post_with(
        &t,
        "/epcis/capture",
        &capture_doc(fixture()[..3].to_vec()),
        &[],
    )
    .await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.body);
    // The first attempt fails (500): nothing is lost, the next attempt waits its back-off.
    assert_eq!(
        suyuan_server::epcis::queries::deliver_due(&t.state)
            .await
            .expect("deliver"),
        0
    );
    let state = t.get(&loc).await.json();
    assert_eq!(state["failures"], 1);
    assert!(
        state["lastError"]
            .as_str()
            .is_some_and(|e| e.contains("500")),
        "{state}"
    );
    assert_eq!(
        suyuan_server::epcis::queries::deliver_due(&t.state)
            .await
            .expect("deliver"),
        0
    );
    assert_eq!(got.lock().expect("lock").len(), 1, "backing off");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(
        suyuan_server::epcis::queries::deliver_due(&t.state)
            .await
            .expect("deliver"),
        1
    );
    let deliveries = got.lock().expect("lock").clone();
    assert_eq!(deliveries.len(), 2);
    let (h, body) = &deliveries[1];
    let doc: Value = serde_json::from_str(body).expect("json");
    assert_eq!(doc["type"], "EPCISQueryDocument");
    assert_eq!(doc["epcisBody"]["queryResults"]["queryName"], "ships");
    let steps: Vec<&str> = doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["bizStep"].as_str())
        .collect();
    assert_eq!(steps, ["shipping", "receiving"]);
    assert_eq!(
        Some(h.signature.clone()),
        suyuan_server::epcis::queries::signature("s3cret", body.as_bytes())
    );
    // Delivered once: nothing new, nothing sent again.
    assert_eq!(
        suyuan_server::epcis::queries::deliver_due(&t.state)
            .await
            .expect("deliver"),
        0
    );
    assert_eq!(got.lock().expect("lock").len(), 2);
    let after = t.get(&loc).await.json();
    assert_eq!(
        (after["failures"].clone(), after["lastError"].clone()),
        (json!(0), Value::Null)
    );
    assert!(after["lastNotifiedAt"].is_string());
    // The named query answers like /events; it cannot be deleted while someone is subscribed to it.
    assert_eq!(ids_of(&t.get("/epcis/queries/ships/events").await), [2, 3]);
    let delete = |uri: String| {
        let t = &t;
        async move {
            t.send(Request::delete(uri).body(Body::empty()).expect("r"))
                .await
        }
    };
    let refused = delete("/epcis/queries/ships".into()).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(
        refused.body.contains("1 live subscription"),
        "{}",
        refused.body
    );
    assert_eq!(t.get(&loc).await.status, StatusCode::OK);
    assert_eq!(delete(loc.clone()).await.status, StatusCode::NO_CONTENT);
    assert_eq!(t.get(&loc).await.status, StatusCode::NOT_FOUND);
    let del = delete("/epcis/queries/ships".into()).await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    assert_eq!(
        t.get("/epcis/queries/ships").await.json()["type"],
        "epcisException:NoSuchNameException"
    );
}

pub(super) async fn websocket_subscriptions_stream_new_matching_events(t: TestApp) {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let q = json!({"name": "recv", "query": {"EQ_bizStep": "receiving"}});
    assert_eq!(
        post_with(&t, "/epcis/queries", &q, &[]).await.status,
        StatusCode::CREATED
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = t.router.clone();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    let url = format!("ws://{addr}/epcis/queries/recv/events?stream=true");
    let mut anon = url.clone().into_client_request().expect("request");
    anon.headers_mut().remove(header::AUTHORIZATION);
    assert!(
        tokio_tungstenite::connect_async(anon).await.is_err(),
        "no token, no stream"
    );
    let mut req = url.into_client_request().expect("request");
    req.headers_mut().insert(
        header::AUTHORIZATION,
        format!("Bearer {}", t.token).parse().expect("header"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("upgrade");
    // Events captured after subscribing arrive; only the matching one.
    let a = post_with(
        &t,
        "/epcis/capture",
        &capture_doc(fixture()[..3].to_vec()),
        &[],
    )
    .await;
    assert_eq!(a.status, StatusCode::ACCEPTED);
    let msg = tokio::time::timeout(std::time::Duration::from_secs(10), ws.next())
        .await
        .expect("a message within 10 s")
        .expect("open")
        .expect("message");
    let doc: Value = serde_json::from_str(msg.to_text().expect("text")).expect("json");
    assert_eq!(doc["epcisBody"]["queryResults"]["queryName"], "recv");
    let steps: Vec<&str> = doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["bizStep"].as_str())
        .collect();
    assert_eq!(steps, ["receiving"]);
}
