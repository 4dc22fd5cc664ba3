//! Attachments of inspections — photos and certificates — kept in the store by their SHA-256, so an
//! inspection event names exactly the file it was judged with and the same file is stored once.

use base64::Engine as _;
use serde_json::{Value, json};

use super::inspect::Attachment;
use crate::Engine;
use crate::operations::{OpsError, now_text, problem};

/// The store's kind of attachment records.
const KIND: &str = "quality.attachment";

/// The largest attachment taken, in bytes.
pub const MAX_BYTES: usize = 5 * 1024 * 1024;

/// The file types taken: photos and PDF certificates.
pub const TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/webp", "application/pdf"];

/// The page that serves an attachment.
pub fn url(sha256: &str) -> String {
    format!("/quality/attachments/{sha256}")
}

/// A stored attachment.
#[derive(Debug, Clone)]
pub struct StoredFile {
    /// File name as uploaded.
    pub name: String,
    /// Its media type.
    pub mime: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

impl Engine {
    /// Keeps a file for an inspection and answers how an inspection names it.
    pub async fn save_attachment(
        &self,
        actor: &str,
        name: &str,
        mime: &str,
        bytes: &[u8],
    ) -> Result<Attachment, OpsError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(problem("name", "the file's name (1 to 200 characters)"));
        }
        let mime = mime
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if !TYPES.contains(&mime.as_str()) {
            return Err(problem(
                "content-type",
                format!("one of {} (got '{mime}')", TYPES.join(", ")),
            ));
        }
        if bytes.is_empty() || bytes.len() > MAX_BYTES {
            return Err(problem(
                "file",
                format!("1 byte to {} MB", MAX_BYTES / 1024 / 1024),
            ));
        }
        let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes));
        if self.store().account(KIND, &sha256).await?.is_none() {
            let doc = json!({"name": name, "mime": mime, "size": bytes.len(), "by": actor, "at": now_text(),
                "data": base64::engine::general_purpose::STANDARD.encode(bytes)});
            self.store().put_account(KIND, &sha256, &doc, false).await?;
        }
        Ok(Attachment {
            name: name.to_string(),
            url: Some(url(&sha256)),
            sha256,
        })
    }

    /// The attachment stored under `sha256`, if any.
    pub async fn attachment(&self, sha256: &str) -> Result<Option<StoredFile>, OpsError> {
        let Some(doc) = self.store().account(KIND, sha256).await? else {
            return Ok(None);
        };
        let text = |k: &str| doc.get(k).and_then(Value::as_str).unwrap_or_default();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text("data"))
            .unwrap_or_default();
        Ok(Some(StoredFile {
            name: text("name").to_string(),
            mime: text("mime").to_string(),
            bytes,
        }))
    }
}
