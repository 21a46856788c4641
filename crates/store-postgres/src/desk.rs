//! The desk's storage (see `tierwise_store::desk`): staff, sessions, links,
//! the client list and 360, sales and the hash-chained audit trail.
//!
//! Every write a person makes is one transaction with its audit event
//! (`append_audit`, which locks the chain's head: the event is numbered and
//! chained when the write is already done, so a refused write appends
//! nothing). Every list is a keyset page: one walk of an index from the
//! last key seen, never an OFFSET or a count.

use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{Row, Transaction};
use tierwise_classify::Classification;
use tierwise_domain::{dates::format_timestamp, Assessment, Interaction, InteractionChannel, LocalDateTime, Product};
use tierwise_store::*;

use crate::codec::{self, get};
use crate::scan::{self, Fetcher};
use crate::{append_audit, db, lock_sql, run_info_at, PostgresStore, RUN_COLS};

/// Rows of the audit trail fetched per round trip by `scan_audit`.
const AUDIT_FETCH: i32 = 10_000;

/// A page's size: 0 means 50, and never more than 1000.
pub(crate) fn page_size(limit: u32) -> i64 {
    match limit {
        0 => 50,
        n => i64::from(n.min(1000)),
    }
}

/// Appends `e` to the audit trail inside `tx`.
fn audit(tx: &mut Transaction, e: &AuditEntry) -> StoreResult<i64> {
    append_audit(tx, &e.actor, &e.action, &e.subject, &e.payload)
}

/// A uniqueness violation as `StoreError::Conflict(msg)`, any other error as it is.
fn conflict(e: postgres::Error, msg: impl FnOnce() -> String) -> StoreError {
    if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
        StoreError::Conflict(msg())
    } else {
        db(e)
    }
}

/// A local timestamp of the application (`2025-07-01T10:00:00`, with an
/// optional fraction), as stored in a TIMESTAMP column.
fn local_time(what: &str, s: &str) -> StoreResult<LocalDateTime> {
    LocalDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .map_err(|_| StoreError::Aborted(format!("the {what}, {s:?}, is not a local timestamp")))
}

/// The smallest string greater than every string that starts with `prefix`
/// (byte-wise, as COLLATE "C" compares UTF-8): `prefix` with its last
/// character moved on by one. None when there is none (only U+10FFFFs).
pub(crate) fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let mut n = u32::from(last) + 1;
        if (0xD800..=0xDFFF).contains(&n) {
            n = 0xE000;
        }
        if let Some(next) = char::from_u32(n) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// A query put together from optional conditions, its parameters numbered
/// as they are bound.
#[derive(Default)]
pub(crate) struct Query {
    params: Vec<Box<dyn ToSql + Sync>>,
    conds: Vec<String>,
}

impl Query {
    /// Binds `v` and returns its placeholder.
    pub(crate) fn bind(&mut self, v: impl ToSql + Sync + 'static) -> String {
        self.params.push(Box::new(v));
        format!("${}", self.params.len())
    }

    pub(crate) fn cond(&mut self, c: String) {
        self.conds.push(c);
    }

    /// `col` starts with `prefix`, as an index range over a COLLATE "C"
    /// expression (no LIKE: `%` and `_` are plain characters here).
    fn prefix(&mut self, col: &str, prefix: &str) -> String {
        let from = self.bind(prefix.to_string());
        match prefix_end(prefix) {
            Some(end) => {
                let end = self.bind(end);
                format!("({col} >= {from} AND {col} < {end})")
            }
            None => format!("({col} >= {from} AND starts_with({col}, {from}))"),
        }
    }

    /// ` WHERE a AND b …`, or nothing.
    pub(crate) fn where_clause(&self) -> String {
        if self.conds.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.conds.join(" AND "))
        }
    }

    pub(crate) fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.params.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync)).collect()
    }

    /// The condition that keeps the clients (`alias`) of `scope`; false for
    /// `Nobody`, whose queries the callers answer without asking.
    pub(crate) fn scope(&mut self, scope: &ClientScope, alias: &str) -> bool {
        match scope {
            ClientScope::All => {}
            ClientScope::Advisor(a) => {
                let p = self.bind(a.clone());
                self.cond(format!("{alias}.advisor_id = {p}"));
            }
            ClientScope::Branch(b) => {
                let p = self.bind(b.clone());
                self.cond(format!("{alias}.branch_id = {p}"));
            }
            ClientScope::Nobody => return false,
        }
        true
    }
}

const USER_COLS: &str =
    "user_id, username, display_name, role, advisor_id, branch_id, can_view_pii, active, password_hash, created_at";

fn user_from(r: &Row) -> StoreResult<User> {
    Ok(User {
        user_id: get(r, 0)?,
        username: get(r, 1)?,
        display_name: get(r, 2)?,
        role: get(r, 3)?,
        advisor_id: get(r, 4)?,
        branch_id: get(r, 5)?,
        can_view_pii: get(r, 6)?,
        active: get(r, 7)?,
        password_hash: get(r, 8)?,
        created_at: get(r, 9)?,
    })
}

const SESSION_COLS: &str = "token_hash, user_id, csrf_token, created_at, expires_at";

fn session_from(r: &Row) -> StoreResult<Session> {
    Ok(Session {
        token_hash: get(r, 0)?,
        user_id: get(r, 1)?,
        csrf_token: get(r, 2)?,
        created_at: get(r, 3)?,
        expires_at: get(r, 4)?,
    })
}

const LINK_COLS: &str = "token_hash, purpose, client_id, questionnaire_id, created_by, created_at, expires_at, used_at";

fn link_from(r: &Row) -> StoreResult<OneTimeLink> {
    Ok(OneTimeLink {
        token_hash: get(r, 0)?,
        purpose: get(r, 1)?,
        client_id: get(r, 2)?,
        questionnaire_id: get(r, 3)?,
        created_by: get(r, 4)?,
        created_at: get(r, 5)?,
        expires_at: get(r, 6)?,
        used_at: get(r, 7)?,
    })
}

/// A check (`ch`) with its sale (`s`, absent when not recorded).
const CHECK_COLS: &str = "ch.check_id, ch.client_id, ch.product_id, ch.at, ch.verdict, ch.rule_pack, ch.rule_version,
     ch.actor, ch.payload, s.sale_id, s.client_id, s.product_id, s.amount, s.recorded_by, s.recorded_at,
     s.confirmed_by, s.confirmed_at, s.confirmation_channel, s.recording_ref";

/// The checks with their sales. The sale is probed per check (LIMIT 1: a
/// check has at most one), so a page walks the checks newest first and
/// stops at its last row: as a plain join the planner multiplies the two
/// keys' selectivities, expects no confirmed sale at all and hashes every
/// check (126 ms against 16 ms for `confirmed_only` at 300,000 checks). The
/// probe is on client_id too, which keeps it on one shard on Citus (both
/// tables are distributed by client_id).
const CHECK_FROM: &str = "suitability_checks ch LEFT JOIN LATERAL (
         SELECT * FROM sales s WHERE s.client_id = ch.client_id AND s.check_id = ch.check_id LIMIT 1
     ) s ON true";

fn check_from(r: &Row) -> StoreResult<CheckRow> {
    let at: LocalDateTime = get(r, 3)?;
    let sale_id: Option<i64> = get(r, 9)?;
    let sale = match sale_id {
        None => None,
        Some(sale_id) => {
            let recorded_at: LocalDateTime = get(r, 14)?;
            let confirmed_by: Option<String> = get(r, 15)?;
            let confirmed_at: Option<LocalDateTime> = get(r, 16)?;
            let confirmation = match (confirmed_by, confirmed_at) {
                (Some(confirmed_by), Some(confirmed_at)) => Some(Confirmation {
                    confirmed_by,
                    confirmed_at: format_timestamp(&confirmed_at),
                    channel: get::<Option<String>>(r, 17)?.unwrap_or_default(),
                    recording_ref: get(r, 18)?,
                }),
                _ => None,
            };
            Some(Sale {
                sale_id,
                check_id: get(r, 0)?,
                client_id: get(r, 10)?,
                product_id: get(r, 11)?,
                amount: get(r, 12)?,
                recorded_by: get(r, 13)?,
                recorded_at: format_timestamp(&recorded_at),
                confirmation,
            })
        }
    };
    Ok(CheckRow {
        check_id: get(r, 0)?,
        client_id: get(r, 1)?,
        product_id: get(r, 2)?,
        at: format_timestamp(&at),
        verdict: get(r, 4)?,
        rule_pack: get(r, 5)?,
        rule_version: get(r, 6)?,
        actor: get(r, 7)?,
        payload: get(r, 8)?,
        sale,
    })
}

const AUDIT_COLS: &str = "seq, at, actor, action, subject, payload, prev_hash, hash";

fn audit_from(r: &Row) -> StoreResult<AuditEvent> {
    Ok(AuditEvent {
        seq: get(r, 0)?,
        at: get(r, 1)?,
        actor: get(r, 2)?,
        action: get(r, 3)?,
        subject: get(r, 4)?,
        payload: get(r, 5)?,
        prev_hash: get(r, 6)?,
        hash: get(r, 7)?,
    })
}

/// One row of the client list: `clients c` and, with a run, `classifications k`.
fn client_row(r: &Row) -> StoreResult<ClientRow> {
    Ok(ClientRow {
        client_id: get(r, 0)?,
        name: get(r, 1)?,
        branch_id: get(r, 2)?,
        advisor_id: get(r, 3)?,
        aum: get(r, 4)?,
        asset_tier: get(r, 5)?,
        segment: get(r, 6)?,
        risk_level: get(r, 7)?,
        behaviour_risk: get(r, 8)?,
        lifecycle: get(r, 9)?,
        assessment_status: get(r, 10)?,
        churn_risk: get(r, 11)?,
    })
}

const COUNT_COLS: &str = "branch_id, advisor_id, asset_tier, segment, prev_asset_tier, prev_segment, clients";

fn count_from(r: &Row) -> StoreResult<RunCount> {
    Ok(RunCount {
        branch_id: get(r, 0)?,
        advisor_id: get(r, 1)?,
        asset_tier: get(r, 2)?,
        segment: get(r, 3)?,
        prev_asset_tier: get(r, 4)?,
        prev_segment: get(r, 5)?,
        clients: get(r, 6)?,
    })
}

/// The results of a run, as a table of one-row upserts (the run writer's
/// COPY columns and encoding).
const CLASSIFICATIONS: codec::Table = codec::Table {
    name: "classifications",
    cols: codec::CLASSIFICATIONS,
    key: &["run_id", "client_id"],
    dedupe: &["run_id", "client_id"],
};

/// A count group of a run: run_id, branch_id, advisor_id, asset_tier,
/// segment, prev_asset_tier, prev_segment.
type CountGroup<'a> = (i64, Option<&'a str>, Option<&'a str>, &'a str, &'a str, Option<&'a str>, Option<&'a str>);

/// Counts one client more (`up`) or one less in a run's count group,
/// removing the group at 0 (the caller holds the counts lock, so the group
/// has at most one row).
fn adjust_count(tx: &mut Transaction, g: CountGroup, up: bool) -> StoreResult<()> {
    let mut w = Query::default();
    let run = w.bind(g.0);
    w.cond(format!("run_id = {run}"));
    // `col = $n` or `col IS NULL`: both walk the index (IS NOT DISTINCT FROM does not)
    let cols = [
        ("branch_id", g.1),
        ("advisor_id", g.2),
        ("asset_tier", Some(g.3)),
        ("segment", Some(g.4)),
        ("prev_asset_tier", g.5),
        ("prev_segment", g.6),
    ];
    for (col, v) in cols {
        match v {
            Some(v) => {
                let p = w.bind(v.to_string());
                w.cond(format!("{col} = {p}"));
            }
            None => w.cond(format!("{col} IS NULL")),
        }
    }
    let key = w.where_clause();
    let sign = if up { '+' } else { '-' };
    let n = tx.execute(&format!("UPDATE run_counts SET clients = clients {sign} 1{key}"), &w.params()).map_err(db)?;
    if up && n == 0 {
        tx.execute(
            "INSERT INTO run_counts (run_id, branch_id, advisor_id, asset_tier, segment, prev_asset_tier, prev_segment, clients)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 1)",
            &[&g.0, &g.1, &g.2, &g.3, &g.4, &g.5, &g.6],
        )
        .map_err(db)?;
    }
    if !up {
        tx.execute(&format!("DELETE FROM run_counts{key} AND clients <= 0"), &w.params()).map_err(db)?;
    }
    Ok(())
}

impl DeskStore for PostgresStore {
    fn users(&self) -> StoreResult<Vec<User>> {
        let rows =
            self.connect()?.query(&format!("SELECT {USER_COLS} FROM users ORDER BY user_id"), &[]).map_err(db)?;
        rows.iter().map(user_from).collect()
    }

    fn user(&self, user_id: i64) -> StoreResult<Option<User>> {
        let row = self
            .connect()?
            .query_opt(&format!("SELECT {USER_COLS} FROM users WHERE user_id = $1"), &[&user_id])
            .map_err(db)?;
        row.as_ref().map(user_from).transpose()
    }

    fn user_by_name(&self, username: &str) -> StoreResult<Option<User>> {
        let row = self
            .connect()?
            .query_opt(&format!("SELECT {USER_COLS} FROM users WHERE username = $1"), &[&username])
            .map_err(db)?;
        row.as_ref().map(user_from).transpose()
    }

    fn create_user(&self, u: &User, a: &AuditEntry) -> StoreResult<i64> {
        self.write(|tx| {
            let r = tx
                .query_one(
                    "INSERT INTO users (username, display_name, role, advisor_id, branch_id, can_view_pii, active, password_hash, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING user_id",
                    &[&u.username, &u.display_name, &u.role, &u.advisor_id, &u.branch_id, &u.can_view_pii, &u.active, &u.password_hash, &u.created_at],
                )
                .map_err(|e| conflict(e, || format!("the username {:?} is taken", u.username)))?;
            let id: i64 = get(&r, 0)?;
            audit(tx, a)?;
            Ok(id)
        })
    }

    fn update_user(&self, u: &User, a: &AuditEntry) -> StoreResult<()> {
        self.write(|tx| {
            let n = tx
                .execute(
                    "UPDATE users SET display_name = $2, role = $3, advisor_id = $4, branch_id = $5, can_view_pii = $6,
                                      active = $7, password_hash = $8
                     WHERE user_id = $1",
                    &[
                        &u.user_id,
                        &u.display_name,
                        &u.role,
                        &u.advisor_id,
                        &u.branch_id,
                        &u.can_view_pii,
                        &u.active,
                        &u.password_hash,
                    ],
                )
                .map_err(db)?;
            if n == 0 {
                return Err(StoreError::Aborted(format!("there is no user {} to update", u.user_id)));
            }
            audit(tx, a)?;
            Ok(())
        })
    }

    fn create_session(&self, s: &Session) -> StoreResult<()> {
        self.connect()?
            .execute(
                &format!("INSERT INTO sessions ({SESSION_COLS}) VALUES ($1, $2, $3, $4, $5)"),
                &[&s.token_hash, &s.user_id, &s.csrf_token, &s.created_at, &s.expires_at],
            )
            .map_err(|e| conflict(e, || "a session with this token exists".into()))?;
        Ok(())
    }

    fn session(&self, token_hash: &str) -> StoreResult<Option<Session>> {
        let row = self
            .connect()?
            .query_opt(&format!("SELECT {SESSION_COLS} FROM sessions WHERE token_hash = $1"), &[&token_hash])
            .map_err(db)?;
        row.as_ref().map(session_from).transpose()
    }

    fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        self.connect()?.execute("DELETE FROM sessions WHERE token_hash = $1", &[&token_hash]).map_err(db)?;
        Ok(())
    }

    fn delete_expired_sessions(&self, now: i64) -> StoreResult<u64> {
        self.connect()?.execute("DELETE FROM sessions WHERE expires_at <= $1", &[&now]).map_err(db)
    }

    fn create_link(&self, l: &OneTimeLink, a: &AuditEntry) -> StoreResult<()> {
        self.write(|tx| {
            tx.execute(
                &format!("INSERT INTO one_time_links ({LINK_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"),
                &[
                    &l.token_hash,
                    &l.purpose,
                    &l.client_id,
                    &l.questionnaire_id,
                    &l.created_by,
                    &l.created_at,
                    &l.expires_at,
                    &l.used_at,
                ],
            )
            .map_err(|e| conflict(e, || "a link with this token exists".into()))?;
            audit(tx, a)?;
            Ok(())
        })
    }

    fn link(&self, token_hash: &str) -> StoreResult<Option<OneTimeLink>> {
        let row = self
            .connect()?
            .query_opt(&format!("SELECT {LINK_COLS} FROM one_time_links WHERE token_hash = $1"), &[&token_hash])
            .map_err(db)?;
        row.as_ref().map(link_from).transpose()
    }

    fn record_assessment(&self, a: &Assessment, link: Option<&str>, now: i64, e: &AuditEntry) -> StoreResult<bool> {
        let mut c = self.connect()?;
        let mut tx = c.transaction().map_err(db)?;
        if let Some(h) = link {
            let used = tx
                .execute(
                    "UPDATE one_time_links SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1",
                    &[&now, &h],
                )
                .map_err(db)?;
            if used == 0 {
                // unknown, used or expired: nothing stored
                tx.rollback().map_err(db)?;
                return Ok(false);
            }
        }
        codec::assessment_params(a, |p| tx.execute(&codec::ASSESSMENTS.upsert_one_sql(), p)).map_err(db)?;
        audit(&mut tx, e)?;
        tx.commit().map_err(db)?;
        Ok(true)
    }

    fn add_interaction(&self, i: &Interaction, a: &AuditEntry) -> StoreResult<()> {
        self.write(|tx| {
            codec::interaction_params(i, |p| tx.execute(&codec::INTERACTIONS.upsert_one_sql(), p)).map_err(db)?;
            audit(tx, a)?;
            Ok(())
        })
    }

    fn put_product(&self, p: &Product, a: &AuditEntry) -> StoreResult<()> {
        self.write(|tx| {
            codec::product_params(p, |v| tx.execute(&codec::PRODUCTS.upsert_one_sql(), v)).map_err(db)?;
            audit(tx, a)?;
            Ok(())
        })
    }

    fn reclassify(&self, run_id: i64, c: &Classification, a: &AuditEntry) -> StoreResult<()> {
        self.write(|tx| {
            // the run's counts change only under this lock (see run_counts)
            tx.batch_execute(&lock_sql("counts")).map_err(db)?;
            let old = tx
                .query_opt(
                    "SELECT k.asset_tier, k.segment, k.prev_asset_tier, k.prev_segment, cl.branch_id, cl.advisor_id
                     FROM classifications k LEFT JOIN clients cl ON cl.client_id = k.client_id
                     WHERE k.run_id = $1 AND k.client_id = $2",
                    &[&run_id, &c.client_id],
                )
                .map_err(db)?;
            let Some(old) = old else {
                return Err(StoreError::Aborted(format!("client {} has no result in run {run_id}", c.client_id)));
            };
            let (old_tier, old_segment): (String, String) = (get(&old, 0)?, get(&old, 1)?);
            let prev: Option<(String, String)> = match (get(&old, 2)?, get(&old, 3)?) {
                (Some(t), Some(s)) => Some((t, s)),
                _ => None,
            };
            let (branch, advisor): (Option<String>, Option<String>) = (get(&old, 4)?, get(&old, 5)?);
            // the row as the run writer encodes it, with its previous values
            // kept (its decile is a row of value_deciles, left alone)
            codec::classification_params(run_id, c, prev.as_ref(), |p| {
                tx.execute(&CLASSIFICATIONS.upsert_one_sql(), p)
            })
            .map_err(db)?;
            tx.execute(
                "UPDATE explanations SET explanation = $3 WHERE run_id = $1 AND client_id = $2",
                &[&run_id, &c.client_id, &c.explanation.stored()],
            )
            .map_err(db)?;
            let counted =
                tx.query_opt("SELECT 1 FROM run_counts_done WHERE run_id = $1", &[&run_id]).map_err(db)?.is_some();
            if counted && (old_tier != c.asset_tier || old_segment != c.segment) {
                let (b, a) = (branch.as_deref(), advisor.as_deref());
                let (pt, ps) = (prev.as_ref().map(|p| p.0.as_str()), prev.as_ref().map(|p| p.1.as_str()));
                adjust_count(tx, (run_id, b, a, &old_tier, &old_segment, pt, ps), false)?;
                adjust_count(tx, (run_id, b, a, &c.asset_tier, &c.segment, pt, ps), true)?;
            }
            audit(tx, a)?;
            Ok(())
        })
    }

    fn list_clients(&self, q: &ClientQuery) -> StoreResult<Vec<ClientRow>> {
        let mut w = Query::default();
        if !w.scope(&q.scope, "c") {
            return Ok(Vec::new());
        }
        let class_filters = [
            ("asset_tier", &q.asset_tier),
            ("segment", &q.segment),
            ("risk_level", &q.risk_level),
            ("lifecycle", &q.lifecycle),
            ("assessment_status", &q.assessment_status),
            ("churn_risk", &q.churn_risk),
        ];
        let filtered = q.above_tolerance || class_filters.iter().any(|f| f.1.is_some());
        let from = match q.run_id {
            // a classification filter without a run matches nothing
            None if filtered => return Ok(Vec::new()),
            None => "SELECT c.client_id, c.name, c.branch_id, c.advisor_id, NULL::numeric, NULL::text, NULL::text,
                            NULL::text, NULL::text, NULL::text, NULL::text, NULL::text
                     FROM clients c"
                .to_string(),
            Some(run_id) => {
                let run = w.bind(run_id);
                format!(
                    "SELECT c.client_id, c.name, c.branch_id, c.advisor_id, k.aum, k.asset_tier, k.segment,
                            k.risk_level, k.behaviour_risk, k.lifecycle, k.assessment_status, k.churn_risk
                     FROM clients c LEFT JOIN classifications k ON k.run_id = {run} AND k.client_id = c.client_id"
                )
            }
        };
        for (col, v) in class_filters {
            if let Some(v) = v {
                let p = w.bind(v.clone());
                w.cond(format!("k.{col} = {p}"));
            }
        }
        if q.above_tolerance {
            // C1…C5 against R1…R5; "" (no assessment, nothing held) is never above
            w.cond(
                "k.behaviour_risk <> '' AND k.risk_level <> '' AND substr(k.behaviour_risk, 2) > substr(k.risk_level, 2)"
                    .into(),
            );
        }
        if let Some(a) = &q.advisor_id {
            let p = w.bind(a.clone());
            w.cond(format!("c.advisor_id = {p}"));
        }
        if let Some(b) = &q.branch_id {
            let p = w.bind(b.clone());
            w.cond(format!("c.branch_id = {p}"));
        }
        if let Some(s) = q.search.as_deref().filter(|s| !s.is_empty()) {
            let p = w.bind(s.to_string());
            let name = w.prefix("(c.name COLLATE \"C\")", s);
            w.cond(format!("(c.client_id = {p} OR c.phone = {p} OR {name})"));
        }
        if let Some(after) = &q.after {
            let p = w.bind(after.clone());
            w.cond(format!("c.client_id > {p}"));
        }
        let limit = w.bind(page_size(q.limit));
        let sql = format!("{from}{} ORDER BY c.client_id LIMIT {limit}", w.where_clause());
        let rows = self.connect()?.query(&sql, &w.params()).map_err(db)?;
        rows.iter().map(client_row).collect()
    }

    fn client_in_scope(&self, client_id: &str, scope: &ClientScope) -> StoreResult<bool> {
        let mut w = Query::default();
        if !w.scope(scope, "c") {
            return Ok(false);
        }
        let p = w.bind(client_id.to_string());
        w.cond(format!("c.client_id = {p}"));
        let sql = format!("SELECT EXISTS (SELECT 1 FROM clients c{})", w.where_clause());
        get(&self.connect()?.query_one(&sql, &w.params()).map_err(db)?, 0)
    }

    fn client_history(&self, client_id: &str) -> StoreResult<Vec<(RunInfo, StoredClassification)>> {
        // one probe of the (run_id, client_id) key per run
        let run_cols = RUN_COLS.split(", ").map(|c| format!("r.{c}")).collect::<Vec<_>>().join(", ");
        let rows = self
            .connect()?
            .query(
                &format!(
                    "SELECT {}, {run_cols}
                     FROM classification_runs r JOIN classifications k ON k.run_id = r.run_id AND k.client_id = $1
                     LEFT JOIN value_deciles d ON d.run_id = k.run_id AND d.client_id = k.client_id
                     WHERE r.finished_at IS NOT NULL
                     ORDER BY r.run_id DESC",
                    scan::STORED_COLS
                ),
                &[&client_id],
            )
            .map_err(db)?;
        rows.iter().map(|r| Ok((run_info_at(r, scan::STORED_COL_COUNT)?, scan::stored_classification(r)?))).collect()
    }

    fn client_assessments(&self, client_id: &str) -> StoreResult<Vec<Assessment>> {
        let rows = self
            .connect()?
            .query(
                &format!("{} WHERE client_id = $1 ORDER BY assessed_at DESC", scan::ASSESSMENT_WITH_ANSWERS_SQL),
                &[&client_id],
            )
            .map_err(db)?;
        rows.iter()
            .map(|r| {
                let a = scan::assessment(r)?;
                Ok(Assessment {
                    client_id: get(r, 0)?,
                    questionnaire_id: a.questionnaire_id,
                    assessed_at: a.assessed_at,
                    channel: a.channel,
                    answers: get(r, 10)?,
                    result: a.result,
                })
            })
            .collect()
    }

    fn client_interactions(&self, client_id: &str, limit: u32) -> StoreResult<Vec<Interaction>> {
        let rows = self
            .connect()?
            .query(
                &format!(
                    "SELECT {} FROM interactions WHERE client_id = $1 ORDER BY at DESC, channel DESC LIMIT $2",
                    codec::INTERACTIONS.col_list()
                ),
                &[&client_id, &page_size(limit)],
            )
            .map_err(db)?;
        rows.iter()
            .map(|r| {
                Ok(Interaction {
                    client_id: get(r, 0)?,
                    at: get(r, 1)?,
                    channel: codec::en(InteractionChannel::parse, get(r, 2)?)?,
                    advisor_id: get(r, 3)?,
                    topic: get(r, 4)?,
                    outcome: get(r, 5)?,
                })
            })
            .collect()
    }

    fn run_counts(&self, run_id: i64) -> StoreResult<Vec<RunCount>> {
        let select = format!("SELECT {COUNT_COLS} FROM run_counts WHERE run_id = $1");
        {
            let mut c = self.connect()?;
            let mut tx = crate::scan::read_snapshot(&mut c)?;
            let done =
                tx.query_opt("SELECT 1 FROM run_counts_done WHERE run_id = $1", &[&run_id]).map_err(db)?.is_some();
            if done {
                let rows = tx.query(&select, &[&run_id]).map_err(db)?;
                tx.commit().map_err(db)?;
                return rows.iter().map(count_from).collect();
            }
        }
        // first call for the run: computed once, under the counts lock (a
        // second first caller waits for it and finds the run counted)
        self.write(|tx| {
            tx.batch_execute(&lock_sql("counts")).map_err(db)?;
            let done =
                tx.query_opt("SELECT 1 FROM run_counts_done WHERE run_id = $1", &[&run_id]).map_err(db)?.is_some();
            if !done {
                let known = tx
                    .query_opt(
                        "SELECT 1 FROM classification_runs WHERE run_id = $1 AND finished_at IS NOT NULL",
                        &[&run_id],
                    )
                    .map_err(db)?
                    .is_some();
                if !known {
                    // nothing to count, and nothing kept for a run id a later run may take
                    return Ok(Vec::new());
                }
                tx.execute(
                    "INSERT INTO run_counts (run_id, branch_id, advisor_id, asset_tier, segment, prev_asset_tier, prev_segment, clients)
                     SELECT k.run_id, c.branch_id, c.advisor_id, k.asset_tier, k.segment, k.prev_asset_tier, k.prev_segment, count(*)
                     FROM classifications k LEFT JOIN clients c ON c.client_id = k.client_id
                     WHERE k.run_id = $1
                     GROUP BY k.run_id, c.branch_id, c.advisor_id, k.asset_tier, k.segment, k.prev_asset_tier, k.prev_segment",
                    &[&run_id],
                )
                .map_err(db)?;
                tx.execute("INSERT INTO run_counts_done (run_id) VALUES ($1)", &[&run_id]).map_err(db)?;
            }
            let rows = tx.query(&select, &[&run_id]).map_err(db)?;
            rows.iter().map(count_from).collect()
        })
    }

    fn checks(&self, q: &CheckQuery) -> StoreResult<Vec<CheckRow>> {
        let mut w = Query::default();
        if !w.scope(&q.scope, "c") {
            return Ok(Vec::new());
        }
        let scoped = q.scope != ClientScope::All;
        if let Some(id) = &q.client_id {
            let p = w.bind(id.clone());
            w.cond(format!("ch.client_id = {p}"));
        }
        if let Some(v) = &q.verdict {
            let p = w.bind(v.clone());
            w.cond(format!("ch.verdict = {p}"));
        }
        if q.confirmed_only {
            w.cond("s.confirmed_by IS NOT NULL".into());
        }
        if let Some(b) = q.before {
            let p = w.bind(b);
            w.cond(format!("ch.check_id < {p}"));
        }
        let limit = w.bind(page_size(q.limit));
        let join = if scoped { " JOIN clients c ON c.client_id = ch.client_id" } else { "" };
        let sql = format!(
            "SELECT {CHECK_COLS} FROM {CHECK_FROM}{join}{} ORDER BY ch.check_id DESC LIMIT {limit}",
            w.where_clause()
        );
        let rows = self.connect()?.query(&sql, &w.params()).map_err(db)?;
        rows.iter().map(check_from).collect()
    }

    fn check(&self, check_id: i64) -> StoreResult<Option<CheckRow>> {
        let row = self
            .connect()?
            .query_opt(&format!("SELECT {CHECK_COLS} FROM {CHECK_FROM} WHERE ch.check_id = $1"), &[&check_id])
            .map_err(db)?;
        row.as_ref().map(check_from).transpose()
    }

    fn record_sale(&self, s: &Sale, a: &AuditEntry) -> StoreResult<i64> {
        let recorded_at = local_time("time of a sale", &s.recorded_at)?;
        let confirmed_at =
            s.confirmation.as_ref().map(|c| local_time("time of a confirmation", &c.confirmed_at)).transpose()?;
        self.write(|tx| {
            // the sale is the check's client's (on Citus the one-per-check
            // key is (client_id, check_id): this keeps it one per check)
            let check = tx
                .query_opt("SELECT client_id FROM suitability_checks WHERE check_id = $1", &[&s.check_id])
                .map_err(db)?;
            match check {
                None => return Err(StoreError::Aborted(format!("there is no check {}", s.check_id))),
                Some(r) if get::<&str>(&r, 0)? != s.client_id => {
                    return Err(StoreError::Aborted(format!("check {} is not for client {}", s.check_id, s.client_id)))
                }
                Some(_) => {}
            }
            let conf = s.confirmation.as_ref();
            let r = tx
                .query_one(
                    "INSERT INTO sales (check_id, client_id, product_id, amount, recorded_by, recorded_at,
                                        confirmed_by, confirmed_at, confirmation_channel, recording_ref)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING sale_id",
                    &[
                        &s.check_id,
                        &s.client_id,
                        &s.product_id,
                        &s.amount,
                        &s.recorded_by,
                        &recorded_at,
                        &conf.map(|c| c.confirmed_by.as_str()),
                        &confirmed_at,
                        &conf.map(|c| c.channel.as_str()),
                        &conf.and_then(|c| c.recording_ref.as_deref()),
                    ],
                )
                .map_err(|e| conflict(e, || format!("check {} already has a sale", s.check_id)))?;
            let id: i64 = get(&r, 0)?;
            audit(tx, a)?;
            Ok(id)
        })
    }

    fn audit_events(&self, q: &AuditQuery) -> StoreResult<Vec<AuditEvent>> {
        let mut w = Query::default();
        for (col, v) in [("actor", &q.actor), ("subject", &q.subject)] {
            if let Some(v) = v {
                let p = w.bind(v.clone());
                w.cond(format!("{col} = {p}"));
            }
        }
        if let Some(a) = q.action.as_deref().filter(|a| !a.is_empty()) {
            let c = w.prefix("action", a);
            w.cond(c);
        }
        if let Some(from) = &q.from {
            let p = w.bind(from.clone());
            w.cond(format!("at >= {p}"));
        }
        if let Some(to) = &q.to {
            let p = w.bind(to.clone());
            w.cond(format!("at < {p}"));
        }
        if let Some(b) = q.before {
            let p = w.bind(b);
            w.cond(format!("seq < {p}"));
        }
        let limit = w.bind(page_size(q.limit));
        let sql = format!("SELECT {AUDIT_COLS} FROM audit_events{} ORDER BY seq DESC LIMIT {limit}", w.where_clause());
        let rows = self.connect()?.query(&sql, &w.params()).map_err(db)?;
        rows.iter().map(audit_from).collect()
    }

    fn scan_audit(&self, f: &mut dyn FnMut(&AuditEvent) -> StoreResult<()>) -> StoreResult<()> {
        let mut c = self.connect()?;
        let mut tx = crate::scan::read_snapshot(&mut c)?;
        let mut rows = Fetcher::open_fetching(
            &mut tx,
            &format!("SELECT {AUDIT_COLS} FROM audit_events ORDER BY seq"),
            &[],
            AUDIT_FETCH,
        )?;
        while let Some(r) = rows.next(&mut tx)? {
            f(&audit_from(&r)?)?;
        }
        tx.commit().map_err(db)
    }

    fn audit_head(&self) -> StoreResult<Option<(i64, String)>> {
        let row = self.connect()?.query_opt("SELECT seq, hash FROM audit_head", &[]).map_err(db)?;
        match row {
            None => Ok(None),
            Some(r) => {
                let seq: i64 = get(&r, 0)?;
                Ok((seq > 0).then_some((seq, get(&r, 1)?)))
            }
        }
    }
}
