//! Durations written as Spark does: `"10 seconds"`, `"5 minutes"`, `"1 hour"`, `"250 ms"`.

use std::time::Duration;

use crate::error::{EngineError, Result};

/// Parses a Spark-style duration string.
///
/// Accepted units (singular or plural): `ms`/`millisecond`, `s`/`sec`/`second`,
/// `m`/`min`/`minute`, `h`/`hour`, `d`/`day`, `w`/`week`. Several parts may follow each
/// other (`"1 minute 30 seconds"`); a number may also touch its unit (`"10s"`).
///
/// ```
/// use std::time::Duration;
/// use tidewater_engine::time::parse_duration;
/// assert_eq!(parse_duration("10 seconds").unwrap(), Duration::from_secs(10));
/// assert_eq!(parse_duration("1 minute 30s").unwrap(), Duration::from_secs(90));
/// assert!(parse_duration("ten seconds").is_err());
/// ```
pub fn parse_duration(input: &str) -> Result<Duration> {
    let err = |reason: &str| EngineError::InvalidDuration {
        input: input.to_string(),
        reason: reason.to_string(),
    };
    let text = input.trim().to_ascii_lowercase();
    let text = text.strip_prefix("interval ").unwrap_or(&text);
    if text.is_empty() {
        return Err(err("expected `<number> <unit>`, found nothing"));
    }
    let mut total: u128 = 0;
    let mut rest = text.trim();
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(err("expected a whole number before each unit"));
        }
        let amount: u128 = rest[..digits]
            .parse()
            .map_err(|_| err("number too large"))?;
        rest = rest[digits..].trim_start();
        let unit_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        let millis_per_unit: u128 = match unit {
            "ms" | "milli" | "millis" | "millisecond" | "milliseconds" => 1,
            "s" | "sec" | "secs" | "second" | "seconds" => 1_000,
            "m" | "min" | "mins" | "minute" | "minutes" => 60_000,
            "h" | "hr" | "hrs" | "hour" | "hours" => 3_600_000,
            "d" | "day" | "days" => 86_400_000,
            "w" | "week" | "weeks" => 604_800_000,
            "" => {
                return Err(err(
                    "missing unit (ms, seconds, minutes, hours, days, weeks)",
                ))
            }
            _ => {
                return Err(err(
                    "unknown unit (expected ms, seconds, minutes, hours, days, weeks)",
                ))
            }
        };
        total = total
            .checked_add(amount.saturating_mul(millis_per_unit))
            .ok_or_else(|| err("duration too large"))?;
        rest = rest[unit_len..].trim_start();
    }
    let millis = u64::try_from(total).map_err(|_| err("duration too large"))?;
    Ok(Duration::from_millis(millis))
}

/// Anything that names a duration: a [`Duration`] or a Spark-style string.
pub trait IntoDuration {
    /// Converts to a duration, or says why the text is not one.
    fn into_duration(self) -> Result<Duration>;
}

impl IntoDuration for Duration {
    fn into_duration(self) -> Result<Duration> {
        Ok(self)
    }
}

impl IntoDuration for &str {
    fn into_duration(self) -> Result<Duration> {
        parse_duration(self)
    }
}

impl IntoDuration for String {
    fn into_duration(self) -> Result<Duration> {
        parse_duration(&self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_compound_durations() {
        let cases = [
            ("250 ms", 250),
            ("10 seconds", 10_000),
            ("1 second", 1_000),
            ("10s", 10_000),
            ("5 minutes", 300_000),
            ("1 hour", 3_600_000),
            ("2 days", 172_800_000),
            ("1 week", 604_800_000),
            ("interval 1 minute 30 seconds", 90_000),
            ("  3 MINUTES ", 180_000),
        ];
        for (text, millis) in cases {
            assert_eq!(
                parse_duration(text).unwrap(),
                Duration::from_millis(millis),
                "{text}"
            );
        }
    }

    #[test]
    fn rejects_malformed_durations_with_the_input_named() {
        for text in [
            "",
            "seconds",
            "10",
            "10 parsecs",
            "-5 seconds",
            "1.5 seconds",
        ] {
            let e = parse_duration(text).unwrap_err();
            assert!(matches!(&e, EngineError::InvalidDuration { input, .. } if input == text));
        }
    }
}
