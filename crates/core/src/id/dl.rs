//! GS1 Digital Link URIs on any domain: parsing into AI data (primary key, key qualifiers in their order,
//! query-string data attributes) and generating them from AI data.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use super::IdError;
use super::element::AiData;
use super::syntax::DICT;

/// Characters that stay unescaped in Digital Link path segments and query values (RFC 3986 unreserved).
const ESCAPE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn bad(msg: impl Into<String>) -> IdError {
    IdError::DigitalLink(msg.into())
}

fn decode(s: &str) -> Result<String, IdError> {
    percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| bad(format!("'{s}' is not percent-encoded UTF-8")))
}

/// Whether `input` is an http(s) URI, the only kind that can be a Digital Link.
pub fn looks_like_digital_link(input: &str) -> bool {
    input.starts_with("https://") || input.starts_with("http://")
}

/// A parsed Digital Link: the part before the primary key and the AI data it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigitalLink {
    /// Scheme, host and any path before the primary key, e.g. `https://id.gs1.org` or `https://brand.cn/p`.
    pub base: String,
    /// Primary key, qualifiers and data attributes, in that order.
    pub data: AiData,
}

/// Parses a Digital Link URI; rejects what the standard rejects (unknown or misplaced AIs, qualifiers out of
/// order, invalid values, bad check digits).
pub fn parse_digital_link(uri: &str) -> Result<DigitalLink, IdError> {
    if !looks_like_digital_link(uri) {
        return Err(bad("a Digital Link starts with https:// or http://"));
    }
    let uri = uri.split('#').next().unwrap_or(uri);
    let (path_part, query) = match uri.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (uri, None),
    };
    let after_scheme = path_part.find("://").map_or(0, |i| i + 3);
    let slash = path_part[after_scheme..]
        .find('/')
        .map(|i| after_scheme + i)
        .ok_or_else(|| bad("no path: expected /{AI}/{value} after the domain"))?;
    let host = &path_part[after_scheme..slash];
    if host.is_empty() {
        return Err(bad("no domain"));
    }
    let segs: Vec<&str> = path_part[slash + 1..]
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    // The primary key is the first key AI from which the rest of the path is (AI, value) pairs.
    let start = (0..segs.len())
        .find(|&i| {
            (segs.len() - i).is_multiple_of(2)
                && DICT
                    .get(segs[i])
                    .is_some_and(|d| d.dl_primary_key.is_some())
        })
        .ok_or_else(|| bad("no GS1 primary key (such as /01/{GTIN} or /00/{SSCC}) in the path"))?;
    let key_def = DICT.get(segs[start]).ok_or_else(|| bad("no primary key"))?;
    let mut data = AiData::default();
    let mut key_value = decode(segs[start + 1])?;
    if key_def.ai == "01" && matches!(key_value.len(), 8 | 12 | 13) {
        key_value = format!("{}{key_value}", "0".repeat(14 - key_value.len()));
    }
    data.push(&key_def.ai, &key_value)?;
    let alternatives = key_def.dl_primary_key.clone().unwrap_or_default();
    let mut qualifiers: Vec<String> = Vec::new();
    for pair in segs[start + 2..].chunks(2) {
        let ai = pair[0];
        if !alternatives.iter().any(|alt| alt.iter().any(|q| q == ai)) {
            return Err(bad(format!(
                "/{ai}/ is not a key qualifier of ({}); allowed after it: {}",
                key_def.ai,
                describe_alternatives(&alternatives)
            )));
        }
        qualifiers.push(ai.to_string());
        data.push(ai, &decode(pair[1])?)?;
    }
    let in_order = qualifiers.is_empty()
        || alternatives.iter().any(|alt| {
            let mut it = alt.iter();
            qualifiers.iter().all(|q| it.any(|a| a == q))
        });
    if !in_order {
        return Err(bad(format!(
            "key qualifiers {} are not in the order {}",
            qualifiers
                .iter()
                .map(|q| format!("/{q}/"))
                .collect::<String>(),
            describe_alternatives(&alternatives)
        )));
    }
    for param in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = param.split_once('=').unwrap_or((param, ""));
        if !k.bytes().all(|c| c.is_ascii_digit()) {
            // Non-AI parameters (linkType, context, …) are for the resolver, not data.
            continue;
        }
        let def = DICT
            .get(k)
            .ok_or_else(|| IdError::UnknownAi(k.to_string()))?;
        if def.dl_primary_key.is_some() || def.is_qualifier_of(key_def) {
            return Err(bad(format!(
                "AI ({k}) is a key or key qualifier and belongs in the path, not the query"
            )));
        }
        if !def.dl_attribute {
            return Err(bad(format!(
                "AI ({k}) is not permitted as a Digital Link data attribute"
            )));
        }
        data.push(k, &decode(v)?)?;
    }
    data.check_pairings()?;
    Ok(DigitalLink {
        base: path_part[..slash].to_string()
            + &segs[..start]
                .iter()
                .map(|s| format!("/{s}"))
                .collect::<String>(),
        data,
    })
}

fn describe_alternatives(alts: &[Vec<String>]) -> String {
    if alts.iter().all(Vec::is_empty) {
        return "none".into();
    }
    alts.iter()
        .map(|a| a.iter().map(|q| format!("/{q}/")).collect::<String>())
        .collect::<Vec<_>>()
        .join(" or ")
}

/// Builds the Digital Link for `data` under `base` (e.g. `https://id.gs1.org`): the first primary key, its
/// qualifiers in the standard order, every other AI as a query-string data attribute.
pub fn to_digital_link(data: &AiData, base: &str) -> Result<String, IdError> {
    let (key_ai, key_value) = data
        .pairs
        .iter()
        .find(|(ai, _)| DICT.get(ai).is_some_and(|d| d.dl_primary_key.is_some()))
        .ok_or_else(|| bad("no AI that can be a Digital Link primary key"))?;
    let key_def = DICT
        .get(key_ai)
        .ok_or_else(|| IdError::UnknownAi(key_ai.clone()))?;
    let mut alternatives = key_def.dl_primary_key.clone().unwrap_or_default();
    if alternatives.is_empty() {
        alternatives.push(Vec::new());
    }
    let present: Vec<&String> = data
        .pairs
        .iter()
        .map(|(ai, _)| ai)
        .filter(|ai| alternatives.iter().any(|alt| alt.contains(ai)))
        .collect();
    let alt = alternatives
        .iter()
        .find(|alt| present.iter().all(|q| alt.contains(q)))
        .ok_or_else(|| {
            bad(format!(
                "qualifiers {} cannot be combined after ({key_ai})",
                present.iter().map(|q| format!("({q})")).collect::<String>()
            ))
        })?;
    let mut out = base.trim_end_matches('/').to_string();
    let mut push = |ai: &str, v: &str| {
        out.push('/');
        out.push_str(ai);
        out.push('/');
        out.extend(utf8_percent_encode(v, ESCAPE));
    };
    push(key_ai, key_value);
    for q in alt {
        if let Some(v) = data.get(q) {
            push(q, v);
        }
    }
    let mut sep = '?';
    for (ai, v) in &data.pairs {
        if ai == key_ai || alt.contains(ai) {
            continue;
        }
        let def = DICT.get(ai).ok_or_else(|| IdError::UnknownAi(ai.clone()))?;
        if !def.dl_attribute || def.dl_primary_key.is_some() {
            return Err(bad(format!(
                "AI ({ai}) cannot be carried in a Digital Link with primary key ({key_ai})"
            )));
        }
        out.push(sep);
        sep = '&';
        out.push_str(ai);
        out.push('=');
        out.extend(utf8_percent_encode(v, ESCAPE));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_any_domain_with_path_prefix_qualifiers_and_attributes() {
        let dl = parse_digital_link(
            "https://brand.example.cn/p/01/9521234543213/10/AB%2F12/21/S1?17=251231&linkType=gs1:pip",
        )
        .expect("valid");
        assert_eq!(dl.base, "https://brand.example.cn/p");
        assert_eq!(
            dl.data.pairs,
            [
                ("01".to_string(), "09521234543213".to_string()),
                ("10".into(), "AB/12".into()),
                ("21".into(), "S1".into()),
                ("17".into(), "251231".into())
            ]
        );
        let back = to_digital_link(&dl.data, "https://id.gs1.org").expect("generate");
        assert_eq!(
            back,
            "https://id.gs1.org/01/09521234543213/10/AB%2F12/21/S1?17=251231"
        );
    }

    #[test]
    fn rejects_what_the_standard_rejects() {
        let order = parse_digital_link("https://id.gs1.org/01/09521234543213/21/S1/10/L1")
            .expect_err("order");
        assert!(order.to_string().contains("not in the order"), "{order}");
        let mix = parse_digital_link("https://id.gs1.org/01/09521234543213/10/L/235/T")
            .expect_err("mixed alternatives");
        assert!(mix.to_string().contains("not in the order"), "{mix}");
        let check = parse_digital_link("https://id.gs1.org/01/09521234543214").expect_err("check");
        assert_eq!(
            check.to_string(),
            "GTIN 09521234543214: check digit should be 3, got 4"
        );
        let q = parse_digital_link("https://id.gs1.org/01/09521234543213?10=L1").expect_err("q");
        assert!(q.to_string().contains("belongs in the path"), "{q}");
        let not_q = parse_digital_link("https://id.gs1.org/00/095212345000000018/10/L")
            .expect_err("sscc has no qualifiers");
        assert!(not_q.to_string().contains("not a key qualifier"), "{not_q}");
        assert!(parse_digital_link("https://id.gs1.org/").is_err());
        assert!(parse_digital_link("https://id.gs1.org/01/09521234543213?17=251399").is_err());
    }
}
