//! Rule packs and the simulation of a candidate pack over the whole book
//! (nothing is stored).

use super::charts::{Chart, MatrixTable};
use super::{inline_error, render, respond, run, Ctx, Section, UiResult};
use crate::i18n::Tr;
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::Form;
use serde::Deserialize;
use tierwise_app::desk::PackView;

#[derive(Template)]
#[template(path = "rules.html")]
struct RulesPage {
    tr: Tr,
    csrf: String,
    packs: Vec<PackView>,
}

pub(crate) async fn page(State(s): State<AppState>, ctx: Ctx) -> UiResult {
    let (app, actor, lang) = (s.app.clone(), ctx.actor.clone(), ctx.lang);
    let packs = run(lang, move || app.packs(&actor, lang)).await?;
    let p = RulesPage { tr: ctx.tr, csrf: ctx.csrf.clone(), packs };
    let body = render(&p, lang)?;
    respond(&ctx, Section::Rules, &ctx.tr.t("nav-rules"), body)
}

#[derive(Deserialize)]
pub(crate) struct SimForm {
    #[serde(default)]
    pack: String,
    #[serde(default)]
    text: String,
}

#[derive(Template)]
#[template(path = "simulation.html")]
struct SimPart {
    tr: Tr,
    pack: String,
    version: String,
    clients: u64,
    tiers: String,
    segments: String,
    tier_matrix: String,
    segment_matrix: String,
}

pub(crate) async fn simulate(State(s): State<AppState>, ctx: Ctx, Form(f): Form<SimForm>) -> UiResult {
    let candidate = if f.text.trim().is_empty() { f.pack.trim().to_string() } else { f.text.replace("\r\n", "\n") };
    let (app, actor, lang) = (s.app.clone(), ctx.actor.clone(), ctx.lang);
    let v = match crate::blocking(move || app.simulate_pack(&actor, &candidate, lang)).await {
        Ok(v) => v,
        Err(e) if ctx.htmx => return inline_error(e, lang),
        Err(e) => return Err(ctx.err(e)),
    };
    let tr = ctx.tr;
    let p = SimPart {
        tr,
        tiers: Chart::new(tr, tr.t("dash-by-tier"), &v.tiers).html()?,
        segments: Chart::new(tr, tr.t("dash-by-segment"), &v.segments).html()?,
        tier_matrix: MatrixTable::new(tr, tr.t("rules-tier-migrations"), &v.tier_migrations).html()?,
        segment_matrix: MatrixTable::new(tr, tr.t("rules-segment-migrations"), &v.segment_migrations).html()?,
        pack: v.pack,
        version: v.version,
        clients: v.clients,
    };
    let body = render(&p, lang)?;
    respond(&ctx, Section::Rules, &tr.t("rules-simulate"), body)
}
