//! Coding rules: templates of tokens that issue codes for plants with or without GS1 membership
//! (`{PLANT}{LINE}{YY}{JJJ}{SEQ:6:10:daily}{CHECK:mod10}`), and the check that a scanned code fits its rule.
//! Pure: the caller supplies the date, the reserved sequence numbers and the random bytes.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// Why a rule or a code was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodingError {
    /// The template cannot be used.
    #[error("template: {0}")]
    Template(String),
    /// A context value the template needs is missing or unusable.
    #[error("context.{field}: {msg}")]
    Context {
        /// The context field (`plant`, `line`, …).
        field: String,
        /// What is wrong.
        msg: String,
    },
    /// The sequence ran out of numbers for its period.
    #[error("sequence exhausted: {0}")]
    Exhausted(String),
    /// A code does not match its rule.
    #[error("{0}")]
    Mismatch(String),
}

/// When a sequence starts again from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reset {
    /// Never.
    Never,
    /// Every day.
    Daily,
    /// Every month.
    Monthly,
    /// Every year.
    Yearly,
}

/// A check character algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckKind {
    /// GS1 mod 10 over digits.
    Mod10,
    /// ISO/IEC 7064 MOD 11-2 over digits (check 0–9 or X).
    Mod11_2,
    /// ISO/IEC 7064 MOD 37,36 over digits and upper-case letters.
    Mod37_36,
}

/// Context fields a template can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `{PLANT}`.
    Plant,
    /// `{LINE}`.
    Line,
    /// `{PRODUCT}`: product code.
    Product,
    /// `{CATEGORY}`: product category.
    Category,
    /// `{SHIFT}`.
    Shift,
}

impl Field {
    /// The context key.
    pub fn key(self) -> &'static str {
        match self {
            Field::Plant => "plant",
            Field::Line => "line",
            Field::Product => "product",
            Field::Category => "category",
            Field::Shift => "shift",
        }
    }
}

/// One element of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// Fixed text.
    Text(String),
    /// A context value, optionally of a fixed width.
    Field(Field, Option<usize>),
    /// `{YY}`.
    Year2,
    /// `{YYYY}`.
    Year4,
    /// `{MM}`.
    Month,
    /// `{DD}`.
    Day,
    /// `{JJJ}`: day of the year, 001–366.
    Julian,
    /// `{WW}`: ISO week, 01–53.
    Week,
    /// `{SEQ:width[:radix[:reset]]}`.
    Seq {
        /// Digits, zero-padded.
        width: usize,
        /// 10, 16 or 36.
        radix: u32,
        /// Reset period.
        reset: Reset,
    },
    /// `{RAND:n}`: n characters from a 32-letter alphabet without look-alikes, from a CSPRNG.
    Rand(usize),
    /// `{CHECK:kind}`: a check character over everything before it.
    Check(CheckKind),
}

/// The 32 characters of random parts (Crockford's base 32: no I, L, O, U).
pub const RAND_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const RADIX36: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// The tokens in order.
    pub tokens: Vec<Token>,
}

/// What the codes of a rule identify, which decides the identity each code stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// A plant's own code: `urn:suyuan:{tenant}:{kind}:{code}`.
    #[default]
    Internal,
    /// The serial of a GTIN (SGTIN): `https://id.gs1.org/01/{gtin}/21/{code}`.
    Sgtin,
    /// The lot of a GTIN (LGTIN): `https://id.gs1.org/01/{gtin}/10/{code}`.
    Lgtin,
    /// A whole SSCC (the template yields 18 digits ending in `{CHECK:mod10}`).
    Sscc,
}

/// A coding rule as users define it (stored as JSON, versioned by the store).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RuleDef {
    /// The token template, e.g. `{PLANT}{YY}{JJJ}{SEQ:6:10:daily}{CHECK:mod10}`.
    pub template: String,
    /// What the codes identify.
    #[serde(default)]
    pub target: Target,
    /// For internal codes: the kind in the URN (`unit`, `lot`, `case`, `pallet`, …).
    #[serde(default = "default_kind")]
    pub kind: String,
    /// For internal codes: the tenant in the URN.
    #[serde(default = "default_tenant")]
    pub tenant: String,
    /// For SGTIN and LGTIN targets: the GTIN, unless the issuing context gives one.
    #[serde(default)]
    pub gtin: Option<String>,
    /// UTC offset of the plant, for the date parts and the sequence periods (`+08:00`).
    #[serde(default = "default_offset")]
    pub utc_offset: String,
    /// What the rule is for.
    #[serde(default)]
    pub description: Option<String>,
    /// What a capture naming a code of this rule's GTIN that the rule never issued gets (SGTIN rules).
    #[serde(default)]
    pub unknown_codes: UnknownCodes,
}

/// The policy for captures that name one of the plant's own codes which no rule issued: a copied, guessed
/// or mistyped serial, or one printed outside the system.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum UnknownCodes {
    /// Stored without remark.
    #[default]
    Accept,
    /// Stored, and the capture answer carries a warning for each such code (and the server logs an alert).
    Warn,
    /// The capture is refused, naming each such code.
    Refuse,
}

fn default_kind() -> String {
    "unit".into()
}

fn default_tenant() -> String {
    "local".into()
}

fn default_offset() -> String {
    "+08:00".into()
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 40
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl RuleDef {
    /// Checks the whole definition and answers its parsed template.
    pub fn check(&self) -> Result<Template, CodingError> {
        let t = Template::parse(&self.template)?;
        let field = |f: &str, msg: String| CodingError::Context {
            field: f.into(),
            msg,
        };
        if !is_name(&self.kind) {
            return Err(field(
                "kind",
                format!("letters, digits, - and _, got '{}'", self.kind),
            ));
        }
        if !is_name(&self.tenant) {
            return Err(field(
                "tenant",
                format!("letters, digits, - and _, got '{}'", self.tenant),
            ));
        }
        if crate::time::parse_offset(&self.utc_offset).is_none() {
            return Err(field(
                "utc_offset",
                format!("expected ±hh:mm, got '{}'", self.utc_offset),
            ));
        }
        if let Some(g) = &self.gtin {
            gtin14(g)?;
        }
        Ok(t)
    }

    /// The identity `code` stands for, given the issuing context.
    pub fn identity(&self, code: &str, ctx: &Context) -> Result<String, CodingError> {
        let mut data = crate::id::AiData::default();
        let bad = |e: crate::id::IdError| CodingError::Mismatch(e.to_string());
        match self.target {
            Target::Internal => {
                return Ok(format!("urn:suyuan:{}:{}:{code}", self.tenant, self.kind));
            }
            Target::Sscc => data.push("00", code).map_err(bad)?,
            Target::Sgtin | Target::Lgtin => {
                let gtin = ctx
                    .gtin
                    .as_deref()
                    .or(self.gtin.as_deref())
                    .ok_or_else(|| CodingError::Context {
                        field: "gtin".into(),
                        msg: "required: the rule issues GS1 serials or lots of a GTIN".into(),
                    })?;
                data.push("01", &gtin14(gtin)?).map_err(bad)?;
                let ai = if self.target == Target::Sgtin {
                    "21"
                } else {
                    "10"
                };
                data.push(ai, code).map_err(bad)?;
            }
        }
        crate::id::dl::to_digital_link(&data, crate::gs1::CANONICAL_DL_DOMAIN).map_err(bad)
    }
}

fn gtin14(g: &str) -> Result<String, CodingError> {
    let padded = format!("{g:0>14}");
    let mut d = crate::id::AiData::default();
    if !matches!(g.len(), 8 | 12 | 13 | 14) {
        return Err(CodingError::Context {
            field: "gtin".into(),
            msg: format!("a GTIN has 8, 12, 13 or 14 digits, got '{g}'"),
        });
    }
    d.push("01", &padded).map_err(|e| CodingError::Context {
        field: "gtin".into(),
        msg: e.to_string(),
    })?;
    Ok(padded)
}

/// The values a code is issued for.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Context {
    /// Plant code.
    #[serde(default)]
    pub plant: Option<String>,
    /// Line code.
    #[serde(default)]
    pub line: Option<String>,
    /// Product code.
    #[serde(default)]
    pub product: Option<String>,
    /// Product category.
    #[serde(default)]
    pub category: Option<String>,
    /// Shift.
    #[serde(default)]
    pub shift: Option<String>,
    /// GTIN for SGTIN and LGTIN targets (overrides the rule's).
    #[serde(default)]
    pub gtin: Option<String>,
}

impl Context {
    /// The keys of a context's values, as forms, query parameters and label variables name them.
    pub const KEYS: [&'static str; 6] = ["plant", "line", "product", "category", "shift", "gtin"];

    /// A context from values looked up by key (see [`Context::KEYS`]); empty values count as absent.
    pub fn from_lookup(mut get: impl FnMut(&str) -> Option<String>) -> Context {
        let mut value = |k: &str| get(k).filter(|v| !v.is_empty());
        Context {
            plant: value("plant"),
            line: value("line"),
            product: value("product"),
            category: value("category"),
            shift: value("shift"),
            gtin: value("gtin"),
        }
    }

    /// The values present, by key, in the order of [`Context::KEYS`].
    pub fn values(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            &self.plant,
            &self.line,
            &self.product,
            &self.category,
            &self.shift,
            &self.gtin,
        ]
        .into_iter()
        .zip(Context::KEYS)
        .filter_map(|(v, k)| v.as_deref().map(|v| (k, v)))
    }

    fn get(&self, f: Field) -> Option<&str> {
        match f {
            Field::Plant => self.plant.as_deref(),
            Field::Line => self.line.as_deref(),
            Field::Product => self.product.as_deref(),
            Field::Category => self.category.as_deref(),
            Field::Shift => self.shift.as_deref(),
        }
    }
}

fn template_err(msg: impl Into<String>) -> CodingError {
    CodingError::Template(msg.into())
}

impl Template {
    /// Parses `{TOKEN}` placeholders and fixed text; `{{` and `}}` stand for literal braces.
    pub fn parse(s: &str) -> Result<Template, CodingError> {
        let mut tokens = Vec::new();
        let mut text = String::new();
        let mut rest = s;
        while let Some(c) = rest.chars().next() {
            if rest.starts_with("{{") || rest.starts_with("}}") {
                text.push(c);
                rest = &rest[2..];
                continue;
            }
            if c == '}' {
                return Err(template_err(
                    "'}' without '{' (write '}}' for a literal brace)",
                ));
            }
            if c != '{' {
                if !(c.is_ascii_alphanumeric() || "-_./".contains(c)) {
                    return Err(template_err(format!(
                        "fixed text may hold letters, digits and - _ . /, got '{c}'"
                    )));
                }
                text.push(c);
                rest = &rest[c.len_utf8()..];
                continue;
            }
            let end = rest
                .find('}')
                .ok_or_else(|| template_err(format!("unclosed '{{' in {rest}")))?;
            if !text.is_empty() {
                tokens.push(Token::Text(std::mem::take(&mut text)));
            }
            tokens.push(parse_token(&rest[1..end])?);
            rest = &rest[end + 1..];
        }
        if !text.is_empty() {
            tokens.push(Token::Text(text));
        }
        let seqs = tokens
            .iter()
            .filter(|t| matches!(t, Token::Seq { .. }))
            .count();
        let rands = tokens
            .iter()
            .filter(|t| matches!(t, Token::Rand(_)))
            .count();
        if seqs > 1 {
            return Err(template_err("at most one {SEQ}"));
        }
        if seqs == 0 && rands == 0 {
            return Err(template_err(
                "needs a {SEQ:width} or {RAND:n} so that codes differ",
            ));
        }
        if let Some(i) = tokens.iter().position(|t| matches!(t, Token::Check(_)))
            && i + 1 != tokens.len()
        {
            return Err(template_err("{CHECK} must be the last token"));
        }
        Ok(Template { tokens })
    }

    /// The sequence's reset period (never when the template has no sequence).
    pub fn reset(&self) -> Reset {
        self.tokens
            .iter()
            .find_map(|t| match t {
                Token::Seq { reset, .. } => Some(*reset),
                _ => None,
            })
            .unwrap_or(Reset::Never)
    }

    /// The sequence's capacity per period (radix^width), if the template has one.
    pub fn capacity(&self) -> Option<u64> {
        self.tokens.iter().find_map(|t| match t {
            Token::Seq { width, radix, .. } => {
                Some(u64::from(*radix).saturating_pow(*width as u32))
            }
            _ => None,
        })
    }

    /// The key under which sequence numbers are counted: the period and the context values in the code.
    pub fn scope(&self, ctx: &Context, date: NaiveDate) -> Result<String, CodingError> {
        let mut scope = match self.reset() {
            Reset::Never => String::new(),
            Reset::Daily => date.format("%Y-%m-%d").to_string(),
            Reset::Monthly => date.format("%Y-%m").to_string(),
            Reset::Yearly => date.format("%Y").to_string(),
        };
        for t in &self.tokens {
            if let Token::Field(f, w) = t {
                scope.push('|');
                scope.push_str(&field_value(ctx, *f, *w)?);
            }
        }
        Ok(scope)
    }

    /// Renders one code for sequence number `seq` (1-based); random parts take bytes from `random`.
    pub fn render(
        &self,
        ctx: &Context,
        date: NaiveDate,
        seq: u64,
        random: &mut impl Iterator<Item = u8>,
    ) -> Result<String, CodingError> {
        let mut out = String::with_capacity(32);
        for t in &self.tokens {
            match t {
                Token::Text(s) => out.push_str(s),
                Token::Field(f, w) => out.push_str(&field_value(ctx, *f, *w)?),
                Token::Year2 => out.push_str(&format!("{:02}", date.year().rem_euclid(100))),
                Token::Year4 => out.push_str(&format!("{:04}", date.year())),
                Token::Month => out.push_str(&format!("{:02}", date.month())),
                Token::Day => out.push_str(&format!("{:02}", date.day())),
                Token::Julian => out.push_str(&format!("{:03}", date.ordinal())),
                Token::Week => out.push_str(&format!("{:02}", date.iso_week().week())),
                Token::Seq { width, radix, .. } => {
                    let cap = u64::from(*radix).saturating_pow(*width as u32);
                    if seq >= cap {
                        return Err(CodingError::Exhausted(format!(
                            "number {seq} does not fit {width} digits in base {radix}"
                        )));
                    }
                    push_radix(&mut out, seq, *radix, *width);
                }
                Token::Rand(n) => {
                    for _ in 0..*n {
                        let b = random.next().ok_or_else(|| {
                            CodingError::Exhausted("random source ran dry".into())
                        })?;
                        out.push(char::from(RAND_ALPHABET[usize::from(b & 31)]));
                    }
                }
                Token::Check(kind) => {
                    let c = check_char(*kind, &out).ok_or_else(|| {
                        template_err(format!(
                            "{kind:?} cannot be computed over '{out}' (wrong characters)"
                        ))
                    })?;
                    out.push(c);
                }
            }
        }
        Ok(out)
    }

    /// Checks that `code` has the template's structure and a right check character.
    pub fn validate(&self, code: &str) -> Result<(), CodingError> {
        if !code.is_ascii() {
            return Err(CodingError::Mismatch(
                "code holds non-ASCII characters".into(),
            ));
        }
        if !matches_from(&self.tokens, code.as_bytes(), 0) {
            return Err(CodingError::Mismatch(format!(
                "{code} does not have the structure of the rule"
            )));
        }
        if let Some(Token::Check(kind)) = self.tokens.last() {
            let (body, last) = code.split_at(code.len() - 1);
            let want = check_char(*kind, body)
                .ok_or_else(|| CodingError::Mismatch(format!("{code}: cannot compute check")))?;
            if !last.starts_with(want) {
                return Err(CodingError::Mismatch(format!(
                    "{code}: check character should be {want}, got {last}"
                )));
            }
        }
        Ok(())
    }
}

fn parse_token(inner: &str) -> Result<Token, CodingError> {
    let mut parts = inner.split(':');
    let name = parts.next().unwrap_or("");
    let args: Vec<&str> = parts.collect();
    let num = |s: &str, what: &str| -> Result<usize, CodingError> {
        s.parse::<usize>()
            .ok()
            .filter(|n| (1..=40).contains(n))
            .ok_or_else(|| template_err(format!("{{{inner}}}: {what} must be 1 to 40, got '{s}'")))
    };
    let field = |f: Field| -> Result<Token, CodingError> {
        match args.as_slice() {
            [] => Ok(Token::Field(f, None)),
            [w] => Ok(Token::Field(f, Some(num(w, "width")?))),
            _ => Err(template_err(format!(
                "{{{inner}}}: expected {{{name}}} or {{{name}:width}}"
            ))),
        }
    };
    Ok(match name {
        "PLANT" => field(Field::Plant)?,
        "LINE" => field(Field::Line)?,
        "PRODUCT" => field(Field::Product)?,
        "CATEGORY" => field(Field::Category)?,
        "SHIFT" => field(Field::Shift)?,
        "YY" => Token::Year2,
        "YYYY" => Token::Year4,
        "MM" => Token::Month,
        "DD" => Token::Day,
        "JJJ" => Token::Julian,
        "WW" => Token::Week,
        "SEQ" => {
            let width = num(args.first().copied().unwrap_or(""), "width")?;
            let radix = match args.get(1).copied().unwrap_or("10") {
                "10" => 10,
                "16" => 16,
                "36" => 36,
                r => {
                    return Err(template_err(format!(
                        "{{{inner}}}: radix must be 10, 16 or 36, got {r}"
                    )));
                }
            };
            let reset = match args.get(2).copied().unwrap_or("never") {
                "never" => Reset::Never,
                "daily" => Reset::Daily,
                "monthly" => Reset::Monthly,
                "yearly" => Reset::Yearly,
                r => {
                    return Err(template_err(format!(
                        "{{{inner}}}: reset must be never, daily, monthly or yearly, got {r}"
                    )));
                }
            };
            Token::Seq {
                width,
                radix,
                reset,
            }
        }
        "RAND" => Token::Rand(num(args.first().copied().unwrap_or(""), "length")?),
        "CHECK" => Token::Check(match args.first().copied().unwrap_or("") {
            "mod10" => CheckKind::Mod10,
            "mod11-2" => CheckKind::Mod11_2,
            "mod37-36" => CheckKind::Mod37_36,
            k => {
                return Err(template_err(format!(
                    "{{{inner}}}: check must be mod10, mod11-2 or mod37-36, got '{k}'"
                )));
            }
        }),
        other => {
            return Err(template_err(format!(
                "unknown token {{{other}}}; known: PLANT LINE PRODUCT CATEGORY SHIFT YY YYYY MM DD JJJ WW SEQ RAND CHECK"
            )));
        }
    })
}

fn field_value(ctx: &Context, f: Field, width: Option<usize>) -> Result<String, CodingError> {
    let err = |msg: String| CodingError::Context {
        field: f.key().to_string(),
        msg,
    };
    let v = ctx
        .get(f)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| err("required by the rule's template".into()))?;
    if !v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(err(format!("may hold letters, digits and '-', got '{v}'")));
    }
    if v.len() > 20 {
        return Err(err(format!("at most 20 characters, got {}", v.len())));
    }
    match width {
        Some(w) if v.len() != w => Err(err(format!("must be {w} characters, got '{v}'"))),
        _ => Ok(v.to_string()),
    }
}

fn push_radix(out: &mut String, mut n: u64, radix: u32, width: usize) {
    let mut buf = [b'0'; 64];
    let mut i = buf.len();
    while n > 0 {
        i -= 1;
        buf[i] = RADIX36[(n % u64::from(radix)) as usize];
        n /= u64::from(radix);
    }
    let start = (buf.len() - width).min(i);
    out.extend(buf[start..].iter().map(|&b| char::from(b)));
}

/// The check character of `body`, or `None` when `body` holds characters the algorithm does not take.
/// The separators of fixed text (`- _ . /`) are not counted.
pub fn check_char(kind: CheckKind, body: &str) -> Option<char> {
    let kept: Vec<u8> = body
        .bytes()
        .filter(|b| !matches!(b, b'-' | b'_' | b'.' | b'/'))
        .collect();
    match kind {
        CheckKind::Mod10 => crate::id::lint::mod10(&kept).map(|d| char::from(b'0' + d)),
        CheckKind::Mod11_2 => {
            let mut p = 0u32;
            for &b in &kept {
                if !b.is_ascii_digit() {
                    return None;
                }
                p = ((p + u32::from(b - b'0')) * 2) % 11;
            }
            let c = (12 - p % 11) % 11;
            Some(if c == 10 {
                'X'
            } else {
                char::from(b'0' + c as u8)
            })
        }
        CheckKind::Mod37_36 => {
            let m = 36u32;
            let mut p = m;
            for &b in &kept {
                let v = RADIX36.iter().position(|&x| x == b)? as u32;
                let mut s = (p + v) % m;
                if s == 0 {
                    s = m;
                }
                p = (s * 2) % (m + 1);
            }
            let c = (m + 1 - p) % m;
            Some(char::from(RADIX36[c as usize]))
        }
    }
}

/// Backtracking match of `tokens` against `code[pos..]` (templates are short, so this is cheap).
fn matches_from(tokens: &[Token], code: &[u8], pos: usize) -> bool {
    let Some((t, rest)) = tokens.split_first() else {
        return pos == code.len();
    };
    let s = &code[pos..];
    let digits = |n: usize| s.len() >= n && s[..n].iter().all(u8::is_ascii_digit);
    let num = |n: usize| -> u32 { s[..n].iter().fold(0, |a, d| a * 10 + u32::from(d - b'0')) };
    let fixed = |n: usize, ok: bool| ok && matches_from(rest, code, pos + n);
    match t {
        Token::Text(x) => s.starts_with(x.as_bytes()) && matches_from(rest, code, pos + x.len()),
        Token::Field(_, w) => {
            let ok = |b: &u8| b.is_ascii_alphanumeric() || *b == b'-';
            match w {
                Some(w) => fixed(*w, s.len() >= *w && s[..*w].iter().all(ok)),
                None => (1..=20.min(s.len()))
                    .take_while(|&n| ok(&s[n - 1]))
                    .any(|n| matches_from(rest, code, pos + n)),
            }
        }
        Token::Year2 => fixed(2, digits(2)),
        Token::Year4 => fixed(4, digits(4)),
        Token::Month => fixed(2, digits(2) && (1..=12).contains(&num(2))),
        Token::Day => fixed(2, digits(2) && (1..=31).contains(&num(2))),
        Token::Julian => fixed(3, digits(3) && (1..=366).contains(&num(3))),
        Token::Week => fixed(2, digits(2) && (1..=53).contains(&num(2))),
        Token::Seq { width, radix, .. } => fixed(
            *width,
            s.len() >= *width
                && s[..*width]
                    .iter()
                    .all(|b| RADIX36[..*radix as usize].contains(b)),
        ),
        Token::Rand(n) => fixed(
            *n,
            s.len() >= *n && s[..*n].iter().all(|b| RAND_ALPHABET.contains(b)),
        ),
        Token::Check(kind) => {
            let ok = s.len() == 1
                && match kind {
                    CheckKind::Mod10 => s[0].is_ascii_digit(),
                    CheckKind::Mod11_2 => s[0].is_ascii_digit() || s[0] == b'X',
                    CheckKind::Mod37_36 => RADIX36.contains(&s[0]),
                };
            fixed(1, ok)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 25).expect("date")
    }

    fn ctx() -> Context {
        Context {
            plant: Some("SH".into()),
            line: Some("L2".into()),
            ..Context::default()
        }
    }

    #[test]
    fn renders_every_token() {
        let t = Template::parse(
            "{PLANT}{LINE:2}-{YYYY}{MM}{DD}/{JJJ}W{WW}-{SEQ:4:36:monthly}{RAND:3}{CHECK:mod37-36}",
        )
        .expect("template");
        let mut rnd = [0u8, 1, 31].into_iter();
        let code = t.render(&ctx(), date(), 46655, &mut rnd).expect("render");
        assert_eq!(&code[..code.len() - 1], "SHL2-20261125/329W48-0ZZZ01Z");
        t.validate(&code).expect("valid");
        assert_eq!(t.scope(&ctx(), date()).expect("scope"), "2026-11|SH|L2");
        assert!(matches!(
            t.render(&ctx(), date(), 36u64.pow(4), &mut [0u8; 3].into_iter()),
            Err(CodingError::Exhausted(_))
        ));
    }

    #[test]
    fn check_characters() {
        // ORCID 0000-0002-1825-0097 uses ISO 7064 MOD 11-2.
        assert_eq!(check_char(CheckKind::Mod11_2, "000000021825009"), Some('7'));
        assert_eq!(check_char(CheckKind::Mod11_2, "000000021694233"), Some('X'));
        assert_eq!(check_char(CheckKind::Mod10, "690123456789"), Some('2'));
        // MOD 37,36 catches every single substitution.
        let body = "A12B9Z";
        let c = check_char(CheckKind::Mod37_36, body).expect("c");
        for i in 0..body.len() {
            for &x in RADIX36 {
                let mut b = body.as_bytes().to_vec();
                if b[i] == x {
                    continue;
                }
                b[i] = x;
                let changed = String::from_utf8(b).expect("ascii");
                assert_ne!(
                    check_char(CheckKind::Mod37_36, &changed),
                    Some(c),
                    "{changed}"
                );
            }
        }
    }

    #[test]
    fn validation_names_the_problem() {
        let t = Template::parse("{PLANT}{YY}{MM}{SEQ:5}{CHECK:mod10}").expect("template");
        let c = Context {
            plant: Some("88".into()),
            ..Context::default()
        };
        let code = t
            .render(&c, date(), 42, &mut std::iter::empty())
            .expect("render");
        assert_eq!(code, "882611000422");
        t.validate(&code).expect("valid");
        let e = t.validate("882611000427").expect_err("check");
        assert_eq!(
            e.to_string(),
            "882611000427: check character should be 2, got 7"
        );
        assert!(t.validate("8826130004").is_err());
        assert!(t.validate("88261100042").is_err());
    }

    #[test]
    fn bad_templates_and_contexts_are_explained() {
        for (t, want) in [
            ("{SEQ:0}", "width must be 1 to 40"),
            ("{SEQ:4:7}", "radix must be 10, 16 or 36"),
            ("{LOT}{SEQ:3}", "unknown token {LOT}"),
            ("AB{YY}", "needs a {SEQ:width} or {RAND:n}"),
            ("{CHECK:mod10}{SEQ:3}", "must be the last token"),
            ("{SEQ:3", "unclosed"),
            ("A B{SEQ:3}", "fixed text"),
        ] {
            let e = Template::parse(t).expect_err(t).to_string();
            assert!(e.contains(want), "{t}: {e}");
        }
        let t = Template::parse("{LINE:2}{SEQ:3}").expect("template");
        let e = t
            .render(&Context::default(), date(), 1, &mut std::iter::empty())
            .expect_err("missing line");
        assert_eq!(
            e.to_string(),
            "context.line: required by the rule's template"
        );
    }
}
