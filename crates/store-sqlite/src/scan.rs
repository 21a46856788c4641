//! Streaming reads: the whole book in client-id order (a merge join of one
//! cursor per table, inside one read transaction so the snapshot is
//! consistent), one client's book, and a run's results.

use crate::codec::{self, corrupt, date_bytes, dec_bytes, en_bytes, raw, ts_bytes};
use crate::db;
use rusqlite::{Connection, Row, Rows};
use tierwise_classify::{AssessmentRow, BookWindow, Catalog, ClientBook, HoldingRow, TxnRow};
use tierwise_domain::*;
use tierwise_store::{ScannedClient, StoreError, StoreResult, StoredClassification};

const HOLDING_SQL: &str = "SELECT client_id, product_id, market_value, as_of FROM holdings";
const TXN_SQL: &str = "SELECT client_id, ts, kind, amount, product_id FROM transactions";
const ASSESSMENT_SQL: &str =
    "SELECT client_id, questionnaire_id, assessed_at, channel, risk_level, lowest, score, horizon_months, varieties, goal FROM assessments";

/// A text column read in place: its bytes, without allocating or a UTF-8
/// check (every stored value this module parses is ASCII by construction;
/// the parsers refuse anything else).
fn text<'r>(r: &'r Row, i: usize) -> StoreResult<&'r [u8]> {
    raw(r, i)?.ok_or_else(|| StoreError::Corrupt(format!("column {i}: NULL where a value is stored")))
}

fn holding(r: &Row, catalog: &Catalog) -> StoreResult<Option<HoldingRow>> {
    let Some(product) = catalog.index_of_bytes(text(r, 1)?) else { return Ok(None) };
    Ok(Some(HoldingRow { product, market_value: dec_bytes(text(r, 2)?)?, as_of: date_bytes(text(r, 3)?)? }))
}

fn txn(r: &Row, catalog: &Catalog) -> StoreResult<TxnRow> {
    Ok(TxnRow {
        ts: ts_bytes(text(r, 1)?)?,
        kind: en_bytes(TxnKind::parse_bytes, "transaction kind", text(r, 2)?)?,
        amount: dec_bytes(text(r, 3)?)?,
        product: raw(r, 4)?.and_then(|p| catalog.index_of_bytes(p)),
    })
}

fn assessment(r: &Row) -> StoreResult<AssessmentRow> {
    let varieties: Option<String> = r.get(8).map_err(db)?;
    Ok(AssessmentRow {
        questionnaire_id: r.get(1).map_err(db)?,
        assessed_at: ts_bytes(text(r, 2)?)?,
        channel: en_bytes(Channel::parse_bytes, "channel", text(r, 3)?)?,
        result: AssessmentResult {
            level: en_bytes(RiskLevel::parse_bytes, "risk level", text(r, 4)?)?,
            lowest: r.get(5).map_err(db)?,
            score: r.get(6).map_err(db)?,
            horizon_months: r.get(7).map_err(db)?,
            varieties: varieties.map(|v| parse_varieties(&v).map_err(|_| corrupt("varieties", &v))).transpose()?,
            goal: raw(r, 9)?.map(|g| en_bytes(Goal::parse_bytes, "goal", g)).transpose()?,
        },
    })
}

/// A cursor over rows ordered by client_id, read one client at a time; each
/// row is converted to an owned value as the cursor passes it.
type RowMap<'s, T> = Box<dyn Fn(&Row) -> StoreResult<T> + 's>;

struct Cursor<'s, T> {
    rows: Rows<'s>,
    map: RowMap<'s, T>,
    /// the client id of the row under the cursor, as stored (reused, not reallocated)
    id: Vec<u8>,
    /// the row under the cursor, None at the end
    current: Option<T>,
}

impl<'s, T> Cursor<'s, T> {
    fn new(rows: Rows<'s>, map: impl Fn(&Row) -> StoreResult<T> + 's) -> StoreResult<Cursor<'s, T>> {
        let mut c = Cursor { rows, map: Box::new(map), id: Vec::new(), current: None };
        c.advance()?;
        Ok(c)
    }

    fn advance(&mut self) -> StoreResult<()> {
        self.current = match self.rows.next().map_err(db)? {
            Some(r) => {
                self.id.clear();
                self.id.extend_from_slice(text(r, 0)?);
                Some((self.map)(r)?)
            }
            None => None,
        };
        Ok(())
    }

    /// Every row of `client_id`, skipping rows of smaller ids (rows whose
    /// client no longer exists).
    fn take(&mut self, client_id: &str, out: &mut Vec<T>) -> StoreResult<()> {
        let client_id = client_id.as_bytes();
        while self.current.is_some() && self.id.as_slice() <= client_id {
            if let Some(v) = self.current.take() {
                if self.id == client_id {
                    out.push(v);
                }
            }
            self.advance()?;
        }
        Ok(())
    }
}

/// A range of client ids: `lo ≤ id < hi`, either end open.
#[derive(Debug, Clone, Default)]
pub(crate) struct IdRange {
    pub lo: Option<String>,
    pub hi: Option<String>,
}

impl IdRange {
    /// `WHERE …` (or `AND …` after `prefix`) for the range, with `?1`/`?2`.
    fn clause(&self, prefix: &str) -> String {
        match (&self.lo, &self.hi) {
            (None, None) => String::new(),
            (Some(_), None) => format!(" {prefix} client_id >= ?1"),
            (None, Some(_)) => format!(" {prefix} client_id < ?2"),
            (Some(_), Some(_)) => format!(" {prefix} client_id >= ?1 AND client_id < ?2"),
        }
    }
    fn params(&self) -> Vec<(&'static str, &str)> {
        let mut p = Vec::new();
        if let Some(lo) = &self.lo {
            p.push(("?1", lo.as_str()));
        }
        if let Some(hi) = &self.hi {
            p.push(("?2", hi.as_str()));
        }
        p
    }
}

/// Splits the clients into `parts` ranges of about equal size.
pub(crate) fn split(c: &Connection, parts: usize) -> StoreResult<Vec<IdRange>> {
    let n: i64 = c.query_row("SELECT count(*) FROM clients", [], |r| r.get(0)).map_err(db)?;
    if parts <= 1 || n < 20_000 {
        return Ok(vec![IdRange::default()]);
    }
    let mut bounds: Vec<String> = Vec::new();
    let mut st = c.prepare("SELECT client_id FROM clients ORDER BY client_id LIMIT 1 OFFSET ?1").map_err(db)?;
    for i in 1..parts {
        let off = n * i as i64 / parts as i64;
        bounds.push(st.query_row([off], |r| r.get(0)).map_err(db)?);
    }
    let mut ranges = Vec::new();
    let mut lo = None;
    for b in bounds {
        ranges.push(IdRange { lo: lo.take(), hi: Some(b.clone()) });
        lo = Some(b);
    }
    ranges.push(IdRange { lo, hi: None });
    Ok(ranges)
}

/// Which run's results are a scanned client's previous values.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Previous {
    /// the latest finished run
    Latest,
    /// this one (a partition's, fixed when its run opened)
    Run(Option<i64>),
}

/// Streams the clients of one id range in id order, in chunks: with a
/// window, only its holdings (`as_of <= ?4`) and transactions (`?5 <= ts <
/// ?6`; stored timestamps are local ISO text, which orders as time).
pub(crate) fn scan_books(
    c: &Connection,
    catalog: &Catalog,
    chunk: usize,
    range: &IdRange,
    previous: Previous,
    window: Option<BookWindow>,
    f: &mut dyn FnMut(Vec<ScannedClient>) -> StoreResult<()>,
) -> StoreResult<()> {
    c.execute_batch("BEGIN DEFERRED").map_err(db)?;
    let res = (|| {
        let prev_run: Option<i64> = match previous {
            Previous::Run(run) => run,
            Previous::Latest => c
                .query_row("SELECT max(run_id) FROM classification_runs WHERE finished_at <> ''", [], |r| r.get(0))
                .map_err(db)?,
        };
        let w = range.clause("WHERE");
        let and = range.clause("AND");
        let mut cl = c
            .prepare(&format!("SELECT {} FROM clients{w} ORDER BY client_id", codec::CLIENT_COLS_FOR_BATCH))
            .map_err(db)?;
        // the window's conditions, after the range's
        let cond = |extra: &str| match (window, w.is_empty()) {
            (None, _) => w.clone(),
            (Some(_), true) => format!(" WHERE {extra}"),
            (Some(_), false) => format!("{w} AND {extra}"),
        };
        let (in_holdings, in_txns) = (cond("as_of <= ?4"), cond("ts >= ?5 AND ts < ?6"));
        let mut ho = c.prepare(&format!("{HOLDING_SQL}{in_holdings} ORDER BY client_id")).map_err(db)?;
        let mut tx = c.prepare(&format!("{TXN_SQL}{in_txns} ORDER BY client_id")).map_err(db)?;
        let mut asx = c.prepare(&format!("{ASSESSMENT_SQL}{w} ORDER BY client_id, assessed_at")).map_err(db)?;
        let mut pv = c
            .prepare(&format!(
                "SELECT client_id, asset_tier, segment FROM classifications WHERE run_id = ?3{and} ORDER BY client_id"
            ))
            .map_err(db)?;
        let mut params = range.params();
        let bounds = window.map(|w| (w.as_of.to_string(), w.transactions_from.to_string(), w.next_day().to_string()));
        if let Some((as_of, from, next)) = &bounds {
            params.extend([("?4", as_of.as_str()), ("?5", from.as_str()), ("?6", next.as_str())]);
        }
        let bind = |st: &mut rusqlite::Statement| -> StoreResult<()> {
            for (name, v) in &params {
                if let Some(i) = st.parameter_index(name).map_err(db)? {
                    st.raw_bind_parameter(i, *v).map_err(db)?;
                }
            }
            Ok(())
        };
        for st in [&mut cl, &mut ho, &mut tx, &mut asx] {
            bind(st)?;
        }
        bind(&mut pv)?;
        if let Some(i) = pv.parameter_index("?3").map_err(db)? {
            pv.raw_bind_parameter(i, prev_run.unwrap_or(-1)).map_err(db)?;
        }
        let mut clients = cl.raw_query();
        let mut hc = Cursor::new(ho.raw_query(), |r| holding(r, catalog))?;
        let mut tc = Cursor::new(tx.raw_query(), |r| txn(r, catalog))?;
        let mut ac = Cursor::new(asx.raw_query(), assessment)?;
        let mut pc = Cursor::new(pv.raw_query(), |r| {
            Ok((r.get::<_, String>(1).map_err(db)?, r.get::<_, String>(2).map_err(db)?))
        })?;
        let mut batch = Vec::with_capacity(chunk);
        let mut holdings = Vec::new();
        let mut previous = Vec::with_capacity(1);
        while let Some(r) = clients.next().map_err(db)? {
            let client = codec::client_from(r)?;
            let mut book = ClientBook { client, ..Default::default() };
            let id = book.client.client_id.clone();
            holdings.clear();
            hc.take(&id, &mut holdings)?;
            book.holdings.extend(holdings.drain(..).flatten());
            tc.take(&id, &mut book.transactions)?;
            ac.take(&id, &mut book.assessments)?;
            previous.clear();
            pc.take(&id, &mut previous)?;
            batch.push(ScannedClient { book, previous: previous.pop() });
            if batch.len() >= chunk {
                f(std::mem::replace(&mut batch, Vec::with_capacity(chunk)))?;
            }
        }
        if !batch.is_empty() {
            f(batch)?;
        }
        Ok(())
    })();
    let _ = c.execute_batch("COMMIT");
    res
}

pub(crate) fn one_book(c: &Connection, client_id: &str, catalog: &Catalog) -> StoreResult<Option<ClientBook>> {
    let mut st = c.prepare(&format!("SELECT {} FROM clients WHERE client_id = ?1", codec::CLIENT_COLS)).map_err(db)?;
    let mut rows = st.query([client_id]).map_err(db)?;
    let Some(r) = rows.next().map_err(db)? else { return Ok(None) };
    let mut book = ClientBook { client: codec::client_from(r)?, ..Default::default() };
    let mut st = c.prepare(&format!("{HOLDING_SQL} WHERE client_id = ?1")).map_err(db)?;
    let mut rows = st.query([client_id]).map_err(db)?;
    while let Some(r) = rows.next().map_err(db)? {
        if let Some(h) = holding(r, catalog)? {
            book.holdings.push(h);
        }
    }
    let mut st = c.prepare(&format!("{TXN_SQL} WHERE client_id = ?1")).map_err(db)?;
    let mut rows = st.query([client_id]).map_err(db)?;
    while let Some(r) = rows.next().map_err(db)? {
        book.transactions.push(txn(r, catalog)?);
    }
    let mut st = c.prepare(&format!("{ASSESSMENT_SQL} WHERE client_id = ?1 ORDER BY assessed_at")).map_err(db)?;
    let mut rows = st.query([client_id]).map_err(db)?;
    while let Some(r) = rows.next().map_err(db)? {
        book.assessments.push(assessment(r)?);
    }
    Ok(Some(book))
}

/// The columns of a stored result (`classifications k`, its run `r` and its
/// decile `d`), in the order [`stored_from`] reads them.
pub(crate) const STORED_COLS: &str =
    "k.client_id, k.aum, k.asset_tier, k.risk_level, k.risk_lowest, k.assessment_status, k.risk_preference,
     k.goal, k.experience, k.lifecycle, k.depth, k.investor_category, k.qualified_investor,
     k.private_fund_qualified, k.churn_risk, k.value, coalesce(d.value_decile, 0), k.behaviour_risk, k.segment,
     r.rule_pack, r.rule_version, r.as_of, k.prev_asset_tier, k.prev_segment";
/// How many columns [`STORED_COLS`] has.
pub(crate) const STORED_COLUMNS: usize = 24;

/// A stored result from the columns of [`STORED_COLS`].
pub(crate) fn stored_from(r: &Row) -> StoreResult<StoredClassification> {
    let s = |i: usize| -> StoreResult<String> { r.get::<_, String>(i).map_err(db) };
    let b = |i: usize| -> StoreResult<bool> { r.get::<_, bool>(i).map_err(db) };
    Ok(StoredClassification {
        client_id: s(0)?,
        aum: dec_bytes(text(r, 1)?)?,
        asset_tier: s(2)?,
        risk_level: s(3)?,
        risk_lowest: b(4)?,
        assessment_status: s(5)?,
        risk_preference: s(6)?,
        goal: s(7)?,
        experience: s(8)?,
        lifecycle: s(9)?,
        depth: s(10)?,
        investor_category: s(11)?,
        qualified_investor: b(12)?,
        private_fund_qualified: b(13)?,
        churn_risk: s(14)?,
        value: dec_bytes(text(r, 15)?)?,
        value_decile: r.get(16).map_err(db)?,
        behaviour_risk: s(17)?,
        segment: s(18)?,
        rule_pack: s(19)?,
        rule_version: s(20)?,
        as_of: date_bytes(text(r, 21)?)?,
        previous_asset_tier: r.get(22).map_err(db)?,
        previous_segment: r.get(23).map_err(db)?,
    })
}

pub(crate) fn scan_run(
    c: &Connection,
    run_id: i64,
    f: &mut dyn FnMut(&StoredClassification) -> StoreResult<()>,
) -> StoreResult<()> {
    let mut st = c
        .prepare(&format!(
            "SELECT {STORED_COLS}
             FROM classifications k JOIN classification_runs r ON r.run_id = k.run_id
             LEFT JOIN value_deciles d ON d.run_id = k.run_id AND d.client_id = k.client_id
             WHERE k.run_id = ?1 ORDER BY k.client_id"
        ))
        .map_err(db)?;
    let mut rows = st.query([run_id]).map_err(db)?;
    while let Some(r) = rows.next().map_err(db)? {
        f(&stored_from(r)?)?;
    }
    Ok(())
}
