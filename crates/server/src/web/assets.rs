//! Static assets embedded from `web/static` (read from disk in debug builds), served with content-hash
//! cache busting.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../../web/static"]
struct Static;

/// The URL of an asset, with a short content hash so browsers may cache it forever.
pub fn url(path: &str) -> String {
    match Static::get(path) {
        Some(f) => format!(
            "/static/{path}?v={}",
            &hex::encode(f.metadata.sha256_hash())[..10]
        ),
        None => format!("/static/{path}"),
    }
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}

/// `GET /static/{*path}`.
pub async fn serve(Path(path): Path<String>) -> Response {
    match Static::get(&path) {
        Some(f) => {
            let mut resp = f.data.into_owned().into_response();
            let h = resp.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(content_type(&path)),
            );
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            );
            h.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            resp
        }
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}

/// The routes of this module, each with the permission it needs.
pub(crate) fn routes() -> Vec<crate::routes::Route> {
    use crate::routes;
    use suyuan_core::access::Permission as P;
    vec![routes::get("/static/{*path}", P::Public, serve)]
}
