//! Forms in the browser: the demo's raw-milk receipt filled in on screen (the scanned lot recognised, a
//! temperature out of range refused beside its field, the rejection reason shown only when rejecting),
//! recorded as an event; the designer (a field added from the palette, dragged to the top, seen in the
//! preview, saved as version 2); and the earlier submission still shown with version 1 — in zh-CN and
//! English.

use crate::harness::{self, Browser, Site};

const MILK_LOT: &str = "(01)06920001000110(10)RM0003";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_is_filled_in_redesigned_and_its_old_submission_kept() {
    let Some(site) = Site::start().await else {
        return;
    };
    let b = Browser::open(&site).await;
    b.goto("/login").await;
    b.sign_in(harness::ADMIN, &site.password).await;

    b.goto("/forms").await;
    b.expect_text("tr[data-form=milk-receipt]", "原奶收货验收")
        .await;
    b.expect_text("tr[data-form=line-clearance]", "清场检查")
        .await;
    b.shot_page("forms-zh").await;

    // Filling in: the scanned lot is recognised; the reason field appears only for a rejection.
    b.click("tr[data-form=milk-receipt] a").await;
    b.expect_text("h1", "原奶收货验收").await;
    b.expect_visible(".ffield[data-key=why]", 0).await;
    b.scan_into("input[name=lot]", MILK_LOT).await;
    b.expect_text(".ffield[data-key=lot] .scan-found", "已识别")
        .await;
    b.fill(
        "#fill",
        &[
            ("tanker", "黑A12345"),
            ("kg", "3000"),
            ("temp", "12"),
            ("acidity", "15.5"),
            ("result", "reject"),
        ],
    )
    .await;
    b.type_into("input[name=tanker]", "黑A12345").await;
    b.expect_visible(".ffield[data-key=why]", 1).await;
    b.click("#submit-form").await;
    // Refused: each problem beside its field, nothing recorded.
    b.expect_text(".ffield[data-key=temp] .field-error", "不得大于 10")
        .await;
    b.expect_text(".ffield[data-key=why] .field-error", "请填写")
        .await;
    b.shot_page("form-refused-zh").await;
    b.fill("#fill", &[("temp", "4.5"), ("result", "accept")])
        .await;
    b.type_into("input[name=acidity]", "15.5").await;
    b.expect_visible(".ffield[data-key=why]", 0).await;
    b.click("#submit-form").await;
    b.expect_text("#submitted", "已提交").await;
    b.expect_text("#form-version", "第 1 版").await;
    b.expect_text("#values", "4.5 °C").await;
    b.expect_text("#values", "接收").await;
    b.shot_page("form-submission-zh").await;
    let submission = b.current_path().await;

    // The designer: a field from the palette, dragged to the top, previewed, saved as version 2.
    b.goto("/forms/milk-receipt/design?lang=en").await;
    b.expect_text("#fcards li:first-child", "Milk lot").await;
    b.click(".add-field[data-type=text]").await;
    b.type_into("#fcards li:last-child [data-prop=label_zh]", "运输单号")
        .await;
    b.type_into("#fcards li:last-child [data-prop=label_en]", "Waybill")
        .await;
    b.drag("#fcards li:last-child .drag", "#fcards li:first-child")
        .await;
    b.expect_text("#fcards li:first-child", "Waybill").await;
    b.expect_text("#preview .ffield:first-child", "Waybill")
        .await;
    b.shot_page("form-designer-phone-en").await;
    b.click(".preview-size[data-size=desktop]").await;
    b.shot_page("form-designer-desktop-en").await;
    b.click("#save-form").await;
    b.expect_text("#form-notice", "Saved as version 2").await;
    b.expect_text("#versions", "2").await;

    // The earlier submission still shows with the version it was made with.
    b.goto(&format!("{submission}?lang=en")).await;
    b.expect_text("#form-version", "version 1").await;
    b.expect_text("main", "now at version 2").await;
    b.expect_no_text("#values", "Waybill").await;
    b.shot_page("form-submission-en").await;
    // The form to fill in now starts with the new field.
    b.goto("/forms/milk-receipt?lang=en").await;
    b.expect_text(".ffield:first-child", "Waybill").await;

    // The quality screen's entry carries the plant's own fields of the plan's form, recorded with it.
    b.goto(&format!(
        "/quality/inspect?plan=FQC-CAN&object=(01){}(10)L2026101311&lot_size=600&lang=zh-CN",
        suyuan_demo::operations::can_gtin()
    ))
    .await;
    b.expect_text("#extra-form legend", "成品放行信息").await;
    b.fill(
        "#results",
        &[
            ("c0", "12.1 12.0 11.9"),
            ("c1", "3.1 3.0 3.2"),
            ("c2", "0"),
            ("c3", "0"),
            ("x__retained", "RS-1311-A"),
        ],
    )
    .await;
    b.type_into("input[name=x__retained_cans]", "2").await;
    b.shot_page("inspection-with-own-fields-zh").await;
    b.click("#results button[type=submit]").await;
    b.expect_text("#outcome", "批次合格").await;
    b.goto("/forms/fqc-release/submissions").await;
    b.expect_text("#submissions", "RS-1311-A").await;
    b.expect_text("#submissions", "L2026101311").await;

    // A station carries its own form: the canning line's clearance, recorded from the station screen.
    b.goto("/station/CAN").await;
    b.expect_text("main", "清场检查").await;
    b.fill(
        "#fill",
        &[
            ("checks.0.item", "上批物料已清出"),
            ("checks.0.ok", "ok"),
            ("cleared_at", "2026-12-07T08:00"),
        ],
    )
    .await;
    b.scan_into(
        "#fill input[name=batch]",
        &format!("(01){}(10)L2026101311", suyuan_demo::operations::can_gtin()),
    )
    .await;
    b.click("#submit-form").await;
    b.expect_text("#recorded", "已记录").await;
    b.shot_page("station-form-zh").await;

    // So does a warehouse location: the finished goods warehouse's storage round.
    b.goto("/warehouse?location=FG&lang=en").await;
    b.expect_text("#own-form h2", "Storage round").await;
    b.fill("#fill", &[("temp", "55"), ("rh", "45")]).await;
    b.scan_into("#fill input[name=pallet]", "(00)069012340000000429")
        .await;
    b.click("#submit-form").await;
    b.expect_text(".ffield[data-key=temp] .field-error", "at most 40")
        .await;
    b.fill("#fill", &[("temp", "21.5")]).await;
    b.click("#submit-form").await;
    b.expect_text("#recorded", "Recorded").await;
    assert_eq!(
        b.current_path().await,
        "/warehouse",
        "back on the warehouse screen"
    );
    b.expect_no_js_errors().await;
    b.close().await;
}
