//! The client's satisfaction survey (满意度调查) by one-time link, sent
//! after a follow-up: no sign-in (the link's token is the credential), NPS
//! 0–10 and a comment, answered once.

use super::{public_page, render, PubCtx, UiResult};
use crate::error::WebError;
use crate::i18n::Tr;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Form;
use serde::Deserialize;
use tierwise_app::AppError;

pub(crate) struct Score {
    pub value: u8,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "survey.html")]
struct SurveyForm {
    tr: Tr,
    action: String,
    expires: String,
    scores: Vec<Score>,
    comment: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "survey_thanks.html")]
struct SurveyThanks {
    tr: Tr,
}

#[derive(Template)]
#[template(path = "survey_invalid.html")]
struct SurveyInvalid {
    tr: Tr,
}

fn invalid(ctx: &PubCtx) -> UiResult {
    let body = render(&SurveyInvalid { tr: ctx.tr }, ctx.lang)?;
    public_page(ctx, StatusCode::GONE, &ctx.tr.t("survey-invalid-title"), &body)
}

fn form_page(
    ctx: &PubCtx,
    token: &str,
    expires: String,
    nps: Option<&str>,
    comment: &str,
    error: Option<String>,
) -> UiResult {
    let chosen = nps.and_then(|n| n.trim().parse::<u8>().ok());
    let f = SurveyForm {
        tr: ctx.tr,
        action: format!("/s/{}", super::enc(token)),
        expires,
        scores: (0..=10).map(|value| Score { value, checked: chosen == Some(value) }).collect(),
        comment: comment.to_string(),
        error: error.clone(),
    };
    let body = render(&f, ctx.lang)?;
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    public_page(ctx, status, &ctx.tr.t("survey-title"), &body)
}

/// The survey behind a live link (None when the link is not usable).
async fn open(s: &AppState, ctx: &PubCtx, token: &str) -> Result<Option<String>, WebError> {
    let (app, t) = (s.app.clone(), token.to_string());
    match crate::blocking(move || app.open_survey(&t)).await {
        Ok(v) => Ok(Some(v.expires_at)),
        Err(AppError::LinkInvalid) => Ok(None),
        Err(e) => Err(WebError::new(e, ctx.lang, false)),
    }
}

pub(crate) async fn form(State(s): State<AppState>, ctx: PubCtx, Path(token): Path<String>) -> UiResult {
    match open(&s, &ctx, &token).await? {
        Some(expires) => form_page(&ctx, &token, expires, None, "", None),
        None => invalid(&ctx),
    }
}

#[derive(Deserialize)]
pub(crate) struct Answer {
    nps: Option<String>,
    comment: Option<String>,
}

pub(crate) async fn submit(
    State(s): State<AppState>,
    ctx: PubCtx,
    Path(token): Path<String>,
    Form(a): Form<Answer>,
) -> UiResult {
    let Some(expires) = open(&s, &ctx, &token).await? else { return invalid(&ctx) };
    let (app, t) = (s.app.clone(), token.clone());
    let (nps, comment) = (a.nps.clone().unwrap_or_default(), a.comment.clone());
    match crate::blocking(move || app.answer_survey(&t, &nps, comment.as_deref())).await {
        Ok(()) => {
            let body = render(&SurveyThanks { tr: ctx.tr }, ctx.lang)?;
            public_page(&ctx, StatusCode::OK, &ctx.tr.t("survey-thanks-title"), &body)
        }
        Err(AppError::LinkInvalid) => invalid(&ctx),
        Err(e @ AppError::Invalid { .. }) => {
            let msg = WebError::new(e, ctx.lang, false).message();
            form_page(&ctx, &token, expires, a.nps.as_deref(), a.comment.as_deref().unwrap_or(""), Some(msg))
        }
        Err(e) => Err(WebError::new(e, ctx.lang, false)),
    }
}
