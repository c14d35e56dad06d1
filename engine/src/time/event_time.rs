//! Reading event time from values as they arrive from outside: epoch numbers in a
//! declared unit, RFC 3339 / ISO-8601 strings (with or without a zone; without one they
//! are UTC, as Spark reads them with its default session zone set to UTC), and chrono
//! timestamps. A value that is not a time is an error naming what was found, never a
//! silent "no event time" (which windows would count as late).

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};

use super::{Timestamp, MAX_EVENT_TIME, MIN_EVENT_TIME};
use crate::row::Value;

/// The unit of numeric event times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeUnit {
    /// Seconds since the epoch (Unix time; fractions kept to the millisecond).
    Seconds,
    /// Milliseconds since the epoch (the engine's own unit).
    #[default]
    Millis,
    /// Microseconds since the epoch (Parquet and Spark timestamps).
    Micros,
    /// Nanoseconds since the epoch.
    Nanos,
}

impl TimeUnit {
    fn millis_of_int(self, n: i64) -> Option<Timestamp> {
        match self {
            TimeUnit::Seconds => n.checked_mul(1_000),
            TimeUnit::Millis => Some(n),
            TimeUnit::Micros => Some(n.div_euclid(1_000)),
            TimeUnit::Nanos => Some(n.div_euclid(1_000_000)),
        }
    }

    fn millis_of_float(self, x: f64) -> Option<Timestamp> {
        let ms = match self {
            TimeUnit::Seconds => x * 1e3,
            TimeUnit::Millis => x,
            TimeUnit::Micros => x / 1e3,
            TimeUnit::Nanos => x / 1e6,
        };
        ms.is_finite()
            .then(|| ms.floor())
            .filter(|m| m.abs() < 9.2e18)
            .map(|m| m as i64)
    }
}

/// Parses an RFC 3339 / ISO-8601 time: `2024-01-01T12:00:00Z`, `...+02:00`,
/// `2024-01-01T12:00:00.250` or `2024-01-01 12:00:00` (UTC), or a date `2024-01-01`
/// (midnight UTC), into epoch milliseconds.
///
/// ```
/// use tidewater_engine::time::parse_time;
/// assert_eq!(parse_time("1970-01-01T00:00:01.5Z"), Ok(1_500));
/// assert_eq!(parse_time("2024-01-01T01:00:00+01:00"), Ok(1_704_067_200_000));
/// assert_eq!(parse_time("2024-01-01 00:00:00"), Ok(1_704_067_200_000));
/// assert_eq!(parse_time("2024-01-01"), Ok(1_704_067_200_000));
/// assert!(parse_time("yesterday").is_err());
/// ```
pub fn parse_time(text: &str) -> Result<Timestamp, String> {
    let t = text.trim();
    let parsed = DateTime::parse_from_rfc3339(t)
        .map(|d| d.timestamp_millis())
        .or_else(|_| {
            [
                "%Y-%m-%dT%H:%M:%S%.f",
                "%Y-%m-%d %H:%M:%S%.f",
                "%Y-%m-%dT%H:%M",
                "%Y-%m-%d %H:%M",
            ]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
            .map(|n| Utc.from_utc_datetime(&n).timestamp_millis())
            .ok_or(())
        })
        .or_else(|_| {
            NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|n| Utc.from_utc_datetime(&n).timestamp_millis())
                .ok_or(())
        })
        .map_err(|_| {
            format!("`{text}` is not an RFC 3339 / ISO-8601 time (such as 2024-01-01T12:00:00Z)")
        })?;
    in_range(parsed)
}

/// The event time a field value holds: an integer or float epoch time in `unit`, or an
/// RFC 3339 / ISO-8601 string. Null, booleans and other strings are errors.
///
/// ```
/// use tidewater_engine::row::Value;
/// use tidewater_engine::time::{event_time_of, TimeUnit};
/// assert_eq!(event_time_of(&Value::Int(1_700_000_000), TimeUnit::Seconds), Ok(1_700_000_000_000));
/// assert_eq!(event_time_of(&Value::Float(1.25), TimeUnit::Seconds), Ok(1_250));
/// assert_eq!(event_time_of(&Value::from("1970-01-01T00:00:02Z"), TimeUnit::Millis), Ok(2_000));
/// assert_eq!(
///     event_time_of(&Value::Null, TimeUnit::Millis).unwrap_err(),
///     "null is not a time (expected epoch milliseconds or an RFC 3339 / ISO-8601 string)"
/// );
/// ```
pub fn event_time_of(value: &Value, unit: TimeUnit) -> Result<Timestamp, String> {
    let expected = || {
        let unit = match unit {
            TimeUnit::Seconds => "seconds",
            TimeUnit::Millis => "milliseconds",
            TimeUnit::Micros => "microseconds",
            TimeUnit::Nanos => "nanoseconds",
        };
        format!("expected epoch {unit} or an RFC 3339 / ISO-8601 string")
    };
    let ms = match value {
        Value::Int(n) => unit.millis_of_int(*n),
        Value::Float(x) => unit.millis_of_float(*x),
        Value::Str(s) => return parse_time(s),
        Value::Null => return Err(format!("null is not a time ({})", expected())),
        Value::Bool(b) => return Err(format!("{b} is not a time ({})", expected())),
    };
    match ms {
        Some(ms) => in_range(ms),
        None => Err(format!("{value:?} is out of range ({})", expected())),
    }
}

/// A chrono timestamp as epoch milliseconds (for typed records' timestamp functions).
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use tidewater_engine::time::from_chrono;
/// assert_eq!(from_chrono(&Utc.with_ymd_and_hms(1970, 1, 1, 0, 1, 0).unwrap()), 60_000);
/// ```
pub fn from_chrono<Tz: TimeZone>(t: &DateTime<Tz>) -> Timestamp {
    t.timestamp_millis()
}

fn in_range(ms: Timestamp) -> Result<Timestamp, String> {
    if (MIN_EVENT_TIME..=MAX_EVENT_TIME).contains(&ms) {
        Ok(ms)
    } else {
        Err(format!(
            "{ms} ms is outside the event-time range [{MIN_EVENT_TIME}, {MAX_EVENT_TIME}]"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_from_every_kind_of_value() {
        // (value, unit, expected)
        let cases: Vec<(Value, TimeUnit, Result<i64, &str>)> = vec![
            (Value::Int(1_500), TimeUnit::Millis, Ok(1_500)),
            (Value::Int(-1), TimeUnit::Micros, Ok(-1)),
            (Value::Int(1_999_999), TimeUnit::Nanos, Ok(1)),
            (Value::Float(-0.5), TimeUnit::Seconds, Ok(-500)),
            (Value::from("2024-02-29T23:59:59.999Z"), TimeUnit::Millis, Ok(1_709_251_199_999)),
            (Value::from("2024-02-29T23:59:59.999-01:00"), TimeUnit::Millis, Ok(1_709_254_799_999)),
            (Value::from("2024-02-29 23:59"), TimeUnit::Millis, Ok(1_709_251_140_000)),
            (Value::Float(f64::NAN), TimeUnit::Millis, Err("Float(NaN) is out of range (expected epoch milliseconds or an RFC 3339 / ISO-8601 string)")),
            (Value::Bool(true), TimeUnit::Seconds, Err("true is not a time (expected epoch seconds or an RFC 3339 / ISO-8601 string)")),
            (Value::from("12:00"), TimeUnit::Millis, Err("`12:00` is not an RFC 3339 / ISO-8601 time (such as 2024-01-01T12:00:00Z)")),
            (Value::Int(i64::MAX), TimeUnit::Seconds, Err("Int(9223372036854775807) is out of range (expected epoch seconds or an RFC 3339 / ISO-8601 string)")),
            (Value::Int(1 << 62), TimeUnit::Millis, Err("4611686018427387904 ms is outside the event-time range [-2305843009213693952, 2305843009213693952]")),
        ];
        for (value, unit, expected) in cases {
            assert_eq!(
                event_time_of(&value, unit),
                expected.map_err(String::from),
                "{value:?} {unit:?}"
            );
        }
    }
}
