//! The dashboard: the viewer's book by tier and segment, the tier
//! migrations, the lists that need attention and client satisfaction (NPS).

use super::charts::{Chart, MatrixTable};
use super::checks::{check_rows, CheckRow};
use super::clients::{row_views, RowView};
use super::{render, respond, run, Ctx, Labels, Section, UiResult};
use crate::i18n::{t_args, Tr};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use tierwise_app::access::Permission;
use tierwise_app::work::NpsView;

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    tr: Tr,
    run_line: Option<String>,
    tiers: String,
    segments: String,
    migrations: String,
    show_lists: bool,
    expiring: Vec<RowView>,
    churn: Vec<RowView>,
    warnings: Vec<CheckRow>,
    nps: NpsPanel,
}

/// One row of an NPS table.
pub(crate) struct NpsRow {
    pub key: String,
    pub score: String,
    /// good | fair | poor | none
    pub class: &'static str,
    pub answers: u32,
}

/// The NPS panel (满意度): overall, by advisor, by segment, by branch.
pub(crate) struct NpsPanel {
    pub overall: NpsRow,
    pub by_advisor: Vec<NpsRow>,
    pub by_segment: Vec<NpsRow>,
    pub by_branch: Vec<NpsRow>,
}

fn nps_row(key: String, score: Option<i32>, answers: u32) -> NpsRow {
    let class = match score {
        None => "none",
        Some(n) if n >= 30 => "good",
        Some(n) if n >= 0 => "fair",
        Some(_) => "poor",
    };
    NpsRow { key, score: score.map_or_else(|| "—".into(), |n| n.to_string()), class, answers }
}

fn nps_panel(l: &Labels<'_>, n: &NpsView) -> NpsPanel {
    let rows = |v: &[(String, Option<i32>, u32)], f: &dyn Fn(&str) -> String| {
        v.iter().map(|(k, s, a)| nps_row(f(k), *s, *a)).collect::<Vec<_>>()
    };
    let dash = |k: &str| if k == "-" { "—".to_string() } else { k.to_string() };
    NpsPanel {
        overall: nps_row(String::new(), n.overall, n.answers),
        by_advisor: rows(&n.by_advisor, &dash),
        by_segment: rows(&n.by_segment, &|k| if k == "-" { "—".to_string() } else { l.segment(k) }),
        by_branch: rows(&n.by_branch, &dash),
    }
}

pub(crate) async fn page(State(s): State<AppState>, ctx: Ctx) -> UiResult {
    let (app, actor, lang) = (s.app.clone(), ctx.actor.clone(), ctx.lang);
    let (d, nps) = run(lang, move || Ok((app.dashboard(&actor, lang)?, app.nps(&actor)?))).await?;
    let tr = ctx.tr;
    let labels = Labels { app: &s.app, lang };
    let run_line = d.run.as_ref().map(|r| {
        let args = [
            ("as_of", r.as_of.clone()),
            ("pack", format!("{} {}", r.rule_pack, r.rule_version)),
            ("clients", d.clients.to_string()),
        ];
        t_args(lang, "dash-run", &args)
    });
    let p = DashboardPage {
        tr,
        run_line,
        tiers: Chart::new(tr, tr.t("dash-by-tier"), &d.tiers).html()?,
        segments: Chart::new(tr, tr.t("dash-by-segment"), &d.segments).html()?,
        migrations: MatrixTable::new(tr, tr.t("dash-tier-migrations"), &d.tier_migrations).html()?,
        show_lists: ctx.can(Permission::ViewClients),
        expiring: row_views(&labels, &d.expiring),
        churn: row_views(&labels, &d.churn_risk),
        warnings: check_rows(lang, &d.warnings),
        nps: nps_panel(&labels, &nps),
    };
    let body = render(&p, lang)?;
    respond(&ctx, Section::Dashboard, &tr.t("nav-dashboard"), body)
}
