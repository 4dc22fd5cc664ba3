//! Workflows in the browser: the built-in deviation approval started on screen, its guard sending a
//! high-risk deviation to the plant manager, the next step's task in the inbox leading back to the case,
//! a rejection refused without its note and then taken — in zh-CN and English.

use crate::harness::{self, Browser, Site};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deviation_moves_through_its_states_from_the_inbox() {
    let Some(site) = Site::start().await else {
        return;
    };
    let b = Browser::open(&site).await;
    b.goto("/login").await;
    b.sign_in(harness::ADMIN, &site.password).await;

    b.goto("/workflows").await;
    b.expect_text("tr[data-workflow=deviation]", "偏差审批")
        .await;
    b.expect_text("tr[data-workflow=ncr-review]", "不合格品评审")
        .await;
    b.click("tr[data-workflow=deviation] a").await;
    b.expect_text("#transitions", "提交厂长").await;
    b.shot_page("workflow-deviation-zh").await;
    b.fill(
        "#start-case",
        &[
            ("title", "卷边规 SG-02 超出校准期 3 天"),
            ("subject", "(01)06901234567892(10)L2026101212"),
            ("data", "risk=high\ndays=3"),
        ],
    )
    .await;
    b.click("#start-case button[type=submit]").await;
    b.expect_text("#case-state", "质量审批").await;
    // The guard: a high-risk deviation cannot be approved here; it goes to the plant manager.
    b.expect_text("form[data-transition=approve]", "条件未满足")
        .await;
    b.click("form[data-transition=escalate] button[type=submit]")
        .await;
    b.expect_text("#case-notice", "厂长审批").await;
    b.shot_page("case-escalated-zh").await;

    // The plant manager's step is a task in the administrator's inbox, leading back to the case.
    b.goto("/tasks").await;
    b.expect_text("#tasks", "厂长审批").await;
    b.shot_page("tasks-workflow-zh").await;
    b.click_link("去处理").await;
    b.expect_text("#case-state", "厂长审批").await;

    // A rejection needs its note.
    b.goto(&format!("{}?lang=en", b.current_path().await)).await;
    b.click("form[data-transition=reject] button[type=submit]")
        .await;
    b.expect_text("#case-problems", "note").await;
    b.fill(
        "form[data-transition=reject]",
        &[("note", "Calibrate first; no deviation for a critical gauge")],
    )
    .await;
    b.click("form[data-transition=reject] button[type=submit]")
        .await;
    b.expect_text("#case-notice", "Rejected").await;
    b.expect_text("#case-state", "Ended").await;
    b.expect_text("#history", "Calibrate first").await;
    b.shot_page("case-ended-en").await;
    b.goto("/workflows?lang=en").await;
    b.expect_text("#cases", "Rejected").await;
    b.expect_no_js_errors().await;
    b.close().await;
}
