//! The GS1 Barcode Syntax Dictionary, parsed once from the copy embedded in the binary
//! (`data/gs1/gs1-syntax-dictionary.txt`, Apache-2.0, GS1 AISBL): every AI's components, character sets,
//! linters, pairing rules and Digital Link roles come from it; nothing is typed in by hand.

use std::sync::LazyLock;

use super::lint::Linter;

const DICTIONARY: &str = include_str!("../../data/gs1/gs1-syntax-dictionary.txt");

/// The character set of an AI component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cset {
    /// Digits only ("N").
    Numeric,
    /// GS1 AI encodable character set 82 ("X").
    Cset82,
    /// GS1 AI encodable character set 39 ("Y").
    Cset39,
    /// base64url ("Z").
    Base64Url,
}

impl Cset {
    /// Whether `b` belongs to the set.
    pub fn allows(self, b: u8) -> bool {
        match self {
            Cset::Numeric => b.is_ascii_digit(),
            Cset::Cset82 => {
                b.is_ascii_alphanumeric()
                    || matches!(
                        b,
                        b'!' | b'"'
                            | b'%'
                            | b'&'
                            | b'\''
                            | b'('
                            | b')'
                            | b'*'
                            | b'+'
                            | b','
                            | b'-'
                            | b'.'
                            | b'/'
                            | b':'
                            | b';'
                            | b'<'
                            | b'='
                            | b'>'
                            | b'?'
                            | b'_'
                    )
            }
            Cset::Cset39 => {
                b.is_ascii_digit() || b.is_ascii_uppercase() || matches!(b, b'#' | b'-' | b'/')
            }
            Cset::Base64Url => b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'='),
        }
    }

    /// A short name for error messages.
    pub fn describe(self) -> &'static str {
        match self {
            Cset::Numeric => "digits",
            Cset::Cset82 => "GS1 character set 82",
            Cset::Cset39 => "GS1 character set 39",
            Cset::Base64Url => "base64url characters",
        }
    }
}

/// One component of an AI's data field.
#[derive(Debug, Clone)]
pub struct Component {
    /// Allowed characters.
    pub cset: Cset,
    /// Minimum length.
    pub min: usize,
    /// Maximum length.
    pub max: usize,
    /// Whether the component may be absent.
    pub optional: bool,
    /// Content checks applied to the component.
    pub linters: Vec<Linter>,
}

/// An AI pattern as used by `req=` and `ex=`: digits, where `n` stands for any digit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern(pub String);

impl Pattern {
    /// Whether the AI `ai` matches the pattern.
    pub fn matches(&self, ai: &str) -> bool {
        self.0.len() == ai.len()
            && self
                .0
                .bytes()
                .zip(ai.bytes())
                .all(|(p, a)| p == b'n' || p == a)
    }
}

/// The definition of one Application Identifier.
#[derive(Debug, Clone)]
pub struct AiDef {
    /// The AI itself, e.g. `"01"` or `"3103"`.
    pub ai: String,
    /// Predefined length: no FNC1 separator follows it in a raw element string.
    pub fixed_length: bool,
    /// Permitted as a Digital Link data attribute (query string).
    pub dl_attribute: bool,
    /// The components of the data field, in order.
    pub components: Vec<Component>,
    /// Each inner list is one `req=` rule: one of its alternatives (AIs joined by `+`) must be present.
    pub requires: Vec<Vec<Vec<Pattern>>>,
    /// AIs that must not appear together with this one.
    pub excludes: Vec<Pattern>,
    /// When a Digital Link primary key: the alternative orders of its qualifiers (empty list: none).
    pub dl_primary_key: Option<Vec<Vec<String>>>,
    /// The dictionary's title, e.g. `"GTIN"`.
    pub title: String,
}

impl AiDef {
    /// The minimum and maximum total length of the data field.
    pub fn length_range(&self) -> (usize, usize) {
        let min = self
            .components
            .iter()
            .filter(|c| !c.optional)
            .map(|c| c.min)
            .sum();
        let max = self.components.iter().map(|c| c.max).sum();
        (min, max)
    }

    /// Whether the AI may stand as a Digital Link qualifier after the primary key `key`.
    pub fn is_qualifier_of(&self, key: &AiDef) -> bool {
        key.dl_primary_key
            .as_ref()
            .is_some_and(|alts| alts.iter().any(|alt| alt.iter().any(|q| q == &self.ai)))
    }
}

/// The parsed dictionary with a dense lookup from AI to definition.
#[derive(Debug)]
pub struct Dictionary {
    defs: Vec<AiDef>,
    /// Index into `defs` + 1 (0 = unknown); slots 0..100 for 2-digit AIs, 100..1100 for 3, 1100..11100 for 4.
    lookup: Vec<u16>,
}

/// The dictionary embedded in the binary.
pub static DICT: LazyLock<Dictionary> = LazyLock::new(|| match Dictionary::parse(DICTIONARY) {
    Ok(d) => d,
    // The file is part of the source tree and covered by tests; failing here is a build defect.
    Err(e) => panic!("embedded GS1 syntax dictionary: {e}"),
});

fn slot(ai: &[u8]) -> Option<usize> {
    if !(2..=4).contains(&ai.len()) || !ai.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = ai
        .iter()
        .fold(0usize, |n, d| n * 10 + usize::from(d - b'0'));
    Some(match ai.len() {
        2 => n,
        3 => 100 + n,
        _ => 1100 + n,
    })
}

impl Dictionary {
    /// Parses the text of a syntax dictionary.
    pub fn parse(text: &str) -> Result<Dictionary, String> {
        let mut defs = Vec::new();
        let mut lookup = vec![0u16; 11100];
        for (no, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (body, title) = match line.split_once('#') {
                Some((b, t)) => (b.trim(), t.trim()),
                None => (line, ""),
            };
            let parsed = parse_entry(body, title).map_err(|e| format!("line {}: {e}", no + 1))?;
            for def in parsed {
                let s = slot(def.ai.as_bytes())
                    .ok_or_else(|| format!("line {}: bad AI {}", no + 1, def.ai))?;
                defs.push(def);
                lookup[s] = u16::try_from(defs.len()).map_err(|_| "too many AIs".to_string())?;
            }
        }
        Ok(Dictionary { defs, lookup })
    }

    /// The definition of AI `ai` (2 to 4 digits), if the dictionary knows it.
    pub fn get(&self, ai: &str) -> Option<&AiDef> {
        self.get_bytes(ai.as_bytes())
    }

    fn get_bytes(&self, ai: &[u8]) -> Option<&AiDef> {
        let i = *self.lookup.get(slot(ai)?)?;
        (i > 0).then(|| &self.defs[usize::from(i) - 1])
    }

    /// The AI at the start of `data`: AIs are prefix-free, so the first length that is known wins.
    pub fn prefix_of(&self, data: &[u8]) -> Option<&AiDef> {
        (2..=4.min(data.len())).find_map(|n| self.get_bytes(&data[..n]))
    }

    /// Every definition in dictionary order.
    pub fn all(&self) -> &[AiDef] {
        &self.defs
    }
}

fn parse_entry(body: &str, title: &str) -> Result<Vec<AiDef>, String> {
    let mut tokens = body.split_whitespace().peekable();
    let ais = tokens.next().ok_or("empty entry")?;
    let mut fixed_length = false;
    let mut dl_attribute = false;
    if let Some(t) = tokens.peek()
        && !t.starts_with(['N', 'X', 'Y', 'Z', '['])
    {
        fixed_length = t.contains('*');
        dl_attribute = t.contains('?');
        tokens.next();
    }
    let mut components = Vec::new();
    let mut requires = Vec::new();
    let mut excludes = Vec::new();
    let mut dl_primary_key = None;
    for t in tokens {
        if let Some(v) = t.strip_prefix("req=") {
            requires.push(
                v.split(',')
                    .map(|alt| alt.split('+').map(|p| Pattern(p.to_string())).collect())
                    .collect(),
            );
        } else if let Some(v) = t.strip_prefix("ex=") {
            excludes.extend(v.split(',').map(|p| Pattern(p.to_string())));
        } else if t == "dlpkey" {
            dl_primary_key = Some(vec![]);
        } else if let Some(v) = t.strip_prefix("dlpkey=") {
            dl_primary_key = Some(
                v.split('|')
                    .map(|alt| alt.split(',').map(str::to_string).collect())
                    .collect(),
            );
        } else if t.contains('=') {
            // Attributes this version of Suyuan does not use are kept out of the model.
        } else {
            components.push(parse_component(t)?);
        }
    }
    if components.is_empty() {
        return Err(format!("AI {ais}: no components"));
    }
    let template = AiDef {
        ai: String::new(),
        fixed_length,
        dl_attribute,
        components,
        requires,
        excludes,
        dl_primary_key,
        title: title.to_string(),
    };
    let (first, last) = match ais.split_once('-') {
        Some((a, b)) => (a, b),
        None => (ais, ais),
    };
    let (from, to): (u32, u32) = (
        first.parse().map_err(|_| format!("bad AI {first}"))?,
        last.parse().map_err(|_| format!("bad AI {last}"))?,
    );
    Ok((from..=to)
        .map(|n| AiDef {
            ai: format!("{n:0width$}", width = first.len()),
            ..template.clone()
        })
        .collect())
}

fn parse_component(t: &str) -> Result<Component, String> {
    let (spec, linters) = match t.split_once(',') {
        Some((s, l)) => (s, l),
        None => (t, ""),
    };
    let (spec, optional) = match spec.strip_prefix('[') {
        Some(s) => (
            s.strip_suffix(']').ok_or(format!("unclosed [ in {t}"))?,
            true,
        ),
        None => (spec, false),
    };
    let cset = match spec.as_bytes().first() {
        Some(b'N') => Cset::Numeric,
        Some(b'X') => Cset::Cset82,
        Some(b'Y') => Cset::Cset39,
        Some(b'Z') => Cset::Base64Url,
        _ => return Err(format!("unknown character set in {t}")),
    };
    let len = &spec[1..];
    let (min, max) = match len.strip_prefix("..") {
        Some(m) => (1, m.parse().map_err(|_| format!("bad length in {t}"))?),
        None => {
            let n = len.parse().map_err(|_| format!("bad length in {t}"))?;
            (n, n)
        }
    };
    let linters = linters
        .split(',')
        .filter(|l| !l.is_empty())
        .map(|l| Linter::from_name(l).ok_or(format!("unknown linter {l}")))
        .collect::<Result<_, _>>()?;
    Ok(Component {
        cset,
        min,
        max,
        optional,
        linters,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_dictionary_parses_completely() {
        let d = &*DICT;
        assert!(d.all().len() > 500, "{} AIs", d.all().len());
        let gtin = d.get("01").expect("01");
        assert!(gtin.fixed_length && gtin.dl_attribute);
        assert_eq!(gtin.title, "GTIN");
        assert_eq!(
            gtin.dl_primary_key,
            Some(vec![
                vec!["22".to_string(), "10".into(), "21".into()],
                vec!["235".into()]
            ])
        );
        let weight = d.get("3103").expect("3103");
        assert_eq!(weight.length_range(), (6, 6));
        assert!(d.get("3106").is_none());
        let lot = d.get("10").expect("10");
        assert!(!lot.fixed_length);
        assert_eq!(lot.length_range(), (1, 20));
        assert!(d.get("99").is_some() && d.get("9").is_none() && d.get("0a").is_none());
    }

    #[test]
    fn ais_are_found_at_the_start_of_raw_data() {
        let d = &*DICT;
        assert_eq!(
            d.prefix_of(b"0109521234543213").map(|a| a.ai.as_str()),
            Some("01")
        );
        assert_eq!(
            d.prefix_of(b"3103000150").map(|a| a.ai.as_str()),
            Some("3103")
        );
        assert_eq!(d.prefix_of(b"254ABC").map(|a| a.ai.as_str()), Some("254"));
        assert!(d.prefix_of(b"2").is_none());
    }

    #[test]
    fn patterns_match_digit_wildcards() {
        assert!(Pattern("31nn".into()).matches("3103"));
        assert!(!Pattern("31nn".into()).matches("3203"));
        assert!(!Pattern("01".into()).matches("010"));
    }
}
