//! Classification (客户分类): every dimension of PRODUCT.md 3 for one client
//! as of an evaluation date, each with its explanation, plus the run-wide
//! parts (value deciles, the migration matrix).
//!
//! This crate is pure and synchronous: it receives a client's records (a
//! [`ClientBook`]) and the product [`Catalog`], and never reads a database,
//! a file or the clock. The batch driver (streaming, threads, persistence)
//! lives in the application layer.

mod book;
mod decile;
mod engine;
mod explain;
mod matrix;

pub use book::{AssessmentRow, BookWindow, Catalog, ClientBook, HoldingRow, TxnRow};
pub use decile::ntile_deciles;
pub use engine::{AssessmentRef, AssessmentStatus, Classification, Engine};
pub use explain::{render_explanation, rule_text, Explanation, ExplanationLine, Input, RuleRef};
pub use matrix::MigrationMatrix;

#[cfg(test)]
mod tests;
