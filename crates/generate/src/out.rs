//! Output: CSV rows formatted into memory without fallible steps, flushed to
//! files in large blocks, renamed into place only when the whole book is written.

use crate::GenerateError;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A buffer is written out once it holds this many bytes.
const FLUSH_AT: usize = 1 << 20;

/// One output file: rows are formatted into `buf`, and the buffer is written to
/// `<name>.tmp` when full; `finish` renames the file to its final name. A sink
/// dropped unfinished (an error elsewhere) removes its temporary file.
pub(crate) struct Sink {
    pub buf: Vec<u8>,
    file: File,
    tmp: PathBuf,
    path: PathBuf,
    /// data rows written (the header excluded)
    pub rows: u64,
    finished: bool,
}

impl Sink {
    pub fn create(dir: &Path, (name, header): (&str, &[&str])) -> Result<Sink, GenerateError> {
        let path = dir.join(name);
        let tmp = dir.join(format!("{name}.tmp"));
        let file = File::create(&tmp).map_err(|source| GenerateError::Write { path: tmp.clone(), source })?;
        let mut buf = Vec::with_capacity(FLUSH_AT + (64 << 10));
        buf.extend_from_slice(header.join(",").as_bytes());
        buf.push(b'\n');
        Ok(Sink { buf, file, tmp, path, rows: 0, finished: false })
    }

    /// Starts a data row.
    pub fn row(&mut self) -> Row<'_> {
        self.rows += 1;
        Row(&mut self.buf)
    }

    pub fn flush_if_full(&mut self) -> Result<(), GenerateError> {
        if self.buf.len() >= FLUSH_AT {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), GenerateError> {
        self.file.write_all(&self.buf).map_err(|source| GenerateError::Write { path: self.tmp.clone(), source })?;
        self.buf.clear();
        Ok(())
    }

    /// Writes what is left and gives the file its final name.
    pub fn finish(&mut self) -> Result<(), GenerateError> {
        self.flush()?;
        self.file.flush().map_err(|source| GenerateError::Write { path: self.tmp.clone(), source })?;
        std::fs::rename(&self.tmp, &self.path)
            .map_err(|source| GenerateError::Write { path: self.path.clone(), source })?;
        self.finished = true;
        Ok(())
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        if !self.finished {
            // best effort: the error that stopped us is what gets reported
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// A CSV row being formatted: every field is followed by a comma, and `end`
/// turns the last comma into the line break.
pub(crate) struct Row<'a>(&'a mut Vec<u8>);

impl Row<'_> {
    /// A text field, quoted when it holds a comma, a quote or a line break.
    pub fn text(&mut self, s: &str) -> &mut Self {
        if s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
            self.0.push(b'"');
            for b in s.bytes() {
                if b == b'"' {
                    self.0.push(b'"');
                }
                self.0.push(b);
            }
            self.0.push(b'"');
        } else {
            self.0.extend_from_slice(s.as_bytes());
        }
        self.0.push(b',');
        self
    }

    /// A text field that may be absent.
    pub fn opt_text(&mut self, s: Option<&str>) -> &mut Self {
        match s {
            Some(s) => self.text(s),
            None => self.empty(),
        }
    }

    /// A field known to need no quoting (ASCII digits, dates, fixed spellings).
    pub fn raw(&mut self, s: &[u8]) -> &mut Self {
        self.0.extend_from_slice(s);
        self.0.push(b',');
        self
    }

    pub fn empty(&mut self) -> &mut Self {
        self.0.push(b',');
        self
    }

    /// `prefix` followed by `n` zero-padded to `width` digits (`C0000042`).
    pub fn id(&mut self, prefix: &str, n: u64, width: usize) -> &mut Self {
        put_id(self.0, prefix, n, width);
        self.0.push(b',');
        self
    }

    pub fn opt_id(&mut self, prefix: &str, n: Option<u64>, width: usize) -> &mut Self {
        match n {
            Some(n) => self.id(prefix, n, width),
            None => self.empty(),
        }
    }

    pub fn uint(&mut self, n: u64) -> &mut Self {
        put_uint(self.0, n);
        self.0.push(b',');
        self
    }

    pub fn opt_uint(&mut self, n: Option<u64>) -> &mut Self {
        match n {
            Some(n) => self.uint(n),
            None => self.empty(),
        }
    }

    /// Money from cents: `123456.78`.
    pub fn money(&mut self, cents: u64) -> &mut Self {
        put_money(self.0, cents);
        self.0.push(b',');
        self
    }

    pub fn opt_money(&mut self, cents: Option<u64>) -> &mut Self {
        match cents {
            Some(c) => self.money(c),
            None => self.empty(),
        }
    }

    /// A rate from ten-thousandths: 35 → `0.0035`; 0 → `0`.
    pub fn rate(&mut self, ten_thousandths: u32) -> &mut Self {
        if ten_thousandths == 0 {
            self.0.push(b'0');
        } else {
            put_uint(self.0, u64::from(ten_thousandths / 10_000));
            self.0.push(b'.');
            put_padded(self.0, u64::from(ten_thousandths % 10_000), 4);
        }
        self.0.push(b',');
        self
    }

    pub fn bool(&mut self, b: bool) -> &mut Self {
        self.raw(if b { b"true" } else { b"false" })
    }

    /// A local timestamp `YYYY-MM-DDTHH:MM:SS` from a formatted date and seconds of the day.
    pub fn ts(&mut self, date: &[u8; 10], secs: u32) -> &mut Self {
        self.0.extend_from_slice(date);
        self.0.push(b'T');
        put_padded(self.0, u64::from(secs / 3600 % 24), 2);
        self.0.push(b':');
        put_padded(self.0, u64::from(secs / 60 % 60), 2);
        self.0.push(b':');
        put_padded(self.0, u64::from(secs % 60), 2);
        self.0.push(b',');
        self
    }

    /// Ends the row.
    pub fn end(&mut self) {
        if self.0.last() == Some(&b',') {
            self.0.pop();
        }
        self.0.push(b'\n');
    }
}

/// Writes `n` right-aligned into `tmp`, zero-padded to `width` digits (at
/// most 20); returns where the digits start.
fn digits(mut n: u64, width: usize, tmp: &mut [u8; 20]) -> usize {
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    let start = tmp.len().saturating_sub(width).min(i);
    tmp[start..i].fill(b'0');
    start
}

pub(crate) fn put_uint(buf: &mut Vec<u8>, n: u64) {
    put_padded(buf, n, 1);
}

/// `n` with at least `width` digits, zero-padded.
pub(crate) fn put_padded(buf: &mut Vec<u8>, n: u64, width: usize) {
    let mut tmp = [0u8; 20];
    let start = digits(n, width, &mut tmp);
    buf.extend_from_slice(&tmp[start..]);
}

pub(crate) fn put_id(buf: &mut Vec<u8>, prefix: &str, n: u64, width: usize) {
    buf.extend_from_slice(prefix.as_bytes());
    put_padded(buf, n, width);
}

pub(crate) fn put_money(buf: &mut Vec<u8>, cents: u64) {
    put_uint(buf, cents / 100);
    buf.push(b'.');
    put_padded(buf, cents % 100, 2);
}

/// Number of decimal digits of `n` (at least 1).
pub(crate) fn digit_count(n: u64) -> usize {
    let mut tmp = [0u8; 20];
    tmp.len() - digits(n, 1, &mut tmp)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn row(f: impl FnOnce(&mut Row<'_>)) -> String {
        let mut buf = Vec::new();
        let mut r = Row(&mut buf);
        f(&mut r);
        r.end();
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn numbers_money_rates_and_ids_are_plain() {
        let s = row(|r| {
            r.uint(0).uint(1234567890).money(12345678).money(5).money(0).rate(35).rate(150).rate(0).id("C", 42, 7);
        });
        assert_eq!(s, "0,1234567890,123456.78,0.05,0.00,0.0035,0.0150,0,C0000042\n");
        assert_eq!(
            row(|r| {
                r.id("T", 123_456_789, 8);
            }),
            "T123456789\n"
        );
        assert_eq!(digit_count(0), 1);
        assert_eq!(digit_count(1_000_000), 7);
        assert_eq!(digit_count(u64::MAX), 20);
    }

    #[test]
    fn text_is_quoted_only_when_needed() {
        let s = row(|r| {
            r.text("张伟").text("a,b").text("say \"hi\"").empty().opt_text(None).bool(true);
        });
        assert_eq!(s, "张伟,\"a,b\",\"say \"\"hi\"\"\",,,true\n");
    }

    #[test]
    fn timestamps_have_seconds() {
        let s = row(|r| {
            r.ts(b"2025-03-04", 10 * 3600 + 15 * 60 + 7);
        });
        assert_eq!(s, "2025-03-04T10:15:07\n");
    }
}
