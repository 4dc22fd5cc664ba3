//! Statistical process control of one quantitative characteristic: X̄-R charts for subgroups of 2 to 10
//! measurements, I-MR charts for single ones, their control limits from the usual constants, the process
//! capability Cp/Cpk against the specification limits (σ estimated within subgroups), and the four
//! Western Electric rules flagged on the points.

use serde::Serialize;

/// A2, D3, D4 and d2 for subgroups of 2 to 10.
const CONSTANTS: [(f64, f64, f64, f64); 9] = [
    (1.880, 0.0, 3.267, 1.128),
    (1.023, 0.0, 2.574, 1.693),
    (0.729, 0.0, 2.282, 2.059),
    (0.577, 0.0, 2.114, 2.326),
    (0.483, 0.0, 2.004, 2.534),
    (0.419, 0.076, 1.924, 2.704),
    (0.373, 0.136, 1.864, 2.847),
    (0.337, 0.184, 1.816, 2.970),
    (0.308, 0.223, 1.777, 3.078),
];

/// A chart's centre line and control limits.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Limits {
    /// Lower control limit.
    pub lcl: f64,
    /// Centre line.
    pub cl: f64,
    /// Upper control limit.
    pub ucl: f64,
}

/// One plotted point with the Western Electric rules it breaks (1 to 4).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    /// The plotted value (a subgroup mean, or a single measurement).
    pub value: f64,
    /// The rules this point completes.
    pub rules: Vec<u8>,
}

/// A control chart pair: location (X̄ or I) and spread (R or MR), with capability.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chart {
    /// `xbar_r` or `i_mr`.
    pub kind: &'static str,
    /// Measurements per subgroup (1 for I-MR).
    pub subgroup: usize,
    /// Location chart limits.
    pub location: Limits,
    /// Location chart points.
    pub points: Vec<Point>,
    /// Spread chart limits.
    pub spread: Limits,
    /// Spread chart values (ranges, or moving ranges from the second point).
    pub ranges: Vec<f64>,
    /// σ estimated within subgroups (R̄/d2).
    pub sigma: f64,
    /// Cp, when both specification limits are known and σ > 0.
    pub cp: Option<f64>,
    /// Cpk, when a specification limit is known and σ > 0.
    pub cpk: Option<f64>,
}

/// Why no chart can be drawn.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpcError {
    /// Too few measurements.
    #[error("at least {0} measurements are needed for a chart")]
    TooFew(usize),
    /// The subgroup size is outside 1–10.
    #[error("subgroup: expected 1 to 10 measurements a subgroup")]
    Subgroup,
}

/// Charts `values` (in time order) in subgroups of `subgroup` (1 gives I-MR; a trailing partial
/// subgroup is left out) against the specification limits `lsl`/`usl` where known.
pub fn chart(
    values: &[f64],
    subgroup: usize,
    lsl: Option<f64>,
    usl: Option<f64>,
) -> Result<Chart, SpcError> {
    if !(1..=10).contains(&subgroup) {
        return Err(SpcError::Subgroup);
    }
    let (kind, means, ranges, location, spread, sigma) = if subgroup == 1 {
        if values.len() < 2 {
            return Err(SpcError::TooFew(2));
        }
        let mr: Vec<f64> = values.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
        let mr_bar = mean(&mr);
        let x_bar = mean(values);
        let sigma = mr_bar / 1.128;
        (
            "i_mr",
            values.to_vec(),
            mr,
            Limits {
                lcl: x_bar - 3.0 * sigma,
                cl: x_bar,
                ucl: x_bar + 3.0 * sigma,
            },
            Limits {
                lcl: 0.0,
                cl: mr_bar,
                ucl: 3.267 * mr_bar,
            },
            sigma,
        )
    } else {
        let groups: Vec<&[f64]> = values.chunks_exact(subgroup).collect();
        if groups.len() < 2 {
            return Err(SpcError::TooFew(2 * subgroup));
        }
        let (a2, d3, d4, d2) = CONSTANTS[subgroup - 2];
        let means: Vec<f64> = groups.iter().map(|g| mean(g)).collect();
        let ranges: Vec<f64> = groups
            .iter()
            .map(|g| {
                let hi = g.iter().copied().fold(f64::MIN, f64::max);
                let lo = g.iter().copied().fold(f64::MAX, f64::min);
                hi - lo
            })
            .collect();
        let x_bar = mean(&means);
        let r_bar = mean(&ranges);
        (
            "xbar_r",
            means,
            ranges,
            Limits {
                lcl: x_bar - a2 * r_bar,
                cl: x_bar,
                ucl: x_bar + a2 * r_bar,
            },
            Limits {
                lcl: d3 * r_bar,
                cl: r_bar,
                ucl: d4 * r_bar,
            },
            r_bar / d2,
        )
    };
    let flags = western_electric(&means, location);
    let points = means
        .iter()
        .zip(flags)
        .map(|(&value, rules)| Point { value, rules })
        .collect();
    let mu = location.cl;
    let usable = sigma > 0.0;
    let cp = match (lsl, usl) {
        (Some(l), Some(u)) if usable => Some((u - l) / (6.0 * sigma)),
        _ => None,
    };
    let sides: Vec<f64> = [usl.map(|u| u - mu), lsl.map(|l| mu - l)]
        .into_iter()
        .flatten()
        .collect();
    let cpk = (usable && !sides.is_empty())
        .then(|| sides.iter().copied().fold(f64::MAX, f64::min) / (3.0 * sigma));
    Ok(Chart {
        kind,
        subgroup,
        location,
        points,
        spread,
        ranges,
        sigma,
        cp,
        cpk,
    })
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.iter().sum::<f64>() / v.len() as f64
}

/// The Western Electric rules each point completes: 1 — beyond 3σ; 2 — two of three in a row beyond
/// 2σ on one side; 3 — four of five in a row beyond 1σ on one side; 4 — eight in a row on one side.
pub fn western_electric(points: &[f64], limits: Limits) -> Vec<Vec<u8>> {
    let sigma = (limits.ucl - limits.cl) / 3.0;
    let z: Vec<f64> = points
        .iter()
        .map(|p| {
            if sigma > 0.0 {
                (p - limits.cl) / sigma
            } else {
                0.0
            }
        })
        .collect();
    let mut out = vec![Vec::new(); z.len()];
    for i in 0..z.len() {
        if z[i].abs() > 3.0 {
            out[i].push(1);
        }
        for side in [1.0f64, -1.0] {
            let beyond =
                |from: usize, k: f64| z[from..=i].iter().filter(|v| **v * side > k).count();
            let mine = |k: f64| z[i] * side > k;
            if i >= 2 && mine(2.0) && beyond(i - 2, 2.0) >= 2 && !out[i].contains(&2) {
                out[i].push(2);
            }
            if i >= 4 && mine(1.0) && beyond(i - 4, 1.0) >= 4 && !out[i].contains(&3) {
                out[i].push(3);
            }
            if i >= 7 && z[i - 7..=i].iter().all(|v| *v * side > 0.0) && !out[i].contains(&4) {
                out[i].push(4);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xbar_r_limits_match_a_hand_computation() {
        // Five subgroups of four: means 10, 10.5, 9.5, 10, 10; ranges 2, 1, 1, 2, 2.
        let v = [
            9.0, 10.0, 11.0, 10.0, 10.0, 11.0, 10.5, 10.5, 9.0, 9.5, 10.0, 9.5, 9.0, 11.0, 10.0,
            10.0, 10.0, 11.0, 9.0, 10.0,
        ];
        let c = chart(&v, 4, Some(7.0), Some(13.0)).expect("chart");
        assert_eq!(c.kind, "xbar_r");
        let r_bar = 8.0 / 5.0;
        assert!((c.location.cl - 10.0).abs() < 1e-9);
        assert!((c.location.ucl - (10.0 + 0.729 * r_bar)).abs() < 1e-9);
        assert!((c.spread.ucl - 2.282 * r_bar).abs() < 1e-9);
        let sigma = r_bar / 2.059;
        assert!((c.cp.expect("cp") - 6.0 / (6.0 * sigma)).abs() < 1e-9);
        assert!((c.cpk.expect("cpk") - 3.0 / (3.0 * sigma)).abs() < 1e-9);
    }

    #[test]
    fn i_mr_and_one_sided_capability() {
        let c = chart(&[5.0, 6.0, 5.0, 7.0, 5.0], 1, None, Some(10.0)).expect("chart");
        assert_eq!(c.kind, "i_mr");
        assert_eq!(c.ranges, vec![1.0, 1.0, 2.0, 2.0]);
        let sigma = 1.5 / 1.128;
        assert!((c.sigma - sigma).abs() < 1e-9);
        assert_eq!(c.cp, None);
        assert!((c.cpk.expect("cpk") - (10.0 - 5.6) / (3.0 * sigma)).abs() < 1e-9);
        assert_eq!(chart(&[1.0], 1, None, None), Err(SpcError::TooFew(2)));
        assert_eq!(chart(&[1.0; 40], 11, None, None), Err(SpcError::Subgroup));
    }

    #[test]
    fn western_electric_rules_are_flagged_where_they_complete() {
        let l = Limits {
            lcl: -3.0,
            cl: 0.0,
            ucl: 3.0,
        };
        let flags = western_electric(&[0.0, 3.5, 0.0, 0.0, 2.5, 0.0, 2.5], l);
        assert_eq!(flags[1], vec![1]);
        assert_eq!(flags[6], vec![2]);
        assert!(flags[4].is_empty());
        let flags = western_electric(&[1.5, 1.5, -0.5, 1.5, 1.5], l);
        assert_eq!(flags[4], vec![3]);
        let flags = western_electric(&[-0.2; 8], l);
        assert_eq!(flags[7], vec![4]);
        assert!(flags[6].is_empty());
    }
}
