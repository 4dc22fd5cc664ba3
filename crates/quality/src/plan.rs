//! Inspection plans and the judgement of a lot. A plan says, for a stage (IQC at receipt, IPQC at an
//! operation, FQC at the end of the line) and a subject (a product, a material, an operation), which
//! characteristics to check — quantitative with nominal and limits, or attributes with a defect class —
//! how (method, instrument), how often, and how to sample (GB/T 2828.1 level and an AQL per defect
//! class). A lot is accepted when every class's nonconforming count is within its acceptance number and,
//! for a 100 % check, no measurement is outside its limits.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::sampling::{self, Level, Plan, SamplingError, Severity};

/// Where in the flow an inspection happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Incoming quality control, at receipt of a supplier's lot.
    Iqc,
    /// In-process quality control, at an operation.
    Ipqc,
    /// Final quality control, at the end of the line.
    Fqc,
}

impl Stage {
    /// The stage named `s` (`iqc`, `ipqc`, `fqc`).
    pub fn parse(s: &str) -> Option<Stage> {
        match s.trim().to_ascii_lowercase().as_str() {
            "iqc" => Some(Stage::Iqc),
            "ipqc" => Some(Stage::Ipqc),
            "fqc" => Some(Stage::Fqc),
            _ => None,
        }
    }

    /// Its name, as the API and the events use it.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Iqc => "iqc",
            Stage::Ipqc => "ipqc",
            Stage::Fqc => "fqc",
        }
    }
}

/// Classes of defects, most serious first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum DefectClass {
    /// Critical.
    Critical,
    /// Major.
    #[default]
    Major,
    /// Minor.
    Minor,
}

impl DefectClass {
    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            DefectClass::Critical => "critical",
            DefectClass::Major => "major",
            DefectClass::Minor => "minor",
        }
    }
}

/// A characteristic to check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Characteristic {
    /// Its name (e.g. "蛋白质 / protein").
    pub name: String,
    /// The class a nonconformity of it belongs to.
    #[serde(default)]
    pub class: DefectClass,
    /// Nominal value, for a quantitative characteristic.
    #[serde(default)]
    pub nominal: Option<f64>,
    /// Lower specification limit.
    #[serde(default)]
    pub lsl: Option<f64>,
    /// Upper specification limit.
    #[serde(default)]
    pub usl: Option<f64>,
    /// Unit of measure.
    #[serde(default)]
    pub unit: Option<String>,
    /// Test method (standard or procedure).
    #[serde(default)]
    pub method: Option<String>,
    /// Instrument used.
    #[serde(default)]
    pub instrument: Option<String>,
}

impl Characteristic {
    /// Whether it is measured (has a limit) rather than judged pass/fail.
    pub fn is_quantitative(&self) -> bool {
        self.lsl.is_some() || self.usl.is_some()
    }

    /// Whether a measurement is within the limits.
    pub fn conforms(&self, v: f64) -> bool {
        v.is_finite() && self.lsl.is_none_or(|l| v >= l) && self.usl.is_none_or(|u| v <= u)
    }
}

/// An inspection plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InspectionPlan {
    /// Its code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Where it applies.
    pub stage: Stage,
    /// The product or material code it applies to.
    pub subject: String,
    /// The operation (IPQC), if any.
    #[serde(default)]
    pub operation: Option<String>,
    /// GB/T 2828.1 inspection level.
    #[serde(default = "default_level")]
    pub level: String,
    /// AQL per defect class.
    #[serde(default)]
    pub aql: BTreeMap<DefectClass, f64>,
    /// Whether reduced inspection is allowed when the switching score reaches it.
    #[serde(default)]
    pub reduced_allowed: bool,
    /// How often: `each_lot`, `every_n_units:N`, `every_minutes:T`.
    #[serde(default = "default_frequency")]
    pub frequency: String,
    /// What to check.
    pub characteristics: Vec<Characteristic>,
    /// The plant's own form whose fields the inspection entry adds (its submission is named on the
    /// inspection event).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<String>,
}

fn default_level() -> String {
    "II".into()
}

fn default_frequency() -> String {
    "each_lot".into()
}

/// A field of a plan or result that is wrong, with what was expected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The field.
    pub field: String,
    /// What was expected.
    pub expected: String,
}

fn problem(field: impl Into<String>, expected: impl Into<String>) -> Problem {
    Problem {
        field: field.into(),
        expected: expected.into(),
    }
}

impl InspectionPlan {
    /// Every problem of the plan.
    pub fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        if self.code.trim().is_empty() {
            out.push(problem("code", "a plan code"));
        }
        if self.subject.trim().is_empty() {
            out.push(problem(
                "subject",
                "the product or material code the plan applies to",
            ));
        }
        if Level::parse(&self.level).is_none() {
            out.push(problem("level", "one of I, II, III, S-1, S-2, S-3, S-4"));
        }
        for (class, aql) in &self.aql {
            if sampling::aql_index(*aql).is_none() {
                out.push(problem(
                    format!("aql.{}", class.as_str()),
                    "one of the standard's AQLs (0.010 … 1000)",
                ));
            }
        }
        let freq_ok = self.frequency == "each_lot"
            || ["every_n_units:", "every_minutes:"].iter().any(|p| {
                self.frequency
                    .strip_prefix(p)
                    .and_then(|n| n.parse::<u32>().ok())
                    .is_some_and(|n| n > 0)
            });
        if !freq_ok {
            out.push(problem(
                "frequency",
                "each_lot, every_n_units:N or every_minutes:T",
            ));
        }
        if self.characteristics.is_empty() {
            out.push(problem("characteristics", "at least one characteristic"));
        }
        for (i, c) in self.characteristics.iter().enumerate() {
            if c.name.trim().is_empty() {
                out.push(problem(format!("characteristics[{i}].name"), "a name"));
            }
            if let (Some(l), Some(u)) = (c.lsl, c.usl)
                && l > u
            {
                out.push(problem(
                    format!("characteristics[{i}].lsl"),
                    "a lower limit not above the upper limit",
                ));
            }
            if !self.aql.contains_key(&c.class) {
                out.push(problem(
                    format!("characteristics[{i}].class"),
                    format!(
                        "a class the plan gives an AQL for (no AQL for {})",
                        c.class.as_str()
                    ),
                ));
            }
        }
        out
    }

    /// The sampling plan of each defect class for a lot of `lot_size` under `severity`.
    pub fn sampling(
        &self,
        lot_size: u64,
        severity: Severity,
    ) -> Result<BTreeMap<DefectClass, Plan>, SamplingError> {
        let level = Level::parse(&self.level).unwrap_or(Level::II);
        self.aql
            .iter()
            .map(|(c, a)| sampling::plan(lot_size, level, *a, severity).map(|p| (*c, p)))
            .collect()
    }

    /// The sample to draw: the largest of the classes' samples (one sample serves every class).
    pub fn sample_size(&self, lot_size: u64, severity: Severity) -> Result<u32, SamplingError> {
        Ok(self
            .sampling(lot_size, severity)?
            .values()
            .map(|p| p.sample_size)
            .max()
            .unwrap_or(0))
    }
}

/// What an inspector found for one characteristic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The characteristic's name.
    pub characteristic: String,
    /// Measurements (quantitative).
    #[serde(default)]
    pub values: Vec<f64>,
    /// Nonconforming items found (attributes; added to the measurements outside the limits).
    #[serde(default)]
    pub defects: u32,
}

/// The judgement of one lot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Judgement {
    /// Whether the lot is accepted.
    pub accepted: bool,
    /// Nonconforming items found per class.
    pub defects: BTreeMap<DefectClass, u32>,
    /// The plan of each class.
    pub plans: BTreeMap<DefectClass, Plan>,
    /// Characteristics with a measurement outside the limits, or with defects.
    pub failing: Vec<String>,
    /// Whether the lot would also have passed one AQL step tighter (for the switching score).
    pub accepted_one_step_tighter: bool,
}

/// Judges a lot of `lot_size` from the inspector's findings under `severity`; every finding must name a
/// characteristic of the plan.
pub fn judge(
    plan: &InspectionPlan,
    lot_size: u64,
    severity: Severity,
    findings: &[Finding],
) -> Result<Judgement, Vec<Problem>> {
    let plans = plan
        .sampling(lot_size, severity)
        .map_err(|e| vec![problem("lot_size", e.to_string())])?;
    let mut problems = Vec::new();
    let mut defects: BTreeMap<DefectClass, u32> = plans.keys().map(|c| (*c, 0)).collect();
    let mut failing = Vec::new();
    for (i, f) in findings.iter().enumerate() {
        let Some(c) = plan
            .characteristics
            .iter()
            .find(|c| c.name == f.characteristic)
        else {
            problems.push(problem(
                format!("findings[{i}].characteristic"),
                format!(
                    "one of the plan's characteristics ({})",
                    plan.characteristics
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
            continue;
        };
        if f.values.iter().any(|v| !v.is_finite()) {
            problems.push(problem(format!("findings[{i}].values"), "numbers"));
            continue;
        }
        let out = f.values.iter().filter(|v| !c.conforms(**v)).count() as u32 + f.defects;
        if out > 0 {
            failing.push(c.name.clone());
        }
        *defects.entry(c.class).or_default() += out;
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let accepted = plans.iter().all(|(c, p)| p.accepts(defects[c]));
    let tighter_ok = plan.aql.iter().all(|(c, aql)| {
        let Some(t) = sampling::tighter_aql(*aql) else {
            return false;
        };
        let letter = plans[c].code_letter;
        sampling::plan_for_letter(letter, t, severity).is_some_and(|p| p.accepts(defects[c]))
    });
    Ok(Judgement {
        accepted,
        defects,
        plans,
        failing,
        accepted_one_step_tighter: accepted && tighter_ok,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> InspectionPlan {
        InspectionPlan {
            code: "FQC-IF".into(),
            name: "infant formula final".into(),
            stage: Stage::Fqc,
            subject: "06901234000017".into(),
            operation: None,
            level: "II".into(),
            aql: [(DefectClass::Critical, 0.065), (DefectClass::Major, 1.0)]
                .into_iter()
                .collect(),
            reduced_allowed: false,
            frequency: "each_lot".into(),
            characteristics: vec![
                Characteristic {
                    name: "protein".into(),
                    class: DefectClass::Major,
                    nominal: Some(12.0),
                    lsl: Some(11.0),
                    usl: Some(13.0),
                    unit: Some("g/100g".into()),
                    method: Some("GB 5009.5".into()),
                    instrument: Some("Kjeldahl".into()),
                },
                Characteristic {
                    name: "seal".into(),
                    class: DefectClass::Critical,
                    nominal: None,
                    lsl: None,
                    usl: None,
                    unit: None,
                    method: None,
                    instrument: None,
                },
            ],
            form: None,
        }
    }

    #[test]
    fn a_lot_is_judged_by_each_class() {
        let p = plan();
        assert!(p.problems().is_empty(), "{:?}", p.problems());
        // 1,000 items, level II: J. Major 1.0 → 80, Ac 2; critical 0.065 → L's 200, Ac 0.
        assert_eq!(p.sample_size(1_000, Severity::Normal), Ok(200));
        let ok = judge(
            &p,
            1_000,
            Severity::Normal,
            &[Finding {
                characteristic: "protein".into(),
                values: vec![12.1, 10.9, 13.5],
                defects: 0,
            }],
        )
        .expect("judged");
        assert!(ok.accepted);
        assert_eq!(ok.defects[&DefectClass::Major], 2);
        assert!(!ok.accepted_one_step_tighter);
        let bad = judge(
            &p,
            1_000,
            Severity::Normal,
            &[Finding {
                characteristic: "seal".into(),
                values: vec![],
                defects: 1,
            }],
        )
        .expect("judged");
        assert!(!bad.accepted);
        assert_eq!(bad.failing, vec!["seal"]);
        let wrong = judge(
            &p,
            1_000,
            Severity::Normal,
            &[Finding {
                characteristic: "colour".into(),
                values: vec![],
                defects: 0,
            }],
        );
        assert_eq!(
            wrong.expect_err("refused")[0].field,
            "findings[0].characteristic"
        );
    }

    #[test]
    fn plan_problems_are_named() {
        let mut p = plan();
        p.level = "IV".into();
        p.aql.insert(DefectClass::Minor, 3.0);
        p.frequency = "hourly".into();
        p.characteristics[0].lsl = Some(14.0);
        let fields: Vec<String> = p.problems().into_iter().map(|x| x.field).collect();
        assert_eq!(
            fields,
            vec!["level", "aql.minor", "frequency", "characteristics[0].lsl"]
        );
    }
}
