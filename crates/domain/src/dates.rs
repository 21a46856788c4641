//! Calendar rules of PRODUCT.md 3: local calendar dates, month-end clamping,
//! ages with 29 February birthdays.

use crate::ParseError;
use chrono::{Datelike, Months, NaiveDate, NaiveDateTime, TimeZone};

/// A calendar date in the institution's time zone.
pub type LocalDate = NaiveDate;
/// A wall-clock time in the institution's time zone.
pub type LocalDateTime = NaiveDateTime;

/// `date + months`, where a day past the end of a shorter month clamps to its
/// last day (2024-02-29 + 12 months = 2025-02-28; 2025-01-31 + 1 = 2025-02-28).
pub fn add_months_clamped(date: LocalDate, months: u32) -> LocalDate {
    // chrono's checked_add_months clamps to the last day of the month; it
    // only fails past year 262143, where we saturate.
    date.checked_add_months(Months::new(months)).unwrap_or(NaiveDate::MAX)
}

/// Age in full years at `on`. A 29 February birthday falls on 28 February in
/// common years. Negative ages (born after `on`) are returned as-is so the
/// caller can report them.
pub fn age_at(birth: LocalDate, on: LocalDate) -> i32 {
    let mut age = on.year() - birth.year();
    let (bm, mut bd) = (birth.month(), birth.day());
    if bm == 2 && bd == 29 && !is_leap(on.year()) {
        bd = 28;
    }
    if (on.month(), on.day()) < (bm, bd) {
        age -= 1;
    }
    age
}

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Result<LocalDate, ParseError> {
    if s.len() != 10 || s.as_bytes()[4] != b'-' || s.as_bytes()[7] != b'-' {
        return Err(ParseError::new(format!("{s:?} is not a date in the form YYYY-MM-DD")));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| ParseError::new(format!("{s:?} is not a valid calendar date")))
}

/// Parses an ISO 8601 timestamp. Without an offset it is local time in `tz`;
/// with one (`Z`, `+08:00`) it is converted to local time in `tz`. A bare
/// date means local midnight.
pub fn parse_timestamp(s: &str, tz: chrono_tz::Tz) -> Result<LocalDateTime, ParseError> {
    if s.len() == 10 {
        return parse_date(s).map(|d| d.and_time(chrono::NaiveTime::MIN));
    }
    const LOCAL: [&str; 4] = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"];
    for f in LOCAL {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Ok(t);
        }
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(tz.from_utc_datetime(&t.naive_utc()).naive_local());
    }
    let with_space = s.replacen(' ', "T", 1);
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(&with_space) {
        return Ok(tz.from_utc_datetime(&t.naive_utc()).naive_local());
    }
    Err(ParseError::new(format!(
        "{s:?} is not an ISO 8601 timestamp (YYYY-MM-DDTHH:MM:SS, optionally with an offset such as +08:00)"
    )))
}

/// Formats a local timestamp the way it is stored and exported:
/// `YYYY-MM-DDTHH:MM:SS` and the fraction, if any, in 3, 6 or 9 digits —
/// chrono's `%Y-%m-%dT%H:%M:%S%.f`, written by hand because an import
/// formats millions of them (chrono's format strings were ~5 % of it).
pub fn format_timestamp(t: &LocalDateTime) -> String {
    use chrono::Timelike;
    let (year, nanos) = (t.year(), t.nanosecond());
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        // years beyond four digits and leap seconds: chrono's own rules
        return t.format("%Y-%m-%dT%H:%M:%S%.f").to_string();
    }
    let mut b = [0u8; 29];
    let mut put = |at: usize, v: u32, width: usize| {
        let mut v = v;
        for i in (0..width).rev() {
            b[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, year as u32, 4);
    put(5, t.month(), 2);
    put(8, t.day(), 2);
    put(11, t.hour(), 2);
    put(14, t.minute(), 2);
    put(17, t.second(), 2);
    let len = if nanos == 0 {
        19
    } else if nanos % 1_000_000 == 0 {
        put(20, nanos / 1_000_000, 3);
        23
    } else if nanos % 1_000 == 0 {
        put(20, nanos / 1_000, 6);
        26
    } else {
        put(20, nanos, 9);
        29
    };
    for (at, c) in [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':'), (19, b'.')] {
        b[at] = c;
    }
    // ASCII digits and separators only
    String::from_utf8_lossy(&b[..len]).into_owned()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// The hand-written format is chrono's `%Y-%m-%dT%H:%M:%S%.f`, digit for
    /// digit: every fraction width, midnight, the ends of the year range.
    #[test]
    fn format_timestamp_is_chronos_format() {
        let days = ["0000-01-01", "0999-12-31", "1970-01-01", "2024-02-29", "2025-06-30", "9999-12-31"];
        let nanos = [0, 1, 999, 1_000, 5_000, 999_999, 1_000_000, 120_000_000, 999_000_000, 123_456_789, 999_999_999];
        for day in days {
            for (h, m, sec) in [(0, 0, 0), (9, 5, 7), (23, 59, 59)] {
                for n in nanos {
                    let t = d(day).and_hms_nano_opt(h, m, sec, n).unwrap();
                    assert_eq!(format_timestamp(&t), t.format("%Y-%m-%dT%H:%M:%S%.f").to_string(), "{t:?}");
                }
            }
        }
        let leap = d("2016-12-31").and_hms_nano_opt(23, 59, 59, 1_500_000_000).unwrap();
        assert_eq!(format_timestamp(&leap), leap.format("%Y-%m-%dT%H:%M:%S%.f").to_string());
        let far = NaiveDate::from_ymd_opt(12345, 1, 2).unwrap().and_hms_opt(3, 4, 5).unwrap();
        assert_eq!(format_timestamp(&far), far.format("%Y-%m-%dT%H:%M:%S%.f").to_string());
    }

    fn d(s: &str) -> LocalDate {
        parse_date(s).unwrap()
    }

    #[test]
    fn month_end_clamps_to_last_day_of_shorter_month() {
        assert_eq!(add_months_clamped(d("2024-02-29"), 12), d("2025-02-28"));
        assert_eq!(add_months_clamped(d("2024-02-29"), 24), d("2026-02-28"));
        assert_eq!(add_months_clamped(d("2024-02-29"), 48), d("2028-02-29"));
        assert_eq!(add_months_clamped(d("2025-01-31"), 1), d("2025-02-28"));
        assert_eq!(add_months_clamped(d("2025-03-31"), 12), d("2026-03-31"));
        assert_eq!(add_months_clamped(d("2025-08-31"), 1), d("2025-09-30"));
    }

    #[test]
    fn leap_day_birthday_falls_on_feb_28_in_common_years() {
        let b = d("2000-02-29");
        assert_eq!(age_at(b, d("2030-02-27")), 29);
        assert_eq!(age_at(b, d("2030-02-28")), 30);
        assert_eq!(age_at(b, d("2028-02-28")), 27);
        assert_eq!(age_at(b, d("2028-02-29")), 28);
    }

    #[test]
    fn age_counts_full_years() {
        assert_eq!(age_at(d("1960-06-15"), d("2025-06-14")), 64);
        assert_eq!(age_at(d("1960-06-15"), d("2025-06-15")), 65);
    }

    #[test]
    fn timestamps_without_offset_are_local_and_with_offset_convert() {
        let tz = chrono_tz::Asia::Shanghai;
        assert_eq!(format_timestamp(&parse_timestamp("2025-01-02T03:04:05", tz).unwrap()), "2025-01-02T03:04:05");
        assert_eq!(format_timestamp(&parse_timestamp("2025-01-01T20:00:00Z", tz).unwrap()), "2025-01-02T04:00:00");
        assert_eq!(format_timestamp(&parse_timestamp("2025-01-02", tz).unwrap()), "2025-01-02T00:00:00");
        assert!(parse_timestamp("2025-13-01T00:00:00", tz).is_err());
        assert!(parse_timestamp("yesterday", tz).is_err());
    }

    #[test]
    fn dates_must_be_strict() {
        assert!(parse_date("2025-1-01").is_err());
        assert!(parse_date("2025-02-30").is_err());
        assert!(parse_date("20250101").is_err());
    }
}

/// The day a person born on `birth` turns `years` old: the same month and
/// day, a 29 February birthday falling on 28 February in common years (as
/// [`age_at`] counts it).
pub fn nth_birthday(birth: LocalDate, years: i32) -> LocalDate {
    let y = birth.year() + years;
    let (m, mut d) = (birth.month(), birth.day());
    if m == 2 && d == 29 && !is_leap(y) {
        d = 28;
    }
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(if years >= 0 { NaiveDate::MAX } else { NaiveDate::MIN })
}

#[cfg(test)]
mod birthday_tests {
    use super::*;

    #[test]
    fn nth_birthday_agrees_with_age_at_including_29_february() {
        let d = |s: &str| parse_date(s).unwrap_or(NaiveDate::MIN);
        for (birth, want) in [("1960-03-15", "2025-03-15"), ("1960-02-29", "2025-02-28"), ("1964-02-29", "2029-02-28")]
        {
            let b65 = nth_birthday(d(birth), 65);
            assert_eq!(b65, d(want), "{birth}");
            assert_eq!(age_at(d(birth), b65), 65);
            assert_eq!(age_at(d(birth), b65.pred_opt().unwrap_or(b65)), 64);
        }
        assert_eq!(nth_birthday(d("1956-02-29"), 65), d("2021-02-28"));
        assert_eq!(nth_birthday(d("1955-02-28"), 65), d("2020-02-28"));
    }
}
