//! Times in configurations: epoch milliseconds, or an ISO 8601 string as the reference
//! documents write them (`"2024-01-01T00:00:00"`, UTC when no zone is given).

use serde::de::{self, Deserializer, Visitor};

/// Epoch ms from an ISO 8601 string: RFC 3339, `YYYY-MM-DD[ T]HH:MM:SS[.fff]` (UTC)
/// or a date.
///
/// ```
/// use tidewater_generators::core::parse_time;
/// assert_eq!(parse_time("2024-01-01T00:00:00"), Some(1_704_067_200_000));
/// assert_eq!(parse_time("2024-01-01T01:00:00+01:00"), Some(1_704_067_200_000));
/// assert_eq!(parse_time("2024-01-01"), Some(1_704_067_200_000));
/// assert_eq!(parse_time("soon"), None);
/// ```
pub fn parse_time(text: &str) -> Option<i64> {
    crate::genesis::TimestampStyle::parse(text.trim()).map(|(ms, _)| ms)
}

/// Deserializes a time given as epoch ms or as an ISO 8601 string (for `start_time`).
pub fn ms_or_iso<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    struct Time;
    impl Visitor<'_> for Time {
        type Value = i64;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("epoch milliseconds or an ISO 8601 time such as \"2024-01-01T00:00:00\"")
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
            i64::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
            v.parse::<i64>()
                .ok()
                .or_else(|| parse_time(v))
                .ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
        }
    }
    deserializer.deserialize_any(Time)
}
