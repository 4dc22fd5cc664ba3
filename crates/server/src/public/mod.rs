//! What anyone may open without signing in: the consumer page a QR code leads to, served at the GS1 Digital
//! Link paths of our products as a conformant resolver.

/// The consumer page's messages. (key, Chinese, English).
pub const TEXTS: &[(&str, &str, &str)] = &[];
