//! JSON Canonicalization Scheme (RFC 8785): sorted keys (UTF-16 order), no whitespace, ECMAScript numbers.

use serde_json::Value;
use std::fmt::Write;

/// Writes `v` in JCS form.
pub fn canonical_json(v: &Value) -> String {
    let mut out = String::new();
    write_value(v, &mut out);
    out
}

fn write_value(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(n, out),
        Value::String(s) => write_string(s, out),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(x, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort_by(|a, b| key_order(a, b));
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(k, out);
                out.push(':');
                if let Some(x) = m.get(k) {
                    write_value(x, out);
                }
            }
            out.push('}');
        }
    }
}

fn write_number(n: &serde_json::Number, out: &mut String) {
    if let Some(i) = n.as_i64() {
        let _ = write!(out, "{i}");
    } else if let Some(u) = n.as_u64() {
        let _ = write!(out, "{u}");
    } else if let Some(f) = n.as_f64() {
        let a = f.abs();
        if f == 0.0 {
            out.push('0');
        } else if f.fract() == 0.0 && a < 1e21 {
            let _ = write!(out, "{}", f as i128);
        } else if (1e-6..1e21).contains(&a) {
            let _ = write!(out, "{f}");
        } else {
            let s = format!("{f:e}");
            match s.split_once('e') {
                Some((m, e)) if !e.starts_with('-') => {
                    let _ = write!(out, "{m}e+{e}");
                }
                _ => out.push_str(&s),
            }
        }
    }
}

/// Appends `s` as a JCS string literal (quoted and escaped) to `out`.
pub fn write_string(s: &str, out: &mut String) {
    out.push('"');
    let mut plain = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            0x08 => Some("\\b"),
            0x0c => Some("\\f"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0..=0x1f => None,
            _ => continue,
        };
        // Copy the run of characters that need no escape in one go (byte offsets stay on char boundaries:
        // every escaped byte is ASCII).
        out.push_str(&s[plain..i]);
        match esc {
            Some(e) => out.push_str(e),
            None => {
                let _ = write!(out, "\\u{:04x}", b);
            }
        }
        plain = i + 1;
    }
    out.push_str(&s[plain..]);
    out.push('"');
}

/// RFC 8785 orders keys by UTF-16 code units; for ASCII keys that is byte order.
fn key_order(a: &str, b: &str) -> std::cmp::Ordering {
    if a.is_ascii() && b.is_ascii() {
        a.cmp(b)
    } else {
        a.encode_utf16().cmp(b.encode_utf16())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc8785_examples() {
        let v =
            json!({"b": [1, 2.5, 1e21, 0.000001, "x\n"], "a": {"z": null, "é": true, "A": false}});
        assert_eq!(
            canonical_json(&v),
            r#"{"a":{"A":false,"z":null,"é":true},"b":[1,2.5,1e+21,0.000001,"x\n"]}"#
        );
    }

    proptest::proptest! {
        /// String escaping is exactly JSON's minimal escaping, as serde_json writes it.
        #[test]
        fn strings_escape_like_serde_json(s in "\\PC*|[\\x00-\\x20\"\\\\a-z\u{e9}\u{1F600}]{0,40}") {
            let mut out = String::new();
            write_string(&s, &mut out);
            proptest::prop_assert_eq!(out, serde_json::to_string(&s).expect("serialise"));
        }

        /// Key order follows UTF-16 code units.
        #[test]
        fn key_order_is_utf16_order(a in "\\PC{0,8}", b in "\\PC{0,8}") {
            proptest::prop_assert_eq!(key_order(&a, &b), a.encode_utf16().cmp(b.encode_utf16()));
        }
    }
}
