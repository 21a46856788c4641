//! The client list (filters, keyset pages, CSV export) and the client 360
//! page with its interactions and the questionnaire link.

use super::checks::{check_rows, CheckRow};
use super::work::{client_work, client_work_views, ClientWork};
use super::{
    code_label, code_options, enc, inline_error, money, money_opt, or_dash, origin, render, respond, run, see_other,
    select, ts, Ctx, Labels, Opt, Section, UiResult, RISK_LEVELS,
};
use crate::i18n::Tr;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::IntoResponse;
use axum::Form;
use serde::Deserialize;
use tierwise_app::access::{Permission, Role};
use tierwise_app::desk::{Client360, ClientFilter, ClientListRow, InteractionView, NewInteraction};
use tierwise_domain::InteractionChannel;

// ---- the list ------------------------------------------------------------------

/// The list's query string (every field text, so that an empty select is
/// no filter rather than a parse error).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct ListQuery {
    asset_tier: Option<String>,
    segment: Option<String>,
    risk_level: Option<String>,
    lifecycle: Option<String>,
    assessment_status: Option<String>,
    churn_risk: Option<String>,
    advisor_id: Option<String>,
    branch_id: Option<String>,
    above_tolerance: Option<String>,
    q: Option<String>,
    after: Option<String>,
}

use tierwise_app::desk::nonempty as ne;

impl ListQuery {
    fn above(&self) -> bool {
        matches!(self.above_tolerance.as_deref(), Some("true" | "1" | "on"))
    }

    fn filter(&self) -> ClientFilter {
        ClientFilter {
            asset_tier: ne(&self.asset_tier),
            segment: ne(&self.segment),
            risk_level: ne(&self.risk_level),
            lifecycle: ne(&self.lifecycle),
            assessment_status: ne(&self.assessment_status),
            churn_risk: ne(&self.churn_risk),
            advisor_id: ne(&self.advisor_id),
            branch_id: ne(&self.branch_id),
            above_tolerance: self.above().then_some(true),
            q: ne(&self.q),
            after: ne(&self.after),
            limit: Some(50),
        }
    }

    /// The filters as a query string, with `after` as given.
    fn query_string(&self, after: Option<&str>) -> String {
        let pairs = [
            ("asset_tier", ne(&self.asset_tier)),
            ("segment", ne(&self.segment)),
            ("risk_level", ne(&self.risk_level)),
            ("lifecycle", ne(&self.lifecycle)),
            ("assessment_status", ne(&self.assessment_status)),
            ("churn_risk", ne(&self.churn_risk)),
            ("advisor_id", ne(&self.advisor_id)),
            ("branch_id", ne(&self.branch_id)),
            ("above_tolerance", self.above().then(|| "true".to_string())),
            ("q", ne(&self.q)),
            ("after", after.map(String::from)),
        ];
        pairs.iter().filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", enc(v)))).collect::<Vec<_>>().join("&")
    }
}

/// A client in a list, ready to show.
pub(crate) struct RowView {
    pub id: String,
    pub name: String,
    pub branch: String,
    pub advisor: String,
    pub aum: String,
    pub tier: String,
    pub segment: String,
    pub risk: String,
    pub behaviour: String,
    pub lifecycle: String,
    pub status: String,
    pub status_code: String,
    pub churn: String,
    pub churn_code: String,
}

pub(crate) fn row_views(l: &Labels<'_>, rows: &[ClientListRow]) -> Vec<RowView> {
    rows.iter()
        .map(|r| RowView {
            id: r.client_id.clone(),
            name: r.name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| r.client_id.clone()),
            branch: or_dash(&r.branch_id),
            advisor: or_dash(&r.advisor_id),
            aum: money_opt(&r.aum),
            tier: r.asset_tier_label.clone().unwrap_or_else(|| "—".into()),
            segment: r.segment_label.clone().unwrap_or_else(|| "—".into()),
            risk: or_dash(&r.risk_level),
            behaviour: or_dash(&r.behaviour_risk),
            lifecycle: l.dim_opt("lifecycle", &r.lifecycle),
            status: l.dim_opt("assessment_status", &r.assessment_status),
            status_code: r.assessment_status.clone().unwrap_or_default(),
            churn: l.dim_opt("churn_risk", &r.churn_risk),
            churn_code: r.churn_risk.clone().unwrap_or_default(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "clients_rows.html")]
struct ClientRows {
    tr: Tr,
    rows: Vec<RowView>,
    /// the query of the next page, if any
    next: Option<String>,
    /// the query of the first page, when this is not it
    first: Option<String>,
    /// the export link's query (swapped out of band for htmx)
    export: String,
    oob: bool,
}

#[derive(Template)]
#[template(path = "clients.html")]
struct ClientsPage {
    tr: Tr,
    search: String,
    advisor: String,
    branch: String,
    tiers: Vec<Opt>,
    segments: Vec<Opt>,
    risks: Vec<Opt>,
    lifecycles: Vec<Opt>,
    statuses: Vec<Opt>,
    churns: Vec<Opt>,
    show_advisor: bool,
    above: bool,
    export: String,
    rows: String,
}

pub(crate) async fn list(State(s): State<AppState>, ctx: Ctx, Query(q): Query<ListQuery>) -> UiResult {
    let (app, actor, lang, f) = (s.app.clone(), ctx.actor.clone(), ctx.lang, q.filter());
    let page = run(lang, move || app.clients(&actor, &f, lang)).await?;
    let labels = Labels { app: &s.app, lang };
    let export = q.query_string(None);
    let rows = ClientRows {
        tr: ctx.tr,
        rows: row_views(&labels, &page.rows),
        next: page.next.as_deref().map(|n| q.query_string(Some(n))),
        first: ne(&q.after).map(|_| q.query_string(None)),
        export: export.clone(),
        oob: ctx.htmx,
    };
    let rows = render(&rows, lang)?;
    if ctx.htmx {
        return respond(&ctx, Section::Clients, "", rows);
    }
    let v = |x: &Option<String>| x.clone().unwrap_or_default();
    let p = ClientsPage {
        tr: ctx.tr,
        search: v(&q.q),
        advisor: v(&q.advisor_id),
        branch: v(&q.branch_id),
        tiers: select(labels.options("asset_tier"), q.asset_tier.as_deref()),
        segments: select(labels.segment_options(), q.segment.as_deref()),
        risks: select(RISK_LEVELS.iter().map(|r| Opt::new(*r, *r)).collect(), q.risk_level.as_deref()),
        lifecycles: select(labels.options("lifecycle"), q.lifecycle.as_deref()),
        statuses: select(labels.options("assessment_status"), q.assessment_status.as_deref()),
        churns: select(labels.options("churn_risk"), q.churn_risk.as_deref()),
        show_advisor: ctx.actor.role != Role::Advisor,
        above: q.above(),
        export,
        rows,
    };
    let body = render(&p, lang)?;
    respond(&ctx, Section::Clients, &ctx.tr.t("nav-clients"), body)
}

pub(crate) async fn export(State(s): State<AppState>, ctx: Ctx, Query(q): Query<ListQuery>) -> UiResult {
    let (app, actor) = (s.app.clone(), ctx.actor.clone());
    let mut f = q.filter();
    f.after = None;
    let bytes = run(ctx.lang, move || {
        let mut out = Vec::new();
        app.export_clients(&actor, &f, &mut out)?;
        Ok(out)
    })
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"clients.csv\""),
        ],
        bytes,
    )
        .into_response())
}

// ---- the 360 page --------------------------------------------------------------

pub(crate) struct Field {
    pub label: String,
    pub value: String,
}

pub(crate) struct LineRow {
    pub line: String,
    pub aum: String,
    pub share: String,
}

pub(crate) struct HoldingRow {
    pub product_id: String,
    pub name: String,
    pub line: String,
    pub category: String,
    pub risk: String,
    pub value: String,
    pub as_of: String,
}

pub(crate) struct DimRow {
    pub label: String,
    pub value: String,
    pub explanation: String,
}

pub(crate) struct ClassView {
    pub run_id: i64,
    pub as_of: String,
    pub pack: String,
    pub tier: String,
    pub segment: String,
    pub decile: u8,
    pub dims: Vec<DimRow>,
    pub plan: String,
}

pub(crate) struct HistoryRow {
    pub run_id: i64,
    pub as_of: String,
    pub version: String,
    pub aum: String,
    pub tier: String,
    pub segment: String,
    pub risk: String,
    pub prev_tier: String,
    pub prev_segment: String,
    pub tier_moved: bool,
    pub segment_moved: bool,
}

pub(crate) struct AssessmentRow {
    pub at: String,
    pub questionnaire: String,
    pub channel: String,
    pub level: String,
    pub lowest: bool,
    pub score: String,
    pub horizon: String,
    pub varieties: String,
    pub goal: String,
}

#[derive(Template)]
#[template(path = "client.html")]
struct ClientPage {
    tr: Tr,
    csrf: String,
    id: String,
    name: String,
    tier: String,
    segment: String,
    risk: String,
    aum: String,
    can_serve: bool,
    pii_masked: bool,
    profile: Vec<Field>,
    lines: Vec<LineRow>,
    holdings: Vec<HoldingRow>,
    class: Option<ClassView>,
    history: Vec<HistoryRow>,
    assessments: Vec<AssessmentRow>,
    checks: Vec<CheckRow>,
    interactions: String,
    /// monitoring: the client's open alerts, tasks (open, then the history) and notices
    back: String,
    channels: Vec<Opt>,
    work: ClientWork,
}

fn page_of(ctx: &Ctx, l: &Labels<'_>, c: &Client360, interactions: String, work: ClientWork) -> ClientPage {
    let tr = ctx.tr;
    let lang = ctx.lang;
    let p = &c.profile;
    let field = |label: &str, value: String| Field { label: tr.t(label), value };
    let mut profile = vec![
        field("profile-client-id", p.client_id.clone()),
        field("profile-kind", code_label(lang, "kind", &p.kind)),
        field("profile-name", or_dash(&p.name)),
    ];
    if p.kind == "person" {
        profile.push(field(
            "profile-gender",
            p.gender.as_deref().map_or_else(|| "—".into(), |g| code_label(lang, "gender", g)),
        ));
        let birth = match (&p.birth_date, p.age) {
            (Some(b), Some(a)) => format!("{b} ({a})"),
            (Some(b), None) => b.clone(),
            _ => "—".into(),
        };
        profile.push(field("profile-birth", birth));
    }
    profile.extend([
        field("profile-id-number", or_dash(&p.id_number)),
        field("profile-phone", or_dash(&p.phone)),
        field("profile-email", or_dash(&p.email)),
        field("profile-occupation", or_dash(&p.occupation)),
        field("profile-city", or_dash(&p.city)),
        field("profile-branch", or_dash(&p.branch_id)),
        field("profile-advisor", or_dash(&p.advisor_id)),
        field("profile-onboarded", or_dash(&p.onboarded_at)),
        field("profile-income", money_opt(&p.annual_income)),
        field("profile-declared-assets", money_opt(&p.declared_financial_assets)),
        field("profile-experience", p.experience_years.map_or_else(|| "—".into(), |y| y.to_string())),
        field("profile-professional", code_label(lang, "professional", &p.professional_status)),
    ]);
    let has_pii = p.id_number.is_some() || p.phone.is_some() || p.email.is_some();
    let total = c.aum;
    let lines = c
        .lines
        .iter()
        .map(|x| LineRow {
            line: code_label(lang, "line", &x.line),
            aum: money(&x.aum),
            share: if total.is_zero() {
                "—".into()
            } else {
                format!("{:.1}%", (x.aum * rust_decimal::Decimal::from(100) / total).round_dp(1))
            },
        })
        .collect();
    let holdings = c
        .holdings
        .iter()
        .map(|h| HoldingRow {
            product_id: h.product_id.clone(),
            name: or_dash(&h.product_name),
            line: code_label(lang, "line", &h.line),
            category: code_label(lang, "cat", &h.category),
            risk: h.risk_level.clone(),
            value: money(&h.market_value),
            as_of: h.as_of.clone(),
        })
        .collect();
    let class = c.classification.as_ref().map(|k| ClassView {
        run_id: k.run_id,
        as_of: k.as_of.clone(),
        pack: format!("{} {}", k.rule_pack, k.rule_version),
        tier: l.dim("asset_tier", &k.asset_tier),
        segment: k.segment_label.clone(),
        decile: k.value_decile,
        dims: k
            .dimensions
            .iter()
            .map(|d| DimRow {
                label: d.label.clone(),
                value: d.value_label.clone(),
                explanation: d.explanation.clone(),
            })
            .collect(),
        plan: or_dash(&k.service_plan),
    });
    let history = c
        .history
        .iter()
        .map(|h| HistoryRow {
            run_id: h.run_id,
            as_of: h.as_of.clone(),
            version: h.rule_version.clone(),
            aum: money(&h.aum),
            tier: l.dim("asset_tier", &h.asset_tier),
            segment: l.segment(&h.segment),
            risk: if h.risk_level.is_empty() { "—".into() } else { h.risk_level.clone() },
            prev_tier: l.dim_opt("asset_tier", &h.previous_asset_tier),
            prev_segment: l.segment_opt(&h.previous_segment),
            tier_moved: h.previous_asset_tier.as_ref().is_some_and(|p| *p != h.asset_tier),
            segment_moved: h.previous_segment.as_ref().is_some_and(|p| *p != h.segment),
        })
        .collect();
    let assessments = c
        .assessments
        .iter()
        .map(|a| AssessmentRow {
            at: ts(&a.assessed_at),
            questionnaire: a.questionnaire_id.clone(),
            channel: code_label(lang, "channel", &a.channel),
            level: a.level.clone(),
            lowest: a.lowest,
            score: a.score.map_or_else(|| "—".into(), |s| s.to_string()),
            horizon: a.horizon_months.map_or_else(|| "—".into(), |m| horizon_text(tr, m)),
            varieties: a.varieties.as_deref().map_or_else(
                || "—".into(),
                |v| {
                    v.split([',', ';', '|'])
                        .map(|x| code_label(lang, "variety", x.trim()))
                        .collect::<Vec<_>>()
                        .join(super::list_sep(lang))
                },
            ),
            goal: l.dim_opt("goal", &a.goal),
        })
        .collect();
    let (tier, segment) = match &c.classification {
        Some(k) => (l.dim("asset_tier", &k.asset_tier), k.segment_label.clone()),
        None => ("—".into(), "—".into()),
    };
    let risk = c.assessments.first().map_or_else(|| "—".into(), |a| a.level.clone());
    ClientPage {
        tr,
        csrf: ctx.csrf.clone(),
        id: p.client_id.clone(),
        name: p.name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| p.client_id.clone()),
        tier,
        segment,
        risk,
        aum: money(&c.aum),
        can_serve: ctx.can(Permission::ServeClients),
        pii_masked: has_pii && !p.pii_visible,
        profile,
        lines,
        holdings,
        class,
        history,
        assessments,
        checks: check_rows(lang, &c.checks),
        interactions,
        back: format!("/clients/{}", enc(&p.client_id)),
        channels: super::work::channel_options(lang),
        work,
    }
}

/// `12` → `12 个月`; 0 is "any".
pub(crate) fn horizon_text(tr: Tr, months: u32) -> String {
    if months == 0 {
        tr.t("horizon-any")
    } else {
        format!("{months} {}", tr.t("unit-months"))
    }
}

pub(crate) async fn client_360(State(s): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> UiResult {
    let (app, actor, lang, cid) = (s.app.clone(), ctx.actor.clone(), ctx.lang, id.clone());
    let (c, views) = run(lang, move || {
        let c = app.client_360(&actor, &cid, lang)?;
        let views = client_work_views(&app, &actor, &cid, lang)?;
        Ok((c, views))
    })
    .await?;
    let inter = Interactions::new(&ctx, &id, &c.interactions, None);
    let inter = render(&inter, lang)?;
    let labels = Labels { app: &s.app, lang };
    let name = c.profile.name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| id.clone());
    let work = client_work(&labels, ctx.actor.role, &name, &id, &views);
    let p = page_of(&ctx, &labels, &c, inter, work);
    let body = render(&p, lang)?;
    let title = format!("{} · {}", p.name, ctx.tr.t("client-title"));
    respond(&ctx, Section::Clients, &title, body)
}

// ---- interactions --------------------------------------------------------------

pub(crate) struct InterRow {
    pub at: String,
    pub channel: String,
    pub advisor: String,
    pub topic: String,
    pub outcome: String,
}

#[derive(Template)]
#[template(path = "interactions.html")]
struct Interactions {
    tr: Tr,
    csrf: String,
    client_id: String,
    can_serve: bool,
    rows: Vec<InterRow>,
    channels: Vec<Opt>,
    error: Option<String>,
    saved: bool,
}

impl Interactions {
    fn new(ctx: &Ctx, client_id: &str, items: &[InteractionView], error: Option<String>) -> Interactions {
        Interactions {
            tr: ctx.tr,
            csrf: ctx.csrf.clone(),
            client_id: client_id.to_string(),
            can_serve: ctx.can(Permission::ServeClients),
            rows: items
                .iter()
                .map(|i| InterRow {
                    at: ts(&i.at),
                    channel: code_label(ctx.lang, "ich", &i.channel),
                    advisor: or_dash(&i.advisor_id),
                    topic: or_dash(&i.topic),
                    outcome: or_dash(&i.outcome),
                })
                .collect(),
            channels: code_options(ctx.lang, "ich", InteractionChannel::NAMES),
            error,
            saved: false,
        }
    }
}

const HX_RETARGET: axum::http::HeaderName = axum::http::HeaderName::from_static("hx-retarget");
const HX_RESWAP: axum::http::HeaderName = axum::http::HeaderName::from_static("hx-reswap");

#[derive(Deserialize)]
pub(crate) struct InteractionForm {
    #[serde(default)]
    channel: String,
    topic: Option<String>,
    outcome: Option<String>,
}

/// The client's latest interactions, after a change the viewer was allowed
/// to make (the application checked the permission and the book).
async fn interactions_of(s: &AppState, ctx: &Ctx, id: &str) -> Result<Vec<InteractionView>, crate::error::WebError> {
    let (app, cid) = (s.app.clone(), id.to_string());
    run(ctx.lang, move || {
        Ok(app
            .store
            .client_interactions(&cid, 50)?
            .iter()
            .map(|i| InteractionView {
                at: tierwise_domain::dates::format_timestamp(&i.at),
                channel: i.channel.as_str().into(),
                advisor_id: i.advisor_id.clone(),
                topic: i.topic.clone(),
                outcome: i.outcome.clone(),
            })
            .collect())
    })
    .await
}

pub(crate) async fn add_interaction(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<InteractionForm>,
) -> UiResult {
    let (app, actor, cid) = (s.app.clone(), ctx.actor.clone(), id.clone());
    let i = NewInteraction { channel: f.channel, topic: f.topic, outcome: f.outcome };
    let res = crate::blocking(move || app.add_interaction(&actor, &cid, &i)).await;
    let error = match res {
        Ok(()) => None,
        Err(e) => Some(super::message_of(e, ctx.lang)?),
    };
    if !ctx.htmx {
        if let Some(e) = error {
            return inline_error_page(&ctx, e);
        }
        return Ok(see_other(&format!("/clients/{}#interactions", enc(&id))));
    }
    if let Some(message) = error {
        // the list stays as it is: the message goes next to the form
        let body = render(&super::Alert { kind: "error", message }, ctx.lang)?;
        let mut res = super::html(axum::http::StatusCode::OK, body);
        let h = res.headers_mut();
        h.insert(HX_RETARGET, axum::http::HeaderValue::from_static("#interaction-msg"));
        h.insert(HX_RESWAP, axum::http::HeaderValue::from_static("innerHTML"));
        return Ok(res);
    }
    let items = interactions_of(&s, &ctx, &id).await?;
    let mut part = Interactions::new(&ctx, &id, &items, None);
    part.saved = true;
    let body = render(&part, ctx.lang)?;
    respond(&ctx, Section::Clients, "", body)
}

fn inline_error_page(ctx: &Ctx, message: String) -> UiResult {
    let body = render(&super::Alert { kind: "error", message }, ctx.lang)?;
    super::page(ctx, Section::Clients, &ctx.tr.t("error-title"), &body)
}

// ---- the questionnaire link ------------------------------------------------------

#[derive(Template)]
#[template(path = "link.html")]
struct LinkPart {
    tr: Tr,
    url: String,
    expires: String,
    client_id: String,
}

pub(crate) async fn create_link(
    State(s): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> UiResult {
    let (app, actor, cid) = (s.app.clone(), ctx.actor.clone(), id.clone());
    let link = match crate::blocking(move || app.create_link(&actor, &cid, None)).await {
        Ok((_, l)) => l,
        Err(e) if ctx.htmx => return inline_error(e, ctx.lang),
        Err(e) => return Err(ctx.err(e)),
    };
    let part = LinkPart {
        tr: ctx.tr,
        url: format!("{}{}", origin(&headers, s.secure_cookies), link.path),
        expires: link.expires_at,
        client_id: id,
    };
    let body = render(&part, ctx.lang)?;
    respond(&ctx, Section::Clients, &ctx.tr.t("link-title"), body)
}
