//! Monitoring and relationship work (持续监控, PRODUCT.md 6): which alerts and
//! tasks a client's situation calls for on a date, which clients must be
//! told something, who should serve whom (advisor assignment by service
//! plan) and the net promoter score of satisfaction surveys.
//!
//! Like the other engines this crate is pure and synchronous: it never reads
//! a database, the clock or a file. The application feeds it facts (one
//! client's stored classification and dates, a transaction, a re-rated
//! product) and stores what it finds. Every finding carries a *dedup key*
//! — kind, subject and episode — so that detecting twice finds the same
//! thing twice and the store keeps one; and its *evidence*: the numbers
//! compared and the rule that fired.

pub mod assign;
mod detect;
mod kinds;
pub mod nps;

pub use detect::{
    title_rank, AdvisorFacts, AlertSpec, ClientFacts, Findings, HolderFacts, Monitor, NoticeSpec, OutflowFacts,
    TaskSpec,
};
pub use kinds::{AlertKind, NoticeKind, Severity, TaskKind};

#[cfg(test)]
mod tests;
