//! Monitoring and relationship work at the desk (持续监控): the advisor's
//! day (我的工作台) with its tasks and alerts, logging the contact that
//! completes a task, acknowledging and closing alerts, and the rows the
//! client 360 page shows (the client's alerts, task history and notices).
//!
//! The application decides what each person sees and may do; these
//! handlers render its views.

use super::{
    code_label, money, or_dash, origin, render, respond, run, see_other, ts, Ctx, Labels, Opt, Section, UiResult,
};
use crate::i18n::Tr;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::Form;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use tierwise_app::access::{Actor, Permission, Role};
use tierwise_app::work::{AlertView, CompleteTask, MyDay, NoticeView, TaskView, WorkFilter};
use tierwise_app::{App, AppError};
use tierwise_domain::{InteractionChannel, Lang};
use tierwise_store::AlertAction;

// ---- rows ready to show ----------------------------------------------------------

/// One fact of an alert's or a task's evidence.
pub(crate) struct EvField {
    pub label: String,
    pub value: String,
}

/// Evidence keys whose values are amounts of money.
const MONEY_KEYS: &[&str] = &["aum", "amount", "large_outflow", "market_value"];

/// The evidence as labelled facts, and the rule that fired.
pub(crate) fn evidence(l: &Labels<'_>, v: &Value) -> (Vec<EvField>, Option<String>) {
    let Some(obj) = v.as_object() else { return (Vec::new(), None) };
    let rule = obj.get("rule").and_then(Value::as_str).map(String::from);
    let fields = obj
        .iter()
        .filter(|(k, _)| k.as_str() != "rule")
        .filter_map(|(k, v)| {
            Some(EvField { label: code_label(l.lang, "ev", k), value: ev_value(l, k, v).filter(|s| !s.is_empty())? })
        })
        .collect();
    (fields, rule)
}

fn ev_value(l: &Labels<'_>, key: &str, v: &Value) -> Option<String> {
    let lang = l.lang;
    Some(match v {
        Value::Null => return None,
        Value::Bool(b) => Tr(lang).t(if *b { "yes" } else { "no" }),
        Value::Number(n) => n.to_string(),
        Value::String(s) => match key {
            k if MONEY_KEYS.contains(&k) => s.parse::<Decimal>().map_or_else(|_| s.clone(), |d| money(&d)),
            "segment" => l.segment(s),
            "asset_tier" | "previous_asset_tier" | "churn_risk" => l.dim(key, s),
            "kind" => code_label(lang, "txn", s),
            "why" => code_label(lang, "why", s),
            "what" => code_label(lang, "ev", s),
            "ts" => ts(s),
            _ => s.clone(),
        },
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().filter_map(|x| ev_value(l, key, x)).collect();
            parts.join("; ")
        }
        Value::Object(o) => {
            let parts: Vec<String> = o
                .iter()
                .filter_map(|(k, x)| ev_value(l, k, x).map(|s| format!("{} {s}", code_label(lang, "ev", k))))
                .collect();
            parts.join(", ")
        }
    })
}

/// A task, ready to show (open with its contact form, or finished).
pub(crate) struct TaskRow {
    pub id: i64,
    pub kind: String,
    pub client_id: String,
    pub client_name: String,
    /// the advisor it is assigned to, for viewers other than that advisor
    pub advisor_note: Option<String>,
    pub due: String,
    pub overdue_days: i64,
    /// overdue | today | upcoming | done
    pub urgency: &'static str,
    pub open: bool,
    pub status: String,
    pub status_label: String,
    /// who finished it, when, and the outcome
    pub done_line: String,
    pub evidence: Vec<EvField>,
    pub rule: Option<String>,
    /// after completion: the next follow-up and the survey link sent to the client
    pub next_due: Option<String>,
    pub survey_url: Option<String>,
}

/// Names of the clients of a list, as far as the viewer may read them.
/// Client id → name, from the names the tasks and alerts were read with.
pub(crate) fn client_names<'a>(
    tasks: impl IntoIterator<Item = &'a TaskView>,
    alerts: impl IntoIterator<Item = &'a tierwise_app::work::AlertView>,
) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for t in tasks {
        if let Some(n) = t.client_name.as_ref().filter(|n| !n.is_empty()) {
            out.insert(t.client_id.clone(), n.clone());
        }
    }
    for a in alerts {
        if let (Some(id), Some(n)) = (&a.client_id, a.client_name.as_ref().filter(|n| !n.is_empty())) {
            out.insert(id.clone(), n.clone());
        }
    }
    out
}

pub(crate) fn task_row(
    l: &Labels<'_>,
    role: Role,
    t: &TaskView,
    names: &HashMap<String, String>,
    today: &str,
) -> TaskRow {
    let lang = l.lang;
    let (evidence, rule) = evidence(l, &t.evidence);
    let open = t.status == "open";
    let urgency = match (open, t.overdue_days > 0, t.due.as_str() == today) {
        (false, _, _) => "done",
        (true, true, _) => "overdue",
        (true, false, true) => "today",
        _ => "upcoming",
    };
    let mut done = Vec::new();
    if let Some(by) = &t.completed_by {
        done.push(by.clone());
    }
    if let Some(at) = &t.completed_at {
        done.push(ts(at));
    }
    if let Some(o) = t.outcome.as_deref().filter(|o| !o.is_empty()) {
        done.push(code_label(lang, "outcome", o));
    }
    TaskRow {
        id: t.task_id,
        kind: t.kind_label.clone(),
        client_name: names.get(&t.client_id).cloned().unwrap_or_else(|| t.client_id.clone()),
        client_id: t.client_id.clone(),
        advisor_note: if role == Role::Advisor { None } else { Some(or_dash(&t.advisor_id)) },
        due: t.due.clone(),
        overdue_days: t.overdue_days,
        urgency,
        open,
        status_label: code_label(lang, "tstatus", &t.status),
        status: t.status.clone(),
        done_line: done.join(" · "),
        evidence,
        rule,
        next_due: None,
        survey_url: None,
    }
}

/// An alert, ready to show.
pub(crate) struct AlertRow {
    pub id: i64,
    pub kind: String,
    pub severity: String,
    pub severity_label: String,
    pub subject: String,
    pub client_id: Option<String>,
    pub client_name: String,
    pub advisor_note: Option<String>,
    pub created_at: String,
    pub status: String,
    pub status_label: String,
    pub acknowledged: bool,
    pub closed: bool,
    /// who acknowledged or closed it, when, and the outcome
    pub state_line: String,
    pub evidence: Vec<EvField>,
    pub rule: Option<String>,
}

pub(crate) fn alert_row(l: &Labels<'_>, role: Role, a: &AlertView, names: &HashMap<String, String>) -> AlertRow {
    let lang = l.lang;
    let tr = Tr(lang);
    let (evidence, rule) = evidence(l, &a.evidence);
    let mut state = Vec::new();
    if let Some(by) = &a.acknowledged_by {
        state.push(format!("{} {by}", tr.t("work-acknowledged-by")));
    }
    if let Some(by) = &a.closed_by {
        let mut s = format!("{} {by}", tr.t("work-closed-by"));
        if let Some(at) = &a.closed_at {
            s.push_str(&format!(" {}", ts(at)));
        }
        state.push(s);
    }
    if let Some(o) = a.outcome.as_deref().filter(|o| !o.is_empty()) {
        state.push(format!("{} {}", tr.t("work-outcome"), code_label(lang, "outcome", o)));
    }
    AlertRow {
        id: a.alert_id,
        kind: a.kind_label.clone(),
        severity: a.severity.clone(),
        severity_label: a.severity_label.clone(),
        subject: a.subject.clone(),
        client_name: a
            .client_id
            .as_ref()
            .map(|c| names.get(c).cloned().unwrap_or_else(|| c.clone()))
            .unwrap_or_default(),
        client_id: a.client_id.clone(),
        advisor_note: if role == Role::Advisor { None } else { Some(or_dash(&a.advisor_id)) },
        created_at: ts(&a.created_at),
        status_label: code_label(lang, "astatus", &a.status),
        acknowledged: a.status == "acknowledged",
        closed: a.status == "closed",
        status: a.status.clone(),
        state_line: state.join(" · "),
        evidence,
        rule,
    }
}

/// A client notice and its delivery.
pub(crate) struct NoticeRow {
    pub id: i64,
    pub kind: String,
    pub created_at: String,
    pub status: String,
    pub status_label: String,
    pub attempts: i64,
    pub delivered_at: String,
    pub last_error: String,
}

pub(crate) fn notice_rows(lang: Lang, notices: &[NoticeView]) -> Vec<NoticeRow> {
    notices
        .iter()
        .map(|n| NoticeRow {
            id: n.notice_id,
            kind: n.kind_label.clone(),
            created_at: ts(&n.created_at),
            status: n.status.clone(),
            status_label: code_label(lang, "nstatus", &n.status),
            attempts: n.attempts,
            delivered_at: n.delivered_at.as_deref().map_or_else(|| "—".into(), ts),
            last_error: or_dash(&n.last_error),
        })
        .collect()
}

/// The channels of a logged contact.
pub(crate) fn channel_options(lang: Lang) -> Vec<Opt> {
    super::code_options(lang, "ich", InteractionChannel::NAMES)
}

// ---- the advisor's day -------------------------------------------------------------

pub(crate) struct AlertGroup {
    pub severity: String,
    pub label: String,
    pub count: i64,
    pub alerts: Vec<AlertRow>,
}

pub(crate) struct SevCount {
    pub severity: String,
    pub label: String,
    pub count: i64,
}

/// How many tasks each list of the day holds (the lists may show fewer).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct DayTotals {
    pub overdue: usize,
    pub due_today: usize,
    pub upcoming: usize,
}

/// The advisor's day and how many tasks each list holds (the overdue list
/// holds the oldest 200 of `overdue_total`).
pub(crate) fn full_day(app: &App, actor: &Actor, lang: Lang) -> tierwise_app::AppResult<(MyDay, DayTotals)> {
    let day = app.my_day(actor, lang)?;
    let totals = DayTotals {
        overdue: usize::try_from(day.overdue_total).unwrap_or(0).max(day.overdue.len()),
        due_today: day.due_today.len(),
        upcoming: day.upcoming.len(),
    };
    Ok((day, totals))
}

/// A list of tasks of the day (overdue, due today, the next 7 days).
pub(crate) struct TaskList {
    pub anchor: &'static str,
    pub title: String,
    pub overdue: bool,
    pub rows: Vec<TaskRow>,
    /// how many the page could show (the list shows the first `DAY_ROWS` unless asked for all)
    pub available: usize,
    /// how many there are
    pub total: usize,
}

/// Rows per list of the day unless `?all=1` (an advisor works from the top).
const DAY_ROWS: usize = 40;

#[derive(Template)]
#[template(path = "work.html")]
struct MyDayPage {
    tr: Tr,
    csrf: String,
    back: String,
    can_serve: bool,
    channels: Vec<Opt>,
    today: String,
    lists: Vec<TaskList>,
    counts: Vec<SevCount>,
    groups: Vec<AlertGroup>,
}

#[derive(Deserialize)]
pub(crate) struct DayQuery {
    all: Option<String>,
}

pub(crate) async fn my_day(State(s): State<AppState>, ctx: Ctx, Query(q): Query<DayQuery>) -> UiResult {
    let all = matches!(q.all.as_deref(), Some("1" | "true"));
    let shown = if all { usize::MAX } else { DAY_ROWS };
    let (app, actor, lang) = (s.app.clone(), ctx.actor.clone(), ctx.lang);
    let (day, totals, names) = run(lang, move || {
        let (day, totals) = full_day(&app, &actor, lang)?;
        let tasks = [&day.overdue, &day.due_today, &day.upcoming].into_iter().flat_map(|ts| ts.iter().take(shown));
        let names = client_names(tasks, &day.alerts);
        Ok((day, totals, names))
    })
    .await?;
    let l = Labels { app: &s.app, lang };
    let role = ctx.actor.role;
    let tr = ctx.tr;
    let list = |anchor: &'static str, key: &str, ts: &[TaskView], total: usize| TaskList {
        anchor,
        title: tr.t(key),
        overdue: anchor == "overdue",
        rows: ts.iter().take(shown).map(|t| task_row(&l, role, t, &names, &day.today)).collect(),
        available: ts.len(),
        total: total.max(ts.len()),
    };
    let lists = vec![
        list("overdue", "work-overdue", &day.overdue, totals.overdue),
        list("due-today", "work-due-today", &day.due_today, totals.due_today),
        list("upcoming", "work-upcoming", &day.upcoming, totals.upcoming),
    ];
    let label = |sev: &str| code_label(lang, "severity", sev);
    let counts: Vec<SevCount> = day
        .alert_counts
        .iter()
        .map(|(sev, n)| SevCount { severity: sev.clone(), label: label(sev), count: *n })
        .collect();
    let mut groups: Vec<AlertGroup> = Vec::new();
    for a in &day.alerts {
        let row = alert_row(&l, role, a, &names);
        match groups.last_mut() {
            Some(g) if g.severity == a.severity => g.alerts.push(row),
            _ => groups.push(AlertGroup {
                severity: a.severity.clone(),
                label: a.severity_label.clone(),
                count: counts.iter().find(|c| c.severity == a.severity).map_or(0, |c| c.count),
                alerts: vec![row],
            }),
        }
    }
    let p = MyDayPage {
        tr,
        csrf: ctx.csrf.clone(),
        back: "/work".into(),
        can_serve: ctx.can(Permission::ServeClients),
        channels: channel_options(lang),
        today: day.today.clone(),
        lists,
        counts,
        groups,
    };
    let body = render(&p, lang)?;
    respond(&ctx, Section::Work, &tr.t("nav-work"), body)
}

// ---- logging the contact that completes a task --------------------------------------

#[derive(Template)]
#[template(path = "work_task_part.html")]
pub(crate) struct TaskPart {
    pub tr: Tr,
    pub csrf: String,
    pub can_serve: bool,
    pub channels: Vec<Opt>,
    pub t: TaskRow,
}

#[derive(Template)]
#[template(path = "work_alert_part.html")]
pub(crate) struct AlertPart {
    pub tr: Tr,
    pub csrf: String,
    pub back: String,
    pub can_serve: bool,
    pub a: AlertRow,
}

#[derive(Deserialize)]
pub(crate) struct ContactForm {
    #[serde(default)]
    channel: String,
    topic: Option<String>,
    outcome: Option<String>,
}

const HX_RETARGET: HeaderName = HeaderName::from_static("hx-retarget");
const HX_RESWAP: HeaderName = HeaderName::from_static("hx-reswap");

/// A refusal shown in the row's message slot (htmx), or as a page.
fn refused(ctx: &Ctx, slot: &str, e: AppError) -> UiResult {
    if !ctx.htmx {
        return Err(ctx.err(e));
    }
    let message = super::message_of(e, ctx.lang)?;
    let body = render(&super::Alert { kind: "error", message }, ctx.lang)?;
    let mut res = super::html(StatusCode::OK, body);
    if let Ok(v) = HeaderValue::from_str(slot) {
        res.headers_mut().insert(HX_RETARGET, v);
        res.headers_mut().insert(HX_RESWAP, HeaderValue::from_static("innerHTML"));
    }
    Ok(res)
}

pub(crate) async fn complete_task(
    State(s): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<ContactForm>,
) -> UiResult {
    let (app, actor, lang) = (s.app.clone(), ctx.actor.clone(), ctx.lang);
    let input = CompleteTask { channel: f.channel, topic: f.topic, outcome: f.outcome };
    let res = crate::blocking(move || {
        let done = app.complete_task(&actor, id, &input, lang)?;
        let names = client_names([&done.task], []);
        Ok((done, names, app.today().to_string()))
    })
    .await;
    let (done, names, today) = match res {
        Ok(x) => x,
        Err(e) => return refused(&ctx, &format!("#task-{id}-msg"), e),
    };
    let l = Labels { app: &s.app, lang };
    let mut t = task_row(&l, ctx.actor.role, &done.task, &names, &today);
    t.next_due = done.next_due.clone();
    t.survey_url = done.survey_path.as_ref().map(|p| format!("{}{p}", origin(&headers, s.secure_cookies)));
    let part = TaskPart { tr: ctx.tr, csrf: ctx.csrf.clone(), can_serve: false, channels: Vec::new(), t };
    let body = render(&part, lang)?;
    if ctx.htmx {
        return respond(&ctx, Section::Work, "", body);
    }
    let body = format!("<ul class=\"tasks\">{body}</ul><p><a href=\"/work\">{}</a></p>", ctx.tr.t("work-back"));
    respond(&ctx, Section::Work, &ctx.tr.t("nav-work"), body)
}

// ---- acknowledging and closing alerts ------------------------------------------------

#[derive(Deserialize)]
pub(crate) struct AlertForm {
    outcome: Option<String>,
    /// the page to return to without script (a local path)
    back: Option<String>,
}

/// A local path to return to (never another site).
fn back_to(back: &Option<String>) -> String {
    match back.as_deref() {
        Some(b) if b.starts_with('/') && !b.starts_with("//") && !b.contains('\\') => b.to_string(),
        _ => "/work".into(),
    }
}

async fn act(s: AppState, ctx: Ctx, id: i64, action: AlertAction, back: String) -> UiResult {
    let (app, actor, lang) = (s.app.clone(), ctx.actor.clone(), ctx.lang);
    let res = crate::blocking(move || {
        let a = app.act_on_alert(&actor, id, &action, lang)?;
        let names = client_names([], [&a]);
        Ok((a, names))
    })
    .await;
    let (a, names) = match res {
        Ok(x) => x,
        Err(e) => return refused(&ctx, &format!("#alert-{id}-msg"), e),
    };
    if !ctx.htmx {
        return Ok(see_other(&back));
    }
    let l = Labels { app: &s.app, lang: ctx.lang };
    let part = AlertPart {
        tr: ctx.tr,
        csrf: ctx.csrf.clone(),
        back,
        can_serve: ctx.can(Permission::ServeClients),
        a: alert_row(&l, ctx.actor.role, &a, &names),
    };
    let body = render(&part, ctx.lang)?;
    respond(&ctx, Section::Work, "", body)
}

pub(crate) async fn acknowledge(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<AlertForm>,
) -> UiResult {
    let back = back_to(&f.back);
    act(s, ctx, id, AlertAction::Acknowledge, back).await
}

pub(crate) async fn close(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<AlertForm>,
) -> UiResult {
    let back = back_to(&f.back);
    let outcome = f.outcome.unwrap_or_default();
    act(s, ctx, id, AlertAction::Close { outcome }, back).await
}

// ---- the client 360 section --------------------------------------------------------------

/// The client's open alerts, tasks (open first, then the history) and notices.
pub(crate) struct ClientWork {
    pub alerts: Vec<AlertRow>,
    pub tasks: Vec<TaskRow>,
    pub notices: Vec<NoticeRow>,
}

/// Reads the client's work (on the blocking pool, with the 360's other reads).
pub(crate) fn client_work_views(
    app: &App,
    actor: &Actor,
    client_id: &str,
    lang: Lang,
) -> tierwise_app::AppResult<(Vec<AlertView>, Vec<TaskView>, Vec<NoticeView>)> {
    let f = |status: &str| WorkFilter {
        status: Some(status.into()),
        client_id: Some(client_id.into()),
        limit: Some(100),
        ..Default::default()
    };
    let alerts = app.alerts(actor, &f("open"), lang)?;
    let mut tasks = app.tasks(actor, &f("all"), lang)?;
    // open ones first by due date, then the history, newest first
    tasks.sort_by(|a, b| {
        let open = |t: &TaskView| t.status != "open";
        open(a).cmp(&open(b)).then_with(|| {
            if a.status == "open" {
                a.due.cmp(&b.due)
            } else {
                b.completed_at.cmp(&a.completed_at).then(b.task_id.cmp(&a.task_id))
            }
        })
    });
    let notices = app.client_notices(actor, client_id, lang)?;
    Ok((alerts, tasks, notices))
}

pub(crate) fn client_work(
    l: &Labels<'_>,
    role: Role,
    name: &str,
    client_id: &str,
    views: &(Vec<AlertView>, Vec<TaskView>, Vec<NoticeView>),
) -> ClientWork {
    let names: HashMap<String, String> = [(client_id.to_string(), name.to_string())].into_iter().collect();
    let today = l.app.today().to_string();
    ClientWork {
        alerts: views.0.iter().map(|a| alert_row(l, role, a, &names)).collect(),
        tasks: views.1.iter().map(|t| task_row(l, role, t, &names, &today)).collect(),
        notices: notice_rows(l.lang, &views.2),
    }
}
