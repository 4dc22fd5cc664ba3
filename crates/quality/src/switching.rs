//! The switching rules of GB/T 2828.1-2012 (ISO 2859-1:1999, clause 9), kept per supplier and material
//! (or product and operation): normal → tightened when 2 of 5 or fewer consecutive lots are not accepted;
//! tightened → normal after 5 consecutive accepted lots; normal → reduced when the switching score reaches
//! 30, production is steady and the responsible authority allows it; reduced → normal on a lot not
//! accepted; tightened → discontinued when 5 lots in all are not accepted under tightened inspection,
//! until the supplier has acted (then tightened again).

use serde::{Deserialize, Serialize};

use crate::sampling::Severity;

/// Where a switching scheme stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Normal inspection.
    Normal,
    /// Tightened inspection.
    Tightened,
    /// Reduced inspection.
    Reduced,
    /// Inspection discontinued: lots are not accepted until the supplier has improved.
    Discontinued,
}

impl Stage {
    /// Its name, as the API and the screens use it.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Normal => "normal",
            Stage::Tightened => "tightened",
            Stage::Reduced => "reduced",
            Stage::Discontinued => "discontinued",
        }
    }

    /// The severity of the plan to use (tightened while discontinued, for when inspection resumes).
    pub fn severity(self) -> Severity {
        match self {
            Stage::Normal => Severity::Normal,
            Stage::Reduced => Severity::Reduced,
            Stage::Tightened | Stage::Discontinued => Severity::Tightened,
        }
    }
}

/// One lot's result on original inspection, as the switching rules need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LotResult {
    /// Whether the lot was accepted.
    pub accepted: bool,
    /// The acceptance number of the plan used.
    pub ac: u32,
    /// Whether the lot would also have been accepted under the plan one AQL step tighter (asked only
    /// when `ac` is 2 or more).
    pub accepted_one_step_tighter: bool,
}

/// The switching state of one scheme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Switching {
    /// The current stage.
    pub stage: Stage,
    /// The switching score under normal inspection.
    pub score: u32,
    /// Results of the latest lots under normal inspection, newest last (at most 5).
    pub recent: Vec<bool>,
    /// Consecutive lots accepted under tightened inspection.
    pub accepted_run: u32,
    /// Lots not accepted since tightened inspection began.
    pub rejected_under_tightened: u32,
    /// Lots judged in all.
    pub lots: u32,
}

impl Default for Switching {
    fn default() -> Self {
        Switching {
            stage: Stage::Normal,
            score: 0,
            recent: Vec::new(),
            accepted_run: 0,
            rejected_under_tightened: 0,
            lots: 0,
        }
    }
}

impl Switching {
    fn enter(&mut self, stage: Stage) {
        self.stage = stage;
        self.score = 0;
        self.recent.clear();
        self.accepted_run = 0;
        if stage == Stage::Tightened {
            self.rejected_under_tightened = 0;
        }
    }

    /// Records a lot's result; `reduced_allowed` says production is steady and the authority allows
    /// reduced inspection. Returns the new stage when the lot switched it.
    pub fn record(&mut self, lot: LotResult, reduced_allowed: bool) -> Option<Stage> {
        self.lots += 1;
        let before = self.stage;
        match self.stage {
            Stage::Normal => {
                self.recent.push(lot.accepted);
                if self.recent.len() > 5 {
                    self.recent.remove(0);
                }
                if self.recent.iter().filter(|a| !**a).count() >= 2 {
                    self.enter(Stage::Tightened);
                } else {
                    self.score = match (lot.ac, lot.accepted) {
                        (0 | 1, true) => self.score + 2,
                        (0 | 1, false) => 0,
                        (_, true) if lot.accepted_one_step_tighter => self.score + 3,
                        _ => 0,
                    };
                    if self.score >= 30 && reduced_allowed {
                        self.enter(Stage::Reduced);
                    }
                }
            }
            Stage::Tightened => {
                if lot.accepted {
                    self.accepted_run += 1;
                    if self.accepted_run >= 5 {
                        self.enter(Stage::Normal);
                    }
                } else {
                    self.accepted_run = 0;
                    self.rejected_under_tightened += 1;
                    if self.rejected_under_tightened >= 5 {
                        self.stage = Stage::Discontinued;
                    }
                }
            }
            Stage::Reduced => {
                if !lot.accepted || !reduced_allowed {
                    self.enter(Stage::Normal);
                }
            }
            Stage::Discontinued => {}
        }
        (self.stage != before).then_some(self.stage)
    }

    /// Resumes inspection after the supplier's corrective action: tightened inspection again.
    pub fn resume(&mut self) -> bool {
        if self.stage != Stage::Discontinued {
            return false;
        }
        self.enter(Stage::Tightened);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lot(accepted: bool) -> LotResult {
        LotResult {
            accepted,
            ac: 1,
            accepted_one_step_tighter: false,
        }
    }

    #[test]
    fn two_of_five_rejected_tightens_and_five_accepted_relax() {
        let mut s = Switching::default();
        for a in [true, false, true, true] {
            assert_eq!(s.record(lot(a), false), None);
        }
        // The second rejection within five lots: tightened.
        assert_eq!(s.record(lot(false), false), Some(Stage::Tightened));
        for _ in 0..4 {
            assert_eq!(s.record(lot(true), false), None);
        }
        assert_eq!(s.record(lot(true), false), Some(Stage::Normal));
        assert_eq!(s.score, 0);
    }

    #[test]
    fn rejections_six_lots_apart_do_not_tighten() {
        let mut s = Switching::default();
        for a in [false, true, true, true, true, false] {
            assert_eq!(s.record(lot(a), false), None, "{s:?}");
        }
        assert_eq!(s.stage, Stage::Normal);
    }

    #[test]
    fn five_rejections_under_tightened_discontinue_until_resumed() {
        let mut s = Switching::default();
        s.record(lot(false), false);
        s.record(lot(false), false);
        assert_eq!(s.stage, Stage::Tightened);
        for a in [false, true, false, false, true, false] {
            s.record(lot(a), false);
        }
        assert_eq!(s.stage, Stage::Tightened);
        assert_eq!(s.record(lot(false), false), Some(Stage::Discontinued));
        assert_eq!(s.stage.severity(), Severity::Tightened);
        assert!(s.resume());
        assert_eq!(s.stage, Stage::Tightened);
        assert_eq!(s.rejected_under_tightened, 0);
    }

    #[test]
    fn the_switching_score_reaches_reduced_and_a_rejection_returns_to_normal() {
        let mut s = Switching::default();
        // Acceptance number 0 or 1: two points a lot; 15 lots make 30.
        for k in 0..15 {
            let switched = s.record(lot(true), true);
            assert_eq!(switched.is_some(), k == 14, "lot {k}: {s:?}");
        }
        assert_eq!(s.stage, Stage::Reduced);
        assert_eq!(s.record(lot(false), true), Some(Stage::Normal));
        // Acceptance number 2 or more: three points when the tighter plan would also accept, else 0.
        let big = |tighter| LotResult {
            accepted: true,
            ac: 3,
            accepted_one_step_tighter: tighter,
        };
        for _ in 0..9 {
            s.record(big(true), false);
        }
        assert_eq!(s.score, 27);
        s.record(big(false), false);
        assert_eq!(s.score, 0);
        // Without the authority's leave the score alone does not reduce.
        for _ in 0..10 {
            s.record(big(true), false);
        }
        assert_eq!((s.stage, s.score), (Stage::Normal, 30));
        assert_eq!(s.record(big(true), true), Some(Stage::Reduced));
    }
}
