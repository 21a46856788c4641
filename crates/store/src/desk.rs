//! What the desk (the web application) reads and writes beside the book and
//! the runs: staff accounts and sessions, one-time links for clients, the
//! client list and the client 360, sales with the client's confirmation, and
//! the audit trail with its hash chain.
//!
//! Every write that a person makes carries its [`AuditEntry`], which the
//! backend appends to the audit trail in the same transaction: the change and
//! its audit event are stored together or not at all.
//!
//! Times: `at`-style strings are local timestamps as formatted by
//! `tierwise_domain::dates::format_timestamp`; session and link expiries are
//! Unix seconds (UTC), compared by the application.

use crate::{RunInfo, StoreResult, StoredClassification};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};
use tierwise_classify::Classification;
use tierwise_domain::{Assessment, Interaction, Product};

/// An audit event to append with a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub actor: String,
    pub action: String,
    pub subject: String,
    /// JSON
    pub payload: String,
}

impl AuditEntry {
    pub fn new(actor: &str, action: &str, subject: &str, payload: impl Into<String>) -> AuditEntry {
        AuditEntry { actor: actor.into(), action: action.into(), subject: subject.into(), payload: payload.into() }
    }
}

/// One stored audit event. `hash` = [`audit_hash`] of its fields and the
/// previous event's hash (`prev_hash`; 64 zeros for the first event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// 1, 2, 3 … without gaps
    pub seq: i64,
    /// RFC 3339 with the server's offset (`2026-11-23T16:00:00.123+08:00`)
    pub at: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub payload: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash of the first event's predecessor.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// SHA-256 (hex) over the previous hash and the event's fields, each
/// length-prefixed so no two different events hash alike.
pub fn audit_hash(
    prev_hash: &str,
    seq: i64,
    at: &str,
    actor: &str,
    action: &str,
    subject: &str,
    payload: &str,
) -> String {
    let mut h = Sha256::new();
    let seq = seq.to_string();
    for part in [prev_hash, seq.as_str(), at, actor, action, subject, payload] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    let digest = h.finalize();
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// The outcome of verifying the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditVerification {
    pub events: i64,
    /// the last event's hash (anchor it outside the database to detect truncation)
    pub head: String,
    /// the first broken event and why; None = the chain is intact
    pub broken: Option<(i64, String)>,
}

/// Walks the trail in order up to the head the writer recorded (read
/// first, so events appended meanwhile do not count): sequence without
/// gaps, each event chained to the previous one, each hash recomputed, and
/// the head reached.
pub fn verify_audit(store: &dyn DeskStore) -> StoreResult<AuditVerification> {
    let head = store.audit_head()?;
    // without a head row, every stored event is checked (and any is a break)
    let last = head.as_ref().map_or(i64::MAX, |(seq, _)| *seq);
    let mut expected_seq = 1i64;
    let mut prev = GENESIS_HASH.to_string();
    let mut broken: Option<(i64, String)> = None;
    store.scan_audit(&mut |e| {
        if broken.is_some() || e.seq > last {
            return Ok(());
        }
        if e.seq != expected_seq {
            broken = Some((expected_seq, format!("event {expected_seq} is missing (next stored is {})", e.seq)));
            return Ok(());
        }
        if e.prev_hash != prev {
            broken = Some((e.seq, "does not chain to the event before it".into()));
            return Ok(());
        }
        let h = audit_hash(&e.prev_hash, e.seq, &e.at, &e.actor, &e.action, &e.subject, &e.payload);
        if h != e.hash {
            broken = Some((e.seq, "its content was changed after it was written".into()));
            return Ok(());
        }
        prev = e.hash.clone();
        expected_seq += 1;
        Ok(())
    })?;
    let events = expected_seq - 1;
    if broken.is_none() {
        if head.is_none() && events > 0 {
            broken = Some((events, "the record of the newest event (the head) is missing".into()));
        }
        if let Some((seq, hash)) = &head {
            if *seq != events {
                broken = Some((events + 1, format!("the trail ends at event {events} but event {seq} was written")));
            } else if *hash != prev {
                broken = Some((events, "the newest event is not the one the writer recorded".into()));
            }
        }
    }
    Ok(AuditVerification { events, head: prev, broken })
}

/// A member of staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// 0 for a user not yet stored
    pub user_id: i64,
    /// unique
    pub username: String,
    pub display_name: String,
    /// advisor | team_lead | compliance | operations | admin
    pub role: String,
    /// the advisor record this user is (advisors see their own book)
    pub advisor_id: Option<String>,
    /// the branch a team lead leads
    pub branch_id: Option<String>,
    /// may read unmasked ID numbers, phones and emails
    pub can_view_pii: bool,
    pub active: bool,
    /// argon2 PHC string
    pub password_hash: String,
    /// UTC, RFC 3339
    pub created_at: String,
}

/// A server-side session; the cookie holds the token, the store its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub token_hash: String,
    pub user_id: i64,
    pub csrf_token: String,
    /// Unix seconds
    pub created_at: i64,
    /// Unix seconds
    pub expires_at: i64,
}

/// A one-time link for a client (the questionnaire sent by the advisor).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneTimeLink {
    /// SHA-256 of the token in the URL
    pub token_hash: String,
    /// `questionnaire`
    pub purpose: String,
    pub client_id: String,
    pub questionnaire_id: String,
    pub created_by: String,
    /// Unix seconds
    pub created_at: i64,
    /// Unix seconds
    pub expires_at: i64,
    /// Unix seconds; Some once used
    pub used_at: Option<i64>,
}

/// Which clients a person may see (enforced by the application, applied by
/// the store to every query).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ClientScope {
    #[default]
    All,
    /// clients whose advisor is this advisor id
    Advisor(String),
    /// clients of this branch
    Branch(String),
    /// nobody (a role without client access)
    Nobody,
}

impl ClientScope {
    /// Whether a row assigned to this advisor and branch is inside the scope.
    pub fn admits(&self, advisor_id: Option<&str>, branch_id: Option<&str>) -> bool {
        match self {
            ClientScope::All => true,
            ClientScope::Advisor(a) => advisor_id == Some(a.as_str()),
            ClientScope::Branch(b) => branch_id == Some(b.as_str()),
            ClientScope::Nobody => false,
        }
    }
}

/// A page of the client list. Filters combine with AND; classification
/// filters apply to `run_id` (None: no run, classification columns absent
/// and classification filters match nothing).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientQuery {
    pub scope: ClientScope,
    pub run_id: Option<i64>,
    pub asset_tier: Option<String>,
    pub segment: Option<String>,
    pub risk_level: Option<String>,
    pub lifecycle: Option<String>,
    pub assessment_status: Option<String>,
    pub churn_risk: Option<String>,
    pub advisor_id: Option<String>,
    pub branch_id: Option<String>,
    /// behaviour_risk above risk_level (holdings above tolerance)
    pub above_tolerance: bool,
    /// exact client id, exact phone, or name prefix
    pub search: Option<String>,
    /// keyset: only client ids greater than this
    pub after: Option<String>,
    /// at most this many rows (the backend caps it at 1000)
    pub limit: u32,
}

/// One row of the client list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRow {
    pub client_id: String,
    pub name: Option<String>,
    pub branch_id: Option<String>,
    pub advisor_id: Option<String>,
    /// None when the client has no result in the run
    pub aum: Option<Decimal>,
    pub asset_tier: Option<String>,
    pub segment: Option<String>,
    pub risk_level: Option<String>,
    pub behaviour_risk: Option<String>,
    pub lifecycle: Option<String>,
    pub assessment_status: Option<String>,
    pub churn_risk: Option<String>,
}

/// Counts of a run grouped for dashboards: sum the rows a scope may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunCount {
    pub branch_id: Option<String>,
    pub advisor_id: Option<String>,
    pub asset_tier: String,
    pub segment: String,
    pub prev_asset_tier: Option<String>,
    pub prev_segment: Option<String>,
    pub clients: i64,
}

/// The client's confirmation that turns a warned check into a sale
/// (风险不匹配警示确认: who, when, how, and the 双录 recording).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    /// the client's name as they confirmed
    pub confirmed_by: String,
    /// local time
    pub confirmed_at: String,
    /// branch | online
    pub channel: String,
    /// the dual-recording reference (双录编号), where one was made
    pub recording_ref: Option<String>,
}

/// A sale recorded after a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sale {
    pub sale_id: i64,
    pub check_id: i64,
    pub client_id: String,
    pub product_id: String,
    pub amount: Decimal,
    pub recorded_by: String,
    /// local time
    pub recorded_at: String,
    /// required when the check warned
    pub confirmation: Option<Confirmation>,
}

/// A stored check with its sale, if one was recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRow {
    pub check_id: i64,
    pub client_id: String,
    pub product_id: String,
    /// local time of the check
    pub at: String,
    pub verdict: String,
    pub rule_pack: String,
    pub rule_version: String,
    pub actor: String,
    /// the check's input and output (JSON)
    pub payload: String,
    pub sale: Option<Sale>,
}

/// A page of checks, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckQuery {
    pub scope: ClientScope,
    pub client_id: Option<String>,
    /// match | warn | prohibited
    pub verdict: Option<String>,
    /// only checks turned into a sale with the client's confirmation
    pub confirmed_only: bool,
    /// keyset: only check ids smaller than this
    pub before: Option<i64>,
    pub limit: u32,
}

/// A page of the audit trail, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub actor: Option<String>,
    /// prefix: `suitability.` matches every suitability action
    pub action: Option<String>,
    pub subject: Option<String>,
    /// RFC 3339 bounds compared as text (inclusive from, exclusive to)
    pub from: Option<String>,
    pub to: Option<String>,
    /// keyset: only seq smaller than this
    pub before: Option<i64>,
    pub limit: u32,
}

/// The desk's storage. Backends implement it beside [`crate::Store`].
pub trait DeskStore: Send + Sync {
    // staff
    fn users(&self) -> StoreResult<Vec<User>>;
    fn user(&self, user_id: i64) -> StoreResult<Option<User>>;
    fn user_by_name(&self, username: &str) -> StoreResult<Option<User>>;
    /// Inserts a new user (user_id 0) and returns its id;
    /// `StoreError::Conflict` when the username is taken.
    fn create_user(&self, user: &User, audit: &AuditEntry) -> StoreResult<i64>;
    /// Updates every field but username and created_at.
    fn update_user(&self, user: &User, audit: &AuditEntry) -> StoreResult<()>;

    // sessions
    fn create_session(&self, s: &Session) -> StoreResult<()>;
    fn session(&self, token_hash: &str) -> StoreResult<Option<Session>>;
    fn delete_session(&self, token_hash: &str) -> StoreResult<()>;
    /// Removes sessions expired at `now` (Unix seconds); returns how many.
    fn delete_expired_sessions(&self, now: i64) -> StoreResult<u64>;

    // one-time links
    fn create_link(&self, link: &OneTimeLink, audit: &AuditEntry) -> StoreResult<()>;
    fn link(&self, token_hash: &str) -> StoreResult<Option<OneTimeLink>>;

    // the book, edited at the desk
    /// Stores an assessment (key client_id, assessed_at). With `link`, the
    /// link is used in the same transaction: returns false (and stores
    /// nothing) when it is unknown, used or expired at `now`.
    fn record_assessment(&self, a: &Assessment, link: Option<&str>, now: i64, audit: &AuditEntry) -> StoreResult<bool>;
    fn add_interaction(&self, i: &Interaction, audit: &AuditEntry) -> StoreResult<()>;
    /// Inserts or updates a product by id.
    fn put_product(&self, p: &Product, audit: &AuditEntry) -> StoreResult<()>;
    /// Replaces one client's result in a run (after a new assessment), keeping
    /// its value decile and previous values, with its explanation (compact
    /// JSON) and the run's dashboard counts adjusted.
    fn reclassify(&self, run_id: i64, c: &Classification, audit: &AuditEntry) -> StoreResult<()>;

    // reading for the desk
    fn list_clients(&self, q: &ClientQuery) -> StoreResult<Vec<ClientRow>>;
    /// Whether a client is inside a scope (false when unknown).
    fn client_in_scope(&self, client_id: &str, scope: &ClientScope) -> StoreResult<bool>;
    /// The client's result in every run, newest run first.
    fn client_history(&self, client_id: &str) -> StoreResult<Vec<(RunInfo, StoredClassification)>>;
    fn client_assessments(&self, client_id: &str) -> StoreResult<Vec<Assessment>>;
    /// Newest first.
    fn client_interactions(&self, client_id: &str, limit: u32) -> StoreResult<Vec<Interaction>>;
    /// The run's counts by branch, advisor, tier, segment and previous values
    /// (computed once per run and kept).
    fn run_counts(&self, run_id: i64) -> StoreResult<Vec<RunCount>>;

    // checks and sales
    fn checks(&self, q: &CheckQuery) -> StoreResult<Vec<CheckRow>>;
    fn check(&self, check_id: i64) -> StoreResult<Option<CheckRow>>;
    /// Records a sale for a check (one per check: `StoreError::Conflict`
    /// when the check already has one); returns the sale id.
    fn record_sale(&self, sale: &Sale, audit: &AuditEntry) -> StoreResult<i64>;

    // the audit trail
    fn audit_events(&self, q: &AuditQuery) -> StoreResult<Vec<AuditEvent>>;
    /// Every event in seq order.
    fn scan_audit(&self, f: &mut dyn FnMut(&AuditEvent) -> StoreResult<()>) -> StoreResult<()>;
    /// (seq, hash) of the newest event as recorded by the writer.
    fn audit_head(&self) -> StoreResult<Option<(i64, String)>>;
}
