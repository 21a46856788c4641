//! The JSON API of monitoring and relationship work (持续监控, PRODUCT.md
//! 6) under `/api/v1`: alerts and tasks at the desk, the advisor's day,
//! the team lead's view and assignment, KPIs and NPS, the transaction feed
//! of the core systems, a client's notices, and the client's satisfaction
//! survey by one-time link (no session: the link's token is the credential).
//!
//! Who may do what is the application's: every handler passes the actor on.

use crate::api::{json, ApiError, ApiJson};
use crate::auth::{self, Authed, ReqLang};
use crate::error::{ApiResult, WebError};
use crate::AppState;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tierwise_app::work::{
    AdvisorKpi, AlertView, AssignmentView, CloseAlert, CompleteTask, FeedOutcome, MyDay, NoticeView, NpsView,
    SurveyView, TaskDone, TaskView, TeamView, TxnInput, WorkFilter,
};
use tierwise_app::AppError;
use tierwise_store::AlertAction;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/alerts", get(list_alerts))
        .route("/api/v1/alerts/{id}", get(get_alert))
        .route("/api/v1/alerts/{id}/acknowledge", post(acknowledge_alert))
        .route("/api/v1/alerts/{id}/close", post(close_alert))
        .route("/api/v1/tasks", get(list_tasks))
        .route("/api/v1/tasks/{id}/complete", post(complete_task))
        .route("/api/v1/workbench", get(workbench))
        .route("/api/v1/team", get(team))
        .route("/api/v1/kpis", get(kpis))
        .route("/api/v1/nps", get(nps))
        .route("/api/v1/assignments", get(assignments))
        .route("/api/v1/assignments/apply", post(apply_assignments))
        .route("/api/v1/events/transactions", post(feed_transactions))
        .route("/api/v1/clients/{id}/notices", get(client_notices))
        .route("/api/v1/public/survey/{token}", get(public_survey).post(public_survey_answer))
}

/// A query string; a malformed one answers `{"code":"invalid","field":"query"}`
/// in the request's language, like a malformed body.
pub(crate) struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = WebError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let lang = auth::lang_of(&parts.uri, &parts.headers);
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(ApiQuery(v)),
            Err(e) => {
                Err(WebError::new(AppError::Invalid { field: "query".into(), reason: e.body_text() }, lang, true))
            }
        }
    }
}

#[utoipa::path(get, path = "/api/v1/alerts", tag = "work", params(WorkFilter),
    responses((status = 200, body = Vec<AlertView>, description = "within your book (an advisor), branch (a team lead) or all (compliance); most severe first"),
              (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub(crate) async fn list_alerts(
    State(s): State<AppState>,
    a: Authed,
    ApiQuery(f): ApiQuery<WorkFilter>,
) -> ApiResult<Json<Vec<AlertView>>> {
    json(a.lang, move || s.app.alerts(&a.actor, &f, a.lang)).await
}

#[utoipa::path(get, path = "/api/v1/alerts/{id}", tag = "work", params(("id" = i64, Path, description = "alert id")),
    responses((status = 200, body = AlertView), (status = 404, body = ApiError, description = "unknown or outside your scope")))]
pub(crate) async fn get_alert(State(s): State<AppState>, a: Authed, Path(id): Path<i64>) -> ApiResult<Json<AlertView>> {
    json(a.lang, move || s.app.alert(&a.actor, id, a.lang)).await
}

#[utoipa::path(post, path = "/api/v1/alerts/{id}/acknowledge", tag = "work", params(("id" = i64, Path)),
    responses((status = 200, body = AlertView, description = "acknowledged (audited)"),
              (status = 404, body = ApiError), (status = 409, body = ApiError, description = "already acknowledged or closed")))]
pub(crate) async fn acknowledge_alert(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<i64>,
) -> ApiResult<Json<AlertView>> {
    json(a.lang, move || s.app.act_on_alert(&a.actor, id, &AlertAction::Acknowledge, a.lang)).await
}

#[utoipa::path(post, path = "/api/v1/alerts/{id}/close", tag = "work", params(("id" = i64, Path)), request_body = CloseAlert,
    responses((status = 200, body = AlertView, description = "closed with its outcome (audited)"),
              (status = 400, body = ApiError, description = "no outcome, or more than 500 characters"),
              (status = 404, body = ApiError), (status = 409, body = ApiError, description = "already closed")))]
pub(crate) async fn close_alert(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<i64>,
    ApiJson(c): ApiJson<CloseAlert>,
) -> ApiResult<Json<AlertView>> {
    json(a.lang, move || s.app.act_on_alert(&a.actor, id, &AlertAction::Close { outcome: c.outcome }, a.lang)).await
}

#[utoipa::path(get, path = "/api/v1/tasks", tag = "work", params(WorkFilter),
    responses((status = 200, body = Vec<TaskView>, description = "earliest due first"), (status = 403, body = ApiError)))]
pub(crate) async fn list_tasks(
    State(s): State<AppState>,
    a: Authed,
    ApiQuery(f): ApiQuery<WorkFilter>,
) -> ApiResult<Json<Vec<TaskView>>> {
    json(a.lang, move || s.app.tasks(&a.actor, &f, a.lang)).await
}

#[utoipa::path(post, path = "/api/v1/tasks/{id}/complete", tag = "work", params(("id" = i64, Path)), request_body = CompleteTask,
    responses((status = 200, body = TaskDone, description = "the contact is logged; a follow-up schedules the next one and sends the client a survey link"),
              (status = 400, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError, description = "already done or cancelled")))]
pub(crate) async fn complete_task(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<i64>,
    ApiJson(c): ApiJson<CompleteTask>,
) -> ApiResult<Json<TaskDone>> {
    json(a.lang, move || s.app.complete_task(&a.actor, id, &c, a.lang)).await
}

#[utoipa::path(get, path = "/api/v1/workbench", tag = "work",
    responses((status = 200, body = MyDay, description = "the advisor's day (a team lead sees the branch's): at most 200 overdue tasks, every task due today, 50 of the week ahead, 50 alerts"),
              (status = 403, body = ApiError)))]
pub(crate) async fn workbench(State(s): State<AppState>, a: Authed) -> ApiResult<Json<MyDay>> {
    json(a.lang, move || crate::ui::full_day(&s.app, &a.actor, a.lang).map(|(day, _)| day)).await
}

#[utoipa::path(get, path = "/api/v1/team", tag = "work",
    responses((status = 200, body = TeamView, description = "the branch's advisors, their load and the assignment proposals"), (status = 403, body = ApiError)))]
pub(crate) async fn team(State(s): State<AppState>, a: Authed) -> ApiResult<Json<TeamView>> {
    json(a.lang, move || s.app.team(&a.actor)).await
}

/// The KPI period.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KpiQuery {
    /// the last N days, today included (default 90)
    pub days: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/kpis", tag = "work", params(KpiQuery),
    responses((status = 200, body = Vec<AdvisorKpi>, description = "one row per advisor in your scope"), (status = 403, body = ApiError)))]
pub(crate) async fn kpis(
    State(s): State<AppState>,
    a: Authed,
    ApiQuery(q): ApiQuery<KpiQuery>,
) -> ApiResult<Json<Vec<AdvisorKpi>>> {
    json(a.lang, move || s.app.kpis(&a.actor, q.days.unwrap_or(90))).await
}

#[utoipa::path(get, path = "/api/v1/nps", tag = "work",
    responses((status = 200, body = NpsView, description = "NPS of the survey answers in your scope, overall and by advisor, segment and branch")))]
pub(crate) async fn nps(State(s): State<AppState>, a: Authed) -> ApiResult<Json<NpsView>> {
    json(a.lang, move || s.app.nps(&a.actor)).await
}

#[utoipa::path(get, path = "/api/v1/assignments", tag = "work",
    responses((status = 200, body = AssignmentView, description = "the proposals by service plan; nothing is moved"), (status = 403, body = ApiError)))]
pub(crate) async fn assignments(State(s): State<AppState>, a: Authed) -> ApiResult<Json<AssignmentView>> {
    json(a.lang, move || s.app.assign(Some(&a.actor), false, None)).await
}

/// Which proposals to apply.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ApplyAssignments {
    /// the clients whose proposals to apply; absent = every proposal
    pub client_ids: Option<Vec<String>>,
}

#[utoipa::path(post, path = "/api/v1/assignments/apply", tag = "work", request_body = ApplyAssignments,
    responses((status = 200, body = AssignmentView, description = "the moves made (audited; both advisors are told by an alert)"),
              (status = 403, body = ApiError)))]
pub(crate) async fn apply_assignments(
    State(s): State<AppState>,
    a: Authed,
    ApiJson(i): ApiJson<ApplyAssignments>,
) -> ApiResult<Json<AssignmentView>> {
    json(a.lang, move || s.app.assign(Some(&a.actor), true, i.client_ids.as_deref())).await
}

/// A batch of transactions from a core system.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct TransactionFeed {
    /// at most 10,000; a re-sent txn_id updates its row
    pub transactions: Vec<TxnInput>,
}

#[utoipa::path(post, path = "/api/v1/events/transactions", tag = "work", request_body = TransactionFeed,
    responses((status = 200, body = FeedOutcome, description = "stored; large outflows raised their alerts (idempotent by txn_id)"),
              (status = 400, body = ApiError), (status = 403, body = ApiError)))]
pub(crate) async fn feed_transactions(
    State(s): State<AppState>,
    a: Authed,
    ApiJson(f): ApiJson<TransactionFeed>,
) -> ApiResult<Json<FeedOutcome>> {
    json(a.lang, move || s.app.feed_transactions(&a.actor, &f.transactions)).await
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/notices", tag = "work", params(("id" = String, Path, description = "client id")),
    responses((status = 200, body = Vec<NoticeView>, description = "what the client was sent, and its delivery state"),
              (status = 404, body = ApiError, description = "unknown or outside your book")))]
pub(crate) async fn client_notices(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<NoticeView>>> {
    json(a.lang, move || s.app.client_notices(&a.actor, &id, a.lang)).await
}

#[utoipa::path(get, path = "/api/v1/public/survey/{token}", tag = "work",
    params(("token" = String, Path, description = "the survey link's token")),
    responses((status = 200, body = SurveyView), (status = 410, body = ApiError, description = "unknown, answered or expired")))]
pub(crate) async fn public_survey(
    State(s): State<AppState>,
    ReqLang(lang): ReqLang,
    Path(token): Path<String>,
) -> ApiResult<Json<SurveyView>> {
    json(lang, move || s.app.open_survey(&token)).await
}

/// The client's answer to a satisfaction survey.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct SurveyAnswer {
    /// how likely the client is to recommend us, "0" to "10" (a JSON number is accepted too)
    #[serde(deserialize_with = "text_or_number")]
    #[schema(value_type = String, example = "9")]
    pub nps: String,
    /// at most 1000 characters
    pub comment: Option<String>,
}

fn text_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum TextOrNumber {
        Text(String),
        Number(serde_json::Number),
    }
    Ok(match TextOrNumber::deserialize(d)? {
        TextOrNumber::Text(s) => s,
        TextOrNumber::Number(n) => n.to_string(),
    })
}

/// The answer was stored.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SurveyThanks {
    pub answered: bool,
}

#[utoipa::path(post, path = "/api/v1/public/survey/{token}", tag = "work", request_body = SurveyAnswer,
    params(("token" = String, Path)),
    responses((status = 200, body = SurveyThanks, description = "stored; the link is used up"),
              (status = 400, body = ApiError, description = "not a score from 0 to 10, or too long a comment"),
              (status = 410, body = ApiError, description = "unknown, answered or expired")))]
pub(crate) async fn public_survey_answer(
    State(s): State<AppState>,
    ReqLang(lang): ReqLang,
    Path(token): Path<String>,
    ApiJson(i): ApiJson<SurveyAnswer>,
) -> ApiResult<Json<SurveyThanks>> {
    json(lang, move || {
        s.app.answer_survey(&token, &i.nps, i.comment.as_deref()).map(|()| SurveyThanks { answered: true })
    })
    .await
}
