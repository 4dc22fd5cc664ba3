//! Coding-rule templates: parsing `{PLANT:2}{SEQ:4:10:daily}{CHECK:mod37-36}` into tokens, expanding them into codes and recognising a code a template made.

#[allow(unused_imports)]
use super::*;

/// The 32 characters of random parts (Crockford's base 32: no I, L, O, U).
pub const RAND_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

pub(super) const RADIX36: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

pub(super) fn template_err(msg: impl Into<String>) -> CodingError {
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

pub(super) fn parse_token(inner: &str) -> Result<Token, CodingError> {
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

pub(super) fn field_value(
    ctx: &Context,
    f: Field,
    width: Option<usize>,
) -> Result<String, CodingError> {
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

pub(super) fn push_radix(out: &mut String, mut n: u64, radix: u32, width: usize) {
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
pub(super) fn matches_from(tokens: &[Token], code: &[u8], pos: usize) -> bool {
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
