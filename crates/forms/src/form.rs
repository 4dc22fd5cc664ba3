//! A form's definition: its fields in order, each with its kind and properties, and the event template a
//! submission becomes. Definitions are data — versioned, exported as YAML, edited by dragging in the
//! designer — so [`Form::problems`] names every wrong field with what was expected, in both languages.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A text in Simplified Chinese and English (English falls back to Chinese when empty).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Text {
    /// Simplified Chinese.
    pub zh: String,
    /// English.
    #[serde(default)]
    pub en: String,
}

impl Text {
    /// The text in `lang` (`en` or anything else for Chinese).
    pub fn get(&self, lang: &str) -> &str {
        if lang.starts_with("en") && !self.en.trim().is_empty() {
            &self.en
        } else {
            &self.zh
        }
    }
}

/// A choice of a select field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// What is stored.
    pub value: String,
    /// What is shown.
    pub label: Text,
}

/// What a scan field's code stands for in the event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Only recorded with the form's values.
    #[default]
    None,
    /// The event's object (`epcList` or `quantityList`).
    Object,
    /// An input of a transformation.
    Input,
    /// An output of a transformation.
    Output,
    /// The parent of an aggregation (the case or pallet).
    Parent,
    /// A child of an aggregation.
    Child,
}

/// A field's kind and the properties that go with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Kind {
    /// Free text.
    Text {
        /// Most characters.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_len: Option<u32>,
        /// Several lines.
        #[serde(default, skip_serializing_if = "is_false")]
        multiline: bool,
    },
    /// A number.
    Number {
        /// Its unit (UN/CEFACT code or plain, `CEL`, `kg`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unit: Option<String>,
        /// Least value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<f64>,
        /// Greatest value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<f64>,
        /// Most decimals.
        #[serde(default)]
        decimals: u8,
    },
    /// One of a list.
    Select {
        /// The choices.
        options: Vec<Choice>,
    },
    /// Any of a list.
    MultiSelect {
        /// The choices.
        options: Vec<Choice>,
    },
    /// A date, or a date and time.
    Datetime {
        /// Only the date.
        #[serde(default, skip_serializing_if = "is_false")]
        date_only: bool,
    },
    /// A scanned (or typed) code: GS1 element string, Digital Link, EPC URN, or the plant's own code.
    Scan {
        /// What the code stands for in the event.
        #[serde(default)]
        role: Role,
        /// An AI the code must carry (`10` for a lot).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        require_ai: Option<String>,
        /// What it must be: `instance` (a serial), `class` (a lot or product), `container` (an SSCC).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        object_kind: Option<String>,
        /// The coding rule that must have issued it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        coding_rule: Option<String>,
        /// It must already be on the ledger.
        #[serde(default, skip_serializing_if = "is_false")]
        must_exist: bool,
        /// Fields filled from the object looked up: field key → `product`, `name`, `lot`, `serial`,
        /// `location`, `disposition`, `container`.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        prefill: BTreeMap<String, String>,
        /// The field (a number in the same row or form) giving the quantity of a lot.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        quantity_field: Option<String>,
    },
    /// A photo, stored by its SHA-256.
    Photo,
    /// A signature drawn on the screen, stored as a picture by its SHA-256.
    Signature,
    /// Repeating rows of the given columns.
    Table {
        /// The columns (no tables inside tables).
        columns: Vec<Field>,
        /// Fewest rows.
        #[serde(default)]
        min_rows: u32,
    },
    /// A number computed from other fields (`form.gross - form.tare`).
    Calculated {
        /// The expression over `form`.
        expr: String,
        /// Its unit.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unit: Option<String>,
        /// Decimals it is rounded to.
        #[serde(default)]
        decimals: u8,
    },
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn yes() -> bool {
    true
}

impl Kind {
    /// Its name as definitions write it.
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Text { .. } => "text",
            Kind::Number { .. } => "number",
            Kind::Select { .. } => "select",
            Kind::MultiSelect { .. } => "multi_select",
            Kind::Datetime { .. } => "datetime",
            Kind::Scan { .. } => "scan",
            Kind::Photo => "photo",
            Kind::Signature => "signature",
            Kind::Table { .. } => "table",
            Kind::Calculated { .. } => "calculated",
        }
    }
}

/// One field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    /// Its key in the submission (`a-z`, digits, `_`).
    pub key: String,
    /// What the person sees.
    pub label: Text,
    /// Its kind.
    #[serde(flatten)]
    pub kind: Kind,
    /// It must be given (when shown).
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    /// Shown only when this expression over `form` holds (`form.result == 'fail'`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub visible_if: String,
    /// A hint under the field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<Text>,
}

/// Where the event's place comes from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EventTemplate {
    /// `ObjectEvent`, `AggregationEvent` or `TransformationEvent`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// `ADD`, `OBSERVE` or `DELETE` (object and aggregation events).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The CBV business step (`receiving`, `inspecting`, …).
    pub biz_step: String,
    /// The CBV disposition, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disposition: Option<String>,
    /// The read point and business location (an SGLN URI or the plant's location URN).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Fields whose values go to the lot's master data (ILMD).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ilmd: Vec<String>,
    /// Number fields recorded as sensor reports.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sensors: Vec<SensorField>,
}

/// A number field recorded as a sensor report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SensorField {
    /// The field.
    pub field: String,
    /// The measurement type (`Temperature`, `RelativeHumidity`, … as in the CBV's `gs1:` list).
    #[serde(rename = "type")]
    pub measurement: String,
    /// Its UN/CEFACT unit (`CEL`).
    pub uom: String,
}

/// A form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Form {
    /// Its code (`a-z`, digits, `-`, `_`).
    pub code: String,
    /// Its title.
    pub name: Text,
    /// What it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    /// Whether it takes submissions.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The fields in order.
    pub fields: Vec<Field>,
    /// The event a submission becomes.
    pub event: EventTemplate,
}

/// A located problem, said in both languages.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// Where (`fields/2/key`, `weight`, `rows/1/lot`).
    pub field: String,
    /// What was expected, in English.
    pub en: String,
    /// What was expected, in Chinese.
    pub zh: String,
}

impl Problem {
    /// A problem at `field`: what was expected, in English and in Chinese.
    pub fn new(field: &str, en: impl Into<String>, zh: impl Into<String>) -> Problem {
        Problem {
            field: field.to_string(),
            en: en.into(),
            zh: zh.into(),
        }
    }
}

/// A problem at `field`.
pub(crate) fn problem(field: &str, en: impl Into<String>, zh: impl Into<String>) -> Problem {
    Problem::new(field, en, zh)
}

/// The problem with a definition's code (forms, workflows, reports, dashboards: letters, digits, `-`
/// or `_`, at most 60), if any.
pub fn code_problem(code: &str) -> Option<Problem> {
    let ok = !code.is_empty()
        && code.len() <= 60
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    (!ok).then(|| {
        problem(
            "code",
            "letters, digits, '-' or '_' (at most 60)",
            "字母、数字、“-”或“_”（最多 60 个）",
        )
    })
}

impl Form {
    /// Every field at every level (a table's columns after the table), with its path.
    pub fn all_fields(&self) -> Vec<(String, &Field)> {
        let mut out = Vec::new();
        for f in &self.fields {
            out.push((f.key.clone(), f));
            if let Kind::Table { columns, .. } = &f.kind {
                for c in columns {
                    out.push((format!("{}/{}", f.key, c.key), c));
                }
            }
        }
        out
    }

    /// The top-level field `key`.
    pub fn field(&self, key: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.key == key)
    }
}
