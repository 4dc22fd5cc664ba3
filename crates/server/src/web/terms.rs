//! CBV terms as a person reads them: business steps, dispositions and event types in Simplified Chinese or
//! English. A term this list does not hold (a newer CBV term, a company's own URI) is shown as it was captured.

use super::i18n::{Lang, Tr};

/// Business steps: (CBV value, Chinese).
const STEPS: &[(&str, &str)] = &[
    ("accepting", "验收"),
    ("arriving", "到达"),
    ("assembling", "组装"),
    ("collecting", "收集"),
    ("commissioning", "赋码启用"),
    ("consigning", "托运"),
    ("creating_class_instance", "创建批次"),
    ("cycle_counting", "循环盘点"),
    ("decommissioning", "停用"),
    ("departing", "离开"),
    ("destroying", "销毁"),
    ("disassembling", "拆解"),
    ("dispensing", "分装"),
    ("encoding", "编码"),
    ("entering_exiting", "出入"),
    ("holding", "扣留"),
    ("inspecting", "检验"),
    ("installing", "安装"),
    ("killing", "标签灭活"),
    ("loading", "装货"),
    ("other", "其他"),
    ("packing", "包装"),
    ("picking", "拣货"),
    ("receiving", "收货"),
    ("removing", "移除"),
    ("repackaging", "重新包装"),
    ("repairing", "维修"),
    ("replacing", "更换"),
    ("reserving", "预留"),
    ("retail_selling", "零售销售"),
    ("shipping", "发货"),
    ("staging_outbound", "出库备货"),
    ("stock_taking", "盘点"),
    ("stocking", "上架"),
    ("storing", "储存"),
    ("transporting", "运输"),
    ("unloading", "卸货"),
    ("unpacking", "拆包"),
    ("void_shipping", "取消发货"),
    ("sensor_reporting", "传感器报告"),
    ("sampling", "抽样"),
    ("https://suyuan.dev/voc/bizStep/administering", "系统管理"),
    (
        "https://suyuan.dev/voc/bizStep/nonconformance",
        "不合格处理",
    ),
    ("https://suyuan.dev/voc/bizStep/releasing", "解除隔离"),
];

/// Dispositions: (CBV value, Chinese).
const DISPOSITIONS: &[(&str, &str)] = &[
    ("active", "已激活"),
    ("container_closed", "容器已封闭"),
    ("damaged", "损坏"),
    ("destroyed", "已销毁"),
    ("dispensed", "已分装"),
    ("disposed", "已处置"),
    ("encoded", "已编码"),
    ("expired", "已过期"),
    ("in_progress", "处理中"),
    ("in_transit", "运输中"),
    ("inactive", "未激活"),
    ("no_pedigree_match", "谱系不符"),
    ("non_sellable_other", "不可销售"),
    ("partially_dispensed", "部分分装"),
    ("recalled", "已召回"),
    ("reserved", "已预留"),
    ("retail_sold", "已售出"),
    ("returned", "已退回"),
    ("sellable_accessible", "可售"),
    ("sellable_not_accessible", "可售（不可取用）"),
    ("stolen", "被盗"),
    ("unknown", "未知"),
    ("available", "可用"),
    ("completeness_verified", "完整性已核实"),
    ("completeness_inferred", "完整性推定"),
    ("conformant", "合格"),
    ("container_open", "容器开启"),
    ("mismatch_instance", "单品不符"),
    ("mismatch_class", "品类不符"),
    ("mismatch_quantity", "数量不符"),
    ("needs_replacement", "需更换"),
    ("non_conformant", "不合格"),
    ("unavailable", "不可用"),
];

/// Event types: (EPCIS type, Chinese, English).
const EVENT_TYPES: &[(&str, &str, &str)] = &[
    ("ObjectEvent", "对象事件", "Object event"),
    ("AggregationEvent", "聚合事件", "Aggregation event"),
    ("TransactionEvent", "交易事件", "Transaction event"),
    ("TransformationEvent", "转换事件", "Transformation event"),
    ("AssociationEvent", "关联事件", "Association event"),
];

/// A CBV value in English: its words, the first capitalised (`retail_selling` → `Retail selling`).
fn english(value: &str) -> String {
    let words = value.replace('_', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn lookup(list: &[(&str, &str)], lang: Lang, term: &str) -> String {
    let value = suyuan_core::cbv::bare_term(term);
    match list.iter().find(|(k, _)| *k == value) {
        Some((_, zh)) if lang == Lang::Zh => zh.to_string(),
        Some(("https://suyuan.dev/voc/bizStep/administering", _)) => "Administration".into(),
        Some(("https://suyuan.dev/voc/bizStep/nonconformance", _)) => "Nonconformance".into(),
        Some(("https://suyuan.dev/voc/bizStep/releasing", _)) => "Release from hold".into(),
        Some((k, _)) => english(k),
        None => term.to_string(),
    }
}

impl Tr {
    /// A business step in the reader's language.
    pub fn step(&self, term: &str) -> String {
        lookup(STEPS, self.lang, term)
    }

    /// A disposition in the reader's language.
    pub fn disposition(&self, term: &str) -> String {
        lookup(DISPOSITIONS, self.lang, term)
    }

    /// An EPCIS event type in the reader's language.
    pub fn event_type(&self, term: &str) -> String {
        match EVENT_TYPES.iter().find(|(k, _, _)| *k == term) {
            Some((_, zh, en)) => match self.lang {
                Lang::Zh => zh.to_string(),
                Lang::En => en.to_string(),
            },
            None => term.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_read_in_both_languages_and_unknown_ones_stay_as_captured() {
        let zh = Tr { lang: Lang::Zh };
        let en = Tr { lang: Lang::En };
        assert_eq!(zh.step("retail_selling"), "零售销售");
        assert_eq!(en.step("retail_selling"), "Retail selling");
        assert_eq!(zh.step("urn:epcglobal:cbv:bizstep:shipping"), "发货");
        assert_eq!(zh.step("https://ref.gs1.org/cbv/BizStep-receiving"), "收货");
        assert_eq!(zh.disposition("non_conformant"), "不合格");
        assert_eq!(en.disposition("in_transit"), "In transit");
        assert_eq!(zh.event_type("TransformationEvent"), "转换事件");
        assert_eq!(
            en.step("https://suyuan.dev/voc/bizStep/administering"),
            "Administration"
        );
        assert_eq!(
            zh.step("https://example.com/steps/brewing"),
            "https://example.com/steps/brewing"
        );
        // Every CBV business step and disposition has its Chinese name.
        for s in suyuan_core::cbv::Vocab::BizStep.values() {
            assert_ne!(zh.step(s), *s, "{s} has no Chinese name");
        }
        for d in suyuan_core::cbv::Vocab::Disposition.values() {
            assert_ne!(zh.disposition(d), *d, "{d} has no Chinese name");
        }
    }
}
