//! Rules and tasks in the browser: the built-in rule with what it did over the demo's history, its dry
//! run, a rule made on the editor (refused with its problems first), and that rule firing on an
//! inspection recorded on screen — its task in the inbox with the navigation's badge — in zh-CN and English.

use crate::harness::{self, Browser, Site};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_is_tried_saved_and_fires_into_the_inbox() {
    let Some(site) = Site::start().await else {
        return;
    };
    let b = Browser::open(&site).await;
    b.goto("/login").await;
    b.sign_in(harness::ADMIN, &site.password).await;

    // The built-in rule ran over the demo's history: it fired on both failed inspections.
    b.goto("/rules").await;
    b.expect_text("tr[data-rule=inspection-failed]", "内置")
        .await;
    b.expect_text("tr[data-rule=inspection-failed] td.fired", "2")
        .await;
    b.shot_page("rules-zh").await;

    // Its dry run over the last 90 days finds the failing batch, and does nothing.
    b.click("tr[data-rule=inspection-failed] a").await;
    b.click("#dry-run").await;
    b.expect_text("#rule-notice", "触发 2 次").await;
    b.expect_text("#dry-run-fired", "L2026101212").await;
    b.expect_text("#dry-run-fired", "隔离").await;
    b.shot_page("rule-dry-run-zh").await;

    // A new rule: a condition that does not parse is refused, naming it; fixed, it is saved as version 1.
    b.goto("/rules/new?lang=en").await;
    b.fill(
        "#rule-form",
        &[
            ("code", "incoming-rejected"),
            ("name", "Incoming lot rejected: tell the buyer"),
            ("biz_step", "inspecting"),
            ("disposition", "non_conformant"),
            ("if", "event.inspection.stage == "),
            ("a0_do", "task"),
            ("a0_text", "Claim against the supplier for {lot}"),
            ("a0_to", "admin"),
            ("a0_hours", "48"),
        ],
    )
    .await;
    b.click("#save-rule").await;
    b.expect_text("#rule-problems", "if:").await;
    b.shot("rule-refused-en").await;
    b.fill("#rule-form", &[("if", "event.inspection.stage == 'iqc'")])
        .await;
    b.click("#save-rule").await;
    b.expect_text("#rule-notice", "Saved as version 1").await;

    // An incoming lot rejected on screen: the rule's task reaches the inbox, and the badge counts it.
    b.goto(
        "/quality/inspect?plan=IQC-VP&object=(01)06920003000316(10)VP0001&lot_size=40&lang=zh-CN",
    )
    .await;
    b.fill("#results", &[("c0", "70 72 75"), ("c1", "0")]).await;
    b.click("#results button[type=submit]").await;
    b.expect_text("#outcome", "批次不合格").await;
    b.goto("/tasks").await;
    b.expect_text("#tasks", "Claim against the supplier for VP0001")
        .await;
    b.expect_text("#task-count", "1").await;
    b.shot_page("tasks-zh").await;
    b.fill("#tasks form.inline", &[("note", "已向供应商索赔")])
        .await;
    b.click("#tasks form.inline button").await;
    b.expect_text(".notice", "已完成").await;
    b.expect_text("main", "没有待办事项").await;
    b.goto("/rules?lang=en").await;
    b.expect_text("tr[data-rule=incoming-rejected]", "Enabled")
        .await;
    b.shot_page("rules-en").await;
    b.expect_no_js_errors().await;
    b.close().await;
}
