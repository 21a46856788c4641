//! The desk's storage (see `tierwise_store::desk`): staff, sessions, links,
//! the client list and 360, sales and the hash-chained audit trail.
//!
//! Every write runs in one `BEGIN IMMEDIATE` transaction with its audit event
//! (`append_audit`), so SQLite's single writer also serialises the chain.

use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, ErrorCode, OptionalExtension, Row};
use tierwise_classify::Classification;
use tierwise_domain::{
    parse_varieties, Assessment, AssessmentResult, Channel, Goal, Interaction, InteractionChannel, Product, RiskLevel,
};
use tierwise_store::{
    audit_hash, AuditEntry, AuditEvent, AuditQuery, CheckQuery, CheckRow, ClientQuery, ClientRow, ClientScope,
    Confirmation, DeskStore, ImportSink, OneTimeLink, RunCount, RunInfo, Sale, Session, StoreError, StoreResult,
    StoredClassification, User, GENESIS_HASH,
};

use crate::codec::{self, corrupt, en, opt_dec, opt_en, ts};
use crate::CachedQuery;
use crate::{append_audit, db, run_info_at, scan, Sink, SqliteStore};

/// Rows per page when `limit` is 0, and the most a page may hold.
const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 1000;

fn page(limit: u32) -> i64 {
    i64::from(if limit == 0 { DEFAULT_PAGE } else { limit.min(MAX_PAGE) })
}

/// Whether a write was refused by a UNIQUE or PRIMARY KEY constraint.
fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.code == ErrorCode::ConstraintViolation
            && (f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY))
}

/// Whether another connection holds the write lock.
fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.code == ErrorCode::DatabaseBusy || f.code == ErrorCode::DatabaseLocked)
}

fn audit(c: &Connection, a: &AuditEntry) -> StoreResult<i64> {
    append_audit(c, &a.actor, &a.action, &a.subject, &a.payload)
}

/// The smallest string greater than every string starting with `prefix`
/// (None: there is none), so `x >= prefix AND x < end` is a prefix match
/// that walks an index — and has no wildcards.
fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let mut next = u32::from(last) + 1;
        if (0xD800..0xE000).contains(&next) {
            next = 0xE000;
        }
        if let Some(c) = char::from_u32(next) {
            chars.push(c);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// `AND`-ed conditions of a scope on `clients c`; None for `Nobody`.
fn scope_clause(scope: &ClientScope, wh: &mut Vec<String>, p: &mut Vec<Value>) -> Option<()> {
    scope_on(scope, "c.advisor_id", "c.branch_id", wh, p)
}

/// `AND`-ed conditions of a scope on the given advisor and branch columns;
/// None for `Nobody`.
pub(crate) fn scope_on(
    scope: &ClientScope,
    advisor_col: &str,
    branch_col: &str,
    wh: &mut Vec<String>,
    p: &mut Vec<Value>,
) -> Option<()> {
    match scope {
        ClientScope::All => {}
        ClientScope::Advisor(a) => {
            wh.push(format!("{advisor_col} = ?"));
            p.push(Value::Text(a.clone()));
        }
        ClientScope::Branch(b) => {
            wh.push(format!("{branch_col} = ?"));
            p.push(Value::Text(b.clone()));
        }
        ClientScope::Nobody => return None,
    }
    Some(())
}

pub(crate) fn where_sql(wh: &[String]) -> String {
    if wh.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", wh.join(" AND "))
    }
}

// ------------------------------------------------------------------ migration

/// Version 2: chains the events a version-1 database holds, in seq order,
/// fills the head, and re-creates the trigger that refuses updates (the
/// migration dropped it to let this run). Inside the migration transaction.
pub(crate) fn chain_existing_audit(c: &Connection) -> StoreResult<()> {
    let mut prev = GENESIS_HASH.to_string();
    let mut last = 0i64;
    {
        let mut sel = c
            .prepare_cached(
                "SELECT seq, at, actor, action, subject, payload FROM audit_events
                 WHERE seq > ?1 ORDER BY seq LIMIT 10000",
            )
            .map_err(db)?;
        let mut upd =
            c.prepare_cached("UPDATE audit_events SET prev_hash = ?1, hash = ?2 WHERE seq = ?3").map_err(db)?;
        loop {
            type Event = (i64, String, String, String, String, String);
            let page: Vec<Event> = sel
                .query_map([last], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
                .map_err(db)?
                .collect::<Result<_, _>>()
                .map_err(db)?;
            if page.is_empty() {
                break;
            }
            for (seq, at, actor, action, subject, payload) in page {
                let hash = audit_hash(&prev, seq, &at, &actor, &action, &subject, &payload);
                upd.execute(params![prev, hash, seq]).map_err(db)?;
                prev = hash;
                last = seq;
            }
        }
    }
    if last > 0 {
        c.execute("INSERT INTO audit_head (id, seq, hash) VALUES (1, ?1, ?2)", params![last, prev]).map_err(db)?;
    }
    c.execute_batch(
        "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
         BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;",
    )
    .map_err(db)
}

// ------------------------------------------------------------------ rows

const USER_COLS: &str =
    "user_id, username, display_name, role, advisor_id, branch_id, can_view_pii, active, password_hash, created_at";

fn user_from(r: &Row) -> rusqlite::Result<User> {
    Ok(User {
        user_id: r.get(0)?,
        username: r.get(1)?,
        display_name: r.get(2)?,
        role: r.get(3)?,
        advisor_id: r.get(4)?,
        branch_id: r.get(5)?,
        can_view_pii: r.get(6)?,
        active: r.get(7)?,
        password_hash: r.get(8)?,
        created_at: r.get(9)?,
    })
}

const LINK_COLS: &str = "token_hash, purpose, client_id, questionnaire_id, created_by, created_at, expires_at, used_at";

fn link_from(r: &Row) -> rusqlite::Result<OneTimeLink> {
    Ok(OneTimeLink {
        token_hash: r.get(0)?,
        purpose: r.get(1)?,
        client_id: r.get(2)?,
        questionnaire_id: r.get(3)?,
        created_by: r.get(4)?,
        created_at: r.get(5)?,
        expires_at: r.get(6)?,
        used_at: r.get(7)?,
    })
}

const ASSESSMENT_COLS: &str = "client_id, questionnaire_id, assessed_at, channel, answers, score, risk_level, lowest, horizon_months, varieties, goal";

fn assessment_from(r: &Row) -> StoreResult<Assessment> {
    let s = |i: usize| -> StoreResult<String> { r.get::<_, String>(i).map_err(db) };
    let varieties: Option<String> = r.get(9).map_err(db)?;
    Ok(Assessment {
        client_id: s(0)?,
        questionnaire_id: s(1)?,
        assessed_at: ts(&s(2)?)?,
        channel: en(Channel::parse, &s(3)?)?,
        answers: r.get(4).map_err(db)?,
        result: AssessmentResult {
            level: en(RiskLevel::parse, &s(6)?)?,
            lowest: r.get(7).map_err(db)?,
            score: r.get(5).map_err(db)?,
            horizon_months: r.get(8).map_err(db)?,
            varieties: varieties.map(|v| parse_varieties(&v).map_err(|_| corrupt("varieties", &v))).transpose()?,
            goal: opt_en(Goal::parse, r.get(10).map_err(db)?)?,
        },
    })
}

fn interaction_from(r: &Row) -> StoreResult<Interaction> {
    Ok(Interaction {
        client_id: r.get(0).map_err(db)?,
        advisor_id: r.get(1).map_err(db)?,
        at: ts(&r.get::<_, String>(2).map_err(db)?)?,
        channel: en(InteractionChannel::parse, &r.get::<_, String>(3).map_err(db)?)?,
        topic: r.get(4).map_err(db)?,
        outcome: r.get(5).map_err(db)?,
    })
}

const CHECK_COLS: &str =
    "s.check_id, s.client_id, s.product_id, s.at, s.verdict, s.rule_pack, s.rule_version, s.actor, s.payload,
    sa.sale_id, sa.check_id, sa.client_id, sa.product_id, sa.amount, sa.recorded_by, sa.recorded_at,
    sa.confirmed_by, sa.confirmed_at, sa.confirmation_channel, sa.recording_ref";

fn check_from(r: &Row) -> StoreResult<CheckRow> {
    let g = |i: usize| -> StoreResult<String> { r.get::<_, String>(i).map_err(db) };
    let o = |i: usize| -> StoreResult<Option<String>> { r.get::<_, Option<String>>(i).map_err(db) };
    let sale = match r.get::<_, Option<i64>>(9).map_err(db)? {
        None => None,
        Some(sale_id) => Some(Sale {
            sale_id,
            check_id: r.get(10).map_err(db)?,
            client_id: g(11)?,
            product_id: g(12)?,
            amount: opt_dec(o(13)?)?.ok_or_else(|| corrupt("sale amount", ""))?,
            recorded_by: g(14)?,
            recorded_at: g(15)?,
            confirmation: match o(16)? {
                None => None,
                Some(confirmed_by) => Some(Confirmation {
                    confirmed_by,
                    confirmed_at: o(17)?.unwrap_or_default(),
                    channel: o(18)?.unwrap_or_default(),
                    recording_ref: o(19)?,
                }),
            },
        }),
    };
    Ok(CheckRow {
        check_id: r.get(0).map_err(db)?,
        client_id: g(1)?,
        product_id: g(2)?,
        at: g(3)?,
        verdict: g(4)?,
        rule_pack: g(5)?,
        rule_version: g(6)?,
        actor: g(7)?,
        payload: g(8)?,
        sale,
    })
}

const AUDIT_COLS: &str = "seq, at, actor, action, subject, payload, prev_hash, hash";

fn audit_from(r: &Row) -> rusqlite::Result<AuditEvent> {
    Ok(AuditEvent {
        seq: r.get(0)?,
        at: r.get(1)?,
        actor: r.get(2)?,
        action: r.get(3)?,
        subject: r.get(4)?,
        payload: r.get(5)?,
        prev_hash: r.get::<_, Option<String>>(6)?.unwrap_or_default(),
        hash: r.get::<_, Option<String>>(7)?.unwrap_or_default(),
    })
}

fn count_from(r: &Row) -> rusqlite::Result<RunCount> {
    Ok(RunCount {
        branch_id: r.get(0)?,
        advisor_id: r.get(1)?,
        asset_tier: r.get(2)?,
        segment: r.get(3)?,
        prev_asset_tier: r.get(4)?,
        prev_segment: r.get(5)?,
        clients: r.get(6)?,
    })
}

/// A run's counts computed from its rows (what `run_counts` caches).
const COUNTS_SELECT: &str =
    "SELECT c.branch_id, c.advisor_id, k.asset_tier, k.segment, k.prev_asset_tier, k.prev_segment, count(*)
    FROM classifications k LEFT JOIN clients c ON c.client_id = k.client_id
    WHERE k.run_id = ?1
    GROUP BY c.branch_id, c.advisor_id, k.asset_tier, k.segment, k.prev_asset_tier, k.prev_segment";

fn counts_done(c: &Connection, run_id: i64) -> StoreResult<bool> {
    c.query_row_cached("SELECT 1 FROM run_counts_done WHERE run_id = ?1", [run_id], |_| Ok(()))
        .optional()
        .map(|o| o.is_some())
        .map_err(db)
}

/// Adds `delta` clients to one group of a run's cached counts (rows at 0 go).
#[allow(clippy::too_many_arguments)]
fn adjust_count(
    c: &Connection,
    run_id: i64,
    branch: &Option<String>,
    advisor: &Option<String>,
    tier: &str,
    segment: &str,
    prev_tier: &Option<String>,
    prev_segment: &Option<String>,
    delta: i64,
) -> StoreResult<()> {
    let n = c
        .prepare_cached(
            "UPDATE run_counts SET clients = clients + ?1
             WHERE run_id = ?2 AND branch_id IS ?3 AND advisor_id IS ?4 AND asset_tier = ?5 AND segment = ?6
               AND prev_asset_tier IS ?7 AND prev_segment IS ?8",
        )
        .and_then(|mut s| s.execute(params![delta, run_id, branch, advisor, tier, segment, prev_tier, prev_segment]))
        .map_err(db)?;
    if n == 0 && delta > 0 {
        c.prepare_cached(
            "INSERT INTO run_counts (run_id, branch_id, advisor_id, asset_tier, segment, prev_asset_tier, prev_segment, clients)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .and_then(|mut s| s.execute(params![run_id, branch, advisor, tier, segment, prev_tier, prev_segment, delta]))
        .map_err(db)?;
    }
    if delta < 0 {
        c.execute("DELETE FROM run_counts WHERE run_id = ?1 AND clients <= 0", [run_id]).map_err(db)?;
    }
    Ok(())
}

impl SqliteStore {
    /// Computes and keeps a run's counts once. Waits briefly for the write
    /// lock; Ok(false) when another writer (a classification run) holds it.
    fn compute_run_counts(&self, run_id: i64) -> StoreResult<bool> {
        // its own connection: the short busy timeout must not go back to the pool
        let c = self.open_connection()?;
        c.busy_timeout(std::time::Duration::from_secs(2)).map_err(db)?;
        if let Err(e) = c.execute_batch("BEGIN IMMEDIATE") {
            return if is_busy(&e) { Ok(false) } else { Err(db(e)) };
        }
        let res = (|| {
            if counts_done(&c, run_id)? {
                return Ok(());
            }
            let finished: Option<String> = c
                .query_row_cached("SELECT finished_at FROM classification_runs WHERE run_id = ?1", [run_id], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(db)?;
            if finished.is_none_or(|f| f.is_empty()) {
                return Ok(());
            }
            c.execute(
                &format!(
                    "INSERT INTO run_counts (branch_id, advisor_id, asset_tier, segment, prev_asset_tier, prev_segment, clients, run_id)
                     SELECT *, ?1 FROM ({COUNTS_SELECT})"
                ),
                [run_id],
            )
            .map_err(db)?;
            c.execute("INSERT INTO run_counts_done (run_id) VALUES (?1)", [run_id]).map_err(db)?;
            Ok(())
        })();
        match res {
            Ok(()) => {
                c.execute_batch("COMMIT").map_err(db)?;
                Ok(true)
            }
            Err(e) => {
                let _ = c.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }
}

impl DeskStore for SqliteStore {
    fn users(&self) -> StoreResult<Vec<User>> {
        let c = self.connect()?;
        let mut st = c.prepare_cached(&format!("SELECT {USER_COLS} FROM users ORDER BY user_id")).map_err(db)?;
        let rows = st.query_map([], user_from).map_err(db)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db)
    }

    fn user(&self, user_id: i64) -> StoreResult<Option<User>> {
        let c = self.connect()?;
        c.query_row_cached(&format!("SELECT {USER_COLS} FROM users WHERE user_id = ?1"), [user_id], user_from)
            .optional()
            .map_err(db)
    }

    fn user_by_name(&self, username: &str) -> StoreResult<Option<User>> {
        let c = self.connect()?;
        c.query_row_cached(&format!("SELECT {USER_COLS} FROM users WHERE username = ?1"), [username], user_from)
            .optional()
            .map_err(db)
    }

    fn create_user(&self, user: &User, a: &AuditEntry) -> StoreResult<i64> {
        self.write(|c| {
            c.execute(
                "INSERT INTO users (username, display_name, role, advisor_id, branch_id, can_view_pii, active, password_hash, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    user.username,
                    user.display_name,
                    user.role,
                    user.advisor_id,
                    user.branch_id,
                    user.can_view_pii,
                    user.active,
                    user.password_hash,
                    user.created_at
                ],
            )
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::Conflict(format!("username {:?} is taken", user.username))
                } else {
                    db(e)
                }
            })?;
            let id = c.last_insert_rowid();
            audit(c, a)?;
            Ok(id)
        })
    }

    fn update_user(&self, user: &User, a: &AuditEntry) -> StoreResult<()> {
        self.write(|c| {
            let n = c
                .execute(
                    "UPDATE users SET display_name = ?1, role = ?2, advisor_id = ?3, branch_id = ?4, can_view_pii = ?5,
                     active = ?6, password_hash = ?7 WHERE user_id = ?8",
                    params![
                        user.display_name,
                        user.role,
                        user.advisor_id,
                        user.branch_id,
                        user.can_view_pii,
                        user.active,
                        user.password_hash,
                        user.user_id
                    ],
                )
                .map_err(db)?;
            if n == 0 {
                return Err(StoreError::Database(format!("there is no user {}", user.user_id)));
            }
            audit(c, a)?;
            Ok(())
        })
    }

    fn create_session(&self, s: &Session) -> StoreResult<()> {
        let c = self.connect()?;
        c.execute(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![s.token_hash, s.user_id, s.csrf_token, s.created_at, s.expires_at],
        )
        .map_err(db)?;
        Ok(())
    }

    fn session(&self, token_hash: &str) -> StoreResult<Option<Session>> {
        let c = self.connect()?;
        c.query_row_cached(
            "SELECT token_hash, user_id, csrf_token, created_at, expires_at FROM sessions WHERE token_hash = ?1",
            [token_hash],
            |r| {
                Ok(Session {
                    token_hash: r.get(0)?,
                    user_id: r.get(1)?,
                    csrf_token: r.get(2)?,
                    created_at: r.get(3)?,
                    expires_at: r.get(4)?,
                })
            },
        )
        .optional()
        .map_err(db)
    }

    fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        let c = self.connect()?;
        c.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash]).map_err(db)?;
        Ok(())
    }

    fn delete_expired_sessions(&self, now: i64) -> StoreResult<u64> {
        let c = self.connect()?;
        let n = c.execute("DELETE FROM sessions WHERE expires_at <= ?1", [now]).map_err(db)?;
        Ok(n as u64)
    }

    fn create_link(&self, link: &OneTimeLink, a: &AuditEntry) -> StoreResult<()> {
        self.write(|c| {
            c.execute(
                &format!("INSERT INTO one_time_links ({LINK_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
                params![
                    link.token_hash,
                    link.purpose,
                    link.client_id,
                    link.questionnaire_id,
                    link.created_by,
                    link.created_at,
                    link.expires_at,
                    link.used_at
                ],
            )
            .map_err(db)?;
            audit(c, a)?;
            Ok(())
        })
    }

    fn link(&self, token_hash: &str) -> StoreResult<Option<OneTimeLink>> {
        let c = self.connect()?;
        c.query_row_cached(
            &format!("SELECT {LINK_COLS} FROM one_time_links WHERE token_hash = ?1"),
            [token_hash],
            link_from,
        )
        .optional()
        .map_err(db)
    }

    fn record_assessment(&self, x: &Assessment, link: Option<&str>, now: i64, a: &AuditEntry) -> StoreResult<bool> {
        self.write(|c| {
            if let Some(h) = link {
                let n = c
                    .execute(
                        "UPDATE one_time_links SET used_at = ?1
                         WHERE token_hash = ?2 AND used_at IS NULL AND expires_at > ?1",
                        params![now, h],
                    )
                    .map_err(db)?;
                if n == 0 {
                    return Ok(false);
                }
            }
            Sink { c }.put_assessments(std::slice::from_ref(x))?;
            audit(c, a)?;
            Ok(true)
        })
    }

    fn add_interaction(&self, i: &Interaction, a: &AuditEntry) -> StoreResult<()> {
        self.write(|c| {
            Sink { c }.put_interactions(std::slice::from_ref(i))?;
            audit(c, a)?;
            Ok(())
        })
    }

    fn put_product(&self, p: &Product, a: &AuditEntry) -> StoreResult<()> {
        self.write(|c| {
            Sink { c }.put_products(std::slice::from_ref(p))?;
            audit(c, a)?;
            Ok(())
        })
    }

    fn reclassify(&self, run_id: i64, k: &Classification, a: &AuditEntry) -> StoreResult<()> {
        self.write(|c| {
            type Old = (String, String, Option<String>, Option<String>);
            let old: Option<Old> = c
                .query_row_cached(
                    "SELECT asset_tier, segment, prev_asset_tier, prev_segment FROM classifications
                     WHERE run_id = ?1 AND client_id = ?2",
                    params![run_id, k.client_id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()
                .map_err(db)?;
            let Some((old_tier, old_segment, prev_tier, prev_segment)) = old else {
                return Err(StoreError::Database(format!("client {} has no result in run {run_id}", k.client_id)));
            };
            let prev = match (&prev_tier, &prev_segment) {
                (Some(t), Some(s)) => Some((t.clone(), s.clone())),
                _ => None,
            };
            // the row and its explanation, written as the run writer writes them
            c.execute("DELETE FROM classifications WHERE run_id = ?1 AND client_id = ?2", params![run_id, k.client_id])
                .map_err(db)?;
            let mut values = Vec::with_capacity(codec::CLASSIFICATION_COLUMNS);
            codec::classification_values(run_id, k, prev.as_ref(), &mut values);
            c.prepare_cached(&codec::multi_insert(codec::CLASSIFICATION_HEAD, codec::CLASSIFICATION_COLUMNS, 1))
                .and_then(|mut s| s.execute(params_from_iter(values.iter())))
                .map_err(db)?;
            c.execute("DELETE FROM explanations WHERE run_id = ?1 AND client_id = ?2", params![run_id, k.client_id])
                .map_err(db)?;
            c.prepare_cached(&codec::multi_insert(codec::EXPLANATION_HEAD, 3, 1))
                .and_then(|mut s| s.execute(params![run_id, k.client_id, k.explanation.stored()]))
                .map_err(db)?;
            // the cached counts follow
            if counts_done(c, run_id)? {
                let (branch, advisor): (Option<String>, Option<String>) = c
                    .query_row_cached(
                        "SELECT branch_id, advisor_id FROM clients WHERE client_id = ?1",
                        [&k.client_id],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()
                    .map_err(db)?
                    .unwrap_or_default();
                let (t, s) = (&prev_tier, &prev_segment);
                adjust_count(c, run_id, &branch, &advisor, &old_tier, &old_segment, t, s, -1)?;
                adjust_count(c, run_id, &branch, &advisor, &k.asset_tier, &k.segment, t, s, 1)?;
            }
            audit(c, a)?;
            Ok(())
        })
    }

    /// One indexed walk in client-id order from the keyset, never a count or
    /// an OFFSET: without classification filters, through the clients (by
    /// primary key, or the advisor/branch index for a scope), the page chosen
    /// before its results are looked up; with them, through the scope's
    /// clients looking up each result, or — over the whole book — through
    /// the run's results looking up each client.
    fn list_clients(&self, q: &ClientQuery) -> StoreResult<Vec<ClientRow>> {
        let class_filters: [(&str, &Option<String>); 6] = [
            ("asset_tier", &q.asset_tier),
            ("segment", &q.segment),
            ("risk_level", &q.risk_level),
            ("lifecycle", &q.lifecycle),
            ("assessment_status", &q.assessment_status),
            ("churn_risk", &q.churn_risk),
        ];
        let class_filter = q.above_tolerance || class_filters.iter().any(|(_, v)| v.is_some());
        if class_filter && q.run_id.is_none() {
            return Ok(Vec::new());
        }
        let run = q.run_id.map(Value::Integer).unwrap_or(Value::Null);
        let limit = Value::Integer(page(q.limit));
        // conditions on the client (cw) and on its result (kw)
        let (mut cw, mut cp): (Vec<String>, Vec<Value>) = (Vec::new(), Vec::new());
        let (mut kw, mut kp): (Vec<String>, Vec<Value>) = (Vec::new(), Vec::new());
        if scope_clause(&q.scope, &mut cw, &mut cp).is_none() {
            return Ok(Vec::new());
        }
        for (col, v) in [("c.advisor_id", &q.advisor_id), ("c.branch_id", &q.branch_id)] {
            if let Some(v) = v {
                cw.push(format!("{col} = ?"));
                cp.push(Value::Text(v.clone()));
            }
        }
        if let Some(s) = &q.search {
            let text = || Value::Text(s.clone());
            cp.extend([text(), text(), text()]);
            let name = match prefix_end(s) {
                Some(end) => {
                    cp.push(Value::Text(end));
                    "c.name >= ? AND c.name < ?"
                }
                None => "c.name >= ?",
            };
            cw.push(format!("(c.client_id = ? OR c.phone = ? OR ({name}))"));
        }
        for (col, v) in class_filters {
            if let Some(v) = v {
                kw.push(format!("k.{col} = ?"));
                kp.push(Value::Text(v.clone()));
            }
        }
        if q.above_tolerance {
            kw.push(
                "k.behaviour_risk <> '' AND k.risk_level <> ''
                 AND CAST(substr(k.behaviour_risk, 2) AS INTEGER) > CAST(substr(k.risk_level, 2) AS INTEGER)"
                    .into(),
            );
        }
        const ROW: &str =
            "c.client_id, c.name, c.branch_id, c.advisor_id, k.aum, k.asset_tier, k.segment, k.risk_level,
                           k.behaviour_risk, k.lifecycle, k.assessment_status, k.churn_risk";
        let restricted = !cw.is_empty();
        let (sql, p): (String, Vec<Value>) = if !class_filter {
            if let Some(after) = &q.after {
                cw.push("c.client_id > ?".into());
                cp.push(Value::Text(after.clone()));
            }
            let mut p = cp;
            p.extend([limit, run]);
            let sql = format!(
                "SELECT {ROW} FROM (SELECT client_id, name, branch_id, advisor_id FROM clients c{}
                                    ORDER BY client_id LIMIT ?) c
                 LEFT JOIN classifications k ON k.run_id = ? AND k.client_id = c.client_id
                 ORDER BY c.client_id",
                where_sql(&cw)
            );
            (sql, p)
        } else if restricted {
            if let Some(after) = &q.after {
                cw.push("c.client_id > ?".into());
                cp.push(Value::Text(after.clone()));
            }
            let mut p = vec![run];
            p.extend(cp);
            p.extend(kp);
            p.push(limit);
            cw.extend(kw);
            let sql = format!(
                "SELECT {ROW} FROM clients c JOIN classifications k ON k.run_id = ? AND k.client_id = c.client_id{}
                 ORDER BY c.client_id LIMIT ?",
                where_sql(&cw)
            );
            (sql, p)
        } else {
            kw.insert(0, "k.run_id = ?".into());
            if let Some(after) = &q.after {
                kw.push("k.client_id > ?".into());
                kp.push(Value::Text(after.clone()));
            }
            let mut p = vec![run];
            p.extend(kp);
            p.push(limit);
            let sql = format!(
                "SELECT {ROW} FROM classifications k CROSS JOIN clients c ON c.client_id = k.client_id{}
                 ORDER BY k.client_id LIMIT ?",
                where_sql(&kw)
            );
            (sql, p)
        };
        let c = self.connect()?;
        let mut st = c.prepare_cached(&sql).map_err(db)?;
        let mut rows = st.query(params_from_iter(p.iter())).map_err(db)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(db)? {
            let o = |i: usize| -> StoreResult<Option<String>> { r.get::<_, Option<String>>(i).map_err(db) };
            out.push(ClientRow {
                client_id: r.get(0).map_err(db)?,
                name: o(1)?,
                branch_id: o(2)?,
                advisor_id: o(3)?,
                aum: opt_dec(o(4)?)?,
                asset_tier: o(5)?,
                segment: o(6)?,
                risk_level: o(7)?,
                behaviour_risk: o(8)?,
                lifecycle: o(9)?,
                assessment_status: o(10)?,
                churn_risk: o(11)?,
            });
        }
        Ok(out)
    }

    fn client_in_scope(&self, client_id: &str, scope: &ClientScope) -> StoreResult<bool> {
        let mut wh = vec!["c.client_id = ?".to_string()];
        let mut p = vec![Value::Text(client_id.to_string())];
        if scope_clause(scope, &mut wh, &mut p).is_none() {
            return Ok(false);
        }
        let c = self.connect()?;
        c.query_row_cached(
            &format!("SELECT 1 FROM clients c{}", where_sql(&wh)),
            params_from_iter(p.iter()),
            |_| Ok(()),
        )
        .optional()
        .map(|o| o.is_some())
        .map_err(db)
    }

    /// One primary-key lookup per run (runs are few; results are keyed by run first).
    fn client_history(&self, client_id: &str) -> StoreResult<Vec<(RunInfo, StoredClassification)>> {
        let c = self.connect()?;
        let mut st = c
            .prepare_cached(&format!(
                "SELECT {}, r.run_id, r.as_of, r.rule_pack, r.rule_version, r.started_at, r.finished_at, r.clients
                 FROM classification_runs r CROSS JOIN classifications k ON k.run_id = r.run_id AND k.client_id = ?1
                 LEFT JOIN value_deciles d ON d.run_id = k.run_id AND d.client_id = k.client_id
                 WHERE r.finished_at <> ''
                 ORDER BY r.run_id DESC",
                scan::STORED_COLS
            ))
            .map_err(db)?;
        let mut rows = st.query([client_id]).map_err(db)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(db)? {
            let run = run_info_at(r, scan::STORED_COLUMNS).map_err(db)?;
            out.push((run, scan::stored_from(r)?));
        }
        Ok(out)
    }

    fn client_assessments(&self, client_id: &str) -> StoreResult<Vec<Assessment>> {
        let c = self.connect()?;
        let mut st = c
            .prepare_cached(&format!(
                "SELECT {ASSESSMENT_COLS} FROM assessments WHERE client_id = ?1 ORDER BY assessed_at DESC"
            ))
            .map_err(db)?;
        let mut rows = st.query([client_id]).map_err(db)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(db)? {
            out.push(assessment_from(r)?);
        }
        Ok(out)
    }

    fn client_interactions(&self, client_id: &str, limit: u32) -> StoreResult<Vec<Interaction>> {
        let c = self.connect()?;
        let mut st = c
            .prepare_cached(
                "SELECT client_id, advisor_id, at, channel, topic, outcome FROM interactions
                 WHERE client_id = ?1 ORDER BY at DESC, channel LIMIT ?2",
            )
            .map_err(db)?;
        let mut rows = st.query(params![client_id, page(limit)]).map_err(db)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(db)? {
            out.push(interaction_from(r)?);
        }
        Ok(out)
    }

    fn run_counts(&self, run_id: i64) -> StoreResult<Vec<RunCount>> {
        let cached = counts_done(&*self.connect()?, run_id)? || self.compute_run_counts(run_id)?;
        let c = self.connect()?;
        let sql = if cached {
            "SELECT branch_id, advisor_id, asset_tier, segment, prev_asset_tier, prev_segment, clients
             FROM run_counts WHERE run_id = ?1"
                .to_string()
        } else {
            // a classification run holds the write lock: count without keeping
            COUNTS_SELECT.to_string()
        };
        let mut st = c.prepare_cached(&sql).map_err(db)?;
        let rows = st.query_map([run_id], count_from).map_err(db)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db)
    }

    /// Newest first, walking an index backwards from the keyset: the sales
    /// for confirmed sales only (they are few), a client's checks, a verdict's
    /// checks, or all checks (looking up each client for a branch — a large
    /// share of the book); an advisor's few clients are gathered first.
    fn checks(&self, q: &CheckQuery) -> StoreResult<Vec<CheckRow>> {
        let mut wh: Vec<String> = Vec::new();
        let mut p: Vec<Value> = Vec::new();
        if scope_clause(&q.scope, &mut wh, &mut p).is_none() {
            return Ok(Vec::new());
        }
        let sales_first = q.confirmed_only && q.client_id.is_none();
        let clients = match q.scope {
            ClientScope::All | ClientScope::Nobody => "",
            ClientScope::Advisor(_) if !sales_first => " JOIN clients c ON c.client_id = s.client_id",
            _ => " CROSS JOIN clients c ON c.client_id = s.client_id",
        };
        let (from, key) = if sales_first {
            (format!("sales sa CROSS JOIN suitability_checks s ON s.check_id = sa.check_id{clients}"), "sa.check_id")
        } else {
            (format!("suitability_checks s{clients} LEFT JOIN sales sa ON sa.check_id = s.check_id"), "s.check_id")
        };
        if let Some(id) = &q.client_id {
            wh.push("s.client_id = ?".into());
            p.push(Value::Text(id.clone()));
        }
        if let Some(v) = &q.verdict {
            wh.push("s.verdict = ?".into());
            p.push(Value::Text(v.clone()));
        }
        if q.confirmed_only {
            wh.push("sa.confirmed_by IS NOT NULL".into());
        }
        if let Some(b) = q.before {
            wh.push(format!("{key} < ?"));
            p.push(Value::Integer(b));
        }
        p.push(Value::Integer(page(q.limit)));
        let sql = format!("SELECT {CHECK_COLS} FROM {from}{} ORDER BY {key} DESC LIMIT ?", where_sql(&wh));
        let c = self.connect()?;
        let mut st = c.prepare_cached(&sql).map_err(db)?;
        let mut rows = st.query(params_from_iter(p.iter())).map_err(db)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(db)? {
            out.push(check_from(r)?);
        }
        Ok(out)
    }

    fn check(&self, check_id: i64) -> StoreResult<Option<CheckRow>> {
        let c = self.connect()?;
        let mut st = c
            .prepare_cached(&format!(
                "SELECT {CHECK_COLS} FROM suitability_checks s LEFT JOIN sales sa ON sa.check_id = s.check_id
                 WHERE s.check_id = ?1"
            ))
            .map_err(db)?;
        let mut rows = st.query([check_id]).map_err(db)?;
        match rows.next().map_err(db)? {
            Some(r) => Ok(Some(check_from(r)?)),
            None => Ok(None),
        }
    }

    fn record_sale(&self, sale: &Sale, a: &AuditEntry) -> StoreResult<i64> {
        self.write(|c| {
            let exists = c
                .query_row_cached("SELECT 1 FROM suitability_checks WHERE check_id = ?1", [sale.check_id], |_| Ok(()))
                .optional()
                .map_err(db)?;
            if exists.is_none() {
                return Err(StoreError::Database(format!("there is no suitability check {}", sale.check_id)));
            }
            let conf = sale.confirmation.as_ref();
            c.execute(
                "INSERT INTO sales (check_id, client_id, product_id, amount, recorded_by, recorded_at,
                                    confirmed_by, confirmed_at, confirmation_channel, recording_ref)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    sale.check_id,
                    sale.client_id,
                    sale.product_id,
                    sale.amount.to_string(),
                    sale.recorded_by,
                    sale.recorded_at,
                    conf.map(|x| &x.confirmed_by),
                    conf.map(|x| &x.confirmed_at),
                    conf.map(|x| &x.channel),
                    conf.and_then(|x| x.recording_ref.as_ref()),
                ],
            )
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::Conflict(format!("check {} already has a sale", sale.check_id))
                } else {
                    db(e)
                }
            })?;
            let id = c.last_insert_rowid();
            audit(c, a)?;
            Ok(id)
        })
    }

    /// Newest first. An action prefix is expanded to the actions it matches
    /// (a few index seeks), and each action walks its (action, seq) index
    /// newest first; the walks are merged. Exact actor or subject filters walk
    /// their own indexes the same way.
    fn audit_events(&self, q: &AuditQuery) -> StoreResult<Vec<AuditEvent>> {
        let c = self.connect()?;
        let limit = page(q.limit);
        let actions = match &q.action {
            None => None,
            Some(prefix) => {
                let found = matching_actions(&c, prefix)?;
                if found.is_empty() {
                    return Ok(Vec::new());
                }
                Some(found)
            }
        };
        let mut wh: Vec<String> = Vec::new();
        let mut p: Vec<Value> = Vec::new();
        for (col, v) in [("actor = ?", &q.actor), ("subject = ?", &q.subject), ("at >= ?", &q.from), ("at < ?", &q.to)]
        {
            if let Some(v) = v {
                wh.push(col.into());
                p.push(Value::Text(v.clone()));
            }
        }
        if let Some(b) = q.before {
            wh.push("seq < ?".into());
            p.push(Value::Integer(b));
        }
        let (sql, params): (String, Vec<Value>) = match actions {
            None => {
                let mut params = p;
                params.push(Value::Integer(limit));
                (format!("SELECT {AUDIT_COLS} FROM audit_events{} ORDER BY seq DESC LIMIT ?", where_sql(&wh)), params)
            }
            Some(actions) => {
                let mut arms = Vec::new();
                let mut params = Vec::new();
                let mut arm_wh = vec!["action = ?".to_string()];
                arm_wh.extend(wh.iter().cloned());
                for action in actions {
                    arms.push(format!(
                        "SELECT * FROM (SELECT {AUDIT_COLS} FROM audit_events{} ORDER BY seq DESC LIMIT ?)",
                        where_sql(&arm_wh)
                    ));
                    params.push(Value::Text(action));
                    params.extend(p.iter().cloned());
                    params.push(Value::Integer(limit));
                }
                params.push(Value::Integer(limit));
                (format!("{} ORDER BY seq DESC LIMIT ?", arms.join(" UNION ALL ")), params)
            }
        };
        let mut st = c.prepare_cached(&sql).map_err(db)?;
        let rows = st.query_map(params_from_iter(params.iter()), audit_from).map_err(db)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db)
    }

    fn scan_audit(&self, f: &mut dyn FnMut(&AuditEvent) -> StoreResult<()>) -> StoreResult<()> {
        let c = self.connect()?;
        c.execute_batch("BEGIN DEFERRED").map_err(db)?;
        let res = (|| {
            let mut st =
                c.prepare_cached(&format!("SELECT {AUDIT_COLS} FROM audit_events ORDER BY seq")).map_err(db)?;
            let mut rows = st.query([]).map_err(db)?;
            while let Some(r) = rows.next().map_err(db)? {
                f(&audit_from(r).map_err(db)?)?;
            }
            Ok(())
        })();
        let _ = c.execute_batch("COMMIT");
        res
    }

    fn audit_head(&self) -> StoreResult<Option<(i64, String)>> {
        let c = self.connect()?;
        c.query_row_cached("SELECT seq, hash FROM audit_head WHERE id = 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(db)
    }
}

/// The distinct actions starting with `prefix`, found by seeking the action
/// index once per action (at most 1000).
fn matching_actions(c: &Connection, prefix: &str) -> StoreResult<Vec<String>> {
    let end = prefix_end(prefix);
    // the upper bound must be part of the index range, or a miss walks on to the end
    let mut st = c
        .prepare_cached(if end.is_some() {
            "SELECT action FROM audit_events WHERE action > ?1 AND action < ?2 ORDER BY action LIMIT 1"
        } else {
            "SELECT action FROM audit_events WHERE action > ?1 ORDER BY action LIMIT 1"
        })
        .map_err(db)?;
    let mut out: Vec<String> = Vec::new();
    // the prefix itself, then every action after it within the range
    let exact = c
        .query_row_cached("SELECT 1 FROM audit_events WHERE action = ?1 LIMIT 1", [prefix], |_| Ok(()))
        .optional()
        .map_err(db)?;
    if exact.is_some() {
        out.push(prefix.to_string());
    }
    let mut last = prefix.to_string();
    while out.len() < 1000 {
        let next: Option<String> = match &end {
            Some(end) => st.query_row(params![last, end], |r| r.get(0)),
            None => st.query_row(params![last], |r| r.get(0)),
        }
        .optional()
        .map_err(db)?;
        match next {
            Some(a) if a.starts_with(prefix) => {
                last.clone_from(&a);
                out.push(a);
            }
            _ => break,
        }
    }
    Ok(out)
}
