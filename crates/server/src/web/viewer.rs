//! Who is looking at a page and in which language: the one extractor every console page takes instead of
//! repeating principal, URI, headers and query, and the chrome it needs.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Uri};
use std::collections::HashMap;
use suyuan_engine::accounts::Principal;

use crate::web::i18n::Lang;
use crate::web::pages::{Chrome, lang_of};

/// A page request: the principal, the address, the query, and the reader's language.
pub struct Viewer {
    /// Who is asking.
    pub me: Principal,
    /// The page's address (the language switch keeps its query).
    pub uri: Uri,
    /// The request's headers.
    pub headers: HeaderMap,
    /// The query parameters.
    pub query: HashMap<String, String>,
    /// The reader's language.
    pub lang: Lang,
    /// Whether `?lang=` chose it (the answer then sets the cookie).
    pub chose_lang: bool,
}

impl Viewer {
    /// The page chrome with navigation entry `nav` active.
    pub fn chrome(&self, nav: &'static str) -> Chrome {
        Chrome::new(self.lang, nav, &self.uri, &self.me)
    }

    /// A query parameter, trimmed (empty when absent).
    pub fn param(&self, key: &str) -> String {
        self.query
            .get(key)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Viewer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        // The guard puts the principal in every request; without it (a route outside the guard) the
        // visitor is anonymous.
        let me = parts
            .extensions
            .get::<Principal>()
            .cloned()
            .unwrap_or_else(Principal::anonymous);
        let query: HashMap<String, String> =
            serde_urlencoded::from_str(parts.uri.query().unwrap_or("")).unwrap_or_default();
        let (lang, chose_lang) = lang_of(&query, &parts.headers);
        Ok(Viewer {
            me,
            uri: parts.uri.clone(),
            headers: parts.headers.clone(),
            query,
            lang,
            chose_lang,
        })
    }
}
