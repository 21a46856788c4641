//! The embedded SQLite backend: the default store, one file, no server.
//!
//! It owns the SQLite schema (`migrations/`, applied in order and tracked by
//! `PRAGMA user_version`), runs in WAL mode so a classification run can read
//! the book on one connection while writing results on another, and makes
//! every multi-row write one `BEGIN IMMEDIATE` transaction. It is the only
//! crate that knows SQLite's SQL.

mod codec;
mod desk;
mod scan;
mod work;

use chrono::NaiveDate;
use rusqlite::{params, Connection, OptionalExtension};
use rust_decimal::Decimal;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use tierwise_classify::{BookWindow, Catalog, Classification, ClientBook};
use tierwise_domain::{Advisor, Assessment, Client, Holding, Interaction, Product, Transaction};
use tierwise_store::{
    BookCounts, CheckRecord, IdKind, ImportSink, OpenRun, Partition, RunInfo, RunWriter, ScannedClient, Store,
    StoreError, StoreResult, StoredClassification,
};

/// One schema version: its SQL, then what only the program can do (in the
/// same transaction).
struct Migration {
    sql: &'static str,
    then: Option<fn(&Connection) -> StoreResult<()>>,
}

const MIGRATIONS: &[Migration] = &[
    Migration { sql: include_str!("../migrations/0001_init.sql"), then: None },
    Migration { sql: include_str!("../migrations/0002_desk.sql"), then: Some(desk::chain_existing_audit) },
    Migration { sql: include_str!("../migrations/0003_partitions.sql"), then: None },
    Migration { sql: include_str!("../migrations/0004_work.sql"), then: None },
    Migration { sql: include_str!("../migrations/0005_binary_explanations.sql"), then: None },
];

pub(crate) fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

/// The current local time as stored in `*_at` columns.
pub(crate) fn now() -> String {
    chrono::Local::now().format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string()
}

/// `query_row` through the connection's statement cache (rusqlite's own
/// `Connection::query_row` prepares the statement anew every time).
pub(crate) trait CachedQuery {
    fn query_row_cached<T, P: rusqlite::Params, F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>>(
        &self,
        sql: &str,
        params: P,
        f: F,
    ) -> rusqlite::Result<T>;
}

impl CachedQuery for Connection {
    fn query_row_cached<T, P: rusqlite::Params, F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>>(
        &self,
        sql: &str,
        params: P,
        f: F,
    ) -> rusqlite::Result<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }
}

/// A SQLite database file.
pub struct SqliteStore {
    path: PathBuf,
    /// idle connections, reused so that a request does not pay for opening
    /// the file and warming a cache (the desk's reads are sub-millisecond)
    pool: std::sync::Mutex<Vec<Connection>>,
    /// short writes of this process queue here rather than in SQLite's busy
    /// handler, which sleeps in growing steps while another writer commits
    writers: std::sync::Mutex<()>,
}

/// How many idle connections are kept.
const POOL_SIZE: usize = 16;

/// A connection borrowed from the pool; it goes back when dropped, unless a
/// transaction was left open.
pub(crate) struct Pooled<'s> {
    conn: Option<Connection>,
    store: &'s SqliteStore,
}

impl std::ops::Deref for Pooled<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        // Some until drop
        self.conn.as_ref().unwrap_or_else(|| unreachable!("a pooled connection is taken only on drop"))
    }
}

impl Pooled<'_> {
    /// The connection itself, not returned to the pool.
    pub(crate) fn into_inner(mut self) -> Connection {
        self.conn.take().unwrap_or_else(|| unreachable!("a pooled connection is taken only once"))
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(c) = self.conn.take() {
            if c.is_autocommit() {
                if let Ok(mut pool) = self.store.pool.lock() {
                    if pool.len() < POOL_SIZE {
                        pool.push(c);
                    }
                }
            }
        }
    }
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.path).finish()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and migrates it.
    pub fn open(path: &Path) -> StoreResult<SqliteStore> {
        let s = SqliteStore {
            path: path.to_path_buf(),
            pool: std::sync::Mutex::new(Vec::new()),
            writers: std::sync::Mutex::new(()),
        };
        s.migrate()?;
        Ok(s)
    }

    /// Parses `sqlite://PATH` (or `sqlite:PATH`) into a path.
    pub fn path_from_url(url: &str) -> StoreResult<PathBuf> {
        let rest = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .ok_or_else(|| StoreError::UnsupportedUrl(url.to_string()))?;
        if rest.is_empty() {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        }
        Ok(PathBuf::from(rest))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A connection from the pool (or a new one).
    pub(crate) fn connect(&self) -> StoreResult<Pooled<'_>> {
        let idle = self.pool.lock().ok().and_then(|mut p| p.pop());
        let conn = match idle {
            Some(c) => c,
            None => self.open_connection()?,
        };
        Ok(Pooled { conn: Some(conn), store: self })
    }

    pub(crate) fn open_connection(&self) -> StoreResult<Connection> {
        let c = Connection::open(&self.path).map_err(db)?;
        c.busy_timeout(std::time::Duration::from_secs(30)).map_err(db)?;
        c.set_prepared_statement_cache_capacity(64);
        c.execute_batch(
            "PRAGMA page_size = 16384;
             PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA temp_store = MEMORY;
             PRAGMA cache_size = -65536;",
        )
        .map_err(db)?;
        Ok(c)
    }

    /// A connection for one large write transaction (an import): a
    /// bigger page cache keeps SQLite from spilling half-built B-trees to the WAL.
    pub(crate) fn connect_bulk(&self) -> StoreResult<Connection> {
        let c = self.open_connection()?;
        c.execute_batch("PRAGMA cache_size = -262144;").map_err(db)?;
        Ok(c)
    }

    /// Runs `f` in a `BEGIN IMMEDIATE` transaction, committing when it returns `Ok`.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let _turn = self.writers.lock().unwrap_or_else(|p| p.into_inner());
        let c = self.connect()?;
        c.execute_batch("BEGIN IMMEDIATE").map_err(db)?;
        match f(&c) {
            Ok(v) => {
                c.execute_batch("COMMIT").map_err(db)?;
                Ok(v)
            }
            Err(e) => {
                let _ = c.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }
}

/// Appends an event to the audit trail, chained to the newest one; returns
/// its seq. Call it inside the write transaction of the change it records:
/// `BEGIN IMMEDIATE` serialises writers, so the head read here is the head.
pub(crate) fn append_audit(
    c: &Connection,
    actor: &str,
    action: &str,
    subject: &str,
    payload: &str,
) -> StoreResult<i64> {
    let head: Option<(i64, String)> = c
        .prepare_cached("SELECT seq, hash FROM audit_head WHERE id = 1")
        .and_then(|mut s| s.query_row([], |r| Ok((r.get(0)?, r.get(1)?))).optional())
        .map_err(db)?;
    let (seq, prev_hash) = match head {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, tierwise_store::GENESIS_HASH.to_string()),
    };
    let at = now();
    let hash = tierwise_store::audit_hash(&prev_hash, seq, &at, actor, action, subject, payload);
    c.prepare_cached(
        "INSERT INTO audit_events (seq, at, actor, action, subject, payload, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .and_then(|mut s| s.execute(params![seq, at, actor, action, subject, payload, prev_hash, hash]))
    .map_err(db)?;
    c.prepare_cached(
        "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?1, ?2)
         ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
    )
    .and_then(|mut s| s.execute(params![seq, hash]))
    .map_err(db)?;
    Ok(seq)
}

/// The import's writes; the desk reuses them for its single-row edits.
pub(crate) struct Sink<'c> {
    pub(crate) c: &'c Connection,
}

impl ImportSink for Sink<'_> {
    fn known_ids(&mut self, kind: IdKind) -> StoreResult<HashSet<String>> {
        let sql = match kind {
            IdKind::Client => "SELECT client_id FROM clients",
            IdKind::Advisor => "SELECT advisor_id FROM advisors",
            IdKind::Product => "SELECT product_id FROM products",
        };
        let mut st = self.c.prepare_cached(sql).map_err(db)?;
        let rows = st.query_map([], |r| r.get::<_, String>(0)).map_err(db)?;
        rows.collect::<Result<HashSet<_>, _>>().map_err(db)
    }

    fn put_advisors(&mut self, rows: &[Advisor]) -> StoreResult<()> {
        let mut st = self.c.prepare_cached(codec::UPSERT_ADVISOR).map_err(db)?;
        for r in rows {
            st.execute(rusqlite::params_from_iter(codec::advisor_params(r).iter())).map_err(db)?;
        }
        Ok(())
    }
    fn put_products(&mut self, rows: &[Product]) -> StoreResult<()> {
        let mut st = self.c.prepare_cached(codec::UPSERT_PRODUCT).map_err(db)?;
        for r in rows {
            st.execute(rusqlite::params_from_iter(codec::product_params(r).iter())).map_err(db)?;
        }
        Ok(())
    }
    fn put_clients(&mut self, rows: &[Client]) -> StoreResult<()> {
        upsert_rows(
            self.c,
            codec::CLIENT_HEAD,
            codec::CLIENT_CONFLICT,
            codec::CLIENT_COLUMNS,
            rows,
            codec::client_values,
        )
    }
    fn put_holdings(&mut self, rows: &[Holding]) -> StoreResult<()> {
        upsert_rows(self.c, codec::HOLDING_HEAD, codec::HOLDING_CONFLICT, 4, rows, |r, out| {
            out.extend([
                codec::bound_text(&r.client_id),
                codec::bound_owned(Some(r.as_of.to_string())),
                codec::bound_text(&r.product_id),
                codec::bound_owned(Some(tierwise_domain::money::decimal_text(&r.market_value))),
            ])
        })
    }
    fn put_transactions(&mut self, rows: &[Transaction]) -> StoreResult<()> {
        upsert_rows(self.c, codec::TXN_HEAD, codec::TXN_CONFLICT, 7, rows, |r, out| {
            out.extend([
                codec::bound_text(&r.client_id),
                codec::bound_text(&r.txn_id),
                codec::bound_opt_text(r.product_id.as_deref()),
                codec::bound_owned(Some(tierwise_domain::dates::format_timestamp(&r.ts))),
                codec::bound_text(r.kind.as_str()),
                codec::bound_owned(Some(tierwise_domain::money::decimal_text(&r.amount))),
                codec::bound_opt_text(r.channel.as_deref()),
            ])
        })
    }
    fn put_assessments(&mut self, rows: &[Assessment]) -> StoreResult<()> {
        let (head, conflict) = (codec::ASSESSMENT_HEAD, codec::ASSESSMENT_CONFLICT);
        upsert_rows(self.c, head, conflict, codec::ASSESSMENT_COLUMNS, rows, codec::assessment_values)
    }
    fn put_interactions(&mut self, rows: &[Interaction]) -> StoreResult<()> {
        let (head, conflict) = (codec::INTERACTION_HEAD, codec::INTERACTION_CONFLICT);
        upsert_rows(self.c, head, conflict, codec::INTERACTION_COLUMNS, rows, codec::interaction_values)
    }
}

/// Upserts `rows`, `RUN_BATCH` to a statement (`head VALUES (…),(…) conflict`).
/// The importer rejects a file that repeats a key, so one statement never
/// carries the same key twice (SQLite would apply both, in order, anyway).
fn upsert_rows<'a, T>(
    c: &Connection,
    head: &str,
    conflict: &str,
    columns: usize,
    rows: &'a [T],
    values: impl Fn(&'a T, &mut Vec<codec::Bound<'a>>),
) -> StoreResult<()> {
    let mut bound: Vec<codec::Bound<'a>> = Vec::with_capacity(codec::RUN_BATCH * columns);
    let sql_for = |n: usize| format!("{} {conflict}", codec::multi_insert(head, columns, n));
    // the statement of a full batch, built once when there is one; a shorter batch builds its own
    let full = (rows.len() >= codec::RUN_BATCH).then(|| sql_for(codec::RUN_BATCH));
    for batch in rows.chunks(codec::RUN_BATCH) {
        bound.clear();
        for r in batch {
            values(r, &mut bound);
        }
        let short;
        let sql = match &full {
            Some(full) if batch.len() == codec::RUN_BATCH => full,
            _ => {
                short = sql_for(batch.len());
                &short
            }
        };
        c.prepare_cached(sql).and_then(|mut s| s.execute(rusqlite::params_from_iter(bound.iter()))).map_err(db)?;
    }
    Ok(())
}

struct SqliteRunWriter {
    c: Connection,
    run_id: i64,
    as_of: NaiveDate,
    pack_id: String,
    pack_version: String,
    started_at: String,
    /// Some(part): a partition of a partitioned run, finished without deciles
    part: Option<i64>,
}

impl SqliteRunWriter {
    fn finish_partition(&self, part: i64, clients: i64) -> StoreResult<RunInfo> {
        self.c
            .execute(
                "UPDATE classification_run_partitions SET finished_at = ?1, clients = ?2 WHERE run_id = ?3 AND part = ?4",
                params![now(), clients, self.run_id, part],
            )
            .map_err(db)?;
        let payload = serde_json::json!({ "run_id": self.run_id, "part": part, "clients": clients });
        append_audit(
            &self.c,
            "system",
            "classification.partition",
            &format!("run:{}", self.run_id),
            &payload.to_string(),
        )?;
        tierwise_store::failpoint("partition.commit");
        self.c.execute_batch("COMMIT").map_err(db)?;
        Ok(RunInfo {
            run_id: self.run_id,
            as_of: self.as_of,
            rule_pack: self.pack_id.clone(),
            rule_version: self.pack_version.clone(),
            started_at: self.started_at.clone(),
            finished_at: String::new(),
            clients,
        })
    }
}

/// The open partitioned run, read on `c`.
fn open_run_on(c: &Connection) -> StoreResult<Option<OpenRun>> {
    let run = c
        .query_row_cached(
            "SELECT run_id, as_of, rule_pack, rule_version, partitions FROM classification_runs
             WHERE finished_at = '' AND partitions > 0 ORDER BY run_id DESC LIMIT 1",
            [],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()
        .map_err(db)?;
    let Some((run_id, as_of, rule_pack, rule_version, partitions)) = run else { return Ok(None) };
    let mut st = c
        .prepare_cached(
            "SELECT part FROM classification_run_partitions WHERE run_id = ?1 AND finished_at IS NOT NULL ORDER BY part",
        )
        .map_err(db)?;
    let done = st.query_map([run_id], |r| r.get(0)).map_err(db)?.collect::<Result<Vec<i64>, _>>().map_err(db)?;
    Ok(Some(OpenRun { run_id, as_of: codec::date(&as_of)?, rule_pack, rule_version, partitions, done }))
}

/// Refuses a write that must not happen while a partitioned run is open.
fn refuse_if_open(c: &Connection, what: &str) -> StoreResult<()> {
    match open_run_on(c)? {
        Some(open) => Err(StoreError::Aborted(format!("cannot {what}: {}", open.describe()))),
        None => Ok(()),
    }
}

impl RunWriter for SqliteRunWriter {
    fn write(&mut self, rows: &[(Classification, Option<(String, String)>)]) -> StoreResult<()> {
        use rusqlite::types::{ToSqlOutput, Value, ValueRef};
        let mut values: Vec<ToSqlOutput<'_>> = Vec::with_capacity(codec::RUN_BATCH * codec::CLASSIFICATION_COLUMNS);
        let mut ex_values: Vec<ToSqlOutput<'_>> = Vec::with_capacity(codec::RUN_BATCH * 3);
        for batch in rows.chunks(codec::RUN_BATCH) {
            values.clear();
            ex_values.clear();
            for (c, prev) in batch {
                codec::classification_values(self.run_id, c, prev.as_ref(), &mut values);
                ex_values.push(ToSqlOutput::Owned(Value::Integer(self.run_id)));
                ex_values.push(ToSqlOutput::Borrowed(ValueRef::Text(c.client_id.as_bytes())));
                ex_values.push(ToSqlOutput::Borrowed(ValueRef::Blob(c.explanation.stored())));
            }
            let n = batch.len();
            let sql = codec::multi_insert(codec::CLASSIFICATION_HEAD, codec::CLASSIFICATION_COLUMNS, n);
            self.c
                .prepare_cached(&sql)
                .and_then(|mut s| s.execute(rusqlite::params_from_iter(values.iter())))
                .map_err(db)?;
            let sql = codec::multi_insert(codec::EXPLANATION_HEAD, 3, n);
            self.c
                .prepare_cached(&sql)
                .and_then(|mut s| s.execute(rusqlite::params_from_iter(ex_values.iter())))
                .map_err(db)?;
        }
        Ok(())
    }

    fn finish(self: Box<Self>, deciles: &[(String, u8)], clients: i64) -> StoreResult<RunInfo> {
        let res = (|| {
            if let Some(part) = self.part {
                return self.finish_partition(part, clients);
            }
            let mut sorted: Vec<&(String, u8)> = deciles.iter().collect();
            sorted.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            insert_deciles(&self.c, self.run_id, &sorted)?;
            let finished = now();
            self.c
                .execute(
                    "UPDATE classification_runs SET finished_at = ?1, clients = ?2 WHERE run_id = ?3",
                    params![finished, clients, self.run_id],
                )
                .map_err(db)?;
            let payload = serde_json::json!({
                "run_id": self.run_id, "as_of": self.as_of.to_string(), "rule_pack": self.pack_id,
                "rule_version": self.pack_version, "clients": clients,
            });
            append_audit(
                &self.c,
                "system",
                "classification.run",
                &format!("run:{}", self.run_id),
                &payload.to_string(),
            )?;
            tierwise_store::failpoint("run.commit");
            self.c.execute_batch("COMMIT").map_err(db)?;
            Ok(RunInfo {
                run_id: self.run_id,
                as_of: self.as_of,
                rule_pack: self.pack_id.clone(),
                rule_version: self.pack_version.clone(),
                started_at: self.started_at.clone(),
                finished_at: finished,
                clients,
            })
        })();
        if res.is_err() {
            let _ = self.c.execute_batch("ROLLBACK");
        }
        res
    }
}

/// A run's deciles, in client-id order, `RUN_BATCH` rows per statement.
fn insert_deciles(c: &Connection, run_id: i64, sorted: &[&(String, u8)]) -> StoreResult<()> {
    use rusqlite::types::{ToSqlOutput, Value, ValueRef};
    let mut values: Vec<ToSqlOutput<'_>> = Vec::with_capacity(codec::RUN_BATCH * 3);
    for batch in sorted.chunks(codec::RUN_BATCH) {
        values.clear();
        for (id, d) in batch {
            values.push(ToSqlOutput::Owned(Value::Integer(run_id)));
            values.push(ToSqlOutput::Borrowed(ValueRef::Text(id.as_bytes())));
            values.push(ToSqlOutput::Owned(Value::Integer(i64::from(*d))));
        }
        let sql = codec::multi_insert(codec::DECILE_HEAD, 3, batch.len());
        c.prepare_cached(&sql).and_then(|mut s| s.execute(rusqlite::params_from_iter(values.iter()))).map_err(db)?;
    }
    Ok(())
}

impl Drop for SqliteRunWriter {
    fn drop(&mut self) {
        // a run that was not finished leaves nothing behind
        if !self.c.is_autocommit() {
            let _ = self.c.execute_batch("ROLLBACK");
        }
    }
}

fn run_info(r: &rusqlite::Row) -> rusqlite::Result<RunInfo> {
    run_info_at(r, 0)
}

/// A run from the columns of `RUN_COLS` starting at `o`.
pub(crate) fn run_info_at(r: &rusqlite::Row, o: usize) -> rusqlite::Result<RunInfo> {
    let as_of: String = r.get(o + 1)?;
    Ok(RunInfo {
        run_id: r.get(o)?,
        as_of: NaiveDate::parse_from_str(&as_of, "%Y-%m-%d").unwrap_or_default(),
        rule_pack: r.get(o + 2)?,
        rule_version: r.get(o + 3)?,
        started_at: r.get(o + 4)?,
        finished_at: r.get(o + 5)?,
        clients: r.get(o + 6)?,
    })
}

const RUN_COLS: &str = "run_id, as_of, rule_pack, rule_version, started_at, finished_at, clients";

impl Store for SqliteStore {
    fn migrate(&self) -> StoreResult<()> {
        let c = self.connect()?;
        c.execute_batch("BEGIN IMMEDIATE").map_err(db)?;
        let res = (|| {
            let v: i64 = c.query_row_cached("PRAGMA user_version", [], |r| r.get(0)).map_err(db)?;
            let known = MIGRATIONS.len() as i64;
            if v > known {
                return Err(StoreError::SchemaTooNew { found: v, known });
            }
            for (i, m) in MIGRATIONS.iter().enumerate().skip(v as usize) {
                c.execute_batch(m.sql).map_err(db)?;
                if let Some(then) = m.then {
                    then(&c)?;
                }
                c.execute_batch(&format!("PRAGMA user_version = {}", i + 1)).map_err(db)?;
            }
            Ok(())
        })();
        match res {
            Ok(()) => c.execute_batch("COMMIT").map_err(db),
            Err(e) => {
                let _ = c.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    fn import(&self, f: &mut dyn FnMut(&mut dyn ImportSink) -> StoreResult<bool>) -> StoreResult<bool> {
        let c = self.connect_bulk()?;
        c.execute_batch("BEGIN IMMEDIATE").map_err(db)?;
        let res = refuse_if_open(&c, "import").and_then(|()| f(&mut Sink { c: &c }));
        match res {
            Ok(true) => {
                c.execute_batch("COMMIT").map_err(db)?;
                Ok(true)
            }
            Ok(false) => {
                c.execute_batch("ROLLBACK").map_err(db)?;
                Ok(false)
            }
            Err(e) => {
                let _ = c.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    fn products(&self) -> StoreResult<Vec<Product>> {
        let c = self.connect()?;
        let mut st = c
            .prepare_cached(&format!("SELECT {} FROM products ORDER BY product_id", codec::PRODUCT_COLS))
            .map_err(db)?;
        let mut rows = st.query([]).map_err(db)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(db)? {
            out.push(codec::product_from(r)?);
        }
        Ok(out)
    }

    fn client(&self, client_id: &str) -> StoreResult<Option<Client>> {
        let c = self.connect()?;
        let mut st = c
            .prepare_cached(&format!("SELECT {} FROM clients WHERE client_id = ?1", codec::CLIENT_COLS))
            .map_err(db)?;
        let mut rows = st.query([client_id]).map_err(db)?;
        match rows.next().map_err(db)? {
            Some(r) => Ok(Some(codec::client_from(r)?)),
            None => Ok(None),
        }
    }

    fn client_book(&self, client_id: &str, catalog: &Catalog) -> StoreResult<Option<ClientBook>> {
        let c = self.connect()?;
        scan::one_book(&c, client_id, catalog)
    }

    fn counts(&self) -> StoreResult<BookCounts> {
        let c = self.connect()?;
        let n = |t: &str| -> StoreResult<i64> {
            c.query_row_cached(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0)).map_err(db)
        };
        Ok(BookCounts {
            clients: n("clients")?,
            advisors: n("advisors")?,
            products: n("products")?,
            holdings: n("holdings")?,
            transactions: n("transactions")?,
            assessments: n("assessments")?,
            interactions: n("interactions")?,
            runs: n("classification_runs WHERE finished_at <> ''")?,
            checks: n("suitability_checks")?,
        })
    }

    fn client_count(&self) -> StoreResult<i64> {
        self.connect()?.query_row_cached("SELECT count(*) FROM clients", [], |r| r.get(0)).map_err(db)
    }

    /// The book is split into id ranges read in parallel, one connection and
    /// one thread each, so reading and parsing use every core. Within a run the
    /// run writer holds the write lock, so every range sees the same state.
    fn scan_books(
        &self,
        catalog: &Catalog,
        chunk: usize,
        window: Option<BookWindow>,
        f: &mut dyn FnMut(Vec<ScannedClient>) -> StoreResult<()>,
    ) -> StoreResult<()> {
        let parts = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(4);
        let ranges = scan::split(&*self.connect()?, parts)?;
        if ranges.len() == 1 {
            return scan::scan_books(&*self.connect()?, catalog, chunk, &ranges[0], scan::Previous::Latest, window, f);
        }
        let read = |range: &scan::IdRange, send: &mut dyn FnMut(Vec<ScannedClient>) -> StoreResult<()>| {
            scan::scan_books(&*self.connect()?, catalog, chunk, range, scan::Previous::Latest, window, send)
        };
        tierwise_store::read_in_parallel(&ranges, &read, f)
    }

    fn begin_run(
        &self,
        as_of: NaiveDate,
        pack_id: &str,
        pack_version: &str,
        pack_text: &str,
    ) -> StoreResult<Box<dyn RunWriter + '_>> {
        let c = self.connect()?;
        c.execute_batch("BEGIN IMMEDIATE").map_err(db)?;
        let started_at = now();
        if let Err(e) = refuse_if_open(&c, "start a run") {
            let _ = c.execute_batch("ROLLBACK");
            return Err(e);
        }
        let setup = (|| {
            c.execute(
                "INSERT INTO rule_packs (pack_id, version, source_text, stored_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (pack_id, version) DO NOTHING",
                params![pack_id, pack_version, pack_text, started_at],
            )?;
            c.execute(
                "INSERT INTO classification_runs (as_of, rule_pack, rule_version, started_at, finished_at, clients)
                 VALUES (?1, ?2, ?3, ?4, '', 0)",
                params![as_of.to_string(), pack_id, pack_version, started_at],
            )?;
            Ok(c.last_insert_rowid())
        })();
        let run_id = match setup {
            Ok(id) => id,
            Err(e) => {
                let _ = c.execute_batch("ROLLBACK");
                return Err(db(e));
            }
        };
        Ok(Box::new(SqliteRunWriter {
            c: c.into_inner(),
            run_id,
            as_of,
            pack_id: pack_id.to_string(),
            pack_version: pack_version.to_string(),
            started_at,
            part: None,
        }))
    }

    fn open_run(&self) -> StoreResult<Option<OpenRun>> {
        open_run_on(&*self.connect()?)
    }

    fn begin_partition(
        &self,
        as_of: NaiveDate,
        pack_id: &str,
        pack_version: &str,
        pack_text: &str,
        part: i64,
        partitions: i64,
    ) -> StoreResult<(Partition, Box<dyn RunWriter + '_>)> {
        if partitions < 1 || part < 1 || part > partitions {
            return Err(StoreError::Aborted(format!("no partition {part}/{partitions}: use I/N with 1 ≤ I ≤ N")));
        }
        // 1. open the run, or join the open one (a short transaction of its own)
        let run_id = self.write(|c| {
            if let Some(open) = open_run_on(c)? {
                if open.partitions != partitions
                    || open.as_of != as_of
                    || open.rule_pack != pack_id
                    || open.rule_version != pack_version
                {
                    return Err(StoreError::Aborted(format!(
                        "partitioned run #{} is open as of {} with {} {} in {} partitions, not as of {as_of} with \
                         {pack_id} {pack_version} in {partitions}: finish or abandon it first",
                        open.run_id, open.as_of, open.rule_pack, open.rule_version, open.partitions
                    )));
                }
                return Ok(open.run_id);
            }
            let started_at = now();
            c.execute(
                "INSERT INTO rule_packs (pack_id, version, source_text, stored_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (pack_id, version) DO NOTHING",
                params![pack_id, pack_version, pack_text, started_at],
            )
            .map_err(db)?;
            let previous: Option<i64> = c
                .query_row("SELECT max(run_id) FROM classification_runs WHERE finished_at <> ''", [], |r| r.get(0))
                .map_err(db)?;
            c.execute(
                "INSERT INTO classification_runs
                     (as_of, rule_pack, rule_version, started_at, finished_at, clients, partitions, previous_run)
                 VALUES (?1, ?2, ?3, ?4, '', 0, ?5, ?6)",
                params![as_of.to_string(), pack_id, pack_version, started_at, partitions, previous],
            )
            .map_err(db)?;
            let run_id = c.last_insert_rowid();
            let n: i64 = c.query_row("SELECT count(*) FROM clients", [], |r| r.get(0)).map_err(db)?;
            let mut bounds: Vec<Option<String>> = vec![None];
            let mut st =
                c.prepare("SELECT client_id FROM clients ORDER BY client_id LIMIT 1 OFFSET ?1").map_err(db)?;
            for k in 1..partitions {
                bounds.push(st.query_row([k * n / partitions], |r| r.get(0)).optional().map_err(db)?);
            }
            bounds.push(None);
            for k in 1..=partitions {
                c.execute(
                    "INSERT INTO classification_run_partitions (run_id, part, lower_id, upper_id) VALUES (?1, ?2, ?3, ?4)",
                    params![run_id, k, bounds[k as usize - 1], bounds[k as usize]],
                )
                .map_err(db)?;
            }
            Ok(run_id)
        })?;
        // 2. the partition's own transaction: its previous rows go, new ones come
        let c = self.connect()?;
        c.execute_batch("BEGIN IMMEDIATE").map_err(db)?;
        let setup = (|| {
            let (as_of_s, started_at, previous_run): (String, String, Option<i64>) = c.query_row(
                "SELECT as_of, started_at, previous_run FROM classification_runs WHERE run_id = ?1 AND finished_at = ''",
                [run_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
            let (lower_id, upper_id, finished): (Option<String>, Option<String>, Option<String>) = c.query_row(
                "SELECT lower_id, upper_id, finished_at FROM classification_run_partitions WHERE run_id = ?1 AND part = ?2",
                params![run_id, part],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
            let range = "run_id = ?1 AND (?2 IS NULL OR client_id >= ?2) AND (?3 IS NULL OR client_id < ?3)";
            for t in ["classifications", "explanations"] {
                c.execute(&format!("DELETE FROM {t} WHERE {range}"), params![run_id, lower_id, upper_id])?;
            }
            c.execute(
                "UPDATE classification_run_partitions SET finished_at = NULL, clients = 0 WHERE run_id = ?1 AND part = ?2",
                params![run_id, part],
            )?;
            let p = Partition {
                run_id,
                part,
                partitions,
                lower_id,
                upper_id,
                previous_run,
                already_done: finished.is_some(),
            };
            Ok((p, as_of_s, started_at))
        })();
        let (p, _as_of, started_at) = match setup {
            Ok(v) => v,
            Err(e) => {
                let _ = c.execute_batch("ROLLBACK");
                return Err(db(e));
            }
        };
        let w = SqliteRunWriter {
            c: c.into_inner(),
            run_id,
            as_of,
            pack_id: pack_id.to_string(),
            pack_version: pack_version.to_string(),
            started_at,
            part: Some(part),
        };
        Ok((p, Box::new(w)))
    }

    fn scan_partition(
        &self,
        catalog: &Catalog,
        chunk: usize,
        partition: &Partition,
        window: Option<BookWindow>,
        f: &mut dyn FnMut(Vec<ScannedClient>) -> StoreResult<()>,
    ) -> StoreResult<()> {
        let range = scan::IdRange { lo: partition.lower_id.clone(), hi: partition.upper_id.clone() };
        let prev = scan::Previous::Run(partition.previous_run);
        scan::scan_books(&*self.connect()?, catalog, chunk, &range, prev, window, f)
    }

    fn begin_finish_partitions(&self) -> StoreResult<(OpenRun, Vec<(String, Decimal)>, Box<dyn RunWriter + '_>)> {
        let c = self.connect()?;
        c.execute_batch("BEGIN IMMEDIATE").map_err(db)?;
        let setup = (|| {
            let open = open_run_on(&c)?.ok_or_else(|| StoreError::Aborted("no partitioned run is open".into()))?;
            let missing: Vec<String> =
                (1..=open.partitions).filter(|k| !open.done.contains(k)).map(|k| k.to_string()).collect();
            if !missing.is_empty() {
                return Err(StoreError::Aborted(format!(
                    "partition{} {} of {} of run #{} {} not done",
                    if missing.len() == 1 { "" } else { "s" },
                    missing.join(", "),
                    open.partitions,
                    open.run_id,
                    if missing.len() == 1 { "is" } else { "are" },
                )));
            }
            let started_at: String = c
                .query_row("SELECT started_at FROM classification_runs WHERE run_id = ?1", [open.run_id], |r| r.get(0))
                .map_err(db)?;
            c.execute("DELETE FROM value_deciles WHERE run_id = ?1", [open.run_id]).map_err(db)?;
            let mut st = c.prepare("SELECT client_id, value FROM classifications WHERE run_id = ?1").map_err(db)?;
            let mut rows = st.query([open.run_id]).map_err(db)?;
            let mut pairs = Vec::new();
            while let Some(r) = rows.next().map_err(db)? {
                let v: String = r.get(1).map_err(db)?;
                pairs.push((r.get::<_, String>(0).map_err(db)?, codec::dec(&v)?));
            }
            Ok((open, started_at, pairs))
        })();
        let (open, started_at, pairs) = match setup {
            Ok(v) => v,
            Err(e) => {
                let _ = c.execute_batch("ROLLBACK");
                return Err(e);
            }
        };
        let w = SqliteRunWriter {
            c: c.into_inner(),
            run_id: open.run_id,
            as_of: open.as_of,
            pack_id: open.rule_pack.clone(),
            pack_version: open.rule_version.clone(),
            started_at,
            part: None,
        };
        Ok((open, pairs, Box::new(w)))
    }

    fn abandon_partitions(&self) -> StoreResult<Option<i64>> {
        self.write(|c| {
            let Some(open) = open_run_on(c)? else { return Ok(None) };
            for t in [
                "classifications",
                "explanations",
                "value_deciles",
                "classification_run_partitions",
                "classification_runs",
            ] {
                c.execute(&format!("DELETE FROM {t} WHERE run_id = ?1"), [open.run_id]).map_err(db)?;
            }
            let payload =
                serde_json::json!({ "run_id": open.run_id, "partitions": open.partitions, "done": open.done });
            append_audit(c, "system", "classification.abandon", &format!("run:{}", open.run_id), &payload.to_string())?;
            Ok(Some(open.run_id))
        })
    }

    fn latest_run(&self) -> StoreResult<Option<RunInfo>> {
        let c = self.connect()?;
        c.query_row_cached(
            &format!("SELECT {RUN_COLS} FROM classification_runs WHERE finished_at <> '' ORDER BY run_id DESC LIMIT 1"),
            [],
            run_info,
        )
        .optional()
        .map_err(db)
    }

    fn runs(&self) -> StoreResult<Vec<RunInfo>> {
        let c = self.connect()?;
        let mut st = c
            .prepare_cached(&format!(
                "SELECT {RUN_COLS} FROM classification_runs WHERE finished_at <> '' ORDER BY run_id DESC"
            ))
            .map_err(db)?;
        let rows = st.query_map([], run_info).map_err(db)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db)
    }

    fn scan_run(&self, run_id: i64, f: &mut dyn FnMut(&StoredClassification) -> StoreResult<()>) -> StoreResult<()> {
        let c = self.connect()?;
        scan::scan_run(&c, run_id, f)
    }

    fn explanation(&self, run_id: i64, client_id: &str) -> StoreResult<Option<Vec<u8>>> {
        let c = self.connect()?;
        // a BLOB since version 3; the JSON TEXT of earlier runs, as its bytes
        c.query_row_cached(
            "SELECT explanation FROM explanations WHERE run_id = ?1 AND client_id = ?2",
            params![run_id, client_id],
            |r| {
                let v = r.get_ref(0)?;
                v.as_bytes()
                    .map(<[u8]>::to_vec)
                    .map_err(|_| rusqlite::Error::InvalidColumnType(0, "explanation".into(), v.data_type()))
            },
        )
        .optional()
        .map_err(db)
    }

    fn run_distribution(&self, run_id: i64, field: &str) -> StoreResult<Vec<(String, i64)>> {
        let col = codec::group_column(field)?;
        let c = self.connect()?;
        let mut st = c
            .prepare_cached(&format!(
                "SELECT {col}, count(*) FROM classifications WHERE run_id = ?1 GROUP BY {col} ORDER BY {col}"
            ))
            .map_err(db)?;
        let rows = st.query_map([run_id], |r| Ok((r.get(0)?, r.get(1)?))).map_err(db)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db)
    }

    fn run_migrations(&self, run_id: i64, field: &str) -> StoreResult<Vec<(String, String, i64)>> {
        let col = codec::group_column(field)?;
        let c = self.connect()?;
        let mut st = c
            .prepare_cached(&format!(
                "SELECT coalesce(prev_{col}, ''), {col}, count(*) FROM classifications WHERE run_id = ?1
                 GROUP BY 1, 2 ORDER BY 1, 2"
            ))
            .map_err(db)?;
        let rows = st.query_map([run_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).map_err(db)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db)
    }

    fn pack_text(&self, pack_id: &str, version: &str) -> StoreResult<Option<String>> {
        let c = self.connect()?;
        c.query_row_cached(
            "SELECT source_text FROM rule_packs WHERE pack_id = ?1 AND version = ?2",
            params![pack_id, version],
            |r| r.get(0),
        )
        .optional()
        .map_err(db)
    }

    fn record_check(&self, check: &CheckRecord) -> StoreResult<i64> {
        self.write(|c| {
            c.execute(
                "INSERT INTO suitability_checks (client_id, product_id, at, verdict, rule_pack, rule_version, payload, recorded_at, actor)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![check.client_id, check.product_id, check.at, check.verdict, check.rule_pack, check.rule_version, check.payload, now(), check.actor],
            )
            .map_err(db)?;
            let id = c.last_insert_rowid();
            append_audit(c, &check.actor, "suitability.check", &format!("check:{id}"), &check.payload)?;
            Ok(id)
        })
    }

    fn audit(&self, actor: &str, action: &str, subject: &str, payload: &str) -> StoreResult<i64> {
        self.write(|c| append_audit(c, actor, action, subject, payload))
    }
}

#[cfg(test)]
mod tests;
