//! Signing in and out.

use super::{public_page, render, see_other, PubCtx, UiResult};
use crate::auth::{self, Authed};
use crate::error::WebError;
use crate::AppState;
use askama::Template;
use axum::extract::{Extension, State};
use axum::http::{header, Extensions, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Form;
use serde::Deserialize;
use tierwise_app::desk::SESSION_SECONDS;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    tr: crate::i18n::Tr,
    username: String,
    error: Option<String>,
}

fn login_page(ctx: &PubCtx, status: StatusCode, username: String, error: Option<String>) -> UiResult {
    let body = render(&LoginPage { tr: ctx.tr, username, error }, ctx.lang)?;
    public_page(ctx, status, &ctx.tr.t("login-title"), &body)
}

pub(crate) async fn login_form(ctx: PubCtx, signed: Option<Extension<Authed>>) -> UiResult {
    if signed.is_some() {
        return Ok(see_other("/"));
    }
    login_page(&ctx, StatusCode::OK, String::new(), None)
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

pub(crate) async fn login(
    State(s): State<AppState>,
    ctx: PubCtx,
    ext: Extensions,
    Form(f): Form<LoginForm>,
) -> UiResult {
    let addr = auth::client_addr(&ext);
    let app = s.app.clone();
    let (user, pass) = (f.username.clone(), f.password);
    match crate::blocking(move || app.login(&user, &pass, &addr)).await {
        Ok(signed) => {
            let cookie = auth::session_cookie(&signed.token, SESSION_SECONDS, s.secure_cookies);
            Ok(([(header::SET_COOKIE, cookie)], see_other("/")).into_response())
        }
        Err(e) => {
            let w = WebError::new(e, ctx.lang, false);
            let status = w.status();
            // a wrong name or password is told as such, not as "please sign in"
            let msg = if status == StatusCode::UNAUTHORIZED { ctx.tr.t("login-failed") } else { w.message() };
            login_page(&ctx, status, f.username, Some(msg))
        }
    }
}

pub(crate) async fn logout(State(s): State<AppState>, headers: HeaderMap, a: Authed) -> UiResult {
    if let Some(token) = auth::cookie(&headers, auth::SESSION_COOKIE).map(String::from) {
        let app = s.app.clone();
        if let Err(e) = crate::blocking(move || app.logout(&token)).await {
            return Err(WebError::new(e, a.lang, false));
        }
    }
    Ok(([(header::SET_COOKIE, auth::clear_cookie())], see_other("/login")).into_response())
}
