//! Calendar days (UTC) of Unix times, as the advisor commands show and count them (the `time`
//! crate, as in the server; no time zone database).

use time::{Date, OffsetDateTime};

/// Seconds since the Unix epoch, now.
pub(crate) fn now_secs() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// The UTC day that contains the Unix time `secs`; `None` outside the years -9999..=9999.
pub(crate) fn day_of(secs: i64) -> Option<Date> {
    OffsetDateTime::from_unix_timestamp(secs).ok().map(OffsetDateTime::date)
}

/// `YYYY-MM-DD` of the UTC day that contains the Unix time `secs` (`?` if out of range).
pub(crate) fn day_string(secs: i64) -> String {
    day_of(secs).map_or_else(|| "?".to_owned(), |d| d.to_string())
}

/// Calendar days from the day of `from` to the day of `to` (positive when `to` is later).
pub(crate) fn days_between(from: i64, to: i64) -> i64 {
    to.div_euclid(86_400) - from.div_euclid(86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_of_unix_times() {
        assert_eq!(day_string(0), "1970-01-01");
        assert_eq!(day_string(-1), "1969-12-31");
        assert_eq!(day_string(1_700_000_000), "2023-11-14");
        assert_eq!(day_string(i64::MAX), "?");
        assert_eq!(days_between(86_399, 86_400), 1);
        assert_eq!(days_between(86_400 * 10, 0), -10);
    }
}
