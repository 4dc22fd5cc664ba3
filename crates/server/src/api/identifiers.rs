//! `GET /api/v1/identifiers/parse`: any identifier form in, every form of it out (the CLI's `suyuan id parse`).

use std::collections::HashMap;

use axum::Json;
use axum::extract::Query;
use suyuan_core::id::{self, ParseOptions};

use crate::error::ApiError;

/// Parses `value` (Digital Link, element string, EPC URN, tag URI, EPC hex, GTIN, SSCC); `gcp_length` and
/// `dl_base` shape the EPC URN and Digital Link it answers with.
pub async fn parse(
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if let Some(unknown) = q
        .keys()
        .find(|k| !matches!(k.as_str(), "value" | "gcp_length" | "dl_base"))
    {
        return Err(ApiError::bad_param(
            unknown,
            "unknown parameter; expected value, gcp_length, dl_base",
        ));
    }
    let value = q
        .get("value")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::bad_param("value", "required: the identifier to parse"))?;
    let mut opts = ParseOptions::default();
    if let Some(g) = q.get("gcp_length") {
        opts.gcp_length = g
            .parse()
            .ok()
            .filter(|n| (6..=12).contains(n))
            .ok_or_else(|| {
                ApiError::bad_param("gcp_length", format!("must be 6 to 12, got {g}"))
            })?;
    }
    if let Some(b) = q.get("dl_base") {
        if !(b.starts_with("https://") || b.starts_with("http://")) {
            return Err(ApiError::bad_param(
                "dl_base",
                format!("must start with https:// or http://, got {b}"),
            ));
        }
        opts.dl_base = b.clone();
    }
    id::parse(value, &opts)
        .map(|p| Json(p.to_json()))
        .map_err(|e| ApiError::bad_param("value", e.to_string()))
}

/// The routes of this module, each with the permission it needs.
pub(crate) fn routes() -> Vec<crate::routes::Route> {
    use crate::routes;
    use suyuan_core::access::Permission as P;
    vec![routes::get(
        "/api/v1/identifiers/parse",
        P::CodesRead,
        parse,
    )]
}
