//! Streaming reads: the whole book in client-id order (a merge join of one
//! portal per table, fetched a few thousand rows at a time inside one
//! REPEATABLE READ read-only transaction, so the snapshot is consistent and
//! no table is ever held in memory), one client's book, and a run's results.

use crate::codec::{self, corrupt, decile, en, get, opt_en};
use crate::db;
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use postgres::{Client, IsolationLevel, Portal, Row, Transaction};
use tierwise_classify::{AssessmentRow, BookWindow, Catalog, ClientBook, HoldingRow, TxnRow};
use tierwise_domain::*;
use tierwise_store::{Partition, ScannedClient, StoreResult, StoredClassification};

/// Rows fetched per round trip from each portal.
const FETCH: i32 = 4096;

const HOLDING_SQL: &str = "SELECT client_id, product_id, market_value, as_of FROM holdings";
const TXN_SQL: &str = "SELECT client_id, ts, kind, amount, product_id FROM transactions";
const ASSESSMENT_SQL: &str =
    "SELECT client_id, questionnaire_id, assessed_at, channel, risk_level, lowest, score, horizon_months, varieties, goal FROM assessments";
/// `ASSESSMENT_SQL` with the answers as column 10, for the client 360.
pub(crate) const ASSESSMENT_WITH_ANSWERS_SQL: &str =
    "SELECT client_id, questionnaire_id, assessed_at, channel, risk_level, lowest, score, horizon_months, varieties, goal, answers FROM assessments";

fn holding(r: &Row, catalog: &Catalog) -> StoreResult<Option<HoldingRow>> {
    let Some(product) = catalog.index_of(get(r, 1)?) else { return Ok(None) };
    Ok(Some(HoldingRow { product, market_value: get(r, 2)?, as_of: get(r, 3)? }))
}

fn txn(r: &Row, catalog: &Catalog) -> StoreResult<TxnRow> {
    let pid: Option<&str> = get(r, 4)?;
    Ok(TxnRow {
        ts: get(r, 1)?,
        kind: en(TxnKind::parse, get(r, 2)?)?,
        amount: get(r, 3)?,
        product: pid.and_then(|p| catalog.index_of(p)),
    })
}

pub(crate) fn assessment(r: &Row) -> StoreResult<AssessmentRow> {
    let varieties: Option<&str> = get(r, 8)?;
    Ok(AssessmentRow {
        questionnaire_id: get(r, 1)?,
        assessed_at: get(r, 2)?,
        channel: en(Channel::parse, get(r, 3)?)?,
        result: AssessmentResult {
            level: en(RiskLevel::parse, get(r, 4)?)?,
            lowest: get(r, 5)?,
            score: get(r, 6)?,
            horizon_months: codec::count(get(r, 7)?)?,
            varieties: varieties.map(|v| parse_varieties(v).map_err(|_| corrupt("varieties", v))).transpose()?,
            goal: opt_en(Goal::parse, get(r, 9)?)?,
        },
    })
}

/// A read-only REPEATABLE READ transaction: every read in it sees one snapshot.
pub(crate) fn read_snapshot(c: &mut Client) -> StoreResult<Transaction<'_>> {
    c.build_transaction().isolation_level(IsolationLevel::RepeatableRead).read_only(true).start().map_err(db)
}

/// An open portal read a batch of rows at a time.
pub(crate) struct Fetcher {
    portal: Portal,
    rows: std::vec::IntoIter<Row>,
    done: bool,
    fetch: i32,
}

impl Fetcher {
    pub(crate) fn open(tx: &mut Transaction, sql: &str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<Fetcher> {
        Fetcher::open_fetching(tx, sql, params, FETCH)
    }

    /// Like `open`, fetching `fetch` rows per round trip.
    pub(crate) fn open_fetching(
        tx: &mut Transaction,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        fetch: i32,
    ) -> StoreResult<Fetcher> {
        let portal = tx.bind(sql, params).map_err(db)?;
        Ok(Fetcher { portal, rows: Vec::new().into_iter(), done: false, fetch })
    }

    pub(crate) fn next(&mut self, tx: &mut Transaction) -> StoreResult<Option<Row>> {
        if let Some(r) = self.rows.next() {
            return Ok(Some(r));
        }
        if self.done {
            return Ok(None);
        }
        let rows = tx.query_portal(&self.portal, self.fetch).map_err(db)?;
        self.done = rows.len() < self.fetch as usize;
        self.rows = rows.into_iter();
        Ok(self.rows.next())
    }
}

/// Converts a row to the value a cursor yields.
type MapRow<'a, T> = Box<dyn Fn(&Row) -> StoreResult<T> + 'a>;

/// A portal over rows ordered by client_id, read one client at a time; each
/// row is converted to an owned value as the cursor passes it.
struct Cursor<'a, T> {
    rows: Fetcher,
    map: MapRow<'a, T>,
    /// the client id of the row under the cursor (reused, not reallocated)
    id: String,
    /// the row under the cursor, None at the end
    current: Option<T>,
}

impl<'a, T> Cursor<'a, T> {
    fn open(
        tx: &mut Transaction,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        map: impl Fn(&Row) -> StoreResult<T> + 'a,
    ) -> StoreResult<Cursor<'a, T>> {
        let mut c =
            Cursor { rows: Fetcher::open(tx, sql, params)?, map: Box::new(map), id: String::new(), current: None };
        c.advance(tx)?;
        Ok(c)
    }

    fn advance(&mut self, tx: &mut Transaction) -> StoreResult<()> {
        self.current = match self.rows.next(tx)? {
            Some(r) => {
                self.id.clear();
                self.id.push_str(get::<&str>(&r, 0)?);
                Some((self.map)(&r)?)
            }
            None => None,
        };
        Ok(())
    }

    /// Every row of `client_id`, skipping rows of smaller ids (rows whose
    /// client no longer exists).
    fn take(&mut self, tx: &mut Transaction, client_id: &str, out: &mut Vec<T>) -> StoreResult<()> {
        while self.current.is_some() && self.id.as_str() <= client_id {
            if let Some(v) = self.current.take() {
                if self.id == client_id {
                    out.push(v);
                }
            }
            self.advance(tx)?;
        }
        Ok(())
    }
}

/// `WHERE`/`AND` conditions for a partition's range of client ids, with its
/// parameters numbered from `first`; empty for the whole book.
fn range_clause<'p>(part: Option<&'p Partition>, first: usize, prefix: &str) -> (String, Vec<&'p (dyn ToSql + Sync)>) {
    let mut sql = String::new();
    let mut params: Vec<&'p (dyn ToSql + Sync)> = Vec::new();
    let Some(p) = part else { return (sql, params) };
    let mut word = prefix;
    if let Some(lo) = &p.lower_id {
        params.push(lo);
        sql.push_str(&format!(" {word} client_id >= ${}", first + params.len() - 1));
        word = "AND";
    }
    if let Some(hi) = &p.upper_id {
        params.push(hi);
        sql.push_str(&format!(" {word} client_id < ${}", first + params.len() - 1));
    }
    (sql, params)
}

/// Streams the book (or one partition's range of it) in client-id order;
/// with a window, only its holdings and transactions; with a snapshot (an
/// id from `pg_export_snapshot()`), as that snapshot sees the database.
pub(crate) fn scan_books(
    c: &mut Client,
    catalog: &Catalog,
    chunk: usize,
    part: Option<&Partition>,
    window: Option<BookWindow>,
    snapshot: Option<&str>,
    f: &mut dyn FnMut(Vec<ScannedClient>) -> StoreResult<()>,
) -> StoreResult<()> {
    let chunk = chunk.max(1);
    let mut tx = read_snapshot(c)?;
    if let Some(id) = snapshot {
        // the snapshot of the transaction that split the book (`read_ranges`)
        tx.batch_execute(&format!("SET TRANSACTION SNAPSHOT '{}'", id.replace('\'', "''"))).map_err(db)?;
    }
    let prev_run: Option<i64> = match part {
        Some(p) => p.previous_run,
        None => get(
            &tx.query_one("SELECT max(run_id) FROM classification_runs WHERE finished_at IS NOT NULL", &[])
                .map_err(db)?,
            0,
        )?,
    };
    let prev_run = prev_run.unwrap_or(-1);
    let (w, wp) = range_clause(part, 1, "WHERE");
    let (and, ap) = range_clause(part, 2, "AND");
    let mut pp: Vec<&(dyn ToSql + Sync)> = vec![&prev_run];
    pp.extend(ap);
    // every id column is COLLATE "C": byte-wise order, the primary keys' order
    let mut clients = Fetcher::open(
        &mut tx,
        &format!("SELECT {} FROM clients{w} ORDER BY client_id", codec::CLIENT_COLS_FOR_BATCH),
        &wp,
    )?;
    // the window's conditions after the range's, numbered after its parameters
    let bounds = window.map(|w| {
        let midnight = |d: chrono::NaiveDate| d.and_hms_opt(0, 0, 0).unwrap_or_default();
        (w.as_of, midnight(w.transactions_from), midnight(w.next_day()))
    });
    let n = wp.len();
    let (in_holdings, in_txns) = match bounds {
        None => (w.clone(), w.clone()),
        Some(_) => {
            let word = if w.is_empty() { " WHERE" } else { " AND" };
            (format!("{w}{word} as_of <= ${}", n + 1), format!("{w}{word} ts >= ${} AND ts < ${}", n + 1, n + 2))
        }
    };
    let (mut hp, mut tp) = (wp.clone(), wp.clone());
    if let Some((as_of, from, next)) = &bounds {
        hp.push(as_of);
        tp.extend([from as &(dyn ToSql + Sync), next]);
    }
    let mut hc = Cursor::open(
        &mut tx,
        &format!("{HOLDING_SQL}{in_holdings} ORDER BY client_id, as_of, product_id"),
        &hp,
        |r| holding(r, catalog),
    )?;
    let mut tc =
        Cursor::open(&mut tx, &format!("{TXN_SQL}{in_txns} ORDER BY client_id, txn_id"), &tp, |r| txn(r, catalog))?;
    let mut ac =
        Cursor::open(&mut tx, &format!("{ASSESSMENT_SQL}{w} ORDER BY client_id, assessed_at"), &wp, assessment)?;
    let mut pc = Cursor::open(
        &mut tx,
        &format!(
            "SELECT client_id, asset_tier, segment FROM classifications WHERE run_id = $1{and} ORDER BY client_id"
        ),
        &pp,
        |r| Ok((get::<String>(r, 1)?, get::<String>(r, 2)?)),
    )?;
    let mut batch = Vec::with_capacity(chunk);
    let mut holdings = Vec::new();
    let mut previous = Vec::with_capacity(1);
    while let Some(r) = clients.next(&mut tx)? {
        let mut book = ClientBook { client: codec::client_from(&r)?, ..Default::default() };
        let id = book.client.client_id.as_str();
        holdings.clear();
        hc.take(&mut tx, id, &mut holdings)?;
        book.holdings.extend(holdings.drain(..).flatten());
        tc.take(&mut tx, id, &mut book.transactions)?;
        ac.take(&mut tx, id, &mut book.assessments)?;
        previous.clear();
        pc.take(&mut tx, id, &mut previous)?;
        batch.push(ScannedClient { book, previous: previous.pop() });
        if batch.len() >= chunk {
            f(std::mem::replace(&mut batch, Vec::with_capacity(chunk)))?;
        }
    }
    if !batch.is_empty() {
        f(batch)?;
    }
    tx.commit().map_err(db)
}

/// Streams the whole book over `readers` connections at once, each reading
/// one range of client ids (a partition with no run of its own), all in one
/// snapshot: a coordinating REPEATABLE READ transaction splits the clients,
/// picks the previous run and exports its snapshot, which every reader's
/// transaction takes before its first query; it stays open until they end.
pub(crate) fn read_ranges(
    store: &crate::PostgresStore,
    catalog: &Catalog,
    chunk: usize,
    readers: usize,
    window: Option<BookWindow>,
    f: &mut dyn FnMut(Vec<ScannedClient>) -> StoreResult<()>,
) -> StoreResult<()> {
    let mut coordinator = store.connect()?;
    let mut tx = read_snapshot(&mut coordinator)?;
    let n: i64 = get(&tx.query_one("SELECT count(*) FROM clients", &[]).map_err(db)?, 0)?;
    let readers = if n < 20_000 { 1 } else { readers.max(1) };
    let snapshot: String = get(&tx.query_one("SELECT pg_export_snapshot()", &[]).map_err(db)?, 0)?;
    let previous_run: Option<i64> = get(
        &tx.query_one("SELECT max(run_id) FROM classification_runs WHERE finished_at IS NOT NULL", &[]).map_err(db)?,
        0,
    )?;
    let mut bounds: Vec<Option<String>> = vec![None];
    for i in 1..readers {
        let offset = n * i as i64 / readers as i64;
        let r = tx
            .query_one("SELECT client_id FROM clients ORDER BY client_id OFFSET $1 LIMIT 1", &[&offset])
            .map_err(db)?;
        bounds.push(Some(get(&r, 0)?));
    }
    bounds.push(None);
    let ranges: Vec<Partition> = bounds
        .windows(2)
        .enumerate()
        .map(|(i, w)| Partition {
            run_id: 0,
            part: i as i64 + 1,
            partitions: readers as i64,
            lower_id: w[0].clone(),
            upper_id: w[1].clone(),
            previous_run,
            already_done: false,
        })
        .collect();
    let read = |p: &Partition, send: &mut dyn FnMut(Vec<ScannedClient>) -> StoreResult<()>| {
        scan_books(&mut *store.connect()?, catalog, chunk, Some(p), window, Some(&snapshot), send)
    };
    tierwise_store::read_in_parallel(&ranges, &read, f)?;
    tx.commit().map_err(db)
}

pub(crate) fn one_book(c: &mut Client, client_id: &str, catalog: &Catalog) -> StoreResult<Option<ClientBook>> {
    let mut tx = read_snapshot(c)?;
    let Some(r) = tx
        .query_opt(&format!("SELECT {} FROM clients WHERE client_id = $1", codec::CLIENT_COLS), &[&client_id])
        .map_err(db)?
    else {
        return Ok(None);
    };
    let mut book = ClientBook { client: codec::client_from(&r)?, ..Default::default() };
    for r in tx
        .query(&format!("{HOLDING_SQL} WHERE client_id = $1 ORDER BY as_of, product_id"), &[&client_id])
        .map_err(db)?
    {
        if let Some(h) = holding(&r, catalog)? {
            book.holdings.push(h);
        }
    }
    for r in tx.query(&format!("{TXN_SQL} WHERE client_id = $1 ORDER BY txn_id"), &[&client_id]).map_err(db)? {
        book.transactions.push(txn(&r, catalog)?);
    }
    for r in
        tx.query(&format!("{ASSESSMENT_SQL} WHERE client_id = $1 ORDER BY assessed_at"), &[&client_id]).map_err(db)?
    {
        book.assessments.push(assessment(&r)?);
    }
    tx.commit().map_err(db)?;
    Ok(Some(book))
}

pub(crate) fn scan_run(
    c: &mut Client,
    run_id: i64,
    f: &mut dyn FnMut(&StoredClassification) -> StoreResult<()>,
) -> StoreResult<()> {
    // one statement: its own snapshot; rows stream as they are read
    let mut rows = c
        .query_raw(
            &format!(
                "SELECT {STORED_COLS} FROM classifications k JOIN classification_runs r ON r.run_id = k.run_id
                 LEFT JOIN value_deciles d ON d.run_id = k.run_id AND d.client_id = k.client_id
                 WHERE k.run_id = $1 ORDER BY k.client_id"
            ),
            [run_id],
        )
        .map_err(db)?;
    while let Some(r) = rows.next().map_err(db)? {
        let row = stored_classification(&r)?;
        f(&row)?;
    }
    Ok(())
}

/// The columns `stored_classification` reads, of `classifications k`,
/// `classification_runs r` and `value_deciles d`.
pub(crate) const STORED_COLS: &str =
    "k.client_id, k.aum, k.asset_tier, k.risk_level, k.risk_lowest, k.assessment_status, k.risk_preference,
     k.goal, k.experience, k.lifecycle, k.depth, k.investor_category, k.qualified_investor,
     k.private_fund_qualified, k.churn_risk, k.value, coalesce(d.value_decile, 0::smallint), k.behaviour_risk,
     k.segment, r.rule_pack, r.rule_version, r.as_of, k.prev_asset_tier, k.prev_segment";

/// How many columns `STORED_COLS` has.
pub(crate) const STORED_COL_COUNT: usize = 24;

/// A stored result from the columns of `STORED_COLS`.
pub(crate) fn stored_classification(r: &Row) -> StoreResult<StoredClassification> {
    Ok(StoredClassification {
        client_id: get(r, 0)?,
        aum: get(r, 1)?,
        asset_tier: get(r, 2)?,
        risk_level: get(r, 3)?,
        risk_lowest: get(r, 4)?,
        assessment_status: get(r, 5)?,
        risk_preference: get(r, 6)?,
        goal: get(r, 7)?,
        experience: get(r, 8)?,
        lifecycle: get(r, 9)?,
        depth: get(r, 10)?,
        investor_category: get(r, 11)?,
        qualified_investor: get(r, 12)?,
        private_fund_qualified: get(r, 13)?,
        churn_risk: get(r, 14)?,
        value: get(r, 15)?,
        value_decile: decile(get(r, 16)?)?,
        behaviour_risk: get(r, 17)?,
        segment: get(r, 18)?,
        rule_pack: get(r, 19)?,
        rule_version: get(r, 20)?,
        as_of: get(r, 21)?,
        previous_asset_tier: get(r, 22)?,
        previous_segment: get(r, 23)?,
    })
}
