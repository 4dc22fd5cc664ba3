//! Supplier quality figures from incoming inspections: lots inspected and accepted, the lot acceptance
//! rate, the defect rate and PPM (nonconforming items per million inspected), by supplier, material and
//! period.

use serde::Serialize;
use std::collections::BTreeMap;

/// One incoming inspection, as the figures need it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LotInspection {
    /// The supplier's code.
    pub supplier: String,
    /// The material's code.
    pub material: String,
    /// The period it falls in (e.g. `2026-10`).
    pub period: String,
    /// Whether the lot was accepted.
    pub accepted: bool,
    /// Items inspected.
    pub inspected: u64,
    /// Nonconforming items found.
    pub defects: u64,
}

/// Figures of one group of inspections.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Figures {
    /// Lots inspected.
    pub lots: u64,
    /// Lots accepted.
    pub accepted: u64,
    /// Items inspected.
    pub inspected: u64,
    /// Nonconforming items found.
    pub defects: u64,
    /// Lots accepted ÷ lots inspected (1 when none were inspected).
    pub acceptance_rate: f64,
    /// Nonconforming ÷ inspected items.
    pub defect_rate: f64,
    /// Nonconforming items per million inspected.
    pub ppm: f64,
}

impl Figures {
    fn add(&mut self, l: &LotInspection) {
        self.lots += 1;
        self.accepted += u64::from(l.accepted);
        self.inspected += l.inspected;
        self.defects += l.defects;
        self.acceptance_rate = if self.lots == 0 {
            1.0
        } else {
            self.accepted as f64 / self.lots as f64
        };
        self.defect_rate = if self.inspected == 0 {
            0.0
        } else {
            self.defects as f64 / self.inspected as f64
        };
        self.ppm = self.defect_rate * 1_000_000.0;
    }
}

/// Groups inspections by `key` and computes each group's figures.
pub fn figures<K: Ord>(
    inspections: &[LotInspection],
    key: impl Fn(&LotInspection) -> K,
) -> BTreeMap<K, Figures> {
    let mut out: BTreeMap<K, Figures> = BTreeMap::new();
    for l in inspections {
        out.entry(key(l)).or_default().add(l);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lot(
        s: &str,
        m: &str,
        p: &str,
        accepted: bool,
        inspected: u64,
        defects: u64,
    ) -> LotInspection {
        LotInspection {
            supplier: s.into(),
            material: m.into(),
            period: p.into(),
            accepted,
            inspected,
            defects,
        }
    }

    #[test]
    fn figures_equal_a_hand_count() {
        let l = vec![
            lot("S1", "whey", "2026-10", true, 80, 1),
            lot("S1", "whey", "2026-10", false, 80, 4),
            lot("S1", "milk", "2026-11", true, 50, 0),
            lot("S2", "milk", "2026-10", true, 50, 0),
        ];
        let by_supplier = figures(&l, |x| x.supplier.clone());
        let s1 = &by_supplier["S1"];
        assert_eq!(
            (s1.lots, s1.accepted, s1.inspected, s1.defects),
            (3, 2, 210, 5)
        );
        assert!((s1.acceptance_rate - 2.0 / 3.0).abs() < 1e-12);
        assert!((s1.ppm - 5.0 / 210.0 * 1e6).abs() < 1e-6);
        let by_material = figures(&l, |x| {
            (x.supplier.clone(), x.material.clone(), x.period.clone())
        });
        assert_eq!(by_material.len(), 3);
        assert_eq!(
            by_material[&("S1".into(), "whey".into(), "2026-10".into())].defects,
            5
        );
    }
}
