//! The quality screens in the browser: recording an inspection from its plan (the sample shown before the
//! results), a rejected lot's hold and report, the report's steps on the board, the hold's objects, the
//! supplier scorecards, an SPC chart and the batch quality report — in zh-CN and English.

use crate::harness::{self, Browser, Site};

/// A 1×1 PNG: the photo an inspector attaches.
const PHOTO: [u8; 67] = [
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

/// Records an inspection of the vitamin premix lot VP0002 with the given vitamin A measurements (and a
/// photo, when given).
async fn inspect_premix(b: &Browser, vitamin_a: &str, photo: Option<&std::path::Path>) {
    b.goto("/quality/inspect").await;
    b.fill(
        "#choose",
        &[
            ("plan", "IQC-VP"),
            ("object", "(01)06920003000316(10)VP0002"),
            ("lot_size", "40"),
        ],
    )
    .await;
    b.click("#choose button[type=submit]").await;
    // 40 boxes at level II: code letter D, whose arrow at AQL 1.0 leads to E's 13 items.
    b.expect_text("#sampling", "D → E").await;
    b.expect_text("#sample-size", "13").await;
    b.fill("#results", &[("c0", vitamin_a), ("c1", "0")]).await;
    if let Some(path) = photo {
        b.choose_file("#attach-file", path).await;
        b.expect_text("#attach-list a", "vitamin-a-retest.png")
            .await;
    }
    b.click("#results button[type=submit]").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspections_reports_and_holds_on_screen() {
    let Some(site) = Site::start().await else {
        return;
    };
    let b = Browser::open(&site).await;
    b.goto("/login").await;
    b.sign_in(harness::ADMIN, &site.password).await;

    // The list: the demo's inspections, the failing FQC among them, and the section's figures.
    b.goto("/quality").await;
    b.expect_text("h1", "检验记录").await;
    b.expect_text("#inspections", "FQC-CAN").await;
    b.expect_text("#inspections", "不合格（拒收）").await;
    b.expect_text(".stats", "生效中的隔离").await;
    b.shot_page("quality-inspections-zh").await;

    // An accepted lot, then a rejected one: held, reported, in words.
    inspect_premix(&b, "98 101 99.5", None).await;
    b.expect_text("#outcome", "批次合格").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let photo = dir.path().join("vitamin-a-retest.png");
    std::fs::write(&photo, PHOTO).expect("photo");
    inspect_premix(&b, "80, 82 85", Some(&photo)).await;
    b.expect_text("#outcome", "批次不合格").await;
    b.expect_text("#outcome", "NCR-").await;
    // The photo is kept with the inspection and opens from the list.
    b.expect_text("#inspections", "vitamin-a-retest.png").await;
    let (status, kind, _, _) = b
        .fetch(
            "/quality/attachments/ebf4f635a17d10d6eb46ba680b70142419aa3220f228001a036d311a22ee9d2a",
        )
        .await;
    assert_eq!((status, kind.as_str()), (200, "image/png"));
    let (status, _, _, _) = b
        .fetch(&format!("/quality/attachments/{}", "0".repeat(64)))
        .await;
    assert_eq!(status, 404, "an unknown attachment is not found");
    b.shot_page("quality-rejected-zh").await;
    // A measurement that is no number is refused, naming the characteristic.
    b.goto("/quality/inspect?plan=IQC-VP&object=(01)06920003000316(10)VP0002&lot_size=40")
        .await;
    b.fill("#results", &[("c0", "98 abc")]).await;
    b.click("#results button[type=submit]").await;
    b.expect_text(".error", "维生素A vitamin A").await;
    b.expect_text(".error", "abc").await;
    b.shot("quality-entry-refused-zh").await;

    // The board: the demo's FQC report under review, the new one raised.
    b.goto("/quality/ncrs").await;
    b.expect_text("section[data-state=under_review]", "L2026101212")
        .await;
    b.expect_text("section[data-state=raised]", "VP0002").await;
    b.shot_page("ncr-board-zh").await;
    b.click("section[data-state=raised] a.ncr-card").await;
    b.expect_text("#ncr-state", "已开立").await;
    b.fill("#ncr-step", &[("action", "review"), ("why", "MRB 复检")])
        .await;
    b.click("#ncr-step button[type=submit]").await;
    b.expect_text("#ncr-state", "评审中").await;
    // A concession needs a second person: the proposer cannot approve it.
    b.fill(
        "#ncr-step",
        &[
            ("disposition", "concession"),
            ("why", "维生素A偏低，可在配方中补足"),
        ],
    )
    .await;
    b.click("#ncr-step button[type=submit]").await;
    b.expect_text("#ncr-state", "待批准").await;
    b.fill("#ncr-step", &[("action", "approve"), ("why", "同意")])
        .await;
    b.click("#ncr-step button[type=submit]").await;
    b.expect_text(".error", "someone other than").await;
    b.expect_text("#ncr-history", "决定处置").await;
    b.shot_page("ncr-zh").await;

    // The rule held VP0002 and everything made from it, for its report.
    b.goto("/quality/holds").await;
    b.expect_text("#holds", "VP0002").await;
    // The hold of the failing batch keeps its lot and 600 cans; the held cans are listed by kind.
    b.expect_text("#holds", "L2026101212").await;
    b.click_xpath(
        "//table[@id='holds']//tr[td[contains(., 'L2026101212')]]//a[starts-with(., 'H-')]",
    )
    .await;
    b.expect_text("#held-count", "601").await;
    b.expect_text("main", "单品 600").await;
    b.shot_page("hold-zh").await;
    // Two cans reworked and re-inspected leave this hold alone; the hold the rule placed on VP0002 (an
    // input of this batch) still keeps them, and the page says so.
    b.click("#held tbody tr:nth-child(1) input[type=checkbox]")
        .await;
    b.click("#held tbody tr:nth-child(2) input[type=checkbox]")
        .await;
    b.fill("#release", &[("why", "返工后复检合格")]).await;
    b.click("#release button[value='1']").await;
    b.expect_text(
        ".notice",
        "已从此隔离解除 2 个对象；其中 2 个仍被其他隔离保留",
    )
    .await;
    b.expect_text("#held-count", "599").await;

    // English: the board, the report's steps, the scorecards with WP0002's rejection, the SPC chart.
    b.goto("/quality/ncrs?lang=en").await;
    b.expect_text("section[data-state=under_review]", "Under review (MRB)")
        .await;
    b.expect_text("section[data-state=closed]", "WP0002").await;
    b.shot_page("ncr-board-en").await;
    b.goto("/quality/suppliers").await;
    b.expect_text("#scorecards", "Hengtian Whey").await;
    b.expect_text("tr[data-supplier=SUP2]", "75.0%").await;
    b.shot_page("supplier-scorecards-en").await;
    b.goto("/quality/spc?plan=FQC-CAN").await;
    b.expect_text("#spc-facts", "X̄-R chart").await;
    b.expect_text("#spc-facts", "Cpk").await;
    b.expect_text("#spc[data-state=ready]", "").await;
    b.shot_page("spc-en").await;
    b.goto("/quality/report?lot=L2026101212").await;
    b.expect_text("h1", "Batch quality report: L2026101212")
        .await;
    b.expect_text("main", "Cronobacter").await;
    b.expect_text("main", "Covering checkpoint").await;
    b.shot_page("batch-report-en").await;
    let (status, kind, _, _) = b.fetch("/quality/report?lot=L2026101212&format=pdf").await;
    assert_eq!((status, kind.as_str()), (200, "application/pdf"));
    b.goto("/quality/report?lot=L2026101212&lang=zh-CN").await;
    b.expect_text("h1", "批次质量报告：L2026101212").await;
    b.expect_text("main", "原料批次检验").await;
    b.shot_page("batch-report-zh").await;
    b.expect_no_js_errors().await;
    b.close().await;
}
