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

/// Whether `input` is an http(s) URI, the only kind that can be a Digital Link (the scheme in lower or upper
/// case, as GS1's reference parser takes it; mixed case is not a Digital Link).
pub fn looks_like_digital_link(input: &str) -> bool {
    scheme_len(input).is_some()
}

/// The length of `http://` or `https://` at the start of `input`, all lower or all upper case.
fn scheme_len(input: &str) -> Option<usize> {
    ["https://", "http://", "HTTPS://", "HTTP://"]
        .iter()
        .find(|s| input.starts_with(*s))
        .map(|s| s.len())
}

/// A query value: percent-decoded, with `+` standing for a space (in the path `+` is itself).
fn decode_query(s: &str) -> Result<String, IdError> {
    decode(&s.replace('+', "%20"))
}

/// A GTIN in a query attribute may be written zero-suppressed (GTIN-8, -12 or -13).
fn widen_gtin(ai: &str, v: String) -> String {
    if ai == "01" && matches!(v.len(), 8 | 12 | 13) && v.bytes().all(|b| b.is_ascii_digit()) {
        format!("{}{v}", "0".repeat(14 - v.len()))
    } else {
        v
    }
}

/// A parsed Digital Link: the part before the primary key and the AI data it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigitalLink {
    /// Scheme, host and any path before the primary key, e.g. `https://id.gs1.org` or `https://brand.cn/p`.
    pub base: String,
    /// Primary key, qualifiers and data attributes, in that order.
    pub data: AiData,
}

/// Parses a Digital Link URI as GS1's reference parser does with its default options: the primary key is
/// the rightmost key AI of the path; qualifiers follow it in one of its permitted orders; the query carries
/// data attributes (any AI that is not a qualifier the path could have taken), unknown non-numeric
/// parameters are for the resolver; GTINs in the path are 14 digits; an AI appears once; no empty path
/// segment; the host is letters, digits, `.`, `-`, `:` and IPv6 brackets.
pub fn parse_digital_link(uri: &str) -> Result<DigitalLink, IdError> {
    let scheme = scheme_len(uri).ok_or_else(|| {
        bad("a Digital Link starts with https:// or http:// (lower or upper case)")
    })?;
    let uri = uri.split('#').next().unwrap_or(uri);
    let (path_part, query) = match uri.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (uri, None),
    };
    let slash = path_part[scheme..]
        .find('/')
        .map(|i| scheme + i)
        .ok_or_else(|| bad("no path: expected /{AI}/{value} after the domain"))?;
    let host = &path_part[scheme..slash];
    if host.is_empty() {
        return Err(bad("no domain"));
    }
    if let Some(c) = host
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || ".-:[]".contains(*c)))
    {
        return Err(bad(format!("the domain '{host}' may not contain '{c}'")));
    }
    let segs: Vec<&str> = path_part[slash + 1..].split('/').collect();
    if segs.iter().any(|s| s.is_empty()) {
        return Err(bad(
            "an empty path segment (a doubled or trailing '/') is not part of a Digital Link",
        ));
    }
    // The primary key is the rightmost key AI from which the rest of the path is (AI, value) pairs.
    let start = (0..segs.len())
        .rev()
        .find(|&i| {
            (segs.len() - i).is_multiple_of(2)
                && DICT
                    .get(segs[i])
                    .is_some_and(|d| d.dl_primary_key.is_some())
        })
        .ok_or_else(|| bad("no GS1 primary key (such as /01/{GTIN} or /00/{SSCC}) in the path"))?;
    let key_def = DICT.get(segs[start]).ok_or_else(|| bad("no primary key"))?;
    let mut data = AiData::default();
    let key_value = decode(segs[start + 1])?;
    if key_def.ai == "01" && key_value.len() != 14 {
        return Err(bad(format!(
            "a GTIN in a Digital Link path has 14 digits (pad GTIN-8, -12 and -13 with leading zeros), got '{key_value}'"
        )));
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
        if qualifiers.iter().any(|q| q == ai) {
            return Err(bad(format!("AI ({ai}) appears twice")));
        }
        qualifiers.push(ai.to_string());
        data.push(ai, &decode(pair[1])?)?;
    }
    let fits = |qs: &[&str]| {
        qs.is_empty()
            || alternatives.iter().any(|alt| {
                let mut it = alt.iter();
                qs.iter().all(|q| it.any(|a| a == q))
            })
    };
    let path_qualifiers: Vec<&str> = qualifiers.iter().map(String::as_str).collect();
    if !fits(&path_qualifiers) {
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
        if k.is_empty() || !k.bytes().all(|c| c.is_ascii_digit()) {
            // Non-AI parameters (linkType, context, …) are for the resolver, not data.
            continue;
        }
        let def = DICT
            .get(k)
            .ok_or_else(|| IdError::UnknownAi(k.to_string()))?;
        if v.is_empty() {
            return Err(bad(format!("AI ({k}) has no value in the query")));
        }
        if data.get(k).is_some() {
            return Err(bad(format!("AI ({k}) appears twice")));
        }
        // A qualifier the path could still have taken belongs in the path.
        let mut with = path_qualifiers.clone();
        with.push(k);
        let in_order: Vec<&str> = alternatives
            .iter()
            .flatten()
            .map(String::as_str)
            .filter(|a| with.contains(a))
            .collect();
        if alternatives.iter().flatten().any(|q| q == k) && fits(&in_order) {
            return Err(bad(format!(
                "AI ({k}) is a key qualifier of ({}) and belongs in the path, not the query",
                key_def.ai
            )));
        }
        if !def.dl_attribute && def.dl_primary_key.is_none() {
            return Err(bad(format!(
                "AI ({k}) is not permitted as a Digital Link data attribute"
            )));
        }
        data.push(k, &widen_gtin(k, decode_query(v)?))?;
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
    // Data attributes as GS1's syntax engine writes them: fixed-length AIs first, then the others, each in
    // the order given and once; other keys are attributes too.
    let mut attributes: Vec<(&str, &str, bool)> = Vec::new();
    for (ai, v) in &data.pairs {
        if ai == key_ai || alt.contains(ai) || attributes.iter().any(|(a, _, _)| a == ai) {
            continue;
        }
        let def = DICT.get(ai).ok_or_else(|| IdError::UnknownAi(ai.clone()))?;
        if !def.dl_attribute {
            return Err(bad(format!(
                "AI ({ai}) cannot be carried in a Digital Link with primary key ({key_ai})"
            )));
        }
        attributes.push((ai, v, def.fixed_length));
    }
    let mut sep = '?';
    for fixed in [true, false] {
        for (ai, v, _) in attributes.iter().filter(|a| a.2 == fixed) {
            out.push(sep);
            sep = '&';
            out.push_str(ai);
            out.push('=');
            // In a query a space is written '+' (and '+' itself escaped).
            for part in utf8_percent_encode(v, ESCAPE) {
                out.push_str(&part.replace("%20", "+"));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_any_domain_with_path_prefix_qualifiers_and_attributes() {
        let dl = parse_digital_link(
            "https://brand.example.cn/p/01/09521234543213/10/AB%2F12/21/S1?17=251231&linkType=gs1:pip",
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
