//! Calendar days. The server stores dates at day granularity only (`YYYY-MM-DD`, UTC), so a
//! case row cannot be matched against a log line or a network trace by its time. The calendar
//! arithmetic is the `time` crate's (years -9999..=9999).

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use time::{Date, Month};

/// Seconds since the Unix epoch, now.
#[must_use]
pub fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A civil date (proleptic Gregorian, UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day {
    /// Days since 1970-01-01.
    days: i64,
}

impl Day {
    /// Today in UTC.
    #[must_use]
    pub fn today() -> Self {
        Self::from_unix(now_secs())
    }

    /// The day that contains the Unix time `secs`.
    #[must_use]
    pub fn from_unix(secs: i64) -> Self {
        Day {
            days: secs.div_euclid(86_400),
        }
    }

    /// From year, month (1..=12) and day (1..=31); `None` if out of range.
    #[must_use]
    pub fn from_ymd(y: i64, m: u32, d: u32) -> Option<Self> {
        Some(Day {
            days: days_from_civil(y, m, d)?,
        })
    }

    /// Year, month, day.
    #[must_use]
    pub fn ymd(self) -> (i64, u32, u32) {
        civil_from_days(self.days)
    }

    /// `n` days later.
    #[must_use]
    pub fn plus_days(self, n: i64) -> Self {
        Day {
            days: self.days.saturating_add(n),
        }
    }

    /// `n` calendar months later; the day is clamped to the end of the month
    /// (31 January + 1 month = 28/29 February).
    #[must_use]
    pub fn plus_months(self, n: u32) -> Self {
        let (y, m, d) = self.ymd();
        let total = y * 12 + i64::from(m - 1) + i64::from(n);
        let ny = total.div_euclid(12);
        let nm = u32::try_from(total.rem_euclid(12)).unwrap_or(0) + 1;
        let nd = d.min(days_in_month(ny, nm));
        // Out of the calendar's range (after the year 9999): saturate.
        Day {
            days: days_from_civil(ny, nm, nd).unwrap_or(i64::MAX),
        }
    }

    /// Days from `self` to `other` (positive when `other` is later).
    #[must_use]
    pub fn days_until(self, other: Day) -> i64 {
        other.days - self.days
    }

    /// Parses `YYYY-MM-DD`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        let mut parts = s.splitn(3, '-');
        let y = parts.next()?.parse::<i64>().ok()?;
        let m = parts.next()?.parse::<u32>().ok()?;
        let d = parts.next()?.parse::<u32>().ok()?;
        if s.len() != 10 {
            return None;
        }
        Self::from_ymd(y, m, d)
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

/// Julian day number of 1970-01-01.
const UNIX_EPOCH_JULIAN_DAY: i64 = 2_440_588;

fn days_in_month(y: i64, m: u32) -> u32 {
    let (Ok(y), Some(m)) = (i32::try_from(y), month(m)) else {
        return 0;
    };
    u32::from(time::util::days_in_month(m, y))
}

fn month(m: u32) -> Option<Month> {
    Month::try_from(u8::try_from(m).ok()?).ok()
}

/// Days since 1970-01-01 of a valid civil date (years -9999..=9999, `time`'s range).
fn days_from_civil(y: i64, m: u32, d: u32) -> Option<i64> {
    let date = Date::from_calendar_date(
        i32::try_from(y).ok()?,
        month(m)?,
        u8::try_from(d).ok()?,
    )
    .ok()?;
    Some(i64::from(date.to_julian_day()) - UNIX_EPOCH_JULIAN_DAY)
}

/// The civil date of `z` days since 1970-01-01 (clamped to years -9999..=9999).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let jd = z.saturating_add(UNIX_EPOCH_JULIAN_DAY).clamp(
        i64::from(Date::MIN.to_julian_day()),
        i64::from(Date::MAX.to_julian_day()),
    );
    let date = i32::try_from(jd)
        .ok()
        .and_then(|jd| Date::from_julian_day(jd).ok())
        .unwrap_or(Date::MIN);
    (
        i64::from(date.year()),
        u32::from(u8::from(date.month())),
        u32::from(date.day()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_arithmetic() {
        assert_eq!(Day::from_unix(0).to_string(), "1970-01-01");
        assert_eq!(Day::from_unix(1_700_000_000).to_string(), "2023-11-14");
        let d = Day::parse("2024-01-31").unwrap();
        assert_eq!(d.plus_months(1).to_string(), "2024-02-29");
        assert_eq!(d.plus_months(3).to_string(), "2024-04-30");
        assert_eq!(d.plus_days(7).to_string(), "2024-02-07");
        assert_eq!(
            Day::parse("2023-11-30").unwrap().plus_months(3).to_string(),
            "2024-02-29"
        );
        assert!(Day::parse("2023-02-29").is_none());
        assert!(Day::parse("2023-2-01").is_none());
        for n in [-1000i64, 0, 19_000, 20_000, 100_000] {
            let day = Day { days: n };
            assert_eq!(Day::parse(&day.to_string()), Some(day));
        }
    }
}
