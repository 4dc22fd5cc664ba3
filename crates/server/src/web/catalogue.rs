//! The console's messages beyond the shell's (`i18n::TEXTS`): dashboard, events filters, trace explorer,
//! recalls, proofs — and the administration screens. (key, Chinese, English).

/// Dashboard, events, trace, recalls and proofs.
pub const CONSOLE: &[(&str, &str, &str)] = &[
    ("dash.title", "生产追溯驾驶舱", "Traceability dashboard"),
    ("dash.apply", "应用", "Apply"),
    ("dash.empty", "这段时间没有数据", "No data in this period"),
    (
        "dash.failed",
        "暂时无法加载，稍后自动重试",
        "Could not load; retrying shortly",
    ),
    ("dash.refreshed", "已刷新", "Refreshed"),
    ("dash.loading", "加载中…", "Loading…"),
    (
        "dash.events_by_step",
        "每日事件（按业务步骤）",
        "Events per day by business step",
    ),
    (
        "dash.objects_by_disposition",
        "对象当前状态",
        "Objects by current disposition",
    ),
    (
        "dash.shipped_by_destination",
        "发货量（按收货方）",
        "Units shipped by destination",
    ),
    (
        "dash.shipped_by_region",
        "发货量（按地区）",
        "Units shipped by region",
    ),
    (
        "dash.scans_per_day",
        "消费者每日扫码",
        "Consumer scans per day",
    ),
    (
        "dash.scans_by_region",
        "消费者扫码（按地区）",
        "Consumer scans by region",
    ),
    (
        "dash.suspicious_scans",
        "可疑扫码告警",
        "Suspicious-scan alerts",
    ),
    (
        "dash.ledger",
        "账本与签名检查点",
        "Ledger and signed checkpoint",
    ),
    ("dash.other", "其他", "Other"),
    ("dash.no_step", "未注明步骤", "No business step"),
    ("dash.unknown_region", "未知地区", "Unknown region"),
    ("dash.series.objects", "对象数", "Objects"),
    ("dash.series.units", "件数", "Units"),
    ("dash.series.scans", "扫码次数", "Scans"),
    ("dash.ledger.events", "已记录事件", "Events recorded"),
    (
        "dash.ledger.checkpoint",
        "最新签名检查点（覆盖事件数）",
        "Latest signed checkpoint (events covered)",
    ),
    ("col.place", "地点", "Place"),
    ("events.any", "全部", "Any"),
    ("events.from", "开始日期", "From"),
    ("events.to", "结束日期", "To"),
    ("events.object", "对象", "Object"),
    (
        "events.object_hint",
        "例如 urn:epc:id:sgtin:… 或 https://id.gs1.org/01/…",
        "e.g. urn:epc:id:sgtin:… or https://id.gs1.org/01/…",
    ),
    ("events.filter", "筛选", "Filter"),
    ("events.clear", "清除", "Clear"),
    ("events.newest", "最新", "Newest"),
    ("events.older", "更早", "Older"),
    (
        "events.bad_day",
        "日期格式应为 年-月-日。",
        "Dates are written year-month-day.",
    ),
    (
        "events.bad_filter",
        "筛选条件无效：",
        "The filter is not valid:",
    ),
    (
        "lists.objects_in",
        "当前状态为“{d}”的对象",
        "Objects now {d}",
    ),
    (
        "lists.objects_total",
        "共 {n} 个，显示最近变化的 {m} 个。",
        "{n} in all; the {m} most recently changed are shown.",
    ),
    ("lists.scans", "消费者扫码", "Consumer scans"),
    (
        "lists.scans_hint",
        "{from} 至 {to} 期间被扫描过的编码，最近的在前。",
        "Codes scanned between {from} and {to}, latest first.",
    ),
    ("col.product", "产品", "Product"),
    ("col.code", "编码", "Code"),
    ("col.count", "次数", "Count"),
    ("col.first_scan", "首次扫码", "First scan"),
    ("col.last_scan", "最近扫码", "Latest scan"),
    ("col.cities", "城市", "Cities"),
    ("col.status", "状态", "Status"),
    ("badge.suspicious", "可疑", "Suspicious"),
];

/// The administration screens.
pub const ADMIN: &[(&str, &str, &str)] = &[];
