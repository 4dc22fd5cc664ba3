//! Timestamps as EPCIS uses them: RFC 3339 date-times with an offset, and `±HH:MM` time zone offsets.

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};

/// How far in the future (seconds) an event time may lie: clocks of scanners and PLCs drift, a date in 2099
/// is a mistake. `i64::MAX` turns the check off (the hash tool hashes whatever it is given).
static MAX_FUTURE_SKEW_SECS: std::sync::atomic::AtomicI64 =
    std::sync::atomic::AtomicI64::new(DEFAULT_MAX_FUTURE_SKEW_SECS);

/// The default tolerance for event times ahead of this server's clock: five minutes.
pub const DEFAULT_MAX_FUTURE_SKEW_SECS: i64 = 300;

/// Sets how far ahead of the clock an event time may be (`None`: no limit), for every way in.
pub fn set_max_future_skew(secs: Option<i64>) {
    MAX_FUTURE_SKEW_SECS.store(
        secs.unwrap_or(i64::MAX),
        std::sync::atomic::Ordering::Relaxed,
    );
}

thread_local! {
    /// Set while stored events are read back: they were checked when captured, and time has moved on since.
    static READING_STORED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with the future-time check off on this thread (for re-reading what the ledger already holds).
pub fn without_clock_check<T>(f: impl FnOnce() -> T) -> T {
    let before = READING_STORED.with(|c| c.replace(true));
    let out = f();
    READING_STORED.with(|c| c.set(before));
    out
}

/// An error when `t` lies further ahead of now than the configured clock skew.
pub fn check_not_future(t: &DateTime<FixedOffset>) -> Result<(), String> {
    let skew = MAX_FUTURE_SKEW_SECS.load(std::sync::atomic::Ordering::Relaxed);
    if skew == i64::MAX || READING_STORED.with(std::cell::Cell::get) {
        return Ok(());
    }
    let latest = Utc::now() + chrono::Duration::seconds(skew);
    if t.with_timezone(&Utc) > latest {
        return Err(format!(
            "is in the future: {} is more than {skew} s ahead of this server's clock ({}); check the \
             device's clock",
            t.to_rfc3339(),
            format_utc_millis(Utc::now())
        ));
    }
    Ok(())
}

/// Parses an RFC 3339 date-time with a zone offset; the error says what was expected.
pub fn parse_timestamp(s: &str) -> Result<DateTime<FixedOffset>, String> {
    DateTime::parse_from_rfc3339(s.trim())
        .map_err(|_| format!("expected RFC 3339 date-time, got \"{s}\""))
}

/// The hash form of a timestamp: UTC, millisecond precision rounded half up on the fourth decimal, `Z`.
pub fn canonical_millis(t: &DateTime<FixedOffset>) -> String {
    use chrono::Timelike;
    let rounded = t.with_timezone(&Utc) + chrono::Duration::nanoseconds(500_000);
    let floored =
        rounded - chrono::Duration::nanoseconds(i64::from(rounded.nanosecond() % 1_000_000));
    floored.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Milliseconds since the Unix epoch.
pub fn unix_millis(t: &DateTime<FixedOffset>) -> i64 {
    t.timestamp_millis()
}

/// Formats a UTC instant in RFC 3339 with milliseconds and `Z`.
pub fn format_utc_millis(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Formats milliseconds since the Unix epoch as RFC 3339 UTC with milliseconds (`None` when out of range).
pub fn format_unix_millis(ms: i64) -> Option<String> {
    DateTime::<Utc>::from_timestamp_millis(ms).map(format_utc_millis)
}

/// Validates a time zone offset of the form `+HH:MM` / `-HH:MM` (HH ≤ 14, MM < 60).
pub fn validate_offset(s: &str) -> Result<(), String> {
    let b = s.as_bytes();
    let ok = b.len() == 6
        && (b[0] == b'+' || b[0] == b'-')
        && b[3] == b':'
        && [1, 2, 4, 5].iter().all(|&i| b[i].is_ascii_digit())
        && {
            let hh = (b[1] - b'0') * 10 + (b[2] - b'0');
            let mm = (b[4] - b'0') * 10 + (b[5] - b'0');
            hh <= 14 && mm < 60
        };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "expected a time zone offset like \"+08:00\", got \"{s}\""
        ))
    }
}

/// The fixed offset of a valid `+HH:MM` / `-HH:MM` string.
pub fn parse_offset(s: &str) -> Option<chrono::FixedOffset> {
    validate_offset(s).ok()?;
    let b = s.as_bytes();
    let secs = i32::from((b[1] - b'0') * 10 + (b[2] - b'0')) * 3600
        + i32::from((b[4] - b'0') * 10 + (b[5] - b'0')) * 60;
    if b[0] == b'-' {
        chrono::FixedOffset::west_opt(secs)
    } else {
        chrono::FixedOffset::east_opt(secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_on_the_fourth_decimal() {
        let t = parse_timestamp("2023-02-02T11:04:03.1415Z").expect("valid");
        assert_eq!(canonical_millis(&t), "2023-02-02T11:04:03.142Z");
        let t = parse_timestamp("2023-02-02T11:04:03.1414Z").expect("valid");
        assert_eq!(canonical_millis(&t), "2023-02-02T11:04:03.141Z");
        let t = parse_timestamp("2023-02-02T23:59:59.9996+01:00").expect("valid");
        assert_eq!(canonical_millis(&t), "2023-02-02T23:00:00.000Z");
    }

    #[test]
    fn bad_values_are_explained() {
        assert_eq!(
            parse_timestamp("2024-13-01").expect_err("invalid"),
            "expected RFC 3339 date-time, got \"2024-13-01\""
        );
        assert!(validate_offset("+08:00").is_ok());
        assert!(validate_offset("08:00").is_err());
        assert!(validate_offset("+25:00").is_err());
    }
}
