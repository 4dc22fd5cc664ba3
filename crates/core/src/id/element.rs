//! GS1 element strings: the bracketed human-readable form `(01)…(10)…` and the raw form scanners send,
//! with FNC1 as the GS character (or `^`) and an optional symbology identifier (`]d2`, `]Q3`, `]C1`, …).

use super::IdError;
use super::syntax::{AiDef, DICT};

/// The GS character scanners send for FNC1 inside the data.
pub const GS: char = '\u{1d}';

/// A list of AIs and their values, in the order they were given; each value has passed its AI's checks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AiData {
    /// `(ai, value)` pairs.
    pub pairs: Vec<(String, String)>,
}

impl AiData {
    /// The value of AI `ai`, if present.
    pub fn get(&self, ai: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(a, _)| a == ai)
            .map(|(_, v)| v.as_str())
    }

    /// The bracketed human-readable form, e.g. `(01)09521234543213(10)ABC`; `(` inside values is escaped as `\(`.
    pub fn to_bracketed(&self) -> String {
        let mut out = String::new();
        for (ai, v) in &self.pairs {
            out.push('(');
            out.push_str(ai);
            out.push(')');
            out.push_str(&v.replace('(', "\\("));
        }
        out
    }

    /// The raw form as encoded in a symbol after the leading FNC1: predefined-length AIs first, a GS after every
    /// variable-length AI that is not last.
    pub fn to_raw(&self) -> String {
        let fixed = |ai: &str| DICT.get(ai).is_some_and(|d| d.fixed_length);
        let mut ordered: Vec<&(String, String)> =
            self.pairs.iter().filter(|(a, _)| fixed(a)).collect();
        ordered.extend(self.pairs.iter().filter(|(a, _)| !fixed(a)));
        let mut out = String::new();
        for (i, (ai, v)) in ordered.iter().enumerate() {
            out.push_str(ai);
            out.push_str(v);
            if i + 1 < ordered.len() && !fixed(ai) {
                out.push(GS);
            }
        }
        out
    }

    /// Adds a pair after checking the value against its AI; a repeated AI must repeat the same value.
    pub fn push(&mut self, ai: &str, value: &str) -> Result<(), IdError> {
        let def = DICT
            .get(ai)
            .ok_or_else(|| IdError::UnknownAi(ai.to_string()))?;
        check_value(def, value)?;
        match self.get(ai) {
            Some(existing) if existing == value => Ok(()),
            Some(_) => Err(IdError::Conflict(ai.to_string())),
            None => {
                self.pairs.push((ai.to_string(), value.to_string()));
                Ok(())
            }
        }
    }

    /// Checks the mandatory and invalid pairings of the dictionary over all pairs.
    pub fn check_pairings(&self) -> Result<(), IdError> {
        for (ai, _) in &self.pairs {
            let Some(def) = DICT.get(ai) else {
                return Err(IdError::UnknownAi(ai.clone()));
            };
            for rule in &def.requires {
                let satisfied = rule.iter().any(|alt| {
                    alt.iter()
                        .all(|p| self.pairs.iter().any(|(other, _)| p.matches(other)))
                });
                if !satisfied {
                    let needs: Vec<String> = rule
                        .iter()
                        .map(|alt| {
                            alt.iter()
                                .map(|p| format!("({})", p.0))
                                .collect::<Vec<_>>()
                                .join("+")
                        })
                        .collect();
                    return Err(IdError::Requires {
                        ai: ai.clone(),
                        needs: needs.join(" or "),
                    });
                }
            }
            for p in &def.excludes {
                if let Some((other, _)) = self.pairs.iter().find(|(o, _)| o != ai && p.matches(o)) {
                    return Err(IdError::Excludes {
                        ai: ai.clone(),
                        other: other.clone(),
                    });
                }
            }
        }
        Ok(())
    }
}

/// A short name for the keys, used in error messages (`GTIN 6901234567891: …`).
pub fn label(ai: &str) -> String {
    let name = match ai {
        "00" => "SSCC",
        "01" | "02" | "03" => "GTIN",
        "253" => "GDTI",
        "255" => "GCN",
        "401" => "GINC",
        "402" => "GSIN",
        "410" | "411" | "412" | "413" | "414" | "415" | "416" | "417" => "GLN",
        "8003" => "GRAI",
        "8004" => "GIAI",
        "8006" => "ITIP",
        "8010" => "CPID",
        "8013" => "GMN",
        "8017" | "8018" => "GSRN",
        _ => return format!("AI ({ai})"),
    };
    name.to_string()
}

fn invalid(def: &AiDef, value: &str, msg: impl Into<String>) -> IdError {
    IdError::Value {
        label: label(&def.ai),
        value: value.to_string(),
        msg: msg.into(),
    }
}

/// Checks `value` against the components and linters of `def`.
pub fn check_value(def: &AiDef, value: &str) -> Result<(), IdError> {
    let b = value.as_bytes();
    let (min, max) = def.length_range();
    if b.len() < min || b.len() > max {
        let numeric = def
            .components
            .iter()
            .all(|c| c.cset == super::syntax::Cset::Numeric);
        let unit = if numeric { "digits" } else { "characters" };
        let want = if min == max {
            format!("{min} {unit}")
        } else {
            format!("{min} to {max} {unit}")
        };
        return Err(invalid(
            def,
            value,
            format!("must be {want}, got {}", value.chars().count()),
        ));
    }
    let mut pos = 0;
    for c in &def.components {
        if pos == b.len() && c.optional {
            break;
        }
        let remaining = b.len() - pos;
        let take = if c.min == c.max {
            c.max
        } else {
            remaining.min(c.max)
        };
        if remaining < take || take < c.min {
            return Err(invalid(def, value, "is too short"));
        }
        let part = &b[pos..pos + take];
        if let Some(i) = part.iter().position(|&x| !c.cset.allows(x)) {
            let ch = value[pos + i..].chars().next().unwrap_or('?');
            return Err(invalid(
                def,
                value,
                format!(
                    "character '{}' at position {} is not allowed (expected {})",
                    ch.escape_default(),
                    pos + i + 1,
                    c.cset.describe()
                ),
            ));
        }
        // The part is ASCII now (every character set is ASCII), so this cannot split a character.
        let part = &value[pos..pos + take];
        for l in &c.linters {
            l.check(part).map_err(|m| invalid(def, value, m))?;
        }
        pos += take;
    }
    if pos < b.len() {
        return Err(invalid(def, value, "is too long"));
    }
    Ok(())
}

/// Symbology identifiers that announce GS1 data.
const SYMBOLOGY_IDS: [&str; 6] = ["]C1", "]e0", "]d2", "]Q3", "]J1", "]d1"];

/// Whether `input` looks like an element string (bracketed, or raw with a symbology identifier or FNC1).
pub fn looks_like_element_string(input: &str) -> bool {
    input.starts_with('(')
        || input.starts_with(GS)
        || input.starts_with('^')
        || SYMBOLOGY_IDS.iter().any(|s| input.starts_with(s))
}

/// Parses a bracketed or raw element string and checks every value and the pairing rules.
pub fn parse_element_string(input: &str) -> Result<AiData, IdError> {
    let data = if input.starts_with('(') {
        parse_bracketed(input)?
    } else {
        parse_raw(input)?
    };
    if data.pairs.is_empty() {
        return Err(IdError::Syntax("no AI data".into()));
    }
    data.check_pairings()?;
    Ok(data)
}

fn parse_bracketed(input: &str) -> Result<AiData, IdError> {
    let b = input.as_bytes();
    let mut data = AiData::default();
    let mut pos = 0;
    // Where an AI in brackets starts: "(" + 2-4 digits + ")" naming a known AI.
    let ai_at = |p: usize| -> Option<(usize, &str)> {
        if b.get(p) != Some(&b'(') {
            return None;
        }
        let close = (p + 3..=p + 5).find(|&i| b.get(i) == Some(&b')'))?;
        let ai = &input[p + 1..close];
        (ai.bytes().all(|d| d.is_ascii_digit()) && DICT.get(ai).is_some())
            .then_some((close + 1, ai))
    };
    while pos < b.len() {
        let Some((start, ai)) = ai_at(pos) else {
            let close = input[pos..].find(')').map(|i| &input[pos + 1..pos + i]);
            return Err(match (b[pos], close) {
                (b'(', Some(ai)) if ai.bytes().all(|d| d.is_ascii_digit()) => {
                    IdError::UnknownAi(ai.to_string())
                }
                _ => IdError::Syntax(format!("expected '(' and an AI at position {}", pos + 1)),
            });
        };
        let mut value = String::new();
        let mut i = start;
        while i < b.len() {
            if b[i] == b'\\' && b.get(i + 1) == Some(&b'(') {
                value.push('(');
                i += 2;
            } else if ai_at(i).is_some() {
                break;
            } else {
                let ch = input[i..].chars().next().unwrap_or('?');
                value.push(ch);
                i += ch.len_utf8();
            }
        }
        data.push(ai, &value)?;
        pos = i;
    }
    Ok(data)
}

fn parse_raw(input: &str) -> Result<AiData, IdError> {
    let mut s = input;
    if let Some(id) = SYMBOLOGY_IDS.iter().find(|id| s.starts_with(**id)) {
        s = &s[id.len()..];
    }
    let is_sep = |c: u8| c == 0x1d || c == b'^';
    let b = s.as_bytes();
    let mut pos = 0;
    while pos < b.len() && is_sep(b[pos]) {
        pos += 1;
    }
    let mut data = AiData::default();
    while pos < b.len() {
        let def = DICT.prefix_of(&b[pos..]).ok_or_else(|| {
            let end = (pos + 4).min(b.len());
            IdError::UnknownAi(String::from_utf8_lossy(&b[pos..end]).into_owned())
        })?;
        pos += def.ai.len();
        let (_, max) = def.length_range();
        let end = if def.fixed_length {
            if pos + max > b.len() {
                return Err(invalid(
                    def,
                    &String::from_utf8_lossy(&b[pos..]),
                    format!("must be {max} characters, got {}", b.len() - pos),
                ));
            }
            pos + max
        } else {
            let end = b[pos..]
                .iter()
                .position(|&c| is_sep(c))
                .map_or(b.len(), |i| pos + i);
            if end - pos > max {
                return Err(invalid(
                    def,
                    &String::from_utf8_lossy(&b[pos..end]),
                    format!(
                        "is longer than {max} characters (is an FNC1 separator missing after it?)"
                    ),
                ));
            }
            end
        };
        let value = std::str::from_utf8(&b[pos..end])
            .map_err(|_| IdError::Syntax("element string is not valid UTF-8".into()))?;
        data.push(&def.ai, value)?;
        pos = end;
        while pos < b.len() && is_sep(b[pos]) {
            pos += 1;
        }
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ais(d: &AiData) -> Vec<(&str, &str)> {
        d.pairs
            .iter()
            .map(|(a, v)| (a.as_str(), v.as_str()))
            .collect()
    }

    #[test]
    fn bracketed_and_raw_forms_parse_to_the_same_data() {
        let b =
            parse_element_string("(01)09521234543213(17)251231(10)AB-12(21)S\\(1)").expect("ok");
        assert_eq!(
            ais(&b),
            [
                ("01", "09521234543213"),
                ("17", "251231"),
                ("10", "AB-12"),
                ("21", "S(1)")
            ]
        );
        for raw in [
            concat!("]d2010952123454321317251231", "10AB-12\u{1d}21S(1)"),
            concat!("]Q3010952123454321317251231", "10AB-12\u{1d}21S(1)"),
            concat!("^010952123454321317251231", "10AB-12^21S(1)"),
        ] {
            let r = parse_element_string(raw).expect(raw);
            assert_eq!(ais(&r), ais(&b), "{raw}");
        }
        assert_eq!(
            b.to_bracketed(),
            "(01)09521234543213(17)251231(10)AB-12(21)S\\(1)"
        );
        let again = parse_element_string(&format!("]C1{}", b.to_raw())).expect("raw round trip");
        assert_eq!(ais(&again), ais(&b));
    }

    #[test]
    fn errors_name_the_key_and_what_is_wrong() {
        let e = parse_element_string("(01)06901234567891").expect_err("bad check digit");
        assert_eq!(
            e.to_string(),
            "GTIN 06901234567891: check digit should be 2, got 1"
        );
        let e = parse_element_string("(01)0952123454321").expect_err("short");
        assert_eq!(
            e.to_string(),
            "GTIN 0952123454321: must be 14 digits, got 13"
        );
        let e = parse_element_string("(01)09521234543213(17)251301").expect_err("month");
        assert_eq!(
            e.to_string(),
            "AI (17) 251301: month must be 01 to 12, got 13"
        );
        let e = parse_element_string("(10)ABC").expect_err("lot alone");
        assert!(e.to_string().contains("requires (01) or (02)"), "{e}");
        let e = parse_element_string("(01)09521234543213(10)A B").expect_err("space");
        assert!(e.to_string().contains("character ' ' at position 2"), "{e}");
        let e = parse_element_string("(01)09521234543213(255)0952123454324").expect_err("ex");
        assert!(e.to_string().contains("must not appear with"), "{e}");
        let e =
            parse_element_string("]C1010952123454321310ABCDEFGHIJKLMNOPQRSTU").expect_err("fnc1");
        assert!(e.to_string().contains("FNC1"), "{e}");
        assert!(matches!(parse_element_string("(06)1"), Err(IdError::UnknownAi(a)) if a == "06"));
    }
}
