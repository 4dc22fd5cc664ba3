//! Anti-diversion and anti-counterfeit judgements: a unit sold or scanned outside the sales regions of the
//! distributor it was shipped to is diverted (窜货); a code scanned too often, or from too many regions, is
//! probably copied.

use serde::{Deserialize, Serialize};

/// The thresholds of the counterfeit alert.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CounterfeitLimits {
    /// More scans than this of one code raise an alert.
    pub max_scans: u64,
    /// More regions (provinces) than this for one code raise an alert.
    pub max_regions: usize,
}

impl Default for CounterfeitLimits {
    fn default() -> Self {
        CounterfeitLimits {
            max_scans: 5,
            max_regions: 1,
        }
    }
}

/// The kinds of alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A unit outside its distributor's regions.
    Diversion,
    /// A code scanned too often or too widely.
    Counterfeit,
    /// A process parameter outside its limits.
    Parameter,
    /// A failed inspection opened a nonconformance report: the quality manager's to-do.
    Nonconformance,
    /// A partner recorded a move of an object that is on hold.
    HeldMoved,
    /// A plant's rule raised it.
    Rule,
}

impl AlertKind {
    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Diversion => "diversion",
            AlertKind::Counterfeit => "counterfeit",
            AlertKind::Parameter => "parameter",
            AlertKind::Nonconformance => "nonconformance",
            AlertKind::HeldMoved => "held_moved",
            AlertKind::Rule => "rule",
        }
    }
}

/// Whether a region name matches one of a distributor's regions ("广东" matches "广东省", "Guangdong").
pub fn in_regions(region: &str, regions: &[String]) -> bool {
    let norm = |s: &str| {
        s.trim()
            .trim_end_matches(['省', '市'])
            .trim_end_matches("自治区")
            .to_lowercase()
    };
    let r = norm(region);
    !r.is_empty()
        && regions.iter().any(|x| {
            let x = norm(x);
            !x.is_empty() && (x == r || r.starts_with(&x) || x.starts_with(&r))
        })
}

/// Whether a unit seen in `region` is diverted from a distributor selling in `regions` (a distributor
/// without regions sells everywhere).
pub fn diverted(region: &str, regions: &[String]) -> bool {
    !regions.is_empty() && !region.trim().is_empty() && !in_regions(region, regions)
}

/// Whether a code's scans call for a counterfeit alert.
pub fn counterfeit(scans: u64, regions: usize, limits: &CounterfeitLimits) -> bool {
    scans > limits.max_scans || regions > limits.max_regions
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_match_loosely_and_divert_strictly() {
        let south = vec!["广东".to_string(), "广西".to_string()];
        assert!(in_regions("广东省", &south));
        assert!(!diverted("广西壮族自治区", &south));
        assert!(diverted("新疆", &south));
        assert!(!diverted("新疆", &[]));
        let l = CounterfeitLimits::default();
        assert!(!counterfeit(3, 1, &l));
        assert!(counterfeit(6, 1, &l));
        assert!(counterfeit(2, 2, &l));
    }
}
