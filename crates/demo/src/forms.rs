//! The demo plant's own forms, as a process engineer would design them: the raw-milk receipt at the dock
//! (the tanker's lot scanned, temperature kept as a sensor reading, a photo and the receiver's
//! signature), the release details recorded with the final inspection (the plant's own fields on the
//! quality screen), and the line clearance before a batch (a checklist table).

use serde_json::{Value, json};

/// Every form of the demo plant, as the engine stores them.
pub fn forms() -> Vec<Value> {
    vec![
        json!({
            "code": "milk-receipt",
            "name": {"zh": "原奶收货验收", "en": "Raw milk receipt"},
            "description": {"zh": "奶罐车到厂：扫描批次，测温测酸度，拍照签字。", "en": "A tanker arrives: scan its lot, take temperature and acidity, photo and signature."},
            "fields": [
                {"key": "lot", "label": {"zh": "原奶批次", "en": "Milk lot"}, "type": "scan", "role": "object",
                 "require_ai": "10", "object_kind": "class", "required": true,
                 "prefill": {"product": "name"}, "quantity_field": "kg"},
                {"key": "product", "label": {"zh": "物料", "en": "Material"}, "type": "text"},
                {"key": "tanker", "label": {"zh": "车牌号", "en": "Tanker plate"}, "type": "text", "max_len": 12, "required": true},
                {"key": "kg", "label": {"zh": "净重", "en": "Net weight"}, "type": "number", "unit": "kg", "min": 1, "max": 40000, "required": true},
                {"key": "temp", "label": {"zh": "奶温", "en": "Milk temperature"}, "type": "number", "unit": "°C", "min": -2, "max": 10, "decimals": 1, "required": true,
                 "help": {"zh": "国标要求 ≤ 6 °C", "en": "GB requires ≤ 6 °C"}},
                {"key": "acidity", "label": {"zh": "酸度", "en": "Acidity"}, "type": "number", "unit": "°T", "min": 10, "max": 20, "decimals": 1, "required": true},
                {"key": "result", "label": {"zh": "结论", "en": "Result"}, "type": "select", "required": true,
                 "options": [{"value": "accept", "label": {"zh": "接收", "en": "Accept"}},
                             {"value": "reject", "label": {"zh": "拒收", "en": "Reject"}}]},
                {"key": "why", "label": {"zh": "拒收原因", "en": "Why rejected"}, "type": "text", "multiline": true,
                 "required": true, "visible_if": "form.result == 'reject'"},
                {"key": "photo", "label": {"zh": "铅封照片", "en": "Seal photo"}, "type": "photo"},
                {"key": "signature", "label": {"zh": "收货人签字", "en": "Receiver's signature"}, "type": "signature"}
            ],
            "event": {"type": "ObjectEvent", "action": "OBSERVE", "biz_step": "receiving",
                      "sensors": [{"field": "temp", "type": "Temperature", "uom": "CEL"}]}
        }),
        json!({
            "code": "fqc-release",
            "name": {"zh": "成品放行信息", "en": "Release details"},
            "description": {"zh": "出厂检验时一并记录的本厂字段。", "en": "The plant's own fields recorded with the final inspection."},
            "fields": [
                {"key": "lot", "label": {"zh": "批次", "en": "Lot"}, "type": "scan", "role": "object"},
                {"key": "retained", "label": {"zh": "留样编号", "en": "Retained sample"}, "type": "text", "max_len": 20},
                {"key": "retained_cans", "label": {"zh": "留样罐数", "en": "Cans retained"}, "type": "number", "unit": "罐", "min": 0, "max": 50},
                {"key": "pack_photo", "label": {"zh": "包装照片", "en": "Packaging photo"}, "type": "photo"}
            ],
            "event": {"type": "ObjectEvent", "action": "OBSERVE", "biz_step": "inspecting"}
        }),
        json!({
            "code": "storage-check",
            "name": {"zh": "库房温湿度巡检", "en": "Storage round"},
            "fields": [
                {"key": "pallet", "label": {"zh": "托盘", "en": "Pallet"}, "type": "scan", "role": "object",
                 "object_kind": "container", "required": true},
                {"key": "temp", "label": {"zh": "温度", "en": "Temperature"}, "type": "number", "unit": "°C", "min": -10, "max": 40, "decimals": 1, "required": true,
                 "help": {"zh": "奶粉库应在 25 °C 以下", "en": "Formula stock stays below 25 °C"}},
                {"key": "rh", "label": {"zh": "相对湿度", "en": "Relative humidity"}, "type": "number", "unit": "%", "min": 0, "max": 100, "required": true},
                {"key": "remark", "label": {"zh": "备注", "en": "Remark"}, "type": "text"}
            ],
            "event": {"type": "ObjectEvent", "action": "OBSERVE", "biz_step": "storing",
                      "sensors": [{"field": "temp", "type": "Temperature", "uom": "CEL"},
                                  {"field": "rh", "type": "RelativeHumidity", "uom": "P1"}]}
        }),
        json!({
            "code": "line-clearance",
            "name": {"zh": "清场检查", "en": "Line clearance"},
            "fields": [
                {"key": "batch", "label": {"zh": "批次", "en": "Batch"}, "type": "scan", "role": "object", "required": true},
                {"key": "checks", "label": {"zh": "检查项", "en": "Checks"}, "type": "table", "min_rows": 1, "columns": [
                    {"key": "item", "label": {"zh": "项目", "en": "Item"}, "type": "text", "required": true},
                    {"key": "ok", "label": {"zh": "结果", "en": "Result"}, "type": "select", "required": true,
                     "options": [{"value": "ok", "label": {"zh": "合格", "en": "OK"}}, {"value": "ng", "label": {"zh": "不合格", "en": "Not OK"}}]}
                ]},
                {"key": "gross", "label": {"zh": "余料毛重", "en": "Leftover gross"}, "type": "number", "unit": "kg", "decimals": 2},
                {"key": "tare", "label": {"zh": "容器皮重", "en": "Container tare"}, "type": "number", "unit": "kg", "decimals": 2},
                {"key": "net", "label": {"zh": "余料净重", "en": "Leftover net"}, "type": "calculated", "expr": "form.gross - form.tare", "unit": "kg", "decimals": 2},
                {"key": "cleared_at", "label": {"zh": "清场时间", "en": "Cleared at"}, "type": "datetime", "required": true}
            ],
            "event": {"type": "ObjectEvent", "action": "OBSERVE", "biz_step": "inspecting"}
        }),
    ]
}
