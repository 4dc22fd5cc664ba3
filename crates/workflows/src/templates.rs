//! The workflows that work out of the box, each editable like any other: NCR review, supplier corrective
//! action (8D), deviation approval and recall execution. Each state is assigned to a role of the plant's
//! and has an SLA with escalation; guards keep a case from skipping what the procedure demands.

use serde_json::{Value, json};

use crate::workflow::Workflow;

fn state(key: &str, zh: &str, en: &str, role: &str, sla: u32, escalate: &str) -> Value {
    json!({"key": key, "label": {"zh": zh, "en": en}, "role": role, "sla_hours": sla, "escalate_to": escalate})
}

fn end(key: &str, zh: &str, en: &str) -> Value {
    json!({"key": key, "label": {"zh": zh, "en": en}, "end": true})
}

fn go(key: &str, zh: &str, en: &str, from: &[&str], to: &str) -> Value {
    json!({"key": key, "label": {"zh": zh, "en": en}, "from": from, "to": to})
}

fn with(mut t: Value, k: &str, v: Value) -> Value {
    t[k] = v;
    t
}

/// The built-in workflows.
pub fn templates() -> Vec<Workflow> {
    let docs = vec![
        json!({
            "code": "ncr-review", "name": {"zh": "不合格品评审", "en": "NCR review"},
            "description": {"zh": "评审 → 围堵 → 处置决定 → 验证 → 关闭", "en": "Review → containment → disposition → verification → closed"},
            "start": "review",
            "states": [
                state("review", "评审", "Review", "quality_manager", 24, "admin"),
                state("containment", "围堵", "Containment", "quality_manager", 48, "admin"),
                state("verify", "验证", "Verification", "inspector", 48, "quality_manager"),
                end("closed", "已关闭", "Closed")
            ],
            "transitions": [
                go("contain", "开始围堵", "Start containment", &["review"], "containment"),
                with(go("decide", "决定处置", "Decide disposition", &["containment"], "verify"),
                     "guard", json!("has(case.disposition) && case.disposition in ['rework', 'scrap', 'return', 'concession']")),
                go("close", "验证通过并关闭", "Verified, close", &["verify"], "closed"),
                with(go("reopen", "验证不通过", "Not verified", &["verify"], "containment"), "note_required", json!(true))
            ]
        }),
        json!({
            "code": "supplier-8d", "name": {"zh": "供应商纠正措施（8D）", "en": "Supplier corrective action (8D)"},
            "description": {"zh": "D1–D3 团队与围堵，D4–D5 根因与措施，D6–D7 实施与预防，D8 验证关闭", "en": "D1–D3 team and containment, D4–D5 root cause and actions, D6–D7 implementation and prevention, D8 verification"},
            "start": "d1_d3",
            "states": [
                state("d1_d3", "D1–D3 团队与围堵", "D1–D3 team and containment", "quality_manager", 48, "admin"),
                state("d4_d5", "D4–D5 根因与措施", "D4–D5 root cause and actions", "quality_manager", 240, "admin"),
                state("d6_d7", "D6–D7 实施与预防", "D6–D7 implement and prevent", "quality_manager", 720, "admin"),
                state("d8", "D8 验证", "D8 verification", "quality_manager", 168, "admin"),
                end("closed", "已关闭", "Closed")
            ],
            "transitions": [
                go("contained", "已围堵", "Contained", &["d1_d3"], "d4_d5"),
                with(go("root_cause", "根因已确认", "Root cause found", &["d4_d5"], "d6_d7"), "guard", json!("has(case.root_cause) && case.root_cause != ''")),
                go("implemented", "措施已实施", "Actions implemented", &["d6_d7"], "d8"),
                go("accept", "验证有效，关闭", "Effective, close", &["d8"], "closed"),
                with(go("not_effective", "措施无效", "Not effective", &["d8"], "d4_d5"), "note_required", json!(true))
            ]
        }),
        json!({
            "code": "deviation", "name": {"zh": "偏差审批", "en": "Deviation approval"},
            "description": {"zh": "临时偏离标准的申请；高风险偏差须厂长批准", "en": "A request to depart from a standard for a time; high-risk ones need the plant manager"},
            "start": "requested",
            "states": [
                state("requested", "质量审批", "Quality approval", "quality_manager", 24, "admin"),
                state("plant_manager", "厂长审批", "Plant manager approval", "admin", 24, "admin"),
                end("approved", "已批准", "Approved"),
                end("rejected", "已驳回", "Rejected")
            ],
            "transitions": [
                with(go("approve", "批准", "Approve", &["requested"], "approved"), "guard", json!("!has(case.risk) || case.risk != 'high'")),
                with(go("escalate", "提交厂长", "To the plant manager", &["requested"], "plant_manager"), "guard", json!("has(case.risk) && case.risk == 'high'")),
                go("approve_high", "批准", "Approve", &["plant_manager"], "approved"),
                with(go("reject", "驳回", "Reject", &["requested", "plant_manager"], "rejected"), "note_required", json!(true))
            ]
        }),
        json!({
            "code": "recall", "name": {"zh": "召回执行", "en": "Recall execution"},
            "description": {"zh": "发起 → 通知下游 → 回收 → 对账 → 关闭（回收率达 95% 方可关闭）", "en": "Initiate → notify downstream → retrieve → reconcile → close (at least 95 % recovered)"},
            "start": "initiated",
            "states": [
                state("initiated", "已发起", "Initiated", "quality_manager", 4, "admin"),
                state("notified", "已通知下游", "Downstream notified", "warehouse", 24, "quality_manager"),
                state("retrieving", "回收中", "Retrieving", "warehouse", 72, "quality_manager"),
                state("reconciling", "对账", "Reconciling", "quality_manager", 48, "admin"),
                end("closed", "已关闭", "Closed")
            ],
            "transitions": [
                go("notify", "已通知下游", "Downstream notified", &["initiated"], "notified"),
                go("retrieve", "开始回收", "Start retrieval", &["notified"], "retrieving"),
                go("reconcile", "回收完成，对账", "Retrieved, reconcile", &["retrieving"], "reconciling"),
                with(go("close", "关闭召回", "Close the recall", &["reconciling"], "closed"), "guard", json!("has(case.recovered_pct) && double(case.recovered_pct) >= 95.0")),
                with(go("more", "继续回收", "Retrieve more", &["reconciling"], "retrieving"), "note_required", json!(true))
            ]
        }),
    ];
    docs.into_iter()
        .filter_map(|d| serde_json::from_value(d).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_is_sound() {
        let t = templates();
        assert_eq!(t.len(), 4, "every template parses");
        for w in t {
            assert_eq!(w.problems(), Vec::new(), "{}", w.code);
        }
    }
}
