//! UI text in Simplified Chinese (default) and English, and how a request picks its language.

use axum::http::HeaderMap;

/// A UI language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Simplified Chinese, the default.
    Zh,
    /// English.
    En,
}

impl Lang {
    /// BCP 47 tag, as in `<html lang>` and `?lang=`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// Parses `zh-CN`/`zh`/`en` (case-insensitive).
    pub fn parse(s: &str) -> Option<Lang> {
        match s.to_ascii_lowercase().as_str() {
            "zh" | "zh-cn" | "zh-hans" => Some(Lang::Zh),
            "en" | "en-us" | "en-gb" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language of a request: `?lang=` first, then the `lang` cookie, else Chinese.
    pub fn of_request(query_lang: Option<&str>, headers: &HeaderMap) -> Lang {
        if let Some(l) = query_lang.and_then(Lang::parse) {
            return l;
        }
        crate::auth::cookie_value(headers, "lang")
            .and_then(Lang::parse)
            .unwrap_or(Lang::Zh)
    }
}

/// Translator handed to templates: `{{ tr.t("nav.home") }}`.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    /// The language.
    pub lang: Lang,
}

/// Every message table: the shell's below, and each screen's beside its module.
pub const CATALOGUE: &[&[(&str, &str, &str)]] = &[
    TEXTS,
    crate::web::catalogue::CONSOLE,
    crate::web::catalogue::ADMIN,
    crate::web::operations::texts::OPS,
    crate::web::quality::texts::QUALITY,
    crate::web::rules::texts::RULES,
    crate::web::forms::texts::FORMS,
    crate::web::workflows::texts::WORKFLOWS,
    crate::web::reports::texts::REPORTS,
    crate::public::TEXTS,
];

/// (key, Chinese, English).
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("app.name", "溯源", "Suyuan"),
    ("app.tagline", "生产追溯系统", "Production traceability"),
    ("nav.home", "概览", "Overview"),
    ("nav.events", "事件", "Events"),
    ("nav.objects", "对象查询", "Object lookup"),
    ("nav.labels", "编码与标签", "Codes & labels"),
    ("nav.trace", "追溯", "Trace"),
    ("nav.recalls", "召回", "Recalls"),
    ("nav.proofs", "证明与核验", "Proofs"),
    ("nav.admin", "系统管理", "Administration"),
    (
        "header.search",
        "扫码或输入任意编码…",
        "Scan or type any code…",
    ),
    ("nav.signout", "退出", "Sign out"),
    ("login.title", "登录", "Sign in"),
    ("login.user", "用户名", "User name"),
    ("login.password", "密码", "Password"),
    ("login.button", "登录", "Sign in"),
    (
        "login.failed",
        "用户名或密码错误。",
        "Wrong user name or password.",
    ),
    (
        "login.throttled",
        "尝试次数过多，请稍后再试。",
        "Too many attempts; try again later.",
    ),
    (
        "scope.partner",
        "合作伙伴视图：只显示发往贵方或由贵方发出的货物的事件。",
        "Partner view: only events about what was shipped to or by you.",
    ),
    (
        "scope.regulator",
        "监管视图：只显示授权范围内的产品和时段；每次查询都会被记录。",
        "Regulator view: only the products and period of your grants; every read is logged.",
    ),
    ("labels.title", "编码与标签", "Codes and labels"),
    ("labels.preview", "预览", "Preview"),
    ("labels.unknown_codes", "未发放编码", "Codes never issued"),
    ("labels.unknown.accept", "接受", "accepted"),
    (
        "labels.unknown.warn",
        "接受并告警",
        "accepted with an alert",
    ),
    ("labels.unknown.refuse", "拒收", "refused"),
    (
        "labels.sample",
        "示例值；打印表单中的“预览”显示实际打印效果",
        "sample values; Preview in the print form shows the real label",
    ),
    (
        "labels.preview_note",
        "按本表单打印时第一张标签的样子：编码为规则的下一个编码格式（预览不发码）。",
        "The first label as this form will print it: the code has the shape of the rule's next code (a preview issues none).",
    ),
    ("labels.rules", "编码规则", "Coding rules"),
    ("labels.templates", "标签模板", "Label templates"),
    (
        "labels.no_rules",
        "还没有编码规则：管理员可在“系统管理”中创建。",
        "No coding rules yet: an administrator creates them under Administration.",
    ),
    (
        "labels.no_templates",
        "还没有标签模板：管理员可在“系统管理”中创建。",
        "No label templates yet: an administrator creates them under Administration.",
    ),
    ("labels.name", "名称", "Name"),
    ("labels.version", "版本", "Version"),
    ("labels.template", "模板", "Template"),
    ("labels.target", "标识类型", "Identifies"),
    ("labels.issued", "已发码", "Issued"),
    ("labels.print", "发码并打印", "Issue codes and print"),
    ("labels.rule", "编码规则", "Coding rule"),
    ("labels.count", "数量", "Count"),
    ("labels.format", "格式", "Format"),
    ("labels.layout", "版式", "Layout"),
    ("labels.roll", "卷标（每页一张）", "Roll (one per page)"),
    ("labels.printer", "打印机（可选）", "Printer (optional)"),
    ("labels.context", "编码上下文", "Code context"),
    (
        "labels.vars",
        "标签变量（每行 名称=值）",
        "Label values (one name=value per line)",
    ),
    ("labels.start", "开始", "Start"),
    ("labels.done", "完成：", "Done:"),
    ("labels.download", "下载文件", "Download the file"),
    ("labels.sent", "已发送到打印机", "Sent to printer"),
    ("labels.failed", "失败：", "Failed:"),
    (
        "labels.err.count",
        "数量：请填写要打印的标签张数（整数）",
        "Count: the number of labels to print (a whole number)",
    ),
    (
        "labels.err.format",
        "格式：请选择 PDF 或 ZPL",
        "Format: choose PDF or ZPL",
    ),
    (
        "labels.err.template",
        "模板：请选择一个标签模板",
        "Template: choose a label template",
    ),
    (
        "labels.err.rule",
        "编码规则：请选择一个编码规则",
        "Coding rule: choose a coding rule",
    ),
    (
        "labels.err.missing_vars",
        "这个模板还需要以下标签变量，请在“标签变量”中填写：",
        "This template needs these label variables; give them under “Label values”:",
    ),
    ("list.separator", "、", ", "),
    (
        "labels.printer_example",
        "例如 192.168.1.50:9100",
        "e.g. 192.168.1.50:9100",
    ),
    (
        "labels.vars_example",
        "例如：lot=L2611250A（每行一项）",
        "e.g. lot=L2611250A (one per line)",
    ),
    (
        "labels.err.vars",
        "标签变量：每行写一个 名称=值，这一部分不是：",
        "Label values: one name=value per line; this part is not:",
    ),
    ("home.title", "概览", "Overview"),
    ("stat.events", "事件总数", "Events"),
    ("stat.objects", "追溯对象", "Traced objects"),
    ("stat.last_seq", "账本序号", "Ledger seq"),
    ("stat.outbox", "待处理反应", "Pending reactions"),
    ("stat.size", "存储大小", "Store size"),
    ("stat.scans", "消费者扫码", "Consumer scans"),
    ("stat.backend", "存储后端", "Store backend"),
    ("lookup.title", "查询对象", "Look up an object"),
    (
        "lookup.hint",
        "输入或扫描编码：序列号、批号、SSCC、元素串、GS1 数字链接、EPC URN、工单或订单号",
        "Type or scan a code: serial, lot, SSCC, element string, GS1 Digital Link, EPC URN, work or purchase order",
    ),
    ("search.title", "查找", "Search"),
    ("search.read_as", "识别为", "Read as"),
    ("search.found", "找到的对象", "Found"),
    ("search.code", "编码", "Code"),
    (
        "search.none",
        "没有与此编码相符的对象。",
        "Nothing matches this code.",
    ),
    (
        "search.events",
        "单据下的事件",
        "Events of this transaction",
    ),
    ("search.warning", "注意", "Attention"),
    (
        "search.lot_mismatch",
        "编码中的批号是 {claimed}，但 {object} 登记的批号是 {recorded}：请核对包装与单据。",
        "The code says lot {claimed}, but {object} was recorded in lot {recorded}: check the pack and the paperwork.",
    ),
    (
        "search.read.digital_link",
        "GS1 数字链接",
        "GS1 Digital Link",
    ),
    (
        "search.read.element_string",
        "GS1 元素串",
        "GS1 element string",
    ),
    ("search.read.epc_urn", "EPC URN", "EPC URN"),
    ("search.read.gtin", "GTIN", "GTIN"),
    ("search.read.sscc", "SSCC", "SSCC"),
    ("search.read.uri", "URI", "URI"),
    (
        "search.read.text",
        "文本（序列号、批号或单据号）",
        "text (serial, lot or document number)",
    ),
    ("search.matched.identifier", "完整编码", "full code"),
    ("search.matched.serial", "序列号", "serial"),
    ("search.matched.lot", "批号", "lot"),
    ("search.matched.sscc", "SSCC", "SSCC"),
    ("search.matched.transaction", "单据号", "document number"),
    ("search.kind.instance", "单品", "Item"),
    ("search.kind.lot", "批次", "Lot"),
    ("search.kind.logistic_unit", "物流单元", "Logistic unit"),
    ("search.kind.product", "产品", "Product"),
    ("search.kind.location", "地点", "Location"),
    ("search.kind.party", "参与方", "Party"),
    ("search.kind.asset", "资产", "Asset"),
    ("search.kind.document", "单证", "Document"),
    (
        "search.kind.business_transaction",
        "业务单据",
        "Business transaction",
    ),
    ("search.kind.transformation", "加工", "Transformation"),
    ("search.kind.other", "其他", "Other"),
    ("lookup.button", "查询", "Look up"),
    ("recent.title", "最新事件", "Recent events"),
    (
        "recent.none",
        "还没有事件。运行 suyuan demo 载入演示工厂，或通过 API 采集事件。",
        "No events yet. Run suyuan demo to load the demo factory, or capture events through the API.",
    ),
    ("col.seq", "序号", "Seq"),
    ("col.time", "发生时间", "Event time"),
    ("col.type", "类型", "Type"),
    ("col.step", "业务步骤", "Business step"),
    ("col.objects", "对象", "Objects"),
    ("col.location", "位置", "Location"),
    ("col.disposition", "状态", "Disposition"),
    ("col.event_id", "事件 ID", "Event ID"),
    ("events.title", "事件账本", "Event ledger"),
    ("events.next", "下一页", "Next page"),
    ("events.first", "第一页", "First page"),
    ("event.title", "事件详情", "Event"),
    ("event.record_time", "记录时间", "Record time"),
    ("event.hash", "事件哈希", "Event hash"),
    ("event.leaf", "账本叶哈希", "Ledger leaf hash"),
    ("event.not_found", "没有这个事件", "No such event"),
    (
        "event.more_objects",
        "个对象（展开）",
        "more objects (show all)",
    ),
    (
        "event.raw",
        "原始数据（EPCIS JSON-LD）",
        "Raw data (EPCIS JSON-LD)",
    ),
    ("object.title", "对象", "Object"),
    ("object.state", "当前状态", "Current state"),
    ("object.container", "所在容器", "Inside"),
    ("object.contents", "包含", "Contains"),
    ("object.history", "历史", "History"),
    ("object.scans", "消费者扫码", "Consumer scans"),
    ("story.title", "产品故事", "Product story"),
    (
        "story.hint",
        "这件产品及其原料从入厂到消费者的每一步。",
        "Every step of this item and its materials, from receipt to the consumer.",
    ),
    (
        "trace.backward",
        "反向追溯：来自哪里",
        "Backward: where it came from",
    ),
    (
        "trace.forward",
        "正向追踪：去了哪里",
        "Forward: where it went",
    ),
    ("scan.place", "地点", "Place"),
    ("object.first_seen", "首次记录", "First recorded"),
    ("object.event_count", "事件数", "Events"),
    (
        "object.not_found",
        "没有任何事件提到这个对象",
        "No event names this object",
    ),
    ("object.none", "无", "none"),
    (
        "footer.text",
        "溯源 — 开源生产追溯系统，遵循 GS1 EPCIS 2.0 / CBV 2.0",
        "Suyuan — open-source production traceability, GS1 EPCIS 2.0 / CBV 2.0",
    ),
    ("lang.switch", "语言", "Language"),
];

impl Tr {
    /// The text for `key` in this language (the key itself when it is missing, which a test forbids).
    pub fn t(&self, key: &str) -> &'static str {
        match CATALOGUE
            .iter()
            .flat_map(|c| c.iter())
            .find(|(k, _, _)| *k == key)
        {
            Some((_, zh, en)) => match self.lang {
                Lang::Zh => zh,
                Lang::En => en,
            },
            None => {
                tracing::warn!(key, "missing UI text");
                "?"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `tr.t("…")` key used in a template exists.
    #[test]
    fn every_template_key_is_translated() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/templates");
        let mut checked = 0;
        for entry in std::fs::read_dir(dir).expect("templates") {
            let path = entry.expect("entry").path();
            let text = std::fs::read_to_string(&path).expect("read");
            for part in text.split("t(\"").skip(1) {
                let key = part.split('"').next().unwrap_or_default();
                assert!(
                    CATALOGUE
                        .iter()
                        .flat_map(|c| c.iter())
                        .any(|(k, _, _)| *k == key),
                    "{}: key {key} has no text",
                    path.display()
                );
                checked += 1;
            }
        }
        assert!(checked > 20, "found only {checked} keys");
    }

    #[test]
    fn no_key_is_defined_twice() {
        let mut seen = std::collections::HashSet::new();
        for (k, zh, en) in CATALOGUE.iter().flat_map(|c| c.iter()) {
            assert!(seen.insert(*k), "{k} is defined twice");
            assert!(!zh.is_empty() && !en.is_empty(), "{k} has an empty text");
        }
    }

    #[test]
    fn language_choice() {
        let mut h = HeaderMap::new();
        assert_eq!(Lang::of_request(None, &h), Lang::Zh);
        h.insert(
            axum::http::header::COOKIE,
            "a=b; lang=en".parse().expect("header"),
        );
        assert_eq!(Lang::of_request(None, &h), Lang::En);
        assert_eq!(Lang::of_request(Some("zh-CN"), &h), Lang::Zh);
    }
}
