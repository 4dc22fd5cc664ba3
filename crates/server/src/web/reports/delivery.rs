//! Scheduled delivery of reports: a reactor that, on a tick, finds the reports whose period has come
//! (daily, weekly on Mondays, monthly on the 1st, at the hour the schedule names, plant time) and sends
//! each recipient the report — by e-mail with the file attached through the configured relay, or to a
//! webhook the server allows as JSON. Each recipient's delivery of a period is recorded once sent, so a
//! retry sends only what did not go.

use chrono::{DateTime, Datelike, Duration, Timelike, Utc};
use serde_json::json;
use std::sync::Arc;
use suyuan_engine::Engine;
use suyuan_engine::reactor::{Clock, Reactor, ReactorError, SystemClock};
use suyuan_engine::rules::outbound::Outbound;
use suyuan_reports::report::Schedule;
use suyuan_reports::run::cells;

use crate::web::i18n::Lang;

/// The period a schedule is in at `local` time, if its hour (and day) has come: `2026-12-07`,
/// `2026-W50`, `2026-12`.
pub fn period(s: &Schedule, local: chrono::NaiveDateTime) -> Option<String> {
    let hour_come = local.hour() >= u32::from(s.hour);
    match s.every.as_str() {
        "daily" if hour_come => Some(local.format("%Y-%m-%d").to_string()),
        "weekly" if local.weekday() != chrono::Weekday::Mon || hour_come => {
            let w = local.iso_week();
            Some(format!("{}-W{:02}", w.year(), w.week()))
        }
        "monthly" if local.day() > 1 || hour_come => Some(local.format("%Y-%m").to_string()),
        _ => None,
    }
}

/// Sends every report whose period has come at `now` to each recipient not yet sent; answers how many
/// deliveries were made. The first failure stops the round (the next tick retries what is left).
pub async fn deliver_due(
    engine: &Engine,
    out: &Outbound,
    now: DateTime<Utc>,
) -> Result<usize, String> {
    let local = (now
        + Duration::minutes(i64::from(suyuan_engine::operations::plant_offset_minutes())))
    .naive_utc();
    let mut sent = 0;
    for r in engine.reports().await.map_err(|e| e.to_string())? {
        let Some(s) = &r.def.schedule else { continue };
        let Some(p) = period(s, local) else { continue };
        let mut table = None;
        for (i, to) in s.to.iter().enumerate() {
            let key = format!("{}/{p}/{i}", r.def.code);
            if engine.delivered(&key).await.map_err(|e| e.to_string())? {
                continue;
            }
            if table.is_none() {
                table = Some(
                    engine
                        .run_report(&r.def, now)
                        .await
                        .map_err(|e| e.to_string())?,
                );
            }
            let Some(t) = &table else { continue };
            let title = format!("{} / {} ({p})", r.def.name.zh, r.def.name.get("en"));
            if to.starts_with("http://") || to.starts_with("https://") {
                if !(out.webhooks)(to) {
                    return Err(format!(
                        "report {}: webhook {to} is not allowed (--webhook-allow)",
                        r.def.code
                    ));
                }
                let body = json!({"report": r.def.code, "name": r.def.name, "period": p,
                    "columns": t.columns, "rows": t.rows.iter().map(|row| cells(row)).collect::<Vec<_>>()});
                suyuan_engine::rules::actions::webhook(to, &body)
                    .await
                    .map_err(|e| e.to_string())?;
            } else {
                let Some(smtp) = &out.smtp else {
                    return Err(format!(
                        "report {}: e-mail to {to} needs a relay (suyuan serve --smtp-url, --smtp-from)",
                        r.def.code
                    ));
                };
                let (name, mime, bytes) =
                    crate::api::reports::file(&r.def, t, &s.format, Lang::Zh)?;
                let body = format!("{title}\n\n{} 行 / rows. 溯源 Suyuan", t.rows.len());
                smtp.send_file(
                    to,
                    &format!("[Suyuan] {title}"),
                    &body,
                    (&name, mime, bytes),
                )
                .await?;
            }
            engine
                .mark_delivered(&key, &json!({"to": to, "at": suyuan_core::time::format_utc_millis(now), "rows": t.rows.len()}))
                .await
                .map_err(|e| e.to_string())?;
            sent += 1;
        }
    }
    Ok(sent)
}

/// The reactor that delivers scheduled reports on a tick (every minute), at its clock's time.
pub struct Deliveries {
    out: Outbound,
    clock: Arc<dyn Clock>,
}

impl Deliveries {
    /// Deliveries through `out`, reading `clock`.
    pub fn new(out: Outbound, clock: Arc<dyn Clock>) -> Deliveries {
        Deliveries { out, clock }
    }

    /// Deliveries through `out` at the system's time.
    pub fn system(out: Outbound) -> Deliveries {
        Deliveries::new(out, Arc::new(SystemClock))
    }
}

#[async_trait::async_trait]
impl Reactor for Deliveries {
    fn name(&self) -> &'static str {
        "report_delivery"
    }

    async fn react(
        &self,
        engine: &Engine,
        entries: &[suyuan_store::OutboxEntry],
    ) -> Result<(), ReactorError> {
        if !entries.is_empty() {
            return Ok(());
        }
        let now = DateTime::from_timestamp_millis(self.clock.now_ms()).unwrap_or_else(Utc::now);
        deliver_due(engine, &self.out, now)
            .await
            .map(|_| ())
            .map_err(ReactorError)
    }

    fn tick(&self) -> Option<std::time::Duration> {
        Some(std::time::Duration::from_secs(60))
    }

    fn ticks_only(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_comes_at_its_hour() {
        let s = |every: &str| Schedule {
            every: every.into(),
            hour: 7,
            format: "xlsx".into(),
            to: vec![],
        };
        let at =
            |t: &str| chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M").expect("time");
        assert_eq!(period(&s("daily"), at("2026-12-07 06:59")), None);
        assert_eq!(
            period(&s("daily"), at("2026-12-07 07:00")).as_deref(),
            Some("2026-12-07")
        );
        // 2026-12-07 is a Monday.
        assert_eq!(period(&s("weekly"), at("2026-12-07 06:00")), None);
        assert_eq!(
            period(&s("weekly"), at("2026-12-08 01:00")).as_deref(),
            Some("2026-W50")
        );
        assert_eq!(period(&s("monthly"), at("2026-12-01 06:00")), None);
        assert_eq!(
            period(&s("monthly"), at("2026-12-02 00:00")).as_deref(),
            Some("2026-12")
        );
    }
}
