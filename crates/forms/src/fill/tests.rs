use super::*;
use crate::form::Form;

pub(crate) fn receiving() -> Form {
    serde_json::from_value(json!({
        "code": "cold-receipt", "name": {"zh": "冷链收货", "en": "Cold-chain receipt"},
        "fields": [
            {"key": "lot", "label": {"zh": "批次", "en": "Lot"}, "type": "scan", "role": "object",
             "require_ai": "10", "prefill": {"product": "product"}, "quantity_field": "qty", "required": true},
            {"key": "product", "label": {"zh": "产品", "en": "Product"}, "type": "text"},
            {"key": "qty", "label": {"zh": "数量", "en": "Quantity"}, "type": "number", "min": 1, "required": true},
            {"key": "gross", "label": {"zh": "毛重", "en": "Gross"}, "type": "number", "decimals": 1},
            {"key": "net", "label": {"zh": "净重", "en": "Net"}, "type": "calculated", "expr": "form.gross - 0.5", "decimals": 1},
            {"key": "temp", "label": {"zh": "温度", "en": "Temperature"}, "type": "number", "unit": "CEL",
             "min": -30, "max": 8, "decimals": 1, "required": true},
            {"key": "result", "label": {"zh": "结论", "en": "Result"}, "type": "select", "required": true,
             "options": [{"value": "ok", "label": {"zh": "合格", "en": "OK"}},
                         {"value": "fail", "label": {"zh": "不合格", "en": "Failed"}}]},
            {"key": "why", "label": {"zh": "原因", "en": "Why"}, "type": "text", "required": true,
             "visible_if": "form.result == 'fail'"},
            {"key": "boxes", "label": {"zh": "箱", "en": "Boxes"}, "type": "table", "columns": [
                {"key": "box", "label": {"zh": "箱号", "en": "Box"}, "type": "scan", "object_kind": "container", "required": true},
                {"key": "seal", "label": {"zh": "封条完好", "en": "Seal intact"}, "type": "select", "required": true,
                 "options": [{"value": "yes", "label": {"zh": "是"}}, {"value": "no", "label": {"zh": "否"}}]}
            ]}
        ],
        "event": {"type": "ObjectEvent", "action": "OBSERVE", "biz_step": "receiving"}
    }))
    .expect("a form")
}

fn resolved() -> BTreeMap<String, (Scanned, Found)> {
    let mut m = BTreeMap::new();
    for t in [
        "(01)06901234567892(10)L1",
        "(00)069012340000000016",
        "(01)06901234567892",
    ] {
        let s = Scanned::read(t).expect("code");
        let found = Found {
            key: s.key.clone(),
            exists: true,
            product: Some("06901234567892".into()),
            ..Found::default()
        };
        m.insert(t.to_string(), (s, found));
    }
    m
}

#[test]
fn a_good_submission_is_filled_and_computed() {
    let f = check(
        &receiving(),
        &json!({"lot": "(01)06901234567892(10)L1", "qty": "40", "gross": 12.5, "temp": "4.5",
                "result": "ok", "why": "ignored while hidden",
                "boxes": [{"box": "(00)069012340000000016", "seal": "yes"}, {"box": "", "seal": ""}]}),
        &resolved(),
    )
    .expect("valid");
    assert_eq!(f.values["product"], json!("06901234567892"), "prefilled");
    assert_eq!(f.values["net"], json!(12.0), "calculated");
    assert!(f.values.get("why").is_none(), "hidden fields are left out");
    assert_eq!(f.values["boxes"].as_array().map(Vec::len), Some(1));
    assert_eq!(f.placed.len(), 1);
    assert_eq!(f.placed[0].quantity, Some(40.0));
}

#[test]
fn bad_input_names_each_field() {
    let p = check(
        &receiving(),
        &json!({"lot": "(01)06901234567892", "qty": "x", "temp": 12, "result": "fail",
                "boxes": [{"box": "(01)06901234567892(10)L1"}]}),
        &resolved(),
    )
    .expect_err("invalid");
    let at: Vec<&str> = p.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(
        at,
        vec!["lot", "qty", "temp", "boxes/0/box", "boxes/0/seal", "why"],
        "{p:?}"
    );
    assert!(p[2].en.contains("at most 8 CEL"), "{}", p[2].en);
    assert!(p[2].zh.contains("不得大于 8"), "{}", p[2].zh);
    let unknown = check(&receiving(), &json!({"lot": "hello"}), &resolved()).expect_err("x");
    assert!(unknown[0].en.contains("GS1"), "{}", unknown[0].en);
}

#[test]
fn a_hidden_field_takes_only_its_own_problems_away() {
    let form: Form = serde_json::from_value(json!({
        "code": "x", "name": {"zh": "X"},
        "fields": [
            {"key": "lot", "label": {"zh": "批次"}, "type": "text", "visible_if": "form.kind == 'lot'"},
            {"key": "lot_size", "label": {"zh": "批量"}, "type": "number", "min": 1},
            {"key": "kind", "label": {"zh": "类型"}, "type": "text"},
            {"key": "item", "label": {"zh": "对象"}, "type": "scan", "role": "object"}
        ],
        "event": {"type": "ObjectEvent", "biz_step": "inspecting"}
    }))
    .expect("a form");
    let p = check(
        &form,
        &json!({"lot": "L1", "lot_size": 0, "kind": "unit"}),
        &BTreeMap::new(),
    )
    .expect_err("lot_size is below its least");
    assert_eq!(
        p.iter().map(|p| p.field.as_str()).collect::<Vec<_>>(),
        vec!["lot_size"]
    );
}

#[test]
fn dates_and_times_are_read_strictly() {
    assert_eq!(datetime("2026-12-07", true).as_deref(), Some("2026-12-07"));
    assert_eq!(
        datetime("2026-12-07T08:05", false).as_deref(),
        Some("2026-12-07T08:05:00")
    );
    assert_eq!(
        datetime("2026-12-07T08:05:09+08:00", false).as_deref(),
        Some("2026-12-07T08:05:09+08:00")
    );
    assert_eq!(datetime("2026-13-07", true), None);
    assert_eq!(datetime("2026-12-07T25:00", false), None);
}
