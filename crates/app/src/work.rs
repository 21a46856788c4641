//! Monitoring and relationship work (持续监控, PRODUCT.md 6): the sweep that
//! turns the latest run into alerts, tasks and client notices; the events
//! that do the same at once (a transaction feed or import, a new
//! assessment, a product re-rating, a logged contact); alerts and tasks at
//! the desk; advisor assignment; the outbox and its webhook; satisfaction
//! surveys; and the workbench figures (the advisor's day, the team lead's
//! view, KPIs, NPS).
//!
//! The rules are `tierwise_monitor`'s; deduplication is the store's (one
//! alert per kind, subject and episode; one open per kind and subject), so
//! every detection may run any number of times.

use crate::access::{self, Actor, Permission};
use crate::{App, AppError, AppResult, Progress};
use chrono::{Duration, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use tierwise_domain::{dates::format_timestamp, Interaction, InteractionChannel, Lang, Product, Transaction, TxnKind};
use tierwise_monitor::assign::{AdvisorSlot, AssignmentPlan, Placement, Requirement};
use tierwise_monitor::nps::NpsCounts;
use tierwise_monitor::{
    AdvisorFacts, AlertKind, AlertSpec, ClientFacts, Findings, Monitor, NoticeKind, NoticeSpec, OutflowFacts, TaskKind,
    TaskSpec,
};
use tierwise_store::{
    Alert, AlertAction, AlertQuery, AuditEntry, ClientScope, NewAlert, NewNotice, NewTask, Notice, NoticeQuery,
    NoticeUpdate, Reassignment, Survey, Task, TaskQuery, WorkBatch,
};

/// Clients read and decided at a time.
const SWEEP_CHUNK: usize = 20_000;
/// Clients per sweep transaction: chunks are merged up to this many before a
/// commit (each commit rewrites the index pages it touched).
const SWEEP_COMMIT: u64 = 100_000;
/// How long a team's assignment plan is reused: planning a branch reads
/// every client of it (~0.7 s at 1,000,000 clients), and the team page is
/// opened often. Applying a plan, an import or a new run starts afresh.
const PLAN_TTL: std::time::Duration = std::time::Duration::from_secs(3600);

/// Assignment plans by (run, scope).
pub(crate) type PlanCache = crate::Kept<AssignmentPlan>;

/// KPIs are figures of a period: a table is reused this long.
const KPI_TTL: std::time::Duration = std::time::Duration::from_secs(300);

/// A team's figures (load, open and overdue tasks, open alerts per
/// advisor) are reused this long; this server's own changes start afresh.
const TEAM_TTL: std::time::Duration = std::time::Duration::from_secs(60);

/// Team views by (run, scope, date).
pub(crate) type TeamCache = crate::Kept<TeamView>;

/// KPI tables by (scope, days, date).
pub(crate) type KpiCache = crate::Kept<Vec<AdvisorKpi>>;

/// The most tasks a list of the day holds (overdue, due today, the week ahead).
const DAY_LIST: u32 = 100;
/// A survey link is valid this long.
pub const SURVEY_SECONDS: i64 = 14 * 24 * 3600;

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn invalid(field: &str, reason: impl Into<String>) -> AppError {
    AppError::Invalid { field: field.into(), reason: reason.into() }
}

pub(crate) fn new_alert(a: &AlertSpec, source: &str) -> NewAlert {
    NewAlert {
        kind: a.kind.as_str().into(),
        severity: a.kind.severity().as_str().into(),
        subject: a.subject.clone(),
        client_id: a.client_id.clone(),
        advisor_id: a.advisor_id.clone(),
        branch_id: a.branch_id.clone(),
        episode: a.episode.clone(),
        evidence: a.evidence.to_string(),
        source: source.into(),
    }
}

fn new_task(t: &TaskSpec, source: &str) -> NewTask {
    NewTask {
        kind: t.kind.as_str().into(),
        client_id: t.client_id.clone(),
        advisor_id: t.advisor_id.clone(),
        branch_id: t.branch_id.clone(),
        episode: t.episode.clone(),
        due: t.due,
        evidence: t.evidence.to_string(),
        source: source.into(),
    }
}

fn new_notice(n: &NoticeSpec) -> NewNotice {
    NewNotice {
        kind: n.kind.as_str().into(),
        client_id: n.client_id.clone(),
        episode: n.episode.clone(),
        payload: n.payload.to_string(),
    }
}

/// What a sweep did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct MonitorSummary {
    pub as_of: String,
    pub run_id: i64,
    pub clients: u64,
    pub alerts_opened: u64,
    pub alerts_cleared: u64,
    pub tasks_opened: u64,
    pub tasks_finished: u64,
    pub notices_queued: u64,
    /// open alerts by kind after the sweep
    pub open_alerts: BTreeMap<String, i64>,
}

/// A transaction as a core system sends it to the feed.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct TxnInput {
    pub txn_id: String,
    pub client_id: String,
    pub product_id: Option<String>,
    /// ISO 8601; without an offset it is local time
    pub ts: String,
    /// deposit | withdraw | transfer_in | transfer_out | buy | sell | redeem | dividend | fee
    pub kind: String,
    /// a non-negative decimal, written plainly
    pub amount: String,
    pub channel: Option<String>,
}

/// What a feed batch did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FeedOutcome {
    pub stored: usize,
    /// alerts raised by the batch (large outflows), ids
    pub alerts: Vec<i64>,
}

/// An alert for people.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AlertView {
    pub alert_id: i64,
    /// the client's name (not PII: shown wherever the client is)
    pub client_name: Option<String>,
    pub kind: String,
    pub kind_label: String,
    pub severity: String,
    pub severity_label: String,
    pub subject: String,
    pub client_id: Option<String>,
    pub advisor_id: Option<String>,
    pub branch_id: Option<String>,
    pub episode: String,
    /// the numbers compared and the rule that fired
    #[schema(value_type = Object)]
    pub evidence: serde_json::Value,
    pub status: String,
    pub created_at: String,
    pub acknowledged_by: Option<String>,
    pub closed_by: Option<String>,
    pub closed_at: Option<String>,
    pub outcome: Option<String>,
}

/// A task for people.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TaskView {
    pub task_id: i64,
    pub client_name: Option<String>,
    pub kind: String,
    pub kind_label: String,
    pub client_id: String,
    pub advisor_id: Option<String>,
    pub branch_id: Option<String>,
    pub due: String,
    /// days past due (0 when due today or later)
    pub overdue_days: i64,
    pub status: String,
    #[schema(value_type = Object)]
    pub evidence: serde_json::Value,
    pub completed_by: Option<String>,
    pub completed_at: Option<String>,
    pub outcome: Option<String>,
}

/// Filters of the alert and task lists.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
#[into_params(parameter_in = Query)]
pub struct WorkFilter {
    /// alerts: open (default: open and acknowledged) | acknowledged | closed | all;
    /// tasks: open (default) | done | cancelled | all
    pub status: Option<String>,
    /// an alert or task kind (`large_outflow`, `followup`, …)
    pub kind: Option<String>,
    /// alerts only: high | medium | low
    pub severity: Option<String>,
    pub client_id: Option<String>,
    pub advisor_id: Option<String>,
    /// tasks only: those due today or earlier
    pub due: Option<bool>,
    /// at most 200 (default 50)
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

/// Closing an alert.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct CloseAlert {
    pub outcome: String,
}

/// Completing a task by logging the contact.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct CompleteTask {
    /// call | visit | email | message | event
    pub channel: String,
    pub topic: Option<String>,
    pub outcome: Option<String>,
}

/// What completing a task did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TaskDone {
    pub task: TaskView,
    /// the next scheduled follow-up, when the plan has one
    pub next_due: Option<String>,
    /// the satisfaction survey link sent to the client after a follow-up
    pub survey_path: Option<String>,
}

/// The advisor's day (今日工作台).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MyDay {
    pub today: String,
    /// every overdue task (the list holds the oldest 200)
    pub overdue_total: i64,
    pub overdue: Vec<TaskView>,
    pub due_today: Vec<TaskView>,
    pub upcoming: Vec<TaskView>,
    /// (severity, count) of open alerts, most urgent first
    pub alert_counts: Vec<(String, i64)>,
    pub alerts: Vec<AlertView>,
}

/// One advisor in the team lead's view.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AdvisorLoadView {
    pub advisor_id: String,
    pub name: Option<String>,
    pub title: Option<String>,
    pub experience_years: Option<u32>,
    pub capacity: Option<u32>,
    pub clients: i64,
    /// clients / capacity in percent
    pub load_pct: Option<i64>,
    pub open_tasks: i64,
    pub overdue_tasks: i64,
    pub open_alerts: i64,
}

/// The team lead's view (团队管理).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TeamView {
    pub advisors: Vec<AdvisorLoadView>,
    /// tasks and alerts of the branch with no advisor (the team lead's own)
    pub unassigned_open_tasks: i64,
    pub unassigned_overdue_tasks: i64,
    pub proposals: Vec<ProposalView>,
    pub unplaced: i64,
}

/// A proposed reassignment.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProposalView {
    pub client_id: String,
    pub segment: String,
    pub from: Option<String>,
    pub to: String,
    /// unassigned | unknown_advisor | title_below_plan | too_few_years | other_branch
    pub why: String,
}

/// The outcome of `assign`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AssignmentView {
    pub proposals: Vec<ProposalView>,
    /// clients that need an advisor but no eligible one has room
    pub unplaced: Vec<ProposalView>,
    /// advisor → (clients before, after)
    pub loads: BTreeMap<String, (u32, u32)>,
    pub applied: usize,
}

/// An advisor's KPIs over a period (考核指标).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AdvisorKpi {
    pub advisor_id: String,
    pub name: Option<String>,
    pub branch_id: Option<String>,
    pub followups_due: i64,
    pub followups_on_time: i64,
    /// on time / due, percent
    pub contact_completion_pct: Option<i64>,
    pub clients: i64,
    #[schema(value_type = String)]
    pub book_aum: Decimal,
    /// against the previous run, None without one
    #[schema(value_type = Option<String>)]
    pub book_aum_change: Option<Decimal>,
    pub nps: Option<i32>,
    pub nps_answers: u32,
    pub suitability_warnings: i64,
    pub prohibited_attempts: i64,
}

/// NPS by advisor, segment and branch.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct NpsView {
    pub overall: Option<i32>,
    pub answers: u32,
    /// (key, nps, answers)
    pub by_advisor: Vec<(String, Option<i32>, u32)>,
    pub by_segment: Vec<(String, Option<i32>, u32)>,
    pub by_branch: Vec<(String, Option<i32>, u32)>,
}

/// A row of the outbox.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NoticeView {
    pub notice_id: i64,
    pub kind: String,
    pub kind_label: String,
    pub client_id: String,
    pub created_at: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub delivered_at: Option<String>,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
}

/// A survey as the client sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SurveyView {
    pub expires_at: String,
}

/// Where notices go: an HTTP endpoint that receives each as a JSON POST,
/// signed with HMAC-SHA256 (PRODUCT.md is silent; docs/decisions.md).
#[derive(Clone)]
pub struct Webhook {
    pub url: String,
    pub secret: String,
    /// a notice is dead after this many failed attempts
    pub max_attempts: i64,
    /// the wait after the first failure; doubled after each one, at most 6 hours
    pub backoff_seconds: i64,
    pub timeout: std::time::Duration,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("url", &crate::redact_url(&self.url))
            .field("secret", &"***")
            .field("max_attempts", &self.max_attempts)
            .finish()
    }
}

/// What one delivery round did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryReport {
    pub delivered: u64,
    pub retried: u64,
    pub dead: u64,
}

/// `sha256=` + hex HMAC-SHA256 of `{timestamp}.{body}` under the secret: the
/// receiver recomputes it to know the notice came from us, unchanged.
pub fn webhook_signature(secret: &str, timestamp: i64, body: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = match Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        // HMAC accepts keys of any length; this arm is never taken
        Err(_) => return String::new(),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    let bytes = mac.finalize().into_bytes();
    let mut out = String::from("sha256=");
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// The wait before attempt `attempts + 1`, after `attempts` failures.
pub fn backoff(base: i64, attempts: i64) -> i64 {
    let shift = (attempts.max(1) - 1).min(20) as u32;
    base.saturating_mul(1i64 << shift).min(6 * 3600)
}

fn severity_label(s: &str, lang: Lang) -> String {
    tierwise_monitor::Severity::parse(s).map_or_else(|| s.to_string(), |x| x.name(lang).to_string())
}

impl App {
    pub(crate) fn monitor_for(&self, d: NaiveDate) -> Monitor<'_> {
        Monitor::new(&self.pack, self.questionnaire_validity(), d)
    }

    fn alert_view(&self, a: Alert, lang: Lang) -> AlertView {
        AlertView {
            kind_label: AlertKind::parse(&a.kind).map_or_else(|| a.kind.clone(), |k| k.name(lang).to_string()),
            severity_label: severity_label(&a.severity, lang),
            evidence: serde_json::from_str(&a.evidence).unwrap_or(serde_json::Value::Null),
            alert_id: a.alert_id,
            client_name: a.client_name,
            kind: a.kind,
            severity: a.severity,
            subject: a.subject,
            client_id: a.client_id,
            advisor_id: a.advisor_id,
            branch_id: a.branch_id,
            episode: a.episode,
            status: a.status,
            created_at: a.created_at,
            acknowledged_by: a.acknowledged_by,
            closed_by: a.closed_by,
            closed_at: a.closed_at,
            outcome: a.outcome,
        }
    }

    fn task_view(&self, t: Task, lang: Lang) -> TaskView {
        let today = self.today();
        TaskView {
            kind_label: TaskKind::parse(&t.kind).map_or_else(|| t.kind.clone(), |k| k.name(lang).to_string()),
            overdue_days: if t.status == "open" { (today - t.due).num_days().max(0) } else { 0 },
            evidence: serde_json::from_str(&t.evidence).unwrap_or(serde_json::Value::Null),
            task_id: t.task_id,
            client_name: t.client_name,
            kind: t.kind,
            client_id: t.client_id,
            advisor_id: t.advisor_id,
            branch_id: t.branch_id,
            due: t.due.to_string(),
            status: t.status,
            completed_by: t.completed_by,
            completed_at: t.completed_at,
            outcome: t.outcome,
        }
    }

    // ---- the sweep -------------------------------------------------------------

    /// Runs every detection over the latest run as of `d` (`tierwise
    /// monitor`, and the daily schedule of `serve`): opens what is found,
    /// closes state alerts and tasks whose condition no longer holds,
    /// queues client notices. Idempotent.
    pub fn monitor(&self, d: NaiveDate, progress: &dyn Progress) -> AppResult<MonitorSummary> {
        self.sweep(d, None, "monitor", progress)
    }

    /// The same detections for one client (after an event about them).
    pub fn monitor_client(&self, client_id: &str, by: &str) -> AppResult<()> {
        if self.store.latest_run()?.is_none() {
            return Ok(());
        }
        self.sweep(self.today(), Some(client_id), by, &|_| {})?;
        Ok(())
    }

    fn sweep(&self, d: NaiveDate, only: Option<&str>, by: &str, progress: &dyn Progress) -> AppResult<MonitorSummary> {
        use rayon::prelude::*;
        let run = self.store.latest_run()?.ok_or(AppError::NoRun)?;
        let m = self.monitor_for(d);
        let source = if only.is_some() { "event" } else { "monitor" };
        let at = format_timestamp(&self.now_local());
        progress.total(run.clients as u64);

        // every kind of alert about a client (an advisor's subject may fall in a chunk's id range)
        let client_kinds: Vec<&str> =
            AlertKind::ALL.iter().filter(|k| !k.about_advisor()).map(|k| k.as_str()).collect();

        let run_id = run.run_id;
        let mut books: HashMap<String, (u32, BTreeMap<String, u32>)> = HashMap::new();
        // reading and deciding on this thread, writing on another: a chunk's
        // batch is written while the next chunk is read (their clients differ)
        let (tx, rx) = std::sync::mpsc::sync_channel::<(u64, WorkBatch)>(1);
        let (scanned, written) = std::thread::scope(|scope| {
            let writer = scope.spawn(move || -> AppResult<MonitorSummary> {
                let mut w_sum = MonitorSummary { as_of: d.to_string(), run_id, ..Default::default() };
                let mut pending: Option<(u64, WorkBatch)> = None;
                let commit = |clients: u64, b: &WorkBatch, w_sum: &mut MonitorSummary| -> AppResult<()> {
                    let w = self.store.apply_work(b)?;
                    w_sum.clients += clients;
                    w_sum.alerts_opened += w.alerts.len() as u64;
                    w_sum.alerts_cleared += w.closed_alerts;
                    w_sum.tasks_opened += w.tasks.len() as u64;
                    w_sum.tasks_finished += w.finished_tasks;
                    w_sum.notices_queued += w.notices.len() as u64;
                    progress.done(w_sum.clients);
                    Ok(())
                };
                for (clients, b) in rx {
                    let (n, acc) = pending.get_or_insert_with(|| {
                        (0, WorkBatch { at: b.at.clone(), by: b.by.clone(), ..Default::default() })
                    });
                    *n += clients;
                    acc.close_alerts.extend(b.close_alerts);
                    acc.finish_tasks.extend(b.finish_tasks);
                    acc.alerts.extend(b.alerts);
                    acc.tasks.extend(b.tasks);
                    acc.notices.extend(b.notices);
                    if *n >= SWEEP_COMMIT {
                        if let Some((n, acc)) = pending.take() {
                            commit(n, &acc, &mut w_sum)?;
                        }
                    }
                }
                if let Some((n, acc)) = pending.take() {
                    commit(n, &acc, &mut w_sum)?;
                }
                Ok(w_sum)
            });
            let scanned = self.store.monitor_scan(run.run_id, d, only, SWEEP_CHUNK, &mut |chunk| {
                for f in &chunk {
                    if let Some(a) = &f.advisor_id {
                        let e = books.entry(a.clone()).or_default();
                        e.0 += 1;
                        *e.1.entry(f.segment.clone()).or_insert(0) += 1;
                    }
                }
                let found: Vec<Findings> = chunk
                    .par_iter()
                    .map(|f| {
                        let mut out = Findings::default();
                        m.client(f, &mut out);
                        out
                    })
                    .collect();
                // the open alerts and tasks of this chunk's clients: (kind, id, episode[, due])
                let (Some(first), Some(last)) = (chunk.first(), chunk.last()) else { return Ok(()) };
                let range = Some((first.client_id.as_str(), last.client_id.as_str()));
                let mut open_alerts: HashMap<String, Vec<(String, i64, String)>> = HashMap::new();
                for k in self.store.open_alert_keys(&client_kinds, range)? {
                    open_alerts.entry(k.subject).or_default().push((k.kind, k.alert_id, k.episode));
                }
                let mut open_tasks: HashMap<String, Vec<(String, i64, String, NaiveDate)>> = HashMap::new();
                for k in self.store.open_task_keys(&[], range)? {
                    open_tasks.entry(k.client_id).or_default().push((k.kind, k.task_id, k.episode, k.due));
                }
                let mut b = WorkBatch { at: at.clone(), by: by.to_string(), ..Default::default() };
                for (f, mut found) in chunk.iter().zip(found) {
                    let open = (open_alerts.get(&f.client_id), open_tasks.get(&f.client_id));
                    self.reconcile(&m, f, &mut found, open, &mut b, source);
                }
                tx.send((chunk.len() as u64, b))
                    .map_err(|_| tierwise_store::StoreError::Aborted("the sweep's writer stopped".into()))
            });
            drop(tx);
            let written = writer.join().unwrap_or_else(|_| Err(AppError::Aborted("the sweep's writer failed".into())));
            (scanned, written)
        });
        // the writer's own error explains a stopped scan best
        let mut sum = written?;
        scanned?;

        // advisors over capacity: a whole-book finding
        let mut b = WorkBatch { at, by: by.to_string(), ..Default::default() };
        if only.is_none() {
            let open: HashMap<String, (i64, String)> = self
                .store
                .open_alert_keys(&[AlertKind::AdvisorOverCapacity.as_str()], None)?
                .into_iter()
                .map(|k| (k.subject, (k.alert_id, k.episode)))
                .collect();
            let mut wanted: HashMap<String, String> = HashMap::new();
            for a in self.store.advisors()? {
                let (clients, per_segment) = books.remove(&a.advisor_id).unwrap_or_default();
                let facts = AdvisorFacts {
                    advisor_id: a.advisor_id.clone(),
                    branch_id: a.branch_id.clone(),
                    capacity: a.capacity,
                    clients,
                    per_segment: per_segment.into_iter().collect(),
                };
                if let Some(spec) = m.advisor(&facts) {
                    wanted.insert(spec.subject.clone(), spec.episode.clone());
                    b.alerts.push(new_alert(&spec, source));
                }
            }
            for (advisor, (id, _episode)) in open {
                // a period episode: the open alert stays while the advisor is over
                if !wanted.contains_key(&advisor) {
                    b.close_alerts.push((id, "cleared".into()));
                }
            }
        }
        let payload = serde_json::json!({
            "as_of": d.to_string(), "run_id": run.run_id, "client": only, "clients": sum.clients,
            "alerts_opened": sum.alerts_opened, "alerts_cleared": sum.alerts_cleared,
            "tasks_opened": sum.tasks_opened, "tasks_finished": sum.tasks_finished, "notices_queued": sum.notices_queued,
        });
        if only.is_none() {
            b.audit.push(AuditEntry::new(by, "monitor.sweep", &format!("run:{}", run.run_id), payload.to_string()));
        }
        let w = self.store.apply_work(&b)?;
        sum.alerts_opened += w.alerts.len() as u64;
        sum.alerts_cleared += w.closed_alerts;
        self.work_changed();
        if only.is_none() {
            // the whole book's open alerts, for the sweep's report (not for one client's event)
            for (kind, _severity, n) in self.store.alert_counts(&ClientScope::All)? {
                *sum.open_alerts.entry(kind).or_insert(0) += n;
            }
        }
        Ok(sum)
    }

    /// Adds to `b` what one client's findings change: closes the open state
    /// alerts and tasks they no longer call for, adds the follow-up overdue
    /// alert from the task's stored due date, and inserts what is not open
    /// already (a notice goes with a new alert or task of its episode).
    #[allow(clippy::type_complexity)]
    fn reconcile(
        &self,
        m: &Monitor,
        f: &ClientFacts,
        found: &mut Findings,
        open: (Option<&Vec<(String, i64, String)>>, Option<&Vec<(String, i64, String, NaiveDate)>>),
        b: &mut WorkBatch,
        source: &str,
    ) {
        let (alerts, tasks) = (open.0.map_or(&[][..], Vec::as_slice), open.1.map_or(&[][..], Vec::as_slice));
        // a follow-up's due date is the stored one while its episode is open
        if let Some(fu) = found.tasks.iter().find(|t| t.kind == TaskKind::Followup) {
            let due = tasks
                .iter()
                .find(|(k, _, e, _)| k == "followup" && *e == fu.episode)
                .map_or(fu.due, |(_, _, _, due)| *due);
            if let Some(a) = m.followup_overdue(&f.client_id, f.advisor_id.as_deref(), f.branch_id.as_deref(), due) {
                found.alerts.push(a);
            }
        }
        let mut known: Vec<&str> = Vec::new();
        for (kind, id, episode) in alerts {
            let Some(k) = AlertKind::parse(kind) else { continue };
            let want = found.alerts.iter().find(|a| a.kind == k);
            match want {
                Some(a) if a.episode == *episode || k.episode_is_period() => known.push(kind),
                // an event alert stays until a person closes it (a newer one waits)
                _ if !k.is_state() => {}
                Some(_) => b.close_alerts.push((*id, "superseded".into())),
                None => b.close_alerts.push((*id, "cleared".into())),
            }
        }
        let mut known_tasks: Vec<&str> = Vec::new();
        for (kind, id, episode, _) in tasks {
            let Some(k) = TaskKind::parse(kind) else { continue };
            let want = found.tasks.iter().find(|t| t.kind == k);
            if want.is_some_and(|t| t.episode == *episode || k.episode_is_period()) {
                known_tasks.push(kind);
                continue;
            }
            if !k.is_state() {
                continue; // done by a person
            }
            let (status, outcome) = match (k, want) {
                // a newer contact moved the schedule on
                (TaskKind::Followup, Some(_)) => ("done", "contact_logged"),
                (TaskKind::Followup, None) => ("cancelled", "plan_changed"),
                (TaskKind::Reassessment, _) => ("done", "reassessed"),
                _ => ("cancelled", "condition_cleared"),
            };
            b.finish_tasks.push((*id, status.into(), outcome.into()));
        }
        // what is open already needs no insert (the store would refuse it
        // anyway); its notice was queued when it opened
        let mut told: Vec<&str> = Vec::new();
        for a in &found.alerts {
            if known.contains(&a.kind.as_str()) {
                told.push(&a.episode);
            } else {
                b.alerts.push(new_alert(a, source));
            }
        }
        for t in &found.tasks {
            if known_tasks.contains(&t.kind.as_str()) {
                told.push(&t.episode);
            } else {
                b.tasks.push(new_task(t, source));
            }
        }
        b.notices.extend(found.notices.iter().filter(|n| !told.contains(&n.episode.as_str())).map(new_notice));
    }

    // ---- events ----------------------------------------------------------------

    /// Large outflows among stored transactions raise their alerts now.
    pub(crate) fn outflow_batch(&self, txns: &[Transaction], b: &mut WorkBatch, source: &str) -> AppResult<()> {
        let m = self.monitor_for(self.today());
        let mut clients: HashMap<String, (Option<String>, Option<String>)> = HashMap::new();
        for t in txns {
            if !matches!(t.kind, TxnKind::Withdraw | TxnKind::TransferOut) || t.amount < m.large_outflow() {
                continue;
            }
            if !clients.contains_key(&t.client_id) {
                let c = self.store.client(&t.client_id)?;
                clients.insert(t.client_id.clone(), c.map_or((None, None), |c| (c.advisor_id, c.branch_id)));
            }
            let (advisor_id, branch_id) = clients[&t.client_id].clone();
            let facts = OutflowFacts {
                txn_id: t.txn_id.clone(),
                client_id: t.client_id.clone(),
                advisor_id,
                branch_id,
                kind: t.kind,
                amount: t.amount,
                ts: format_timestamp(&t.ts),
            };
            if let Some(a) = m.outflow(&facts) {
                b.alerts.push(new_alert(&a, source));
            }
        }
        Ok(())
    }

    /// `POST /api/v1/events/transactions`: stores a batch of transactions
    /// (idempotent by txn_id: a re-sent one updates its row) and raises the
    /// large-outflow alerts in the same transaction.
    pub fn feed_transactions(&self, actor: &Actor, rows: &[TxnInput]) -> AppResult<FeedOutcome> {
        actor.require(Permission::Operate)?;
        if rows.is_empty() {
            return Err(invalid("transactions", "the batch is empty"));
        }
        if rows.len() > 10_000 {
            return Err(invalid("transactions", "at most 10,000 transactions per batch"));
        }
        let products: std::collections::HashSet<String> =
            self.store.products()?.into_iter().map(|p| p.product_id).collect();
        let mut txns: Vec<Transaction> = Vec::with_capacity(rows.len());
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (i, r) in rows.iter().enumerate() {
            let place = |field: &str| format!("transactions[{i}].{field}");
            let id = r.txn_id.trim();
            if id.is_empty() {
                return Err(invalid(&place("txn_id"), "required"));
            }
            if self.store.client(r.client_id.trim())?.is_none() {
                return Err(invalid(&place("client_id"), format!("unknown client {}", r.client_id.trim())));
            }
            let product_id = crate::desk::nonempty(&r.product_id);
            if let Some(p) = &product_id {
                if !products.contains(p) {
                    return Err(invalid(&place("product_id"), format!("unknown product {p}")));
                }
            }
            let t = Transaction {
                txn_id: id.to_string(),
                client_id: r.client_id.trim().to_string(),
                product_id,
                ts: tierwise_domain::parse_timestamp(r.ts.trim(), self.tz)
                    .map_err(|e| invalid(&place("ts"), e.to_string()))?,
                kind: TxnKind::parse(r.kind.trim()).map_err(|e| invalid(&place("kind"), e.to_string()))?,
                amount: tierwise_domain::parse_money(r.amount.trim())
                    .map_err(|e| invalid(&place("amount"), e.to_string()))?,
                channel: crate::desk::nonempty(&r.channel),
            };
            // one row per txn_id: the last one sent wins, as on a re-send
            match seen.get(&t.txn_id) {
                Some(&j) => txns[j] = t,
                None => {
                    seen.insert(t.txn_id.clone(), txns.len());
                    txns.push(t);
                }
            }
        }
        let mut b =
            WorkBatch { at: format_timestamp(&self.now_local()), by: actor.username.clone(), ..Default::default() };
        self.outflow_batch(&txns, &mut b, "feed")?;
        b.audit.push(AuditEntry::new(
            &actor.username,
            "transactions.feed",
            "transactions",
            serde_json::json!({"transactions": txns.len(), "txn_ids": txns.iter().take(100).map(|t| &t.txn_id).collect::<Vec<_>>(),
                "large_outflows": b.alerts.len()})
            .to_string(),
        ));
        b.transactions = txns;
        let w = self.store.apply_work(&b)?;
        Ok(FeedOutcome { stored: b.transactions.len(), alerts: w.alerts })
    }

    /// A product's risk level changed: every holder is told (CSRC Art 21), and
    /// each holder now below the product's level raises an alert.
    pub(crate) fn product_rerated(&self, by: &str, before: &Product, after: &Product) -> AppResult<usize> {
        if before.risk_level == after.risk_level {
            return Ok(0);
        }
        let m = self.monitor_for(self.today());
        let mut out = Findings::default();
        for h in self.store.holders(&after.product_id)? {
            m.rerated(&after.product_id, after.name.as_deref(), before.risk_level, after.risk_level, &h, &mut out);
        }
        let b = WorkBatch {
            at: format_timestamp(&self.now_local()),
            by: by.to_string(),
            alerts: out.alerts.iter().map(|a| new_alert(a, "event")).collect(),
            notices: out.notices.iter().map(new_notice).collect(),
            ..Default::default()
        };
        let w = self.store.apply_work(&b)?;
        Ok(w.alerts.len())
    }

    /// After a contact with a client is logged: the open follow-up is done,
    /// the next one is scheduled from the plan, and a satisfaction survey is
    /// sent (a one-time link, queued as a notice). Returns (next due, survey path).
    pub(crate) fn after_contact(
        &self,
        by: &str,
        client_id: &str,
        contact: &Interaction,
        completed_task: Option<&Task>,
    ) -> AppResult<(Option<NaiveDate>, Option<String>)> {
        let Some(run) = self.store.latest_run()? else { return Ok((None, None)) };
        let at = format_timestamp(&self.now_local());
        let mut b = WorkBatch { at: at.clone(), by: by.to_string(), ..Default::default() };
        let mut facts: Option<ClientFacts> = None;
        self.store.monitor_scan(run.run_id, contact.at.date(), Some(client_id), 1, &mut |c| {
            facts = c.into_iter().next();
            Ok(())
        })?;
        let Some(f) = facts else { return Ok((None, None)) };
        let followup_done = completed_task.is_some_and(|t| t.kind == "followup");
        if !followup_done {
            for k in self.store.open_task_keys(&[TaskKind::Followup.as_str()], Some((client_id, client_id)))? {
                b.finish_tasks.push((k.task_id, "done".into(), "contact_logged".into()));
            }
        }
        let mut found = Findings::default();
        self.monitor_for(contact.at.date()).client(&f, &mut found);
        let next = found.tasks.into_iter().find(|t| t.kind == TaskKind::Followup);
        let next_due = next.as_ref().map(|t| t.due);
        b.tasks.extend(next.iter().map(|t| new_task(t, "event")));
        let had_followup = followup_done || !b.finish_tasks.is_empty();
        // the open overdue alert is cleared by the contact
        for k in self.store.open_alert_keys(&[AlertKind::FollowupOverdue.as_str()], Some((client_id, client_id)))? {
            b.close_alerts.push((k.alert_id, "contact_logged".into()));
        }
        let mut survey_path = None;
        if had_followup {
            let token = access::new_token();
            let now = unix_now();
            let survey = Survey {
                token_hash: access::token_hash(&token),
                client_id: client_id.to_string(),
                advisor_id: f.advisor_id.clone(),
                branch_id: f.branch_id.clone(),
                segment: Some(f.segment.clone()),
                task_id: completed_task.map(|t| t.task_id),
                created_at: now,
                expires_at: now + SURVEY_SECONDS,
                answered_at: None,
                nps: None,
                comment: None,
            };
            let path = format!("/s/{token}");
            self.store.create_survey(
                &survey,
                &AuditEntry::new(
                    by,
                    "survey.create",
                    &format!("client:{client_id}"),
                    serde_json::json!({"segment": f.segment}).to_string(),
                ),
            )?;
            b.notices.push(NewNotice {
                kind: NoticeKind::Survey.as_str().into(),
                client_id: client_id.to_string(),
                episode: survey.token_hash.clone(),
                payload: serde_json::json!({
                    "kind": "survey", "client_id": client_id,
                    "title": {"zh": NoticeKind::Survey.name(Lang::Zh), "en": NoticeKind::Survey.name(Lang::En)},
                    "body": {"zh": "感谢您的宝贵时间，请为本次服务打分（0–10）。", "en": "Thank you for your time: how likely are you to recommend us (0–10)?"},
                    "data": {"path": path},
                })
                .to_string(),
            });
            survey_path = Some(path);
        }
        self.store.apply_work(&b)?;
        Ok((next_due, survey_path))
    }

    // ---- alerts and tasks at the desk -----------------------------------------

    fn work_scope(actor: &Actor) -> AppResult<ClientScope> {
        actor.require(Permission::ViewClients)?;
        Ok(actor.scope())
    }

    pub fn alerts(&self, actor: &Actor, f: &WorkFilter, lang: Lang) -> AppResult<Vec<AlertView>> {
        let q = AlertQuery {
            scope: Self::work_scope(actor)?,
            status: Some(crate::desk::nonempty(&f.status).unwrap_or_else(|| "open".into())).filter(|s| s != "all"),
            kind: crate::desk::nonempty(&f.kind),
            severity: crate::desk::nonempty(&f.severity),
            client_id: crate::desk::nonempty(&f.client_id),
            advisor_id: crate::desk::nonempty(&f.advisor_id),
            limit: f.limit.unwrap_or(50).clamp(1, 200),
            offset: f.offset.unwrap_or(0),
        };
        Ok(self.store.alerts(&q)?.into_iter().map(|a| self.alert_view(a, lang)).collect())
    }

    fn visible_alert(&self, actor: &Actor, alert_id: i64) -> AppResult<Alert> {
        let scope = Self::work_scope(actor)?;
        let a = self.store.alert(alert_id)?.ok_or_else(|| AppError::NotFound(format!("alert {alert_id}")))?;
        if scope.admits(a.advisor_id.as_deref(), a.branch_id.as_deref()) {
            Ok(a)
        } else {
            Err(AppError::NotFound(format!("alert {alert_id}")))
        }
    }

    pub fn alert(&self, actor: &Actor, alert_id: i64, lang: Lang) -> AppResult<AlertView> {
        Ok(self.alert_view(self.visible_alert(actor, alert_id)?, lang))
    }

    /// Acknowledges or closes an alert (audited); Conflict when it is
    /// already past that step.
    pub fn act_on_alert(&self, actor: &Actor, alert_id: i64, action: &AlertAction, lang: Lang) -> AppResult<AlertView> {
        actor.require(Permission::ServeClients)?;
        let a = self.visible_alert(actor, alert_id)?;
        if let AlertAction::Close { outcome } = action {
            let n = outcome.trim().chars().count();
            if n == 0 || n > 500 {
                return Err(invalid("outcome", "say how it was resolved (1–500 characters)"));
            }
        }
        let (verb, payload) = match action {
            AlertAction::Acknowledge => {
                ("alert.acknowledge", serde_json::json!({"alert_id": alert_id, "kind": a.kind}))
            }
            AlertAction::Close { outcome } => {
                ("alert.close", serde_json::json!({"alert_id": alert_id, "kind": a.kind, "outcome": outcome.trim()}))
            }
        };
        let action = match action {
            AlertAction::Close { outcome } => AlertAction::Close { outcome: outcome.trim().to_string() },
            other => other.clone(),
        };
        let audit = AuditEntry::new(&actor.username, verb, &format!("alert:{alert_id}"), payload.to_string());
        let at = format_timestamp(&self.now_local());
        if !self.store.act_on_alert(alert_id, &action, &actor.username, &at, &audit)? {
            return Err(tierwise_store::StoreError::Conflict(format!("alert {alert_id} is {}", a.status)).into());
        }
        self.work_changed();
        self.alert(actor, alert_id, lang)
    }

    pub fn tasks(&self, actor: &Actor, f: &WorkFilter, lang: Lang) -> AppResult<Vec<TaskView>> {
        let q = TaskQuery {
            scope: Self::work_scope(actor)?,
            status: Some(crate::desk::nonempty(&f.status).unwrap_or_else(|| "open".into())).filter(|s| s != "all"),
            kind: crate::desk::nonempty(&f.kind),
            client_id: crate::desk::nonempty(&f.client_id),
            advisor_id: crate::desk::nonempty(&f.advisor_id),
            due_from: None,
            due_until: f.due.unwrap_or(false).then(|| self.today()),
            limit: f.limit.unwrap_or(50).clamp(1, 200),
            offset: f.offset.unwrap_or(0),
        };
        Ok(self.store.tasks(&q)?.into_iter().map(|t| self.task_view(t, lang)).collect())
    }

    fn visible_task(&self, actor: &Actor, task_id: i64) -> AppResult<Task> {
        let scope = Self::work_scope(actor)?;
        let t = self.store.task(task_id)?.ok_or_else(|| AppError::NotFound(format!("task {task_id}")))?;
        if scope.admits(t.advisor_id.as_deref(), t.branch_id.as_deref()) {
            Ok(t)
        } else {
            Err(AppError::NotFound(format!("task {task_id}")))
        }
    }

    /// Completes a task by logging the contact that did it (one
    /// transaction); a follow-up then schedules the next one and sends the
    /// client a satisfaction survey.
    pub fn complete_task(&self, actor: &Actor, task_id: i64, input: &CompleteTask, lang: Lang) -> AppResult<TaskDone> {
        actor.require(Permission::ServeClients)?;
        let t = self.visible_task(actor, task_id)?;
        let channel = InteractionChannel::parse(input.channel.trim()).map_err(|e| invalid("channel", e.to_string()))?;
        let clip = |s: &Option<String>, field: &str| -> AppResult<Option<String>> {
            match crate::desk::nonempty(s) {
                Some(v) if v.chars().count() > 500 => Err(invalid(field, "at most 500 characters")),
                v => Ok(v),
            }
        };
        let contact = Interaction {
            client_id: t.client_id.clone(),
            advisor_id: actor.advisor_id.clone().or(t.advisor_id.clone()),
            at: self.now_local(),
            channel,
            topic: clip(&input.topic, "topic")?
                .or_else(|| Some(TaskKind::parse(&t.kind).map_or(t.kind.clone(), |k| k.name(lang).to_string()))),
            outcome: clip(&input.outcome, "outcome")?,
        };
        let outcome = contact.outcome.clone().unwrap_or_else(|| "contacted".into());
        let audit = AuditEntry::new(
            &actor.username,
            "task.complete",
            &format!("task:{task_id}"),
            serde_json::json!({"task_id": task_id, "kind": t.kind, "client_id": t.client_id, "channel": channel.as_str(),
                "outcome": outcome})
            .to_string(),
        );
        let at = format_timestamp(&contact.at);
        if !self.store.complete_task(task_id, &actor.username, &at, &outcome, Some(&contact), &audit)? {
            return Err(tierwise_store::StoreError::Conflict(format!("task {task_id} is {}", t.status)).into());
        }
        let (next_due, survey_path) = self.after_contact(&actor.username, &t.client_id, &contact, Some(&t))?;
        self.work_changed();
        let done = self.store.task(task_id)?.ok_or_else(|| AppError::NotFound(format!("task {task_id}")))?;
        Ok(TaskDone { task: self.task_view(done, lang), next_due: next_due.map(|d| d.to_string()), survey_path })
    }

    // ---- the workbench ---------------------------------------------------------

    /// The advisor's day: overdue and due tasks, the week ahead, open alerts
    /// by severity (a team lead sees the branch's).
    pub fn my_day(&self, actor: &Actor, lang: Lang) -> AppResult<MyDay> {
        // the day of those who serve clients (compliance reads the alert list)
        actor.require(Permission::ServeClients)?;
        let scope = Self::work_scope(actor)?;
        let today = self.today();
        let open = |from: Option<NaiveDate>, until: NaiveDate, limit: u32| -> AppResult<Vec<TaskView>> {
            Ok(self
                .store
                .tasks(&TaskQuery {
                    scope: scope.clone(),
                    status: Some("open".into()),
                    due_from: from,
                    due_until: Some(until),
                    limit,
                    ..Default::default()
                })?
                .into_iter()
                .map(|t| self.task_view(t, lang))
                .collect())
        };
        let overdue = open(None, today - Duration::days(1), DAY_LIST)?;
        let due_today = open(Some(today), today, DAY_LIST)?;
        let upcoming = open(Some(today + Duration::days(1)), today + Duration::days(7), DAY_LIST)?;
        let (overdue_total, alert_counts) = self.store.day_counts(&scope, today)?;
        let alerts = self
            .store
            .alerts(&AlertQuery { scope, status: Some("open".into()), limit: 50, ..Default::default() })?
            .into_iter()
            .map(|a| self.alert_view(a, lang))
            .collect();
        Ok(MyDay { today: today.to_string(), overdue_total, overdue, due_today, upcoming, alert_counts, alerts })
    }

    /// The team lead's view: each advisor of the branch with capacity, load,
    /// open and overdue tasks and open alerts, and the assignment proposals.
    /// (Kept a minute: counting a branch's open work reads tens of thousands
    /// of index entries; this server's own changes start afresh.)
    pub fn team(&self, actor: &Actor) -> AppResult<TeamView> {
        actor.require(Permission::AssignClients)?;
        let scope = actor.scope();
        let run = self.store.latest_run()?.map_or(0, |r| r.run_id);
        let key = format!("{run}/{scope:?}/{}", self.today());
        if let Some(v) = self.team_cache.get(&key, TEAM_TTL) {
            return Ok(v.as_ref().clone());
        }
        let v = self.team_now(&scope)?;
        self.team_cache.put(key, std::sync::Arc::new(v.clone()), TEAM_TTL);
        Ok(v)
    }

    fn team_now(&self, scope: &ClientScope) -> AppResult<TeamView> {
        let scope = scope.clone();
        let today = self.today();
        let advisors: Vec<_> = self
            .store
            .advisors()?
            .into_iter()
            .filter(|a| match &scope {
                ClientScope::Branch(b) => a.branch_id.as_deref() == Some(b),
                ClientScope::All => true,
                _ => false,
            })
            .collect();
        let books: HashMap<String, i64> = match self.store.latest_run()? {
            Some(r) => self.store.advisor_books(r.run_id)?.into_iter().map(|b| (b.advisor_id, b.clients)).collect(),
            None => HashMap::new(),
        };
        let load: Vec<_> = self.store.task_load(&scope, today)?;
        let alerts: HashMap<Option<String>, i64> = self.store.alert_load(&scope)?.into_iter().collect();
        let mut rows = Vec::new();
        for a in advisors {
            let clients = books.get(&a.advisor_id).copied().unwrap_or(0);
            let (open, overdue) = load
                .iter()
                .filter(|l| l.advisor_id.as_deref() == Some(a.advisor_id.as_str()))
                .fold((0, 0), |(o, d), l| (o + l.open, d + l.overdue));
            rows.push(AdvisorLoadView {
                load_pct: a.capacity.filter(|c| *c > 0).map(|c| clients * 100 / i64::from(c)),
                open_alerts: alerts.get(&Some(a.advisor_id.clone())).copied().unwrap_or(0),
                advisor_id: a.advisor_id,
                name: a.name,
                title: a.title.map(|t| t.as_str().to_string()),
                experience_years: a.experience_years,
                capacity: a.capacity,
                clients,
                open_tasks: open,
                overdue_tasks: overdue,
            });
        }
        let (u_open, u_overdue) =
            load.iter().filter(|l| l.advisor_id.is_none()).fold((0, 0), |(o, d), l| (o + l.open, d + l.overdue));
        let plan = self.cached_plan(&scope)?;
        Ok(TeamView {
            advisors: rows,
            unassigned_open_tasks: u_open,
            unassigned_overdue_tasks: u_overdue,
            unplaced: plan.unplaced.len() as i64,
            proposals: plan.proposals.iter().take(500).map(proposal_view).collect(),
        })
    }

    /// KPIs per advisor over the last `days` days: contact completion, book
    /// AUM and its change against the previous run, NPS, suitability
    /// warnings and prohibited attempts.
    /// (The table of a scope and period is kept for five minutes.)
    pub fn kpis(&self, actor: &Actor, days: i64) -> AppResult<Vec<AdvisorKpi>> {
        let scope = Self::work_scope(actor)?;
        let key = format!("{scope:?}/{days}/{}", self.today());
        if let Some(rows) = self.kpi_cache.get(&key, KPI_TTL) {
            return Ok(rows.as_ref().clone());
        }
        let rows = self.kpis_now(&scope, days)?;
        self.kpi_cache.put(key, std::sync::Arc::new(rows.clone()), KPI_TTL);
        Ok(rows)
    }

    fn kpis_now(&self, scope: &ClientScope, days: i64) -> AppResult<Vec<AdvisorKpi>> {
        let scope = scope.clone();
        let to = self.today();
        let from = to - Duration::days(days.clamp(1, 3660) - 1);
        let runs = self.store.runs()?;
        let books = |i: usize| -> AppResult<HashMap<String, (i64, Decimal)>> {
            Ok(match runs.get(i) {
                Some(r) => self
                    .store
                    .advisor_books(r.run_id)?
                    .into_iter()
                    .map(|b| (b.advisor_id, (b.clients, b.aum)))
                    .collect(),
                None => HashMap::new(),
            })
        };
        let (now, before) = (books(0)?, if runs.len() > 1 { Some(books(1)?) } else { None });
        let activity: HashMap<String, _> =
            self.store.advisor_activity(&scope, from, to)?.into_iter().map(|a| (a.advisor_id.clone(), a)).collect();
        let mut nps: HashMap<String, NpsCounts> = HashMap::new();
        for s in self.store.survey_scores(&scope)? {
            if let Some(a) = s.advisor_id {
                let e = nps.entry(a).or_default();
                for _ in 0..s.answers {
                    e.add(s.nps.clamp(0, 10) as u8);
                }
            }
        }
        let mut out = Vec::new();
        for a in self.store.advisors()? {
            if !scope.admits(Some(&a.advisor_id), a.branch_id.as_deref()) {
                continue;
            }
            let act = activity.get(&a.advisor_id);
            let (clients, aum) = now.get(&a.advisor_id).copied().unwrap_or_default();
            let due = act.map_or(0, |x| x.followups_due);
            let on_time = act.map_or(0, |x| x.followups_on_time);
            let n = nps.get(&a.advisor_id).copied().unwrap_or_default();
            out.push(AdvisorKpi {
                followups_due: due,
                followups_on_time: on_time,
                contact_completion_pct: (due > 0).then(|| on_time * 100 / due),
                clients,
                book_aum: aum,
                book_aum_change: before.as_ref().map(|b| aum - b.get(&a.advisor_id).map_or(Decimal::ZERO, |x| x.1)),
                nps: n.score(),
                nps_answers: n.answers,
                suitability_warnings: act.map_or(0, |x| x.warns),
                prohibited_attempts: act.map_or(0, |x| x.prohibited),
                advisor_id: a.advisor_id,
                name: a.name,
                branch_id: a.branch_id,
            });
        }
        Ok(out)
    }

    /// NPS by advisor, segment and branch, within what the viewer may see
    /// (roles without client access see the whole book's: aggregates only).
    pub fn nps(&self, actor: &Actor) -> AppResult<NpsView> {
        let scope = if actor.can(Permission::ViewClients) { actor.scope() } else { ClientScope::All };
        let mut all = NpsCounts::default();
        let mut by: [BTreeMap<String, NpsCounts>; 3] = Default::default();
        for s in self.store.survey_scores(&scope)? {
            let mut c = NpsCounts::default();
            for _ in 0..s.answers {
                c.add(s.nps.clamp(0, 10) as u8);
            }
            all.merge(&c);
            for (i, key) in [&s.advisor_id, &s.segment, &s.branch_id].into_iter().enumerate() {
                by[i].entry(key.clone().unwrap_or_else(|| "-".into())).or_default().merge(&c);
            }
        }
        let rows = |m: &BTreeMap<String, NpsCounts>| m.iter().map(|(k, c)| (k.clone(), c.score(), c.answers)).collect();
        Ok(NpsView {
            overall: all.score(),
            answers: all.answers,
            // an advisor's score is their appraisal: only for those who see their clients
            by_advisor: if actor.can(Permission::ViewClients) { rows(&by[0]) } else { Vec::new() },
            by_segment: rows(&by[1]),
            by_branch: rows(&by[2]),
        })
    }

    // ---- assignment ------------------------------------------------------------

    /// Forgets the kept assignment plans (after an import: advisors may have changed).
    pub(crate) fn forget_plans(&self) {
        self.plan_cache.clear();
        self.team_cache.clear();
    }

    /// After a change of work (a task done, an alert acted on, a sweep): the
    /// kept team figures are recounted on the next look.
    fn work_changed(&self) {
        self.team_cache.clear();
    }

    /// Plans every team lead's branch ahead of their first look (`serve` at
    /// start): a branch's first plan reads all of its clients.
    pub fn warm_team_plans(&self) -> AppResult<usize> {
        let mut n = 0;
        for u in self.store.users()? {
            if let (true, Some(b)) = (u.active && u.role == "team_lead", u.branch_id) {
                self.cached_plan(&ClientScope::Branch(b))?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// The plan of a scope, reused for `PLAN_TTL` within one run.
    fn cached_plan(&self, scope: &ClientScope) -> AppResult<std::sync::Arc<AssignmentPlan>> {
        let run = self.store.latest_run()?.map_or(0, |r| r.run_id);
        let key = format!("{run}/{scope:?}");
        if let Some(plan) = self.plan_cache.get(&key, PLAN_TTL) {
            return Ok(plan);
        }
        let plan = std::sync::Arc::new(self.propose_in(scope)?);
        self.plan_cache.put(key, plan.clone(), PLAN_TTL);
        Ok(plan)
    }

    fn propose_in(&self, scope: &ClientScope) -> AppResult<AssignmentPlan> {
        let Some(run) = self.store.latest_run()? else { return Ok(AssignmentPlan::default()) };
        let advisors: Vec<AdvisorSlot> = self
            .store
            .advisors()?
            .into_iter()
            .filter_map(|a| {
                Some(AdvisorSlot {
                    title: a.title?,
                    years: a.experience_years.unwrap_or(0),
                    capacity: a.capacity,
                    branch_id: a.branch_id,
                    advisor_id: a.advisor_id,
                })
            })
            .collect();
        // a team lead's branch is planned on its own: its clients, its advisors
        let branch = match scope {
            ClientScope::Branch(b) => Some(b.as_str()),
            _ => None,
        };
        let advisors: Vec<AdvisorSlot> =
            advisors.into_iter().filter(|a| branch.is_none() || a.branch_id.as_deref() == branch).collect();
        let clients: Vec<Placement> = self.store.placements(run.run_id, branch)?;
        let plan = |seg: &str| {
            self.pack.segment(seg).map(|s| Requirement {
                title: s.plan.advisor_title,
                min_years: s.plan.advisor_min_years,
                max_per_advisor: s.plan.max_clients_per_advisor,
            })
        };
        let mut out = tierwise_monitor::assign::propose(&advisors, &clients, &plan);
        if let Some(b) = branch {
            // the branch's advisors' clients of other branches count for their loads only
            let outside: std::collections::HashSet<&str> =
                clients.iter().filter(|p| p.branch_id.as_deref() != Some(b)).map(|p| p.client_id.as_str()).collect();
            out.proposals.retain(|p| !outside.contains(p.client_id.as_str()));
            out.unplaced.retain(|p| !outside.contains(p.client_id.as_str()));
        }
        Ok(out)
    }

    /// `tierwise assign [--apply]` and the team lead's page: proposals for
    /// unassigned and mismatched clients; with `apply`, moves them (only
    /// those still with the advisor the proposal saw), audits each move and
    /// notifies both advisors (an alert each).
    pub fn assign(&self, actor: Option<&Actor>, apply: bool, only: Option<&[String]>) -> AppResult<AssignmentView> {
        let scope = match actor {
            Some(a) => {
                a.require(Permission::AssignClients)?;
                a.scope()
            }
            None => ClientScope::All,
        };
        let by = actor.map_or("cli", |a| a.username.as_str()).to_string();
        // applying plans afresh: the advisors' books may have moved since
        let plan = if apply { std::sync::Arc::new(self.propose_in(&scope)?) } else { self.cached_plan(&scope)? };
        let mut proposals = plan.proposals.clone();
        if let Some(ids) = only {
            proposals.retain(|p| ids.contains(&p.client_id));
        }
        let mut applied = 0;
        if apply && !proposals.is_empty() {
            let branch_of: HashMap<String, Option<String>> =
                self.store.advisors()?.into_iter().map(|a| (a.advisor_id, a.branch_id)).collect();
            for chunk in proposals.chunks(5_000) {
                let mut b = WorkBatch { at: format_timestamp(&self.now_local()), by: by.clone(), ..Default::default() };
                for p in chunk {
                    b.reassign.push(Reassignment {
                        client_id: p.client_id.clone(),
                        from: p.from.clone(),
                        to: p.to.clone(),
                    });
                    b.audit.push(AuditEntry::new(
                        &by,
                        "assignment.apply",
                        &format!("client:{}", p.client_id),
                        serde_json::json!({"from": p.from, "to": p.to, "why": p.why.as_str(), "segment": p.segment})
                            .to_string(),
                    ));
                    let evidence = serde_json::json!({"from": p.from, "to": p.to, "why": p.why.as_str(), "segment": p.segment,
                        "rule": "service plan: advisor title, years and capacity"});
                    let mut notify = |kind: AlertKind, advisor: &str| {
                        b.alerts.push(NewAlert {
                            kind: kind.as_str().into(),
                            severity: kind.severity().as_str().into(),
                            subject: p.client_id.clone(),
                            client_id: Some(p.client_id.clone()),
                            advisor_id: Some(advisor.to_string()),
                            branch_id: branch_of.get(advisor).cloned().flatten(),
                            episode: format!("{}>{}@{}", p.from.as_deref().unwrap_or("-"), p.to, b.at),
                            evidence: evidence.to_string(),
                            source: "assignment".into(),
                        })
                    };
                    notify(AlertKind::ClientAssigned, &p.to);
                    if let Some(from) = &p.from {
                        notify(AlertKind::ClientReleased, from);
                    }
                }
                applied += self.store.apply_work(&b)?.reassigned.len();
            }
            self.forget_plans();
        }
        Ok(AssignmentView {
            proposals: proposals.iter().map(proposal_view).collect(),
            unplaced: plan
                .unplaced
                .iter()
                .map(|u| ProposalView {
                    client_id: u.client_id.clone(),
                    segment: u.segment.clone(),
                    from: u.current.clone(),
                    to: String::new(),
                    why: u.why.as_str().into(),
                })
                .collect(),
            loads: plan.loads.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            applied,
        })
    }

    // ---- the outbox ------------------------------------------------------------

    fn notice_view(&self, n: Notice, lang: Lang) -> NoticeView {
        NoticeView {
            kind_label: NoticeKind::parse(&n.kind).map_or_else(|| n.kind.clone(), |k| k.name(lang).to_string()),
            payload: serde_json::from_str(&n.payload).unwrap_or(serde_json::Value::Null),
            notice_id: n.notice_id,
            kind: n.kind,
            client_id: n.client_id,
            created_at: n.created_at,
            status: n.status,
            attempts: n.attempts,
            last_error: n.last_error,
            delivered_at: n.delivered_at,
        }
    }

    /// A client's notices and their delivery state.
    pub fn client_notices(&self, actor: &Actor, client_id: &str, lang: Lang) -> AppResult<Vec<NoticeView>> {
        actor.require(Permission::ViewClients)?;
        if !self.store.client_in_scope(client_id, &actor.scope())? {
            return Err(AppError::NotFound(format!("client {client_id}")));
        }
        let q =
            NoticeQuery { scope: actor.scope(), client_id: Some(client_id.into()), limit: 200, ..Default::default() };
        Ok(self.store.notices(&q)?.into_iter().map(|n| self.notice_view(n, lang)).collect())
    }

    /// Delivers the due notices to the webhook, once each: 2xx = delivered;
    /// anything else is retried with backoff, and dead after `max_attempts`.
    pub fn deliver_notices(&self, hook: &Webhook, limit: u32) -> AppResult<DeliveryReport> {
        let client = reqwest::blocking::Client::builder()
            .timeout(hook.timeout)
            .build()
            .map_err(|e| AppError::Aborted(format!("webhook client: {e}")))?;
        let mut report = DeliveryReport::default();
        let now = unix_now();
        let due = self.store.due_notices(now, limit)?;
        let mut updates = Vec::with_capacity(due.len());
        for n in due {
            let ts = unix_now();
            let result = client
                .post(&hook.url)
                .header("content-type", "application/json")
                .header("x-tierwise-delivery", n.notice_id.to_string())
                .header("x-tierwise-timestamp", ts.to_string())
                .header("x-tierwise-signature", webhook_signature(&hook.secret, ts, &n.payload))
                .body(n.payload.clone())
                .send();
            let error = match result {
                Ok(r) if r.status().is_success() => None,
                Ok(r) => Some(format!("HTTP {}", r.status().as_u16())),
                Err(e) => Some(format!("{}", e.without_url())),
            };
            let attempts = n.attempts + 1;
            updates.push(match error {
                None => {
                    report.delivered += 1;
                    NoticeUpdate {
                        notice_id: n.notice_id,
                        status: "delivered".into(),
                        attempts,
                        next_attempt_at: n.next_attempt_at,
                        last_error: None,
                        delivered_at: Some(format_timestamp(&self.now_local())),
                    }
                }
                Some(e) => {
                    let dead = attempts >= hook.max_attempts;
                    if dead {
                        report.dead += 1;
                    } else {
                        report.retried += 1;
                    }
                    NoticeUpdate {
                        notice_id: n.notice_id,
                        status: if dead { "dead" } else { "pending" }.into(),
                        attempts,
                        next_attempt_at: now + backoff(hook.backoff_seconds, attempts),
                        last_error: Some(e),
                        delivered_at: None,
                    }
                }
            });
        }
        self.store.update_notices(&updates)?;
        Ok(report)
    }

    /// The outbox as CSV (`notice_id,kind,client_id,created_at,status,attempts,last_error,delivered_at,payload`).
    pub fn export_notices(&self, status: Option<&str>, out: &mut dyn std::io::Write) -> AppResult<u64> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record([
            "notice_id",
            "kind",
            "client_id",
            "created_at",
            "status",
            "attempts",
            "last_error",
            "delivered_at",
            "payload",
        ])
        .map_err(|e| AppError::Aborted(e.to_string()))?;
        let mut after = None;
        let mut n = 0u64;
        loop {
            let page = self.store.notices(&NoticeQuery {
                status: status.map(String::from),
                after,
                limit: 1000,
                ..Default::default()
            })?;
            let Some(last) = page.last() else { break };
            after = Some(last.notice_id);
            for x in &page {
                w.write_record([
                    x.notice_id.to_string().as_str(),
                    &x.kind,
                    &x.client_id,
                    &x.created_at,
                    &x.status,
                    &x.attempts.to_string(),
                    x.last_error.as_deref().unwrap_or(""),
                    x.delivered_at.as_deref().unwrap_or(""),
                    &x.payload,
                ])
                .map_err(|e| AppError::Aborted(e.to_string()))?;
                n += 1;
            }
        }
        w.flush()?;
        Ok(n)
    }

    pub fn notice_counts(&self) -> AppResult<Vec<(String, i64)>> {
        Ok(self.store.notice_counts()?)
    }

    // ---- surveys ---------------------------------------------------------------

    fn open_survey_row(&self, token: &str) -> AppResult<Survey> {
        let s = self.store.survey(&access::token_hash(token))?.ok_or(AppError::LinkInvalid)?;
        if s.answered_at.is_some() || s.expires_at <= unix_now() {
            return Err(AppError::LinkInvalid);
        }
        Ok(s)
    }

    /// The survey behind a link (LinkInvalid when unknown, answered or expired).
    pub fn open_survey(&self, token: &str) -> AppResult<SurveyView> {
        let s = self.open_survey_row(token)?;
        let expires = chrono::DateTime::from_timestamp(s.expires_at, 0)
            .map(|t| t.with_timezone(&self.tz).format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default();
        Ok(SurveyView { expires_at: expires })
    }

    /// The client's answer: NPS 0–10 and a comment, once.
    pub fn answer_survey(&self, token: &str, nps: &str, comment: Option<&str>) -> AppResult<()> {
        let s = self.open_survey_row(token)?;
        let score: i64 = nps.trim().parse().map_err(|_| invalid("nps", "a whole number from 0 to 10"))?;
        if !tierwise_monitor::nps::valid_score(score) {
            return Err(invalid("nps", "a whole number from 0 to 10"));
        }
        let comment = comment.map(str::trim).filter(|c| !c.is_empty());
        if comment.is_some_and(|c| c.chars().count() > 1000) {
            return Err(invalid("comment", "at most 1000 characters"));
        }
        let audit = AuditEntry::new(
            &format!("client:{}", s.client_id),
            "survey.answer",
            &format!("client:{}", s.client_id),
            serde_json::json!({"nps": score, "advisor_id": s.advisor_id}).to_string(),
        );
        if !self.store.answer_survey(&s.token_hash, score, comment, unix_now(), &audit)? {
            return Err(AppError::LinkInvalid);
        }
        Ok(())
    }
}

fn proposal_view(p: &tierwise_monitor::assign::Proposal) -> ProposalView {
    ProposalView {
        client_id: p.client_id.clone(),
        segment: p.segment.clone(),
        from: p.from.clone(),
        to: p.to.clone(),
        why: p.why.as_str().into(),
    }
}

#[cfg(test)]
#[path = "work_tests.rs"]
mod tests;
