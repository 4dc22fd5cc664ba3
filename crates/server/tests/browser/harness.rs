//! Starting what a browser test needs — a server on a small demo store, `chromedriver`, a headless Chromium
//! session — and the few things a test does with a page: open it, wait for text, sign in, save a screenshot.
//! Every wait has a deadline.

use fantoccini::{Client, ClientBuilder, Locator};
use std::net::TcpListener as StdListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use suyuan_engine::Engine;
use suyuan_engine::accounts::NewUser;
use suyuan_store::SqliteStore;

/// The administrator every site has.
pub const ADMIN: &str = "admin";
/// The Guangzhou distributor's partner user.
pub const PARTNER: &str = "distributor";
/// A regulator granted the can product for the first week.
pub const REGULATOR: &str = "regulator";
/// Demo days loaded.
const DAYS: u32 = 16;
/// How long a page may take to show what a test waits for.
const PATIENCE: Duration = Duration::from_secs(15);

/// A free port on the loopback interface.
fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The `chromedriver` to use: `SUYUAN_CHROMEDRIVER`, else Debian's. `None` (said on stderr) when there is
/// none and services are not required.
fn chromedriver() -> Option<PathBuf> {
    let path = std::env::var_os("SUYUAN_CHROMEDRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromedriver"));
    if path.exists() {
        return Some(path);
    }
    if std::env::var_os("SUYUAN_REQUIRE_SERVICES").is_some() {
        panic!(
            "{} is missing and SUYUAN_REQUIRE_SERVICES says browser tests must run (.ci/run installs \
             chromium and chromium-driver)",
            path.display()
        );
    }
    eprintln!(
        "skipped browser test: {} not found (apt-get install chromium chromium-driver)",
        path.display()
    );
    None
}

/// A running server on a small demo store, and a running `chromedriver`.
pub struct Site {
    /// The server's base URL.
    pub url: String,
    /// The administrator's password.
    pub password: String,
    /// A lot number printed on the demo's cans.
    pub lot: String,
    /// Codes consumers scanned, in the order the demo made them.
    pub scanned: Vec<String>,
    /// The copied can: scanned twice, far apart.
    pub copied: String,
    /// The lot number of the batch that failed final inspection.
    pub failing_lot: String,
    /// A can on hold (its batch failed final inspection), as a Digital Link.
    pub held: String,
    driver: Child,
    driver_url: String,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    /// Stops the rules when the site goes.
    _rules_stop: tokio::sync::watch::Sender<bool>,
}

impl Site {
    /// Loads two demo days into a fresh store, serves it, and starts `chromedriver`; `None` when there is
    /// no `chromedriver` (and services are not required).
    pub async fn start() -> Option<Site> {
        let driver_path = chromedriver()?;
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(SqliteStore::open(dir.path()).expect("store"));
        let engine = Engine::new(store);
        // The plant's operations master data: stations, operators, the can's BOM and routing.
        for (kind, record) in suyuan_demo::operations::records(1) {
            let map = record.as_object().cloned().unwrap_or_default();
            engine
                .save_record("demo", kind, &map)
                .await
                .unwrap_or_else(|e| panic!("demo {kind} record refused: {e}"));
        }
        // The quality plans the demo's inspections were judged under.
        for doc in suyuan_demo::quality::plans() {
            let plan = serde_json::from_value(doc).expect("a demo plan");
            engine
                .save_inspection_plan("demo", &plan)
                .await
                .expect("demo plan saved");
        }
        // The plant's own forms.
        for doc in suyuan_demo::forms::forms() {
            let form = serde_json::from_value(doc).expect("a demo form");
            engine
                .save_form("demo", &form)
                .await
                .unwrap_or_else(|e| panic!("demo form refused: {e}"));
        }
        // Its reports and its quality dashboard.
        for doc in suyuan_demo::reports::reports() {
            let r = serde_json::from_value(doc).expect("a demo report");
            engine
                .save_report("demo", &r)
                .await
                .unwrap_or_else(|e| panic!("demo report refused: {e}"));
        }
        for doc in suyuan_demo::reports::dashboards() {
            let d = serde_json::from_value(doc).expect("a demo dashboard");
            engine
                .save_dashboard("demo", &d)
                .await
                .unwrap_or_else(|e| panic!("demo dashboard refused: {e}"));
        }
        let mut values = Vec::new();
        let mut scans = Vec::new();
        // Sixteen days: production, the failing batch (day 12), shipping, retail sales and consumer scans
        // (among them the copied can scanned far away).
        suyuan_demo::generate(
            suyuan_demo::DemoConfig {
                seed: 7,
                scale: 1,
                days: DAYS,
            },
            &mut |item| match item {
                suyuan_demo::DemoItem::Event(v) => values.push(v),
                suyuan_demo::DemoItem::Scan(s) => scans.push(suyuan_store::ScanRecord {
                    object: suyuan_core::projection::object_key(&s.object),
                    scanned_at: s.time,
                    city: Some(s.city.to_string()),
                    province: Some(s.province.to_string()),
                    channel: "demo".into(),
                }),
                suyuan_demo::DemoItem::Issued(_) => {}
            },
        );
        let lot = values
            .iter()
            .find_map(|v| v.pointer("/ilmd/cbvmda:lotNumber").and_then(|l| l.as_str()))
            .expect("a demo lot")
            .to_string();
        // A can of the batch that failed final inspection and is on hold.
        let held = values
            .iter()
            .filter(|v| v["bizStep"] == "holding")
            .find_map(|v| v.pointer("/epcList/0").and_then(|l| l.as_str()))
            .map(suyuan_core::projection::object_key)
            .expect("a held can");
        // The lot of the batch that failed final inspection.
        let failing_lot = values
            .iter()
            .find(|v| {
                v["disposition"] == "non_conformant"
                    && v["bizStep"] == "inspecting"
                    && v.get("sy:workOrder").is_some()
            })
            .and_then(|v| {
                v.pointer("/quantityList/0/epcClass")
                    .and_then(|l| l.as_str())
            })
            .map(|c| c.rsplit(['.', '/']).next().unwrap_or(c).to_string())
            .expect("the failing lot");
        let events: Vec<suyuan_core::Event> = values
            .iter()
            .flat_map(|v| suyuan_epcis::parse_capture(v).expect("demo event"))
            .collect();
        for chunk in events.chunks(5_000) {
            engine
                .capture_events(chunk.to_vec())
                .await
                .expect("demo events stored");
        }
        let scanned: Vec<String> = scans.iter().map(|s| s.object.clone()).collect();
        let copied = scanned
            .iter()
            .find(|o| scanned.iter().filter(|x| x == o).count() > 1)
            .expect("the copied can, scanned twice")
            .clone();
        engine.record_scans(scans).await.expect("demo scans");
        // What the alert watch of `suyuan serve` does after the scans: the copied and the diverted can.
        engine.watch_scans().await.expect("alerts from the scans");
        let doc = serde_json::json!({"epcisHeader": {"epcisMasterData": {"vocabularyList": suyuan_demo::master_data()}}});
        engine
            .save_master_data(
                "test",
                suyuan_epcis::masterdata::from_document(&doc).expect("demo master data"),
            )
            .await
            .expect("master data");
        let password = "browser-test-password".to_string();
        engine
            .create_user(
                "test",
                &NewUser {
                    name: ADMIN.into(),
                    role: "admin".into(),
                    password: Some(password.clone()),
                    display: Some("管理员".into()),
                    company_prefixes: Vec::new(),
                },
            )
            .await
            .expect("admin");
        for (name, role, prefixes) in [
            (
                PARTNER,
                "partner",
                vec![suyuan_demo::DISTRIBUTORS[0].prefix.to_string()],
            ),
            (REGULATOR, "regulator", Vec::new()),
        ] {
            engine
                .create_user(
                    "test",
                    &NewUser {
                        name: name.into(),
                        role: role.into(),
                        password: Some(password.clone()),
                        display: None,
                        company_prefixes: prefixes,
                    },
                )
                .await
                .expect("user");
        }
        // The regulator may read the can product for the first week only.
        engine
            .create_grant(
                "test",
                &suyuan_engine::accounts::NewGrant {
                    user: REGULATOR.into(),
                    gtins: vec!["06901234123456".into()],
                    from: "2026-10-01T00:00:00+08:00".into(),
                    to: "2026-10-08T00:00:00+08:00".into(),
                    expires_at: "30d".into(),
                    note: "browser test".into(),
                },
            )
            .await
            .expect("grant");
        // A coding rule and a label template, as an engineer would have saved them.
        let rule = serde_json::json!({"template": "{PLANT:2}{LINE:3}{YY}{JJJ}{SEQ:4:10:daily}{CHECK:mod37-36}",
            "target": "sgtin", "gtin": "06901234123456", "description": "罐装序列号 / can serials"});
        engine
            .save_definition(
                "test",
                suyuan_store::kinds::CODING_RULE,
                "can-serial",
                &rule,
            )
            .await
            .expect("rule");
        engine
            .save_definition(
                "test",
                suyuan_store::kinds::LABEL_TEMPLATE,
                "can-label",
                &suyuan_labels::demo_template(),
            )
            .await
            .expect("template");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("listen");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        // A signing key and a checkpoint over everything loaded, as `suyuan serve` makes them.
        let signer = Arc::new(
            suyuan_ledger::checkpoint::CheckpointSigner::new("suyuan.test/ledger", &[7u8; 32])
                .expect("signer"),
        );
        engine.sign_checkpoint(&signer).await.expect("checkpoint");
        // The plant's rules run from the outbox, as `suyuan serve` runs them (over the demo's history
        // first, where they find its holds already made).
        let (_rules_stop, rules_stopped) = tokio::sync::watch::channel(false);
        let reactions = Arc::new(
            suyuan_engine::reactor::Runtime::new(engine.clone(), "browser-test")
                .with(Arc::new(suyuan_engine::rules::run::Rules::default())),
        );
        reactions.drain().await.expect("rules over the demo");
        tokio::spawn(reactions.run(rules_stopped));
        let state = suyuan_server::AppState::new(engine).with_signer(signer);
        tokio::spawn(async move {
            let _ = suyuan_server::serve(listener, state, async {
                let _ = stopped.await;
            })
            .await;
        });
        let port = free_port();
        let driver = Command::new(&driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let driver_url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + PATIENCE;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen within {PATIENCE:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Some(Site {
            url,
            password,
            lot,
            scanned,
            copied,
            held,
            failing_lot,
            driver,
            driver_url,
            _dir: dir,
            stop: Some(stop),
            _rules_stop,
        })
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// A headless Chromium session on a site, at an office screen's size.
pub struct Browser {
    client: Client,
    base: String,
    driver_url: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// A fresh browser (its own profile) on `site`, 1366×768.
    pub async fn open(site: &Site) -> Browser {
        Self::open_sized(site, 1366, 768).await
    }

    /// A fresh browser on `site` the size of a phone (390×844).
    pub async fn open_phone(site: &Site) -> Browser {
        Self::open_sized(site, 390, 844).await
    }

    /// A fresh browser (its own profile) on `site`, `width`×`height`.
    pub async fn open_sized(site: &Site, width: u32, height: u32) -> Browser {
        let profile = tempfile::tempdir().expect("profile");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({"binary": "/usr/bin/chromium", "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--no-first-run",
                "--lang=zh-CN", format!("--window-size={width},{height}"),
                format!("--user-data-dir={}", profile.path().display()),
            ], "prefs": {"intl.accept_languages": "zh-CN,zh"}}),
        );
        // Below Chromium's smallest window, a phone is emulated (its viewport, pixel ratio and touch).
        if width < 600 {
            caps["goog:chromeOptions"]["mobileEmulation"] = serde_json::json!({
                "deviceMetrics": {"width": width, "height": height, "pixelRatio": 2.0, "touch": true}});
        }
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let mut builder = ClientBuilder::new(connector);
        builder.capabilities(caps);
        let client = builder
            .connect(&site.driver_url)
            .await
            .expect("a Chromium session");
        let b = Browser {
            client,
            base: site.url.clone(),
            driver_url: site.driver_url.clone(),
            _profile: profile,
        };
        b.watch_errors().await;
        b
    }

    /// Sends a DevTools command to this browser (through chromedriver).
    pub async fn cdp(&self, cmd: &str, params: serde_json::Value) {
        let id = self
            .client
            .session_id()
            .await
            .expect("session id")
            .expect("a session");
        let body = serde_json::json!({"cmd": cmd, "params": params});
        let client: hyper_util::client::legacy::Client<_, String> =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(hyper_util::client::legacy::connect::HttpConnector::new());
        let url = format!("{}/session/{id}/goog/cdp/execute", self.driver_url);
        let req = axum::http::Request::post(url)
            .header("content-type", "application/json")
            .body(body.to_string())
            .expect("request");
        let resp = client.request(req).await.expect("chromedriver answers");
        assert!(
            resp.status().is_success(),
            "DevTools command {cmd} refused: {}",
            resp.status()
        );
    }

    /// Makes every page record its JavaScript errors (uncaught exceptions, rejected promises, console
    /// errors) in `window.__errors` before any of its own scripts runs.
    async fn watch_errors(&self) {
        self.cdp(
            "Page.addScriptToEvaluateOnNewDocument",
            serde_json::json!({"source":
            "window.__errors = []; \
             addEventListener('error', e => __errors.push(String(e.message || e.type))); \
             addEventListener('unhandledrejection', e => __errors.push('rejected: ' + String(e.reason))); \
             const ce = console.error; console.error = function () { __errors.push(Array.from(arguments).join(' ')); ce.apply(console, arguments); };"}),
        )
        .await;
    }

    /// Puts the phone at a position and lets pages read it.
    pub async fn place_at(&self, lat: f64, lon: f64) {
        self.cdp(
            "Browser.grantPermissions",
            serde_json::json!({"permissions": ["geolocation"]}),
        )
        .await;
        self.cdp(
            "Emulation.setGeolocationOverride",
            serde_json::json!({"latitude": lat, "longitude": lon, "accuracy": 50}),
        )
        .await;
    }

    /// How many non-empty points the dashboard widget of `metric` drew, once it has drawn (fails if it
    /// reported a failure or did not draw in time).
    pub async fn widget_points(&self, metric: &str) -> u64 {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let v = self
                .client
                .execute(
                    "const w = document.querySelector('[data-metric=\"' + arguments[0] + '\"]'); \
                     return w ? [w.dataset.state || '', w.dataset.points || '0'] : ['missing', '0'];",
                    vec![serde_json::json!(metric)],
                )
                .await
                .expect("script");
            let (state, points): (String, String) = serde_json::from_value(v).unwrap_or_default();
            match state.as_str() {
                "ready" => return points.parse().unwrap_or(0),
                "failed" | "missing" => panic!("widget {metric}: {state}"),
                _ => {}
            }
            assert!(
                Instant::now() < deadline,
                "widget {metric} did not draw in time"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks the first bar or slice of the chart of `metric`, as a person would (at its position on screen).
    pub async fn click_chart(&self, metric: &str) {
        let at = self
            .client
            .execute(
                "const el = document.querySelector('[data-metric=\"' + arguments[0] + '\"] .chart'); \
                 const c = echarts.getInstanceByDom(el); const o = c.getOption(); \
                 const horizontal = o.yAxis && o.yAxis[0] && o.yAxis[0].type === 'category'; \
                 const p = horizontal ? c.convertToPixel({seriesIndex: 0}, [o.series[0].data[0] / 2, 0]) \
                                      : c.convertToPixel({seriesIndex: 0}, [0, 0]); \
                 el.scrollIntoView({block: 'center'}); const r = el.getBoundingClientRect(); \
                 return [r.left + p[0], r.top + p[1]];",
                vec![serde_json::json!(metric)],
            )
            .await
            .expect("script");
        let (x, y): (f64, f64) = serde_json::from_value(at).expect("a point");
        self.client
            .execute(
                "const t = document.elementFromPoint(arguments[0], arguments[1]); \
                 ['mousedown', 'mouseup', 'click'].forEach(k => t.dispatchEvent(new MouseEvent(k, \
                   {bubbles: true, clientX: arguments[0], clientY: arguments[1], view: window})));",
                vec![serde_json::json!(x), serde_json::json!(y)],
            )
            .await
            .expect("click");
    }

    /// Fails when the page is wider than the window (a person would have to scroll sideways).
    pub async fn expect_no_sideways_scroll(&self) {
        let v = self
            .client
            .execute(
                "return [document.documentElement.scrollWidth, window.innerWidth];",
                vec![],
            )
            .await
            .expect("script");
        let (content, window): (u64, u64) = serde_json::from_value(v).expect("widths");
        assert!(
            content <= window,
            "the page is {content} px wide in a {window} px window"
        );
    }

    /// How many distinct rows the header's direct children sit on.
    pub async fn header_rows(&self) -> usize {
        let v = self
            .client
            .execute(
                "return new Set(Array.from(document.querySelector('header.top').children) \
                   .filter(e => e.checkVisibility()).map(e => { const r = e.getBoundingClientRect(); return Math.round((r.top + r.bottom) / 20); })).size;",
                vec![],
            )
            .await
            .expect("script");
        v.as_u64().unwrap_or(0) as usize
    }

    /// The whole text a person sees on the page.
    pub async fn page_text(&self) -> String {
        self.settle().await;
        self.client
            .find(Locator::Css("body"))
            .await
            .expect("body")
            .text()
            .await
            .expect("text")
    }

    /// Chooses the file at `path` in the file field `css`, as a person picking it from a dialog.
    pub async fn choose_file(&self, css: &str, path: &std::path::Path) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no file field `{css}`: {e}"))
            .send_keys(&path.display().to_string())
            .await
            .unwrap_or_else(|e| panic!("choose {}: {e}", path.display()));
    }

    /// Types `text` into the field `css` as a keyboard-wedge scanner does (one burst of keystrokes ending in
    /// Enter).
    pub async fn scan_into(&self, css: &str, text: &str) {
        let field = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no field `{css}`: {e}"));
        field.click().await.expect("focus");
        field
            .send_keys(&format!("{text}\u{E007}"))
            .await
            .expect("keystrokes");
    }

    /// Types `text` into the field `css` as a person does (its old text cleared first), then leaves it
    /// with Tab so that its change is taken.
    pub async fn type_into(&self, css: &str, text: &str) {
        let field = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no field `{css}`: {e}"));
        field.clear().await.expect("clear");
        field
            .send_keys(&format!("{text}\u{E004}"))
            .await
            .expect("keystrokes");
    }

    /// Drags the element `from` with the mouse (press, move, release) onto the element `onto`.
    pub async fn drag(&self, from: &str, onto: &str) {
        use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
        let a = self
            .client
            .find(Locator::Css(from))
            .await
            .unwrap_or_else(|e| panic!("nothing to drag at `{from}`: {e}"));
        let b = self
            .client
            .find(Locator::Css(onto))
            .await
            .unwrap_or_else(|e| panic!("nowhere to drop at `{onto}`: {e}"));
        let mouse = MouseActions::new("mouse".into())
            .then(PointerAction::MoveToElement {
                element: a,
                duration: None,
                x: 0.0,
                y: 0.0,
            })
            .then(PointerAction::Down {
                button: MOUSE_BUTTON_LEFT,
            })
            .then(PointerAction::MoveToElement {
                element: b,
                duration: Some(Duration::from_millis(400)),
                x: 0.0,
                y: 0.0,
            })
            .then(PointerAction::Up {
                button: MOUSE_BUTTON_LEFT,
            });
        self.client
            .perform_actions(mouse)
            .await
            .unwrap_or_else(|e| panic!("drag `{from}` onto `{onto}`: {e}"));
    }

    /// The labels of the genealogy graph's nodes, once it has drawn.
    pub async fn graph_labels(&self) -> Vec<String> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let v = self
                .client
                .execute(
                    "const g = document.getElementById('graph'); \
                     if (!g || g.dataset.state !== 'ready') return g && g.dataset.state === 'failed' ? ['(failed)'] : null; \
                     return Object.values(window.Suyuan.graph.nodes).map(n => n.kind + ': ' + n.label);",
                    vec![],
                )
                .await
                .expect("script");
            if let Ok(list) = serde_json::from_value::<Vec<String>>(v) {
                assert!(list != ["(failed)"], "the graph failed to load");
                return list;
            }
            assert!(Instant::now() < deadline, "the graph did not draw in time");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks, at its place on screen, the first graph node whose label contains `text`.
    pub async fn click_graph_node(&self, text: &str) {
        let at = self
            .client
            .execute(
                "const c = window.Suyuan.graph.chart; const el = document.getElementById('graph'); \
                 el.scrollIntoView({block: 'center'}); \
                 const data = c.getModel().getSeriesByIndex(0).getData(); \
                 for (let i = 0; i < data.count(); i++) { \
                   const id = data.getId(i); const n = window.Suyuan.graph.nodes[id]; \
                   if (n && n.label.includes(arguments[0])) { \
                     const p = c.convertToPixel({seriesIndex: 0}, data.getItemLayout(i)); \
                     let r = el.getBoundingClientRect(); window.scrollBy(0, r.top + p[1] - innerHeight / 2); \
                     r = el.getBoundingClientRect(); return [r.left + p[0], r.top + p[1]]; } } \
                 return null;",
                vec![serde_json::json!(text)],
            )
            .await
            .expect("script");
        let (x, y): (f64, f64) =
            serde_json::from_value(at).unwrap_or_else(|_| panic!("no graph node reads {text:?}"));
        self.client
            .execute(
                "const t = document.elementFromPoint(arguments[0], arguments[1]); \
                 ['mousemove', 'mousedown', 'mouseup', 'click'].forEach(k => t.dispatchEvent(new MouseEvent(k, \
                   {bubbles: true, clientX: arguments[0], clientY: arguments[1], view: window})));",
                vec![serde_json::json!(x), serde_json::json!(y)],
            )
            .await
            .expect("click");
    }

    /// Fetches `path` from the page (with its session) and answers status, content type, disposition and
    /// the body's first bytes as text (lossy).
    pub async fn fetch(&self, path: &str) -> (u16, String, String, String) {
        let v = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1]; \
                 fetch(arguments[0], {credentials: 'same-origin'}).then(async r => { \
                   const b = new Uint8Array(await r.arrayBuffer()); \
                   done([r.status, r.headers.get('content-type') || '', r.headers.get('content-disposition') || '', \
                     new TextDecoder().decode(b.slice(0, 600))]); }).catch(e => done([0, '', '', String(e)]));",
                vec![serde_json::json!(path)],
            )
            .await
            .expect("fetch");
        serde_json::from_value(v).expect("fetch answer")
    }

    /// The path of the page the browser is on.
    pub async fn current_path(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("url")
            .path()
            .to_string()
    }

    /// Fails when the page has logged a JavaScript error.
    pub async fn expect_no_js_errors(&self) {
        let errors = self
            .client
            .execute("return window.__errors || [];", vec![])
            .await
            .expect("script");
        let list: Vec<String> = serde_json::from_value(errors).unwrap_or_default();
        assert!(
            list.is_empty(),
            "the page logged JavaScript errors: {list:?}"
        );
    }

    /// Opens a path of the site.
    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
    }

    /// Waits until the first element matching `css` shows `text`; fails with what it showed instead.
    pub async fn expect_text(&self, css: &str, text: &str) {
        let deadline = Instant::now() + PATIENCE;
        let mut last = String::new();
        loop {
            if let Ok(el) = self.client.find(Locator::Css(css)).await
                && let Ok(shown) = el.text().await
            {
                if shown.contains(text) {
                    return;
                }
                last = shown;
            }
            assert!(
                Instant::now() < deadline,
                "`{css}` should show \"{text}\" but showed: {last:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Types values into the named fields of the first form matching `css` (replacing what they held).
    pub async fn fill(&self, css: &str, values: &[(&str, &str)]) {
        let form = self
            .client
            .form(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no form `{css}`: {e}"));
        for (name, value) in values {
            form.set_by_name(name, value)
                .await
                .unwrap_or_else(|e| panic!("field {name}: {e}"));
        }
    }

    /// Scrolls the first element matching `css` into view (what a person would look at next).
    pub async fn scroll_to(&self, css: &str) {
        self.client
            .execute(
                "const e = document.querySelector(arguments[0]); if (e) e.scrollIntoView({block: 'center'});",
                vec![serde_json::json!(css)],
            )
            .await
            .expect("scroll");
    }

    /// Clicks the first element `locator` finds (`what` names it in a failure).
    async fn click_on(&self, locator: Locator<'_>, what: &str) {
        self.client
            .find(locator)
            .await
            .unwrap_or_else(|e| panic!("nothing matches {what}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {what}: {e}"));
    }

    /// Clicks the first element matching `css`.
    pub async fn click(&self, css: &str) {
        self.click_on(Locator::Css(css), &format!("`{css}`")).await;
    }

    /// Clicks the first element matching an XPath expression.
    pub async fn click_xpath(&self, xpath: &str) {
        self.click_on(Locator::XPath(xpath), xpath).await;
    }

    /// How many elements matching `css` a person can see (laid out, not inside something folded).
    pub async fn visible(&self, css: &str) -> usize {
        self.settle().await;
        let n = self
            .client
            .execute(
                "return Array.from(document.querySelectorAll(arguments[0])) \
                 .filter(e => e.checkVisibility({visibilityProperty: true})).length;",
                vec![serde_json::json!(css)],
            )
            .await
            .expect("script");
        n.as_u64().unwrap_or(0) as usize
    }

    /// Waits (at most the harness's patience) until `n` elements matching `css` can be seen.
    pub async fn expect_visible(&self, css: &str, n: usize) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let seen = self.visible(css).await;
            if seen == n {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "`{css}`: {n} should be visible, {seen} are"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks the link that reads `text`.
    pub async fn click_link(&self, text: &str) {
        self.click_on(Locator::LinkText(text), &format!("the link \"{text}\""))
            .await;
    }

    /// Fails when the first element matching `css` shows `text` (once the page has settled).
    pub async fn expect_no_text(&self, css: &str, text: &str) {
        self.settle().await;
        let shown = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("nothing matches `{css}`: {e}"))
            .text()
            .await
            .expect("text");
        assert!(
            !shown.contains(text),
            "`{css}` should not show \"{text}\": {shown:?}"
        );
    }

    /// The HTTP status the page's favicon (`<link rel="icon">`) answers with.
    pub async fn icon_status(&self) -> u16 {
        let status = self
            .client
            .execute(
                "const l = document.querySelector('link[rel=icon]'); \
                 return l ? fetch(l.href).then(r => r.status) : 0;",
                vec![],
            )
            .await
            .expect("script");
        status.as_u64().unwrap_or(0) as u16
    }

    /// Signs in through the sign-in form on the current page.
    pub async fn sign_in(&self, user: &str, password: &str) {
        let form = self
            .client
            .form(Locator::Css("form[action^='/login']"))
            .await
            .expect("the sign-in form");
        form.set_by_name("username", user).await.expect("user name");
        form.set_by_name("password", password)
            .await
            .expect("password");
        form.submit().await.expect("submit");
        // Signed in when the browser has left the sign-in page (the next page is where it was going).
        let deadline = Instant::now() + PATIENCE;
        loop {
            let url = self.client.current_url().await.expect("url");
            if url.path() != "/login" {
                self.settle().await;
                return;
            }
            assert!(
                Instant::now() < deadline,
                "still on the sign-in page: wrong password or the form did not submit"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the page has loaded and every image on it has arrived; fails naming an image that did
    /// not (a broken image is a defect a person sees).
    pub async fn settle(&self) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let pending = self
                .client
                .execute(
                    "return document.readyState !== 'complete' ? ['(page)'] : \
                     Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0) \
                     .map(i => i.currentSrc || i.src);",
                    vec![],
                )
                .await
                .expect("script");
            let list: Vec<String> = serde_json::from_value(pending).unwrap_or_default();
            if list.is_empty() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "these images did not load: {list:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Saves a screenshot of what the browser shows as `target/screenshots/{name}.png`, once the page has
    /// settled.
    /// Saves a screenshot of the whole page (the window stretched to its height, at most 2,400 px), then
    /// puts the window back.
    pub async fn shot_page(&self, name: &str) {
        self.settle().await;
        let (w, h) = self.client.get_window_size().await.expect("window size");
        let full = self
            .client
            .execute("return document.documentElement.scrollHeight;", vec![])
            .await
            .expect("script")
            .as_u64()
            .unwrap_or(h);
        // The window's height includes the browser's frame; the page's is the viewport's.
        let frame = h.saturating_sub(
            self.client
                .execute("return window.innerHeight;", vec![])
                .await
                .expect("script")
                .as_u64()
                .unwrap_or(h),
        );
        self.client
            .set_window_size(w as u32, (full + frame).min(2400) as u32)
            .await
            .expect("resize");
        tokio::time::sleep(Duration::from_millis(300)).await;
        self.shot(name).await;
        self.client
            .set_window_size(w as u32, h as u32)
            .await
            .expect("resize back");
    }

    /// Saves a screenshot of the window.
    pub async fn shot(&self, name: &str) {
        self.expect_no_js_errors().await;
        self.settle().await;
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot folder");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("screenshot written");
    }

    /// Ends the session.
    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}
