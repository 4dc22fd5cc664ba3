//! The console in a real browser: Debian's headless `chromium` driven through `chromium-driver` (WebDriver)
//! against a server on a small demo store. Each test asserts what a person sees, in zh-CN and in English, and
//! saves a screenshot of every page it looks at to `target/screenshots/`. Without a `chromedriver` the tests
//! say so and skip — unless `SUYUAN_REQUIRE_SERVICES` is set (as `.ci/run` does, after installing the
//! packages): then they fail.

mod forms;
mod harness;
mod quality;
mod reports;
mod rules;
mod workflows;

use harness::{Browser, Site};

/// Signing in, the dashboard and the navigation, in both languages; the charts draw real series, and a click
/// on a bar opens its list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_and_dashboard_in_chinese_and_english() {
    let Some(site) = Site::start().await else {
        return;
    };
    let b = Browser::open(&site).await;
    b.goto("/").await;
    // Not signed in: the sign-in page, in Chinese by default.
    b.expect_text("h1", "登录").await;
    b.shot("login-zh").await;
    b.sign_in(harness::ADMIN, &site.password).await;
    b.expect_text("h1", "生产追溯驾驶舱").await;
    for nav in [
        "概览",
        "追溯",
        "召回",
        "事件",
        "编码与标签",
        "证明与核验",
        "系统管理",
    ] {
        b.expect_text("nav.menu", nav).await;
    }
    b.expect_text("header .signout", "退出").await;
    b.expect_no_text("nav", "API").await;
    // Every chart is drawn from a non-empty figure.
    for metric in [
        "events_by_step",
        "objects_by_disposition",
        "shipped_by_destination",
        "shipped_by_region",
        "scans_per_day",
        "scans_by_region",
        "suspicious_scans",
        "ledger",
    ] {
        let points = b.widget_points(metric).await;
        assert!(points > 0, "{metric} drew nothing");
    }
    b.expect_text("[data-metric=shipped_by_destination]", "")
        .await;
    b.expect_text("[data-metric=suspicious_scans]", "乌鲁木齐")
        .await;
    b.expect_text("[data-metric=ledger]", "已记录事件").await;
    assert_eq!(b.icon_status().await, 200, "the favicon is served");
    b.shot_page("dashboard-zh").await;
    // The language switch in the header, as a person uses it.
    b.click_link("EN").await;
    b.expect_text("h1", "Traceability dashboard").await;
    for nav in ["Overview", "Trace", "Recalls", "Events", "Codes & labels"] {
        b.expect_text("nav.menu", nav).await;
    }
    b.expect_text("header .signout", "Sign out").await;
    assert!(b.widget_points("events_by_step").await > 0);
    b.expect_text("[data-metric=ledger]", "Events recorded")
        .await;
    b.shot_page("dashboard-en").await;
    // A click on the shipments chart opens the events at that destination.
    b.click_chart("shipped_by_destination").await;
    b.expect_text("h1", "Event ledger").await;
    b.expect_text("main table", "Receiving").await;
    b.shot("drill-shipments-en").await;
    // The choice is remembered for the next page.
    b.goto("/events").await;
    b.expect_text("nav", "Overview").await;
    b.expect_text("main table", "Retail selling").await;
    b.expect_no_text("main table", "retail_selling").await;
    b.shot("events-en").await;
    b.close().await;
    // Another device (a fresh browser): the same person signs in and reads English again.
    let other = Browser::open(&site).await;
    other.goto("/login").await;
    other.expect_text("h1", "登录").await;
    other.sign_in(harness::ADMIN, &site.password).await;
    other.expect_text("h1", "Traceability dashboard").await;
    other.close().await;
}

/// Searching by what is printed: a demo lot typed into the header form finds the lot's page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_printed_lot_is_found_from_the_search_page() {
    let Some(site) = Site::start().await else {
        return;
    };
    let b = Browser::open(&site).await;
    b.goto("/login").await;
    b.sign_in(harness::ADMIN, &site.password).await;
    b.goto(&format!("/search?q={}", site.lot)).await;
    b.expect_text("main", &site.lot).await;
    // Its story starts with the materials it was made from; its state reads in words.
    b.expect_text("main", "原料").await;
    b.expect_text("main", "合格").await;
    b.expect_text("main", "收货").await;
    b.shot("search-lot-zh").await;
    b.goto(&format!("/search?q={}&lang=en", site.lot)).await;
    b.expect_text("main", &site.lot).await;
    b.expect_text("main", "Materials").await;
    b.expect_text("main", "Conformant").await;
    b.shot("search-lot-en").await;
    b.close().await;
}

/// The ledger list and one event with its hashes; the codes and labels screen with the saved rule and template.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ledger_an_event_and_the_labels_screen() {
    let Some(site) = Site::start().await else {
        return;
    };
    let b = Browser::open(&site).await;
    b.goto("/login").await;
    b.sign_in(harness::ADMIN, &site.password).await;
    b.expect_text("h1", "生产追溯驾驶舱").await;
    // Newest first; filtered by step through the form, places by name.
    b.goto("/events").await;
    b.expect_text("main table", "零售销售").await;
    b.fill("form.toolbar", &[("step", "receiving")]).await;
    b.click("form.toolbar button[type=submit]").await;
    b.expect_text("main table", "收货").await;
    b.expect_no_text("main table", "零售销售").await;
    b.expect_text("main table", "门店").await;
    b.shot("events-zh").await;
    b.click("main a[href^='/events/view']").await;
    b.expect_text("main", "事件哈希").await;
    b.expect_text("main", "ni:///sha-256;").await;
    b.shot("event-zh").await;
    // The canning event names some 600 cans: a dozen are shown, the rest folded away, and so is the raw JSON.
    b.goto("/events?step=commissioning").await;
    b.click_xpath("//tr[td/span[@class='more' and number(substring(., 2)) > 500]]//a")
        .await;
    b.expect_text("main", "个对象（展开）").await;
    assert_eq!(b.visible("a.chip").await, 12);
    assert_eq!(
        b.visible("pre.json").await,
        0,
        "the raw JSON-LD starts folded"
    );
    b.shot("event-many-objects-zh").await;
    b.click("details.more-objects > summary").await;
    assert!(
        b.visible("a.chip").await > 500,
        "all objects after unfolding"
    );
    b.goto("/labels").await;
    b.expect_text("h1", "编码与标签").await;
    b.expect_text("main", "can-serial").await;
    b.expect_text("main", "can-label").await;
    b.shot("labels-zh").await;
    // Printing without the values the template needs says which, in words, and starts nothing.
    b.fill(
        "form.print-form",
        &[
            ("count", "5"),
            ("plant", "SH"),
            ("line", "001"),
            ("vars", ""),
        ],
    )
    .await;
    b.click("form.print-form button[type=submit]").await;
    b.expect_text("#job", "这个模板还需要以下标签变量").await;
    b.expect_text("#job", "lot=…").await;
    b.expect_text("#job", "product_name=…").await;
    b.scroll_to("#job").await;
    b.shot("labels-missing-values-zh").await;
    b.fill(
        "form.print-form",
        &[("vars", "lot=L2611250A\nproduct_name=婴儿配方奶粉 1段 800g\nproduct_name_en=Infant formula stage 1, 800 g")],
    )
    .await;
    b.click("form.print-form button[type=submit]").await;
    b.expect_text("#job", "完成").await;
    b.scroll_to("#job").await;
    b.shot("labels-printed-zh").await;
    b.click_link("EN").await;
    b.expect_text("h1", "Codes and labels").await;
    b.expect_text("main", "Issue codes and print").await;
    b.shot("labels-en").await;
    b.close().await;
}

/// The consumer page on a phone, as a shopper sees it after scanning a sold can: in Chinese by default and in
/// English, its journey, no internal identifier; the copied can warns; a can of the failed batch says not to
/// consume it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_consumer_page_on_a_phone() {
    let Some(site) = Site::start().await else {
        return;
    };
    let b = Browser::open_phone(&site).await;
    let path = |dl: &str| dl.trim_start_matches("https://id.gs1.org").to_string();
    let sold = site
        .scanned
        .iter()
        .rev()
        .find(|c| **c != site.copied)
        .expect("a scanned can")
        .clone();
    b.goto(&path(&sold)).await;
    b.expect_text("main", "婴幼儿配方奶粉").await;
    b.expect_text("main", "正品验证通过").await;
    b.expect_text("main", "出厂检验").await;
    b.expect_text("main", "合格").await;
    b.expect_text(".journey", "生产 · 齐齐哈尔").await;
    b.expect_text(".journey", "售出").await;
    let text = b.page_text().await;
    for internal in [
        "urn:",
        "ni:///",
        "sgln",
        "pgln",
        "张伟",
        "王芳",
        "WO-",
        "KGM",
        "北大荒",
    ] {
        assert!(
            !text.contains(internal),
            "the consumer page shows {internal}: {text}"
        );
    }
    b.expect_no_sideways_scroll().await;
    b.shot("consumer-sold-zh-390").await;
    // The shopper shares their city (the phone is in Chengdu); only the city is kept.
    b.place_at(30.66, 104.07).await;
    b.click("#share-place").await;
    b.expect_text("#place-answer", "已记录： 成都").await;
    b.click_link("English").await;
    b.expect_text("main", "Genuine product").await;
    b.expect_text(".journey", "Made").await;
    b.expect_text("main", "Final inspection").await;
    b.expect_no_sideways_scroll().await;
    b.shot("consumer-sold-en-390").await;
    // The copied can: scanned in Chengdu, then far away in Urumqi.
    b.goto(&path(&site.copied)).await;
    b.expect_text("#suspicious", "可能是仿冒品").await;
    b.expect_text("#suspicious", "乌鲁木齐").await;
    b.shot("consumer-copied-zh-390").await;
    // A can of the failed batch.
    b.goto(&format!("{}?lang=en", path(&site.held))).await;
    b.expect_text("#warning", "Do not consume").await;
    b.expect_text("main", "Failed").await;
    b.shot("consumer-held-en-390").await;
    // An unknown code, and a link that is no Digital Link.
    b.goto("/01/06901234123456/21/NOSUCHCAN").await;
    b.expect_text("main", "未找到该编码").await;
    b.goto("/01/123/21/x?lang=en").await;
    b.expect_text("main", "Link not recognised").await;
    b.shot("consumer-bad-link-en-390").await;
    b.close().await;
}

/// The trace explorer: a can scanned into the header's search box (a burst of keystrokes and Enter) shows its
/// story and a graph with its raw-milk lot and its pallet; a click on a node shows that node's events; a
/// raw-milk lot forward is drawn as counted clusters, not a node per can.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trace_explorer_draws_the_genealogy() {
    let Some(site) = Site::start().await else {
        return;
    };
    let b = Browser::open(&site).await;
    b.goto("/login").await;
    b.sign_in(harness::ADMIN, &site.password).await;
    // The element string printed under the can's barcode, as the scanner sends it.
    let can = site.copied.clone();
    let serial = can.rsplit('/').next().expect("serial").to_string();
    b.scan_into(
        "header .quick-search input",
        &format!("(01)06901234123456(21){serial}"),
    )
    .await;
    b.expect_text("h1", "追溯查询").await;
    b.expect_text("#explored", &serial).await;
    b.expect_text("ol.story", "灌装").await;
    let labels = b.graph_labels().await;
    assert!(
        labels.iter().any(|l| l.starts_with("供应商批次: RM")),
        "{labels:?}"
    );
    assert!(labels.iter().any(|l| l.starts_with("托盘")), "{labels:?}");
    assert!(labels.iter().any(|l| l.starts_with("持有方")), "{labels:?}");
    b.shot_page("trace-can-zh").await;
    b.scroll_to("#graph").await;
    b.shot("trace-can-graph-zh").await;
    b.click_graph_node("RM").await;
    b.expect_text("#node-panel", "最近事件").await;
    b.expect_text("#node-panel table", "收货").await;
    b.shot("trace-node-events-zh").await;
    // The raw-milk lot forward, in English: clusters with their counts.
    b.click("#node-panel a.button").await;
    b.expect_text("h1", "对象").await;
    let lot = suyuan_demo::supplier_lot(&suyuan_demo::SUPPLIERS[0], 1);
    b.goto(&format!("/trace?q={}&dir=forward&lang=en", lot))
        .await;
    let labels = b.graph_labels().await;
    assert!(
        labels.len() < 60,
        "a clustered graph, not a node per can: {}",
        labels.len()
    );
    assert!(
        labels
            .iter()
            .any(|l| l.starts_with("Unit: ") && l.contains("units in") && l.contains("containers")),
        "{labels:?}"
    );
    b.shot_page("trace-milk-forward-en").await;
    b.click_graph_node("units in").await;
    b.expect_text("#node-panel", "Members").await;
    b.close().await;
}

/// A mock recall: of the failing lot (all still in the plant: nobody to contact), then of a raw-milk lot that
/// reached three distributors — timed, grouped by where the goods are, each customer acknowledged, exported
/// as CSV, XLSX and PDF with headers in the reader's language and names, not identifiers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mock_recall_completes_and_exports() {
    let Some(site) = Site::start().await else {
        return;
    };
    let b = Browser::open(&site).await;
    b.goto("/login").await;
    b.sign_in(harness::ADMIN, &site.password).await;
    b.goto("/recalls").await;
    b.expect_text("h1", "召回").await;
    b.fill(
        "#new-recall",
        &[("title", "出厂检验不合格演练"), ("lots", &site.failing_lot)],
    )
    .await;
    b.click("#new-recall button[type=submit]").await;
    b.expect_text("#elapsed", "毫秒").await;
    b.expect_text("#places", "厂内").await;
    b.expect_text("main", "模拟召回").await;
    b.expect_text("main", "无需联系客户").await;
    b.shot("recall-failing-lot-zh").await;
    // A raw-milk lot: its cans went to the three distributors.
    b.goto("/recalls").await;
    let milk = suyuan_demo::supplier_lot(&suyuan_demo::SUPPLIERS[0], 1);
    let milk_lot = milk.rsplit('.').next().expect("lot").to_string();
    b.fill(
        "#new-recall",
        &[("title", "原料奶召回演练"), ("lots", &milk_lot)],
    )
    .await;
    b.click("#new-recall button[type=submit]").await;
    b.expect_text("#contacts", "0/").await;
    for name in ["广州母婴商贸", "成都健儿供应链", "沈阳北方乳品"] {
        b.expect_text("main table", name).await;
    }
    // The raw-milk lot itself never left the plant.
    b.expect_text("#objects tbody tr:first-child", "厂内").await;
    b.shot_page("recall-milk-zh").await;
    b.click("form[action$='/acknowledge'] button").await;
    b.expect_text("#contacts", "1/").await;
    let here = b.current_path().await;
    let (status, mime, disposition, body) = b
        .fetch(&format!("{here}/export?format=csv&lang=zh-CN"))
        .await;
    assert_eq!(status, 200);
    assert!(mime.starts_with("text/csv"), "{mime}");
    assert!(
        disposition.contains("recall-R-") && disposition.contains("-zh-CN.csv"),
        "{disposition}"
    );
    assert!(body.contains("编码,类型,产品,当前所在,持有方"), "{body}");
    let (status, mime, _, _) = b.fetch(&format!("{here}/export?format=xlsx&lang=en")).await;
    assert_eq!(status, 200);
    assert!(mime.contains("spreadsheetml"), "{mime}");
    let (status, mime, _, body) = b.fetch(&format!("{here}/export?format=pdf&lang=en")).await;
    assert_eq!(status, 200);
    assert_eq!(mime, "application/pdf");
    assert!(body.starts_with("%PDF-"));
    b.goto(&format!("{here}?lang=en")).await;
    b.expect_text("#places", "At a distributor").await;
    b.shot("recall-milk-en").await;
    b.fill("form[action$='/close']", &[("note", "drill done")])
        .await;
    b.click("form[action$='/close'] button").await;
    b.expect_text("main", "Closed").await;
    b.close().await;
}

/// A regulator sees only their grant (the can product, first week): a menu without plant screens, the trace
/// report of a granted can with every event's inclusion proof verified against the signed checkpoint, the
/// ledger key and the offline command; a can made after the period is not theirs to see.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_regulator_sees_only_their_grant_with_proofs() {
    let Some(site) = Site::start().await else {
        return;
    };
    let b = Browser::open(&site).await;
    b.goto("/").await;
    b.sign_in(harness::REGULATOR, &site.password).await;
    b.expect_text("h1", "追溯查询").await;
    b.expect_text(".scope-note", "监管视图").await;
    for nav in ["追溯", "事件", "证明与核验"] {
        b.expect_text("nav.menu", nav).await;
    }
    for hidden in ["概览", "召回", "编码与标签", "系统管理"] {
        b.expect_no_text("nav.menu", hidden).await;
    }
    let serial = site.copied.rsplit('/').next().expect("serial").to_string();
    b.scan_into("#trace-q", &serial).await;
    b.expect_text("#explored", &serial).await;
    b.click_link("打印追溯报告").await;
    b.expect_text("h1", "追溯报告").await;
    b.expect_text("#signature", "已用账本公钥验证").await;
    b.expect_text("#proofs-verified", "包含证明已对照检查点根验证")
        .await;
    let text = b.page_text().await;
    assert!(!text.contains("✗"), "every proof verifies: {text}");
    b.expect_text("main", "suyuan verify-proof").await;
    b.shot_page("regulator-report-zh").await;
    let here = b.current_path().await;
    let (status, mime, _, body) = b
        .fetch(&format!("{here}?id={}&format=pdf", site.copied))
        .await;
    assert_eq!((status, mime.as_str()), (200, "application/pdf"));
    assert!(body.starts_with("%PDF-"));
    // A can of the batch made on day 12: outside the period.
    b.goto(&format!("/trace/report?id={}", site.held)).await;
    b.expect_text("body", "没有您可查看的事件").await;
    b.goto("/proofs?lang=en").await;
    b.expect_text("#grants", "06901234123456").await;
    b.expect_text("#verifier-key", "suyuan.test/ledger").await;
    b.shot("regulator-proofs-en").await;
    b.close().await;
}

/// The administration screens: a user created with a generated password, a coding rule refused for broken
/// JSON (nothing saved, the text kept) then saved, a regulator grant, and the consumer page's contact, which
/// a withdrawn can's page then names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administrators_manage_users_rules_grants_and_the_consumer_page() {
    let Some(site) = Site::start().await else {
        return;
    };
    let b = Browser::open(&site).await;
    b.goto("/login").await;
    b.sign_in(harness::ADMIN, &site.password).await;
    b.goto("/admin").await;
    b.expect_text("h1", "系统管理").await;
    b.expect_text("main table", "监管人员").await;
    b.fill(
        "#new-user",
        &[
            ("name", "wangfang"),
            ("display", "质量经理 王芳"),
            ("role", "quality_manager"),
        ],
    )
    .await;
    b.click("#new-user button").await;
    b.expect_text("#admin-message", "wangfang 的密码（只显示这一次）")
        .await;
    b.expect_text("main table", "质量经理 王芳").await;
    // The same name again: refused in the reader's language, nothing changed.
    b.fill("#new-user", &[("name", "wangfang"), ("role", "viewer")])
        .await;
    b.click("#new-user button").await;
    b.expect_text("#admin-error", "已存在").await;
    // A broken rule: refused, located, kept in the editor.
    b.click_xpath("//h2[@id='rules']/following::details[summary[contains(., '新建')]][1]/summary")
        .await;
    b.fill(
        "details[open] form",
        &[
            ("name", "box-serial"),
            ("json", "{\"template\": \"{SEQ:6}\", \"target\": "),
        ],
    )
    .await;
    b.click("details[open] form button").await;
    b.expect_text("#admin-error", "JSON 格式错误").await;
    b.expect_text("details[open] textarea", "{SEQ:6}").await;
    b.fill(
        "details[open] form",
        &[(
            "json",
            "{\"template\": \"{YY}{SEQ:6}\", \"target\": \"sgtin\", \"gtin\": \"06901234123456\"}",
        )],
    )
    .await;
    b.click("details[open] form button").await;
    b.expect_text("#admin-message", "已保存 box-serial，版本 1")
        .await;
    b.fill(
        "#new-grant",
        &[
            ("gtins", "06901234123456"),
            ("from", "2026-10-01"),
            ("to", "2026-11-01"),
            ("note", "专项检查"),
        ],
    )
    .await;
    b.click("#new-grant button").await;
    b.expect_text("#admin-message", "已为 regulator 授权").await;
    b.fill(
        "#consumer-settings",
        &[("contact", "客服热线 400-800-1234")],
    )
    .await;
    b.click("#consumer-settings button").await;
    b.expect_text("#admin-message", "已保存 default").await;
    b.shot_page("admin-zh").await;
    b.goto(site.held.trim_start_matches("https://id.gs1.org"))
        .await;
    b.expect_text("#warning", "客服热线 400-800-1234").await;
    b.close().await;
}

/// The console on a 10-inch tablet and on a phone: nothing runs off the right edge (wide tables scroll inside
/// their frame), the header keeps brand and tools on one line with the search below, the charts draw.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_fits_a_tablet_and_a_phone() {
    let Some(site) = Site::start().await else {
        return;
    };
    let tablet = Browser::open_sized(&site, 800, 1280).await;
    tablet.goto("/login").await;
    tablet.sign_in(harness::ADMIN, &site.password).await;
    assert!(tablet.widget_points("events_by_step").await > 0);
    tablet.expect_no_sideways_scroll().await;
    tablet.shot("dashboard-tablet-zh").await;
    tablet.goto("/events").await;
    tablet.expect_no_sideways_scroll().await;
    tablet.close().await;
    let phone = Browser::open_phone(&site).await;
    phone.goto("/login").await;
    phone.sign_in(harness::ADMIN, &site.password).await;
    for page in [
        "/",
        "/events",
        "/recalls",
        &format!("/trace?q={}", site.lot),
    ] {
        phone.goto(page).await;
        phone.expect_no_sideways_scroll().await;
    }
    // Brand and tools on one line, the search box on the next: the header is at most three rows tall
    // including the menu strip.
    let rows = phone.header_rows().await;
    assert!(rows <= 3, "the phone header takes {rows} rows");
    phone.shot("trace-phone-zh").await;
    phone.close().await;
}

/// A work order made and released on its screen, then run at the scan station with a keyboard-wedge scanner
/// (keystrokes ending in Enter, nothing clicked): badge, work order, a wrong material refused in red with
/// the reason, the right lot consumed, a can made; the order's material balance; the warehouse, master data
/// and alerts screens; in Chinese and English.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_work_order_runs_at_the_scan_station() {
    let Some(site) = Site::start().await else {
        return;
    };
    let b = Browser::open(&site).await;
    b.goto("/login").await;
    b.sign_in(harness::ADMIN, &site.password).await;
    b.goto("/orders").await;
    b.expect_text("main", "WO-").await;
    b.click("#new-order-panel summary").await;
    b.fill(
        "#new-order",
        &[("planned", "10"), ("number", "WO-STATION-1")],
    )
    .await;
    b.click("#new-order button[type=submit]").await;
    b.expect_text("h1", "WO-STATION-1").await;
    b.expect_text("h1", "已创建").await;
    b.click_xpath("//button[normalize-space()='下达']").await;
    b.expect_text("h1", "已下达").await;

    b.goto("/station/CAN").await;
    b.expect_text("#feedback", "请扫描工牌").await;
    b.scan_into("#scan", "1001").await;
    b.expect_text("#feedback.ok", "张伟，您好").await;
    b.scan_into("#scan", "WO-STATION-1").await;
    b.expect_text("#feedback.ok", "WO-STATION-1").await;
    // The day-0 mix is not an input of the can: refused in red, in words.
    b.scan_into("#scan", "(01)06901234200010(10)MX2026100111")
        .await;
    b.expect_text("#feedback.bad", "物料错误").await;
    b.expect_text("#feedback.bad", "混合料").await;
    b.expect_text("#feedback.bad", "空罐").await;
    b.shot("station-refused-zh").await;
    // The last lot of empty cans is in the raw material warehouse, which feeds the line.
    b.scan_into("#scan", "(01)06920004000414(10)CN0006").await;
    b.expect_text("#feedback.ok", "已投料").await;
    b.scan_into("#scan", "(01)06901234123456(21)STATION0001")
        .await;
    b.expect_text("#feedback.ok", "已记录产出").await;
    b.expect_text("#order-detail", "1 / 10").await;
    b.shot_page("station-zh").await;

    b.goto("/station/CAN?lang=en").await;
    b.expect_text("#operator", "1001").await;
    b.scan_into("#scan", "(01)06901234123456(21)STATION0001")
        .await;
    b.expect_text("#feedback.bad", "already recorded").await;
    b.shot("station-refused-en").await;

    b.goto("/orders/WO-STATION-1").await;
    b.expect_text("h1", "Started").await;
    b.expect_text("#balance", "empty cans").await;
    b.shot_page("work-order-en").await;
    b.goto("/orders/WO-STATION-1?lang=zh-CN").await;
    b.expect_text("#balance", "空罐").await;
    b.shot_page("work-order-zh").await;

    b.goto("/warehouse?product=06920004000414").await;
    b.expect_text("#stock", "CN0006").await;
    b.expect_text("#fefo", "CN0006").await;
    b.shot_page("warehouse-zh").await;
    b.goto("/warehouse?status=on_hold&lang=en").await;
    b.expect_text("#stock", "On hold").await;
    b.shot_page("warehouse-en").await;

    b.goto("/masterdata/location").await;
    b.expect_text("#records", "灌装线").await;
    b.shot_page("masterdata-zh").await;
    b.goto("/alerts?lang=en&kind=diversion").await;
    b.expect_text("#alerts", "Diversion").await;
    b.fill("#alerts form.inline", &[("owner", "sales")]).await;
    b.click_xpath("//table[@id='alerts']//button[normalize-space()='Acknowledge']")
        .await;
    b.expect_text("#alerts", "Acknowledged").await;
    b.expect_text("#alerts", "sales").await;
    b.goto("/alerts?lang=en").await;
    b.expect_text("#alerts", "Suspected counterfeit").await;
    b.shot_page("alerts-en").await;
    b.expect_no_js_errors().await;
    b.close().await;
}
