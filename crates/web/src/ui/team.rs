//! The team lead's page (团队管理: each advisor's capacity and load, the
//! branch's unassigned tasks, reassignment by service plan) and the KPI
//! page (考核指标) of advisors, team leads and compliance.

use super::work::{channel_options, client_names, task_row, TaskRow};
use super::{code_label, money, or_dash, render, respond, run, Ctx, Labels, Opt, Section, UiResult};
use crate::i18n::{t_args, Tr};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::Form;
use rust_decimal::Decimal;
use serde::Deserialize;
use tierwise_app::access::Permission;
use tierwise_app::work::{AdvisorKpi, AssignmentView, TaskView, TeamView, WorkFilter};

pub(crate) struct AdvisorRow {
    pub id: String,
    pub name: String,
    pub title: String,
    pub years: String,
    pub capacity: String,
    pub clients: i64,
    pub load: String,
    /// at or above capacity
    pub over: bool,
    pub open_tasks: i64,
    pub overdue_tasks: i64,
    pub open_alerts: i64,
}

pub(crate) struct ProposalRow {
    pub client_id: String,
    pub segment: String,
    pub from: String,
    pub to: String,
    pub why: String,
}

/// What applying the proposals did.
pub(crate) struct Applied {
    pub line: String,
    pub moves: Vec<ProposalRow>,
}

#[derive(Template)]
#[template(path = "team.html")]
struct TeamPage {
    tr: Tr,
    csrf: String,
    can_serve: bool,
    channels: Vec<Opt>,
    advisors: Vec<AdvisorRow>,
    unassigned_open: i64,
    unassigned_overdue: i64,
    unassigned: Vec<TaskRow>,
    proposals: Vec<ProposalRow>,
    unplaced: String,
    applied: Option<Applied>,
}

fn proposal_rows(l: &Labels<'_>, ps: &[tierwise_app::work::ProposalView]) -> Vec<ProposalRow> {
    ps.iter()
        .map(|p| ProposalRow {
            client_id: p.client_id.clone(),
            segment: l.segment(&p.segment),
            from: or_dash(&p.from),
            to: if p.to.is_empty() { "—".into() } else { p.to.clone() },
            why: code_label(l.lang, "why", &p.why),
        })
        .collect()
}

/// The team's view and the branch's tasks nobody is assigned to.
fn team_data(
    app: &tierwise_app::App,
    actor: &tierwise_app::access::Actor,
    lang: tierwise_domain::Lang,
) -> tierwise_app::AppResult<(TeamView, Vec<TaskView>, std::collections::HashMap<String, String>)> {
    let team = app.team(actor)?;
    let f = WorkFilter { limit: Some(200), ..Default::default() };
    let tasks: Vec<TaskView> = app.tasks(actor, &f, lang)?.into_iter().filter(|t| t.advisor_id.is_none()).collect();
    let names = client_names(&tasks, []);
    Ok((team, tasks, names))
}

async fn team_view(s: &AppState, ctx: &Ctx, applied: Option<AssignmentView>) -> UiResult {
    let (app, actor, lang) = (s.app.clone(), ctx.actor.clone(), ctx.lang);
    let (team, tasks, names) = run(lang, move || team_data(&app, &actor, lang)).await?;
    let l = Labels { app: &s.app, lang };
    let today = s.app.today().to_string();
    let advisors = team
        .advisors
        .iter()
        .map(|a| AdvisorRow {
            id: a.advisor_id.clone(),
            name: or_dash(&a.name),
            title: a.title.as_deref().map_or_else(|| "—".into(), |t| code_label(lang, "title", t)),
            years: a.experience_years.map_or_else(|| "—".into(), |y| y.to_string()),
            capacity: a.capacity.map_or_else(|| "—".into(), |c| c.to_string()),
            clients: a.clients,
            load: a.load_pct.map_or_else(|| "—".into(), |p| format!("{p}%")),
            over: a.load_pct.is_some_and(|p| p >= 100),
            open_tasks: a.open_tasks,
            overdue_tasks: a.overdue_tasks,
            open_alerts: a.open_alerts,
        })
        .collect();
    let applied = applied.map(|v| Applied {
        line: t_args(lang, "team-applied", &[("n", v.applied.to_string())]),
        moves: proposal_rows(&l, &v.proposals),
    });
    let p = TeamPage {
        tr: ctx.tr,
        csrf: ctx.csrf.clone(),
        can_serve: ctx.can(Permission::ServeClients),
        channels: channel_options(lang),
        advisors,
        unassigned_open: team.unassigned_open_tasks,
        unassigned_overdue: team.unassigned_overdue_tasks,
        unassigned: tasks.iter().map(|t| task_row(&l, ctx.actor.role, t, &names, &today)).collect(),
        proposals: proposal_rows(&l, &team.proposals),
        unplaced: t_args(lang, "team-unplaced", &[("n", team.unplaced.to_string())]),
        applied,
    };
    let body = render(&p, lang)?;
    respond(ctx, Section::Team, &ctx.tr.t("nav-team"), body)
}

pub(crate) async fn team_page(State(s): State<AppState>, ctx: Ctx) -> UiResult {
    team_view(&s, &ctx, None).await
}

/// Applies every proposal (`apply=all`) or the ticked ones (`client_id`, repeated).
pub(crate) async fn apply(State(s): State<AppState>, ctx: Ctx, Form(pairs): Form<Vec<(String, String)>>) -> UiResult {
    let all = pairs.iter().any(|(k, v)| k == "apply" && v == "all");
    let chosen: Vec<String> = pairs
        .iter()
        .filter(|(k, v)| k == "client_id" && !v.trim().is_empty())
        .map(|(_, v)| v.trim().to_string())
        .collect();
    let (app, actor, lang) = (s.app.clone(), ctx.actor.clone(), ctx.lang);
    let only = if all { None } else { Some(chosen) };
    let done = run(lang, move || app.assign(Some(&actor), true, only.as_deref())).await?;
    team_view(&s, &ctx, Some(done)).await
}

// ---- KPIs --------------------------------------------------------------------------

pub(crate) struct KpiRow {
    pub advisor_id: String,
    pub name: String,
    pub branch: String,
    pub clients: i64,
    pub due: i64,
    pub on_time: i64,
    pub completion: String,
    pub completion_low: bool,
    pub aum: String,
    pub change: String,
    /// up | down | flat
    pub trend: &'static str,
    pub nps: String,
    pub nps_answers: u32,
    pub warnings: i64,
    pub prohibited: i64,
}

pub(crate) struct Period {
    pub days: i64,
    pub label: String,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "kpis.html")]
struct KpiPage {
    tr: Tr,
    periods: Vec<Period>,
    rows: Vec<KpiRow>,
    total: Option<KpiRow>,
}

#[derive(Deserialize)]
pub(crate) struct KpiQuery {
    days: Option<String>,
}

const PERIODS: [i64; 3] = [30, 90, 365];

fn kpi_row(k: &AdvisorKpi) -> KpiRow {
    let (change, trend) = match &k.book_aum_change {
        None => ("—".into(), "flat"),
        Some(c) if c.is_sign_positive() && !c.is_zero() => (format!("+{}", money(c)), "up"),
        Some(c) if c.is_zero() => (money(c), "flat"),
        Some(c) => (money(c), "down"),
    };
    KpiRow {
        advisor_id: k.advisor_id.clone(),
        name: or_dash(&k.name),
        branch: or_dash(&k.branch_id),
        clients: k.clients,
        due: k.followups_due,
        on_time: k.followups_on_time,
        completion: k.contact_completion_pct.map_or_else(|| "—".into(), |p| format!("{p}%")),
        completion_low: k.contact_completion_pct.is_some_and(|p| p < 80),
        aum: money(&k.book_aum),
        change,
        trend,
        nps: k.nps.map_or_else(|| "—".into(), |n| n.to_string()),
        nps_answers: k.nps_answers,
        warnings: k.suitability_warnings,
        prohibited: k.prohibited_attempts,
    }
}

/// The sum over several advisors (NPS is not additive: left out).
fn total_row(tr: Tr, ks: &[AdvisorKpi]) -> Option<KpiRow> {
    if ks.len() < 2 {
        return None;
    }
    let sum = |f: fn(&AdvisorKpi) -> i64| ks.iter().map(f).sum::<i64>();
    let due = sum(|k| k.followups_due);
    let on_time = sum(|k| k.followups_on_time);
    let aum: Decimal = ks.iter().map(|k| k.book_aum).sum();
    let change: Option<Decimal> = ks.iter().map(|k| k.book_aum_change).sum();
    let mut row = kpi_row(&AdvisorKpi {
        advisor_id: tr.t("matrix-total"),
        name: None,
        branch_id: None,
        followups_due: due,
        followups_on_time: on_time,
        contact_completion_pct: (due > 0).then(|| on_time * 100 / due),
        clients: sum(|k| k.clients),
        book_aum: aum,
        book_aum_change: change,
        nps: None,
        nps_answers: 0,
        suitability_warnings: sum(|k| k.suitability_warnings),
        prohibited_attempts: sum(|k| k.prohibited_attempts),
    });
    row.name = String::new();
    row.branch = String::new();
    Some(row)
}

pub(crate) async fn kpis_page(State(s): State<AppState>, ctx: Ctx, Query(q): Query<KpiQuery>) -> UiResult {
    let lang = ctx.lang;
    let days =
        q.days.as_deref().and_then(|d| d.trim().parse::<i64>().ok()).filter(|d| (1..=3660).contains(d)).unwrap_or(90);
    let (app, actor) = (s.app.clone(), ctx.actor.clone());
    let ks = run(ctx.lang, move || app.kpis(&actor, days)).await?;
    let tr = ctx.tr;
    let p = KpiPage {
        tr,
        periods: PERIODS
            .iter()
            .map(|d| Period { days: *d, label: t_args(lang, "kpi-days", &[("n", d.to_string())]), active: *d == days })
            .collect(),
        rows: ks.iter().map(kpi_row).collect(),
        total: total_row(tr, &ks),
    };
    let body = render(&p, ctx.lang)?;
    respond(&ctx, Section::Kpis, &tr.t("nav-kpis"), body)
}
