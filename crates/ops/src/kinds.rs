//! The kinds of operations master data — products, BOM lines, routing steps, locations, equipment,
//! suppliers, customers and operators — as field lists, so that the API, the screens and the CSV/XLSX import
//! read, check and show every kind the same way. A record is a JSON object of its fields, normalised.

use serde_json::{Map, Value};

/// What a field holds, and so how it is read from a form or a spreadsheet cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// Free text.
    Text,
    /// A code: letters, digits, `-`, `_`, `.` (1–64).
    Code,
    /// A GTIN-14 with a valid check digit (8, 12 or 13 digits are padded), or an internal code.
    ProductCode,
    /// A GLN (13 digits, valid check digit), an SGLN URN, or an internal code.
    Place,
    /// A whole number ≥ 0.
    Count,
    /// A number.
    Number,
    /// Yes or no (`true`/`false`, `yes`/`no`, `1`/`0`, `是`/`否`).
    Flag,
    /// One of a list of values.
    Choice(&'static [&'static str]),
    /// The code of a record of another kind.
    Ref(&'static str),
    /// A list of texts, separated by `;` in a spreadsheet cell.
    List,
}

/// One field of a kind.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// Its key in the record.
    pub key: &'static str,
    /// Its label in Chinese.
    pub zh: &'static str,
    /// Its label in English.
    pub en: &'static str,
    /// What it holds.
    pub ty: FieldType,
    /// Whether a record must have it.
    pub required: bool,
}

/// One kind of master data.
#[derive(Debug, Clone, Copy)]
pub struct Kind {
    /// Its name (`product`, `bom`, …).
    pub name: &'static str,
    /// Its name in Chinese.
    pub zh: &'static str,
    /// Its name in English.
    pub en: &'static str,
    /// The fields whose values, joined by `/`, name a record.
    pub key: &'static [&'static str],
    /// Its fields, in display order.
    pub fields: &'static [Field],
}

const fn f(
    key: &'static str,
    zh: &'static str,
    en: &'static str,
    ty: FieldType,
    required: bool,
) -> Field {
    Field {
        key,
        zh,
        en,
        ty,
        required,
    }
}

use FieldType::*;

/// Location levels, from the site down to a bin.
pub const LOCATION_LEVELS: &[&str] = &[
    "site",
    "workshop",
    "line",
    "station",
    "warehouse",
    "zone",
    "bin",
];

/// Customer levels.
pub const CUSTOMER_LEVELS: &[&str] = &["distributor", "sub_distributor", "store"];

/// Every kind of master data.
pub const KINDS: &[Kind] = &[
    Kind {
        name: "product",
        zh: "产品与物料",
        en: "Products and materials",
        key: &["code"],
        fields: &[
            f("code", "编码 (GTIN)", "Code (GTIN)", ProductCode, true),
            f("name_zh", "名称 (中文)", "Name (Chinese)", Text, true),
            f("name_en", "名称 (英文)", "Name (English)", Text, false),
            f("unit", "单位", "Unit", Code, true),
            f(
                "shelf_life_days",
                "保质期 (天)",
                "Shelf life (days)",
                Count,
                false,
            ),
            f(
                "category",
                "类别",
                "Category",
                Choice(&["finished", "semi_finished", "raw", "packaging"]),
                true,
            ),
            f("image", "图片地址", "Image URL", Text, false),
        ],
    },
    Kind {
        name: "bom",
        zh: "物料清单",
        en: "Bills of materials",
        key: &["product", "input"],
        fields: &[
            f("product", "产品", "Product", Ref("product"), true),
            f("input", "投入物料", "Input material", Ref("product"), true),
            f("quantity", "单位用量", "Quantity per unit", Number, true),
            f("unit", "单位", "Unit", Code, true),
            f("tolerance_pct", "允差 (%)", "Tolerance (%)", Number, false),
        ],
    },
    Kind {
        name: "routing",
        zh: "工艺路线",
        en: "Routings",
        key: &["product", "step", "parameter"],
        fields: &[
            f("product", "产品", "Product", Ref("product"), true),
            f("step", "工序号", "Step", Count, true),
            f("operation", "工序", "Operation", Code, true),
            f("station", "工位", "Station", Ref("location"), true),
            f("parameter", "工艺参数", "Parameter", Text, false),
            f("min", "下限", "Lower limit", Number, false),
            f("max", "上限", "Upper limit", Number, false),
            f("unit", "单位", "Unit", Text, false),
        ],
    },
    Kind {
        name: "location",
        zh: "地点",
        en: "Locations",
        key: &["code"],
        fields: &[
            f("code", "编码", "Code", Code, true),
            f("name_zh", "名称 (中文)", "Name (Chinese)", Text, true),
            f("name_en", "名称 (英文)", "Name (English)", Text, false),
            f("level", "层级", "Level", Choice(LOCATION_LEVELS), true),
            f("parent", "上级", "Parent", Ref("location"), false),
            f("gln", "GLN / SGLN", "GLN / SGLN", Place, false),
            f("form", "工位表单", "Station form", Text, false),
        ],
    },
    Kind {
        name: "equipment",
        zh: "设备",
        en: "Equipment",
        key: &["code"],
        fields: &[
            f("code", "编码", "Code", Code, true),
            f("name_zh", "名称 (中文)", "Name (Chinese)", Text, true),
            f("name_en", "名称 (英文)", "Name (English)", Text, false),
            f("station", "工位", "Station", Ref("location"), true),
        ],
    },
    Kind {
        name: "supplier",
        zh: "供应商",
        en: "Suppliers",
        key: &["code"],
        fields: &[
            f("code", "编码", "Code", Code, true),
            f("name_zh", "名称 (中文)", "Name (Chinese)", Text, true),
            f("name_en", "名称 (英文)", "Name (English)", Text, false),
            f("gln", "GLN", "GLN", Place, false),
            f("materials", "批准物料", "Approved materials", List, false),
            f("blocked", "已停用", "Blocked", Flag, false),
        ],
    },
    Kind {
        name: "customer",
        zh: "客户与经销商",
        en: "Customers and distributors",
        key: &["code"],
        fields: &[
            f("code", "编码", "Code", Code, true),
            f("name_zh", "名称 (中文)", "Name (Chinese)", Text, true),
            f("name_en", "名称 (英文)", "Name (English)", Text, false),
            f("level", "层级", "Level", Choice(CUSTOMER_LEVELS), true),
            f("parent", "上级", "Parent", Ref("customer"), false),
            f("regions", "销售区域", "Sales regions", List, false),
            f("gln", "GLN / SGLN", "GLN / SGLN", Place, false),
        ],
    },
    Kind {
        name: "operator",
        zh: "操作员",
        en: "Operators",
        key: &["badge"],
        fields: &[
            f("badge", "工牌号", "Badge", Code, true),
            f("name", "姓名", "Name", Text, true),
            f("lines", "可作业产线", "Lines", List, false),
        ],
    },
];

/// The kind named `name`.
pub fn kind(name: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.name == name)
}

/// What is wrong with one field of a record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldProblem {
    /// The field's key.
    pub field: String,
    /// What was expected there.
    pub expected: String,
}

impl Kind {
    /// The field with key `key`.
    pub fn field(&self, key: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.key == key)
    }

    /// The name of a normalised record: its key fields joined by `/`.
    pub fn id_of(&self, record: &Map<String, Value>) -> String {
        self.key
            .iter()
            .map(|k| match record.get(*k) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => String::new(),
                Some(v) => v.to_string(),
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    /// Reads and checks a record (values as JSON or as spreadsheet text); unknown keys are refused.
    /// References are checked by `known(kind, code)`.
    pub fn normalise(
        &self,
        raw: &Map<String, Value>,
        known: &dyn Fn(&str, &str) -> bool,
    ) -> Result<Map<String, Value>, Vec<FieldProblem>> {
        let mut out = Map::new();
        let mut problems = Vec::new();
        for key in raw.keys() {
            if self.field(key).is_none() {
                problems.push(FieldProblem {
                    field: key.clone(),
                    expected: format!(
                        "no such field; {} has {}",
                        self.name,
                        self.fields
                            .iter()
                            .map(|f| f.key)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            }
        }
        for field in self.fields {
            let value = raw.get(field.key).filter(|v| !is_blank(v));
            match value {
                None if field.required => problems.push(FieldProblem {
                    field: field.key.into(),
                    expected: format!("a value ({})", describe(field.ty)),
                }),
                None => {}
                Some(v) => match read(field.ty, v, known) {
                    Ok(v) => {
                        out.insert(field.key.into(), v);
                    }
                    Err(expected) => problems.push(FieldProblem {
                        field: field.key.into(),
                        expected,
                    }),
                },
            }
        }
        if let (Some(Value::Number(lo)), Some(Value::Number(hi))) = (out.get("min"), out.get("max"))
            && lo.as_f64() > hi.as_f64()
        {
            problems.push(FieldProblem {
                field: "max".into(),
                expected: "an upper limit not below the lower limit".into(),
            });
        }
        if problems.is_empty() {
            Ok(out)
        } else {
            Err(problems)
        }
    }
}

fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// What a field type expects, in words (for error messages).
pub fn describe(ty: FieldType) -> String {
    match ty {
        Text => "text".into(),
        Code => "a code of letters, digits, '-', '_' or '.' (at most 64)".into(),
        ProductCode => "a GTIN with a valid check digit, or an internal code".into(),
        Place => "a GLN with a valid check digit, an SGLN URN, or an internal code".into(),
        Count => "a whole number, 0 or more".into(),
        Number => "a number".into(),
        Flag => "yes or no (true/false, 1/0, 是/否)".into(),
        Choice(list) => format!("one of {}", list.join(", ")),
        Ref(kind) => format!("the code of an existing {kind}"),
        List => "texts separated by ';'".into(),
    }
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.trim().to_string(),
        other => other.to_string(),
    }
}

fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// A GTIN padded to 14 digits, when `s` is 8, 12, 13 or 14 digits with a valid check digit.
pub fn gtin14(s: &str) -> Option<String> {
    if !matches!(s.len(), 8 | 12 | 13 | 14) || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let padded = format!("{s:0>14}");
    let check = suyuan_core::gs1::check_digit(&padded[..13])?;
    (padded.as_bytes()[13] == b'0' + check).then_some(padded)
}

fn read(ty: FieldType, v: &Value, known: &dyn Fn(&str, &str) -> bool) -> Result<Value, String> {
    let text = text_of(v);
    let bad = || Err(describe(ty));
    match ty {
        Text => Ok(Value::String(text)),
        Code => {
            if is_code(&text) {
                Ok(Value::String(text))
            } else {
                bad()
            }
        }
        ProductCode => {
            if text.bytes().all(|b| b.is_ascii_digit()) {
                return gtin14(&text).map(Value::String).ok_or_else(describe_ty(ty));
            }
            if is_code(&text) {
                Ok(Value::String(text))
            } else {
                bad()
            }
        }
        Place => {
            if text.bytes().all(|b| b.is_ascii_digit()) {
                let ok = text.len() == 13
                    && suyuan_core::gs1::check_digit(&text[..12])
                        .is_some_and(|c| text.as_bytes()[12] == b'0' + c);
                return if ok { Ok(Value::String(text)) } else { bad() };
            }
            if text.starts_with("urn:epc:id:sgln:")
                || text.starts_with("urn:suyuan:")
                || is_code(&text)
            {
                Ok(Value::String(text))
            } else {
                bad()
            }
        }
        Count => match v {
            Value::Number(n) if n.as_u64().is_some() => Ok(v.clone()),
            _ => text.parse::<u64>().map(Value::from).or_else(|_| bad()),
        },
        Number => match v {
            Value::Number(_) => Ok(v.clone()),
            _ => match text.parse::<f64>() {
                Ok(x) if x.is_finite() => Ok(Value::from(x)),
                _ => bad(),
            },
        },
        Flag => match v {
            Value::Bool(_) => Ok(v.clone()),
            _ => match text.to_lowercase().as_str() {
                "true" | "yes" | "y" | "1" | "是" => Ok(Value::Bool(true)),
                "false" | "no" | "n" | "0" | "否" => Ok(Value::Bool(false)),
                _ => bad(),
            },
        },
        Choice(list) => {
            if list.contains(&text.as_str()) {
                Ok(Value::String(text))
            } else {
                bad()
            }
        }
        Ref(kind) => {
            let code = if kind == "product" {
                gtin14(&text).unwrap_or(text)
            } else {
                text
            };
            if known(kind, &code) {
                Ok(Value::String(code))
            } else {
                bad()
            }
        }
        List => {
            let items: Vec<Value> = match v {
                Value::Array(a) => a
                    .iter()
                    .map(text_of)
                    .filter(|s| !s.is_empty())
                    .map(Value::String)
                    .collect(),
                _ => text
                    .split([';', '；'])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| Value::String(s.into()))
                    .collect(),
            };
            Ok(Value::Array(items))
        }
    }
}

fn describe_ty(ty: FieldType) -> impl Fn() -> String {
    move || describe(ty)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn a_product_is_read_from_spreadsheet_text() {
        let k = kind("product").expect("product");
        let rec = k
            .normalise(
                &obj(
                    json!({"code": "6901234123456", "name_zh": "奶粉", "unit": "H87",
                    "shelf_life_days": "540", "category": "finished"}),
                ),
                &|_, _| true,
            )
            .expect("valid");
        assert_eq!(rec["code"], "06901234123456");
        assert_eq!(rec["shelf_life_days"], 540);
        assert_eq!(k.id_of(&rec), "06901234123456");
    }

    #[test]
    fn every_problem_is_named_with_what_was_expected() {
        let k = kind("bom").expect("bom");
        let problems = k
            .normalise(
                &obj(json!({"product": "06901234123457", "input": "RAW-1", "quantity": "lots", "colour": "red"})),
                &|kind, code| kind == "product" && code == "RAW-1",
            )
            .expect_err("invalid");
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["colour", "product", "quantity", "unit"]);
        assert!(problems[1].expected.contains("existing product"));
        assert!(problems[2].expected.contains("a number"));
    }

    #[test]
    fn limits_must_be_in_order() {
        let k = kind("routing").expect("routing");
        let problems = k
            .normalise(
                &obj(
                    json!({"product": "P", "step": 1, "operation": "mixing", "station": "S",
                    "parameter": "temperature", "min": 60, "max": 50}),
                ),
                &|_, _| true,
            )
            .expect_err("invalid");
        assert_eq!(problems[0].field, "max");
    }
}
