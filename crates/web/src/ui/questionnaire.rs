//! The risk questionnaire (风险承受能力评估): filled in at the desk, or by the
//! client through a one-time link (no sign-in: the link's token is the
//! credential). A live preview scores the answers without storing them.

use super::checks::client_name;
use super::{code_label, public_page, render, respond, Ctx, Labels, PubCtx, Section, UiResult};
use crate::error::WebError;
use crate::i18n::Tr;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use axum::Form;
use serde::Deserialize;
use std::collections::HashMap;
use tierwise_app::access::Permission;
use tierwise_app::desk::{AssessmentOutcome, QuestionnaireView, ScoreView};
use tierwise_app::AppError;
use tierwise_domain::Lang;

/// The answers of a submitted form: the `answers` field the page script
/// fills (`q1=A;q2=B,C`), else the inputs themselves (without script).
struct Submitted {
    questionnaire_id: Option<String>,
    answers: String,
}

fn submitted(pairs: &[(String, String)], q: &QuestionnaireView) -> Submitted {
    let field = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_string());
    let questionnaire_id = field("questionnaire_id").filter(|s| !s.is_empty());
    let answers = match field("answers").filter(|s| !s.is_empty()) {
        Some(a) => a,
        None => q
            .questions
            .iter()
            .filter_map(|x| {
                let chosen: Vec<&str> = pairs.iter().filter(|(k, _)| *k == x.id).map(|(_, v)| v.as_str()).collect();
                (!chosen.is_empty()).then(|| format!("{}={}", x.id, chosen.join(",")))
            })
            .collect::<Vec<_>>()
            .join(";"),
    };
    Submitted { questionnaire_id, answers }
}

/// `q1=A;q2=B,C` → question → options.
fn parse_answers(s: &str) -> HashMap<String, Vec<String>> {
    s.split(';')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| {
            (k.trim().to_string(), v.split(',').map(|o| o.trim().to_string()).filter(|o| !o.is_empty()).collect())
        })
        .collect()
}

pub(crate) struct OptionRow {
    pub id: String,
    pub text: String,
    pub checked: bool,
}

pub(crate) struct QuestionRow {
    pub id: String,
    pub number: usize,
    pub text: String,
    pub multi: bool,
    pub options: Vec<OptionRow>,
}

#[derive(Template)]
#[template(path = "questionnaire.html")]
struct FormPage {
    tr: Tr,
    csrf: String,
    /// who it is for (the desk shows the client; the public page does not)
    heading: String,
    intro: String,
    back: Option<String>,
    action: String,
    preview_url: String,
    questionnaire_id: String,
    title: String,
    questions: Vec<QuestionRow>,
    answers: String,
    error: Option<String>,
    preview: String,
}

fn rows(q: &QuestionnaireView, answers: &str) -> Vec<QuestionRow> {
    let chosen = parse_answers(answers);
    q.questions
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let picked = chosen.get(&x.id);
            QuestionRow {
                id: x.id.clone(),
                number: i + 1,
                text: x.text.clone(),
                multi: x.kind == "multi",
                options: x
                    .options
                    .iter()
                    .map(|o| OptionRow {
                        id: o.id.clone(),
                        text: o.text.clone(),
                        checked: picked.is_some_and(|p| p.contains(&o.id)),
                    })
                    .collect(),
            }
        })
        .collect()
}

// ---- the preview ---------------------------------------------------------------

#[derive(Template)]
#[template(path = "preview.html")]
struct Preview {
    tr: Tr,
    answered: usize,
    total: usize,
    result: Option<ScoreRows>,
    error: Option<String>,
}

/// A score ready to show.
pub(crate) struct ScoreRows {
    pub score: String,
    pub level: String,
    pub level_label: String,
    pub lowest: bool,
    pub horizon: String,
    pub varieties: String,
    pub goal: String,
}

fn score_rows(l: &Labels<'_>, s: &ScoreView) -> ScoreRows {
    let tr = Tr(l.lang);
    ScoreRows {
        score: s.score.map_or_else(|| "—".into(), |n| n.to_string()),
        level: s.level.clone(),
        level_label: code_label(l.lang, "level", &s.level),
        lowest: s.lowest,
        horizon: s.horizon_months.map_or_else(|| "—".into(), |m| super::clients::horizon_text(tr, m)),
        varieties: if s.varieties.is_empty() {
            "—".into()
        } else {
            s.varieties
                .iter()
                .map(|v| code_label(l.lang, "variety", v))
                .collect::<Vec<_>>()
                .join(super::list_sep(l.lang))
        },
        goal: l.dim_opt("goal", &s.goal),
    }
}

/// Scores what has been answered so far; an incomplete form shows progress.
async fn preview_html(s: &AppState, lang: Lang, q: &QuestionnaireView, answers: &str) -> Result<String, WebError> {
    let total = q.questions.len();
    let chosen = parse_answers(answers);
    let answered = q.questions.iter().filter(|x| chosen.get(&x.id).is_some_and(|v| !v.is_empty())).count();
    let mut p = Preview { tr: Tr(lang), answered, total, result: None, error: None };
    if answered == total && total > 0 {
        let (app, qid, a) = (s.app.clone(), q.id.clone(), answers.to_string());
        match crate::blocking(move || app.score(Some(&qid), &a)).await {
            Ok(v) => p.result = Some(score_rows(&Labels { app: &s.app, lang }, &v)),
            Err(e) => p.error = Some(WebError::new(e, lang, false).message()),
        }
    }
    render(&p, lang)
}

fn partial(body: String) -> UiResult {
    Ok(super::html(StatusCode::OK, body))
}

// ---- at the desk ---------------------------------------------------------------

#[derive(Deserialize)]
pub(crate) struct DeskQuery {
    questionnaire: Option<String>,
}

fn questionnaire_view(s: &AppState, lang: Lang, id: Option<&str>) -> Result<QuestionnaireView, WebError> {
    s.app.questionnaire(id).map(|q| QuestionnaireView::of(q, lang)).map_err(|e| WebError::new(e, lang, false))
}

async fn desk_page(
    s: &AppState,
    ctx: &Ctx,
    id: &str,
    q: &QuestionnaireView,
    answers: &str,
    error: Option<String>,
) -> UiResult {
    let name = client_name(s, ctx, id).await?;
    let preview = preview_html(s, ctx.lang, q, answers).await?;
    let p = FormPage {
        tr: ctx.tr,
        csrf: ctx.csrf.clone(),
        heading: format!("{name} · {id}"),
        intro: ctx.tr.t("q-desk-intro"),
        back: Some(format!("/clients/{}", super::enc(id))),
        action: format!("/clients/{}/questionnaire", super::enc(id)),
        preview_url: "/questionnaire/preview".into(),
        questionnaire_id: q.id.clone(),
        title: q.title.clone(),
        questions: rows(q, answers),
        answers: answers.to_string(),
        error,
        preview,
    };
    let body = render(&p, ctx.lang)?;
    respond(ctx, Section::Clients, &ctx.tr.t("q-title"), body)
}

pub(crate) async fn desk_form(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(dq): Query<DeskQuery>,
) -> UiResult {
    ctx.require(Permission::ServeClients)?;
    let q = questionnaire_view(&s, ctx.lang, dq.questionnaire.as_deref())?;
    desk_page(&s, &ctx, &id, &q, "", None).await
}

pub(crate) async fn desk_preview(
    State(s): State<AppState>,
    ctx: Ctx,
    Form(pairs): Form<Vec<(String, String)>>,
) -> UiResult {
    let qid = pairs.iter().find(|(k, _)| k == "questionnaire_id").map(|(_, v)| v.clone()).filter(|v| !v.is_empty());
    let q = questionnaire_view(&s, ctx.lang, qid.as_deref())?;
    let sub = submitted(&pairs, &q);
    partial(preview_html(&s, ctx.lang, &q, &sub.answers).await?)
}

#[derive(Template)]
#[template(path = "assessment_done.html")]
struct Done {
    tr: Tr,
    client_id: String,
    result: ScoreRows,
    tier: String,
    segment: String,
    risk: String,
    previous_segment: Option<String>,
    classified: bool,
}

pub(crate) async fn desk_submit(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> UiResult {
    let qid = pairs.iter().find(|(k, _)| k == "questionnaire_id").map(|(_, v)| v.clone()).filter(|v| !v.is_empty());
    let q = questionnaire_view(&s, ctx.lang, qid.as_deref())?;
    let sub = submitted(&pairs, &q);
    let (app, actor, cid, qid2, answers) =
        (s.app.clone(), ctx.actor.clone(), id.clone(), sub.questionnaire_id.clone(), sub.answers.clone());
    let res = crate::blocking(move || app.submit_assessment(&actor, &cid, qid2.as_deref(), &answers)).await;
    let out: AssessmentOutcome = match res {
        Ok(o) => o,
        Err(e @ (AppError::Invalid { .. } | AppError::Questionnaire { .. })) => {
            let msg = super::message_of(e, ctx.lang)?;
            let mut r = desk_page(&s, &ctx, &id, &q, &sub.answers, Some(msg)).await?;
            *r.status_mut() = StatusCode::BAD_REQUEST;
            return Ok(r);
        }
        Err(e) => return Err(ctx.err(e)),
    };
    let l = Labels { app: &s.app, lang: ctx.lang };
    let d = Done {
        tr: ctx.tr,
        client_id: id,
        result: score_rows(&l, &out.result),
        classified: out.asset_tier.is_some(),
        tier: l.dim_opt("asset_tier", &out.asset_tier),
        segment: l.segment_opt(&out.segment),
        risk: out.risk_level.clone().unwrap_or_else(|| "—".into()),
        previous_segment: out
            .previous_segment
            .as_ref()
            .filter(|p| Some(*p) != out.segment.as_ref())
            .map(|p| l.segment(p)),
    };
    let body = render(&d, ctx.lang)?;
    respond(&ctx, Section::Clients, &ctx.tr.t("q-done-title"), body)
}

// ---- the client's link ---------------------------------------------------------

#[derive(Template)]
#[template(path = "link_invalid.html")]
struct LinkInvalid {
    tr: Tr,
}

#[derive(Template)]
#[template(path = "thanks.html")]
struct Thanks {
    tr: Tr,
    level: String,
    level_label: String,
    lowest: bool,
}

fn link_invalid(ctx: &PubCtx) -> UiResult {
    let body = render(&LinkInvalid { tr: ctx.tr }, ctx.lang)?;
    public_page(ctx, StatusCode::GONE, &ctx.tr.t("q-link-invalid-title"), &body)
}

/// The questionnaire behind a live link (None when the link is not usable).
async fn open(s: &AppState, lang: Lang, token: &str) -> Result<Option<QuestionnaireView>, WebError> {
    let (app, t) = (s.app.clone(), token.to_string());
    match crate::blocking(move || app.open_link(&t).map(|(_, q)| QuestionnaireView::of(q, lang))).await {
        Ok(q) => Ok(Some(q)),
        Err(AppError::LinkInvalid) => Ok(None),
        Err(e) => Err(WebError::new(e, lang, false)),
    }
}

async fn public_page_of(
    s: &AppState,
    ctx: &PubCtx,
    token: &str,
    q: &QuestionnaireView,
    answers: &str,
    error: Option<String>,
) -> UiResult {
    let preview = preview_html(s, ctx.lang, q, answers).await?;
    let path = format!("/q/{}", super::enc(token));
    let p = FormPage {
        tr: ctx.tr,
        csrf: String::new(),
        heading: String::new(),
        intro: ctx.tr.t("q-public-intro"),
        back: None,
        preview_url: format!("{path}/preview"),
        action: path,
        questionnaire_id: q.id.clone(),
        title: q.title.clone(),
        questions: rows(q, answers),
        answers: answers.to_string(),
        error,
        preview,
    };
    let body = render(&p, ctx.lang)?;
    public_page(ctx, StatusCode::OK, &ctx.tr.t("q-title"), &body)
}

pub(crate) async fn public_form(State(s): State<AppState>, ctx: PubCtx, Path(token): Path<String>) -> UiResult {
    match open(&s, ctx.lang, &token).await? {
        Some(q) => public_page_of(&s, &ctx, &token, &q, "", None).await,
        None => link_invalid(&ctx),
    }
}

pub(crate) async fn public_preview(
    State(s): State<AppState>,
    ctx: PubCtx,
    Path(token): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> UiResult {
    let Some(q) = open(&s, ctx.lang, &token).await? else {
        let body = render(&LinkInvalid { tr: ctx.tr }, ctx.lang)?;
        return Ok(Html(body).into_response());
    };
    let sub = submitted(&pairs, &q);
    partial(preview_html(&s, ctx.lang, &q, &sub.answers).await?)
}

pub(crate) async fn public_submit(
    State(s): State<AppState>,
    ctx: PubCtx,
    Path(token): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> UiResult {
    let Some(q) = open(&s, ctx.lang, &token).await? else { return link_invalid(&ctx) };
    let sub = submitted(&pairs, &q);
    let (app, t, answers) = (s.app.clone(), token.clone(), sub.answers.clone());
    match crate::blocking(move || app.submit_by_link(&t, &answers)).await {
        Ok(o) => {
            let th = Thanks {
                tr: ctx.tr,
                level_label: code_label(ctx.lang, "level", &o.result.level),
                level: o.result.level,
                lowest: o.result.lowest,
            };
            let body = render(&th, ctx.lang)?;
            public_page(&ctx, StatusCode::OK, &ctx.tr.t("q-thanks-title"), &body)
        }
        Err(AppError::LinkInvalid) => link_invalid(&ctx),
        Err(e @ (AppError::Invalid { .. } | AppError::Questionnaire { .. })) => {
            let msg = WebError::new(e, ctx.lang, false).message();
            let mut r = public_page_of(&s, &ctx, &token, &q, &sub.answers, Some(msg)).await?;
            *r.status_mut() = StatusCode::BAD_REQUEST;
            Ok(r)
        }
        Err(e) => Err(WebError::new(e, ctx.lang, false)),
    }
}
