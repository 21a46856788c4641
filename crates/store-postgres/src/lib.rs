//! The PostgreSQL backend: the store for a bank's production database.
//!
//! It owns the PostgreSQL schema (`migrations/`, applied in order and
//! tracked in `schema_migrations`), talks to the server with the synchronous
//! `postgres` client over a small pool of connections, and makes every
//! multi-row write one transaction: an import (binary COPY straight into a
//! table empty at the start, else staged with binary COPY and upserted with
//! `INSERT … ON CONFLICT`, rows that would not change left alone), a
//! classification run (a writer holding its own connection, results written
//! with binary COPY, rolled back when dropped unfinished). The book streams for classification through one
//! portal per table inside one REPEATABLE READ read-only transaction. It is
//! the only crate that knows PostgreSQL's SQL; it never logs the password of
//! a database URL.

mod codec;
mod copy;
mod desk;
mod scan;
mod work;

use chrono::{NaiveDate, NaiveDateTime, Utc};
use copy::CopyRows;
use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, Config, GenericClient, NoTls, Row, Transaction};
use rust_decimal::Decimal;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use tierwise_classify::{BookWindow, Catalog, Classification, ClientBook};
use tierwise_domain::{Advisor, Assessment, Client as BookClient, Holding, Interaction, Product, Transaction as Txn};
use tierwise_store::{
    audit_hash, BookCounts, CheckRecord, IdKind, ImportSink, OpenRun, Partition, RunInfo, RunWriter, ScannedClient,
    Store, StoreError, StoreResult, StoredClassification,
};

const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_desk.sql"),
    include_str!("../migrations/0003_partitions.sql"),
    include_str!("../migrations/0004_work.sql"),
    include_str!("../migrations/0005_binary_explanations.sql"),
];

/// Idle connections kept for reuse.
const MAX_IDLE: usize = 8;

/// A PostgreSQL error as a store error, with the server's message, detail
/// and hint (or the client-side cause) kept.
pub(crate) fn db(e: postgres::Error) -> StoreError {
    StoreError::Database(describe(&e))
}

fn describe(e: &postgres::Error) -> String {
    if let Some(d) = e.as_db_error() {
        let mut s = format!("{}: {} (SQLSTATE {})", d.severity(), d.message(), d.code().code());
        if let Some(x) = d.detail() {
            s.push_str("; detail: ");
            s.push_str(x);
        }
        if let Some(x) = d.hint() {
            s.push_str("; hint: ");
            s.push_str(x);
        }
        return s;
    }
    match std::error::Error::source(e) {
        Some(cause) => format!("{e}: {cause}"),
        None => e.to_string(),
    }
}

/// `name` quoted as an SQL identifier.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `postgres://user:secret@host/db?password=secret` →
/// `postgres://user:***@host/db?password=***`.
fn redact(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let mut out = match (base.find("://"), base.rfind('@')) {
        (Some(s), Some(at)) if at > s => match base[s + 3..at].find(':') {
            Some(c) => format!("{}:***{}", &base[..s + 3 + c], &base[at..]),
            None => base.to_string(),
        },
        _ => base.to_string(),
    };
    if let Some(q) = query {
        let params: Vec<String> = q
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => p.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

/// A transaction-scoped advisory lock, one per schema and purpose: imports,
/// runs and migrations each run one at a time, as SQLite's single writer does.
fn lock_sql(purpose: &str) -> String {
    format!("SELECT pg_advisory_xact_lock(hashtext(coalesce(current_schema(), '') || '.tierwise.{purpose}'))")
}

/// A PostgreSQL database (one schema of it).
pub struct PostgresStore {
    config: Config,
    /// the URL with its password masked, for errors and `Debug`
    url: String,
    /// set as `search_path` on every connection, when given
    schema: Option<String>,
    idle: Mutex<Vec<Client>>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore").field("url", &self.url).field("schema", &self.schema).finish()
    }
}

/// A pooled connection, returned to the pool when dropped.
pub(crate) struct Conn<'s> {
    store: &'s PostgresStore,
    client: Option<Client>,
}

impl std::ops::Deref for Conn<'_> {
    type Target = Client;
    fn deref(&self) -> &Client {
        self.client.as_ref().unwrap_or_else(|| unreachable!("a connection is taken only when dropped"))
    }
}

impl std::ops::DerefMut for Conn<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        self.client.as_mut().unwrap_or_else(|| unreachable!("a connection is taken only when dropped"))
    }
}

impl Conn<'_> {
    /// The client, lent out (to a COPY thread) until [`Conn::put_back`];
    /// the connection must not be used meanwhile.
    fn lend(&mut self) -> Option<Client> {
        self.client.take()
    }
    fn put_back(&mut self, c: Client) {
        self.client = Some(c);
    }
}

impl Drop for Conn<'_> {
    fn drop(&mut self) {
        if let Some(c) = self.client.take() {
            if c.is_closed() {
                return;
            }
            if let Ok(mut idle) = self.store.idle.lock() {
                if idle.len() < MAX_IDLE {
                    idle.push(c);
                }
            }
        }
    }
}

impl PostgresStore {
    /// Connects to `postgres://…` (or `postgresql://…`) and migrates. A
    /// schema other than `public` may be chosen in the URL with
    /// `?options=-csearch_path%3DNAME`.
    pub fn open(url: &str) -> StoreResult<PostgresStore> {
        let s = PostgresStore::new(url, None)?;
        s.migrate()?;
        Ok(s)
    }

    /// Like `open`, in schema `schema` (created if missing), which every
    /// connection of this store uses as its `search_path`.
    pub fn open_in_schema(url: &str, schema: &str) -> StoreResult<PostgresStore> {
        let s = PostgresStore::new(url, None)?;
        s.connect()?.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(schema))).map_err(db)?;
        drop(s);
        let s = PostgresStore::new(url, Some(schema.to_string()))?;
        s.migrate()?;
        Ok(s)
    }

    fn new(url: &str, schema: Option<String>) -> StoreResult<PostgresStore> {
        let redacted = redact(url);
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(StoreError::UnsupportedUrl(redacted));
        }
        let mut config: Config =
            url.parse().map_err(|e| StoreError::Database(format!("{redacted}: {}", describe(&e))))?;
        if config.get_application_name().is_none() {
            config.application_name("tierwise");
        }
        Ok(PostgresStore { config, url: redacted, schema, idle: Mutex::new(Vec::new()) })
    }

    /// The URL with its password masked.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The schema this store was opened in, if one was named.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    pub(crate) fn connect(&self) -> StoreResult<Conn<'_>> {
        let idle = self.idle.lock().ok().and_then(|mut v| v.pop());
        let client = match idle {
            Some(c) if !c.is_closed() => c,
            _ => self.new_client()?,
        };
        Ok(Conn { store: self, client: Some(client) })
    }

    fn new_client(&self) -> StoreResult<Client> {
        let mut c = self
            .config
            .connect(NoTls)
            .map_err(|e| StoreError::Database(format!("cannot connect to {}: {}", self.url, describe(&e))))?;
        if let Some(s) = &self.schema {
            c.batch_execute(&format!("SET search_path TO {}", quote_ident(s))).map_err(db)?;
        }
        Ok(c)
    }

    /// Runs `f` in one transaction, committed when it succeeds.
    fn write<T>(&self, f: impl FnOnce(&mut Transaction) -> StoreResult<T>) -> StoreResult<T> {
        let mut c = self.connect()?;
        let mut tx = c.transaction().map_err(db)?;
        let v = f(&mut tx)?;
        tx.commit().map_err(db)?;
        Ok(v)
    }
}

/// Appends an event to the hash-chained audit trail, inside the caller's
/// write transaction: the head row is locked (appends wait for each other
/// until the transaction ends, so seq has no gaps and each event chains to
/// the one committed before it), the event numbered, stamped and hashed
/// after it, and the head moved on. Returns the event's seq.
pub(crate) fn append_audit(
    c: &mut impl GenericClient,
    actor: &str,
    action: &str,
    subject: &str,
    payload: &str,
) -> StoreResult<i64> {
    let head = c.query_opt("SELECT seq, hash FROM audit_head FOR UPDATE", &[]).map_err(db)?;
    let Some(head) = head else {
        return Err(StoreError::Corrupt("the audit trail has no head (table audit_head is empty)".into()));
    };
    let seq = codec::get::<i64>(&head, 0)? + 1;
    let prev: String = codec::get(&head, 1)?;
    // stamped under the lock: times follow seq
    let at = codec::stamp(Utc::now());
    let hash = audit_hash(&prev, seq, &at, actor, action, subject, payload);
    c.execute(
        "INSERT INTO audit_events (seq, at, actor, action, subject, payload, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[&seq, &at, &actor, &action, &subject, &payload, &prev, &hash],
    )
    .map_err(db)?;
    c.execute("UPDATE audit_head SET seq = $1, hash = $2", &[&seq, &hash]).map_err(db)?;
    Ok(seq)
}

/// The writes of one import. A table empty when the import first writes to
/// it (a first load) is loaded directly: its keys and indexes are dropped
/// inside the import's transaction, its batches stream into it through one
/// binary COPY kept open on a thread of its own (`copy::streamer`), and the
/// keys and indexes are built again at the end (`finish_direct`): a sort
/// per index instead of an insertion per row and index. The importer
/// rejects a key repeated in a file (and each table has one file), so a
/// committed import never has two rows of one key; should one come all the
/// same, the primary key cannot be built again and the import starts over
/// through staging (see `Store::import`). Any other table's batches are
/// copied into a temporary staging table (dropped at the end of the
/// transaction) and upserted from there.
struct Sink<'t, 'c> {
    /// the import's transaction; None while lent to the COPY thread
    tx: Option<&'t mut Transaction<'c>>,
    /// the COPY thread of tables loaded directly; None: none is (every
    /// batch is staged and upserted)
    streamer: Option<copy::Streamer<'t, 'c>>,
    /// the table whose COPY is open on the COPY thread
    streaming: Option<&'static str>,
    staged: Vec<&'static str>,
    /// per table written so far: whether it is loaded directly
    direct: HashMap<&'static str, bool>,
    /// per table loaded directly, the statements that build its keys and
    /// indexes again
    deferred: Vec<(&'static str, Vec<String>)>,
    txn_stats_checked: bool,
    /// A key of a table loaded directly came twice (a file the importer
    /// would reject, or rows another caller put): the transaction went back
    /// to the savepoint taken at the start of the import, and later batches
    /// are dropped. What was put must not be committed then.
    failed: Option<StoreError>,
}

/// The savepoint taken at the start of an import, for `Sink::failed`.
const START: &str = "tw_import_start";

impl<'t, 'c> Sink<'t, 'c> {
    /// A sink writing in `tx`; with a COPY thread, empty tables are loaded directly.
    pub(crate) fn new(tx: &'t mut Transaction<'c>, streamer: Option<copy::Streamer<'t, 'c>>) -> Self {
        Sink {
            tx: Some(tx),
            streamer,
            streaming: None,
            staged: Vec::new(),
            direct: HashMap::new(),
            deferred: Vec::new(),
            txn_stats_checked: false,
            failed: None,
        }
    }

    /// The transaction, once a COPY in progress has ended (with its error,
    /// should the server have refused a row).
    fn tx(&mut self) -> StoreResult<&mut Transaction<'c>> {
        if let (Some(_), Some(streamer)) = (self.streaming.take(), self.streamer.as_ref()) {
            let (tx, outcome) = streamer.close()?;
            self.tx = Some(tx);
            outcome?;
        }
        self.tx.as_deref_mut().ok_or_else(copy::gone)
    }

    /// Whether `t`'s batches go straight into it (decided at its first
    /// batch: when it is empty), its keys and indexes then dropped until
    /// `finish_direct`.
    fn is_direct(&mut self, t: &codec::Table) -> StoreResult<bool> {
        if let Some(&d) = self.direct.get(t.name) {
            return Ok(d);
        }
        let d = self.streamer.is_some() && {
            let r = self.tx()?.query_one(&format!("SELECT NOT EXISTS (SELECT 1 FROM {})", t.name), &[]).map_err(db)?;
            codec::get::<bool>(&r, 0)?
        };
        if d {
            self.defer_indexes(t.name)?;
        }
        self.direct.insert(t.name, d);
        Ok(d)
    }

    /// Drops `table`'s keys and indexes, keeping the statements that build
    /// them again (in the catalogue's own words, so they stay what the
    /// migrations made). The drop is part of the import's transaction: a
    /// failed or killed import leaves them as they were.
    fn defer_indexes(&mut self, table: &'static str) -> StoreResult<()> {
        let tx = self.tx()?;
        let keys = tx
            .query(
                "SELECT conname::text, pg_get_constraintdef(oid) FROM pg_constraint
                 WHERE conrelid = $1::text::regclass AND contype IN ('p', 'u') ORDER BY conname",
                &[&table],
            )
            .map_err(db)?;
        let indexes = tx
            .query(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
                 WHERE i.indrelid = $1::text::regclass
                   AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
                 ORDER BY 1",
                &[&table],
            )
            .map_err(db)?;
        let mut drop = String::new();
        let mut build = Vec::new();
        for r in &keys {
            let (name, def): (String, String) = (codec::get(r, 0)?, codec::get(r, 1)?);
            drop.push_str(&format!("ALTER TABLE {table} DROP CONSTRAINT {};", quote_ident(&name)));
            build.push(format!("ALTER TABLE {table} ADD CONSTRAINT {} {def}", quote_ident(&name)));
        }
        for r in &indexes {
            let (name, def): (String, String) = (codec::get(r, 0)?, codec::get(r, 1)?);
            drop.push_str(&format!("DROP INDEX {name};"));
            build.push(def);
        }
        if !drop.is_empty() {
            tx.batch_execute(&drop).map_err(db)?;
            self.deferred.push((table, build));
        }
        Ok(())
    }

    /// Builds the keys and indexes of the tables loaded directly again.
    /// A key a repeated row refuses fails the load (see `failed`).
    fn finish_direct(&mut self) -> StoreResult<()> {
        if self.deferred.is_empty() || self.failed.is_some() {
            return Ok(());
        }
        let deferred = std::mem::take(&mut self.deferred);
        let tx = self.tx()?;
        // an index is built by sorting: more memory, fewer passes
        tx.batch_execute(
            "SELECT set_config('maintenance_work_mem', '256MB', true)
             WHERE pg_size_bytes(current_setting('maintenance_work_mem')) < 268435456",
        )
        .map_err(db)?;
        let mut repeated = None;
        'tables: for (_, statements) in &deferred {
            for s in statements {
                match tx.batch_execute(s) {
                    Ok(()) => {}
                    Err(e) if e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION) => {
                        repeated = Some(e);
                        break 'tables;
                    }
                    Err(e) => return Err(db(e)),
                }
            }
        }
        if let Some(e) = repeated {
            // back to the start of the import (the dropped keys with it):
            // keeps the transaction usable for another pass
            tx.batch_execute(&format!("ROLLBACK TO SAVEPOINT {START}")).map_err(db)?;
            self.staged.clear();
            self.failed = Some(db(e));
        }
        Ok(())
    }

    fn put<R>(
        &mut self,
        t: &codec::Table,
        rows: &[R],
        copy: fn(&mut CopyRows, &R) -> Result<(), copy::EncodeError>,
    ) -> StoreResult<()> {
        if rows.is_empty() || self.failed.is_some() {
            return Ok(());
        }
        let mut data = CopyRows::new(t.types());
        for r in rows {
            copy(&mut data, r).map_err(|e| copy::encode_error(t.name, e))?;
        }
        if self.is_direct(t)? {
            if self.streaming != Some(t.name) {
                self.tx()?; // ends another table's COPY
            }
            let Some(streamer) = self.streamer.as_ref() else { return Err(copy::gone()) };
            if self.streaming != Some(t.name) {
                let tx = self.tx.take().ok_or_else(copy::gone)?;
                streamer.open(tx, codec::copy_sql(t.name, t.cols))?;
                self.streaming = Some(t.name);
            }
            return streamer.send(data.take());
        }
        let stage = t.stage();
        let first = !self.staged.contains(&t.name);
        let tx = self.tx()?;
        if first {
            tx.batch_execute(&format!(
                "CREATE TEMP TABLE {stage} (LIKE {name}, seq BIGINT GENERATED ALWAYS AS IDENTITY) ON COMMIT DROP",
                name = t.name
            ))
            .map_err(db)?;
        } else {
            tx.batch_execute(&format!("TRUNCATE {stage}")).map_err(db)?;
        }
        copy::copy_all(tx, &codec::copy_sql(&stage, t.cols), &data.take())?;
        tx.execute(&t.upsert_sql(), &[]).map_err(db)?;
        if first {
            self.staged.push(t.name);
        }
        Ok(())
    }
}

impl Sink<'_, '_> {
    /// `ANALYZE table` inside the import's transaction: a hint, never a
    /// failure (a role that may not analyse the table imports all the same).
    fn analyze(&mut self, table: &str) -> StoreResult<()> {
        let mut sp = self.tx()?.savepoint("tw_analyze").map_err(db)?;
        if sp.batch_execute(&format!("ANALYZE {table}")).is_ok() {
            sp.commit().map_err(db)?;
        }
        Ok(())
    }

    /// Statistics for every table this import loaded directly (a first
    /// load): until autovacuum gets to them the planner would otherwise
    /// take a table of millions of rows for an empty one (or for the first
    /// batch the transactions were analysed at) and sort what it should
    /// read in key order — the classification's scan among others.
    fn analyze_loaded(&mut self) -> StoreResult<()> {
        let mut loaded: Vec<&'static str> = self.direct.iter().filter(|(_, d)| **d).map(|(t, _)| *t).collect();
        loaded.sort_unstable();
        for t in loaded {
            self.analyze(t)?;
        }
        Ok(())
    }

    /// Whether rows put directly repeat a txn_id (under two clients, which
    /// no primary key refuses): the moves were not applied to them.
    fn txn_ids_repeat(&mut self) -> StoreResult<bool> {
        if self.direct.get(codec::TRANSACTIONS.name) != Some(&true) {
            return Ok(false);
        }
        let r = self
            .tx()?
            .query_one("SELECT EXISTS (SELECT 1 FROM transactions GROUP BY txn_id HAVING count(*) > 1)", &[])
            .map_err(db)?;
        codec::get(&r, 0)
    }
}

/// One pass of an import over `tx`: `f` puts the rows (through a sink
/// whose COPY thread lives as long as the pass). Returns whether `f`
/// accepted them, and whether a key came twice in tables loaded directly
/// (the pass is then to be made again through staging).
fn load_pass(
    tx: &mut Transaction<'_>,
    allow_direct: bool,
    f: &mut dyn FnMut(&mut dyn ImportSink) -> StoreResult<bool>,
) -> StoreResult<(bool, bool)> {
    std::thread::scope(|s| {
        let (streamer, copier) = copy::streamer();
        let thread = std::thread::Builder::new()
            .name("tierwise-copy".to_string())
            .spawn_scoped(s, move || copier.run())
            .map_err(|e| StoreError::Aborted(format!("cannot start the import's COPY thread: {e}")))?;
        let mut sink = Sink::new(tx, allow_direct.then_some(streamer));
        let outcome = (|| {
            let ok = f(&mut sink)?;
            if ok {
                sink.finish_direct()?;
            }
            let repeated = sink.failed.is_some() || (ok && sink.txn_ids_repeat()?);
            if ok && !repeated {
                sink.analyze_loaded()?;
            }
            sink.tx()?; // the last COPY ended
            Ok((ok, repeated))
        })();
        drop(sink); // the COPY thread's channels close: it ends
        if let Err(panic) = thread.join() {
            std::panic::resume_unwind(panic);
        }
        outcome
    })
}

impl ImportSink for Sink<'_, '_> {
    fn known_ids(&mut self, kind: IdKind) -> StoreResult<HashSet<String>> {
        let sql = match kind {
            IdKind::Client => "SELECT client_id FROM clients",
            IdKind::Advisor => "SELECT advisor_id FROM advisors",
            IdKind::Product => "SELECT product_id FROM products",
        };
        let mut out = HashSet::new();
        let mut rows = self.tx()?.query_raw(sql, std::iter::empty::<&str>()).map_err(db)?;
        while let Some(r) = rows.next().map_err(db)? {
            out.insert(codec::get::<String>(&r, 0)?);
        }
        Ok(out)
    }

    fn put_advisors(&mut self, rows: &[Advisor]) -> StoreResult<()> {
        self.put(&codec::ADVISORS, rows, codec::copy_advisor)
    }
    fn put_products(&mut self, rows: &[Product]) -> StoreResult<()> {
        self.put(&codec::PRODUCTS, rows, codec::copy_product)
    }
    fn put_clients(&mut self, rows: &[BookClient]) -> StoreResult<()> {
        self.put(&codec::CLIENTS, rows, codec::copy_client)
    }
    fn put_holdings(&mut self, rows: &[Holding]) -> StoreResult<()> {
        self.put(&codec::HOLDINGS, rows, codec::copy_holding)
    }
    fn put_transactions(&mut self, rows: &[Txn]) -> StoreResult<()> {
        if self.failed.is_some() {
            return Ok(());
        }
        if self.is_direct(&codec::TRANSACTIONS)? {
            // nothing stored to move: a txn_id repeated in the file is an
            // error of the import
            return self.put(&codec::TRANSACTIONS, rows, codec::copy_transaction);
        }
        // a txn_id re-imported under another client moves to that client (the
        // last row of a txn_id in the batch counts)
        let mut last: HashMap<&str, &str> = HashMap::with_capacity(rows.len());
        for r in rows {
            last.insert(&r.txn_id, &r.client_id);
        }
        // probed in txn_id order, the index pages are read once each
        let mut pairs: Vec<(&str, &str)> = last.into_iter().collect();
        pairs.sort_unstable();
        let (ids, clients): (Vec<&str>, Vec<&str>) = pairs.into_iter().unzip();
        if !ids.is_empty() {
            self.tx()?.execute(codec::MOVE_TRANSACTIONS, &[&ids, &clients]).map_err(db)?;
        }
        self.put(&codec::TRANSACTIONS, rows, codec::copy_transaction)?;
        if !self.txn_stats_checked {
            // Without statistics (a table never analysed: the first import)
            // the planner takes txn_id for a column of few values and scans
            // the whole table for every batch's move check. Statistics of the
            // first batch tell it txn_id is unique, as a ratio that holds as
            // the table grows.
            self.txn_stats_checked = true;
            let known = self
                .tx()?
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM pg_stats WHERE schemaname = current_schema()
                     AND tablename = 'transactions' AND attname = 'txn_id')",
                    &[],
                )
                .map_err(db)?;
            if !codec::get::<bool>(&known, 0)? {
                self.analyze("transactions")?;
            }
        }
        Ok(())
    }
    fn put_assessments(&mut self, rows: &[Assessment]) -> StoreResult<()> {
        self.put(&codec::ASSESSMENTS, rows, codec::copy_assessment)
    }
    fn put_interactions(&mut self, rows: &[Interaction]) -> StoreResult<()> {
        self.put(&codec::INTERACTIONS, rows, codec::copy_interaction)
    }
}

/// A run in progress: its own connection inside `BEGIN` … `COMMIT`.
struct PgRunWriter<'s> {
    /// the run's connection (lent to `queue`'s thread while it copies)
    c: Conn<'s>,
    /// results and explanations on their way to the server, once the first
    /// batch is sent
    queue: Option<copy::CopyQueue>,
    /// results and explanations encoded, not yet sent
    results: CopyRows,
    explanations: CopyRows,
    /// true from `BEGIN` until `COMMIT` or `ROLLBACK`
    open: bool,
    run_id: i64,
    as_of: NaiveDate,
    pack_id: String,
    pack_version: String,
    started_at: String,
    /// Some(part): a partition of a partitioned run, finished without deciles
    part: Option<i64>,
}

/// The open partitioned run, read on `c`.
fn open_run_on(c: &mut impl GenericClient) -> StoreResult<Option<OpenRun>> {
    let Some(r) = c
        .query_opt(
            "SELECT run_id, as_of, rule_pack, rule_version, partitions FROM classification_runs
             WHERE finished_at IS NULL AND partitions > 0 ORDER BY run_id DESC LIMIT 1",
            &[],
        )
        .map_err(db)?
    else {
        return Ok(None);
    };
    let run_id: i64 = codec::get(&r, 0)?;
    let done = c
        .query(
            "SELECT part FROM classification_run_partitions WHERE run_id = $1 AND finished_at IS NOT NULL ORDER BY part",
            &[&run_id],
        )
        .map_err(db)?
        .iter()
        .map(|r| codec::get(r, 0))
        .collect::<StoreResult<Vec<i64>>>()?;
    Ok(Some(OpenRun {
        run_id,
        as_of: codec::get(&r, 1)?,
        rule_pack: codec::get(&r, 2)?,
        rule_version: codec::get(&r, 3)?,
        partitions: codec::get(&r, 4)?,
        done,
    }))
}

/// Refuses a write that must not happen while a partitioned run is open.
fn refuse_if_open(c: &mut impl GenericClient, what: &str) -> StoreResult<()> {
    match open_run_on(c)? {
        Some(open) => Err(StoreError::Aborted(format!("cannot {what}: {}", open.describe()))),
        None => Ok(()),
    }
}

/// The columns of `explanations`, in COPY order.
const EXPLANATION_COLS: &[(&str, postgres::types::Type)] = &[
    ("run_id", postgres::types::Type::INT8),
    ("client_id", postgres::types::Type::TEXT),
    ("explanation", postgres::types::Type::BYTEA),
];

/// Encoded results sent to the server once they reach this size: a few
/// dozen COPYs a run of a million clients, each overlapping the encoding
/// of the next.
const COPY_BYTES: usize = 4 << 20;

impl<'s> PgRunWriter<'s> {
    fn new(c: Conn<'s>, as_of: NaiveDate, pack_id: &str, pack_version: &str, run_id: i64, part: Option<i64>) -> Self {
        PgRunWriter {
            c,
            queue: None,
            results: CopyRows::new(codec::CLASSIFICATIONS.iter().map(|c| c.1.clone()).collect()),
            explanations: CopyRows::new(EXPLANATION_COLS.iter().map(|c| c.1.clone()).collect()),
            open: false,
            run_id,
            as_of,
            pack_id: pack_id.to_string(),
            pack_version: pack_version.to_string(),
            started_at: String::new(),
            part,
        }
    }
}

impl PgRunWriter<'_> {
    /// `rows` into `table` (its columns `cols`) by one binary COPY.
    fn copy(&mut self, table: &str, cols: &[(&str, postgres::types::Type)], rows: &mut CopyRows) -> StoreResult<()> {
        copy::copy_all(&mut *self.c, &codec::copy_sql(table, cols), &rows.take()).map(|_| ())
    }

    /// Queues the results and explanations encoded so far (`all`: however
    /// few; else only a buffer of at least `COPY_BYTES`).
    fn send(&mut self, all: bool) -> StoreResult<()> {
        let buffers = [
            ("classifications", codec::CLASSIFICATIONS, &mut self.results),
            ("explanations", EXPLANATION_COLS, &mut self.explanations),
        ];
        for (table, cols, rows) in buffers {
            if rows.len() == 0 || (!all && rows.len() < COPY_BYTES) {
                continue;
            }
            let data = rows.take();
            if self.queue.is_none() {
                let client = self.c.lend().ok_or_else(copy::gone)?;
                self.queue = Some(copy::CopyQueue::start(client)?);
            }
            if let Some(q) = &self.queue {
                q.send(codec::copy_sql(table, cols), data)?;
            }
        }
        Ok(())
    }

    /// Waits for every queued COPY; the connection is the writer's again.
    fn settle(&mut self) -> StoreResult<()> {
        match self.queue.take() {
            Some(q) => {
                let (client, outcome) = q.finish();
                self.c.put_back(client);
                outcome
            }
            None => Ok(()),
        }
    }

    fn rollback(&mut self) {
        let _ = self.settle();
        if self.open {
            self.open = false;
            let _ = self.c.batch_execute("ROLLBACK");
        }
    }

    fn finish_partition(&mut self, part: i64, clients: i64) -> StoreResult<RunInfo> {
        let run_id = self.run_id;
        self.c
            .execute(
                "UPDATE classification_run_partitions SET finished_at = now(), clients = $1 WHERE run_id = $2 AND part = $3",
                &[&clients, &run_id, &part],
            )
            .map_err(db)?;
        let payload = serde_json::json!({ "run_id": run_id, "part": part, "clients": clients });
        append_audit(
            &mut *self.c,
            "system",
            "classification.partition",
            &format!("run:{run_id}"),
            &payload.to_string(),
        )?;
        tierwise_store::failpoint("partition.commit");
        self.c.batch_execute("COMMIT").map_err(db)?;
        self.open = false;
        Ok(RunInfo {
            run_id,
            as_of: self.as_of,
            rule_pack: self.pack_id.clone(),
            rule_version: self.pack_version.clone(),
            started_at: self.started_at.clone(),
            finished_at: String::new(),
            clients,
        })
    }

    fn finish_inner(&mut self, deciles: &[(String, u8)], clients: i64) -> StoreResult<RunInfo> {
        self.send(true)?;
        self.settle()?;
        if let Some(part) = self.part {
            return self.finish_partition(part, clients);
        }
        let mut sorted: Vec<&(String, u8)> = deciles.iter().collect();
        sorted.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let run_id = self.run_id;
        let cols = [
            ("run_id", postgres::types::Type::INT8),
            ("client_id", postgres::types::Type::TEXT),
            ("value_decile", postgres::types::Type::INT2),
        ];
        let mut rows = CopyRows::new(cols.iter().map(|c| c.1.clone()).collect());
        for (id, d) in sorted {
            rows.write(&[&run_id, id, &i16::from(*d)]).map_err(|e| copy::encode_error("value_deciles", e))?;
        }
        self.copy("value_deciles", &cols, &mut rows)?;
        let finished = Utc::now();
        self.c
            .execute(
                "UPDATE classification_runs SET finished_at = $1, clients = $2 WHERE run_id = $3",
                &[&finished, &clients, &run_id],
            )
            .map_err(db)?;
        let payload = serde_json::json!({
            "run_id": run_id, "as_of": self.as_of.to_string(), "rule_pack": self.pack_id,
            "rule_version": self.pack_version, "clients": clients,
        });
        append_audit(&mut *self.c, "system", "classification.run", &format!("run:{run_id}"), &payload.to_string())?;
        tierwise_store::failpoint("run.commit");
        self.c.batch_execute("COMMIT").map_err(db)?;
        self.open = false;
        Ok(RunInfo {
            run_id,
            as_of: self.as_of,
            rule_pack: self.pack_id.clone(),
            rule_version: self.pack_version.clone(),
            started_at: self.started_at.clone(),
            finished_at: codec::stamp(finished),
            clients,
        })
    }
}

impl RunWriter for PgRunWriter<'_> {
    fn write(&mut self, rows: &[(Classification, Option<(String, String)>)]) -> StoreResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let run_id = self.run_id;
        for (c, prev) in rows {
            codec::copy_classification(&mut self.results, run_id, c, prev.as_ref())
                .map_err(|e| copy::encode_error("classifications", e))?;
            self.explanations
                .write(&[&run_id, &c.client_id, &c.explanation.stored()])
                .map_err(|e| copy::encode_error("explanations", e))?;
        }
        self.send(false)
    }

    fn finish(mut self: Box<Self>, deciles: &[(String, u8)], clients: i64) -> StoreResult<RunInfo> {
        let res = self.finish_inner(deciles, clients);
        if res.is_err() {
            self.rollback();
        }
        res
    }
}

impl Drop for PgRunWriter<'_> {
    fn drop(&mut self) {
        // a run that was not finished leaves nothing behind
        self.rollback();
    }
}

fn run_info(r: &Row) -> StoreResult<RunInfo> {
    run_info_at(r, 0)
}

/// A run from the columns of `RUN_COLS`, starting at column `i`.
pub(crate) fn run_info_at(r: &Row, i: usize) -> StoreResult<RunInfo> {
    let finished: Option<chrono::DateTime<Utc>> = codec::get(r, i + 5)?;
    Ok(RunInfo {
        run_id: codec::get(r, i)?,
        as_of: codec::get(r, i + 1)?,
        rule_pack: codec::get(r, i + 2)?,
        rule_version: codec::get(r, i + 3)?,
        started_at: codec::stamp(codec::get(r, i + 4)?),
        finished_at: finished.map(codec::stamp).unwrap_or_default(),
        clients: codec::get(r, i + 6)?,
    })
}

pub(crate) const RUN_COLS: &str = "run_id, as_of, rule_pack, rule_version, started_at, finished_at, clients";

impl Store for PostgresStore {
    fn migrate(&self) -> StoreResult<()> {
        self.write(|tx| {
            tx.batch_execute(&lock_sql("migrate")).map_err(db)?;
            // created only when missing: an up-to-date schema opens without
            // the privilege to create tables
            let tracked = tx.query_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[]).map_err(db)?;
            if !codec::get::<bool>(&tracked, 0)? {
                tx.batch_execute(
                    "CREATE TABLE schema_migrations (
                         version    INTEGER PRIMARY KEY,
                         applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
                     )",
                )
                .map_err(db)?;
            }
            let v: Option<i32> =
                codec::get(&tx.query_one("SELECT max(version) FROM schema_migrations", &[]).map_err(db)?, 0)?;
            let v = i64::from(v.unwrap_or(0));
            let known = MIGRATIONS.len() as i64;
            if v > known {
                return Err(StoreError::SchemaTooNew { found: v, known });
            }
            for (i, m) in MIGRATIONS.iter().enumerate().skip(v as usize) {
                tx.batch_execute(m).map_err(db)?;
                let version = i as i32 + 1;
                tx.execute("INSERT INTO schema_migrations (version) VALUES ($1)", &[&version]).map_err(db)?;
            }
            Ok(())
        })
    }

    fn import(&self, f: &mut dyn FnMut(&mut dyn ImportSink) -> StoreResult<bool>) -> StoreResult<bool> {
        let mut c = self.connect()?;
        let mut tx = c.transaction().map_err(db)?;
        tx.batch_execute(&lock_sql("import")).map_err(db)?;
        refuse_if_open(&mut tx, "import")?;
        tx.batch_execute(&format!("SAVEPOINT {START}")).map_err(db)?;
        // Empty tables are loaded directly. Should the rows put repeat a key
        // (the importer rejects such files, so only another caller's rows
        // can), the import runs again from its start through staging, where
        // the last row of a key wins and txn_ids move as always.
        let mut allow_direct = true;
        let ok = loop {
            let (ok, repeated) = load_pass(&mut tx, allow_direct, f)?;
            if !(ok && repeated && allow_direct) {
                break ok && !repeated;
            }
            tx.batch_execute(&format!("ROLLBACK TO SAVEPOINT {START}")).map_err(db)?;
            allow_direct = false;
        };
        if ok {
            tx.commit().map_err(db)?;
        } else {
            tx.rollback().map_err(db)?;
        }
        Ok(ok)
    }

    fn products(&self) -> StoreResult<Vec<Product>> {
        let mut c = self.connect()?;
        let rows =
            c.query(&format!("SELECT {} FROM products ORDER BY product_id", codec::PRODUCT_COLS), &[]).map_err(db)?;
        rows.iter().map(codec::product_from).collect()
    }

    fn client(&self, client_id: &str) -> StoreResult<Option<BookClient>> {
        let mut c = self.connect()?;
        let row = c
            .query_opt(&format!("SELECT {} FROM clients WHERE client_id = $1", codec::CLIENT_COLS), &[&client_id])
            .map_err(db)?;
        row.as_ref().map(codec::client_from).transpose()
    }

    fn client_book(&self, client_id: &str, catalog: &Catalog) -> StoreResult<Option<ClientBook>> {
        scan::one_book(&mut *self.connect()?, client_id, catalog)
    }

    fn counts(&self) -> StoreResult<BookCounts> {
        let mut c = self.connect()?;
        let r = c
            .query_one(
                "SELECT (SELECT count(*) FROM clients), (SELECT count(*) FROM advisors), (SELECT count(*) FROM products),
                        (SELECT count(*) FROM holdings), (SELECT count(*) FROM transactions), (SELECT count(*) FROM assessments),
                        (SELECT count(*) FROM interactions), (SELECT count(*) FROM classification_runs WHERE finished_at IS NOT NULL),
                        (SELECT count(*) FROM suitability_checks)",
                &[],
            )
            .map_err(db)?;
        Ok(BookCounts {
            clients: codec::get(&r, 0)?,
            advisors: codec::get(&r, 1)?,
            products: codec::get(&r, 2)?,
            holdings: codec::get(&r, 3)?,
            transactions: codec::get(&r, 4)?,
            assessments: codec::get(&r, 5)?,
            interactions: codec::get(&r, 6)?,
            runs: codec::get(&r, 7)?,
            checks: codec::get(&r, 8)?,
        })
    }

    fn client_count(&self) -> StoreResult<i64> {
        let r = self.connect()?.query_one("SELECT count(*) FROM clients", &[]).map_err(db)?;
        codec::get(&r, 0)
    }

    fn scan_books(
        &self,
        catalog: &Catalog,
        chunk: usize,
        window: Option<BookWindow>,
        f: &mut dyn FnMut(Vec<ScannedClient>) -> StoreResult<()>,
    ) -> StoreResult<()> {
        // one connection per core reads a range of clients, in one snapshot
        let readers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(4);
        scan::read_ranges(self, catalog, chunk, readers, window, f)
    }

    fn begin_run(
        &self,
        as_of: NaiveDate,
        pack_id: &str,
        pack_version: &str,
        pack_text: &str,
    ) -> StoreResult<Box<dyn RunWriter + '_>> {
        let c = self.connect()?;
        let mut w = PgRunWriter::new(c, as_of, pack_id, pack_version, 0, None);
        w.c.batch_execute("BEGIN").map_err(db)?;
        w.open = true;
        let started = Utc::now();
        w.c.batch_execute(&lock_sql("run")).map_err(db)?;
        refuse_if_open(&mut *w.c, "start a run")?;
        w.c.execute(
            "INSERT INTO rule_packs (pack_id, version, source_text, stored_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (pack_id, version) DO NOTHING",
            &[&pack_id, &pack_version, &pack_text, &started],
        )
        .map_err(db)?;
        let r =
            w.c.query_one(
                // INSERT … SELECT rather than a subquery in VALUES, which Citus refuses
                "INSERT INTO classification_runs (run_id, as_of, rule_pack, rule_version, started_at, finished_at, clients)
                 SELECT coalesce(max(run_id), 0) + 1, $1, $2, $3, $4, NULL, 0 FROM classification_runs
                 RETURNING run_id",
                &[&as_of, &pack_id, &pack_version, &started],
            )
            .map_err(db)?;
        w.run_id = codec::get(&r, 0)?;
        w.started_at = codec::stamp(started);
        // on any error above, dropping `w` rolls the transaction back
        Ok(Box::new(w))
    }

    fn open_run(&self) -> StoreResult<Option<OpenRun>> {
        open_run_on(&mut *self.connect()?)
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
        // 1. open the run, or join the open one (a short transaction under the run lock)
        let run_id = self.write(|tx| {
            tx.batch_execute(&lock_sql("run")).map_err(db)?;
            if let Some(open) = open_run_on(tx)? {
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
            let started = Utc::now();
            tx.execute(
                "INSERT INTO rule_packs (pack_id, version, source_text, stored_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (pack_id, version) DO NOTHING",
                &[&pack_id, &pack_version, &pack_text, &started],
            )
            .map_err(db)?;
            let r = tx
                .query_one(
                    "INSERT INTO classification_runs
                         (run_id, as_of, rule_pack, rule_version, started_at, finished_at, clients, partitions, previous_run)
                     SELECT coalesce(max(run_id), 0) + 1, $1, $2, $3, $4, NULL, 0, $5,
                            max(run_id) FILTER (WHERE finished_at IS NOT NULL)
                     FROM classification_runs
                     RETURNING run_id",
                    &[&as_of, &pack_id, &pack_version, &started, &partitions],
                )
                .map_err(db)?;
            let run_id: i64 = codec::get(&r, 0)?;
            let n: i64 = codec::get(&tx.query_one("SELECT count(*) FROM clients", &[]).map_err(db)?, 0)?;
            let mut bounds: Vec<Option<String>> = vec![None];
            for k in 1..partitions {
                let off = k * n / partitions;
                let r = tx
                    .query_opt("SELECT client_id FROM clients ORDER BY client_id LIMIT 1 OFFSET $1", &[&off])
                    .map_err(db)?;
                bounds.push(r.map(|r| codec::get(&r, 0)).transpose()?);
            }
            bounds.push(None);
            for k in 1..=partitions {
                tx.execute(
                    "INSERT INTO classification_run_partitions (run_id, part, lower_id, upper_id) VALUES ($1, $2, $3, $4)",
                    &[&run_id, &k, &bounds[k as usize - 1], &bounds[k as usize]],
                )
                .map_err(db)?;
            }
            Ok(run_id)
        })?;
        // 2. the partition's own transaction: its previous rows go, new ones come
        let c = self.connect()?;
        let mut w = PgRunWriter::new(c, as_of, pack_id, pack_version, run_id, Some(part));
        w.c.batch_execute("BEGIN").map_err(db)?;
        w.open = true;
        let lock = w
            .c
            .query_one(
                "SELECT pg_try_advisory_xact_lock(hashtext(coalesce(current_schema(), '') || '.tierwise.run.' || $1::text || '.part.' || $2::text))",
                &[&run_id.to_string(), &part.to_string()],
            )
            .map_err(db)?;
        if !codec::get::<bool>(&lock, 0)? {
            return Err(StoreError::Conflict(format!(
                "partition {part}/{partitions} of run #{run_id} is being computed by another process"
            )));
        }
        let Some(r) =
            w.c.query_opt(
                "SELECT r.started_at, r.previous_run, p.lower_id, p.upper_id, p.finished_at IS NOT NULL
                 FROM classification_runs r JOIN classification_run_partitions p ON p.run_id = r.run_id
                 WHERE r.run_id = $1 AND p.part = $2 AND r.finished_at IS NULL",
                &[&run_id, &part],
            )
            .map_err(db)?
        else {
            return Err(StoreError::Aborted(format!("run #{run_id} is no longer open")));
        };
        w.started_at = codec::stamp(codec::get(&r, 0)?);
        let p = Partition {
            run_id,
            part,
            partitions,
            previous_run: codec::get(&r, 1)?,
            lower_id: codec::get(&r, 2)?,
            upper_id: codec::get(&r, 3)?,
            already_done: codec::get(&r, 4)?,
        };
        let range = "run_id = $1 AND ($2::text IS NULL OR client_id >= $2) AND ($3::text IS NULL OR client_id < $3)";
        for t in ["classifications", "explanations"] {
            w.c.execute(&format!("DELETE FROM {t} WHERE {range}"), &[&run_id, &p.lower_id, &p.upper_id]).map_err(db)?;
        }
        w.c.execute(
            "UPDATE classification_run_partitions SET finished_at = NULL, clients = 0 WHERE run_id = $1 AND part = $2",
            &[&run_id, &part],
        )
        .map_err(db)?;
        // on any error above, dropping `w` rolls the transaction back
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
        scan::scan_books(&mut *self.connect()?, catalog, chunk, Some(partition), window, None, f)
    }

    fn begin_finish_partitions(&self) -> StoreResult<(OpenRun, Vec<(String, Decimal)>, Box<dyn RunWriter + '_>)> {
        let c = self.connect()?;
        let mut w = PgRunWriter::new(c, NaiveDate::default(), "", "", 0, None);
        w.c.batch_execute("BEGIN").map_err(db)?;
        w.open = true;
        w.c.batch_execute(&lock_sql("run")).map_err(db)?;
        let open = open_run_on(&mut *w.c)?.ok_or_else(|| StoreError::Aborted("no partitioned run is open".into()))?;
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
        // every partition's lock: none may be re-running while the run finishes
        for k in 1..=open.partitions {
            w.c.execute(
                "SELECT pg_advisory_xact_lock(hashtext(coalesce(current_schema(), '') || '.tierwise.run.' || $1::text || '.part.' || $2::text))",
                &[&open.run_id.to_string(), &k.to_string()],
            )
            .map_err(db)?;
        }
        let r =
            w.c.query_one("SELECT started_at FROM classification_runs WHERE run_id = $1", &[&open.run_id])
                .map_err(db)?;
        w.started_at = codec::stamp(codec::get(&r, 0)?);
        w.run_id = open.run_id;
        w.as_of = open.as_of;
        w.pack_id = open.rule_pack.clone();
        w.pack_version = open.rule_version.clone();
        w.c.execute("DELETE FROM value_deciles WHERE run_id = $1", &[&open.run_id]).map_err(db)?;
        let pairs =
            w.c.query("SELECT client_id, value FROM classifications WHERE run_id = $1", &[&open.run_id])
                .map_err(db)?
                .iter()
                .map(|r| Ok((codec::get::<String>(r, 0)?, codec::get::<Decimal>(r, 1)?)))
                .collect::<StoreResult<Vec<_>>>()?;
        Ok((open, pairs, Box::new(w)))
    }

    fn abandon_partitions(&self) -> StoreResult<Option<i64>> {
        self.write(|tx| {
            tx.batch_execute(&lock_sql("run")).map_err(db)?;
            let Some(open) = open_run_on(tx)? else { return Ok(None) };
            for t in [
                "classifications",
                "explanations",
                "value_deciles",
                "classification_run_partitions",
                "classification_runs",
            ] {
                tx.execute(&format!("DELETE FROM {t} WHERE run_id = $1"), &[&open.run_id]).map_err(db)?;
            }
            let payload =
                serde_json::json!({ "run_id": open.run_id, "partitions": open.partitions, "done": open.done });
            append_audit(
                tx,
                "system",
                "classification.abandon",
                &format!("run:{}", open.run_id),
                &payload.to_string(),
            )?;
            Ok(Some(open.run_id))
        })
    }

    fn latest_run(&self) -> StoreResult<Option<RunInfo>> {
        let mut c = self.connect()?;
        let row = c
            .query_opt(&format!("SELECT {RUN_COLS} FROM classification_runs WHERE finished_at IS NOT NULL ORDER BY run_id DESC LIMIT 1"), &[])
            .map_err(db)?;
        row.as_ref().map(run_info).transpose()
    }

    fn runs(&self) -> StoreResult<Vec<RunInfo>> {
        let mut c = self.connect()?;
        let rows = c
            .query(
                &format!(
                    "SELECT {RUN_COLS} FROM classification_runs WHERE finished_at IS NOT NULL ORDER BY run_id DESC"
                ),
                &[],
            )
            .map_err(db)?;
        rows.iter().map(run_info).collect()
    }

    fn scan_run(&self, run_id: i64, f: &mut dyn FnMut(&StoredClassification) -> StoreResult<()>) -> StoreResult<()> {
        scan::scan_run(&mut *self.connect()?, run_id, f)
    }

    fn explanation(&self, run_id: i64, client_id: &str) -> StoreResult<Option<Vec<u8>>> {
        let mut c = self.connect()?;
        let row = c
            .query_opt(
                "SELECT explanation FROM explanations WHERE run_id = $1 AND client_id = $2",
                &[&run_id, &client_id],
            )
            .map_err(db)?;
        row.as_ref().map(|r| codec::get(r, 0)).transpose()
    }

    fn run_distribution(&self, run_id: i64, field: &str) -> StoreResult<Vec<(String, i64)>> {
        let col = codec::group_column(field)?;
        let mut c = self.connect()?;
        let rows = c
            .query(
                &format!("SELECT {col}, count(*) FROM classifications WHERE run_id = $1 GROUP BY {col} ORDER BY {col}"),
                &[&run_id],
            )
            .map_err(db)?;
        rows.iter().map(|r| Ok((codec::get(r, 0)?, codec::get(r, 1)?))).collect()
    }

    fn run_migrations(&self, run_id: i64, field: &str) -> StoreResult<Vec<(String, String, i64)>> {
        let col = codec::group_column(field)?;
        let mut c = self.connect()?;
        let rows = c
            .query(
                &format!(
                    "SELECT coalesce(prev_{col}, ''), {col}, count(*) FROM classifications WHERE run_id = $1
                     GROUP BY 1, 2 ORDER BY 1, 2"
                ),
                &[&run_id],
            )
            .map_err(db)?;
        rows.iter().map(|r| Ok((codec::get(r, 0)?, codec::get(r, 1)?, codec::get(r, 2)?))).collect()
    }

    fn pack_text(&self, pack_id: &str, version: &str) -> StoreResult<Option<String>> {
        let mut c = self.connect()?;
        let row = c
            .query_opt("SELECT source_text FROM rule_packs WHERE pack_id = $1 AND version = $2", &[&pack_id, &version])
            .map_err(db)?;
        row.as_ref().map(|r| codec::get(r, 0)).transpose()
    }

    fn record_check(&self, check: &CheckRecord) -> StoreResult<i64> {
        let at = NaiveDateTime::parse_from_str(&check.at, "%Y-%m-%dT%H:%M:%S%.f").map_err(|_| {
            StoreError::Aborted(format!("the time of a check, {:?}, is not a local timestamp", check.at))
        })?;
        self.write(|tx| {
            let r = tx
                .query_one(
                    "INSERT INTO suitability_checks (client_id, product_id, at, verdict, rule_pack, rule_version, payload, recorded_at, actor)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING check_id",
                    &[&check.client_id, &check.product_id, &at, &check.verdict, &check.rule_pack, &check.rule_version, &check.payload, &Utc::now(), &check.actor],
                )
                .map_err(db)?;
            let id: i64 = codec::get(&r, 0)?;
            append_audit(tx, &check.actor, "suitability.check", &format!("check:{id}"), &check.payload)?;
            Ok(id)
        })
    }

    fn audit(&self, actor: &str, action: &str, subject: &str, payload: &str) -> StoreResult<i64> {
        self.write(|tx| append_audit(tx, actor, action, subject, payload))
    }
}

#[cfg(test)]
mod tests;
