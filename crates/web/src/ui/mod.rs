//! The server-rendered UI (askama templates + htmx partials). Handlers
//! call the application layer and only render: every page's data comes
//! from one use case of `tierwise_app::desk`, turned here into display
//! strings (money with separators, codes with their zh/en labels).
//!
//! A page answers with the whole layout for a normal request and with its
//! content only (or a smaller partial) for an htmx request. Every visible
//! string comes from the Fluent files; rule-pack labels come localized from
//! the application.

mod admin;
mod charts;
mod checks;
mod clients;
mod compliance;
mod dashboard;
mod products;
mod questionnaire;
mod rules;
mod session;
mod survey;
mod team;
#[cfg(test)]
mod tests;
mod work;

pub(crate) use work::full_day;

use crate::auth::{self, Authed};
use crate::error::WebError;
use crate::i18n::Tr;
use crate::AppState;
use askama::Template;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use fluent_templates::{LanguageIdentifier, Loader};
use rust_decimal::Decimal;
use tierwise_app::access::{Actor, Permission};
use tierwise_app::{App, AppError};
use tierwise_domain::Lang;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(session::login_form).post(session::login))
        .route("/logout", post(session::logout))
        .route("/", get(dashboard::page))
        .route("/clients", get(clients::list))
        .route("/clients/export.csv", get(clients::export))
        .route("/clients/{id}", get(clients::client_360))
        .route("/clients/{id}/interactions", post(clients::add_interaction))
        .route("/clients/{id}/questionnaire-link", post(clients::create_link))
        .route("/clients/{id}/questionnaire", get(questionnaire::desk_form).post(questionnaire::desk_submit))
        .route("/questionnaire/preview", post(questionnaire::desk_preview))
        .route("/q/{token}", get(questionnaire::public_form).post(questionnaire::public_submit))
        .route("/q/{token}/preview", post(questionnaire::public_preview))
        .route("/clients/{id}/check", get(checks::form).post(checks::run_check))
        .route("/checks/{id}/sale", post(checks::record_sale))
        .route("/products", get(products::list).post(products::create))
        .route("/products/new", get(products::new_form))
        .route("/products/{id}", get(products::edit_form).post(products::save))
        .route("/products/{id}/edit", get(products::edit_form))
        .route("/compliance", get(compliance::page))
        .route("/compliance/audit", get(compliance::audit))
        .route("/compliance/audit/verify", post(compliance::verify))
        .route("/rules", get(rules::page))
        .route("/rules/simulate", post(rules::simulate))
        .route("/admin/users", get(admin::page).post(admin::create))
        .route("/admin/users/{id}", post(admin::update))
        .route("/work", get(work::my_day))
        .route("/work/tasks/{id}/complete", post(work::complete_task))
        .route("/work/alerts/{id}/acknowledge", post(work::acknowledge))
        .route("/work/alerts/{id}/close", post(work::close))
        .route("/team", get(team::team_page))
        .route("/team/assign", post(team::apply))
        .route("/kpis", get(team::kpis_page))
        .route("/s/{token}", get(survey::form).post(survey::submit))
        .layer(axum::middleware::from_fn(remember_lang))
}

/// `?lang=zh|en` on any page also sets the language cookie, so the choice sticks.
async fn remember_lang(req: Request, next: Next) -> Response {
    let chosen = req.uri().query().and_then(|q| {
        q.split('&').find_map(|kv| match kv.split_once('=') {
            Some(("lang", v)) => Lang::parse(v).ok(),
            _ => None,
        })
    });
    let mut res = next.run(req).await;
    if let Some(l) = chosen {
        let v = format!("{}={}; Path=/; Max-Age=31536000; SameSite=Lax", auth::LANG_COOKIE, lang_code(l));
        if let Ok(v) = HeaderValue::from_str(&v) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

fn lang_code(l: Lang) -> &'static str {
    match l {
        Lang::Zh => "zh",
        Lang::En => "en",
    }
}

/// Whether the request came from htmx (and wants a partial). A history
/// restore asks for the whole page.
fn is_htmx(h: &axum::http::HeaderMap) -> bool {
    h.get("hx-request").is_some_and(|v| v == "true") && h.get("hx-history-restore-request").is_none()
}

/// The page's own address, for the language switch: the path and query of
/// a GET (without `lang`), the path of anything else.
fn here(parts: &Parts) -> String {
    let path = parts.uri.path().to_string();
    if parts.method != Method::GET {
        return path;
    }
    match parts.uri.query() {
        Some(q) => {
            let rest: Vec<&str> = q.split('&').filter(|kv| !kv.starts_with("lang=") && !kv.is_empty()).collect();
            if rest.is_empty() {
                path
            } else {
                format!("{path}?{}", rest.join("&"))
            }
        }
        None => path,
    }
}

/// A signed-in page request: who, their CSRF token, their language and
/// whether htmx asked.
pub(crate) struct Ctx {
    pub actor: Actor,
    pub csrf: String,
    pub lang: Lang,
    pub tr: Tr,
    pub htmx: bool,
    pub here: String,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let htmx = is_htmx(&parts.headers);
        let a = match Authed::from_request_parts(parts, state).await {
            Ok(a) => a,
            // htmx follows a redirect inside the page: tell it to load the sign-in page instead
            Err(e) if htmx && e.status() == StatusCode::UNAUTHORIZED => {
                return Err((StatusCode::OK, [(HX_REDIRECT, HeaderValue::from_static("/login"))]).into_response());
            }
            Err(e) => return Err(e.into_response()),
        };
        Ok(Ctx { tr: Tr(a.lang), lang: a.lang, actor: a.actor, csrf: a.csrf, htmx, here: here(parts) })
    }
}

const HX_REDIRECT: axum::http::HeaderName = axum::http::HeaderName::from_static("hx-redirect");

impl Ctx {
    fn err(&self, e: AppError) -> WebError {
        WebError::new(e, self.lang, false)
    }
    /// Requires a permission, as the application layer decides it.
    fn require(&self, p: Permission) -> Result<(), WebError> {
        self.actor.require(p).map_err(|e| self.err(e))
    }
    fn can(&self, p: Permission) -> bool {
        self.actor.can(p)
    }
}

/// A public page request (sign-in, the client's questionnaire link).
pub(crate) struct PubCtx {
    pub lang: Lang,
    pub tr: Tr,
    pub here: String,
}

impl<S: Send + Sync> FromRequestParts<S> for PubCtx {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let lang = auth::lang_of(&parts.uri, &parts.headers);
        Ok(PubCtx { lang, tr: Tr(lang), here: here(parts) })
    }
}

pub(crate) type UiResult = Result<Response, WebError>;

/// Renders a template (a failure is a server error, logged).
pub(crate) fn render(t: &impl Template, lang: Lang) -> Result<String, WebError> {
    t.render().map_err(|e| WebError::new(AppError::Aborted(format!("template: {e}")), lang, false))
}

/// Runs application work on the blocking pool; its error becomes a page.
pub(crate) async fn run<T: Send + 'static>(
    lang: Lang,
    f: impl FnOnce() -> tierwise_app::AppResult<T> + Send + 'static,
) -> Result<T, WebError> {
    crate::blocking(f).await.map_err(|e| WebError::new(e, lang, false))
}

/// The navigation entry a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Dashboard,
    Work,
    Clients,
    Team,
    Kpis,
    Compliance,
    Audit,
    Products,
    Rules,
    Users,
}

pub(crate) struct NavItem {
    pub href: &'static str,
    pub label: String,
    pub active: bool,
}

/// What the role may use, and nothing else.
fn nav(actor: &Actor, tr: Tr, at: Section) -> Vec<NavItem> {
    let mut out = Vec::new();
    let mut add = |href: &'static str, label: String, s: Section| out.push(NavItem { href, label, active: s == at });
    add("/", tr.t("nav-dashboard"), Section::Dashboard);
    if actor.can(Permission::ServeClients) {
        add("/work", tr.t("nav-work"), Section::Work);
    }
    if actor.can(Permission::ViewClients) {
        add("/clients", tr.t("nav-clients"), Section::Clients);
    }
    if actor.can(Permission::AssignClients) {
        add("/team", tr.t("nav-team"), Section::Team);
    }
    if actor.can(Permission::ViewClients) {
        add("/kpis", tr.t("nav-kpis"), Section::Kpis);
    }
    if actor.can(Permission::ViewCompliance) {
        add("/compliance", tr.t("nav-compliance"), Section::Compliance);
    }
    if actor.can(Permission::ViewAudit) {
        add("/compliance/audit", tr.t("nav-audit"), Section::Audit);
    }
    add("/products", tr.t("nav-products"), Section::Products);
    if actor.can(Permission::ManageRules) {
        add("/rules", tr.t("nav-rules"), Section::Rules);
    }
    if actor.can(Permission::ManageUsers) {
        add("/admin/users", tr.t("nav-users"), Section::Users);
    }
    out
}

#[derive(Template)]
#[template(path = "base.html")]
struct Layout<'a> {
    tr: Tr,
    title: &'a str,
    csrf: &'a str,
    /// signed in: display name and role label
    user: Option<(String, String)>,
    nav: Vec<NavItem>,
    href_zh: String,
    href_en: String,
    content: &'a str,
}

/// `here` with `lang=` set.
fn with_lang(here: &str, l: &str) -> String {
    let sep = if here.contains('?') { '&' } else { '?' };
    format!("{here}{sep}lang={l}")
}

pub(crate) fn html(status: StatusCode, body: String) -> Response {
    let mut res = (status, Html(body)).into_response();
    // the same address answers a partial to htmx and a page otherwise
    res.headers_mut().append(header::VARY, HeaderValue::from_static("HX-Request"));
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The whole page around `content`.
pub(crate) fn page(ctx: &Ctx, section: Section, title: &str, content: &str) -> UiResult {
    let role = ctx.tr.t(&format!("role-{}", ctx.actor.role.as_str()));
    let l = Layout {
        tr: ctx.tr,
        title,
        csrf: &ctx.csrf,
        user: Some((ctx.actor.display_name.clone(), role)),
        nav: nav(&ctx.actor, ctx.tr, section),
        href_zh: with_lang(&ctx.here, "zh"),
        href_en: with_lang(&ctx.here, "en"),
        content,
    };
    Ok(html(StatusCode::OK, render(&l, ctx.lang)?))
}

/// A public page (no navigation, no session).
pub(crate) fn public_page(ctx: &PubCtx, status: StatusCode, title: &str, content: &str) -> UiResult {
    let l = Layout {
        tr: ctx.tr,
        title,
        csrf: "",
        user: None,
        nav: Vec::new(),
        href_zh: with_lang(&ctx.here, "zh"),
        href_en: with_lang(&ctx.here, "en"),
        content,
    };
    Ok(html(status, render(&l, ctx.lang)?))
}

/// The content alone to htmx, the whole page otherwise.
pub(crate) fn respond(ctx: &Ctx, section: Section, title: &str, content: String) -> UiResult {
    if ctx.htmx {
        Ok(html(StatusCode::OK, content))
    } else {
        page(ctx, section, title, &content)
    }
}

#[derive(Template)]
#[template(path = "alert.html")]
pub(crate) struct Alert {
    pub kind: &'static str,
    pub message: String,
}

/// An error shown in place (inside an htmx target or above a form). A lost
/// session still goes to the sign-in page.
pub(crate) fn inline_error(e: AppError, lang: Lang) -> UiResult {
    let w = WebError::new(e, lang, false);
    if w.status() == StatusCode::UNAUTHORIZED {
        return Err(w);
    }
    let a = Alert { kind: "error", message: w.message() };
    // htmx swaps only successful answers: the error is content here
    Ok(html(StatusCode::OK, render(&a, lang)?))
}

/// The localized message of an application error (for a form's banner).
pub(crate) fn message_of(e: AppError, lang: Lang) -> Result<String, WebError> {
    let w = WebError::new(e, lang, false);
    if w.status() == StatusCode::UNAUTHORIZED {
        return Err(w);
    }
    Ok(w.message())
}

pub(crate) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

// ---- display helpers ---------------------------------------------------------

const ZH: LanguageIdentifier = fluent_templates::langid!("zh-CN");
const EN: LanguageIdentifier = fluent_templates::langid!("en");

/// The Fluent label of a code (`cat-equity_fund`), else the code itself.
pub(crate) fn code_label(lang: Lang, prefix: &str, code: &str) -> String {
    if code.is_empty() {
        return "—".into();
    }
    let id = match lang {
        Lang::Zh => &ZH,
        Lang::En => &EN,
    };
    crate::i18n::LOCALES.try_lookup(id, &format!("{prefix}-{code}")).unwrap_or_else(|| code.to_string())
}

/// The separator of an inline list: `、` in Chinese, `, ` in English.
pub(crate) fn list_sep(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => "、",
        Lang::En => ", ",
    }
}

/// `1234567.8` → `1,234,567.80`.
pub(crate) fn money(d: &Decimal) -> String {
    let s = format!("{:.2}", d.round_dp(2));
    let (sign, digits) = match s.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", s.as_str()),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let mut out = String::with_capacity(s.len() + int.len() / 3);
    out.push_str(sign);
    let n = int.len();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (n - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    out
}

pub(crate) fn money_opt(d: &Option<Decimal>) -> String {
    d.as_ref().map_or_else(|| "—".into(), money)
}

/// An optional text, or a dash.
pub(crate) fn or_dash(s: &Option<String>) -> String {
    s.as_ref().filter(|s| !s.is_empty()).cloned().unwrap_or_else(|| "—".into())
}

/// `2025-03-01T10:20:30.123` → `2025-03-01 10:20`.
pub(crate) fn ts(s: &str) -> String {
    let s = s.replacen('T', " ", 1);
    if s.len() > 16 && s.is_char_boundary(16) && s.as_bytes().get(13) == Some(&b':') {
        s[..16].to_string()
    } else {
        s
    }
}

/// Percent-encodes a query value.
pub(crate) fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Labels of the rule pack's values (already localized by the pack).
pub(crate) struct Labels<'a> {
    pub app: &'a App,
    pub lang: Lang,
}

impl Labels<'_> {
    /// A value of a pack dimension (`asset_tier`, `lifecycle`, …).
    pub fn dim(&self, dim: &str, code: &str) -> String {
        if code.is_empty() {
            return "—".into();
        }
        self.app.pack.value_name(dim, code, self.lang)
    }
    pub fn dim_opt(&self, dim: &str, code: &Option<String>) -> String {
        code.as_deref().map_or_else(|| "—".into(), |c| self.dim(dim, c))
    }
    pub fn segment(&self, code: &str) -> String {
        match self.app.pack.segment(code) {
            Some(s) => s.name.get(self.lang).to_string(),
            None if code.is_empty() => "—".into(),
            None => code.to_string(),
        }
    }
    pub fn segment_opt(&self, code: &Option<String>) -> String {
        code.as_deref().map_or_else(|| "—".into(), |c| self.segment(c))
    }
    /// (code, label) of a dimension's values in pack order.
    pub fn options(&self, dim: &str) -> Vec<Opt> {
        self.app.value_order(dim, self.lang).into_iter().map(|(value, label)| Opt::new(value, label)).collect()
    }
    pub fn segment_options(&self) -> Vec<Opt> {
        self.app.pack.segments.iter().map(|s| Opt::new(s.id.clone(), s.name.get(self.lang))).collect()
    }
}

/// An option of a select.
#[derive(Debug, Clone)]
pub(crate) struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Opt {
    pub fn new(value: impl Into<String>, label: impl Into<String>) -> Opt {
        Opt { value: value.into(), label: label.into(), selected: false }
    }
}

/// Marks the option whose value is `chosen`.
pub(crate) fn select(mut opts: Vec<Opt>, chosen: Option<&str>) -> Vec<Opt> {
    for o in &mut opts {
        o.selected = chosen == Some(o.value.as_str());
    }
    opts
}

/// Options from codes with Fluent labels (`prefix-code`).
pub(crate) fn code_options(lang: Lang, prefix: &str, codes: &[&str]) -> Vec<Opt> {
    codes.iter().map(|c| Opt::new(*c, code_label(lang, prefix, c))).collect()
}

/// The five risk tolerance levels.
pub(crate) const RISK_LEVELS: &[&str] = &["C1", "C2", "C3", "C4", "C5"];

/// The scheme and host the browser used, for links sent to clients.
pub(crate) fn origin(headers: &axum::http::HeaderMap, secure: bool) -> String {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost");
    let forwarded = headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok());
    let scheme = match forwarded {
        Some(p @ ("http" | "https")) => p,
        _ if secure => "https",
        _ => "http",
    };
    format!("{scheme}://{host}")
}
