//! What anyone may open without signing in: the consumer page a QR code leads to, served at the GS1 Digital
//! Link paths of our products as a conformant resolver ([`resolver`]: HTML page, RFC 9264 linkset, link-type
//! redirects) and drawn phone-first ([`page`]).

pub mod page;
pub mod resolver;

/// The consumer page's messages. (key, Chinese, English).
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("c.title", "产品溯源", "Product origin"),
    ("c.genuine", "正品验证通过", "Genuine product"),
    ("c.genuine_lot", "本批次由我们生产", "A lot we made"),
    (
        "c.first_scan",
        "这是该编码的首次扫码。",
        "This is the first scan of this code.",
    ),
    (
        "c.scanned_before",
        "该编码此前已被扫描 {n} 次，首次于 {when}，在{where}。",
        "Scans of this code before yours: {n}. The first was on {when}, in {where}.",
    ),
    (
        "c.scanned_before_nowhere",
        "该编码此前已被扫描 {n} 次，首次于 {when}。",
        "Scans of this code before yours: {n}. The first was on {when}.",
    ),
    (
        "c.suspicious",
        "注意：该编码曾在不同城市被多次扫描（{cities}），可能是仿冒品。请向购买处或品牌方核实。",
        "Caution: this code was scanned several times in different places ({cities}). It may be a copy: check with the shop or the brand.",
    ),
    ("c.suspicious_title", "可能是仿冒品", "Possibly a copy"),
    ("c.do_not_consume", "请勿食用", "Do not consume"),
    (
        "c.hold_text",
        "该批次产品已被暂停销售，请勿食用。请联系 {contact}。",
        "This lot has been withdrawn from sale: do not consume it. Please contact {contact}.",
    ),
    (
        "c.recall_text",
        "该产品已被召回，请勿食用。请联系 {contact}。",
        "This product has been recalled: do not consume it. Please contact {contact}.",
    ),
    ("c.contact_default", "购买处", "the place of purchase"),
    ("c.lot", "批号", "Lot"),
    ("c.serial", "序列号", "Serial"),
    ("c.produced", "生产日期", "Made on"),
    ("c.expiry", "保质期至", "Best before"),
    ("c.inspection", "出厂检验", "Final inspection"),
    ("c.passed", "合格", "Passed"),
    ("c.failed", "不合格", "Failed"),
    ("c.journey", "产品旅程", "Journey"),
    ("c.stop.made", "生产", "Made"),
    ("c.stop.received", "到达", "Arrived"),
    ("c.stop.on_sale", "上架", "On sale"),
    ("c.stop.sold", "售出", "Sold"),
    ("c.unknown_title", "未找到该编码", "Code not found"),
    (
        "c.unknown_text",
        "我们的记录中没有这个编码。如果它印在您购买的产品上，请向购买处或品牌方核实。",
        "This code is not in our records. If it is printed on a product you bought, please check with the shop or the brand.",
    ),
    ("c.bad_title", "无法识别的链接", "Link not recognised"),
    (
        "c.bad_text",
        "这个链接不是有效的 GS1 数字链接：",
        "This link is not a valid GS1 Digital Link:",
    ),
    ("c.more", "更多信息", "More information"),
    (
        "c.product_only",
        "扫描包装上的二维码可查看该件产品的批次、检验和旅程。",
        "Scan the QR code on the pack to see its lot, inspection and journey.",
    ),
    (
        "c.verified_by",
        "由溯源记录验证，记录不可篡改。",
        "Verified against Suyuan's tamper-evident record.",
    ),
    ("c.lang", "English", "中文"),
    (
        "c.locate_text",
        "愿意的话，分享您所在的城市，帮助品牌发现串货和仿冒。只记录城市，不记录位置。",
        "If you like, share your city to help the brand spot diverted and copied goods. Only the city is kept, never your position.",
    ),
    ("c.locate_button", "分享我的城市", "Share my city"),
    ("c.locate_done", "已记录：", "Recorded:"),
    (
        "c.locate_failed",
        "未能获取位置。",
        "Your position could not be read.",
    ),
    (
        "c.locate_none",
        "这个位置附近没有可记录的城市。",
        "No city we know is near this position.",
    ),
];
