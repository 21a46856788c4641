//! Import of the bank's CSV files (PRODUCT.md 7.3, `tierwise import DIR`):
//! CSV rows → domain values → row errors, stored all-or-nothing.
//!
//! [`import_dir`] reads whichever of the seven files exist in a directory,
//! in the order advisors, products, clients, holdings, transactions,
//! assessments, interactions (what a row refers to is read before it),
//! validates every row and writes everything inside one store transaction
//! that is committed only if there was no error at all. Files are streamed:
//! rows are written in batches while no error has been seen, and once one
//! has, the rest is still validated (to report everything) but no longer
//! written, and the transaction is rolled back. Memory grows with the number
//! of clients, advisors and products (their ids are kept to resolve
//! references) and by 8 bytes per row of the large files (hashed keys, to
//! find duplicates), never with a file's size. Reading and validating run
//! on a worker thread while the calling thread, which owns the store's
//! transaction, writes (so on two cores validation nearly hides behind the
//! writes); the store sees its calls in the same order either way.
//!
//! This crate must never panic or write partially, whatever the bytes it is
//! given; it knows files and CSV but not SQL (the store does) nor the
//! terminal (the CLI prints the report).
//!
//! # Decisions where PRODUCT.md is silent
//! - A cell is absent only when empty (`""` quoted counts as empty); values
//!   are not trimmed, so ` C1` is an invalid id and ` person` an unknown kind.
//! - Ids (`*_id`) have no spaces around them, no control characters and at
//!   most 64 characters. Free text (names, topics, PII) is kept as written.
//! - products.csv: only `product_id`, `category` and `risk_level` are
//!   required; empty `horizon_months` = 0 (on demand), `min_investment` = 0,
//!   `investor_requirement` = none, `annual_fee_rate` = 0, `status` =
//!   on_sale, `currency` = CNY. A rate is a decimal fraction at most 1; a
//!   currency is three capital letters.
//! - A transaction amount of 0 is accepted; `channel` of a transaction is
//!   free text (branch, online, mobile, atm…).
//! - assessments.csv: `questionnaire_id` must name a known questionnaire
//!   only when `answers` are given (pre-scored results may come from a
//!   legacy questionnaire). With answers, every pre-scored column that is
//!   given must agree with the score (varieties compared as a set); `lowest`
//!   defaults to false; `lowest = true` requires `risk_level` C1.
//! - A duplicate key is reported on every repeat, naming the first line.
//!   Keys compare stored values: timestamps as local time, so the same
//!   instant written with two offsets is a duplicate.
//! - When a file lacks its id column (already an error), references to that
//!   kind are not checked, to avoid one spurious error per row.
//! - An empty file (not even a header) is an error; a header alone is a
//!   file of 0 rows. Blank lines are skipped (and counted as lines).
//! - A row longer than 1 MiB (or with more than 4096 fields) is an error
//!   and is not kept in memory.

mod files;
mod importer;
mod keys;
mod records;
mod table;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use tierwise_questionnaire::Questionnaire;
use tierwise_store::{Store, StoreError};

use crate::files::Which;
use crate::importer::Failure;

/// The import files, in the order they are read.
pub fn file_names() -> [&'static str; 7] {
    files::names()
}

/// How to import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The institution's time zone: timestamps without an offset are local
    /// time in it, and those with one are converted to it.
    pub tz: chrono_tz::Tz,
    /// The questionnaires `answers` may be scored with, by id.
    pub questionnaires: Vec<Questionnaire>,
    /// How many row errors the report keeps (all are counted).
    pub max_reported_errors: usize,
    /// Keep the imported withdrawals and transfers out of at least this
    /// amount in the report (`large_outflows`), so the caller can raise its
    /// alerts (PRODUCT.md 6); None keeps none.
    pub watch_outflows: Option<rust_decimal::Decimal>,
    /// Keep the ids of the clients imported (`clients.csv` rows) in the
    /// report when there are at most this many, so the caller can re-run
    /// what depends on a client's data for them at once; 0 keeps none.
    pub watch_clients_up_to: usize,
}

impl ImportOptions {
    /// Options keeping the first 1,000 errors.
    pub fn new(tz: chrono_tz::Tz, questionnaires: Vec<Questionnaire>) -> ImportOptions {
        ImportOptions { tz, questionnaires, max_reported_errors: 1000, watch_outflows: None, watch_clients_up_to: 0 }
    }
}

/// One problem with one row (or with a file's header, on its line).
#[derive(Debug, Clone, PartialEq)]
pub struct RowError {
    /// the file's name, e.g. `clients.csv`
    pub file: String,
    /// the line the row starts on, counted as a text editor counts lines
    /// (the header is line 1)
    pub line: u64,
    /// the column concerned, when there is one
    pub column: Option<String>,
    pub reason: String,
}

impl fmt::Display for RowError {
    /// `clients.csv:12: birth_date: "1990-13-01" is not a valid calendar
    /// date`, or without a column `clients.csv:1: unknown column "colour"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(c) => write!(f, "{}:{}: {}: {}", self.file, self.line, c, self.reason),
            None => write!(f, "{}:{}: {}", self.file, self.line, self.reason),
        }
    }
}

/// How many data rows a file had (valid or not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSummary {
    pub file: String,
    pub rows: u64,
}

/// The outcome of an import that ran to its end.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportReport {
    /// the files read, in the order read
    pub files: Vec<FileSummary>,
    /// the first `max_reported_errors` errors, in file order then line order
    pub errors: Vec<RowError>,
    /// every error, including those not kept
    pub error_count: u64,
    /// whether the rows were stored (exactly when there was no error)
    pub committed: bool,
    /// the large outflows imported (see `ImportOptions::watch_outflows`)
    pub large_outflows: Vec<tierwise_domain::Transaction>,
    /// the clients imported, when they were few (see `ImportOptions::watch_clients_up_to`)
    pub clients: Option<Vec<String>>,
}

/// Why an import could not run to its end (nothing is stored then).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "no import file in {0}: expected one or more of advisors.csv, products.csv, clients.csv, holdings.csv, \
         transactions.csv, assessments.csv, interactions.csv"
    )]
    NoFiles(String),
}

impl ImportError {
    /// A stable code, for translation and for API clients.
    pub fn code(&self) -> &'static str {
        match self {
            ImportError::Io { .. } => "import_io",
            ImportError::Store(_) => "import_store",
            ImportError::NoFiles(_) => "import_no_files",
        }
    }
}

/// Reads whichever of the seven files exist in `dir`, validates every row,
/// and writes everything in one transaction ([`Store::import`]) only if
/// there is no error at all. `progress(file, rows_done)` is called (on the
/// calling thread) every 5,000 rows and at the end of each file.
pub fn import_dir(
    dir: &Path,
    store: &dyn Store,
    opts: &ImportOptions,
    progress: &mut dyn FnMut(&str, u64),
) -> Result<ImportReport, ImportError> {
    let present = present_files(dir)?;
    if present.is_empty() {
        return Err(ImportError::NoFiles(dir.display().to_string()));
    }
    let mut finished: Option<ImportReport> = None;
    let mut io_failure: Option<(PathBuf, io::Error)> = None;
    let stored = store.import(&mut |sink| {
        // Fresh state on every call, should the store ever retry.
        finished = None;
        io_failure = None;
        match importer::run(dir, opts, &present, sink, &mut *progress) {
            Ok(report) => {
                let clean = report.error_count == 0;
                finished = Some(report);
                Ok(clean)
            }
            Err(Failure::Store(e)) => Err(e),
            Err(Failure::Io(path, e)) => {
                io_failure = Some((path, e));
                Ok(false)
            }
            Err(Failure::Stopped) => Err(StoreError::Aborted("the import stopped".to_string())),
        }
    });
    if let Some((path, source)) = io_failure {
        return Err(ImportError::Io { path, source });
    }
    let committed = stored?;
    let mut report = finished.ok_or_else(|| StoreError::Aborted("the store did not run the import".to_string()))?;
    report.committed = committed && report.error_count == 0;
    Ok(report)
}

/// The import files present in `dir`, in import order; a path of that name
/// that is not a file, or cannot be examined, is an error.
fn present_files(dir: &Path) -> Result<Vec<Which>, ImportError> {
    let meta = std::fs::metadata(dir).map_err(|source| ImportError::Io { path: dir.to_path_buf(), source })?;
    if !meta.is_dir() {
        let source = io::Error::new(io::ErrorKind::InvalidInput, "not a directory");
        return Err(ImportError::Io { path: dir.to_path_buf(), source });
    }
    let mut present = Vec::new();
    for which in Which::ALL {
        let path = dir.join(which.spec().name);
        match std::fs::metadata(&path) {
            Ok(m) if m.is_file() => present.push(which),
            Ok(_) => {
                let source = io::Error::new(io::ErrorKind::InvalidInput, "not a regular file");
                return Err(ImportError::Io { path, source });
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(source) => return Err(ImportError::Io { path, source }),
        }
    }
    Ok(present)
}

#[cfg(test)]
mod tests;
