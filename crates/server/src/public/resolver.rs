//! The GS1 Digital Link resolver at `/01/{gtin}[/10/{lot}][/21/{serial}]` (and the qualifier variants the
//! identification code parses): a browser gets the consumer page; `Accept: application/linkset+json` (or
//! `application/json`, or `?linkType=all`) gets the RFC 9264 linkset of the item's links; `?linkType=gs1:pip`
//! and the other link types answer 307 to their target (an unknown type to the default link). Unknown and
//! malformed keys get a clear page, or problem+json, in the reader's language.

use crate::AppState;
use crate::public::page;
use crate::web::i18n::{Lang, Tr};
use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;
use serde_json::{Value, json};
use std::collections::HashMap;
use suyuan_engine::consumer::ConsumerSettings;
use suyuan_store::ScanRecord;

/// GS1's vocabulary, which `gs1:` link types expand to.
const GS1_VOC: &str = "https://gs1.org/voc/";

/// The consumer page's language: `?lang=`, else the browser's `Accept-Language` (first supported), else
/// Chinese.
pub fn consumer_lang(query: &HashMap<String, String>, headers: &HeaderMap) -> Lang {
    if let Some(l) = query.get("lang").and_then(|l| Lang::parse(l)) {
        return l;
    }
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split(',').find_map(|part| {
                let tag = part.split(';').next()?.trim().to_ascii_lowercase();
                let primary = tag.split('-').next()?;
                match primary {
                    "zh" => Some(Lang::Zh),
                    "en" => Some(Lang::En),
                    _ => None,
                }
            })
        })
        .unwrap_or(Lang::Zh)
}

/// What the client asked for.
#[derive(Debug, PartialEq)]
enum Want {
    Page,
    Linkset { json_only: bool },
    Redirect(String),
}

fn want(query: &HashMap<String, String>, headers: &HeaderMap) -> Want {
    match query.get("linkType").map(String::as_str) {
        Some("all") | Some("linkset") => return Want::Linkset { json_only: false },
        Some(t) if !t.is_empty() => return Want::Redirect(t.to_string()),
        _ => {}
    }
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if accept.contains("application/linkset+json") {
        Want::Linkset { json_only: false }
    } else if accept.contains("application/json") && !accept.contains("text/html") {
        Want::Linkset { json_only: true }
    } else {
        Want::Page
    }
}

/// A link type in full (`gs1:pip` → `https://gs1.org/voc/pip`).
fn expand(link_type: &str) -> String {
    match link_type.strip_prefix("gs1:") {
        Some(t) => format!("{GS1_VOC}{t}"),
        None => link_type.to_string(),
    }
}

/// The item's links: (link type in full, href, title); the first is the default.
fn links(anchor: &str, settings: &ConsumerSettings, tr: Tr) -> Vec<(String, String, String)> {
    let title = tr.t("c.title").to_string();
    let mut out = vec![
        (
            format!("{GS1_VOC}defaultLink"),
            anchor.to_string(),
            title.clone(),
        ),
        (
            format!("{GS1_VOC}traceability"),
            anchor.to_string(),
            title.clone(),
        ),
    ];
    for l in &settings.links {
        out.push((expand(&l.link_type), l.href.clone(), l.title.clone()));
    }
    if !settings
        .links
        .iter()
        .any(|l| expand(&l.link_type) == format!("{GS1_VOC}pip"))
    {
        out.push((format!("{GS1_VOC}pip"), anchor.to_string(), title));
    }
    out
}

/// The RFC 9264 linkset of `anchor`.
fn linkset(anchor: &str, links: &[(String, String, String)]) -> Value {
    let mut entry = serde_json::Map::new();
    entry.insert("anchor".into(), json!(anchor));
    for (rel, href, title) in links {
        let list = entry
            .entry(rel.clone())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(a) = list {
            a.push(json!({"href": href, "title": title, "type": "text/html", "hreflang": ["zh-CN", "en"]}));
        }
    }
    json!({"linkset": [Value::Object(entry)]})
}

/// A refusal: the page, or problem+json for machines.
fn refusal(
    status: StatusCode,
    lang: Lang,
    json_only: bool,
    title_key: &str,
    detail: String,
) -> Response {
    let tr = Tr { lang };
    if json_only {
        let mut resp = (
            status,
            Json(json!({"type": "about:blank", "title": tr.t(title_key), "status": status.as_u16(), "detail": detail})),
        )
            .into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        return resp;
    }
    (status, page::refusal(lang, title_key, &detail)).into_response()
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    let raw = headers.get(name)?.to_str().ok()?;
    let text = percent_decode_str(raw)
        .decode_utf8()
        .ok()?
        .trim()
        .to_string();
    (!text.is_empty() && text.chars().count() <= 40).then_some(text)
}

/// Whether the reverse proxy said where the visitor is.
fn scan_placed(headers: &HeaderMap) -> bool {
    header_text(headers, "x-suyuan-city").is_some()
        || header_text(headers, "x-suyuan-region").is_some()
}

/// `GET /01/{*rest}`: resolves a Digital Link of one of our products.
pub async fn resolve(State(st): State<AppState>, req: Request) -> Response {
    let client = crate::auth::client_of(req.extensions());
    let (headers, uri) = (req.headers().clone(), req.uri().clone());
    let query: HashMap<String, String> =
        serde_urlencoded::from_str(uri.query().unwrap_or("")).unwrap_or_default();
    let lang = consumer_lang(&query, &headers);
    let wanted = want(&query, &headers);
    let json_only = matches!(wanted, Want::Linkset { .. });
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("localhost");
    let scheme = if crate::auth::is_https(&headers) {
        "https"
    } else {
        "http"
    };
    let link = format!("{scheme}://{host}{}", uri.path());
    let parsed = match suyuan_core::id::dl::parse_digital_link(&link) {
        Ok(p) => p,
        Err(e) => {
            let detail = format!("{} {e}", Tr { lang }.t("c.bad_text"));
            return refusal(
                StatusCode::BAD_REQUEST,
                lang,
                json_only,
                "c.bad_title",
                detail,
            );
        }
    };
    let Some(gtin) = parsed.data.get("01").map(str::to_string) else {
        return refusal(
            StatusCode::BAD_REQUEST,
            lang,
            json_only,
            "c.bad_title",
            "no GTIN (AI 01) in the path".into(),
        );
    };
    let (lot, serial) = (parsed.data.get("10"), parsed.data.get("21"));
    let settings = match st.engine.consumer_settings().await {
        Ok(s) => s,
        Err(e) => return crate::web::pages::store_down(e),
    };
    let mut view = match st
        .engine
        .consumer_view(&gtin, lot, serial, settings.journey)
        .await
    {
        Ok(v) => v,
        Err(e) => return crate::web::pages::store_down(e),
    };
    let ours = view.known || (lot.is_none() && serial.is_none() && view.product.is_some());
    if !ours {
        return refusal(
            StatusCode::NOT_FOUND,
            lang,
            json_only,
            "c.unknown_title",
            Tr { lang }.t("c.unknown_text").to_string(),
        );
    }
    let tr = Tr { lang };
    let links = links(&link, &settings, tr);
    match wanted {
        Want::Linkset { json_only } => {
            let mut resp = Json(linkset(&link, &links)).into_response();
            if !json_only {
                resp.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/linkset+json"),
                );
            }
            resp
        }
        Want::Redirect(t) => {
            let full = expand(&t);
            let target = links
                .iter()
                .find(|(rel, _, _)| *rel == full)
                .unwrap_or(&links[0])
                .1
                .clone();
            let mut resp = StatusCode::TEMPORARY_REDIRECT.into_response();
            if let Ok(v) = HeaderValue::from_str(&target) {
                resp.headers_mut().insert(header::LOCATION, v);
            }
            resp
        }
        Want::Page => {
            // Each visit to a unit's page is a scan, once per phone and code every few minutes.
            let code = serial.map(|_| {
                format!(
                    "https://id.gs1.org/01/{gtin}/21/{}",
                    serial.unwrap_or_default()
                )
            });
            let scan = code
                .as_ref()
                .filter(|c| st.limits.scan(&client, c))
                .map(|c| ScanRecord {
                    object: suyuan_core::projection::object_key(c),
                    scanned_at: chrono::Utc::now()
                        .with_timezone(&crate::web::pages::display_offset())
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
                    city: header_text(&headers, "x-suyuan-city"),
                    province: header_text(&headers, "x-suyuan-region"),
                    channel: "qr".into(),
                });
            if let Some(c) = &code
                && let Err(e) = st.engine.consumer_scan(&mut view, c, scan).await
            {
                return crate::web::pages::store_down(e);
            }
            let placed = scan_placed(&headers);
            let mut resp = page::render(&view, &settings, lang, &uri, !placed).into_response();
            let linkset_url = format!("{}?linkType=all", uri.path());
            if let Ok(v) = HeaderValue::from_str(&format!(
                "<{linkset_url}>; rel=\"linkset\"; type=\"application/linkset+json\""
            )) {
                resp.headers_mut().insert(header::LINK, v);
            }
            resp.headers_mut().insert(
                header::VARY,
                HeaderValue::from_static("Accept, Accept-Language"),
            );
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
    }
}

/// `POST /01/{*rest}` (`lat`, `lon`): a consumer shares where their phone is; the latest scan of the unit is
/// placed in the nearest large city (nothing leaves the server). Answers the city, or 422 when the position
/// names none.
pub async fn locate(State(st): State<AppState>, req: Request) -> Response {
    let headers = req.headers().clone();
    let path = req.uri().path().to_string();
    let lang = consumer_lang(&HashMap::new(), &headers);
    let body = match axum::body::to_bytes(req.into_body(), 1024).await {
        Ok(b) => b,
        Err(_) => {
            return refusal(
                StatusCode::PAYLOAD_TOO_LARGE,
                lang,
                true,
                "c.bad_title",
                "at most 1 KB".into(),
            );
        }
    };
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let coord = |k: &str| {
        form.get(k)
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|v| v.is_finite())
    };
    let (Some(lat), Some(lon)) = (coord("lat"), coord("lon")) else {
        return refusal(
            StatusCode::UNPROCESSABLE_ENTITY,
            lang,
            true,
            "c.bad_title",
            "lat and lon: a position in decimal degrees".into(),
        );
    };
    let parsed = match suyuan_core::id::dl::parse_digital_link(&format!("https://id.gs1.org{path}"))
    {
        Ok(p) => p,
        Err(e) => {
            return refusal(
                StatusCode::BAD_REQUEST,
                lang,
                true,
                "c.bad_title",
                e.to_string(),
            );
        }
    };
    let (Some(gtin), Some(serial)) = (parsed.data.get("01"), parsed.data.get("21")) else {
        return refusal(
            StatusCode::BAD_REQUEST,
            lang,
            true,
            "c.bad_title",
            "a unit's link (with AI 21)".into(),
        );
    };
    let code = format!("https://id.gs1.org/01/{gtin}/21/{serial}");
    match st.engine.consumer_locate(&code, lat, lon).await {
        Ok(Some((city, province))) => {
            Json(json!({"city": city, "province": province})).into_response()
        }
        Ok(None) => refusal(
            StatusCode::UNPROCESSABLE_ENTITY,
            lang,
            true,
            "c.locate_none",
            Tr { lang }.t("c.locate_none").to_string(),
        ),
        Err(e) => crate::web::pages::store_down(e),
    }
}

/// The routes of this module, each with the permission it needs.
pub(crate) fn routes() -> Vec<crate::routes::Route> {
    use crate::routes;
    use suyuan_core::access::Permission as P;
    vec![
        routes::get("/01/{*rest}", P::Public, resolve),
        routes::post("/01/{*rest}", P::Public, locate),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_follows_accept_and_link_type() {
        let mut h = HeaderMap::new();
        let q = HashMap::new();
        assert_eq!(want(&q, &h), Want::Page);
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/linkset+json"),
        );
        assert_eq!(want(&q, &h), Want::Linkset { json_only: false });
        h.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        assert_eq!(want(&q, &h), Want::Linkset { json_only: true });
        let q: HashMap<String, String> = [("linkType".to_string(), "gs1:pip".to_string())].into();
        assert_eq!(want(&q, &h), Want::Redirect("gs1:pip".into()));
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("en-GB,en;q=0.9,zh;q=0.5"),
        );
        assert_eq!(consumer_lang(&HashMap::new(), &h), Lang::En);
        h.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("fr-FR, zh-CN;q=0.8"),
        );
        assert_eq!(consumer_lang(&HashMap::new(), &h), Lang::Zh);
    }
}
