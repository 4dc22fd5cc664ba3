//! Sign-in sessions: fixation, CSRF, sign-out, throttling and the anonymous rate limit.

#[allow(unused_imports)]
use super::*;

pub(super) fn cookie_of(a: &Answer) -> String {
    let set = a.headers[header::SET_COOKIE].to_str().expect("cookie");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    set.split(';').next().expect("pair").to_string()
}

pub(super) fn login(user: &str, password: &str, cookie: Option<&str>) -> Request<Body> {
    let mut b =
        Request::post("/login").header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    b.body(Body::from(format!(
        "username={user}&password={}&next=%2Fevents",
        password.replace(' ', "+")
    )))
    .expect("request")
}

pub(super) fn with_cookie(method: &str, uri: &str, cookie: &str) -> axum::http::request::Builder {
    Request::builder()
        .method(method)
        .uri(uri)
        .header(header::COOKIE, cookie)
}

#[tokio::test]
pub(super) async fn sessions_resist_fixation_and_csrf_and_end_on_sign_out() {
    let t = test_app().await;
    let home = t
        .send_as_is(req(&axum::http::Method::GET, "/labels?x=1", None))
        .await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert_eq!(
        home.headers[header::LOCATION],
        "/login?next=%2Flabels%3Fx%3D1"
    );
    let wrong = t.send_as_is(login("admin", "nope nope nope", None)).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("用户名或密码错误"));
    assert!(!wrong.headers.contains_key(header::SET_COOKIE));
    // A planted session id is never adopted.
    let planted = "sy_session=attacker-chosen";
    let ok = t.send_as_is(login("admin", PASSWORD, Some(planted))).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(ok.headers[header::LOCATION], "/events");
    let cookie = cookie_of(&ok);
    assert_ne!(cookie, planted);
    let as_planted = t
        .send_as_is(
            with_cookie("GET", "/events", planted)
                .body(Body::empty())
                .expect("r"),
        )
        .await;
    assert_eq!(as_planted.status, StatusCode::SEE_OTHER);
    let page = t
        .send_as_is(
            with_cookie("GET", "/labels", &cookie)
                .body(Body::empty())
                .expect("r"),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("hx-headers:inherited"));
    let me = t
        .send_as_is(
            with_cookie("GET", "/api/v1/me", &cookie)
                .body(Body::empty())
                .expect("r"),
        )
        .await
        .json();
    assert_eq!(
        (me["user"].clone(), me["via"].clone()),
        (json!("admin"), json!("session"))
    );
    let csrf = me["csrf"].as_str().expect("csrf").to_string();
    assert!(page.body.contains(&csrf), "the page carries the CSRF token");
    // Writes with the cookie need the CSRF token, from this origin.
    let rule = json!({"name": "r1", "definition": {"template": "{SEQ:4}"}}).to_string();
    let post = |token: Option<&str>, origin: Option<&str>| {
        let mut b = with_cookie("POST", "/api/v1/coding-rules", &cookie)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::HOST, "suyuan.test");
        if let Some(tk) = token {
            b = b.header("x-csrf-token", tk);
        }
        if let Some(o) = origin {
            b = b.header(header::ORIGIN, o);
        }
        t.send_as_is(b.body(Body::from(rule.clone())).expect("r"))
    };
    let none = post(None, None).await;
    assert_eq!(none.status, StatusCode::FORBIDDEN);
    assert!(none.body.contains("CSRF"), "{}", none.body);
    assert_eq!(post(Some("0000"), None).await.status, StatusCode::FORBIDDEN);
    let cross = post(Some(&csrf), Some("https://evil.example")).await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    assert!(cross.body.contains("cross-site"), "{}", cross.body);
    let good = post(Some(&csrf), Some("http://suyuan.test")).await;
    assert_eq!(good.status, StatusCode::CREATED, "{}", good.body);
    // A plain form post carries the token as a field.
    let form = |field: &str| {
        t.send_as_is(
            with_cookie("POST", "/labels/jobs", &cookie)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(format!(
                    "_csrf={field}&template=none&rule=r1&count=1&format=pdf"
                )))
                .expect("r"),
        )
    };
    assert_eq!(form("bad").await.status, StatusCode::FORBIDDEN);
    let passed = form(&csrf).await;
    assert_ne!(passed.status, StatusCode::FORBIDDEN, "{}", passed.body);
    // Signing in again ends the old session; signing out ends the new one.
    let again = t.send_as_is(login("admin", PASSWORD, Some(&cookie))).await;
    let second = cookie_of(&again);
    let old = t
        .send_as_is(
            with_cookie("GET", "/events", &cookie)
                .body(Body::empty())
                .expect("r"),
        )
        .await;
    assert_eq!(old.status, StatusCode::SEE_OTHER, "the old session ended");
    let out = t
        .send_as_is(
            with_cookie("POST", "/logout", &second)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(format!("_csrf={}", {
                    let me2 = t
                        .send_as_is(
                            with_cookie("GET", "/api/v1/me", &second)
                                .body(Body::empty())
                                .expect("r"),
                        )
                        .await
                        .json();
                    me2["csrf"].as_str().expect("csrf").to_string()
                })))
                .expect("r"),
        )
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let after = t
        .send_as_is(
            with_cookie("GET", "/events", &second)
                .body(Body::empty())
                .expect("r"),
        )
        .await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
pub(super) async fn sign_in_is_throttled_and_public_requests_are_rate_limited() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open(dir.path()).expect("open store"));
    let slow = Budget {
        burst: 3,
        every: Duration::from_secs(600),
    };
    let state = AppState::new(Engine::new(store.clone())).with_limits(LimitConfig {
        login_per_user: slow,
        login_per_client: Budget {
            burst: 100,
            every: Duration::from_secs(1),
        },
        public_per_client: Budget {
            burst: 5,
            every: Duration::from_secs(600),
        },
        ..LimitConfig::default()
    });
    let t = app_with(state, store, dir).await;
    for _ in 0..3 {
        let a = t.send_as_is(login("admin", "wrong password!", None)).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    }
    let blocked = t.send_as_is(login("admin", PASSWORD, None)).await;
    assert_eq!(
        blocked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    assert!(blocked.headers.contains_key(header::RETRY_AFTER));
    assert!(!blocked.headers.contains_key(header::SET_COOKIE));
    // Another user is not locked out by the guesser.
    Engine::new(t.store.clone())
        .create_user(
            "test",
            &NewUser {
                name: "li".into(),
                role: "viewer".into(),
                password: Some(PASSWORD.into()),
                ..Default::default()
            },
        )
        .await
        .expect("user");
    assert_eq!(
        t.send_as_is(login("li", PASSWORD, None)).await.status,
        StatusCode::SEE_OTHER
    );
    // Anonymous requests spend the public budget (the login posts above were anonymous too).
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(
            t.send_as_is(req(&axum::http::Method::GET, "/healthz", None))
                .await
                .status,
        );
    }
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    // Signed-in clients are not limited by it.
    assert_eq!(t.get("/healthz").await.status, StatusCode::OK);
}
