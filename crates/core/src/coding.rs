//! Coding rules: templates of tokens that issue codes for plants with or without GS1 membership
//! (`{PLANT}{LINE}{YY}{JJJ}{SEQ:6:10:daily}{CHECK:mod10}`), and the check that a scanned code fits its rule.
//! Pure: the caller supplies the date, the reserved sequence numbers and the random bytes.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

mod template;
#[cfg(test)]
mod tests;

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
