//! The life of a nonconformance report: raised → under review (the material review board) → disposition
//! (rework, scrap, return to supplier, or a concession — use as is — which a second person must approve)
//! → closed. Each step names who took it and why; the engine records each as an event.

use serde::{Deserialize, Serialize};

/// Where a nonconformance report stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NcrState {
    /// Raised, not yet reviewed.
    Raised,
    /// Under review by the material review board.
    UnderReview,
    /// A concession was proposed and waits for a second person's approval.
    AwaitingApproval,
    /// Disposed: the decision is taken and carried out on the objects.
    Disposed,
    /// Closed.
    Closed,
}

impl NcrState {
    /// Every state, in the order of the board.
    pub const ALL: [NcrState; 5] = [
        NcrState::Raised,
        NcrState::UnderReview,
        NcrState::AwaitingApproval,
        NcrState::Disposed,
        NcrState::Closed,
    ];

    /// Its name, as the API and the screens use it.
    pub fn as_str(self) -> &'static str {
        match self {
            NcrState::Raised => "raised",
            NcrState::UnderReview => "under_review",
            NcrState::AwaitingApproval => "awaiting_approval",
            NcrState::Disposed => "disposed",
            NcrState::Closed => "closed",
        }
    }

    /// Whether the report is still open.
    pub fn is_open(self) -> bool {
        self != NcrState::Closed
    }
}

/// What is decided for the nonconforming objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// Reworked; what passes re-inspection is released.
    Rework,
    /// Destroyed.
    Scrap,
    /// Sent back to the supplier.
    ReturnToSupplier,
    /// Used as is, by concession (a second person approves).
    Concession,
}

impl Disposition {
    /// The disposition named `s`.
    pub fn parse(s: &str) -> Option<Disposition> {
        Some(match s {
            "rework" => Disposition::Rework,
            "scrap" => Disposition::Scrap,
            "return_to_supplier" => Disposition::ReturnToSupplier,
            "concession" | "use_as_is" => Disposition::Concession,
            _ => return None,
        })
    }

    /// Its name, as the API and the screens use it.
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Rework => "rework",
            Disposition::Scrap => "scrap",
            Disposition::ReturnToSupplier => "return_to_supplier",
            Disposition::Concession => "concession",
        }
    }
}

/// A step asked of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum Step {
    /// The board takes the report up.
    Review,
    /// The board decides.
    Dispose {
        /// What is decided.
        disposition: Disposition,
    },
    /// A second person approves a proposed concession.
    Approve,
    /// A second person refuses a proposed concession: back under review.
    Reject,
    /// The report is closed.
    Close,
}

impl Step {
    /// The step's name, as recorded on its event.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Review => "review",
            Step::Dispose { .. } => "dispose",
            Step::Approve => "approve",
            Step::Reject => "reject",
            Step::Close => "close",
        }
    }
}

/// Why a step was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NcrError {
    /// The step does not follow from the report's state.
    #[error("a report that is {from} cannot be asked to {step}")]
    NotNow {
        /// The report's state.
        from: &'static str,
        /// The step asked.
        step: &'static str,
    },
    /// The concession's proposer may not approve it.
    #[error("a concession must be approved by someone other than {0}, who proposed it")]
    SamePerson(String),
    /// A reason is required.
    #[error("why: a reason is required for every step")]
    NoReason,
}

/// The state a step leads to from `from`; `proposer` is who proposed a pending concession, `who` who
/// asks now.
pub fn next(
    from: NcrState,
    step: Step,
    proposer: Option<&str>,
    who: &str,
) -> Result<NcrState, NcrError> {
    let refuse = || NcrError::NotNow {
        from: from.as_str(),
        step: step.as_str(),
    };
    match (from, step) {
        (NcrState::Raised, Step::Review) => Ok(NcrState::UnderReview),
        (NcrState::UnderReview, Step::Dispose { disposition }) => Ok(match disposition {
            Disposition::Concession => NcrState::AwaitingApproval,
            _ => NcrState::Disposed,
        }),
        (NcrState::AwaitingApproval, Step::Approve | Step::Reject) => {
            if proposer == Some(who) {
                return Err(NcrError::SamePerson(who.to_string()));
            }
            Ok(if step == Step::Approve {
                NcrState::Disposed
            } else {
                NcrState::UnderReview
            })
        }
        (NcrState::Disposed, Step::Close) => Ok(NcrState::Closed),
        _ => Err(refuse()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_concession_needs_a_second_person() {
        let s = next(NcrState::Raised, Step::Review, None, "qm").expect("review");
        let s = next(
            s,
            Step::Dispose {
                disposition: Disposition::Concession,
            },
            None,
            "qm",
        )
        .expect("dispose");
        assert_eq!(s, NcrState::AwaitingApproval);
        assert_eq!(
            next(s, Step::Approve, Some("qm"), "qm"),
            Err(NcrError::SamePerson("qm".into()))
        );
        let s = next(s, Step::Approve, Some("qm"), "director").expect("approve");
        assert_eq!(next(s, Step::Close, None, "qm"), Ok(NcrState::Closed));
    }

    #[test]
    fn steps_out_of_order_are_refused() {
        assert!(matches!(
            next(NcrState::Raised, Step::Close, None, "qm"),
            Err(NcrError::NotNow { .. })
        ));
        assert!(matches!(
            next(NcrState::Closed, Step::Review, None, "qm"),
            Err(NcrError::NotNow { .. })
        ));
        let s = next(
            NcrState::UnderReview,
            Step::Dispose {
                disposition: Disposition::Scrap,
            },
            None,
            "qm",
        );
        assert_eq!(s, Ok(NcrState::Disposed));
    }
}
