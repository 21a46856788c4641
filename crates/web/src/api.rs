//! The JSON API under `/api/v1`: everything the UI does, over the same
//! application layer, described by OpenAPI (`/api/openapi.json`, browsable
//! at `/api/docs`). Sign in with `POST /api/v1/login`; the session cookie
//! comes back, and every state-changing call must send the returned
//! `csrf_token` in the `X-CSRF-Token` header.

use crate::auth::{self, Authed, ReqLang};
use crate::error::{ApiResult, WebError};
use crate::{blocking, AppState};
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tierwise_app::desk::*;
use tierwise_app::AppResult;
use tierwise_domain::Lang;
use utoipa::OpenApi;

/// The OpenAPI description of `/api/v1`.
#[derive(OpenApi)]
#[openapi(
    info(title = "Tierwise API", version = "1", description = "Client classification and suitability (客户分类分层与适当性管理). Errors are `{\"code\",\"message\"}` with stable codes; messages follow `?lang=zh|en`."),
    paths(
        login, logout, me, dashboard, list_clients, export_clients, client_360, add_interaction, submit_assessment,
        create_link, list_questionnaires, score, public_questionnaire, public_submit, create_check, get_check,
        record_sale, list_products, save_product, compliance, audit_log, audit_verify, list_rules, simulate,
        list_users, create_user, update_user,
        crate::work_api::list_alerts, crate::work_api::get_alert, crate::work_api::acknowledge_alert,
        crate::work_api::close_alert, crate::work_api::list_tasks, crate::work_api::complete_task,
        crate::work_api::workbench, crate::work_api::team, crate::work_api::kpis, crate::work_api::nps,
        crate::work_api::assignments, crate::work_api::apply_assignments, crate::work_api::feed_transactions,
        crate::work_api::client_notices, crate::work_api::public_survey, crate::work_api::public_survey_answer
    ),
    components(schemas(ApiError, LoginRequest, Me, Created, AnswersInput, LinkInput, SimulateInput, VerifyView)),
    tags(
        (name = "session", description = "sign-in"),
        (name = "clients", description = "the client list and 360"),
        (name = "questionnaire", description = "risk questionnaires (风险承受能力评估)"),
        (name = "suitability", description = "checks and sales (适当性匹配)"),
        (name = "products", description = "the catalogue"),
        (name = "compliance", description = "compliance and the audit trail"),
        (name = "rules", description = "rule packs and simulation"),
        (name = "admin", description = "users and roles"),
        (name = "work", description = "monitoring and relationship work (持续监控): alerts, follow-up tasks, the workbench, assignment, KPIs, NPS surveys, the transaction feed")
    )
)]
pub struct ApiDoc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(utoipa_swagger_ui::SwaggerUi::new("/api/docs").url("/api/openapi.json", ApiDoc::openapi()))
        .route("/api/v1/login", post(login))
        .route("/api/v1/logout", post(logout))
        .route("/api/v1/me", get(me))
        .route("/api/v1/dashboard", get(dashboard))
        .route("/api/v1/clients", get(list_clients))
        .route("/api/v1/clients/export", get(export_clients))
        .route("/api/v1/clients/{id}", get(client_360))
        .route("/api/v1/clients/{id}/interactions", post(add_interaction))
        .route("/api/v1/clients/{id}/assessments", post(submit_assessment))
        .route("/api/v1/clients/{id}/questionnaire-links", post(create_link))
        .route("/api/v1/questionnaires", get(list_questionnaires))
        .route("/api/v1/questionnaires/score", post(score))
        .route("/api/v1/public/questionnaire/{token}", get(public_questionnaire).post(public_submit))
        .route("/api/v1/checks", post(create_check))
        .route("/api/v1/checks/{id}", get(get_check))
        .route("/api/v1/checks/{id}/sale", post(record_sale))
        .route("/api/v1/products", get(list_products))
        .route("/api/v1/products/{id}", put(save_product))
        .route("/api/v1/compliance", get(compliance))
        .route("/api/v1/audit", get(audit_log))
        .route("/api/v1/audit/verify", post(audit_verify))
        .route("/api/v1/rules", get(list_rules))
        .route("/api/v1/rules/simulate", post(simulate))
        .route("/api/v1/users", get(list_users).post(create_user))
        .route("/api/v1/users/{id}", patch(update_user))
        .merge(crate::work_api::routes())
}

/// An error: a stable code and a message in the request's language.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ApiError {
    /// e.g. `unauthenticated`, `forbidden`, `not_found`, `invalid`, `csrf`, `conflict`, `link_invalid`
    pub code: String,
    pub message: String,
    /// the offending field, for `invalid`
    pub field: Option<String>,
}

/// A JSON body; a malformed one answers `{"code":"invalid","field":"body"}`
/// in the request's language, like every other bad input.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S> for ApiJson<T> {
    type Rejection = WebError;
    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let lang = auth::lang_of(req.uri(), req.headers());
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(e) => Err(WebError::new(
                tierwise_app::AppError::Invalid { field: "body".into(), reason: e.body_text() },
                lang,
                true,
            )),
        }
    }
}

/// Runs application work and answers JSON.
pub(crate) async fn json<T: Serialize + Send + 'static>(
    lang: Lang,
    f: impl FnOnce() -> AppResult<T> + Send + 'static,
) -> ApiResult<Json<T>> {
    blocking(f).await.map(Json).map_err(|e| WebError::new(e, lang, true))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// The signed-in user and the CSRF token to send with every change.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub advisor_id: Option<String>,
    pub branch_id: Option<String>,
    pub can_view_pii: bool,
    pub csrf_token: String,
}

fn me_of(a: &tierwise_app::access::Actor, csrf: &str) -> Me {
    Me {
        username: a.username.clone(),
        display_name: a.display_name.clone(),
        role: a.role.as_str().into(),
        advisor_id: a.advisor_id.clone(),
        branch_id: a.branch_id.clone(),
        can_view_pii: a.can_view_pii,
        csrf_token: csrf.into(),
    }
}

#[utoipa::path(post, path = "/api/v1/login", tag = "session", request_body = LoginRequest,
    responses((status = 200, body = Me, description = "signed in; the session cookie is set"),
              (status = 401, body = ApiError), (status = 429, body = ApiError)))]
async fn login(
    State(s): State<AppState>,
    ReqLang(lang): ReqLang,
    connect: axum::extract::ConnectInfo<std::net::SocketAddr>,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let app = s.app.clone();
    let addr = connect.0.ip().to_string();
    let signed = blocking(move || app.login(&req.username, &req.password, &addr))
        .await
        .map_err(|e| WebError::new(e, lang, true))?;
    let cookie = auth::session_cookie(&signed.token, SESSION_SECONDS, s.secure_cookies);
    Ok(([(header::SET_COOKIE, cookie)], Json(me_of(&signed.actor, &signed.csrf_token))).into_response())
}

#[utoipa::path(post, path = "/api/v1/logout", tag = "session", responses((status = 204)))]
async fn logout(State(s): State<AppState>, headers: axum::http::HeaderMap, a: Authed) -> ApiResult<Response> {
    if let Some(token) = auth::cookie(&headers, auth::SESSION_COOKIE).map(String::from) {
        let app = s.app.clone();
        blocking(move || app.logout(&token)).await.map_err(|e| WebError::new(e, a.lang, true))?;
    }
    Ok(([(header::SET_COOKIE, auth::clear_cookie())], StatusCode::NO_CONTENT).into_response())
}

#[utoipa::path(get, path = "/api/v1/me", tag = "session", responses((status = 200, body = Me), (status = 401, body = ApiError)))]
async fn me(a: Authed) -> Json<Me> {
    Json(me_of(&a.actor, &a.csrf))
}

#[utoipa::path(get, path = "/api/v1/dashboard", tag = "clients", responses((status = 200, body = Dashboard), (status = 401, body = ApiError)))]
async fn dashboard(State(s): State<AppState>, a: Authed) -> ApiResult<Json<Dashboard>> {
    json(a.lang, move || s.app.dashboard(&a.actor, a.lang)).await
}

#[utoipa::path(get, path = "/api/v1/clients", tag = "clients", params(ClientFilter),
    responses((status = 200, body = ClientPage), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
async fn list_clients(
    State(s): State<AppState>,
    a: Authed,
    Query(f): Query<ClientFilter>,
) -> ApiResult<Json<ClientPage>> {
    json(a.lang, move || s.app.clients(&a.actor, &f, a.lang)).await
}

#[utoipa::path(get, path = "/api/v1/clients/export", tag = "clients", params(ClientFilter),
    responses((status = 200, content_type = "text/csv", body = String, description = "the filtered list, every page"), (status = 403, body = ApiError)))]
async fn export_clients(State(s): State<AppState>, a: Authed, Query(f): Query<ClientFilter>) -> ApiResult<Response> {
    let lang = a.lang;
    let bytes = blocking(move || {
        let mut out = Vec::new();
        s.app.export_clients(&a.actor, &f, &mut out)?;
        Ok(out)
    })
    .await
    .map_err(|e| WebError::new(e, lang, true))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"clients.csv\""),
        ],
        bytes,
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/v1/clients/{id}", tag = "clients", params(("id" = String, Path, description = "client id")),
    responses((status = 200, body = Client360), (status = 404, body = ApiError, description = "unknown or outside your book")))]
async fn client_360(State(s): State<AppState>, a: Authed, Path(id): Path<String>) -> ApiResult<Json<Client360>> {
    json(a.lang, move || s.app.client_360(&a.actor, &id, a.lang)).await
}

/// A created row's id.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Created {
    pub id: i64,
}

#[utoipa::path(post, path = "/api/v1/clients/{id}/interactions", tag = "clients", request_body = NewInteraction,
    params(("id" = String, Path)), responses((status = 201), (status = 400, body = ApiError), (status = 404, body = ApiError)))]
async fn add_interaction(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(i): ApiJson<NewInteraction>,
) -> ApiResult<StatusCode> {
    json(a.lang, move || s.app.add_interaction(&a.actor, &id, &i)).await.map(|_| StatusCode::CREATED)
}

/// Answers to a questionnaire: `q1=A;q2=B,C;…`.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct AnswersInput {
    /// default: the server's default questionnaire
    pub questionnaire_id: Option<String>,
    pub answers: String,
}

#[utoipa::path(post, path = "/api/v1/clients/{id}/assessments", tag = "questionnaire", request_body = AnswersInput,
    params(("id" = String, Path)), responses((status = 200, body = AssessmentOutcome), (status = 400, body = ApiError)))]
async fn submit_assessment(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(i): ApiJson<AnswersInput>,
) -> ApiResult<Json<AssessmentOutcome>> {
    json(a.lang, move || s.app.submit_assessment(&a.actor, &id, i.questionnaire_id.as_deref(), &i.answers)).await
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LinkInput {
    pub questionnaire_id: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/clients/{id}/questionnaire-links", tag = "questionnaire", request_body = LinkInput,
    params(("id" = String, Path)), responses((status = 200, body = LinkView)))]
async fn create_link(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(i): ApiJson<LinkInput>,
) -> ApiResult<Json<LinkView>> {
    json(a.lang, move || s.app.create_link(&a.actor, &id, i.questionnaire_id.as_deref()).map(|(_, l)| l)).await
}

#[utoipa::path(get, path = "/api/v1/questionnaires", tag = "questionnaire", responses((status = 200, body = Vec<QuestionnaireView>)))]
async fn list_questionnaires(State(s): State<AppState>, a: Authed) -> Json<Vec<QuestionnaireView>> {
    Json(s.app.questionnaires.iter().map(|q| QuestionnaireView::of(q, a.lang)).collect())
}

#[utoipa::path(post, path = "/api/v1/questionnaires/score", tag = "questionnaire", request_body = AnswersInput,
    responses((status = 200, body = ScoreView, description = "the live preview: nothing is stored"), (status = 400, body = ApiError)))]
async fn score(State(s): State<AppState>, a: Authed, ApiJson(i): ApiJson<AnswersInput>) -> ApiResult<Json<ScoreView>> {
    json(a.lang, move || s.app.score(i.questionnaire_id.as_deref(), &i.answers)).await
}

#[utoipa::path(get, path = "/api/v1/public/questionnaire/{token}", tag = "questionnaire",
    params(("token" = String, Path, description = "the one-time link's token")),
    responses((status = 200, body = QuestionnaireView), (status = 410, body = ApiError, description = "unknown, used or expired")))]
async fn public_questionnaire(
    State(s): State<AppState>,
    ReqLang(lang): ReqLang,
    Path(token): Path<String>,
) -> ApiResult<Json<QuestionnaireView>> {
    json(lang, move || s.app.open_link(&token).map(|(_, q)| QuestionnaireView::of(q, lang))).await
}

#[utoipa::path(post, path = "/api/v1/public/questionnaire/{token}", tag = "questionnaire", request_body = AnswersInput,
    params(("token" = String, Path)),
    responses((status = 200, body = ScoreView, description = "stored; the link is used up"), (status = 410, body = ApiError)))]
async fn public_submit(
    State(s): State<AppState>,
    ReqLang(lang): ReqLang,
    Path(token): Path<String>,
    ApiJson(i): ApiJson<AnswersInput>,
) -> ApiResult<Json<ScoreView>> {
    json(lang, move || s.app.submit_by_link(&token, &i.answers).map(|o| o.result)).await
}

#[utoipa::path(post, path = "/api/v1/checks", tag = "suitability", request_body = CheckInput,
    responses((status = 200, body = CheckResult, description = "the verdict, whatever it is"), (status = 404, body = ApiError)))]
async fn create_check(
    State(s): State<AppState>,
    a: Authed,
    ApiJson(i): ApiJson<CheckInput>,
) -> ApiResult<Json<CheckResult>> {
    json(a.lang, move || s.app.desk_check(&a.actor, &i, a.lang)).await
}

#[utoipa::path(get, path = "/api/v1/checks/{id}", tag = "suitability", params(("id" = i64, Path)),
    responses((status = 200, body = CheckView), (status = 404, body = ApiError)))]
async fn get_check(State(s): State<AppState>, a: Authed, Path(id): Path<i64>) -> ApiResult<Json<CheckView>> {
    json(a.lang, move || s.app.check_view(&a.actor, id)).await
}

#[utoipa::path(post, path = "/api/v1/checks/{id}/sale", tag = "suitability", request_body = SaleInput, params(("id" = i64, Path)),
    responses((status = 200, body = Created, description = "the sale is recorded"),
              (status = 400, body = ApiError, description = "prohibited, or a warning without the client's confirmation"),
              (status = 409, body = ApiError, description = "already recorded")))]
async fn record_sale(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<i64>,
    ApiJson(i): ApiJson<SaleInput>,
) -> ApiResult<Json<Created>> {
    json(a.lang, move || s.app.record_sale(&a.actor, id, &i).map(|id| Created { id })).await
}

#[utoipa::path(get, path = "/api/v1/products", tag = "products", responses((status = 200, body = Vec<ProductView>)))]
async fn list_products(State(s): State<AppState>, a: Authed) -> ApiResult<Json<Vec<ProductView>>> {
    json(a.lang, move || s.app.product_list()).await
}

#[utoipa::path(put, path = "/api/v1/products/{id}", tag = "products", request_body = ProductInput, params(("id" = String, Path)),
    responses((status = 200, body = ProductView), (status = 400, body = ApiError), (status = 403, body = ApiError)))]
async fn save_product(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(p): ApiJson<ProductInput>,
) -> ApiResult<Json<ProductView>> {
    json(a.lang, move || s.app.save_product(&a.actor, &id, &p)).await
}

#[utoipa::path(get, path = "/api/v1/compliance", tag = "compliance", responses((status = 200, body = ComplianceView), (status = 403, body = ApiError)))]
async fn compliance(State(s): State<AppState>, a: Authed) -> ApiResult<Json<ComplianceView>> {
    json(a.lang, move || s.app.compliance(&a.actor, a.lang)).await
}

/// Filters of the audit log.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    pub actor: Option<String>,
    /// a prefix: `suitability.` matches every suitability action
    pub action: Option<String>,
    pub subject: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// the smallest seq of the previous page
    pub before: Option<i64>,
    pub limit: Option<u32>,
}

impl AuditParams {
    pub fn query(&self) -> tierwise_store::AuditQuery {
        let ne = tierwise_app::desk::nonempty;
        tierwise_store::AuditQuery {
            actor: ne(&self.actor),
            action: ne(&self.action),
            subject: ne(&self.subject),
            from: ne(&self.from),
            to: ne(&self.to),
            before: self.before,
            limit: self.limit.unwrap_or(100),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "compliance", params(AuditParams),
    responses((status = 200, body = Vec<AuditView>), (status = 403, body = ApiError)))]
async fn audit_log(
    State(s): State<AppState>,
    a: Authed,
    Query(p): Query<AuditParams>,
) -> ApiResult<Json<Vec<AuditView>>> {
    json(a.lang, move || s.app.audit_log(&a.actor, &p.query())).await
}

/// The audit trail's verification.
#[derive(Serialize, utoipa::ToSchema)]
pub struct VerifyView {
    pub intact: bool,
    pub events: i64,
    /// the newest event's hash: note it outside the database
    pub head: String,
    /// the first broken event
    pub broken_seq: Option<i64>,
    pub reason: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/audit/verify", tag = "compliance",
    responses((status = 200, body = VerifyView), (status = 403, body = ApiError)))]
async fn audit_verify(State(s): State<AppState>, a: Authed) -> ApiResult<Json<VerifyView>> {
    json(a.lang, move || {
        let v = s.app.verify_audit(Some(&a.actor))?;
        Ok(VerifyView {
            intact: v.broken.is_none(),
            events: v.events,
            head: v.head,
            broken_seq: v.broken.as_ref().map(|b| b.0),
            reason: v.broken.map(|b| b.1),
        })
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/rules", tag = "rules", responses((status = 200, body = Vec<PackView>), (status = 403, body = ApiError)))]
async fn list_rules(State(s): State<AppState>, a: Authed) -> ApiResult<Json<Vec<PackView>>> {
    json(a.lang, move || s.app.packs(&a.actor, a.lang)).await
}

/// A candidate pack: a known name (`cn-csrc`) or a pack file's text.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct SimulateInput {
    pub pack: String,
}

#[utoipa::path(post, path = "/api/v1/rules/simulate", tag = "rules", request_body = SimulateInput,
    responses((status = 200, body = SimulationView, description = "nothing is stored"), (status = 400, body = ApiError)))]
async fn simulate(
    State(s): State<AppState>,
    a: Authed,
    ApiJson(i): ApiJson<SimulateInput>,
) -> ApiResult<Json<SimulationView>> {
    json(a.lang, move || s.app.simulate_pack(&a.actor, &i.pack, a.lang)).await
}

#[utoipa::path(get, path = "/api/v1/users", tag = "admin", responses((status = 200, body = Vec<UserView>), (status = 403, body = ApiError)))]
async fn list_users(State(s): State<AppState>, a: Authed) -> ApiResult<Json<Vec<UserView>>> {
    json(a.lang, move || s.app.users(&a.actor)).await
}

#[utoipa::path(post, path = "/api/v1/users", tag = "admin", request_body = NewUser,
    responses((status = 200, body = Created), (status = 400, body = ApiError), (status = 409, body = ApiError)))]
async fn create_user(State(s): State<AppState>, a: Authed, ApiJson(u): ApiJson<NewUser>) -> ApiResult<Json<Created>> {
    json(a.lang, move || s.app.create_user(Some(&a.actor), &u).map(|id| Created { id })).await
}

#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "admin", request_body = UserChange, params(("id" = i64, Path)),
    responses((status = 200, body = UserView), (status = 404, body = ApiError)))]
async fn update_user(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<i64>,
    ApiJson(c): ApiJson<UserChange>,
) -> ApiResult<Json<UserView>> {
    json(a.lang, move || s.app.update_user(&a.actor, id, &c)).await
}
