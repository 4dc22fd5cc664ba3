//! What the quality record adds up to: supplier scorecards (lot acceptance rate, defect rate and PPM per
//! supplier and material, by month, with the scheme's switching stage) and SPC charts of a quantitative
//! characteristic over the inspections of a plan. The arithmetic is the pure crate's; this module only
//! gathers the inspections.

use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use suyuan_quality::spc::{Chart, chart};
use suyuan_quality::supplier::{Figures, LotInspection, figures};

use super::state::InspectionRecord;
use crate::Engine;
use crate::operations::{OpsError, problem};

/// A supplier's figures for one material.
#[derive(Debug, Clone, Serialize)]
pub struct Scorecard {
    /// The supplier (its record code, or the party as the receipt named it).
    pub supplier: String,
    /// The supplier's name (Chinese, else English, else the code).
    pub name: String,
    /// The supplier's English name (or the code).
    pub name_en: String,
    /// The material (product code or GTIN).
    pub material: String,
    /// Figures over the period asked for.
    pub figures: Figures,
    /// Figures by month (`YYYY-MM`), oldest first.
    pub months: Vec<(String, Figures)>,
    /// The switching stage of the supplier's scheme for the material (`normal`, `tightened`, …).
    pub stage: String,
    /// The scheme's key.
    pub scheme: String,
    /// Reports raised on the supplier's lots that are not closed.
    pub open_ncrs: usize,
    /// When the latest lot was inspected.
    pub last: String,
}

/// An SPC chart of one characteristic of a plan, with what each point stands for.
#[derive(Debug, Clone, Serialize)]
pub struct SpcView {
    /// The plan's code.
    pub plan: String,
    /// The characteristic.
    pub characteristic: String,
    /// Its unit.
    pub unit: Option<String>,
    /// Lower specification limit.
    pub lsl: Option<f64>,
    /// Upper specification limit.
    pub usl: Option<f64>,
    /// Nominal value.
    pub nominal: Option<f64>,
    /// Measurements charted.
    pub measurements: usize,
    /// What each point is (the lot and date of its first measurement).
    pub labels: Vec<String>,
    /// The chart.
    pub chart: Chart,
}

/// Whether the inspection happened within `from`..=`to` (dates `YYYY-MM-DD`, either end open).
pub(crate) fn within(at: &str, from: Option<&str>, to: Option<&str>) -> bool {
    let day = at.get(..10).unwrap_or(at);
    from.is_none_or(|f| day >= f) && to.is_none_or(|t| day <= t)
}

/// The measurements of `characteristic` an inspection's findings hold.
fn measurements(i: &InspectionRecord, characteristic: &str) -> Vec<f64> {
    i.findings
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f.get("characteristic").and_then(Value::as_str) == Some(characteristic))
        .flat_map(|f| {
            f.get("values")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|v| v.as_f64())
        .collect()
}

impl Engine {
    /// Every supplier's scorecard per material, over incoming inspections in `from`..=`to` (dates, open
    /// ends allowed), worst acceptance rate first.
    pub async fn supplier_scorecards(
        &self,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Vec<Scorecard>, OpsError> {
        let (lots, stages, open) = self
            .quality(|q| {
                let lots: Vec<(LotInspection, String, String)> = q
                    .inspections
                    .iter()
                    .filter(|i| i.stage == "iqc" && within(&i.at, from, to))
                    .filter_map(|i| {
                        Some((
                            LotInspection {
                                supplier: i.supplier.clone()?,
                                material: i.product.clone(),
                                period: i.at.get(..7).unwrap_or_default().to_string(),
                                accepted: i.accepted,
                                inspected: i.sample_size,
                                defects: i.defects,
                            },
                            i.scheme.clone(),
                            i.at.clone(),
                        ))
                    })
                    .collect();
                let stages: BTreeMap<String, String> = q
                    .switching
                    .iter()
                    .map(|(k, s)| (k.clone(), s.stage.as_str().to_string()))
                    .collect();
                let open: Vec<String> = q
                    .ncrs
                    .values()
                    .filter(|n| n.state != suyuan_quality::ncr::NcrState::Closed)
                    .filter_map(|n| n.inspection.clone())
                    .collect();
                (lots, stages, open)
            })
            .await?;
        let records = self.records().await?;
        let plain: Vec<LotInspection> = lots.iter().map(|(l, _, _)| l.clone()).collect();
        let totals = figures(&plain, |l| (l.supplier.clone(), l.material.clone()));
        let monthly = figures(&plain, |l| {
            (l.supplier.clone(), l.material.clone(), l.period.clone())
        });
        let open_by_pair = self
            .quality(|q| {
                let mut m: BTreeMap<(String, String), usize> = BTreeMap::new();
                for i in q.inspections.iter().filter(|i| open.contains(&i.id)) {
                    if let Some(s) = &i.supplier {
                        *m.entry((s.clone(), i.product.clone())).or_default() += 1;
                    }
                }
                m
            })
            .await?;
        let mut out: Vec<Scorecard> = totals
            .into_iter()
            .map(|((supplier, material), f)| {
                let of_pair = lots
                    .iter()
                    .filter(|(l, _, _)| l.supplier == supplier && l.material == material);
                let scheme = of_pair
                    .clone()
                    .map(|(_, s, _)| s.clone())
                    .next_back()
                    .unwrap_or_default();
                let last = of_pair
                    .map(|(_, _, at)| at.clone())
                    .max()
                    .unwrap_or_default();
                Scorecard {
                    name: records.label("supplier", &supplier, false),
                    name_en: records.label("supplier", &supplier, true),
                    months: monthly
                        .iter()
                        .filter(|((s, m, _), _)| *s == supplier && *m == material)
                        .map(|((_, _, p), f)| (p.clone(), f.clone()))
                        .collect(),
                    stage: stages
                        .get(&scheme)
                        .cloned()
                        .unwrap_or_else(|| "normal".into()),
                    open_ncrs: open_by_pair
                        .get(&(supplier.clone(), material.clone()))
                        .copied()
                        .unwrap_or(0),
                    supplier,
                    material,
                    figures: f,
                    scheme,
                    last,
                }
            })
            .collect();
        out.sort_by(|a, b| {
            a.figures
                .acceptance_rate
                .total_cmp(&b.figures.acceptance_rate)
                .then(a.supplier.cmp(&b.supplier))
                .then(a.material.cmp(&b.material))
        });
        Ok(out)
    }

    /// The SPC chart of `characteristic` of plan `plan` over its inspections in time order. A subgroup of
    /// `None` takes each inspection's measurements as one subgroup when they all have the same count of 2
    /// to 10, else charts single values (I-MR).
    pub async fn spc(
        &self,
        plan: &str,
        characteristic: &str,
        subgroup: Option<usize>,
    ) -> Result<SpcView, OpsError> {
        let p = self.inspection_plan(plan).await?;
        let Some(c) = p.characteristics.iter().find(|c| c.name == characteristic) else {
            return Err(problem(
                "characteristic",
                format!(
                    "one of the plan's characteristics: {}",
                    p.characteristics
                        .iter()
                        .filter(|c| c.is_quantitative())
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        };
        if !c.is_quantitative() {
            return Err(problem(
                "characteristic",
                "a quantitative characteristic (one with limits)",
            ));
        }
        let groups: Vec<(String, Vec<f64>)> = self
            .quality(|q| {
                let mut v: Vec<&InspectionRecord> =
                    q.inspections.iter().filter(|i| i.plan == plan).collect();
                v.sort_by(|a, b| a.at.cmp(&b.at));
                v.into_iter()
                    .map(|i| {
                        let who = i.lot.clone().unwrap_or_else(|| i.object.clone());
                        (
                            format!("{who} · {}", i.at.get(..10).unwrap_or(&i.at)),
                            measurements(i, characteristic),
                        )
                    })
                    .filter(|(_, m)| !m.is_empty())
                    .collect()
            })
            .await?;
        let sizes: Vec<usize> = groups.iter().map(|(_, m)| m.len()).collect();
        let n = subgroup.unwrap_or_else(|| match sizes.first() {
            Some(&k) if (2..=10).contains(&k) && sizes.iter().all(|&s| s == k) => k,
            _ => 1,
        });
        let mut values = Vec::new();
        let mut names = Vec::new();
        for (label, m) in &groups {
            for x in m {
                values.push(*x);
                names.push(label.clone());
            }
        }
        let drawn = chart(&values, n, c.lsl, c.usl)
            .map_err(|e| problem("characteristic", e.to_string()))?;
        Ok(SpcView {
            plan: p.code.clone(),
            characteristic: c.name.clone(),
            unit: c.unit.clone(),
            lsl: c.lsl,
            usl: c.usl,
            nominal: c.nominal,
            measurements: values.len(),
            labels: names.chunks_exact(n).map(|g| g[0].clone()).collect(),
            chart: drawn,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::within;

    #[test]
    fn within_compares_the_day_of_a_time() {
        assert!(within(
            "2026-10-06T06:55:00+08:00",
            Some("2026-10-06"),
            None
        ));
        assert!(within(
            "2026-10-06T06:55:00+08:00",
            None,
            Some("2026-10-06")
        ));
        assert!(!within(
            "2026-10-07T00:00:00+08:00",
            None,
            Some("2026-10-06")
        ));
        assert!(within("2026-10-07T00:00:00Z", None, None));
    }
}
