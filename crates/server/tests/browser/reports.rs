//! Reports and dashboards in the browser: the demo's incoming-inspection report as a table and exported
//! as XLSX, CSV and PDF; the quality dashboard drawing its metric and report widgets; and the dashboard
//! designer moving a widget by dragging it and adding one, saved as a new version — in zh-CN and English.

use crate::harness::{self, Browser, Site};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_is_exported_and_a_dashboard_rearranged() {
    let Some(site) = Site::start().await else {
        return;
    };
    let b = Browser::open(&site).await;
    b.goto("/login").await;
    b.sign_in(harness::ADMIN, &site.password).await;

    b.goto("/reports").await;
    b.expect_text("tr[data-report=iqc-by-supplier]", "来料检验（按供应商）")
        .await;
    b.expect_text("tr[data-dashboard=home]", "内置").await;
    b.expect_text("tr[data-dashboard=quality]", "质量看板")
        .await;
    b.shot_page("reports-zh").await;

    b.click("tr[data-report=iqc-by-supplier] a").await;
    b.expect_text("#report-table thead", "供应商").await;
    b.expect_text("#report-summary", "显示").await;
    assert!(
        b.visible("#report-table tbody tr").await >= 3,
        "a row per supplier"
    );
    b.shot_page("report-iqc-zh").await;
    for (format, kind) in [
        ("xlsx", "spreadsheetml"),
        ("csv", "text/csv"),
        ("pdf", "application/pdf"),
    ] {
        let (status, content_type, disposition, _) = b
            .fetch(&format!("/reports/iqc-by-supplier/export?format={format}"))
            .await;
        assert_eq!(status, 200, "{format}");
        assert!(content_type.contains(kind), "{format}: {content_type}");
        assert!(
            disposition.contains(&format!("iqc-by-supplier.{format}")),
            "{disposition}"
        );
    }

    // The quality dashboard draws its metrics and its reports.
    b.goto("/dashboards/quality?lang=en").await;
    assert!(b.widget_points("report:iqc-by-supplier").await >= 3);
    b.widget_points("report:open-tasks").await;
    b.widget_points("quality_first_pass").await;
    b.expect_text("h1", "Quality dashboard").await;
    b.shot_page("dashboard-quality-en").await;

    // The designer: the last widget dragged to the front, a widget added, saved as version 2.
    b.click("#design-dashboard").await;
    b.expect_text("#wcards .wcard:first-child h2", "Open tasks")
        .await;
    b.drag(
        "#wcards .wcard:last-child .drag",
        "#wcards .wcard:first-child",
    )
    .await;
    b.expect_text("#wcards .wcard:first-child h2", "Open quality items by age")
        .await;
    b.scroll_to("#add-widget").await;
    b.click("#add-widget").await;
    b.type_into("#wcards .wcard:last-child [data-prop=title_zh]", "账本")
        .await;
    b.type_into(
        "#wcards .wcard:last-child [data-prop=title_en]",
        "The ledger",
    )
    .await;
    b.shot_page("dashboard-designer-en").await;
    b.scroll_to("#save-dashboard").await;
    b.click("#save-dashboard").await;
    b.expect_text("#dashboard-notice", "Saved as version 2")
        .await;
    b.goto("/dashboards/quality?lang=zh-CN").await;
    b.expect_text(".widget:first-child h2", "待处理质量事项")
        .await;
    b.expect_text(".widget:last-child h2", "账本").await;
    b.widget_points("quality_open_by_age").await;
    b.shot_page("dashboard-quality-zh").await;
    b.expect_no_js_errors().await;
    b.close().await;
}
