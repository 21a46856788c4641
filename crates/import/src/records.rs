//! CSV records with the line each starts on, counted as a text editor counts
//! lines.
//!
//! The `csv` crate reports a record's position as the place where the
//! previous record ended, which is one line early after a CRLF line end and
//! several lines early after blank lines. This reader drives `csv-core`
//! itself and skips line ends before each record, so that the line it
//! reports is the one the record's first byte is on. It also bounds the
//! memory one record may take: a longer record is read through and reported
//! as oversized, never held whole.

use std::io::{self, Read};

use csv_core::ReadRecordResult;

/// The longest record (its field bytes added up) that is kept.
pub(crate) const MAX_RECORD_BYTES: usize = 1 << 20;
/// The most fields a record may have.
pub(crate) const MAX_FIELDS: usize = 4096;

const BUF_SIZE: usize = 64 * 1024;

pub(crate) struct Records<R> {
    src: R,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    eof: bool,
    started: bool,
    core: csv_core::Reader,
    /// `\n` bytes skipped by this reader (not seen by `core`)
    skipped_newlines: u64,
    fields: Vec<u8>,
    ends: Vec<usize>,
    nfields: usize,
    line: u64,
    oversized: bool,
}

impl<R: Read> Records<R> {
    pub(crate) fn new(src: R) -> Records<R> {
        Records {
            src,
            buf: vec![0; BUF_SIZE],
            pos: 0,
            len: 0,
            eof: false,
            started: false,
            core: csv_core::Reader::new(),
            skipped_newlines: 0,
            fields: vec![0; 1024],
            ends: vec![0; 64],
            nfields: 0,
            line: 0,
            oversized: false,
        }
    }

    /// Reads more input once everything buffered is consumed.
    fn fill(&mut self) -> io::Result<()> {
        if self.pos < self.len || self.eof {
            return Ok(());
        }
        loop {
            match self.src.read(&mut self.buf) {
                Ok(0) => {
                    self.eof = true;
                    self.pos = 0;
                    self.len = 0;
                }
                Ok(n) => {
                    self.pos = 0;
                    self.len = n.min(self.buf.len());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            return Ok(());
        }
    }

    /// Skips a UTF-8 byte order mark at the very start of the input.
    fn skip_bom(&mut self) -> io::Result<()> {
        const BOM: &[u8] = b"\xef\xbb\xbf";
        // Short reads are possible: gather up to three bytes first.
        while self.len < BOM.len() && !self.eof {
            match self.src.read(&mut self.buf[self.len..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.len += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.len = self.len.min(self.buf.len());
        if self.buf.get(..self.len).is_some_and(|b| b.starts_with(BOM)) {
            self.pos = BOM.len();
        }
        Ok(())
    }

    /// Advances to the next record; `Ok(false)` at the end of the input.
    /// Blank lines are skipped.
    pub(crate) fn advance(&mut self) -> io::Result<bool> {
        if !self.started {
            self.started = true;
            self.skip_bom()?;
        }
        // Skip line ends so that the record's first byte is next.
        loop {
            self.fill()?;
            let Some(&b) = self.buf.get(self.pos).filter(|_| self.pos < self.len) else {
                return Ok(false);
            };
            match b {
                b'\n' => self.skipped_newlines += 1,
                b'\r' => {}
                _ => break,
            }
            self.pos += 1;
        }
        self.line = self.core.line() + self.skipped_newlines;
        self.oversized = false;
        let (mut outlen, mut endlen) = (0usize, 0usize);
        loop {
            self.fill()?;
            let input = self.buf.get(self.pos..self.len).unwrap_or(&[]);
            let fields = self.fields.get_mut(outlen..).unwrap_or(&mut []);
            let ends = self.ends.get_mut(endlen..).unwrap_or(&mut []);
            let (res, nin, nout, nend) = self.core.read_record(input, fields, ends);
            self.pos += nin;
            outlen += nout;
            endlen += nend;
            match res {
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => {
                    if self.fields.len() >= MAX_RECORD_BYTES {
                        // Keep reading, throwing the bytes away.
                        self.oversized = true;
                        outlen = 0;
                    } else {
                        let n = (self.fields.len() * 2).min(MAX_RECORD_BYTES);
                        self.fields.resize(n, 0);
                    }
                }
                ReadRecordResult::OutputEndsFull => {
                    if self.ends.len() >= MAX_FIELDS {
                        self.oversized = true;
                        endlen = 0;
                    } else {
                        let n = (self.ends.len() * 2).min(MAX_FIELDS);
                        self.ends.resize(n, 0);
                    }
                }
                ReadRecordResult::Record => {
                    self.nfields = endlen;
                    return Ok(true);
                }
                ReadRecordResult::End => return Ok(false),
            }
        }
    }

    /// The line the current record starts on (1 = the first line).
    pub(crate) fn line(&self) -> u64 {
        self.line
    }

    /// Whether the current record was too long to keep (its fields are then
    /// not available).
    pub(crate) fn oversized(&self) -> bool {
        self.oversized
    }

    /// The number of fields of the current record.
    pub(crate) fn field_count(&self) -> usize {
        self.nfields
    }

    /// Field `i` of the current record, as bytes.
    pub(crate) fn field(&self, i: usize) -> Option<&[u8]> {
        self.fields.get(self.span(i)?)
    }

    /// Where field `i` is in [`Records::all_fields`].
    pub(crate) fn span(&self, i: usize) -> Option<std::ops::Range<usize>> {
        if i >= self.nfields || self.oversized {
            return None;
        }
        let start = if i == 0 { 0 } else { *self.ends.get(i - 1)? };
        Some(start..*self.ends.get(i)?)
    }

    /// The bytes of all fields of the current record, one after the other.
    pub(crate) fn all_fields(&self) -> &[u8] {
        let end = match self.nfields.checked_sub(1) {
            Some(last) if !self.oversized => self.ends.get(last).copied().unwrap_or(0),
            _ => 0,
        };
        self.fields.get(..end).unwrap_or_default()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// A reader handing out at most `n` bytes per read, to exercise refills.
    struct Trickle<'a>(&'a [u8], usize);
    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.1.min(out.len()).min(self.0.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn lines(input: &[u8], chunk: usize) -> Vec<(u64, Vec<String>)> {
        let mut r = Records::new(Trickle(input, chunk));
        let mut out = Vec::new();
        while r.advance().unwrap() {
            let fields =
                (0..r.field_count()).map(|i| String::from_utf8_lossy(r.field(i).unwrap()).into_owned()).collect();
            out.push((r.line(), fields));
        }
        out
    }

    #[test]
    fn lines_are_counted_like_an_editor_with_lf_crlf_and_blank_lines() {
        for chunk in [1, 2, 3, 7, 1 << 20] {
            let lf = lines(b"h1,h2\na,b\n\n\nc,d\n", chunk);
            assert_eq!(lf.iter().map(|r| r.0).collect::<Vec<_>>(), [1, 2, 5], "chunk {chunk}");
            let crlf = lines(b"h1,h2\r\na,b\r\n\r\nc,d", chunk);
            assert_eq!(crlf.iter().map(|r| r.0).collect::<Vec<_>>(), [1, 2, 4], "chunk {chunk}");
            let quoted = lines(b"h1,h2\r\na,\"x\r\ny\"\r\nc,d\r\n", chunk);
            assert_eq!(quoted.iter().map(|r| r.0).collect::<Vec<_>>(), [1, 2, 4], "chunk {chunk}");
            assert_eq!(quoted[1].1, ["a", "x\r\ny"]);
        }
    }

    #[test]
    fn a_bom_is_skipped_and_empty_input_has_no_record() {
        for chunk in [1, 2, 64] {
            let r = lines(b"\xef\xbb\xbfclient_id\nC1\n", chunk);
            assert_eq!(r, [(1, vec!["client_id".to_string()]), (2, vec!["C1".to_string()])]);
            assert!(lines(b"", chunk).is_empty());
            assert!(lines(b"\xef\xbb\xbf", chunk).is_empty());
            assert!(lines(b"\r\n\n", chunk).is_empty());
        }
    }

    #[test]
    fn oversized_records_are_read_through_without_being_kept() {
        let mut input = b"a\n".to_vec();
        input.extend(vec![b'x'; MAX_RECORD_BYTES + 10]);
        input.extend(b"\nb\n");
        let mut r = Records::new(&input[..]);
        assert!(r.advance().unwrap() && !r.oversized());
        assert!(r.advance().unwrap() && r.oversized() && r.field(0).is_none());
        assert!(r.advance().unwrap() && !r.oversized());
        assert_eq!((r.line(), r.field(0)), (3, Some(&b"b"[..])));
    }
}
