//! The dashboard: the viewer's book by tier and segment, the tier
//! migrations and the lists that need attention.

use super::charts::{Chart, MatrixTable};
use super::checks::{check_rows, CheckRow};
use super::clients::{row_views, RowView};
use super::{render, respond, run, Ctx, Labels, Section, UiResult};
use crate::i18n::{t_args, Tr};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use tierwise_app::access::Permission;

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
}

pub(crate) async fn page(State(s): State<AppState>, ctx: Ctx) -> UiResult {
    let (app, actor, lang) = (s.app.clone(), ctx.actor.clone(), ctx.lang);
    let d = run(lang, move || app.dashboard(&actor, lang)).await?;
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
    };
    let body = render(&p, lang)?;
    respond(&ctx, Section::Dashboard, &tr.t("nav-dashboard"), body)
}
