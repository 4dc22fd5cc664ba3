//! The acceptance hook of the application features: every submission, whichever way it came in, is judged by
//! every registered [`Validator`] before anything of it is stored ("a held lot may not ship", "a serial this
//! plant never issued is refused"). The engine registers its own two; features add theirs with
//! [`crate::Engine::with_validator`].

use async_trait::async_trait;
use suyuan_core::Event;
use suyuan_store::StoreError;

use crate::Engine;
use crate::acceptance::{OwnCodeVerdict, vocabulary_warnings};

/// What a validator says of a submission's events: refusals (each with the index of its event) and warnings.
pub type Verdict = OwnCodeVerdict;

/// Who records the events: the plant itself (its staff, integrations and the engine), or a trading
/// partner, whose facts the ledger never refuses for the plant's own rules (it warns and alerts instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The plant.
    Plant,
    /// A trading partner.
    Partner,
}

/// A check every submission passes; it reads through the engine and never writes.
#[async_trait]
pub trait Validator: Send + Sync {
    /// Its name, for logs and metrics.
    fn name(&self) -> &'static str;
    /// Judges the events (pointers count events from 0, as `/epcisBody/eventList/{i}/…`) recorded by
    /// `origin`.
    async fn judge(
        &self,
        engine: &Engine,
        events: &[Event],
        origin: Origin,
    ) -> Result<Verdict, StoreError>;
}

/// The plant's own codes: a serial of a GTIN that a coding rule issues but the register does not know is
/// accepted, warned about or refused as that rule's `unknown_codes` policy says.
pub struct OwnCodes;

#[async_trait]
impl Validator for OwnCodes {
    fn name(&self) -> &'static str {
        "own_codes"
    }

    async fn judge(
        &self,
        engine: &Engine,
        events: &[Event],
        _origin: Origin,
    ) -> Result<Verdict, StoreError> {
        engine.judge_own_codes(events).await
    }
}

/// Sensor measurement types newer than this release's list: stored, with a warning.
pub struct Vocabulary;

#[async_trait]
impl Validator for Vocabulary {
    fn name(&self) -> &'static str {
        "vocabulary"
    }

    async fn judge(
        &self,
        _engine: &Engine,
        events: &[Event],
        _origin: Origin,
    ) -> Result<Verdict, StoreError> {
        Ok(Verdict {
            warnings: vocabulary_warnings(events),
            refused: Vec::new(),
        })
    }
}

impl Engine {
    /// Every validator's verdict on `events` recorded by `origin`, merged (refusals in event order).
    pub async fn judge(&self, events: &[Event], origin: Origin) -> Result<Verdict, StoreError> {
        let mut all = Verdict::default();
        for v in self.validators.iter() {
            let verdict = v.judge(self, events, origin).await?;
            if !verdict.refused.is_empty() {
                metrics::counter!("suyuan_capture_refusals_total", "validator" => v.name())
                    .increment(verdict.refused.len() as u64);
            }
            all.warnings.extend(verdict.warnings);
            all.refused.extend(verdict.refused);
        }
        all.refused.sort_by_key(|(i, _)| *i);
        Ok(all)
    }
}
