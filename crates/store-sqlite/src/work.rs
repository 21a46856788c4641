//! Monitoring's storage (see `tierwise_store::work`): alerts, tasks, the
//! outbox, surveys, reassignment and the workbench figures.
//!
//! Deduplication is the unique indexes' (migration 0004): rows are inserted
//! with `INSERT OR IGNORE`, and a row counts as inserted when it changed one.

use chrono::NaiveDate;
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use tierwise_domain::{Advisor, AdvisorTitle, Interaction, ProductRisk, RiskLevel};
use tierwise_monitor::assign::Placement;
use tierwise_monitor::{ClientFacts, HolderFacts};
use tierwise_store::{
    AdvisorActivity, AdvisorBook, Alert, AlertAction, AlertQuery, AuditEntry, ClientScope, ImportSink, NewAlert,
    NewNotice, NewTask, Notice, NoticeQuery, NoticeUpdate, OpenAlertKey, OpenTaskKey, StoreResult, Survey, SurveyScore,
    Task, TaskLoad, TaskQuery, WorkApplied, WorkBatch, WorkStore,
};

use crate::codec::{corrupt, date, dec, opt_date};
use crate::desk::{scope_on, where_sql};
use crate::CachedQuery;
use crate::{append_audit, db, Sink, SqliteStore};

const MAX_PAGE: u32 = 1000;

fn page(limit: u32) -> i64 {
    i64::from(if limit == 0 { 50 } else { limit.min(MAX_PAGE) })
}

/// 0 = high … 2 = low, the order alerts are listed in.
fn severity_rank(s: &str) -> i64 {
    match s {
        "high" => 0,
        "medium" => 1,
        _ => 2,
    }
}

/// `?,?,…` for IN lists.
fn marks(n: usize) -> String {
    vec!["?"; n].join(",")
}

const ALERT_COLS: &str =
    "alert_id, kind, severity, subject, client_id, advisor_id, branch_id, episode, evidence, source, \
     status, created_at, acknowledged_by, acknowledged_at, closed_by, closed_at, outcome";

fn alert_from(r: &Row) -> rusqlite::Result<Alert> {
    Ok(Alert {
        alert_id: r.get(0)?,
        kind: r.get(1)?,
        severity: r.get(2)?,
        subject: r.get(3)?,
        client_id: r.get(4)?,
        advisor_id: r.get(5)?,
        branch_id: r.get(6)?,
        episode: r.get(7)?,
        evidence: r.get(8)?,
        source: r.get(9)?,
        status: r.get(10)?,
        created_at: r.get(11)?,
        acknowledged_by: r.get(12)?,
        acknowledged_at: r.get(13)?,
        closed_by: r.get(14)?,
        closed_at: r.get(15)?,
        outcome: r.get(16)?,
        client_name: r.get(17)?,
    })
}

/// The client's name beside a row of `table` (alerts, tasks).
fn name_of(table: &str) -> String {
    format!("(SELECT n.name FROM clients n WHERE n.client_id = {table}.client_id)")
}

const TASK_COLS: &str = "task_id, kind, client_id, advisor_id, branch_id, episode, due, evidence, source, status, \
     created_at, completed_by, completed_at, outcome";

fn task_from(r: &Row) -> StoreResult<Task> {
    let g = |e: rusqlite::Error| db(e);
    Ok(Task {
        task_id: r.get(0).map_err(g)?,
        kind: r.get(1).map_err(g)?,
        client_id: r.get(2).map_err(g)?,
        advisor_id: r.get(3).map_err(g)?,
        branch_id: r.get(4).map_err(g)?,
        episode: r.get(5).map_err(g)?,
        due: date(&r.get::<_, String>(6).map_err(g)?)?,
        evidence: r.get(7).map_err(g)?,
        source: r.get(8).map_err(g)?,
        status: r.get(9).map_err(g)?,
        created_at: r.get(10).map_err(g)?,
        completed_by: r.get(11).map_err(g)?,
        completed_at: r.get(12).map_err(g)?,
        outcome: r.get(13).map_err(g)?,
        client_name: r.get(14).map_err(g)?,
    })
}

const NOTICE_COLS: &str =
    "notice_id, kind, client_id, episode, payload, created_at, status, attempts, next_attempt_at, last_error, delivered_at";

fn notice_from(r: &Row) -> rusqlite::Result<Notice> {
    Ok(Notice {
        notice_id: r.get(0)?,
        kind: r.get(1)?,
        client_id: r.get(2)?,
        episode: r.get(3)?,
        payload: r.get(4)?,
        created_at: r.get(5)?,
        status: r.get(6)?,
        attempts: r.get(7)?,
        next_attempt_at: r.get(8)?,
        last_error: r.get(9)?,
        delivered_at: r.get(10)?,
    })
}

const SURVEY_COLS: &str =
    "token_hash, client_id, advisor_id, branch_id, segment, task_id, created_at, expires_at, answered_at, nps, comment";

fn survey_from(r: &Row) -> rusqlite::Result<Survey> {
    Ok(Survey {
        token_hash: r.get(0)?,
        client_id: r.get(1)?,
        advisor_id: r.get(2)?,
        branch_id: r.get(3)?,
        segment: r.get(4)?,
        task_id: r.get(5)?,
        created_at: r.get(6)?,
        expires_at: r.get(7)?,
        answered_at: r.get(8)?,
        nps: r.get(9)?,
        comment: r.get(10)?,
    })
}

fn risk_level(s: Option<String>) -> StoreResult<Option<RiskLevel>> {
    match s.as_deref() {
        None | Some("") => Ok(None),
        Some(v) => RiskLevel::parse(v).map(Some).map_err(|_| corrupt("risk_level", v)),
    }
}

fn product_risk(s: &str) -> StoreResult<Option<ProductRisk>> {
    match s {
        "" => Ok(None),
        v => ProductRisk::parse(v).map(Some).map_err(|_| corrupt("behaviour_risk", v)),
    }
}

/// Rows per multi-row INSERT.
const INSERT_BATCH: usize = 64;

/// `INSERT OR IGNORE` of many rows, `INSERT_BATCH` per statement; the ids
/// of the rows stored (a row whose key exists is skipped), in insertion order.
fn insert_many<T>(
    c: &Connection,
    head: &str,
    columns: usize,
    id: &str,
    rows: &[T],
    values: impl Fn(&T, &mut Vec<Value>),
) -> StoreResult<Vec<i64>> {
    let mut out = Vec::new();
    let mut p: Vec<Value> = Vec::with_capacity(INSERT_BATCH * columns);
    for batch in rows.chunks(INSERT_BATCH) {
        p.clear();
        batch.iter().for_each(|r| values(r, &mut p));
        let sql = format!("{} RETURNING {id}", crate::codec::multi_insert(head, columns, batch.len()));
        let mut st = c.prepare_cached(&sql).map_err(db)?;
        let mut got = st.query(params_from_iter(p.iter())).map_err(db)?;
        while let Some(r) = got.next().map_err(db)? {
            out.push(r.get::<_, i64>(0).map_err(db)?);
        }
    }
    // RETURNING's order is not promised; ids grow with insertion
    out.sort_unstable();
    Ok(out)
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn opt(s: &Option<String>) -> Value {
    s.clone().map_or(Value::Null, Value::Text)
}

fn insert_alerts(c: &Connection, rows: &[NewAlert], at: &str) -> StoreResult<Vec<i64>> {
    insert_many(
        c,
        "INSERT OR IGNORE INTO alerts (kind, severity, severity_rank, subject, client_id, advisor_id, branch_id,
             episode, evidence, source, created_at)",
        11,
        "alert_id",
        rows,
        |a, p| {
            p.extend([
                text(&a.kind),
                text(&a.severity),
                Value::Integer(severity_rank(&a.severity)),
                text(&a.subject),
                opt(&a.client_id),
                opt(&a.advisor_id),
                opt(&a.branch_id),
                text(&a.episode),
                text(&a.evidence),
                text(&a.source),
                text(at),
            ])
        },
    )
}

fn insert_tasks(c: &Connection, rows: &[NewTask], at: &str) -> StoreResult<Vec<i64>> {
    insert_many(
        c,
        "INSERT OR IGNORE INTO tasks (kind, client_id, advisor_id, branch_id, episode, due, evidence, source, created_at)",
        9,
        "task_id",
        rows,
        |t, p| {
            p.extend([
                text(&t.kind),
                text(&t.client_id),
                opt(&t.advisor_id),
                opt(&t.branch_id),
                text(&t.episode),
                Value::Text(t.due.to_string()),
                text(&t.evidence),
                text(&t.source),
                text(at),
            ])
        },
    )
}

fn insert_notices(c: &Connection, rows: &[NewNotice], at: &str) -> StoreResult<Vec<i64>> {
    insert_many(
        c,
        "INSERT OR IGNORE INTO notices (kind, client_id, episode, payload, created_at)",
        5,
        "notice_id",
        rows,
        |n, p| p.extend([text(&n.kind), text(&n.client_id), text(&n.episode), text(&n.payload), text(at)]),
    )
}

impl SqliteStore {
    fn query_rows<T>(&self, sql: &str, p: &[Value], f: impl Fn(&Row) -> StoreResult<T>) -> StoreResult<Vec<T>> {
        let c = self.connect()?;
        let mut st = c.prepare_cached(sql).map_err(db)?;
        let mut rows = st.query(params_from_iter(p.iter())).map_err(db)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(db)? {
            out.push(f(r)?);
        }
        Ok(out)
    }
}

impl WorkStore for SqliteStore {
    fn advisors(&self) -> StoreResult<Vec<Advisor>> {
        self.query_rows(
            "SELECT advisor_id, name, title, experience_years, capacity, branch_id FROM advisors ORDER BY advisor_id",
            &[],
            |r| {
                let title: Option<String> = r.get(2).map_err(db)?;
                Ok(Advisor {
                    advisor_id: r.get(0).map_err(db)?,
                    name: r.get(1).map_err(db)?,
                    title: title
                        .map(|t| AdvisorTitle::parse(&t).map_err(|_| corrupt("advisor title", &t)))
                        .transpose()?,
                    experience_years: r.get(3).map_err(db)?,
                    capacity: r.get(4).map_err(db)?,
                    branch_id: r.get(5).map_err(db)?,
                })
            },
        )
    }

    fn monitor_scan(
        &self,
        run_id: i64,
        d: NaiveDate,
        client_id: Option<&str>,
        chunk: usize,
        f: &mut dyn FnMut(Vec<ClientFacts>) -> StoreResult<()>,
    ) -> StoreResult<()> {
        // "on or before D" for local timestamps: before the next day
        let until = d.succ_opt().unwrap_or(d).to_string();
        let filter = if client_id.is_some() { " AND k.client_id = ?3" } else { "" };
        let sql = format!(
            "SELECT k.client_id, c.advisor_id, c.branch_id, c.kind, c.birth_date, c.onboarded_at, c.material_change_at,
                (SELECT a.assessed_at || '|' || a.questionnaire_id FROM assessments a
                  WHERE a.client_id = k.client_id AND a.assessed_at < ?2 ORDER BY a.assessed_at DESC LIMIT 1),
                (SELECT max(i.at) FROM interactions i WHERE i.client_id = k.client_id AND i.at < ?2),
                k.asset_tier, k.prev_asset_tier, k.segment, k.risk_level, k.behaviour_risk, k.churn_risk, k.aum
             FROM classifications k JOIN clients c ON c.client_id = k.client_id
             WHERE k.run_id = ?1{filter} ORDER BY k.client_id"
        );
        let c = self.connect()?;
        let mut st = c.prepare(&sql).map_err(db)?;
        let mut rows = match client_id {
            Some(id) => st.query(params![run_id, until, id]),
            None => st.query(params![run_id, until]),
        }
        .map_err(db)?;
        let chunk = chunk.max(1);
        let mut buf = Vec::with_capacity(chunk);
        while let Some(r) = rows.next().map_err(db)? {
            let kind: String = r.get(3).map_err(db)?;
            let assessed: Option<String> = r.get(7).map_err(db)?;
            let (assessed_on, questionnaire_id) = match assessed {
                Some(s) => {
                    let (at, q) = s.split_once('|').unwrap_or((s.as_str(), ""));
                    (Some(date(at.get(..10).unwrap_or(at))?), Some(q.to_string()))
                }
                None => (None, None),
            };
            let contact: Option<String> = r.get(8).map_err(db)?;
            let behaviour: String = r.get(13).map_err(db)?;
            buf.push(ClientFacts {
                client_id: r.get(0).map_err(db)?,
                advisor_id: r.get(1).map_err(db)?,
                branch_id: r.get(2).map_err(db)?,
                birth_date: if kind == "institution" { None } else { opt_date(r.get(4).map_err(db)?)? },
                onboarded_at: opt_date(r.get(5).map_err(db)?)?,
                material_change_at: opt_date(r.get(6).map_err(db)?)?,
                assessed_on,
                questionnaire_id,
                last_contact: contact.map(|s| date(s.get(..10).unwrap_or(&s))).transpose()?,
                run_id,
                asset_tier: r.get(9).map_err(db)?,
                prev_asset_tier: r.get(10).map_err(db)?,
                segment: r.get(11).map_err(db)?,
                risk_level: risk_level(r.get(12).map_err(db)?)?,
                behaviour_risk: product_risk(&behaviour)?,
                churn_risk: r.get(14).map_err(db)?,
                aum: dec(&r.get::<_, String>(15).map_err(db)?)?,
            });
            if buf.len() >= chunk {
                f(std::mem::replace(&mut buf, Vec::with_capacity(chunk)))?;
            }
        }
        if !buf.is_empty() {
            f(buf)?;
        }
        Ok(())
    }

    fn placements(&self, run_id: i64, branch_id: Option<&str>) -> StoreResult<Vec<Placement>> {
        let (sql, p) = match branch_id {
            Some(b) => (
                "SELECT c.client_id, c.branch_id, k.segment, c.advisor_id FROM clients c
                 JOIN classifications k ON k.run_id = ?1 AND k.client_id = c.client_id
                 WHERE c.client_id IN (SELECT client_id FROM clients WHERE branch_id = ?2
                     UNION SELECT client_id FROM clients
                     WHERE advisor_id IN (SELECT advisor_id FROM advisors WHERE branch_id = ?2))
                 ORDER BY c.client_id",
                vec![Value::Integer(run_id), Value::Text(b.to_string())],
            ),
            None => (
                "SELECT k.client_id, c.branch_id, k.segment, c.advisor_id FROM classifications k
                 JOIN clients c ON c.client_id = k.client_id WHERE k.run_id = ?1 ORDER BY k.client_id",
                vec![Value::Integer(run_id)],
            ),
        };
        self.query_rows(sql, &p, |r| {
            Ok(Placement {
                client_id: r.get(0).map_err(db)?,
                branch_id: r.get(1).map_err(db)?,
                segment: r.get(2).map_err(db)?,
                current: r.get(3).map_err(db)?,
            })
        })
    }

    fn holders(&self, product_id: &str) -> StoreResult<Vec<HolderFacts>> {
        let rows = self.query_rows(
            "SELECT h.client_id, c.advisor_id, c.branch_id, h.market_value,
                (SELECT a.risk_level FROM assessments a WHERE a.client_id = h.client_id
                  ORDER BY a.assessed_at DESC LIMIT 1)
             FROM holdings h JOIN clients c ON c.client_id = h.client_id
             WHERE h.product_id = ?1
               AND h.as_of = (SELECT max(n.as_of) FROM holdings n WHERE n.client_id = h.client_id)
             ORDER BY h.client_id",
            &[Value::Text(product_id.to_string())],
            |r| {
                Ok(HolderFacts {
                    client_id: r.get(0).map_err(db)?,
                    advisor_id: r.get(1).map_err(db)?,
                    branch_id: r.get(2).map_err(db)?,
                    market_value: dec(&r.get::<_, String>(3).map_err(db)?)?,
                    risk_level: risk_level(r.get(4).map_err(db)?)?,
                })
            },
        )?;
        Ok(rows.into_iter().filter(|h| h.market_value > Decimal::ZERO).collect())
    }

    fn apply_work(&self, b: &WorkBatch) -> StoreResult<WorkApplied> {
        self.write(|c| {
            let mut out = WorkApplied::default();
            if !b.transactions.is_empty() {
                Sink { c }.put_transactions(&b.transactions)?;
            }
            for m in &b.reassign {
                let n = c
                    .prepare_cached("UPDATE clients SET advisor_id = ?1 WHERE client_id = ?2 AND advisor_id IS ?3")
                    .and_then(|mut s| s.execute(params![m.to, m.client_id, m.from]))
                    .map_err(db)?;
                if n == 1 {
                    c.prepare_cached("UPDATE alerts SET advisor_id = ?1 WHERE subject = ?2 AND client_id = ?2 AND status <> 'closed'")
                        .and_then(|mut s| s.execute(params![m.to, m.client_id]))
                        .map_err(db)?;
                    c.prepare_cached("UPDATE tasks SET advisor_id = ?1 WHERE client_id = ?2 AND status = 'open'")
                        .and_then(|mut s| s.execute(params![m.to, m.client_id]))
                        .map_err(db)?;
                    out.reassigned.push(m.client_id.clone());
                }
            }
            for (id, outcome) in &b.close_alerts {
                out.closed_alerts += c
                    .prepare_cached(
                        "UPDATE alerts SET status = 'closed', closed_by = ?1, closed_at = ?2, outcome = ?3
                         WHERE alert_id = ?4 AND status <> 'closed'",
                    )
                    .and_then(|mut s| s.execute(params![b.by, b.at, outcome, id]))
                    .map_err(db)? as u64;
            }
            for (id, status, outcome) in &b.finish_tasks {
                out.finished_tasks += c
                    .prepare_cached(
                        "UPDATE tasks SET status = ?1, completed_by = ?2, completed_at = ?3, outcome = ?4
                         WHERE task_id = ?5 AND status = 'open'",
                    )
                    .and_then(|mut s| s.execute(params![status, b.by, b.at, outcome, id]))
                    .map_err(db)? as u64;
            }
            out.alerts = insert_alerts(c, &b.alerts, &b.at)?;
            out.tasks = insert_tasks(c, &b.tasks, &b.at)?;
            out.notices = insert_notices(c, &b.notices, &b.at)?;
            for e in &b.audit {
                append_audit(c, &e.actor, &e.action, &e.subject, &e.payload)?;
            }
            Ok(out)
        })
    }

    fn open_alert_keys(&self, kinds: &[&str], subjects: Option<(&str, &str)>) -> StoreResult<Vec<OpenAlertKey>> {
        let mut wh = vec!["status <> 'closed'".to_string()];
        let mut p: Vec<Value> = Vec::new();
        if !kinds.is_empty() {
            wh.push(format!("kind IN ({})", marks(kinds.len())));
            p.extend(kinds.iter().map(|k| Value::Text(k.to_string())));
        }
        if let Some((first, last)) = subjects {
            wh.push("subject >= ? AND subject <= ?".into());
            p.push(Value::Text(first.to_string()));
            p.push(Value::Text(last.to_string()));
        }
        let sql = format!("SELECT alert_id, kind, subject, episode FROM alerts{} ORDER BY alert_id", where_sql(&wh));
        self.query_rows(&sql, &p, |r| {
            Ok(OpenAlertKey {
                alert_id: r.get(0).map_err(db)?,
                kind: r.get(1).map_err(db)?,
                subject: r.get(2).map_err(db)?,
                episode: r.get(3).map_err(db)?,
            })
        })
    }

    fn alerts(&self, q: &AlertQuery) -> StoreResult<Vec<Alert>> {
        let mut wh = Vec::new();
        let mut p: Vec<Value> = Vec::new();
        if scope_on(&q.scope, "advisor_id", "branch_id", &mut wh, &mut p).is_none() {
            return Ok(Vec::new());
        }
        match q.status.as_deref() {
            None | Some("") => {}
            Some("open") => wh.push("status <> 'closed'".into()),
            Some(s) => {
                wh.push("status = ?".into());
                p.push(Value::Text(s.to_string()));
            }
        }
        for (col, v) in [("kind", &q.kind), ("severity", &q.severity), ("advisor_id", &q.advisor_id)] {
            if let Some(v) = v {
                wh.push(format!("{col} = ?"));
                p.push(Value::Text(v.clone()));
            }
        }
        if let Some(v) = &q.client_id {
            // a client's alerts have it as their subject: the key index serves it
            wh.push("subject = ? AND client_id = ?".into());
            p.push(Value::Text(v.clone()));
            p.push(Value::Text(v.clone()));
        }
        p.push(Value::Integer(page(q.limit)));
        p.push(Value::Integer(i64::from(q.offset)));
        let sql = format!(
            "SELECT {ALERT_COLS}, {} FROM alerts{} ORDER BY severity_rank, alert_id LIMIT ? OFFSET ?",
            name_of("alerts"),
            where_sql(&wh)
        );
        self.query_rows(&sql, &p, |r| alert_from(r).map_err(db))
    }

    fn alert(&self, alert_id: i64) -> StoreResult<Option<Alert>> {
        let c = self.connect()?;
        c.query_row_cached(
            &format!("SELECT {ALERT_COLS}, {} FROM alerts WHERE alert_id = ?1", name_of("alerts")),
            [alert_id],
            alert_from,
        )
        .optional()
        .map_err(db)
    }

    fn act_on_alert(
        &self,
        alert_id: i64,
        action: &AlertAction,
        by: &str,
        at: &str,
        audit: &AuditEntry,
    ) -> StoreResult<bool> {
        self.write(|c| {
            let n = match action {
                AlertAction::Acknowledge => c.execute(
                    "UPDATE alerts SET status = 'acknowledged', acknowledged_by = ?1, acknowledged_at = ?2
                     WHERE alert_id = ?3 AND status = 'open'",
                    params![by, at, alert_id],
                ),
                AlertAction::Close { outcome } => c.execute(
                    "UPDATE alerts SET status = 'closed', closed_by = ?1, closed_at = ?2, outcome = ?3
                     WHERE alert_id = ?4 AND status <> 'closed'",
                    params![by, at, outcome, alert_id],
                ),
            }
            .map_err(db)?;
            if n == 1 {
                append_audit(c, &audit.actor, &audit.action, &audit.subject, &audit.payload)?;
            }
            Ok(n == 1)
        })
    }

    fn alert_counts(&self, scope: &ClientScope) -> StoreResult<Vec<(String, String, i64)>> {
        let mut wh = vec!["status <> 'closed'".to_string()];
        let mut p = Vec::new();
        if scope_on(scope, "advisor_id", "branch_id", &mut wh, &mut p).is_none() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT kind, CASE severity_rank WHEN 0 THEN 'high' WHEN 1 THEN 'medium' ELSE 'low' END, count(*)
             FROM alerts{} GROUP BY kind, severity_rank ORDER BY kind, 2",
            where_sql(&wh)
        );
        self.query_rows(&sql, &p, |r| Ok((r.get(0).map_err(db)?, r.get(1).map_err(db)?, r.get(2).map_err(db)?)))
    }

    fn day_counts(&self, scope: &ClientScope, d: NaiveDate) -> StoreResult<(i64, Vec<(String, i64)>)> {
        let mut wh = vec!["status = 'open'".to_string(), "due < ?".into()];
        let mut p = vec![Value::Text(d.to_string())];
        if scope_on(scope, "advisor_id", "branch_id", &mut wh, &mut p).is_none() {
            return Ok((0, Vec::new()));
        }
        let overdue: i64 = {
            let c = self.connect()?;
            c.query_row_cached(
                &format!("SELECT count(*) FROM tasks{}", where_sql(&wh)),
                params_from_iter(p.iter()),
                |r| r.get(0),
            )
            .map_err(db)?
        };
        let mut wh = vec!["status <> 'closed'".to_string()];
        let mut p = Vec::new();
        scope_on(scope, "advisor_id", "branch_id", &mut wh, &mut p);
        let sql = format!(
            "SELECT CASE severity_rank WHEN 0 THEN 'high' WHEN 1 THEN 'medium' ELSE 'low' END, count(*)
             FROM alerts{} GROUP BY severity_rank ORDER BY severity_rank",
            where_sql(&wh)
        );
        let sev = self.query_rows(&sql, &p, |r| Ok((r.get(0).map_err(db)?, r.get(1).map_err(db)?)))?;
        Ok((overdue, sev))
    }

    fn alert_load(&self, scope: &ClientScope) -> StoreResult<Vec<(Option<String>, i64)>> {
        let mut wh = vec!["status <> 'closed'".to_string()];
        let mut p = Vec::new();
        if scope_on(scope, "advisor_id", "branch_id", &mut wh, &mut p).is_none() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT advisor_id, count(*) FROM alerts{} GROUP BY advisor_id ORDER BY advisor_id",
            where_sql(&wh)
        );
        self.query_rows(&sql, &p, |r| Ok((r.get(0).map_err(db)?, r.get(1).map_err(db)?)))
    }

    fn open_task_keys(&self, kinds: &[&str], clients: Option<(&str, &str)>) -> StoreResult<Vec<OpenTaskKey>> {
        let mut wh = vec!["status = 'open'".to_string()];
        let mut p: Vec<Value> = Vec::new();
        if !kinds.is_empty() {
            wh.push(format!("kind IN ({})", marks(kinds.len())));
            p.extend(kinds.iter().map(|k| Value::Text(k.to_string())));
        }
        if let Some((first, last)) = clients {
            wh.push("client_id >= ? AND client_id <= ?".into());
            p.push(Value::Text(first.to_string()));
            p.push(Value::Text(last.to_string()));
        }
        let sql =
            format!("SELECT task_id, kind, client_id, episode, due FROM tasks{} ORDER BY task_id", where_sql(&wh));
        self.query_rows(&sql, &p, |r| {
            Ok(OpenTaskKey {
                task_id: r.get(0).map_err(db)?,
                kind: r.get(1).map_err(db)?,
                client_id: r.get(2).map_err(db)?,
                episode: r.get(3).map_err(db)?,
                due: date(&r.get::<_, String>(4).map_err(db)?)?,
            })
        })
    }

    fn tasks(&self, q: &TaskQuery) -> StoreResult<Vec<Task>> {
        let mut wh = Vec::new();
        let mut p: Vec<Value> = Vec::new();
        if scope_on(&q.scope, "advisor_id", "branch_id", &mut wh, &mut p).is_none() {
            return Ok(Vec::new());
        }
        for (col, v) in
            [("status", &q.status), ("kind", &q.kind), ("client_id", &q.client_id), ("advisor_id", &q.advisor_id)]
        {
            if let Some(v) = v {
                wh.push(format!("{col} = ?"));
                p.push(Value::Text(v.clone()));
            }
        }
        if let Some(d) = q.due_from {
            wh.push("due >= ?".into());
            p.push(Value::Text(d.to_string()));
        }
        if let Some(d) = q.due_until {
            wh.push("due <= ?".into());
            p.push(Value::Text(d.to_string()));
        }
        p.push(Value::Integer(page(q.limit)));
        p.push(Value::Integer(i64::from(q.offset)));
        let sql = format!(
            "SELECT {TASK_COLS}, {} FROM tasks{} ORDER BY due, task_id LIMIT ? OFFSET ?",
            name_of("tasks"),
            where_sql(&wh)
        );
        self.query_rows(&sql, &p, task_from)
    }

    fn task(&self, task_id: i64) -> StoreResult<Option<Task>> {
        let mut got = self.query_rows(
            &format!("SELECT {TASK_COLS}, {} FROM tasks WHERE task_id = ?", name_of("tasks")),
            &[Value::Integer(task_id)],
            task_from,
        )?;
        Ok(got.pop())
    }

    fn complete_task(
        &self,
        task_id: i64,
        by: &str,
        at: &str,
        outcome: &str,
        interaction: Option<&Interaction>,
        audit: &AuditEntry,
    ) -> StoreResult<bool> {
        self.write(|c| {
            let n = c
                .execute(
                    "UPDATE tasks SET status = 'done', completed_by = ?1, completed_at = ?2, outcome = ?3
                     WHERE task_id = ?4 AND status = 'open'",
                    params![by, at, outcome, task_id],
                )
                .map_err(db)?;
            if n != 1 {
                return Ok(false);
            }
            if let Some(i) = interaction {
                Sink { c }.put_interactions(std::slice::from_ref(i))?;
            }
            append_audit(c, &audit.actor, &audit.action, &audit.subject, &audit.payload)?;
            Ok(true)
        })
    }

    fn task_load(&self, scope: &ClientScope, d: NaiveDate) -> StoreResult<Vec<TaskLoad>> {
        let mut wh = vec!["status = 'open'".to_string()];
        let mut p = vec![Value::Text(d.to_string())];
        if scope_on(scope, "advisor_id", "branch_id", &mut wh, &mut p).is_none() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT advisor_id, branch_id, count(*), sum(due < ?) FROM tasks{} GROUP BY advisor_id, branch_id
             ORDER BY advisor_id, branch_id",
            where_sql(&wh)
        );
        self.query_rows(&sql, &p, |r| {
            Ok(TaskLoad {
                advisor_id: r.get(0).map_err(db)?,
                branch_id: r.get(1).map_err(db)?,
                open: r.get(2).map_err(db)?,
                overdue: r.get(3).map_err(db)?,
            })
        })
    }

    fn due_notices(&self, now: i64, limit: u32) -> StoreResult<Vec<Notice>> {
        self.query_rows(
            &format!(
                "SELECT {NOTICE_COLS} FROM notices WHERE status = 'pending' AND next_attempt_at <= ?1
                 ORDER BY next_attempt_at, notice_id LIMIT ?2"
            ),
            &[Value::Integer(now), Value::Integer(page(limit))],
            |r| notice_from(r).map_err(db),
        )
    }

    fn update_notices(&self, updates: &[NoticeUpdate]) -> StoreResult<()> {
        self.write(|c| {
            for u in updates {
                c.prepare_cached(
                    "UPDATE notices SET status = ?1, attempts = ?2, next_attempt_at = ?3, last_error = ?4,
                         delivered_at = ?5 WHERE notice_id = ?6",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        u.status,
                        u.attempts,
                        u.next_attempt_at,
                        u.last_error,
                        u.delivered_at,
                        u.notice_id
                    ])
                })
                .map_err(db)?;
            }
            Ok(())
        })
    }

    fn notices(&self, q: &NoticeQuery) -> StoreResult<Vec<Notice>> {
        let mut wh = Vec::new();
        let mut p: Vec<Value> = Vec::new();
        if scope_on(&q.scope, "c.advisor_id", "c.branch_id", &mut wh, &mut p).is_none() {
            return Ok(Vec::new());
        }
        let join =
            if matches!(q.scope, ClientScope::All) { "" } else { " JOIN clients c ON c.client_id = n.client_id" };
        for (col, v) in [("n.client_id", &q.client_id), ("n.status", &q.status)] {
            if let Some(v) = v {
                wh.push(format!("{col} = ?"));
                p.push(Value::Text(v.clone()));
            }
        }
        if let Some(a) = q.after {
            wh.push("n.notice_id > ?".into());
            p.push(Value::Integer(a));
        }
        p.push(Value::Integer(page(q.limit)));
        let cols: Vec<String> = NOTICE_COLS.split(", ").map(|c| format!("n.{c}")).collect();
        let sql =
            format!("SELECT {} FROM notices n{join}{} ORDER BY n.notice_id LIMIT ?", cols.join(", "), where_sql(&wh));
        self.query_rows(&sql, &p, |r| notice_from(r).map_err(db))
    }

    fn notice_counts(&self) -> StoreResult<Vec<(String, i64)>> {
        self.query_rows("SELECT status, count(*) FROM notices GROUP BY status ORDER BY status", &[], |r| {
            Ok((r.get(0).map_err(db)?, r.get(1).map_err(db)?))
        })
    }

    fn create_survey(&self, s: &Survey, audit: &AuditEntry) -> StoreResult<()> {
        self.write(|c| {
            c.execute(
                &format!("INSERT INTO surveys ({SURVEY_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"),
                params![
                    s.token_hash,
                    s.client_id,
                    s.advisor_id,
                    s.branch_id,
                    s.segment,
                    s.task_id,
                    s.created_at,
                    s.expires_at,
                    s.answered_at,
                    s.nps,
                    s.comment
                ],
            )
            .map_err(db)?;
            append_audit(c, &audit.actor, &audit.action, &audit.subject, &audit.payload)?;
            Ok(())
        })
    }

    fn survey(&self, token_hash: &str) -> StoreResult<Option<Survey>> {
        let c = self.connect()?;
        c.query_row_cached(
            &format!("SELECT {SURVEY_COLS} FROM surveys WHERE token_hash = ?1"),
            [token_hash],
            survey_from,
        )
        .optional()
        .map_err(db)
    }

    fn answer_survey(
        &self,
        token_hash: &str,
        nps: i64,
        comment: Option<&str>,
        now: i64,
        audit: &AuditEntry,
    ) -> StoreResult<bool> {
        self.write(|c| {
            let n = c
                .execute(
                    "UPDATE surveys SET answered_at = ?1, nps = ?2, comment = ?3
                     WHERE token_hash = ?4 AND answered_at IS NULL AND expires_at > ?1",
                    params![now, nps, comment, token_hash],
                )
                .map_err(db)?;
            if n == 1 {
                append_audit(c, &audit.actor, &audit.action, &audit.subject, &audit.payload)?;
            }
            Ok(n == 1)
        })
    }

    fn survey_scores(&self, scope: &ClientScope) -> StoreResult<Vec<SurveyScore>> {
        let mut wh = vec!["answered_at IS NOT NULL".to_string()];
        let mut p = Vec::new();
        if scope_on(scope, "advisor_id", "branch_id", &mut wh, &mut p).is_none() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT advisor_id, branch_id, segment, nps, count(*) FROM surveys{}
             GROUP BY advisor_id, branch_id, segment, nps ORDER BY advisor_id, branch_id, segment, nps",
            where_sql(&wh)
        );
        self.query_rows(&sql, &p, |r| {
            Ok(SurveyScore {
                advisor_id: r.get(0).map_err(db)?,
                branch_id: r.get(1).map_err(db)?,
                segment: r.get(2).map_err(db)?,
                nps: r.get(3).map_err(db)?,
                answers: r.get(4).map_err(db)?,
            })
        })
    }

    fn advisor_activity(
        &self,
        scope: &ClientScope,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<AdvisorActivity>> {
        let mut acts: BTreeMap<String, AdvisorActivity> = BTreeMap::new();
        let mut wh = vec![
            "kind = 'followup'".to_string(),
            "due >= ?".into(),
            "due <= ?".into(),
            "advisor_id IS NOT NULL".into(),
        ];
        let mut p = vec![Value::Text(from.to_string()), Value::Text(to.to_string())];
        if scope_on(scope, "advisor_id", "branch_id", &mut wh, &mut p).is_none() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT advisor_id, count(*), sum(status = 'done' AND substr(completed_at, 1, 10) <= due)
             FROM tasks{} GROUP BY advisor_id",
            where_sql(&wh)
        );
        for (a, due, on_time) in self.query_rows(&sql, &p, |r| {
            Ok((r.get::<_, String>(0).map_err(db)?, r.get::<_, i64>(1).map_err(db)?, r.get::<_, i64>(2).map_err(db)?))
        })? {
            let e = acts.entry(a.clone()).or_insert_with(|| blank_activity(a));
            e.followups_due = due;
            e.followups_on_time = on_time;
        }
        let mut wh = vec!["k.at >= ?".to_string(), "k.at < ?".into(), "c.advisor_id IS NOT NULL".into()];
        let mut p = vec![Value::Text(from.to_string()), Value::Text(to.succ_opt().unwrap_or(to).to_string())];
        // an advisor's few hundred clients lead; a branch's tens of thousands
        // do not (`+` keeps the planner on the period's checks by time)
        scope_on(scope, "c.advisor_id", "+c.branch_id", &mut wh, &mut p);
        let sql = format!(
            "SELECT c.advisor_id, sum(k.verdict = 'warn'), sum(k.verdict = 'prohibited')
             FROM suitability_checks k JOIN clients c ON c.client_id = k.client_id{} GROUP BY c.advisor_id",
            where_sql(&wh)
        );
        for (a, warns, prohibited) in self.query_rows(&sql, &p, |r| {
            Ok((r.get::<_, String>(0).map_err(db)?, r.get::<_, i64>(1).map_err(db)?, r.get::<_, i64>(2).map_err(db)?))
        })? {
            let e = acts.entry(a.clone()).or_insert_with(|| blank_activity(a));
            e.warns = warns;
            e.prohibited = prohibited;
        }
        Ok(acts.into_values().collect())
    }

    fn advisor_books(&self, run_id: i64) -> StoreResult<Vec<AdvisorBook>> {
        let read = || {
            self.query_rows(
                "SELECT advisor_id, clients, aum FROM advisor_books WHERE run_id = ?1 ORDER BY advisor_id",
                &[Value::Integer(run_id)],
                |r| {
                    Ok(AdvisorBook {
                        advisor_id: r.get(0).map_err(db)?,
                        clients: r.get(1).map_err(db)?,
                        aum: dec(&r.get::<_, String>(2).map_err(db)?)?,
                    })
                },
            )
        };
        let done = {
            let c = self.connect()?;
            c.query_row_cached("SELECT 1 FROM advisor_books_done WHERE run_id = ?1", [run_id], |_| Ok(()))
                .optional()
                .map_err(db)?
                .is_some()
        };
        if done {
            return read();
        }
        let mut books: BTreeMap<String, (i64, Decimal)> = BTreeMap::new();
        {
            let c = self.connect()?;
            let mut st = c
                .prepare(
                    "SELECT c.advisor_id, k.aum FROM classifications k JOIN clients c ON c.client_id = k.client_id
                     WHERE k.run_id = ?1 AND c.advisor_id IS NOT NULL",
                )
                .map_err(db)?;
            let mut rows = st.query([run_id]).map_err(db)?;
            while let Some(r) = rows.next().map_err(db)? {
                let a: String = r.get(0).map_err(db)?;
                let aum = dec(r.get_ref(1).map_err(db)?.as_str().map_err(|e| db(e.into()))?)?;
                let e = books.entry(a).or_default();
                e.0 += 1;
                e.1 += aum;
            }
        }
        let finished = {
            let c = self.connect()?;
            c.query_row_cached(
                "SELECT 1 FROM classification_runs WHERE run_id = ?1 AND finished_at IS NOT NULL AND finished_at <> ''",
                [run_id],
                |_| Ok(()),
            )
            .optional()
            .map_err(db)?
            .is_some()
        };
        if !finished {
            // a run still being written (or unknown): its figures, not kept
            return Ok(books
                .into_iter()
                .map(|(advisor_id, (clients, aum))| AdvisorBook { advisor_id, clients, aum })
                .collect());
        }
        self.write(|c| {
            let fresh =
                c.execute("INSERT OR IGNORE INTO advisor_books_done (run_id) VALUES (?1)", [run_id]).map_err(db)?;
            if fresh == 1 {
                for (a, (n, aum)) in &books {
                    c.prepare_cached(
                        "INSERT INTO advisor_books (run_id, advisor_id, clients, aum) VALUES (?1, ?2, ?3, ?4)",
                    )
                    .and_then(|mut s| s.execute(params![run_id, a, n, aum.to_string()]))
                    .map_err(db)?;
                }
            }
            Ok(())
        })?;
        read()
    }
}

fn blank_activity(advisor_id: String) -> AdvisorActivity {
    AdvisorActivity { advisor_id, followups_due: 0, followups_on_time: 0, warns: 0, prohibited: 0 }
}
