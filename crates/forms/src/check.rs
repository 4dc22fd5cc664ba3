//! What is wrong with a form's definition: every field's kind and properties, conditions and formulas
//! that must compile, keys used once, and an event template the fields can fill — each problem located
//! (`fields/2/key`) and said in both languages.

use suyuan_rules::Expression;

use crate::form::{Field, Form, Kind, Problem, Role, code_problem, problem};

const EVENT_TYPES: [&str; 3] = ["ObjectEvent", "AggregationEvent", "TransformationEvent"];
const PREFILLS: [&str; 7] = [
    "product",
    "name",
    "lot",
    "serial",
    "location",
    "disposition",
    "container",
];

fn is_key(k: &str) -> bool {
    k.len() <= 40
        && k.starts_with(|c: char| c.is_ascii_lowercase())
        && k.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl Form {
    /// What is wrong with the definition, each with where and what was expected; empty when it is sound.
    pub fn problems(&self) -> Vec<Problem> {
        let mut out: Vec<Problem> = code_problem(&self.code).into_iter().collect();
        if self.name.zh.trim().is_empty() {
            out.push(problem("name/zh", "a title", "表单名称"));
        }
        if self.fields.is_empty() {
            out.push(problem("fields", "at least one field", "至少一个字段"));
        }
        let keys: Vec<&str> = self.fields.iter().map(|f| f.key.as_str()).collect();
        for (i, f) in self.fields.iter().enumerate() {
            self.field_problems(&format!("fields/{i}"), f, &keys, true, &mut out);
            if keys.iter().filter(|k| **k == f.key).count() > 1 {
                out.push(problem(
                    &format!("fields/{i}/key"),
                    format!("a key used once ('{}' is used twice)", f.key),
                    format!("不重复的键（“{}”重复）", f.key),
                ));
            }
        }
        self.template_problems(&mut out);
        out
    }

    fn field_problems(
        &self,
        at: &str,
        f: &Field,
        siblings: &[&str],
        top: bool,
        out: &mut Vec<Problem>,
    ) {
        if !is_key(&f.key) {
            out.push(problem(
                &format!("{at}/key"),
                "a key of a-z, digits and '_', starting with a letter",
                "由小写字母、数字和“_”组成、以字母开头的键",
            ));
        }
        if f.label.zh.trim().is_empty() {
            out.push(problem(&format!("{at}/label/zh"), "a label", "字段标签"));
        }
        if !f.visible_if.trim().is_empty()
            && let Err(e) = Expression::compile(&f.visible_if, &["form", "row"])
        {
            out.push(problem(
                &format!("{at}/visible_if"),
                format!("an expression over `form`: {e}"),
                format!("基于 form 的表达式：{e}"),
            ));
        }
        match &f.kind {
            Kind::Number { min, max, .. } => {
                if let (Some(a), Some(b)) = (min, max)
                    && a > b
                {
                    out.push(problem(
                        &format!("{at}/max"),
                        "a greatest value not below the least",
                        "最大值不小于最小值",
                    ));
                }
            }
            Kind::Select { options } | Kind::MultiSelect { options } => {
                if options.is_empty() {
                    out.push(problem(
                        &format!("{at}/options"),
                        "at least one choice",
                        "至少一个选项",
                    ));
                }
                for (j, o) in options.iter().enumerate() {
                    if o.value.trim().is_empty() {
                        out.push(problem(
                            &format!("{at}/options/{j}/value"),
                            "a value",
                            "选项值",
                        ));
                    }
                }
            }
            Kind::Scan {
                object_kind,
                prefill,
                quantity_field,
                require_ai,
                ..
            } => {
                if let Some(k) = object_kind
                    && !["instance", "class", "container"].contains(&k.as_str())
                {
                    out.push(problem(
                        &format!("{at}/object_kind"),
                        "instance, class or container",
                        "instance、class 或 container",
                    ));
                }
                if let Some(ai) = require_ai
                    && (ai.len() < 2 || ai.len() > 4 || !ai.bytes().all(|b| b.is_ascii_digit()))
                {
                    out.push(problem(
                        &format!("{at}/require_ai"),
                        "a GS1 Application Identifier (2 to 4 digits)",
                        "GS1 应用标识符（2 至 4 位数字）",
                    ));
                }
                for (target, what) in prefill {
                    if !siblings.contains(&target.as_str()) {
                        out.push(problem(
                            &format!("{at}/prefill/{target}"),
                            "a field of the same form or row",
                            "同一表单或同一行中的字段",
                        ));
                    }
                    if !PREFILLS.contains(&what.as_str()) {
                        out.push(problem(
                            &format!("{at}/prefill/{target}"),
                            format!("one of {}", PREFILLS.join(", ")),
                            format!("以下之一：{}", PREFILLS.join("、")),
                        ));
                    }
                }
                if let Some(q) = quantity_field
                    && !siblings.contains(&q.as_str())
                {
                    out.push(problem(
                        &format!("{at}/quantity_field"),
                        "a number field of the same form or row",
                        "同一表单或同一行中的数字字段",
                    ));
                }
            }
            Kind::Table { columns, .. } => {
                if !top {
                    out.push(problem(
                        &format!("{at}/type"),
                        "no table inside a table",
                        "表格中不能再嵌套表格",
                    ));
                    return;
                }
                if columns.is_empty() {
                    out.push(problem(
                        &format!("{at}/columns"),
                        "at least one column",
                        "至少一列",
                    ));
                }
                let keys: Vec<&str> = columns.iter().map(|c| c.key.as_str()).collect();
                for (j, c) in columns.iter().enumerate() {
                    self.field_problems(&format!("{at}/columns/{j}"), c, &keys, false, out);
                }
            }
            Kind::Calculated { expr, .. } => {
                if let Err(e) = Expression::compile(expr, &["form", "row"]) {
                    out.push(problem(
                        &format!("{at}/expr"),
                        format!("an expression over `form`: {e}"),
                        format!("基于 form 的表达式：{e}"),
                    ));
                }
            }
            Kind::Text { .. } | Kind::Datetime { .. } | Kind::Photo | Kind::Signature => {}
        }
    }

    fn template_problems(&self, out: &mut Vec<Problem>) {
        let t = &self.event;
        if !EVENT_TYPES.contains(&t.event_type.as_str()) {
            out.push(problem(
                "event/type",
                format!("one of {}", EVENT_TYPES.join(", ")),
                format!("以下之一：{}", EVENT_TYPES.join("、")),
            ));
        }
        if let Some(a) = &t.action
            && !["ADD", "OBSERVE", "DELETE"].contains(&a.as_str())
        {
            out.push(problem(
                "event/action",
                "ADD, OBSERVE or DELETE",
                "ADD、OBSERVE 或 DELETE",
            ));
        }
        if t.biz_step.trim().is_empty() {
            out.push(problem(
                "event/biz_step",
                "a CBV business step (receiving, inspecting, …)",
                "CBV 业务步骤（receiving、inspecting 等）",
            ));
        }
        let roles: Vec<Role> = self
            .all_fields()
            .iter()
            .filter_map(|(_, f)| match &f.kind {
                Kind::Scan { role, .. } => Some(*role),
                _ => None,
            })
            .collect();
        let needs: &[Role] = match t.event_type.as_str() {
            "AggregationEvent" => &[Role::Parent],
            "TransformationEvent" => &[Role::Input, Role::Output],
            _ => &[Role::Object],
        };
        if !needs.iter().any(|r| roles.contains(r)) {
            out.push(problem(
                "event/type",
                format!(
                    "a scan field whose role is {} for a {}",
                    needs
                        .iter()
                        .map(|r| format!("{r:?}").to_lowercase())
                        .collect::<Vec<_>>()
                        .join(" or "),
                    t.event_type
                ),
                format!(
                    "{} 需要角色为 {} 的扫码字段",
                    t.event_type,
                    needs
                        .iter()
                        .map(|r| format!("{r:?}").to_lowercase())
                        .collect::<Vec<_>>()
                        .join(" 或 ")
                ),
            ));
        }
        let takes_ilmd = t.event_type == "TransformationEvent"
            || (t.event_type == "ObjectEvent" && t.action.as_deref() == Some("ADD"));
        if !t.ilmd.is_empty() && !takes_ilmd {
            out.push(problem(
                "event/ilmd",
                "lot master data only on an ObjectEvent with action ADD or a TransformationEvent",
                "批次主数据（ILMD）只能用于 ADD 的 ObjectEvent 或 TransformationEvent",
            ));
        }
        for (i, k) in t.ilmd.iter().enumerate() {
            if self.field(k).is_none() {
                out.push(problem(
                    &format!("event/ilmd/{i}"),
                    format!("a field of the form ('{k}' is not one)"),
                    format!("表单中的字段（没有“{k}”）"),
                ));
            }
        }
        for (i, s) in t.sensors.iter().enumerate() {
            let numeric = self
                .field(&s.field)
                .is_some_and(|f| matches!(f.kind, Kind::Number { .. } | Kind::Calculated { .. }));
            if !numeric {
                out.push(problem(
                    &format!("event/sensors/{i}/field"),
                    "a number field of the form",
                    "表单中的数字字段",
                ));
            }
            if s.measurement.trim().is_empty() || s.uom.trim().is_empty() {
                out.push(problem(
                    &format!("event/sensors/{i}"),
                    "a measurement type and its unit (Temperature, CEL)",
                    "测量类型及单位（Temperature、CEL）",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form::Form;
    use serde_json::json;

    pub(crate) fn receiving() -> Form {
        serde_json::from_value(json!({
            "code": "cold-receipt", "name": {"zh": "冷链收货", "en": "Cold-chain receipt"},
            "fields": [
                {"key": "lot", "label": {"zh": "批次", "en": "Lot"}, "type": "scan", "role": "object",
                 "require_ai": "10", "prefill": {"product": "product"}, "quantity_field": "qty", "required": true},
                {"key": "product", "label": {"zh": "产品", "en": "Product"}, "type": "text"},
                {"key": "qty", "label": {"zh": "数量", "en": "Quantity"}, "type": "number", "min": 1, "required": true},
                {"key": "temp", "label": {"zh": "温度", "en": "Temperature"}, "type": "number", "unit": "CEL",
                 "min": -30, "max": 8, "decimals": 1, "required": true},
                {"key": "result", "label": {"zh": "结论", "en": "Result"}, "type": "select", "required": true,
                 "options": [{"value": "ok", "label": {"zh": "合格", "en": "OK"}},
                             {"value": "fail", "label": {"zh": "不合格", "en": "Failed"}}]},
                {"key": "why", "label": {"zh": "原因", "en": "Why"}, "type": "text", "required": true,
                 "visible_if": "form.result == 'fail'"}
            ],
            "event": {"type": "ObjectEvent", "action": "OBSERVE", "biz_step": "receiving",
                      "sensors": [{"field": "temp", "type": "Temperature", "uom": "CEL"}]}
        }))
        .expect("a form")
    }

    #[test]
    fn a_sound_form_has_no_problems() {
        assert_eq!(receiving().problems(), Vec::<Problem>::new());
    }

    #[test]
    fn problems_name_the_field_in_both_languages() {
        let mut f = receiving();
        f.fields[1].key = "Product!".into();
        f.fields[3].kind = Kind::Number {
            unit: None,
            min: Some(5.0),
            max: Some(1.0),
            decimals: 0,
        };
        f.fields[5].visible_if = "result == 'fail'".into();
        f.event.event_type = "TransformationEvent".into();
        let p = f.problems();
        let at: Vec<&str> = p.iter().map(|p| p.field.as_str()).collect();
        assert!(at.contains(&"fields/1/key"), "{at:?}");
        assert!(at.contains(&"fields/3/max"), "{at:?}");
        assert!(at.contains(&"fields/5/visible_if"), "{at:?}");
        assert!(at.contains(&"event/type"), "{at:?}");
        assert!(at.contains(&"fields/0/prefill/product"), "{at:?}");
        assert!(p.iter().all(|p| !p.en.is_empty() && !p.zh.is_empty()));
    }
}
