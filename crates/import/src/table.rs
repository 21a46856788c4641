//! One file's columns and one row's cells: the header checked against the
//! file's known columns, and the cell parsers that turn text into domain
//! values or row errors.

use std::io::Read;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use chrono_tz::Tz;
use tierwise_domain::ParseError;

use crate::records::Records;
use crate::RowError;

/// The most columns any import file knows (clients.csv).
pub(crate) const MAX_COLS: usize = 23;
/// The longest id, in characters.
pub(crate) const MAX_ID_CHARS: usize = 64;
/// The longest value handed to a parser (dates, amounts, codes…), in bytes;
/// anything longer is rejected without being echoed.
const MAX_VALUE_BYTES: usize = 256;
/// The longest reason kept in a row error, in characters.
const MAX_REASON_CHARS: usize = 500;

/// One import file: its name, its columns and which of them the header must have.
pub(crate) struct FileSpec {
    pub name: &'static str,
    pub columns: &'static [&'static str],
    pub required: &'static [&'static str],
    /// two columns of which the header must have at least one
    pub either: Option<(&'static str, &'static str)>,
}

/// Where each of a file's known columns is in its header.
pub(crate) struct Layout {
    pos: [Option<usize>; MAX_COLS],
    columns: &'static [&'static str],
    /// the number of fields of the header
    pub width: usize,
}

impl Layout {
    /// Maps the header; unknown, duplicate and missing columns are errors
    /// on the header's line.
    pub(crate) fn read<R: Read>(spec: &FileSpec, rec: &Records<R>, errors: &mut Vec<RowError>) -> Layout {
        let mut layout = Layout { pos: [None; MAX_COLS], columns: spec.columns, width: rec.field_count() };
        let line = rec.line();
        let mut err = |reason: String| errors.push(row_error(spec.name, line, None, reason));
        if rec.oversized() {
            err("the header row is too long".to_string());
            return layout;
        }
        for i in 0..rec.field_count() {
            let raw = rec.field(i).unwrap_or_default();
            let Ok(name) = std::str::from_utf8(raw) else {
                err(format!("column {} of the header is not valid UTF-8", i + 1));
                continue;
            };
            match spec.columns.iter().position(|c| *c == name) {
                None => err(format!("unknown column {:?}", clip(name))),
                Some(k) => match layout.pos.get_mut(k) {
                    Some(slot @ None) => *slot = Some(i),
                    _ => err(format!("duplicate column {name:?}")),
                },
            }
        }
        for req in spec.required {
            if !layout.has(req) {
                err(format!("missing required column {req:?}"));
            }
        }
        if let Some((a, b)) = spec.either {
            if !layout.has(a) && !layout.has(b) {
                err(format!("missing column {a:?} or {b:?} (one of them is required)"));
            }
        }
        layout
    }

    /// Whether the header has the column.
    pub(crate) fn has(&self, column: &str) -> bool {
        self.columns.iter().position(|c| *c == column).is_some_and(|k| self.pos.get(k).is_some_and(Option::is_some))
    }

    /// The cells of the current record in the order of the file's known
    /// columns; invalid UTF-8 is reported (and the cell marked bad).
    /// `errors` may be `None` to skip reporting.
    pub(crate) fn row<'r, R: Read>(&self, rec: &'r Records<R>, mut report: Option<&mut Check>) -> [Cell<'r>; MAX_COLS] {
        let mut cells = [Cell { col: "", val: Val::Missing }; MAX_COLS];
        // Usually the whole record is valid UTF-8, checked at once; a field
        // is then a slice of it (unless a field boundary splits a character).
        let whole = std::str::from_utf8(rec.all_fields()).ok();
        for (k, (cell, col)) in cells.iter_mut().zip(self.columns).enumerate() {
            cell.col = col;
            let Some(i) = self.pos.get(k).copied().flatten() else { continue };
            let span = rec.span(i).unwrap_or_default();
            if let Some(s) = whole.and_then(|w| w.get(span.clone())) {
                cell.val = if s.is_empty() { Val::Empty } else { Val::Text(s) };
                continue;
            }
            let raw = rec.field(i).unwrap_or_default();
            cell.val = if raw.is_empty() {
                Val::Empty
            } else {
                match std::str::from_utf8(raw) {
                    Ok(s) => Val::Text(s),
                    Err(_) => {
                        if let Some(chk) = report.as_deref_mut() {
                            chk.error(Some(col), "the value is not valid UTF-8".to_string());
                        }
                        Val::Bad
                    }
                }
            };
        }
        cells
    }
}

/// One cell of a row, with its column's name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cell<'r> {
    pub col: &'static str,
    pub val: Val<'r>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Val<'r> {
    /// the header has no such column (already reported when required)
    Missing,
    /// empty cell: absent
    Empty,
    /// already reported (invalid UTF-8)
    Bad,
    Text(&'r str),
}

impl<'r> Cell<'r> {
    /// Whether the cell holds something (a value or a bad value).
    pub(crate) fn is_given(&self) -> bool {
        matches!(self.val, Val::Text(_) | Val::Bad)
    }
}

/// The first `n` cells of a row, for destructuring in column order.
pub(crate) fn take<'r, const N: usize>(cells: &[Cell<'r>; MAX_COLS]) -> [Cell<'r>; N] {
    std::array::from_fn(|i| cells.get(i).copied().unwrap_or(Cell { col: "", val: Val::Missing }))
}

/// The errors of one row, and whether any value failed.
pub(crate) struct Check {
    pub file: &'static str,
    pub line: u64,
    pub errors: Vec<RowError>,
    /// some value of the row is missing or invalid: the row is not stored
    pub failed: bool,
}

impl Check {
    pub(crate) fn new(file: &'static str, line: u64) -> Check {
        Check { file, line, errors: Vec::new(), failed: false }
    }

    pub(crate) fn error(&mut self, column: Option<&str>, reason: String) {
        self.failed = true;
        self.errors.push(row_error(self.file, self.line, column, reason));
    }

    /// The text of a cell, `None` when absent (or bad: already reported).
    pub(crate) fn text<'r>(&mut self, c: Cell<'r>) -> Option<&'r str> {
        match c.val {
            Val::Text(s) => Some(s),
            Val::Bad => {
                self.failed = true;
                None
            }
            Val::Missing | Val::Empty => None,
        }
    }

    /// The text of a required cell: an empty cell is an error (a missing
    /// column was reported with the header).
    pub(crate) fn required<'r>(&mut self, c: Cell<'r>) -> Option<&'r str> {
        match c.val {
            Val::Text(s) => Some(s),
            Val::Empty => {
                self.error(Some(c.col), "a value is required".to_string());
                None
            }
            Val::Missing | Val::Bad => {
                self.failed = true;
                None
            }
        }
    }

    /// Parses an optional cell.
    pub(crate) fn opt<T>(&mut self, c: Cell<'_>, parse: impl FnOnce(&str) -> Result<T, ParseError>) -> Option<T> {
        let s = self.text(c)?;
        self.parse(c.col, s, parse)
    }

    /// Parses a required cell.
    pub(crate) fn req<T>(&mut self, c: Cell<'_>, parse: impl FnOnce(&str) -> Result<T, ParseError>) -> Option<T> {
        let s = self.required(c)?;
        self.parse(c.col, s, parse)
    }

    fn parse<T>(&mut self, col: &str, s: &str, parse: impl FnOnce(&str) -> Result<T, ParseError>) -> Option<T> {
        if s.len() > MAX_VALUE_BYTES {
            self.error(Some(col), format!("{:?} is too long ({} bytes)", clip(s), s.len()));
            return None;
        }
        match parse(s) {
            Ok(v) => Some(v),
            Err(e) => {
                self.error(Some(col), e.0);
                None
            }
        }
    }

    /// An optional id.
    pub(crate) fn opt_id(&mut self, c: Cell<'_>) -> Option<String> {
        self.opt(c, |s| parse_id(s).map(str::to_string))
    }

    /// A required id.
    pub(crate) fn req_id(&mut self, c: Cell<'_>) -> Option<String> {
        self.req(c, |s| parse_id(s).map(str::to_string))
    }

    /// Optional free text, kept as written.
    pub(crate) fn opt_text(&mut self, c: Cell<'_>) -> Option<String> {
        self.text(c).map(str::to_string)
    }
}

pub(crate) fn row_error(file: &str, line: u64, column: Option<&str>, reason: String) -> RowError {
    let reason = if reason.chars().count() > MAX_REASON_CHARS {
        let mut r: String = reason.chars().take(MAX_REASON_CHARS).collect();
        r.push('…');
        r
    } else {
        reason
    };
    RowError { file: file.to_string(), line, column: column.map(str::to_string), reason }
}

/// At most 40 characters of a value, for messages.
pub(crate) fn clip(s: &str) -> String {
    const N: usize = 40;
    match s.char_indices().nth(N) {
        Some((i, _)) => format!("{}…", s.get(..i).unwrap_or_default()),
        None => s.to_string(),
    }
}

/// An id: no spaces around it, no control characters, at most 64 characters.
pub(crate) fn parse_id(s: &str) -> Result<&str, ParseError> {
    if s.chars().count() > MAX_ID_CHARS {
        return Err(ParseError::new(format!("{:?} is longer than {MAX_ID_CHARS} characters", clip(s))));
    }
    if s.trim() != s {
        return Err(ParseError::new(format!("{s:?} has spaces before or after it")));
    }
    if s.chars().any(char::is_control) {
        return Err(ParseError::new(format!("{s:?} contains a control character")));
    }
    if s.is_empty() {
        return Err(ParseError::new("the id is empty"));
    }
    Ok(s)
}

/// A whole number ≥ 0 (years, months, a count).
pub(crate) fn parse_count(s: &str) -> Result<u32, ParseError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseError::new(format!("{s:?} is not a whole number of 0 or more")));
    }
    s.parse::<u32>().map_err(|_| ParseError::new(format!("{s:?} is too large")))
}

/// A rate written as a plain decimal fraction (`0.0035` for 0.35 %), at most 1.
pub(crate) fn parse_rate(s: &str) -> Result<rust_decimal::Decimal, ParseError> {
    let r = tierwise_domain::parse_money(s)?;
    if r > rust_decimal::Decimal::ONE {
        return Err(ParseError::new(format!(
            "{s} is more than 1: write rates as decimal fractions (0.0035 for 0.35%)"
        )));
    }
    Ok(r)
}

/// [`tierwise_domain::parse_date`], with a fast path for the plain form.
pub(crate) fn date(s: &str) -> Result<NaiveDate, ParseError> {
    match plain_date(s.as_bytes()) {
        Some(d) => Ok(d),
        None => tierwise_domain::parse_date(s),
    }
}

/// [`tierwise_domain::parse_timestamp`], with a fast path for the plain
/// local form `YYYY-MM-DDTHH:MM:SS` (or with a space) that gives the same
/// result; anything else, valid or not, goes to the domain's parser.
pub(crate) fn timestamp(s: &str, tz: Tz) -> Result<NaiveDateTime, ParseError> {
    if let [date @ .., sep, h0, h1, b':', m0, m1, b':', s0, s1] = s.as_bytes() {
        if *sep == b'T' || *sep == b' ' {
            let time = || NaiveTime::from_hms_opt(digits(&[*h0, *h1])?, digits(&[*m0, *m1])?, digits(&[*s0, *s1])?);
            if let (Some(d), Some(t)) = (plain_date(date), time()) {
                return Ok(d.and_time(t));
            }
        }
    }
    tierwise_domain::parse_timestamp(s, tz)
}

fn plain_date(b: &[u8]) -> Option<NaiveDate> {
    let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1] = b else { return None };
    let year = i32::try_from(digits(&[*y0, *y1, *y2, *y3])?).ok()?;
    NaiveDate::from_ymd_opt(year, digits(&[*m0, *m1])?, digits(&[*d0, *d1])?)
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |n, d| d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0')))
}

/// An ISO 4217 currency code: three capital letters.
pub(crate) fn parse_currency(s: &str) -> Result<String, ParseError> {
    if s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(s.to_string())
    } else {
        Err(ParseError::new(format!("{s:?} is not a currency code (three capital letters, such as CNY)")))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_trimmed_short_and_printable() {
        assert!(parse_id("C0001").is_ok());
        assert!(parse_id("客户-1").is_ok());
        assert!(parse_id(" C1").unwrap_err().0.contains("spaces"));
        assert!(parse_id("C\t1").is_err());
        assert!(parse_id(&"x".repeat(64)).is_ok());
        assert!(parse_id(&"x".repeat(65)).unwrap_err().0.contains("longer than 64"));
    }

    #[test]
    fn counts_rates_and_currencies() {
        assert_eq!(parse_count("12"), Ok(12));
        assert!(parse_count("-1").is_err());
        assert!(parse_count("1.5").is_err());
        assert!(parse_count("99999999999").unwrap_err().0.contains("too large"));
        assert!(parse_rate("0.0035").is_ok());
        assert!(parse_rate("35").unwrap_err().0.contains("more than 1"));
        assert!(parse_currency("USD").is_ok());
        assert!(parse_currency("usd").is_err());
    }

    #[test]
    fn fast_dates_and_timestamps_agree_with_the_domain() {
        let tz = chrono_tz::Asia::Shanghai;
        for s in [
            "2025-01-31",
            "2024-02-29",
            "2025-02-29",
            "2025-13-01",
            "2025-00-10",
            "0000-01-01",
            "+025-01-01",
            "2025-1-011",
            "2025/01/01",
            "２０２５-01-01",
        ] {
            assert_eq!(date(s), tierwise_domain::parse_date(s), "{s}");
        }
        for s in [
            "2025-01-31T10:11:12",
            "2025-01-31 10:11:12",
            "2025-01-31T23:59:60",
            "2025-01-31T24:00:00",
            "2025-01-31T10:60:00",
            "2025-02-30T10:00:00",
            "2025-01-31X10:11:12",
            "2025-01-31T10:11:12Z",
            "2025-01-31T10:11",
            "2025-01-31",
            "2025-01-31T1a:11:12",
            "20250131T10:11:12",
        ] {
            assert_eq!(timestamp(s, tz), tierwise_domain::parse_timestamp(s, tz), "{s}");
        }
    }

    #[test]
    fn clip_keeps_forty_characters() {
        assert_eq!(clip("short"), "short");
        let long = "中".repeat(50);
        assert_eq!(clip(&long).chars().count(), 41);
    }
}
