//! The demo plant's own reports and its quality dashboard, as a quality engineer would define them.

use serde_json::{Value, json};

/// Every report of the demo plant, as the engine stores them.
pub fn reports() -> Vec<Value> {
    vec![
        json!({
            "code": "iqc-by-supplier", "name": {"zh": "来料检验（按供应商）", "en": "Incoming inspection by supplier"},
            "source": "inspections", "days": 90,
            "filters": [{"field": "stage", "op": "eq", "value": "iqc"}],
            "group_by": ["supplier"],
            "columns": [
                {"field": "supplier", "label": {"zh": "供应商", "en": "Supplier"}},
                {"field": "id", "label": {"zh": "检验批数", "en": "Lots inspected"}, "agg": "count"},
                {"field": "defects", "label": {"zh": "缺陷数", "en": "Defects"}, "agg": "sum"},
                {"field": "sample_size", "label": {"zh": "平均样本量", "en": "Mean sample"}, "agg": "avg"}
            ],
            "sort": [{"column": 1, "desc": true}]
        }),
        json!({
            "code": "shipments-by-product", "name": {"zh": "发货（按产品）", "en": "Shipments by product"},
            "source": "events", "days": 90,
            "filters": [{"field": "biz_step", "op": "eq", "value": "shipping"}],
            "group_by": ["product"],
            "columns": [
                {"field": "product", "label": {"zh": "产品", "en": "Product"}},
                {"field": "event_id", "label": {"zh": "发货次数", "en": "Shipments"}, "agg": "count"},
                {"field": "objects", "label": {"zh": "件数", "en": "Items"}, "agg": "sum"}
            ],
            "sort": [{"column": 2, "desc": true}]
        }),
        json!({
            "code": "open-tasks", "name": {"zh": "未完成待办", "en": "Open tasks"},
            "source": "tasks",
            "filters": [{"field": "state", "op": "eq", "value": "open"}, {"field": "kind", "op": "eq", "value": "task"}],
            "columns": [
                {"field": "title", "label": {"zh": "事项", "en": "What"}},
                {"field": "role", "label": {"zh": "角色", "en": "Role"}},
                {"field": "due", "label": {"zh": "期限", "en": "Due"}},
                {"field": "overdue", "label": {"zh": "已逾期", "en": "Overdue"}}
            ],
            "sort": [{"column": 2}]
        }),
    ]
}

/// The demo plant's quality dashboard (its home page stays the built-in one).
pub fn dashboards() -> Vec<Value> {
    vec![json!({
        "code": "quality", "name": {"zh": "质量看板", "en": "Quality dashboard"},
        "widgets": [
            {"title": {"zh": "未完成待办", "en": "Open tasks"}, "report": "open-tasks", "chart": "number"},
            {"title": {"zh": "一次合格率（按检验阶段）", "en": "First-pass yield by stage"}, "metric": "quality_first_pass", "chart": "bars"},
            {"title": {"zh": "缺陷帕累托", "en": "Defect Pareto"}, "metric": "defect_pareto", "chart": "bars"},
            {"title": {"zh": "来料检验（按供应商）", "en": "Incoming inspection by supplier"}, "report": "iqc-by-supplier", "chart": "rows", "wide": true},
            {"title": {"zh": "供应商合格率", "en": "Supplier pass rate"}, "metric": "supplier_pass_rate", "chart": "bars"},
            {"title": {"zh": "待处理质量事项（按时长）", "en": "Open quality items by age"}, "metric": "quality_open_by_age", "chart": "stacked"}
        ]
    })]
}
