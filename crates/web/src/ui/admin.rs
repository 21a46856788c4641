//! Users and roles (admin).

use super::{code_label, code_options, enc, render, respond, run, see_other, select, Ctx, Opt, Section, UiResult};
use crate::i18n::Tr;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Form;
use serde::Deserialize;
use tierwise_app::access::Role;
use tierwise_app::desk::{NewUser, UserChange, UserView};
use tierwise_app::AppError;

pub(crate) struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub roles: Vec<Opt>,
    pub advisor_id: String,
    pub branch_id: String,
    pub pii: bool,
    pub active: bool,
    pub created_at: String,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    tr: Tr,
    csrf: String,
    rows: Vec<UserRow>,
    roles: Vec<Opt>,
    saved: Option<String>,
    error: Option<String>,
    /// the create form's values after a refusal
    new: NewForm,
}

#[derive(Deserialize)]
pub(crate) struct PageParams {
    saved: Option<String>,
}

async fn users_page(s: &AppState, ctx: &Ctx, saved: Option<String>, error: Option<String>, new: NewForm) -> UiResult {
    let (app, actor) = (s.app.clone(), ctx.actor.clone());
    let users: Vec<UserView> = run(ctx.lang, move || app.users(&actor)).await?;
    let roles = code_options(ctx.lang, "role", Role::NAMES);
    let rows = users
        .iter()
        .map(|u| UserRow {
            id: u.user_id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            role: code_label(ctx.lang, "role", &u.role),
            roles: select(roles.clone(), Some(&u.role)),
            advisor_id: u.advisor_id.clone().unwrap_or_default(),
            branch_id: u.branch_id.clone().unwrap_or_default(),
            pii: u.can_view_pii,
            active: u.active,
            created_at: super::ts(&u.created_at),
        })
        .collect();
    let p = UsersPage {
        tr: ctx.tr,
        csrf: ctx.csrf.clone(),
        rows,
        roles: select(roles, Some(new.role.as_str())),
        saved,
        error,
        new,
    };
    let body = render(&p, ctx.lang)?;
    respond(ctx, Section::Users, &ctx.tr.t("nav-users"), body)
}

pub(crate) async fn page(State(s): State<AppState>, ctx: Ctx, Query(p): Query<PageParams>) -> UiResult {
    let new = NewForm { role: "advisor".into(), ..Default::default() };
    users_page(&s, &ctx, p.saved.filter(|x| !x.is_empty()), None, new).await
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct NewForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    advisor_id: String,
    #[serde(default)]
    branch_id: String,
    #[serde(default)]
    password: String,
    /// "" (the role's default), "true" or "false"
    #[serde(default)]
    can_view_pii: String,
}

fn opt(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|x| !x.is_empty())
}

fn flag(s: &str) -> Option<bool> {
    match s.trim() {
        "true" | "1" | "on" => Some(true),
        "false" | "0" | "off" => Some(false),
        _ => None,
    }
}

async fn refused(s: &AppState, ctx: &Ctx, e: AppError, new: NewForm) -> UiResult {
    if !matches!(e, AppError::Invalid { .. } | AppError::Store(_) | AppError::NotFound(_)) {
        return Err(ctx.err(e));
    }
    let msg = super::message_of(e, ctx.lang)?;
    let mut r = users_page(s, ctx, None, Some(msg), new).await?;
    *r.status_mut() = StatusCode::BAD_REQUEST;
    Ok(r)
}

pub(crate) async fn create(State(s): State<AppState>, ctx: Ctx, Form(f): Form<NewForm>) -> UiResult {
    let u = NewUser {
        username: f.username.clone(),
        display_name: f.display_name.clone(),
        role: f.role.clone(),
        advisor_id: opt(&f.advisor_id),
        branch_id: opt(&f.branch_id),
        password: f.password.clone(),
        can_view_pii: flag(&f.can_view_pii),
    };
    let (app, actor) = (s.app.clone(), ctx.actor.clone());
    match crate::blocking(move || app.create_user(Some(&actor), &u)).await {
        Ok(_) => Ok(see_other(&format!("/admin/users?saved={}", enc(f.username.trim())))),
        Err(e) => {
            let keep = NewForm { password: String::new(), ..f };
            refused(&s, &ctx, e, keep).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct EditForm {
    display_name: Option<String>,
    role: Option<String>,
    advisor_id: Option<String>,
    branch_id: Option<String>,
    #[serde(default)]
    can_view_pii: String,
    #[serde(default)]
    active: String,
    #[serde(default)]
    password: String,
}

pub(crate) async fn update(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<EditForm>,
) -> UiResult {
    let c = UserChange {
        display_name: f.display_name,
        role: f.role,
        advisor_id: f.advisor_id,
        branch_id: f.branch_id,
        can_view_pii: flag(&f.can_view_pii),
        active: flag(&f.active),
        password: opt(&f.password),
    };
    let (app, actor) = (s.app.clone(), ctx.actor.clone());
    match crate::blocking(move || app.update_user(&actor, id, &c)).await {
        Ok(u) => Ok(see_other(&format!("/admin/users?saved={}", enc(&u.username)))),
        Err(e) => refused(&s, &ctx, e, NewForm { role: "advisor".into(), ..Default::default() }).await,
    }
}
