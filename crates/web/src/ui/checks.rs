//! Suitability checks at the desk (适当性匹配) and the sale that may follow:
//! after a match directly, after a warning only with the client's recorded
//! confirmation, never after a prohibition.

use super::{code_label, inline_error, money, render, respond, run, ts, Ctx, Opt, Section, UiResult};
use crate::error::WebError;
use crate::i18n::Tr;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderName, HeaderValue};
use axum::Form;
use rust_decimal::Decimal;
use serde::Deserialize;
use tierwise_app::access::Permission;
use tierwise_app::desk::{CheckInput, CheckResult, CheckView, ProductView, SaleInput};
use tierwise_app::AppError;
use tierwise_domain::Lang;

/// A stored check, ready to show in a list.
pub(crate) struct CheckRow {
    pub check_id: i64,
    pub client_id: String,
    pub product_id: String,
    pub at: String,
    pub verdict: String,
    pub verdict_label: String,
    pub reasons: Vec<String>,
    pub reasons_text: String,
    pub actor: String,
    pub sale_text: String,
}

/// The sale (and confirmation) of a check in words.
fn sale_text(lang: Lang, c: &CheckView) -> String {
    let tr = Tr(lang);
    let Some(s) = &c.sale else { return "—".into() };
    let mut out = format!("#{} · {} · {} {}", s.sale_id, money(&s.amount), s.recorded_by, ts(&s.recorded_at));
    if let Some(by) = &s.confirmed_by {
        out.push_str(&format!(" · {} {by}", tr.t("sale-confirmed-by")));
        if let Some(ch) = &s.confirmation_channel {
            out.push_str(&format!(" ({})", code_label(lang, "channel", ch)));
        }
        if let Some(r) = &s.recording_ref {
            out.push_str(&format!(" · {} {r}", tr.t("sale-recording")));
        }
    }
    out
}

pub(crate) fn check_rows(lang: Lang, checks: &[CheckView]) -> Vec<CheckRow> {
    checks
        .iter()
        .map(|c| {
            let reasons: Vec<String> = c.reasons.iter().map(|r| code_label(lang, "reason", r)).collect();
            CheckRow {
                check_id: c.check_id,
                client_id: c.client_id.clone(),
                product_id: c.product_id.clone(),
                at: ts(&c.at),
                verdict: c.verdict.clone(),
                verdict_label: code_label(lang, "verdict", &c.verdict),
                reasons_text: if reasons.is_empty() { "—".into() } else { reasons.join(super::list_sep(lang)) },
                reasons,
                actor: c.actor.clone(),
                sale_text: sale_text(lang, c),
            }
        })
        .collect()
}

/// The name of a client the viewer serves, for the page heading (404
/// outside the viewer's book, 403 for a role that serves nobody).
pub(crate) async fn client_name(s: &AppState, ctx: &Ctx, id: &str) -> Result<String, WebError> {
    let (app, actor, id2) = (s.app.clone(), ctx.actor.clone(), id.to_string());
    let name = run(ctx.lang, move || app.served_client_name(&actor, &id2)).await?;
    Ok(name.unwrap_or_else(|| id.to_string()))
}

fn product_label(lang: Lang, p: &ProductView) -> String {
    let mut s = format!(
        "{} · {} · {} · {}",
        p.product_id,
        p.name.as_deref().unwrap_or(""),
        p.risk_level,
        code_label(lang, "cat", &p.category)
    );
    if p.status != "on_sale" {
        s.push_str(&format!(" ({})", code_label(lang, "pstatus", &p.status)));
    }
    s
}

#[derive(Template)]
#[template(path = "check.html")]
struct CheckPage {
    tr: Tr,
    csrf: String,
    id: String,
    name: String,
    products: Vec<Opt>,
}

pub(crate) async fn form(State(s): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> UiResult {
    ctx.require(Permission::ServeClients)?;
    let app = s.app.clone();
    let mut products = run(ctx.lang, move || app.product_list()).await?;
    products.sort_by(|a, b| (a.status != "on_sale", &a.product_id).cmp(&(b.status != "on_sale", &b.product_id)));
    let name = client_name(&s, &ctx, &id).await?;
    let p = CheckPage {
        tr: ctx.tr,
        csrf: ctx.csrf.clone(),
        products: products.iter().map(|p| Opt::new(p.product_id.clone(), product_label(ctx.lang, p))).collect(),
        id,
        name,
    };
    let body = render(&p, ctx.lang)?;
    respond(&ctx, Section::Clients, &ctx.tr.t("check-title"), body)
}

#[derive(Deserialize)]
pub(crate) struct CheckForm {
    #[serde(default)]
    product_id: String,
    amount: Option<String>,
    initiated_by: Option<String>,
    channel: Option<String>,
}

pub(crate) struct Line {
    pub code: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "check_result.html")]
struct CheckResultPart {
    tr: Tr,
    csrf: String,
    client_id: String,
    client_name: String,
    check_id: i64,
    verdict: String,
    verdict_label: String,
    product: String,
    amount: String,
    pack: String,
    reasons: Vec<Line>,
    obligations: Vec<Line>,
    dual_recording: bool,
    channel_branch: bool,
}

fn parse_amount(s: &Option<String>) -> Result<Option<Decimal>, AppError> {
    let Some(t) = s.as_ref().map(|x| x.trim().replace([',', '，', ' '], "")).filter(|x| !x.is_empty()) else {
        return Ok(None);
    };
    t.parse::<Decimal>()
        .map(Some)
        .map_err(|_| AppError::Invalid { field: "amount".into(), reason: "not a number".into() })
}

pub(crate) async fn run_check(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<CheckForm>,
) -> UiResult {
    let amount = match parse_amount(&f.amount) {
        Ok(a) => a,
        Err(e) => return inline_error(e, ctx.lang),
    };
    let input = CheckInput {
        client_id: id.clone(),
        product_id: f.product_id.clone(),
        amount,
        initiated_by: f.initiated_by.clone(),
        channel: f.channel.clone(),
    };
    let (app, actor, lang) = (s.app.clone(), ctx.actor.clone(), ctx.lang);
    let res: Result<(CheckResult, Vec<ProductView>), AppError> = crate::blocking(move || {
        let r = app.desk_check(&actor, &input, lang)?;
        Ok((r, app.product_list()?))
    })
    .await;
    let (r, products) = match res {
        Ok(x) => x,
        Err(e) => return inline_error(e, lang),
    };
    let product = products
        .iter()
        .find(|p| p.product_id == f.product_id.trim())
        .map_or_else(|| f.product_id.clone(), |p| product_label(lang, p));
    let name = match client_name(&s, &ctx, &id).await {
        Ok(n) => n,
        Err(e) => return inline_error(e.err, lang),
    };
    let part = CheckResultPart {
        tr: ctx.tr,
        csrf: ctx.csrf.clone(),
        client_id: id,
        client_name: name,
        check_id: r.check_id,
        verdict_label: r.verdict_label.clone(),
        product,
        amount: money(&r.amount),
        pack: format!("{} {}", r.rule_pack, r.rule_version),
        dual_recording: r.obligations.iter().any(|o| o.code == "dual_recording"),
        reasons: r.reasons.iter().map(|x| Line { code: x.code.clone(), message: x.message.clone() }).collect(),
        obligations: r.obligations.iter().map(|x| Line { code: x.code.clone(), message: x.message.clone() }).collect(),
        channel_branch: f.channel.as_deref().is_none_or(|c| c.trim() != "online"),
        verdict: r.verdict,
    };
    let body = render(&part, lang)?;
    respond(&ctx, Section::Clients, &ctx.tr.t("check-title"), body)
}

#[derive(Deserialize)]
pub(crate) struct SaleForm {
    confirmed_by: Option<String>,
    confirmation_channel: Option<String>,
    recording_ref: Option<String>,
}

#[derive(Template)]
#[template(path = "sale_done.html")]
struct SaleDone {
    tr: Tr,
    sale_id: i64,
    check: Option<CheckRow>,
}

const HX_RETARGET: HeaderName = HeaderName::from_static("hx-retarget");
const HX_RESWAP: HeaderName = HeaderName::from_static("hx-reswap");

pub(crate) async fn record_sale(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(check_id): Path<i64>,
    Form(f): Form<SaleForm>,
) -> UiResult {
    let input = SaleInput {
        confirmed_by: f.confirmed_by,
        confirmation_channel: f.confirmation_channel,
        recording_ref: f.recording_ref,
    };
    let (app, actor, lang) = (s.app.clone(), ctx.actor.clone(), ctx.lang);
    let res = crate::blocking(move || {
        let sale_id = app.record_sale(&actor, check_id, &input)?;
        let view = app.check_view(&actor, check_id)?;
        Ok((sale_id, view))
    })
    .await;
    let (sale_id, view) = match res {
        Ok(x) => x,
        Err(e) if ctx.htmx => {
            // the form stays: the message goes above it
            let mut res = inline_error(e, lang)?;
            let h = res.headers_mut();
            h.insert(HX_RETARGET, HeaderValue::from_static("#sale-msg"));
            h.insert(HX_RESWAP, HeaderValue::from_static("innerHTML"));
            return Ok(res);
        }
        Err(e) => return Err(ctx.err(e)),
    };
    let part = SaleDone { tr: ctx.tr, sale_id, check: check_rows(lang, std::slice::from_ref(&view)).pop() };
    let body = render(&part, lang)?;
    respond(&ctx, Section::Clients, &ctx.tr.t("sale-title"), body)
}
