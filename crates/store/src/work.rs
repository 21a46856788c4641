//! What monitoring and relationship work (PRODUCT.md 6) reads and writes:
//! alerts, tasks, the client notification outbox, satisfaction surveys,
//! advisor assignment, and the figures of the workbench.
//!
//! Deduplication is the store's: an alert is keyed by (kind, subject,
//! episode) and at most one per (kind, subject) is open (open or
//! acknowledged); a task by (kind, client, episode) with at most one open
//! per (kind, client); a notice by (kind, client, episode). Inserting a row
//! whose key exists — or that would be a second open one — stores nothing
//! and is not an error, so running a detection twice creates nothing new.
//!
//! Dates are `YYYY-MM-DD`; `at` strings are local timestamps
//! (`tierwise_domain::dates::format_timestamp`); outbox and survey times are
//! Unix seconds (UTC), compared by the application.

use crate::{AuditEntry, ClientScope, StoreResult};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use tierwise_domain::{Advisor, Interaction, Transaction};
use tierwise_monitor::assign::Placement;
use tierwise_monitor::{ClientFacts, HolderFacts};

/// An alert to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAlert {
    pub kind: String,
    /// high | medium | low
    pub severity: String,
    /// the client id, or the advisor id of an advisor alert
    pub subject: String,
    pub client_id: Option<String>,
    /// assigned to this advisor; None = the team lead of `branch_id`
    pub advisor_id: Option<String>,
    pub branch_id: Option<String>,
    pub episode: String,
    /// JSON: the numbers compared and the rule that fired
    pub evidence: String,
    /// monitor | feed | import | desk | assignment
    pub source: String,
}

/// A stored alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub alert_id: i64,
    pub kind: String,
    pub severity: String,
    pub subject: String,
    pub client_id: Option<String>,
    pub advisor_id: Option<String>,
    pub branch_id: Option<String>,
    pub episode: String,
    pub evidence: String,
    pub source: String,
    /// open | acknowledged | closed
    pub status: String,
    pub created_at: String,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<String>,
    pub closed_by: Option<String>,
    pub closed_at: Option<String>,
    pub outcome: Option<String>,
    /// the client's name (read with the alert; not stored in it)
    pub client_name: Option<String>,
}

/// An open alert's key, for a sweep to compare with what it finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenAlertKey {
    pub alert_id: i64,
    pub kind: String,
    pub subject: String,
    pub episode: String,
}

/// A page of alerts, most urgent first (severity, then oldest).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertQuery {
    /// applied to the alert's assignment: Advisor(a) = assigned to a;
    /// Branch(b) = of branch b (its advisors' and the unassigned)
    pub scope: ClientScope,
    /// open (= open or acknowledged) | closed | None = every
    pub status: Option<String>,
    pub kind: Option<String>,
    pub severity: Option<String>,
    pub client_id: Option<String>,
    pub advisor_id: Option<String>,
    pub limit: u32,
    pub offset: u32,
}

/// What a person does to an alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertAction {
    Acknowledge,
    Close { outcome: String },
}

/// A task to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTask {
    pub kind: String,
    pub client_id: String,
    pub advisor_id: Option<String>,
    pub branch_id: Option<String>,
    pub episode: String,
    pub due: NaiveDate,
    /// JSON
    pub evidence: String,
    pub source: String,
}

/// A stored task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub task_id: i64,
    pub kind: String,
    pub client_id: String,
    pub advisor_id: Option<String>,
    pub branch_id: Option<String>,
    pub episode: String,
    pub due: NaiveDate,
    pub evidence: String,
    pub source: String,
    /// open | done | cancelled
    pub status: String,
    pub created_at: String,
    pub completed_by: Option<String>,
    pub completed_at: Option<String>,
    pub outcome: Option<String>,
    /// the client's name (read with the task; not stored in it)
    pub client_name: Option<String>,
}

/// An open task's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenTaskKey {
    pub task_id: i64,
    pub kind: String,
    pub client_id: String,
    pub episode: String,
    pub due: NaiveDate,
}

/// A page of tasks, earliest due first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskQuery {
    pub scope: ClientScope,
    /// open | done | cancelled | None = every
    pub status: Option<String>,
    pub kind: Option<String>,
    pub client_id: Option<String>,
    pub advisor_id: Option<String>,
    /// only tasks due on or after this date
    pub due_from: Option<NaiveDate>,
    /// only tasks due on or before this date
    pub due_until: Option<NaiveDate>,
    pub limit: u32,
    pub offset: u32,
}

/// A notice for the client, to store in the outbox (pending, due at once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotice {
    pub kind: String,
    pub client_id: String,
    pub episode: String,
    /// JSON, as delivered
    pub payload: String,
}

/// A row of the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub notice_id: i64,
    pub kind: String,
    pub client_id: String,
    pub episode: String,
    pub payload: String,
    pub created_at: String,
    /// pending | delivered | dead
    pub status: String,
    pub attempts: i64,
    /// Unix seconds
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    /// local timestamp
    pub delivered_at: Option<String>,
}

/// The outcome of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeUpdate {
    pub notice_id: i64,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub delivered_at: Option<String>,
}

/// A page of the outbox, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoticeQuery {
    pub scope: ClientScope,
    pub client_id: Option<String>,
    pub status: Option<String>,
    /// keyset: notice ids greater than this
    pub after: Option<i64>,
    pub limit: u32,
}

/// A satisfaction survey sent after a follow-up (a one-time link).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Survey {
    /// SHA-256 of the token in the URL
    pub token_hash: String,
    pub client_id: String,
    /// the advisor, branch and segment it counts for
    pub advisor_id: Option<String>,
    pub branch_id: Option<String>,
    pub segment: Option<String>,
    /// the follow-up task it is about
    pub task_id: Option<i64>,
    /// Unix seconds
    pub created_at: i64,
    pub expires_at: i64,
    pub answered_at: Option<i64>,
    /// 0–10
    pub nps: Option<i64>,
    pub comment: Option<String>,
}

/// Answers grouped for NPS: (advisor, branch, segment, score) → count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyScore {
    pub advisor_id: Option<String>,
    pub branch_id: Option<String>,
    pub segment: Option<String>,
    pub nps: i64,
    pub answers: i64,
}

/// A client moved from one advisor to another. Applied only while the
/// client is still served by `from` (so a stale proposal changes nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reassignment {
    pub client_id: String,
    pub from: Option<String>,
    pub to: String,
}

/// One transaction of work: a sweep's chunk, a feed batch, a re-rating, an
/// assignment. Applied in this order: transactions, reassignments, alert
/// closes, task finishes, then inserts (ignoring existing keys) and the audit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WorkBatch {
    /// local timestamp of the change
    pub at: String,
    /// who made it (a username, `monitor`, `feed` …)
    pub by: String,
    pub transactions: Vec<Transaction>,
    pub reassign: Vec<Reassignment>,
    /// (alert id, outcome): closed if still open
    pub close_alerts: Vec<(i64, String)>,
    /// (task id, done | cancelled, outcome): finished if still open
    pub finish_tasks: Vec<(i64, String, String)>,
    pub alerts: Vec<NewAlert>,
    pub tasks: Vec<NewTask>,
    pub notices: Vec<NewNotice>,
    pub audit: Vec<AuditEntry>,
}

/// What a batch changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkApplied {
    /// ids of the alerts, tasks and notices inserted (existing keys skipped)
    pub alerts: Vec<i64>,
    pub tasks: Vec<i64>,
    pub notices: Vec<i64>,
    pub closed_alerts: u64,
    pub finished_tasks: u64,
    /// clients whose advisor changed
    pub reassigned: Vec<String>,
}

/// Open and overdue tasks per advisor (the team lead's view).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskLoad {
    pub advisor_id: Option<String>,
    pub branch_id: Option<String>,
    pub open: i64,
    pub overdue: i64,
}

/// An advisor's activity over a period, for KPIs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvisorActivity {
    pub advisor_id: String,
    /// follow-up tasks due in the period
    pub followups_due: i64,
    /// … of which done on or before their due date
    pub followups_on_time: i64,
    /// suitability checks of the advisor's clients in the period, by verdict
    pub warns: i64,
    pub prohibited: i64,
}

/// An advisor's book in a run (kept once computed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvisorBook {
    pub advisor_id: String,
    pub clients: i64,
    pub aum: Decimal,
}

/// Monitoring's storage. Backends implement it beside the others.
pub trait WorkStore: Send + Sync {
    fn advisors(&self) -> StoreResult<Vec<Advisor>>;

    /// Streams the facts of every client with a result in `run_id` (or of
    /// one client), in client-id chunks: the client's row, the newest
    /// assessment and interaction dated on or before `d`, and the run's values.
    fn monitor_scan(
        &self,
        run_id: i64,
        d: NaiveDate,
        client_id: Option<&str>,
        chunk: usize,
        f: &mut dyn FnMut(Vec<ClientFacts>) -> StoreResult<()>,
    ) -> StoreResult<()>;
    /// The clients of a run with their segment and current advisor, in
    /// client-id order, for assignment: all, or those of one branch together
    /// with every client an advisor of that branch serves (their loads).
    fn placements(&self, run_id: i64, branch_id: Option<&str>) -> StoreResult<Vec<Placement>>;
    /// The holders of a product in their newest snapshot (value > 0), with
    /// their newest assessment's level.
    fn holders(&self, product_id: &str) -> StoreResult<Vec<HolderFacts>>;

    /// Applies a batch in one transaction.
    fn apply_work(&self, b: &WorkBatch) -> StoreResult<WorkApplied>;

    // alerts
    /// Open alerts of these kinds (every kind when empty), of the subjects
    /// `first ≤ subject ≤ last` (byte order; None: every subject). A sweep
    /// reads the keys of one chunk of clients at a time.
    fn open_alert_keys(&self, kinds: &[&str], subjects: Option<(&str, &str)>) -> StoreResult<Vec<OpenAlertKey>>;
    fn alerts(&self, q: &AlertQuery) -> StoreResult<Vec<Alert>>;
    fn alert(&self, alert_id: i64) -> StoreResult<Option<Alert>>;
    /// Acknowledges (open → acknowledged) or closes (open|acknowledged →
    /// closed) an alert with its audit event; false when it is not in a
    /// state that allows the action.
    fn act_on_alert(
        &self,
        alert_id: i64,
        action: &AlertAction,
        by: &str,
        at: &str,
        audit: &AuditEntry,
    ) -> StoreResult<bool>;
    /// Open alerts by (kind, severity) within a scope.
    fn alert_counts(&self, scope: &ClientScope) -> StoreResult<Vec<(String, String, i64)>>;
    /// The day's counts within a scope: open tasks due before `d`, and open
    /// alerts by severity (most urgent first). Read from the indexes alone.
    fn day_counts(&self, scope: &ClientScope, d: NaiveDate) -> StoreResult<(i64, Vec<(String, i64)>)>;
    /// Open alerts per assigned advisor (None: the team lead's) within a scope.
    fn alert_load(&self, scope: &ClientScope) -> StoreResult<Vec<(Option<String>, i64)>>;

    // tasks
    /// Open tasks of these kinds (every kind when empty) of the clients
    /// `first ≤ client_id ≤ last` (None: every client).
    fn open_task_keys(&self, kinds: &[&str], clients: Option<(&str, &str)>) -> StoreResult<Vec<OpenTaskKey>>;
    fn tasks(&self, q: &TaskQuery) -> StoreResult<Vec<Task>>;
    fn task(&self, task_id: i64) -> StoreResult<Option<Task>>;
    /// Completes an open task (done, with an outcome), storing the
    /// interaction that completed it in the same transaction; false when the
    /// task is not open.
    fn complete_task(
        &self,
        task_id: i64,
        by: &str,
        at: &str,
        outcome: &str,
        interaction: Option<&Interaction>,
        audit: &AuditEntry,
    ) -> StoreResult<bool>;
    /// Open and overdue (due before `d`) tasks per advisor within a scope.
    fn task_load(&self, scope: &ClientScope, d: NaiveDate) -> StoreResult<Vec<TaskLoad>>;

    // the outbox
    /// Pending notices whose next attempt is due at `now`, oldest first.
    fn due_notices(&self, now: i64, limit: u32) -> StoreResult<Vec<Notice>>;
    fn update_notices(&self, updates: &[NoticeUpdate]) -> StoreResult<()>;
    fn notices(&self, q: &NoticeQuery) -> StoreResult<Vec<Notice>>;
    /// Counts by status.
    fn notice_counts(&self) -> StoreResult<Vec<(String, i64)>>;

    // surveys
    fn create_survey(&self, s: &Survey, audit: &AuditEntry) -> StoreResult<()>;
    fn survey(&self, token_hash: &str) -> StoreResult<Option<Survey>>;
    /// Stores the answer once: false (nothing stored) when the survey is
    /// unknown, answered or expired at `now`.
    fn answer_survey(
        &self,
        token_hash: &str,
        nps: i64,
        comment: Option<&str>,
        now: i64,
        audit: &AuditEntry,
    ) -> StoreResult<bool>;
    /// Answers grouped by (advisor, branch, segment, score) within a scope
    /// (applied to the survey's advisor and branch).
    fn survey_scores(&self, scope: &ClientScope) -> StoreResult<Vec<SurveyScore>>;

    // KPIs
    /// Follow-ups and checks per advisor for dates `from` … `to` inclusive.
    fn advisor_activity(
        &self,
        scope: &ClientScope,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<AdvisorActivity>>;
    /// Clients and AUM per (current) advisor in a run; computed once per run and kept.
    fn advisor_books(&self, run_id: i64) -> StoreResult<Vec<AdvisorBook>>;
}
