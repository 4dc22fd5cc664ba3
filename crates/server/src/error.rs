//! API errors as RFC 9457 problem details (`application/problem+json`), each with a stable code a user can
//! search for and, for validation, every offending field by JSON pointer.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use suyuan_core::ValidationErrors;
use suyuan_engine::CaptureError;
use suyuan_engine::accounts::AccountError;
use suyuan_store::StoreError;

/// Media type of problem details.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One located problem: a JSON pointer into the body, or a query parameter.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Located {
    /// JSON pointer into the request body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// Query parameter name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// What was expected.
    pub detail: String,
}

/// Everything an API handler can answer with instead of success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body has invalid fields.
    #[error("{0}")]
    Validation(ValidationErrors),
    /// Query parameters are invalid.
    #[error("invalid query parameters")]
    BadQuery(Vec<Located>),
    /// The body is not JSON.
    #[error("request body is not valid JSON: {0}")]
    BadJson(String),
    /// Wrong content type.
    #[error("expected Content-Type application/json or application/ld+json, got {0}")]
    UnsupportedMediaType(String),
    /// Too many events or bytes.
    #[error("{0}")]
    TooLarge(String),
    /// Nothing at this address.
    #[error("{0}")]
    NotFound(String),
    /// An eventID was reused for different content (located in the document when known).
    #[error("{0}")]
    Conflict(String, Vec<Located>),
    /// The store cannot answer now.
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    /// The store's disk is full: nothing was written; reads go on, and writes resume once space is freed.
    #[error(
        "the server's storage is full: nothing of this request was stored. Reads go on; writes resume once \
         an administrator frees space"
    )]
    StorageFull,
    /// The request is well-formed but cannot be carried out now (e.g. a sequence is used up).
    #[error("{0}")]
    Refused(String),
    /// No valid credentials: sign in or send `Authorization: Bearer <token>`.
    #[error("{0}")]
    Unauthorized(String),
    /// Signed in, but the role, token scope or row scope does not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// Over a request budget; retry after this many seconds.
    #[error("too many requests; retry in {0} s")]
    TooManyRequests(u64),
}

impl ApiError {
    /// One invalid body field, located by JSON pointer.
    pub fn invalid(pointer: &str, message: impl Into<String>) -> ApiError {
        ApiError::Validation(ValidationErrors(vec![suyuan_core::FieldError {
            pointer: pointer.into(),
            message: message.into(),
        }]))
    }

    /// One invalid query parameter.
    pub fn bad_param(parameter: &str, detail: impl Into<String>) -> ApiError {
        ApiError::BadQuery(vec![Located {
            pointer: None,
            parameter: Some(parameter.to_string()),
            detail: detail.into(),
        }])
    }

    /// Every located problem: body fields by JSON pointer, query parameters by name.
    pub fn located(&self) -> Vec<Located> {
        match self {
            ApiError::Validation(v) => {
                v.0.iter()
                    .map(|f| Located {
                        pointer: Some(f.pointer.clone()),
                        parameter: None,
                        detail: f.message.clone(),
                    })
                    .collect()
            }
            ApiError::BadQuery(l) | ApiError::Conflict(_, l) => l.clone(),
            // The whole body: located at the root, as the submit pipeline locates an unreadable document.
            ApiError::BadJson(m) => vec![Located {
                pointer: Some(String::new()),
                parameter: None,
                detail: format!("not valid JSON: {m}"),
            }],
            _ => Vec::new(),
        }
    }

    /// HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) | ApiError::BadQuery(_) | ApiError::BadJson(_) => {
                StatusCode::BAD_REQUEST
            }
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(..) | ApiError::Refused(_) => StatusCode::CONFLICT,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::StorageFull => StatusCode::INSUFFICIENT_STORAGE,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    /// Stable machine-readable code (also the last part of the problem `type` URI).
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Validation(_) => "validation",
            ApiError::BadQuery(_) => "bad-query",
            ApiError::BadJson(_) => "bad-json",
            ApiError::UnsupportedMediaType(_) => "unsupported-media-type",
            ApiError::TooLarge(_) => "too-large",
            ApiError::NotFound(_) => "not-found",
            ApiError::Conflict(..) => "event-id-conflict",
            ApiError::Unavailable(_) => "store-unavailable",
            ApiError::StorageFull => "storage-full",
            ApiError::Refused(_) => "refused",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::TooManyRequests(_) => "too-many-requests",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            ApiError::Validation(_) => "The request has invalid fields; nothing was stored",
            ApiError::BadQuery(_) => "Invalid query parameters",
            ApiError::BadJson(_) => "The request body is not valid JSON; nothing was stored",
            ApiError::UnsupportedMediaType(_) => "Unsupported media type",
            ApiError::TooLarge(_) => "The request is too large; nothing was stored",
            ApiError::NotFound(_) => "Not found",
            ApiError::Conflict(..) => {
                "eventID already used for a different event; nothing was stored"
            }
            ApiError::Unavailable(_) => "The store is unavailable; nothing was stored, retry later",
            ApiError::StorageFull => "The server's storage is full; nothing was stored",
            ApiError::Refused(_) => "The request cannot be carried out; nothing was changed",
            ApiError::Unauthorized(_) => "Authentication required",
            ApiError::Forbidden(_) => "Not allowed; nothing was changed",
            ApiError::TooManyRequests(_) => "Too many requests; nothing was changed",
        }
    }
}

impl From<CaptureError> for ApiError {
    fn from(e: CaptureError) -> Self {
        match e {
            CaptureError::Invalid(v) => ApiError::Validation(v),
            CaptureError::TooLarge { .. } => ApiError::TooLarge(e.to_string()),
            CaptureError::Empty => {
                ApiError::Validation(ValidationErrors(vec![suyuan_core::FieldError {
                    pointer: "/epcisBody/eventList".into(),
                    message: "expected at least one event".into(),
                }]))
            }
            CaptureError::Conflict { pointer, error } => ApiError::Conflict(
                error.to_string(),
                vec![Located {
                    pointer: Some(pointer),
                    parameter: None,
                    detail: error.to_string(),
                }],
            ),
            CaptureError::Forbidden(why) => ApiError::Forbidden(why),
            CaptureError::Store(s) => s.into(),
        }
    }
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Field { field, msg } => ApiError::invalid(&format!("/{field}"), msg),
            AccountError::Exists(_) => ApiError::Refused(e.to_string()),
            AccountError::NotFound(m) => ApiError::NotFound(m),
            AccountError::BadLogin => ApiError::Unauthorized(e.to_string()),
            AccountError::Store(s) => s.into(),
            AccountError::Audit(c) => c.into(),
            AccountError::Crypto(m) => {
                tracing::error!(error = %m, "account crypto failed");
                ApiError::Unavailable("see the server log for the cause".into())
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "store error");
        match e {
            StoreError::Conflict { .. } => ApiError::Conflict(e.to_string(), Vec::new()),
            StoreError::DuplicateCode { .. } => ApiError::Refused(e.to_string()),
            StoreError::Full(_) => ApiError::StorageFull,
            _ => ApiError::Unavailable("see the server log for the cause".into()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let errors = self.located();
        let detail = match &self {
            ApiError::BadQuery(l) => l
                .iter()
                .map(|e| format!("{}: {}", e.parameter.as_deref().unwrap_or(""), e.detail))
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        };
        let mut body = json!({
            "type": format!("https://suyuan.dev/problems/{}", self.code()),
            "title": self.title(),
            "status": status.as_u16(),
            "detail": detail,
            "code": self.code(),
        });
        if !errors.is_empty() {
            body["errors"] = json!(errors);
        }
        let mut resp = (status, body.to_string()).into_response();
        let h = resp.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        match &self {
            ApiError::Unauthorized(_) => {
                h.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"suyuan\""),
                );
            }
            ApiError::TooManyRequests(secs) => {
                if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                    h.insert(header::RETRY_AFTER, v);
                }
            }
            _ => {}
        }
        resp
    }
}
