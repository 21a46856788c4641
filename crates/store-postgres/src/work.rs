//! Monitoring's storage (see `tierwise_store::work`): alerts, tasks, the
//! outbox, surveys, reassignment and the workbench figures.
//!
//! Deduplication is the unique indexes' (migration 0004): rows are inserted
//! with `INSERT … ON CONFLICT DO NOTHING RETURNING` and no conflict target, so
//! a row whose key exists — or that would be a second open one — returns no
//! id. Every write is one transaction with its audit events, as on SQLite;
//! every list orders as SQLite's does (ids and texts byte-wise, COLLATE "C";
//! NULLs first, as SQLite sorts them).

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use postgres::{Row, Transaction};
use std::collections::BTreeMap;
use tierwise_domain::{Advisor, AdvisorTitle, Interaction, ProductRisk, RiskLevel};
use tierwise_monitor::assign::Placement;
use tierwise_monitor::{ClientFacts, HolderFacts};
use tierwise_store::{
    AdvisorActivity, AdvisorBook, Alert, AlertAction, AlertQuery, AuditEntry, ClientScope, ImportSink, NewAlert,
    NewNotice, NewTask, Notice, NoticeQuery, NoticeUpdate, OpenAlertKey, OpenTaskKey, StoreResult, Survey, SurveyScore,
    Task, TaskLoad, TaskQuery, WorkApplied, WorkBatch, WorkStore,
};

use crate::codec::{self, count, en, get, opt_en};
use crate::desk::{page_size, Query};
use crate::scan::Fetcher;
use crate::{append_audit, db, lock_sql, PostgresStore, Sink};

/// Rows fetched per round trip by `monitor_scan`.
const SCAN_FETCH: i32 = 4096;

/// 0 = high … 2 = low, the order alerts are listed in.
fn severity_rank(s: &str) -> i16 {
    match s {
        "high" => 0,
        "medium" => 1,
        _ => 2,
    }
}

/// Appends `e` to the audit trail inside `tx`.
fn audit(tx: &mut Transaction, e: &AuditEntry) -> StoreResult<i64> {
    append_audit(tx, &e.actor, &e.action, &e.subject, &e.payload)
}

/// The start of the day after `d`: "on or before D" for local timestamps
/// (the day itself at the end of the calendar, as on SQLite).
fn day_after(d: NaiveDate) -> NaiveDateTime {
    d.succ_opt().unwrap_or(d).and_time(NaiveTime::MIN)
}

/// A level stored as text, "" for none.
fn risk_level(s: Option<&str>) -> StoreResult<Option<RiskLevel>> {
    match s {
        None | Some("") => Ok(None),
        Some(v) => en(RiskLevel::parse, v).map(Some),
    }
}

/// A product risk stored as text, "" for none.
fn product_risk(s: &str) -> StoreResult<Option<ProductRisk>> {
    match s {
        "" => Ok(None),
        v => en(ProductRisk::parse, v).map(Some),
    }
}

const ALERT_COLS: &str =
    "alert_id, kind, severity, subject, client_id, advisor_id, branch_id, episode, evidence, source, \
     status, created_at, acknowledged_by, acknowledged_at, closed_by, closed_at, outcome";

fn alert_from(r: &Row) -> StoreResult<Alert> {
    Ok(Alert {
        alert_id: get(r, 0)?,
        kind: get(r, 1)?,
        severity: get(r, 2)?,
        subject: get(r, 3)?,
        client_id: get(r, 4)?,
        advisor_id: get(r, 5)?,
        branch_id: get(r, 6)?,
        episode: get(r, 7)?,
        evidence: get(r, 8)?,
        source: get(r, 9)?,
        status: get(r, 10)?,
        created_at: get(r, 11)?,
        acknowledged_by: get(r, 12)?,
        acknowledged_at: get(r, 13)?,
        closed_by: get(r, 14)?,
        closed_at: get(r, 15)?,
        outcome: get(r, 16)?,
        client_name: get(r, 17)?,
    })
}

const TASK_COLS: &str = "task_id, kind, client_id, advisor_id, branch_id, episode, due, evidence, source, status, \
     created_at, completed_by, completed_at, outcome";

/// The client's name beside a row of `table` (an alias of alerts or tasks).
fn name_of(table: &str) -> String {
    format!("(SELECT n.name FROM clients n WHERE n.client_id = {table}.client_id)")
}

fn task_from(r: &Row) -> StoreResult<Task> {
    Ok(Task {
        task_id: get(r, 0)?,
        kind: get(r, 1)?,
        client_id: get(r, 2)?,
        advisor_id: get(r, 3)?,
        branch_id: get(r, 4)?,
        episode: get(r, 5)?,
        due: get(r, 6)?,
        evidence: get(r, 7)?,
        source: get(r, 8)?,
        status: get(r, 9)?,
        created_at: get(r, 10)?,
        completed_by: get(r, 11)?,
        completed_at: get(r, 12)?,
        outcome: get(r, 13)?,
        client_name: get(r, 14)?,
    })
}

const NOTICE_COLS: &str =
    "notice_id, kind, client_id, episode, payload, created_at, status, attempts, next_attempt_at, last_error, delivered_at";

fn notice_from(r: &Row) -> StoreResult<Notice> {
    Ok(Notice {
        notice_id: get(r, 0)?,
        kind: get(r, 1)?,
        client_id: get(r, 2)?,
        episode: get(r, 3)?,
        payload: get(r, 4)?,
        created_at: get(r, 5)?,
        status: get(r, 6)?,
        attempts: get(r, 7)?,
        next_attempt_at: get(r, 8)?,
        last_error: get(r, 9)?,
        delivered_at: get(r, 10)?,
    })
}

const SURVEY_COLS: &str =
    "token_hash, client_id, advisor_id, branch_id, segment, task_id, created_at, expires_at, answered_at, nps, comment";

fn survey_from(r: &Row) -> StoreResult<Survey> {
    Ok(Survey {
        token_hash: get(r, 0)?,
        client_id: get(r, 1)?,
        advisor_id: get(r, 2)?,
        branch_id: get(r, 3)?,
        segment: get(r, 4)?,
        task_id: get(r, 5)?,
        created_at: get(r, 6)?,
        expires_at: get(r, 7)?,
        answered_at: get(r, 8)?,
        nps: get(r, 9)?,
        comment: get(r, 10)?,
    })
}

/// Rows per INSERT … SELECT FROM UNNEST (one round trip each).
const INSERT_BATCH: usize = 1_000;

/// The ids a batch INSERT returned, in insertion order (identity values grow
/// with insertion; RETURNING's order is not promised).
fn returned(rows: Vec<Row>) -> StoreResult<Vec<i64>> {
    let mut ids = rows.iter().map(|r| get(r, 0)).collect::<StoreResult<Vec<i64>>>()?;
    ids.sort_unstable();
    Ok(ids)
}

fn text_col<T>(rows: &[T], f: impl Fn(&T) -> &str) -> Vec<&str> {
    rows.iter().map(f).collect()
}

fn opt_col<T>(rows: &[T], f: impl Fn(&T) -> Option<&str>) -> Vec<Option<&str>> {
    rows.iter().map(f).collect()
}

/// Inserts alerts, skipping those whose key exists (or that would be a
/// second open one); the ids stored.
fn insert_alerts(tx: &mut Transaction, rows: &[NewAlert], at: &str) -> StoreResult<Vec<i64>> {
    let mut out = Vec::new();
    for b in rows.chunks(INSERT_BATCH) {
        let ranks: Vec<i16> = b.iter().map(|a| severity_rank(&a.severity)).collect();
        let got = tx
            .query(
                "INSERT INTO alerts (kind, severity, severity_rank, subject, client_id, advisor_id, branch_id,
                     episode, evidence, source, created_at)
                 SELECT k, sev, r, subj, c, adv, br, ep, ev, src, $11
                 FROM UNNEST($1::text[], $2::text[], $3::int2[], $4::text[], $5::text[], $6::text[], $7::text[],
                             $8::text[], $9::text[], $10::text[])
                      AS x (k, sev, r, subj, c, adv, br, ep, ev, src)
                 ON CONFLICT DO NOTHING RETURNING alert_id",
                &[
                    &text_col(b, |a| &a.kind),
                    &text_col(b, |a| &a.severity),
                    &ranks,
                    &text_col(b, |a| &a.subject),
                    &opt_col(b, |a| a.client_id.as_deref()),
                    &opt_col(b, |a| a.advisor_id.as_deref()),
                    &opt_col(b, |a| a.branch_id.as_deref()),
                    &text_col(b, |a| &a.episode),
                    &text_col(b, |a| &a.evidence),
                    &text_col(b, |a| &a.source),
                    &at,
                ],
            )
            .map_err(db)?;
        out.extend(returned(got)?);
    }
    Ok(out)
}

fn insert_tasks(tx: &mut Transaction, rows: &[NewTask], at: &str) -> StoreResult<Vec<i64>> {
    let mut out = Vec::new();
    for b in rows.chunks(INSERT_BATCH) {
        let due: Vec<chrono::NaiveDate> = b.iter().map(|t| t.due).collect();
        let got = tx
            .query(
                "INSERT INTO tasks (kind, client_id, advisor_id, branch_id, episode, due, evidence, source, created_at)
                 SELECT k, c, adv, br, ep, d, ev, src, $9
                 FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::date[], $7::text[],
                             $8::text[]) AS x (k, c, adv, br, ep, d, ev, src)
                 ON CONFLICT DO NOTHING RETURNING task_id",
                &[
                    &text_col(b, |t| &t.kind),
                    &text_col(b, |t| &t.client_id),
                    &opt_col(b, |t| t.advisor_id.as_deref()),
                    &opt_col(b, |t| t.branch_id.as_deref()),
                    &text_col(b, |t| &t.episode),
                    &due,
                    &text_col(b, |t| &t.evidence),
                    &text_col(b, |t| &t.source),
                    &at,
                ],
            )
            .map_err(db)?;
        out.extend(returned(got)?);
    }
    Ok(out)
}

fn insert_notices(tx: &mut Transaction, rows: &[NewNotice], at: &str) -> StoreResult<Vec<i64>> {
    let mut out = Vec::new();
    for b in rows.chunks(INSERT_BATCH) {
        let got = tx
            .query(
                "INSERT INTO notices (kind, client_id, episode, payload, created_at)
                 SELECT k, c, ep, pl, $5 FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[]) AS x (k, c, ep, pl)
                 ON CONFLICT DO NOTHING RETURNING notice_id",
                &[
                    &text_col(b, |n| &n.kind),
                    &text_col(b, |n| &n.client_id),
                    &text_col(b, |n| &n.episode),
                    &text_col(b, |n| &n.payload),
                    &at,
                ],
            )
            .map_err(db)?;
        out.extend(returned(got)?);
    }
    Ok(out)
}

/// Indices of `items` ordered by `key`, ties in batch order. Rows are locked
/// in key order (as an import locks clients, in client-id order), so two
/// writers never wait for each other in a cycle; items of different keys
/// are independent, and items of one key keep their order, so the outcome
/// is the batch order's.
fn locking_order<T, K: Ord + ?Sized>(items: &[T], key: impl Fn(&T) -> &K) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..items.len()).collect();
    idx.sort_by(|&i, &j| key(&items[i]).cmp(key(&items[j])));
    idx
}

impl PostgresStore {
    fn rows(&self, sql: &str, q: &Query) -> StoreResult<Vec<Row>> {
        self.connect()?.query(sql, &q.params()).map_err(db)
    }
}

/// Clients and AUM per current advisor in a run, by advisor id.
const BOOKS_SQL: &str = "SELECT c.advisor_id, count(*), sum(k.aum)
     FROM classifications k JOIN clients c ON c.client_id = k.client_id
     WHERE k.run_id = $1 AND c.advisor_id IS NOT NULL
     GROUP BY c.advisor_id";

fn book_from(r: &Row) -> StoreResult<AdvisorBook> {
    Ok(AdvisorBook { advisor_id: get(r, 0)?, clients: get(r, 1)?, aum: get(r, 2)? })
}

fn blank_activity(advisor_id: String) -> AdvisorActivity {
    AdvisorActivity { advisor_id, followups_due: 0, followups_on_time: 0, warns: 0, prohibited: 0 }
}

impl WorkStore for PostgresStore {
    fn advisors(&self) -> StoreResult<Vec<Advisor>> {
        let rows = self
            .connect()?
            .query(
                "SELECT advisor_id, name, title, experience_years, capacity, branch_id FROM advisors ORDER BY advisor_id",
                &[],
            )
            .map_err(db)?;
        rows.iter()
            .map(|r| {
                Ok(Advisor {
                    advisor_id: get(r, 0)?,
                    name: get(r, 1)?,
                    title: opt_en(AdvisorTitle::parse, get(r, 2)?)?,
                    experience_years: count(get(r, 3)?)?,
                    capacity: count(get(r, 4)?)?,
                    branch_id: get(r, 5)?,
                })
            })
            .collect()
    }

    fn monitor_scan(
        &self,
        run_id: i64,
        d: NaiveDate,
        client_id: Option<&str>,
        chunk: usize,
        f: &mut dyn FnMut(Vec<ClientFacts>) -> StoreResult<()>,
    ) -> StoreResult<()> {
        let until = day_after(d);
        let filter = if client_id.is_some() { " AND k.client_id = $3" } else { "" };
        // the newest assessment and contact per client on or before D, each
        // one probe of its (client_id, …) primary key (lateral joins on
        // client_id, which stay within a shard group on Citus); streamed in
        // client-id order in one snapshot
        let sql = format!(
            "SELECT k.client_id, c.advisor_id, c.branch_id, c.kind, c.birth_date, c.onboarded_at, c.material_change_at,
                    a.assessed_at, a.questionnaire_id, i.at,
                    k.asset_tier, k.prev_asset_tier, k.segment, k.risk_level, k.behaviour_risk, k.churn_risk, k.aum
             FROM classifications k
             JOIN clients c ON c.client_id = k.client_id
             LEFT JOIN LATERAL (
                 SELECT a.assessed_at, a.questionnaire_id FROM assessments a
                 WHERE a.client_id = k.client_id AND a.assessed_at < $2
                 ORDER BY a.assessed_at DESC LIMIT 1
             ) a ON true
             LEFT JOIN LATERAL (
                 SELECT max(i.at) AS at FROM interactions i WHERE i.client_id = k.client_id AND i.at < $2
             ) i ON true
             WHERE k.run_id = $1{filter} ORDER BY k.client_id"
        );
        let mut c = self.connect()?;
        let mut tx = crate::scan::read_snapshot(&mut c)?;
        let mut rows = match client_id {
            Some(id) => Fetcher::open_fetching(&mut tx, &sql, &[&run_id, &until, &id], SCAN_FETCH)?,
            None => Fetcher::open_fetching(&mut tx, &sql, &[&run_id, &until], SCAN_FETCH)?,
        };
        let chunk = chunk.max(1);
        let mut buf = Vec::with_capacity(chunk);
        while let Some(r) = rows.next(&mut tx)? {
            let kind: &str = get(&r, 3)?;
            let assessed: Option<NaiveDateTime> = get(&r, 7)?;
            let contact: Option<NaiveDateTime> = get(&r, 9)?;
            buf.push(ClientFacts {
                client_id: get(&r, 0)?,
                advisor_id: get(&r, 1)?,
                branch_id: get(&r, 2)?,
                birth_date: if kind == "institution" { None } else { get(&r, 4)? },
                onboarded_at: get(&r, 5)?,
                material_change_at: get(&r, 6)?,
                assessed_on: assessed.map(|t| t.date()),
                questionnaire_id: get(&r, 8)?,
                last_contact: contact.map(|t| t.date()),
                run_id,
                asset_tier: get(&r, 10)?,
                prev_asset_tier: get(&r, 11)?,
                segment: get(&r, 12)?,
                risk_level: risk_level(get(&r, 13)?)?,
                behaviour_risk: product_risk(get(&r, 14)?)?,
                churn_risk: get(&r, 15)?,
                aum: get(&r, 16)?,
            });
            if buf.len() >= chunk {
                f(std::mem::replace(&mut buf, Vec::with_capacity(chunk)))?;
            }
        }
        if !buf.is_empty() {
            f(buf)?;
        }
        tx.commit().map_err(db)
    }

    fn holders(&self, product_id: &str) -> StoreResult<Vec<HolderFacts>> {
        let rows = self
            .connect()?
            .query(
                "SELECT h.client_id, c.advisor_id, c.branch_id, h.market_value,
                    (SELECT a.risk_level FROM assessments a WHERE a.client_id = h.client_id
                      ORDER BY a.assessed_at DESC LIMIT 1)
                 FROM holdings h JOIN clients c ON c.client_id = h.client_id
                 WHERE h.product_id = $1 AND h.market_value > 0
                   AND h.as_of = (SELECT max(n.as_of) FROM holdings n WHERE n.client_id = h.client_id)
                 ORDER BY h.client_id",
                &[&product_id],
            )
            .map_err(db)?;
        rows.iter()
            .map(|r| {
                Ok(HolderFacts {
                    client_id: get(r, 0)?,
                    advisor_id: get(r, 1)?,
                    branch_id: get(r, 2)?,
                    market_value: get(r, 3)?,
                    risk_level: risk_level(get(r, 4)?)?,
                })
            })
            .collect()
    }

    fn apply_work(&self, b: &WorkBatch) -> StoreResult<WorkApplied> {
        self.write(|tx| {
            let mut out = WorkApplied::default();
            if !b.transactions.is_empty() {
                // as an import: txn_ids stay unique across clients only
                // while their writers take turns (see 0001_init.sql)
                tx.batch_execute(&lock_sql("import")).map_err(db)?;
                let mut sink = Sink::new(&mut *tx, None);
                sink.put_transactions(&b.transactions)?;
            }
            let mut moved = vec![false; b.reassign.len()];
            for i in locking_order(&b.reassign, |m| m.client_id.as_str()) {
                let m = &b.reassign[i];
                let n = tx
                    .execute(
                        "UPDATE clients SET advisor_id = $1 WHERE client_id = $2 AND advisor_id IS NOT DISTINCT FROM $3",
                        &[&m.to, &m.client_id, &m.from],
                    )
                    .map_err(db)?;
                if n == 1 {
                    tx.execute(
                        "UPDATE alerts SET advisor_id = $1 WHERE subject = $2 AND client_id = $2 AND status <> 'closed'",
                        &[&m.to, &m.client_id],
                    )
                    .map_err(db)?;
                    tx.execute(
                        "UPDATE tasks SET advisor_id = $1 WHERE client_id = $2 AND status = 'open'",
                        &[&m.to, &m.client_id],
                    )
                    .map_err(db)?;
                    moved[i] = true;
                }
            }
            out.reassigned =
                b.reassign.iter().zip(&moved).filter(|(_, &ok)| ok).map(|(m, _)| m.client_id.clone()).collect();
            for i in locking_order(&b.close_alerts, |c| &c.0) {
                let (id, outcome) = &b.close_alerts[i];
                out.closed_alerts += tx
                    .execute(
                        "UPDATE alerts SET status = 'closed', closed_by = $1, closed_at = $2, outcome = $3
                         WHERE alert_id = $4 AND status <> 'closed'",
                        &[&b.by, &b.at, outcome, id],
                    )
                    .map_err(db)?;
            }
            for i in locking_order(&b.finish_tasks, |t| &t.0) {
                let (id, status, outcome) = &b.finish_tasks[i];
                out.finished_tasks += tx
                    .execute(
                        "UPDATE tasks SET status = $1, completed_by = $2, completed_at = $3, outcome = $4
                         WHERE task_id = $5 AND status = 'open'",
                        &[status, &b.by, &b.at, outcome, id],
                    )
                    .map_err(db)?;
            }
            out.alerts = insert_alerts(tx, &b.alerts, &b.at)?;
            out.tasks = insert_tasks(tx, &b.tasks, &b.at)?;
            out.notices = insert_notices(tx, &b.notices, &b.at)?;
            for e in &b.audit {
                audit(tx, e)?;
            }
            Ok(out)
        })
    }

    fn open_alert_keys(&self, kinds: &[&str], subjects: Option<(&str, &str)>) -> StoreResult<Vec<OpenAlertKey>> {
        let mut q = Query::default();
        q.cond("status <> 'closed'".into());
        if !kinds.is_empty() {
            let p = q.bind(kinds.iter().map(|k| k.to_string()).collect::<Vec<String>>());
            q.cond(format!("kind = ANY({p})"));
        }
        if let Some((first, last)) = subjects {
            let p = q.bind(first.to_string());
            q.cond(format!("subject >= {p}"));
            let p = q.bind(last.to_string());
            q.cond(format!("subject <= {p}"));
        }
        let sql = format!("SELECT alert_id, kind, subject, episode FROM alerts{} ORDER BY alert_id", q.where_clause());
        self.rows(&sql, &q)?
            .iter()
            .map(|r| {
                Ok(OpenAlertKey { alert_id: get(r, 0)?, kind: get(r, 1)?, subject: get(r, 2)?, episode: get(r, 3)? })
            })
            .collect()
    }

    fn alerts(&self, aq: &AlertQuery) -> StoreResult<Vec<Alert>> {
        let mut q = Query::default();
        if !q.scope(&aq.scope, "a") {
            return Ok(Vec::new());
        }
        match aq.status.as_deref() {
            None | Some("") => {}
            Some("open") => q.cond("a.status <> 'closed'".into()),
            Some(s) => {
                let p = q.bind(s.to_string());
                q.cond(format!("a.status = {p}"));
            }
        }
        for (col, v) in [("kind", &aq.kind), ("severity", &aq.severity), ("advisor_id", &aq.advisor_id)] {
            if let Some(v) = v {
                let p = q.bind(v.clone());
                q.cond(format!("a.{col} = {p}"));
            }
        }
        if let Some(v) = &aq.client_id {
            // a client's alerts have it as their subject: the key index serves it
            let p = q.bind(v.clone());
            q.cond(format!("a.subject = {p} AND a.client_id = {p}"));
        }
        let limit = q.bind(page_size(aq.limit));
        let offset = q.bind(i64::from(aq.offset));
        let sql = format!(
            "SELECT {ALERT_COLS}, {} FROM alerts a{} ORDER BY a.severity_rank, a.alert_id LIMIT {limit} OFFSET {offset}",
            name_of("a"),
            q.where_clause()
        );
        self.rows(&sql, &q)?.iter().map(alert_from).collect()
    }

    fn alert(&self, alert_id: i64) -> StoreResult<Option<Alert>> {
        let row = self
            .connect()?
            .query_opt(
                &format!("SELECT {ALERT_COLS}, {} FROM alerts WHERE alert_id = $1", name_of("alerts")),
                &[&alert_id],
            )
            .map_err(db)?;
        row.as_ref().map(alert_from).transpose()
    }

    fn act_on_alert(
        &self,
        alert_id: i64,
        action: &AlertAction,
        by: &str,
        at: &str,
        e: &AuditEntry,
    ) -> StoreResult<bool> {
        self.write(|tx| {
            let n = match action {
                AlertAction::Acknowledge => tx.execute(
                    "UPDATE alerts SET status = 'acknowledged', acknowledged_by = $1, acknowledged_at = $2
                     WHERE alert_id = $3 AND status = 'open'",
                    &[&by, &at, &alert_id],
                ),
                AlertAction::Close { outcome } => tx.execute(
                    "UPDATE alerts SET status = 'closed', closed_by = $1, closed_at = $2, outcome = $3
                     WHERE alert_id = $4 AND status <> 'closed'",
                    &[&by, &at, outcome, &alert_id],
                ),
            }
            .map_err(db)?;
            if n == 1 {
                audit(tx, e)?;
            }
            Ok(n == 1)
        })
    }

    fn alert_counts(&self, scope: &ClientScope) -> StoreResult<Vec<(String, String, i64)>> {
        let mut q = Query::default();
        if !q.scope(scope, "a") {
            return Ok(Vec::new());
        }
        q.cond("a.status <> 'closed'".into());
        let sql = format!(
            "SELECT a.kind, CASE a.severity_rank WHEN 0 THEN 'high' WHEN 1 THEN 'medium' ELSE 'low' END, count(*)
             FROM alerts a{} GROUP BY a.kind, a.severity_rank ORDER BY a.kind, 2",
            q.where_clause()
        );
        self.rows(&sql, &q)?.iter().map(|r| Ok((get(r, 0)?, get(r, 1)?, get(r, 2)?))).collect()
    }

    fn day_counts(&self, scope: &ClientScope, d: NaiveDate) -> StoreResult<(i64, Vec<(String, i64)>)> {
        let mut q = Query::default();
        if !q.scope(scope, "t") {
            return Ok((0, Vec::new()));
        }
        q.cond("t.status = 'open'".into());
        let p = q.bind(d);
        q.cond(format!("t.due < {p}"));
        let overdue: i64 = match self.rows(&format!("SELECT count(*) FROM tasks t{}", q.where_clause()), &q)?.first() {
            Some(r) => get(r, 0)?,
            None => 0,
        };
        let mut q = Query::default();
        q.scope(scope, "a");
        q.cond("a.status <> 'closed'".into());
        let sql = format!(
            "SELECT CASE a.severity_rank WHEN 0 THEN 'high' WHEN 1 THEN 'medium' ELSE 'low' END, count(*)
             FROM alerts a{} GROUP BY a.severity_rank ORDER BY a.severity_rank",
            q.where_clause()
        );
        let sev = self.rows(&sql, &q)?.iter().map(|r| Ok((get(r, 0)?, get(r, 1)?))).collect::<StoreResult<Vec<_>>>()?;
        Ok((overdue, sev))
    }

    fn alert_load(&self, scope: &ClientScope) -> StoreResult<Vec<(Option<String>, i64)>> {
        let mut q = Query::default();
        if !q.scope(scope, "a") {
            return Ok(Vec::new());
        }
        q.cond("a.status <> 'closed'".into());
        let sql = format!(
            "SELECT a.advisor_id, count(*) FROM alerts a{} GROUP BY a.advisor_id ORDER BY a.advisor_id NULLS FIRST",
            q.where_clause()
        );
        self.rows(&sql, &q)?.iter().map(|r| Ok((get(r, 0)?, get(r, 1)?))).collect()
    }

    fn placements(&self, run_id: i64, branch_id: Option<&str>) -> StoreResult<Vec<Placement>> {
        let rows = match branch_id {
            Some(b) => self.connect()?.query(
                "SELECT c.client_id, c.branch_id, k.segment, c.advisor_id FROM clients c
                 JOIN classifications k ON k.run_id = $1 AND k.client_id = c.client_id
                 WHERE c.client_id IN (SELECT client_id FROM clients WHERE branch_id = $2
                     UNION SELECT client_id FROM clients
                     WHERE advisor_id IN (SELECT advisor_id FROM advisors WHERE branch_id = $2))
                 ORDER BY c.client_id",
                &[&run_id, &b],
            ),
            None => self.connect()?.query(
                "SELECT k.client_id, c.branch_id, k.segment, c.advisor_id FROM classifications k
                 JOIN clients c ON c.client_id = k.client_id WHERE k.run_id = $1 ORDER BY k.client_id",
                &[&run_id],
            ),
        }
        .map_err(db)?;
        rows.iter()
            .map(|r| {
                Ok(Placement { client_id: get(r, 0)?, branch_id: get(r, 1)?, segment: get(r, 2)?, current: get(r, 3)? })
            })
            .collect()
    }

    fn open_task_keys(&self, kinds: &[&str], clients: Option<(&str, &str)>) -> StoreResult<Vec<OpenTaskKey>> {
        let mut q = Query::default();
        q.cond("status = 'open'".into());
        if !kinds.is_empty() {
            let p = q.bind(kinds.iter().map(|k| k.to_string()).collect::<Vec<String>>());
            q.cond(format!("kind = ANY({p})"));
        }
        if let Some((first, last)) = clients {
            let p = q.bind(first.to_string());
            q.cond(format!("client_id >= {p}"));
            let p = q.bind(last.to_string());
            q.cond(format!("client_id <= {p}"));
        }
        let sql =
            format!("SELECT task_id, kind, client_id, episode, due FROM tasks{} ORDER BY task_id", q.where_clause());
        self.rows(&sql, &q)?
            .iter()
            .map(|r| {
                Ok(OpenTaskKey {
                    task_id: get(r, 0)?,
                    kind: get(r, 1)?,
                    client_id: get(r, 2)?,
                    episode: get(r, 3)?,
                    due: get(r, 4)?,
                })
            })
            .collect()
    }

    fn tasks(&self, tq: &TaskQuery) -> StoreResult<Vec<Task>> {
        let mut q = Query::default();
        if !q.scope(&tq.scope, "t") {
            return Ok(Vec::new());
        }
        for (col, v) in
            [("status", &tq.status), ("kind", &tq.kind), ("client_id", &tq.client_id), ("advisor_id", &tq.advisor_id)]
        {
            if let Some(v) = v {
                let p = q.bind(v.clone());
                q.cond(format!("t.{col} = {p}"));
            }
        }
        if let Some(d) = tq.due_from {
            let p = q.bind(d);
            q.cond(format!("t.due >= {p}"));
        }
        if let Some(d) = tq.due_until {
            let p = q.bind(d);
            q.cond(format!("t.due <= {p}"));
        }
        let limit = q.bind(page_size(tq.limit));
        let offset = q.bind(i64::from(tq.offset));
        let sql = format!(
            "SELECT {TASK_COLS}, {} FROM tasks t{} ORDER BY t.due, t.task_id LIMIT {limit} OFFSET {offset}",
            name_of("t"),
            q.where_clause()
        );
        self.rows(&sql, &q)?.iter().map(task_from).collect()
    }

    fn task(&self, task_id: i64) -> StoreResult<Option<Task>> {
        let row = self
            .connect()?
            .query_opt(&format!("SELECT {TASK_COLS}, {} FROM tasks WHERE task_id = $1", name_of("tasks")), &[&task_id])
            .map_err(db)?;
        row.as_ref().map(task_from).transpose()
    }

    fn complete_task(
        &self,
        task_id: i64,
        by: &str,
        at: &str,
        outcome: &str,
        interaction: Option<&Interaction>,
        e: &AuditEntry,
    ) -> StoreResult<bool> {
        self.write(|tx| {
            let n = tx
                .execute(
                    "UPDATE tasks SET status = 'done', completed_by = $1, completed_at = $2, outcome = $3
                     WHERE task_id = $4 AND status = 'open'",
                    &[&by, &at, &outcome, &task_id],
                )
                .map_err(db)?;
            if n != 1 {
                return Ok(false);
            }
            if let Some(i) = interaction {
                codec::interaction_params(i, |p| tx.execute(&codec::INTERACTIONS.upsert_one_sql(), p)).map_err(db)?;
            }
            audit(tx, e)?;
            Ok(true)
        })
    }

    fn task_load(&self, scope: &ClientScope, d: NaiveDate) -> StoreResult<Vec<TaskLoad>> {
        let mut q = Query::default();
        let day = q.bind(d);
        if !q.scope(scope, "t") {
            return Ok(Vec::new());
        }
        q.cond("t.status = 'open'".into());
        let sql = format!(
            "SELECT t.advisor_id, t.branch_id, count(*), count(*) FILTER (WHERE t.due < {day})
             FROM tasks t{} GROUP BY t.advisor_id, t.branch_id
             ORDER BY t.advisor_id NULLS FIRST, t.branch_id NULLS FIRST",
            q.where_clause()
        );
        self.rows(&sql, &q)?
            .iter()
            .map(|r| {
                Ok(TaskLoad { advisor_id: get(r, 0)?, branch_id: get(r, 1)?, open: get(r, 2)?, overdue: get(r, 3)? })
            })
            .collect()
    }

    fn due_notices(&self, now: i64, limit: u32) -> StoreResult<Vec<Notice>> {
        let rows = self
            .connect()?
            .query(
                &format!(
                    "SELECT {NOTICE_COLS} FROM notices WHERE status = 'pending' AND next_attempt_at <= $1
                     ORDER BY next_attempt_at, notice_id LIMIT $2"
                ),
                &[&now, &page_size(limit)],
            )
            .map_err(db)?;
        rows.iter().map(notice_from).collect()
    }

    fn update_notices(&self, updates: &[NoticeUpdate]) -> StoreResult<()> {
        self.write(|tx| {
            let st = tx
                .prepare(
                    "UPDATE notices SET status = $1, attempts = $2, next_attempt_at = $3, last_error = $4,
                         delivered_at = $5 WHERE notice_id = $6",
                )
                .map_err(db)?;
            for i in locking_order(updates, |u| &u.notice_id) {
                let u = &updates[i];
                tx.execute(
                    &st,
                    &[&u.status, &u.attempts, &u.next_attempt_at, &u.last_error, &u.delivered_at, &u.notice_id],
                )
                .map_err(db)?;
            }
            Ok(())
        })
    }

    fn notices(&self, nq: &NoticeQuery) -> StoreResult<Vec<Notice>> {
        let mut q = Query::default();
        if !q.scope(&nq.scope, "c") {
            return Ok(Vec::new());
        }
        let join =
            if matches!(nq.scope, ClientScope::All) { "" } else { " JOIN clients c ON c.client_id = n.client_id" };
        for (col, v) in [("n.client_id", &nq.client_id), ("n.status", &nq.status)] {
            if let Some(v) = v {
                let p = q.bind(v.clone());
                q.cond(format!("{col} = {p}"));
            }
        }
        if let Some(a) = nq.after {
            let p = q.bind(a);
            q.cond(format!("n.notice_id > {p}"));
        }
        let limit = q.bind(page_size(nq.limit));
        let cols: Vec<String> = NOTICE_COLS.split(", ").map(|c| format!("n.{c}")).collect();
        let sql = format!(
            "SELECT {} FROM notices n{join}{} ORDER BY n.notice_id LIMIT {limit}",
            cols.join(", "),
            q.where_clause()
        );
        self.rows(&sql, &q)?.iter().map(notice_from).collect()
    }

    fn notice_counts(&self) -> StoreResult<Vec<(String, i64)>> {
        let rows = self
            .connect()?
            .query("SELECT status, count(*) FROM notices GROUP BY status ORDER BY status", &[])
            .map_err(db)?;
        rows.iter().map(|r| Ok((get(r, 0)?, get(r, 1)?))).collect()
    }

    fn create_survey(&self, s: &Survey, e: &AuditEntry) -> StoreResult<()> {
        self.write(|tx| {
            tx.execute(
                &format!("INSERT INTO surveys ({SURVEY_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"),
                &[
                    &s.token_hash,
                    &s.client_id,
                    &s.advisor_id,
                    &s.branch_id,
                    &s.segment,
                    &s.task_id,
                    &s.created_at,
                    &s.expires_at,
                    &s.answered_at,
                    &s.nps,
                    &s.comment,
                ],
            )
            .map_err(db)?;
            audit(tx, e)?;
            Ok(())
        })
    }

    fn survey(&self, token_hash: &str) -> StoreResult<Option<Survey>> {
        let row = self
            .connect()?
            .query_opt(&format!("SELECT {SURVEY_COLS} FROM surveys WHERE token_hash = $1"), &[&token_hash])
            .map_err(db)?;
        row.as_ref().map(survey_from).transpose()
    }

    fn answer_survey(
        &self,
        token_hash: &str,
        nps: i64,
        comment: Option<&str>,
        now: i64,
        e: &AuditEntry,
    ) -> StoreResult<bool> {
        self.write(|tx| {
            let n = tx
                .execute(
                    "UPDATE surveys SET answered_at = $1, nps = $2, comment = $3
                     WHERE token_hash = $4 AND answered_at IS NULL AND expires_at > $1",
                    &[&now, &nps, &comment, &token_hash],
                )
                .map_err(db)?;
            if n == 1 {
                audit(tx, e)?;
            }
            Ok(n == 1)
        })
    }

    fn survey_scores(&self, scope: &ClientScope) -> StoreResult<Vec<SurveyScore>> {
        let mut q = Query::default();
        if !q.scope(scope, "s") {
            return Ok(Vec::new());
        }
        q.cond("s.answered_at IS NOT NULL".into());
        let sql = format!(
            "SELECT s.advisor_id, s.branch_id, s.segment, s.nps, count(*) FROM surveys s{}
             GROUP BY s.advisor_id, s.branch_id, s.segment, s.nps
             ORDER BY s.advisor_id NULLS FIRST, s.branch_id NULLS FIRST, s.segment NULLS FIRST, s.nps NULLS FIRST",
            q.where_clause()
        );
        self.rows(&sql, &q)?
            .iter()
            .map(|r| {
                Ok(SurveyScore {
                    advisor_id: get(r, 0)?,
                    branch_id: get(r, 1)?,
                    segment: get(r, 2)?,
                    nps: get(r, 3)?,
                    answers: get(r, 4)?,
                })
            })
            .collect()
    }

    fn advisor_activity(
        &self,
        scope: &ClientScope,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<AdvisorActivity>> {
        let mut acts: BTreeMap<String, AdvisorActivity> = BTreeMap::new();
        let mut q = Query::default();
        if !q.scope(scope, "t") {
            return Ok(Vec::new());
        }
        let (lo, hi) = (q.bind(from), q.bind(to));
        q.cond(format!("t.kind = 'followup' AND t.due >= {lo} AND t.due <= {hi} AND t.advisor_id IS NOT NULL"));
        // done on or before its due date: the day of completed_at (a local
        // timestamp's first 10 characters), compared as SQLite compares it
        let sql = format!(
            "SELECT t.advisor_id, count(*),
                    count(*) FILTER (WHERE t.status = 'done' AND left(t.completed_at, 10) <= to_char(t.due, 'YYYY-MM-DD'))
             FROM tasks t{} GROUP BY t.advisor_id",
            q.where_clause()
        );
        for r in self.rows(&sql, &q)? {
            let a: String = get(&r, 0)?;
            let e = acts.entry(a.clone()).or_insert_with(|| blank_activity(a));
            e.followups_due = get(&r, 1)?;
            e.followups_on_time = get(&r, 2)?;
        }
        let mut q = Query::default();
        q.scope(scope, "c");
        let (lo, hi) = (q.bind(from.and_time(NaiveTime::MIN)), q.bind(day_after(to)));
        q.cond(format!("k.at >= {lo} AND k.at < {hi} AND c.advisor_id IS NOT NULL"));
        let sql = format!(
            "SELECT c.advisor_id, count(*) FILTER (WHERE k.verdict = 'warn'), count(*) FILTER (WHERE k.verdict = 'prohibited')
             FROM suitability_checks k JOIN clients c ON c.client_id = k.client_id{} GROUP BY c.advisor_id",
            q.where_clause()
        );
        for r in self.rows(&sql, &q)? {
            let a: String = get(&r, 0)?;
            let e = acts.entry(a.clone()).or_insert_with(|| blank_activity(a));
            e.warns = get(&r, 1)?;
            e.prohibited = get(&r, 2)?;
        }
        Ok(acts.into_values().collect())
    }

    fn advisor_books(&self, run_id: i64) -> StoreResult<Vec<AdvisorBook>> {
        const KEPT: &str = "SELECT advisor_id, clients, aum FROM advisor_books WHERE run_id = $1 ORDER BY advisor_id";
        {
            let mut c = self.connect()?;
            let done = c.query_opt("SELECT 1 FROM advisor_books_done WHERE run_id = $1", &[&run_id]).map_err(db)?;
            if done.is_some() {
                // committed with its books, so they are all there
                return c.query(KEPT, &[&run_id]).map_err(db)?.iter().map(book_from).collect();
            }
        }
        self.write(|tx| {
            let finished = tx
                .query_opt("SELECT 1 FROM classification_runs WHERE run_id = $1 AND finished_at IS NOT NULL", &[&run_id])
                .map_err(db)?
                .is_some();
            if !finished {
                // an unknown or unfinished run: its figures as they stand,
                // nothing kept (a partitioned run's rows are still coming,
                // and an abandoned run's id is taken again)
                let rows = tx.query(&format!("{BOOKS_SQL} ORDER BY c.advisor_id"), &[&run_id]).map_err(db)?;
                return rows.iter().map(book_from).collect();
            }
            // a second first caller waits here for the first one's commit,
            // then finds the books kept
            let fresh = tx
                .execute("INSERT INTO advisor_books_done (run_id) VALUES ($1) ON CONFLICT DO NOTHING", &[&run_id])
                .map_err(db)?
                == 1;
            if fresh {
                tx.execute(&format!("INSERT INTO advisor_books (run_id, advisor_id, clients, aum) SELECT $1, b.* FROM ({BOOKS_SQL}) b"), &[&run_id])
                    .map_err(db)?;
            }
            tx.query(KEPT, &[&run_id]).map_err(db)?.iter().map(book_from).collect()
        })
    }
}
