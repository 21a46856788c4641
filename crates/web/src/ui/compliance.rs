//! Compliance: warnings, prohibited attempts, confirmations, expired and
//! stale assessments, holdings above tolerance; the audit trail and its
//! verification.

use super::checks::{check_rows, CheckRow};
use super::clients::{row_views, RowView};
use super::{enc, inline_error, render, respond, run, ts, Ctx, Labels, Section, UiResult};
use crate::i18n::Tr;
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use serde::Deserialize;
use tierwise_app::access::Permission;

#[derive(Template)]
#[template(path = "compliance.html")]
struct CompliancePage {
    tr: Tr,
    warnings: Vec<CheckRow>,
    prohibited: Vec<CheckRow>,
    confirmations: Vec<CheckRow>,
    expired: Vec<RowView>,
    stale: Vec<RowView>,
    above: Vec<RowView>,
}

pub(crate) async fn page(State(s): State<AppState>, ctx: Ctx) -> UiResult {
    let (app, actor, lang) = (s.app.clone(), ctx.actor.clone(), ctx.lang);
    let v = run(lang, move || app.compliance(&actor, lang)).await?;
    let l = Labels { app: &s.app, lang };
    let p = CompliancePage {
        tr: ctx.tr,
        warnings: check_rows(lang, &v.warnings),
        prohibited: check_rows(lang, &v.prohibited),
        confirmations: check_rows(lang, &v.confirmations),
        expired: row_views(&l, &v.expired),
        stale: row_views(&l, &v.stale),
        above: row_views(&l, &v.above_tolerance),
    };
    let body = render(&p, lang)?;
    respond(&ctx, Section::Compliance, &ctx.tr.t("nav-compliance"), body)
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct AuditParams {
    actor: Option<String>,
    action: Option<String>,
    subject: Option<String>,
    before: Option<String>,
}

pub(crate) struct EventRow {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub payload: String,
    pub hash: String,
    pub hash_short: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    tr: Tr,
    csrf: String,
    actor: String,
    action: String,
    subject: String,
    rows: Vec<EventRow>,
    older: Option<String>,
    newest: Option<String>,
}

const PAGE: u32 = 100;

pub(crate) async fn audit(State(s): State<AppState>, ctx: Ctx, Query(p): Query<AuditParams>) -> UiResult {
    let ne = |s: &Option<String>| s.as_ref().map(|x| x.trim().to_string()).filter(|x| !x.is_empty());
    let before = ne(&p.before).and_then(|b| b.parse::<i64>().ok());
    let q = tierwise_store::AuditQuery {
        actor: ne(&p.actor),
        action: ne(&p.action),
        subject: ne(&p.subject),
        from: None,
        to: None,
        before,
        limit: PAGE,
    };
    let (app, actor) = (s.app.clone(), ctx.actor.clone());
    let events = run(ctx.lang, move || app.audit_log(&actor, &q)).await?;
    let filters: Vec<String> = [("actor", ne(&p.actor)), ("action", ne(&p.action)), ("subject", ne(&p.subject))]
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", enc(v))))
        .collect();
    let older = match events.last() {
        Some(last) if events.len() == PAGE as usize => {
            let mut f = filters.clone();
            f.push(format!("before={}", last.seq));
            Some(f.join("&"))
        }
        _ => None,
    };
    let newest = before.map(|_| filters.join("&"));
    let rows = events
        .iter()
        .map(|e| EventRow {
            seq: e.seq,
            at: ts(&e.at),
            actor: e.actor.clone(),
            action: e.action.clone(),
            subject: e.subject.clone(),
            payload: e.payload.clone(),
            hash_short: e.hash.chars().take(12).collect(),
            hash: e.hash.clone(),
        })
        .collect();
    let page = AuditPage {
        tr: ctx.tr,
        csrf: ctx.csrf.clone(),
        actor: p.actor.unwrap_or_default(),
        action: p.action.unwrap_or_default(),
        subject: p.subject.unwrap_or_default(),
        rows,
        older,
        newest,
    };
    let body = render(&page, ctx.lang)?;
    respond(&ctx, Section::Audit, &ctx.tr.t("nav-audit"), body)
}

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPart {
    tr: Tr,
    intact: bool,
    events: i64,
    head: String,
    broken_seq: Option<i64>,
    reason: Option<String>,
}

pub(crate) async fn verify(State(s): State<AppState>, ctx: Ctx) -> UiResult {
    if ctx.htmx && !ctx.can(Permission::ViewAudit) {
        return inline_error(tierwise_app::AppError::Forbidden, ctx.lang);
    }
    let (app, actor) = (s.app.clone(), ctx.actor.clone());
    let v = match crate::blocking(move || app.verify_audit(Some(&actor))).await {
        Ok(v) => v,
        Err(e) if ctx.htmx => return inline_error(e, ctx.lang),
        Err(e) => return Err(ctx.err(e)),
    };
    let part = VerifyPart {
        tr: ctx.tr,
        intact: v.broken.is_none(),
        events: v.events,
        head: v.head,
        broken_seq: v.broken.as_ref().map(|b| b.0),
        reason: v.broken.map(|b| b.1),
    };
    let body = render(&part, ctx.lang)?;
    respond(&ctx, Section::Audit, &ctx.tr.t("audit-verify"), body)
}
