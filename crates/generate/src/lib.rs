//! Synthetic, realistic books of clients in the import format of PRODUCT.md 7.3
//! (`tierwise generate`).
//!
//! This crate owns the generator: a product shelf over every category, advisors,
//! and clients whose wealth, age, risk tolerance, assessments, holdings,
//! transactions and contacts hang together the way a bank's book does (about
//! 85 % mass, 14 % wealth, 1 % high net worth). The same options always give
//! the same bytes: one ChaCha8 stream seeded from the seed, no hash-map order,
//! no clock besides the as-of date given. It streams: each client's rows are
//! written before the next is drawn, so memory stays flat whatever the size.
//! It must never read a database, the terminal or the clock.

mod book;
mod catalog;
mod lists;
mod out;

use chrono::NaiveDate;
use std::path::{Path, PathBuf};

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateOptions {
    /// number of clients
    pub clients: u64,
    pub seed: u64,
    /// "today" of the book: holdings are dated on it, transactions and
    /// assessments lead up to it, and a few rows are dated after it
    pub as_of: NaiveDate,
}

/// Rows written per file (headers excluded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    pub clients: u64,
    pub advisors: u64,
    pub products: u64,
    pub holdings: u64,
    pub transactions: u64,
    pub assessments: u64,
    pub interactions: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("cannot create the output directory {}: {source}", path.display())]
    CreateDir { path: PathBuf, source: std::io::Error },
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error("the as-of date {0} is too close to the limits of the calendar to date a book around it")]
    DateOutOfRange(NaiveDate),
}

impl GenerateError {
    /// A stable code for messages and logs.
    pub fn code(&self) -> &'static str {
        match self {
            GenerateError::CreateDir { .. } => "generate_create_dir",
            GenerateError::Write { .. } => "generate_write",
            GenerateError::DateOutOfRange(_) => "generate_date_out_of_range",
        }
    }
}

/// The files written, with their columns in order (PRODUCT.md 7.3).
pub const FILES: [(&str, &[&str]); 7] = tierwise_domain::import_format::FILES;

/// Writes advisors.csv, products.csv, clients.csv, holdings.csv,
/// transactions.csv, assessments.csv and interactions.csv into `out` (created
/// if missing). Each file is written as `<name>.tmp` and renamed when the whole
/// book is done, so an interrupted run never leaves a truncated `.csv` behind.
/// `progress` is called now and then with the number of clients written so far.
pub fn generate(opts: &GenerateOptions, out: &Path, progress: &mut dyn FnMut(u64)) -> Result<Summary, GenerateError> {
    std::fs::create_dir_all(out).map_err(|source| GenerateError::CreateDir { path: out.to_path_buf(), source })?;
    let mut sinks = book::Sinks::create(out)?;
    let summary = book::write(opts, &mut sinks, progress)?;
    sinks.finish()?;
    Ok(summary)
}
