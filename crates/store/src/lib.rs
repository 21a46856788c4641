//! Storage: the one boundary through which the application reads and writes
//! the book, classification runs, suitability checks and the audit trail.
//!
//! This crate holds only traits and plain record types; each backend
//! (`tierwise-store-sqlite`, later `tierwise-store-postgres`) implements them
//! and is the only place that knows SQL. Every write that spans several rows
//! is atomic: an import or a classification run is stored whole or not at all.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::HashSet;
use tierwise_classify::{BookWindow, Catalog, Classification, ClientBook};
use tierwise_domain::{Advisor, Assessment, Client, Holding, Interaction, Product, Transaction};

/// A storage failure, with its cause kept.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(String),
    #[error("the database schema is version {found}, newer than this program knows ({known}); upgrade tierwise")]
    SchemaTooNew { found: i64, known: i64 },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://USER@HOST:PORT/DB")]
    UnsupportedUrl(String),
    #[error("{0}")]
    Aborted(String),
    /// a uniqueness rule refused the write (a taken username, a second sale for one check)
    #[error("{0}")]
    Conflict(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Which ids a reference may point at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Client,
    Advisor,
    Product,
}

/// The writes of one import, inside one transaction. Re-putting a row with
/// an existing key updates it.
pub trait ImportSink {
    /// Ids already stored (before this import's own rows).
    fn known_ids(&mut self, kind: IdKind) -> StoreResult<HashSet<String>>;
    fn put_advisors(&mut self, rows: &[Advisor]) -> StoreResult<()>;
    fn put_products(&mut self, rows: &[Product]) -> StoreResult<()>;
    fn put_clients(&mut self, rows: &[Client]) -> StoreResult<()>;
    /// key: (client_id, product_id, as_of)
    fn put_holdings(&mut self, rows: &[Holding]) -> StoreResult<()>;
    /// key: txn_id
    fn put_transactions(&mut self, rows: &[Transaction]) -> StoreResult<()>;
    /// key: (client_id, assessed_at)
    fn put_assessments(&mut self, rows: &[Assessment]) -> StoreResult<()>;
    /// key: (client_id, at, channel)
    fn put_interactions(&mut self, rows: &[Interaction]) -> StoreResult<()>;
}

/// What a run is, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct RunInfo {
    pub run_id: i64,
    pub as_of: NaiveDate,
    pub rule_pack: String,
    pub rule_version: String,
    pub started_at: String,
    pub finished_at: String,
    pub clients: i64,
}

/// One client streamed for classification, with the previous run's values.
#[derive(Debug, Clone)]
pub struct ScannedClient {
    pub book: ClientBook,
    /// (asset_tier, segment) in the latest stored run, if the client was in it
    pub previous: Option<(String, String)>,
}

/// A stored classification row, as exported (PRODUCT.md 7.1 column order).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredClassification {
    pub client_id: String,
    pub aum: Decimal,
    pub asset_tier: String,
    pub risk_level: String,
    pub risk_lowest: bool,
    pub assessment_status: String,
    pub risk_preference: String,
    pub goal: String,
    pub experience: String,
    pub lifecycle: String,
    pub depth: String,
    pub investor_category: String,
    pub qualified_investor: bool,
    pub private_fund_qualified: bool,
    pub churn_risk: String,
    pub value: Decimal,
    pub value_decile: u8,
    pub behaviour_risk: String,
    pub segment: String,
    pub rule_pack: String,
    pub rule_version: String,
    pub as_of: NaiveDate,
    pub previous_asset_tier: Option<String>,
    pub previous_segment: Option<String>,
}

/// The writes of one classification run, inside one transaction: nothing of
/// the run is visible until `finish`, and dropping the writer discards it.
pub trait RunWriter: Send {
    /// Stores results (value_decile still 0) with each client's previous values.
    fn write(&mut self, rows: &[(Classification, Option<(String, String)>)]) -> StoreResult<()>;
    /// Sets the deciles, marks the run complete and commits.
    fn finish(self: Box<Self>, deciles: &[(String, u8)], clients: i64) -> StoreResult<RunInfo>;
}

/// One partition of a partitioned run (`classify --partition I/N`): the
/// clients with `lower_id ≤ client_id < upper_id` (either end open).
#[derive(Debug, Clone, PartialEq)]
pub struct Partition {
    pub run_id: i64,
    /// 1 … `partitions`
    pub part: i64,
    pub partitions: i64,
    pub lower_id: Option<String>,
    pub upper_id: Option<String>,
    /// the run whose results give `prev_asset_tier` / `prev_segment`
    pub previous_run: Option<i64>,
    /// the partition had already committed once: this writer replaces its rows
    pub already_done: bool,
}

/// A partitioned run opened and not yet finished (invisible to readers).
#[derive(Debug, Clone, PartialEq)]
pub struct OpenRun {
    pub run_id: i64,
    pub as_of: NaiveDate,
    pub rule_pack: String,
    pub rule_version: String,
    pub partitions: i64,
    /// the partitions committed so far, in order
    pub done: Vec<i64>,
}

impl OpenRun {
    /// "partitioned run #12 is open (3 of 8 partitions done)"
    pub fn describe(&self) -> String {
        format!(
            "partitioned run #{} (as of {}) is open ({} of {} partitions done): finish it with \
             `tierwise classify --finish-partitions` or give it up with `--abandon-partitions`",
            self.run_id,
            self.as_of,
            self.done.len(),
            self.partitions
        )
    }
}

/// A recorded suitability check (适当性匹配), as the audit trail keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckRecord {
    pub client_id: String,
    pub product_id: String,
    pub at: String,
    pub verdict: String,
    pub rule_pack: String,
    pub rule_version: String,
    /// who ran the check (a username, or `cli`)
    pub actor: String,
    /// the whole input and output, as JSON, so compliance can replay it
    pub payload: String,
}

/// The book and the runs.
pub trait Store: Send + Sync {
    /// Creates or upgrades the schema (idempotent).
    fn migrate(&self) -> StoreResult<()>;

    /// Runs `f` inside one write transaction: committed when it returns
    /// `Ok(true)`, rolled back on `Ok(false)` or an error.
    fn import(&self, f: &mut dyn FnMut(&mut dyn ImportSink) -> StoreResult<bool>) -> StoreResult<bool>;

    fn products(&self) -> StoreResult<Vec<Product>>;
    fn client(&self, client_id: &str) -> StoreResult<Option<Client>>;
    /// Everything about one client, for a check or a single reclassification.
    fn client_book(&self, client_id: &str, catalog: &Catalog) -> StoreResult<Option<ClientBook>>;
    fn counts(&self) -> StoreResult<BookCounts>;
    /// How many clients the book holds (`counts().clients`, without
    /// counting every other table: a run's progress asks only this).
    fn client_count(&self) -> StoreResult<i64> {
        Ok(self.counts()?.clients)
    }

    /// Streams every client exactly once, in chunks of about `chunk` clients;
    /// each chunk is in id order, but a backend may read id ranges in
    /// parallel and deliver their chunks interleaved. With a `window`, each
    /// book holds only the holdings and transactions inside it (every
    /// assessment still); without one, everything. Each client carries what
    /// a classification reads: never its name, gender, PII (ID number,
    /// phone, email), occupation, city, onboarding date or household.
    fn scan_books(
        &self,
        catalog: &Catalog,
        chunk: usize,
        window: Option<BookWindow>,
        f: &mut dyn FnMut(Vec<ScannedClient>) -> StoreResult<()>,
    ) -> StoreResult<()>;

    /// Starts a run; the pack text is kept so the run can be explained later.
    fn begin_run(
        &self,
        as_of: NaiveDate,
        pack_id: &str,
        pack_version: &str,
        pack_text: &str,
    ) -> StoreResult<Box<dyn RunWriter + '_>>;
    /// The open partitioned run, if any.
    fn open_run(&self) -> StoreResult<Option<OpenRun>>;
    /// Opens partition `part` of `partitions` in its own transaction,
    /// opening the partitioned run first (committed at once, unfinished,
    /// invisible to readers) when none is open. The writer's rows replace any
    /// the partition stored before; its `finish` ignores deciles, marks the
    /// partition done and commits; dropping it leaves the partition as it was.
    fn begin_partition(
        &self,
        as_of: NaiveDate,
        pack_id: &str,
        pack_version: &str,
        pack_text: &str,
        part: i64,
        partitions: i64,
    ) -> StoreResult<(Partition, Box<dyn RunWriter + '_>)>;
    /// Streams the clients of one partition like `scan_books`, with the
    /// previous values from the partition's `previous_run`.
    fn scan_partition(
        &self,
        catalog: &Catalog,
        chunk: usize,
        partition: &Partition,
        window: Option<BookWindow>,
        f: &mut dyn FnMut(Vec<ScannedClient>) -> StoreResult<()>,
    ) -> StoreResult<()>;
    /// The finishing step of the open partitioned run, in one transaction:
    /// fails unless every partition is done; returns the run's (client id,
    /// value) pairs and a writer whose `finish(deciles, clients)` stores the
    /// deciles and makes the run visible.
    #[allow(clippy::type_complexity)]
    fn begin_finish_partitions(&self) -> StoreResult<(OpenRun, Vec<(String, Decimal)>, Box<dyn RunWriter + '_>)>;
    /// Deletes the open partitioned run (never visible); its id, if one was open.
    fn abandon_partitions(&self) -> StoreResult<Option<i64>>;

    /// The latest finished run.
    fn latest_run(&self) -> StoreResult<Option<RunInfo>>;
    /// Every finished run, newest first.
    fn runs(&self) -> StoreResult<Vec<RunInfo>>;
    /// Streams a run's rows in client id order.
    fn scan_run(&self, run_id: i64, f: &mut dyn FnMut(&StoredClassification) -> StoreResult<()>) -> StoreResult<()>;
    /// A result's explanation as stored (see `tierwise_classify::Explanation::from_stored`:
    /// binary since version 3, the JSON of earlier runs as its UTF-8 bytes).
    fn explanation(&self, run_id: i64, client_id: &str) -> StoreResult<Option<Vec<u8>>>;
    /// Counts per (field value) of a run: field is `asset_tier` or `segment`.
    fn run_distribution(&self, run_id: i64, field: &str) -> StoreResult<Vec<(String, i64)>>;
    /// (previous, current, count) of a run's field against its previous run.
    fn run_migrations(&self, run_id: i64, field: &str) -> StoreResult<Vec<(String, String, i64)>>;
    /// The pack text a run used.
    fn pack_text(&self, pack_id: &str, version: &str) -> StoreResult<Option<String>>;

    /// Appends a suitability check and its audit event; returns the check id.
    fn record_check(&self, check: &CheckRecord) -> StoreResult<i64>;
    /// Appends an event to the audit trail.
    fn audit(&self, actor: &str, action: &str, subject: &str, payload: &str) -> StoreResult<i64>;
}

/// Reads `ranges` of the book on one thread each (`read` streams one range)
/// and hands their chunks to `f` on the calling thread as they come, so
/// chunks of different ranges interleave. When `f` fails, the readers stop
/// at their next chunk and its error is returned; else the first reader's.
#[allow(clippy::type_complexity)]
pub fn read_in_parallel<R: Sync>(
    ranges: &[R],
    read: &(dyn Fn(&R, &mut dyn FnMut(Vec<ScannedClient>) -> StoreResult<()>) -> StoreResult<()> + Sync),
    f: &mut dyn FnMut(Vec<ScannedClient>) -> StoreResult<()>,
) -> StoreResult<()> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<ScannedClient>>(2 * ranges.len().max(1));
    std::thread::scope(|s| {
        let mut readers = Vec::new();
        for range in ranges {
            let tx = tx.clone();
            readers.push(s.spawn(move || -> StoreResult<()> {
                read(range, &mut |batch| tx.send(batch).map_err(|_| StoreError::Aborted("the scan was stopped".into())))
            }));
        }
        drop(tx);
        let mut res = Ok(());
        for batch in rx.iter() {
            if let Err(e) = f(batch) {
                res = Err(e);
                break;
            }
        }
        drop(rx);
        for r in readers {
            let out = r.join().unwrap_or_else(|_| Err(StoreError::Aborted("a reader thread panicked".into())));
            if res.is_ok() {
                res = out;
            }
        }
        res
    })
}

/// How many rows of each kind are stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BookCounts {
    pub clients: i64,
    pub advisors: i64,
    pub products: i64,
    pub holdings: i64,
    pub transactions: i64,
    pub assessments: i64,
    pub interactions: i64,
    pub runs: i64,
    pub checks: i64,
}

pub mod desk;
pub use desk::{
    audit_hash, verify_audit, AuditEntry, AuditEvent, AuditQuery, AuditVerification, CheckQuery, CheckRow, ClientQuery,
    ClientRow, ClientScope, Confirmation, DeskStore, OneTimeLink, RunCount, Sale, Session, User, GENESIS_HASH,
};

pub mod work;
pub use work::{
    AdvisorActivity, AdvisorBook, Alert, AlertAction, AlertQuery, NewAlert, NewNotice, NewTask, Notice, NoticeQuery,
    NoticeUpdate, OpenAlertKey, OpenTaskKey, Reassignment, Survey, SurveyScore, Task, TaskLoad, TaskQuery, WorkApplied,
    WorkBatch, WorkStore,
};

/// A whole database: the book and the runs ([`Store`]), what the desk
/// reads and writes ([`DeskStore`]) and monitoring's work ([`WorkStore`]).
/// Every backend is one.
pub trait Database: Store + DeskStore + WorkStore {}
impl<T: Store + DeskStore + WorkStore> Database for T {}

#[cfg(feature = "conformance")]
pub mod conformance;

/// The environment variable that names a failpoint to stop at (see [`failpoint`]).
pub const FAILPOINT_VAR: &str = "TIERWISE_FAILPOINT";

/// A point where a crash test stops the program: when `TIERWISE_FAILPOINT`
/// names `name`, the program says so on standard error and waits there
/// (for the test's SIGKILL) instead of going on. Otherwise nothing happens.
/// The crash tests use it where the window to kill in is too short to hit
/// by watching the database (a run's last commit).
pub fn failpoint(name: &str) {
    if std::env::var_os(FAILPOINT_VAR).is_some_and(|v| v == name) {
        eprintln!("failpoint {name}: waiting to be killed");
        loop {
            std::thread::sleep(std::time::Duration::from_secs(60));
        }
    }
}
