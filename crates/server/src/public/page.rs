//! The consumer page, phone first: no script, one small cached stylesheet, well under 100 KB. It
//! shows what [`suyuan_engine::consumer::ConsumerView`] allows and nothing else.

use crate::web::i18n::{Lang, Tr};
use askama::Template;
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use suyuan_engine::consumer::{ConsumerSettings, ConsumerView, Warning};

/// The page's stylesheet and icon (content-hashed, cached for good after the first page).
fn css() -> String {
    crate::web::assets::url("css/consumer.css")
}

fn icon() -> String {
    crate::web::assets::url("favicon.svg")
}

#[derive(Template)]
#[template(path = "consumer.html")]
struct ConsumerPage {
    tr: Tr,
    css: String,
    icon: String,
    other_lang: String,
    title: String,
    description: String,
    image: String,
    known: bool,
    has_serial: bool,
    lot: String,
    serial: String,
    produced: String,
    expiry: String,
    inspection: Option<(bool, String)>,
    journey: Vec<(String, String, String)>,
    suspicious: bool,
    scan_text: String,
    warning: Option<String>,
    links: Vec<(String, String)>,
    ask_place: bool,
    script: String,
}

#[derive(Template)]
#[template(path = "consumer_refusal.html")]
struct RefusalPage<'a> {
    tr: Tr,
    css: String,
    icon: String,
    title_key: &'a str,
    detail: &'a str,
}

/// A date as the reader writes it (`2026年10月12日`, `12 Oct 2026`) from RFC 3339 or `YYYY-MM-DD`.
pub fn date(s: &str, lang: Lang) -> String {
    let d = chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| {
            t.with_timezone(&crate::web::pages::display_offset())
                .date_naive()
        })
        .or_else(|_| chrono::NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d"));
    match (d, lang) {
        (Ok(d), Lang::Zh) => d.format("%Y年%-m月%-d日").to_string(),
        (Ok(d), Lang::En) => d.format("%-d %b %Y").to_string(),
        (Err(_), _) => s.to_string(),
    }
}

/// Renders the consumer page of `view`.
/// With `ask_place`, a unit's page offers to share the phone's position (when no proxy said where it is).
pub fn render(
    view: &ConsumerView,
    settings: &ConsumerSettings,
    lang: Lang,
    uri: &Uri,
    ask_place: bool,
) -> Response {
    let tr = Tr { lang };
    let contact = if settings.contact.is_empty() {
        tr.t("c.contact_default").to_string()
    } else {
        settings.contact.clone()
    };
    let scan_text = match &view.first_scan {
        _ if view.serial.is_none() => String::new(),
        None => tr.t("c.first_scan").to_string(),
        Some((when, city)) => tr
            .t(if city.is_empty() {
                "c.scanned_before_nowhere"
            } else {
                "c.scanned_before"
            })
            .replace("{n}", &view.scans_before.to_string())
            .replace("{when}", &date(when, lang))
            .replace("{where}", city),
    };
    let scan_text = if view.suspicious {
        tr.t("c.suspicious")
            .replace("{cities}", &view.cities.join("、"))
    } else {
        scan_text
    };
    let other = match lang {
        Lang::Zh => "en",
        Lang::En => "zh-CN",
    };
    let page = ConsumerPage {
        tr,
        css: css(),
        icon: icon(),
        other_lang: format!("{}?lang={other}", uri.path()),
        title: view
            .product
            .as_ref()
            .map(|p| p.0.clone())
            .unwrap_or_else(|| format!("GTIN {}", view.gtin)),
        description: view
            .product
            .as_ref()
            .and_then(|p| p.1.clone())
            .filter(|_| lang == Lang::En)
            .unwrap_or_default(),
        image: String::new(),
        known: view.known,
        has_serial: view.serial.is_some(),
        lot: view.lot.clone().unwrap_or_default(),
        serial: view.serial.clone().unwrap_or_default(),
        produced: view
            .produced
            .as_deref()
            .map(|d| date(d, lang))
            .unwrap_or_default(),
        expiry: view
            .expiry
            .as_deref()
            .map(|d| date(d, lang))
            .unwrap_or_default(),
        inspection: view
            .inspection
            .as_ref()
            .map(|i| (i.passed, date(&i.time, lang))),
        journey: view
            .journey
            .iter()
            .map(|s| {
                (
                    tr.t(&format!("c.stop.{}", s.kind)).to_string(),
                    s.place.clone(),
                    date(&s.time, lang),
                )
            })
            .collect(),
        suspicious: view.suspicious,
        scan_text,
        warning: view.warning.as_ref().map(|w| {
            let key = match w {
                Warning::Hold => "c.hold_text",
                Warning::Recalled => "c.recall_text",
            };
            tr.t(key).replace("{contact}", &contact)
        }),
        links: settings
            .links
            .iter()
            .map(|l| (l.href.clone(), l.title.clone()))
            .collect(),
        ask_place: ask_place && view.known && view.serial.is_some(),
        script: crate::web::assets::url("js/consumer.js"),
    };
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "consumer page failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "page could not be rendered",
            )
                .into_response()
        }
    }
}

/// The page for an unknown or malformed code.
pub fn refusal(lang: Lang, title_key: &str, detail: &str) -> Response {
    let page = RefusalPage {
        tr: Tr { lang },
        css: css(),
        icon: icon(),
        title_key,
        detail,
    };
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "page could not be rendered",
        )
            .into_response(),
    }
}
