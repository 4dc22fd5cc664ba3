//! GS1 identifiers as far as the event model needs them: check digits, EPC URIs (TDS 2.x) and their
//! canonical GS1 Digital Link form, as used by the event hash and by object lookups.

/// The canonical Digital Link domain.
pub const CANONICAL_DL_DOMAIN: &str = "https://id.gs1.org";

/// The GS1 mod-10 check digit for a string of digits (the digits without the check digit).
///
/// Returns `None` when `digits` holds anything but ASCII digits.
pub fn check_digit(digits: &str) -> Option<u8> {
    let mut sum = 0u32;
    for (i, c) in digits.bytes().rev().enumerate() {
        if !c.is_ascii_digit() {
            return None;
        }
        let d = u32::from(c - b'0');
        sum += if i % 2 == 0 { d * 3 } else { d };
    }
    Some(((10 - sum % 10) % 10) as u8)
}

/// The digit strings joined, with their GS1 check digit appended, in one allocation (no `format!`: this runs
/// for every EPC an event hash or an identifier check converts). `None` when a part holds a non-digit.
fn with_check(parts: &[&str]) -> Option<String> {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum::<usize>() + 1);
    for p in parts {
        out.push_str(p);
    }
    let c = check_digit(&out)?;
    out.push(char::from(b'0' + c));
    Some(out)
}

/// The strings joined, in one allocation.
fn cat(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        out.push_str(p);
    }
    out
}

/// The characters GS1 Digital Link requires percent-encoded but EPC URIs allow bare, with their escapes.
const DL_ESCAPES: &[(char, &str)] = &[
    ('!', "%21"),
    ('(', "%28"),
    (')', "%29"),
    ('*', "%2A"),
    ('+', "%2B"),
    (',', "%2C"),
    (':', "%3A"),
];

/// Percent-encodes the characters that GS1 Digital Link requires encoded but EPC URIs allow unencoded.
/// Existing `%XX` escapes are kept as they are.
fn dl_escape(s: &str) -> std::borrow::Cow<'_, str> {
    let escape = |c: char| DL_ESCAPES.iter().find(|(e, _)| *e == c).map(|(_, to)| *to);
    if !s.chars().any(|c| escape(c).is_some()) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match escape(c) {
            Some(to) => out.push_str(to),
            None => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

fn all_digits(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

/// A company prefix and reference whose digit counts add up to `total`, prefix 6 to 12 digits.
fn prefix_and_ref(prefix: &str, reference: &str, total: usize) -> bool {
    (6..=12).contains(&prefix.len())
        && all_digits(prefix)
        && all_digits(reference)
        && prefix.len() + reference.len() == total
}

/// A GTIN-14 from an EPC company prefix and indicator/item reference.
fn gtin14(prefix: &str, item_ref: &str) -> Option<String> {
    if !prefix_and_ref(prefix, item_ref, 13) || item_ref.is_empty() {
        return None;
    }
    let (indicator, rest) = item_ref.split_at(1);
    with_check(&[indicator, prefix, rest])
}

/// Characters allowed in the serial-like parts of EPC URIs (escapes are checked separately).
fn epc_component_ok(s: &str, max: usize) -> bool {
    if s.is_empty() {
        return false;
    }
    let b = s.as_bytes();
    let mut i = 0;
    let mut count = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if i + 2 >= b.len() || !b[i + 1].is_ascii_hexdigit() || !b[i + 2].is_ascii_hexdigit() {
                return false;
            }
            i += 3;
        } else {
            let c = b[i];
            let ok = c.is_ascii_alphanumeric() || b"!')(*+,.:;=_-".contains(&c);
            if !ok {
                return false;
            }
            i += 1;
        }
        count += 1;
    }
    count <= max
}

/// Converts an EPC pure-identity, class or pattern URI to its constrained canonical GS1 Digital Link URI.
///
/// Returns `None` when `uri` is not a well-formed EPC URI of a scheme that has a Digital Link equivalent.
pub fn epc_uri_to_digital_link(uri: &str) -> Option<String> {
    let (kind, scheme, body) = if let Some(rest) = uri.strip_prefix("urn:epc:id:") {
        let (s, b) = rest.split_once(':')?;
        ("id", s, b)
    } else if let Some(rest) = uri.strip_prefix("urn:epc:class:") {
        let (s, b) = rest.split_once(':')?;
        ("class", s, b)
    } else if let Some(rest) = uri.strip_prefix("urn:epc:idpat:") {
        let (s, b) = rest.split_once(':')?;
        ("idpat", s, b)
    } else {
        return None;
    };
    let d = CANONICAL_DL_DOMAIN;
    let parts: Vec<&str> = match (kind, scheme) {
        // Only these schemes are matched by their dot-separated parts.
        ("id", "pgln" | "gsrn" | "gsrnp" | "gsin") | ("idpat", _) => body.split('.').collect(),
        _ => Vec::new(),
    };
    match (kind, scheme) {
        ("id", "sgtin") => {
            let mut it = body.splitn(3, '.');
            let (p, i, serial) = (it.next()?, it.next()?, it.next()?);
            if !epc_component_ok(serial, 20) {
                return None;
            }
            Some(cat(&[
                d,
                "/01/",
                &gtin14(p, i)?,
                "/21/",
                &dl_escape(serial),
            ]))
        }
        ("id", "sscc") => {
            let (p, r) = body.split_once('.')?;
            if r.contains('.') || !prefix_and_ref(p, r, 17) {
                return None;
            }
            let (ext, rest) = r.split_at(1);
            Some(cat(&[d, "/00/", &with_check(&[ext, p, rest])?]))
        }
        ("id", "sgln") => {
            let mut it = body.splitn(3, '.');
            let (p, l, ext) = (it.next()?, it.next()?, it.next()?);
            if !prefix_and_ref(p, l, 12) || !epc_component_ok(ext, 20) {
                return None;
            }
            let gln = with_check(&[p, l])?;
            if ext == "0" {
                Some(cat(&[d, "/414/", &gln]))
            } else {
                Some(cat(&[d, "/414/", &gln, "/254/", &dl_escape(ext)]))
            }
        }
        ("id", "pgln") => {
            let [p, r] = parts.as_slice() else {
                return None;
            };
            if !prefix_and_ref(p, r, 12) {
                return None;
            }
            Some(format!("{d}/417/{}", with_check(&[p, r])?))
        }
        ("id", "grai") => {
            let mut it = body.splitn(3, '.');
            let (p, t, s) = (it.next()?, it.next()?, it.next()?);
            if !prefix_and_ref(p, t, 12) || !epc_component_ok(s, 16) {
                return None;
            }
            Some(format!(
                "{d}/8003/{}{}",
                with_check(&["0", p, t])?,
                dl_escape(s)
            ))
        }
        ("id", "giai") => {
            let (p, a) = body.split_once('.')?;
            if !(6..=12).contains(&p.len()) || !all_digits(p) || !epc_component_ok(a, 30 - p.len())
            {
                return None;
            }
            Some(format!("{d}/8004/{p}{}", dl_escape(a)))
        }
        ("id", "gsrn") | ("id", "gsrnp") => {
            let [p, r] = parts.as_slice() else {
                return None;
            };
            if !prefix_and_ref(p, r, 17) {
                return None;
            }
            let ai = if scheme == "gsrn" { "8018" } else { "8017" };
            Some(format!("{d}/{ai}/{}", with_check(&[p, r])?))
        }
        ("id", "gdti") | ("id", "sgcn") => {
            let mut it = body.splitn(3, '.');
            let (p, t, s) = (it.next()?, it.next()?, it.next()?);
            if !prefix_and_ref(p, t, 12) {
                return None;
            }
            let ok = if scheme == "gdti" {
                epc_component_ok(s, 17)
            } else {
                !s.is_empty() && s.len() <= 12 && all_digits(s)
            };
            if !ok {
                return None;
            }
            let ai = if scheme == "gdti" { "253" } else { "255" };
            Some(format!("{d}/{ai}/{}{}", with_check(&[p, t])?, dl_escape(s)))
        }
        ("id", "cpi") => {
            let (p, rest) = body.split_once('.')?;
            let (cp, serial) = rest.rsplit_once('.')?;
            if !(6..=12).contains(&p.len())
                || !all_digits(p)
                || !epc_component_ok(cp, 30 - p.len())
                || serial.is_empty()
                || serial.len() > 12
                || !all_digits(serial)
            {
                return None;
            }
            Some(format!("{d}/8010/{p}{}/8011/{serial}", dl_escape(cp)))
        }
        ("id", "ginc") => {
            let (p, r) = body.split_once('.')?;
            if !(6..=12).contains(&p.len()) || !all_digits(p) || !epc_component_ok(r, 30 - p.len())
            {
                return None;
            }
            Some(format!("{d}/401/{p}{}", dl_escape(r)))
        }
        ("id", "gsin") => {
            let [p, r] = parts.as_slice() else {
                return None;
            };
            if !prefix_and_ref(p, r, 16) {
                return None;
            }
            Some(format!("{d}/402/{}", with_check(&[p, r])?))
        }
        ("id", "itip") => {
            let mut it = body.splitn(5, '.');
            let (p, i, piece, total, s) =
                (it.next()?, it.next()?, it.next()?, it.next()?, it.next()?);
            if piece.len() != 2 || total.len() != 2 || !all_digits(piece) || !all_digits(total) {
                return None;
            }
            if !epc_component_ok(s, 20) {
                return None;
            }
            Some(format!(
                "{d}/8006/{}{piece}{total}/21/{}",
                gtin14(p, i)?,
                dl_escape(s)
            ))
        }
        ("id", "upui") => {
            let mut it = body.splitn(3, '.');
            let (p, i, s) = (it.next()?, it.next()?, it.next()?);
            if !epc_component_ok(s, 28) {
                return None;
            }
            Some(format!("{d}/01/{}/235/{}", gtin14(p, i)?, dl_escape(s)))
        }
        ("class", "lgtin") => {
            let mut it = body.splitn(3, '.');
            let (p, i, lot) = (it.next()?, it.next()?, it.next()?);
            if !epc_component_ok(lot, 20) {
                return None;
            }
            Some(cat(&[d, "/01/", &gtin14(p, i)?, "/10/", &dl_escape(lot)]))
        }
        ("idpat", "sgtin") | ("idpat", "upui") => {
            let [p, i, "*"] = parts.as_slice() else {
                return None;
            };
            Some(format!("{d}/01/{}", gtin14(p, i)?))
        }
        ("idpat", "grai") | ("idpat", "gdti") | ("idpat", "sgcn") => {
            let [p, t, "*"] = parts.as_slice() else {
                return None;
            };
            if !prefix_and_ref(p, t, 12) {
                return None;
            }
            match scheme {
                "grai" => Some(format!("{d}/8003/{}", with_check(&["0", p, t])?)),
                "gdti" => Some(format!("{d}/253/{}", with_check(&[p, t])?)),
                _ => Some(format!("{d}/255/{}", with_check(&[p, t])?)),
            }
        }
        ("idpat", "cpi") => {
            let [p, cp, "*"] = parts.as_slice() else {
                return None;
            };
            if !(6..=12).contains(&p.len()) || !all_digits(p) || !epc_component_ok(cp, 30 - p.len())
            {
                return None;
            }
            Some(format!("{d}/8010/{p}{}", dl_escape(cp)))
        }
        ("idpat", "itip") => {
            let [p, i, piece, total, "*"] = parts.as_slice() else {
                return None;
            };
            if piece.len() != 2 || total.len() != 2 || !all_digits(piece) || !all_digits(total) {
                return None;
            }
            Some(format!("{d}/8006/{}{piece}{total}", gtin14(p, i)?))
        }
        _ => None,
    }
}

/// Primary keys of GS1 Digital Link (AI and short name) that identify objects, places, parties and documents.
const PRIMARY_KEYS: &[(&str, &str)] = &[
    ("01", "gtin"),
    ("8006", "itip"),
    ("8010", "cpid"),
    ("414", "gln"),
    ("417", "party"),
    ("8017", "gsrnp"),
    ("8018", "gsrn"),
    ("255", "gcn"),
    ("00", "sscc"),
    ("253", "gdti"),
    ("401", "ginc"),
    ("402", "gsin"),
    ("8003", "grai"),
    ("8004", "giai"),
];

/// Key qualifiers (AI and short name).
const QUALIFIERS: &[(&str, &str)] = &[
    ("22", "cpv"),
    ("10", "lot"),
    ("21", "ser"),
    ("235", "235"),
    ("254", "254"),
    ("8011", "8011"),
];

fn primary_ai(seg: &str) -> Option<&'static str> {
    PRIMARY_KEYS
        .iter()
        .find(|(ai, short)| seg == *ai || seg == *short)
        .map(|(ai, _)| *ai)
}

fn qualifier_ai(seg: &str) -> Option<&'static str> {
    QUALIFIERS
        .iter()
        .find(|(ai, short)| seg == *ai || seg == *short)
        .map(|(ai, _)| *ai)
}

/// GS1 AI encodable character set 82 (as used in Digital Link path values), plus `%` for escapes.
fn cset82_ok(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max * 3
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"\"'-.;<=>?_%!()*+,/:&".contains(&c))
}

/// Reduces a GS1 Digital Link URI (any domain, AI or short-name path, with or without query string) to its
/// constrained canonical form: `https://id.gs1.org`, numeric AIs, no query string, no CPV, and only the
/// finest level of identification (serial over lot).
///
/// Returns `None` when `uri` is not a Digital Link URI carrying a primary key this form supports.
pub fn constrain_digital_link(uri: &str) -> Option<String> {
    let rest = uri
        .strip_prefix("https://")
        .or_else(|| uri.strip_prefix("http://"))?;
    let rest = rest.split(['?', '#']).next()?;
    let (_host, path) = rest.split_once('/')?;
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let start = segs.iter().position(|s| primary_ai(s).is_some())?;
    let key_ai = primary_ai(segs[start])?;
    let mut key = (*segs.get(start + 1)?).to_string();
    let mut quals: Vec<(&str, &str)> = Vec::new();
    let mut i = start + 2;
    while i + 1 < segs.len() {
        let q = qualifier_ai(segs[i])?;
        quals.push((q, segs[i + 1]));
        i += 2;
    }
    if i != segs.len() {
        return None;
    }
    if key.len() < 4 || !key.as_bytes()[..4].iter().all(u8::is_ascii_digit) {
        return None;
    }
    if key_ai == "01" {
        key = match key.len() {
            14 => key,
            8 | 12 | 13 => format!("{}{key}", "0".repeat(14 - key.len())),
            _ => return None,
        };
    }
    let numeric_len = match key_ai {
        "00" => Some(18),
        "01" => Some(14),
        "8006" => Some(18),
        "414" | "417" => Some(13),
        "402" => Some(17),
        "8017" | "8018" => Some(18),
        _ => None,
    };
    if let Some(n) = numeric_len {
        if key.len() != n
            || !all_digits(&key)
            || check_digit(&key[..n - 1])? != key.as_bytes()[n - 1] - b'0'
        {
            return None;
        }
    } else if !cset82_ok(&key, 30) {
        return None;
    }
    let find = |ai: &str| quals.iter().find(|(q, _)| *q == ai).map(|(_, v)| *v);
    let allowed: &[&str] = match key_ai {
        "01" => &["21", "10", "235"],
        "8006" => &["21", "10"],
        "414" => &["254"],
        "8010" => &["8011"],
        _ => &[],
    };
    // Serial wins over lot; CPV is dropped; other qualifiers must belong to the key.
    for (q, _) in &quals {
        if *q != "22" && !allowed.contains(q) {
            return None;
        }
    }
    let qualifier = ["21", "235", "254", "8011", "10"]
        .iter()
        .find_map(|ai| find(ai).map(|v| (*ai, v)))
        .filter(|(ai, _)| allowed.contains(ai));
    let mut out = format!("{CANONICAL_DL_DOMAIN}/{key_ai}/{key}");
    if let Some((ai, v)) = qualifier {
        if !cset82_ok(v, 28) {
            return None;
        }
        out.push('/');
        out.push_str(ai);
        out.push('/');
        out.push_str(v);
    }
    Some(out)
}

/// The canonical Digital Link form of any GS1-keyed URI (EPC URI, EPC class or pattern URI, Digital Link).
pub fn canonical_digital_link(uri: &str) -> Option<String> {
    if uri.starts_with("urn:epc:") {
        epc_uri_to_digital_link(uri)
    } else {
        constrain_digital_link(uri)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digits() {
        assert_eq!(check_digit("690123456789"), Some(2));
        assert_eq!(check_digit("0401234512345"), Some(6));
        assert_eq!(check_digit("12a"), None);
    }

    #[test]
    fn epc_to_dl() {
        let cases = [
            (
                "urn:epc:id:sgtin:4012345.011111.9876",
                "https://id.gs1.org/01/04012345111118/21/9876",
            ),
            (
                "urn:epc:id:sscc:4012345.0000000333",
                "https://id.gs1.org/00/040123450000003338",
            ),
            (
                "urn:epc:id:sgln:4012345.00005.0",
                "https://id.gs1.org/414/4012345000054",
            ),
            (
                "urn:epc:id:sgln:4012345.00011.987",
                "https://id.gs1.org/414/4012345000115/254/987",
            ),
            (
                "urn:epc:id:pgln:999999999999.",
                "https://id.gs1.org/417/9999999999994",
            ),
            (
                "urn:epc:id:gdti:987659999999..9",
                "https://id.gs1.org/253/98765999999929",
            ),
            (
                "urn:epc:class:lgtin:4012345.012345.Lot987",
                "https://id.gs1.org/01/04012345123456/10/Lot987",
            ),
            (
                "urn:epc:idpat:sgtin:4054739.099914.*",
                "https://id.gs1.org/01/04054739999148",
            ),
        ];
        for (epc, dl) in cases {
            assert_eq!(epc_uri_to_digital_link(epc).as_deref(), Some(dl), "{epc}");
        }
        assert_eq!(
            epc_uri_to_digital_link("urn:epc:id:sgtin:4012345.01111.9876"),
            None
        );
        // Characters an EPC URI allows bare but a Digital Link escapes; existing escapes stay as they are.
        assert_eq!(
            epc_uri_to_digital_link("urn:epc:id:sgtin:4012345.011111.A!(B)*+,:C%2F").as_deref(),
            Some("https://id.gs1.org/01/04012345111118/21/A%21%28B%29%2A%2B%2C%3AC%2F")
        );
        assert_eq!(
            epc_uri_to_digital_link("urn:epc:class:lgtin:4012345.012345.L+1").as_deref(),
            Some("https://id.gs1.org/01/04012345123456/10/L%2B1")
        );
        // An SSCC has exactly two parts, digits only, 17 digits together.
        for bad in [
            "urn:epc:id:sscc:4012345.0000000333.1",
            "urn:epc:id:sscc:4012345.000000033",
            "urn:epc:id:sscc:4012345.00000003a3",
            "urn:epc:id:sscc:4012345",
        ] {
            assert_eq!(epc_uri_to_digital_link(bad), None, "{bad}");
        }
    }

    #[test]
    fn dl_constrained() {
        assert_eq!(
            constrain_digital_link("https://example.com/gtin/09780345418913/21/765tz?abc=211121")
                .as_deref(),
            Some("https://id.gs1.org/01/09780345418913/21/765tz")
        );
        assert_eq!(
            constrain_digital_link("https://brand.example/01/09780345418913/10/L1/21/S1")
                .as_deref(),
            Some("https://id.gs1.org/01/09780345418913/21/S1")
        );
        assert_eq!(
            constrain_digital_link("https://example.com/01/09780345418914"),
            None
        );
        assert_eq!(constrain_digital_link("https://example.com/about"), None);
    }
}
