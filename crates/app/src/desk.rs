//! The desk's use cases (the web application's, over HTTP and HTML alike):
//! sign-in and sessions, dashboards, the client list and 360, the
//! questionnaire at the desk or by one-time link, suitability checks and
//! confirmed sales, products, compliance, the audit trail, rules and users.
//!
//! Every function takes the [`Actor`] and decides here what they may do and
//! see: permission first, then the row scope, then PII masking. Writes carry
//! their audit event to the store, which keeps both in one transaction.

use crate::access::{self, Actor, Permission, Role};
use crate::{App, AppError, AppResult, Distribution};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use tierwise_classify::{Explanation, MigrationMatrix};
use tierwise_domain::{
    Assessment, Channel, Client, InitiatedBy, Interaction, InteractionChannel, Lang, LocalDateTime, Product,
};
use tierwise_questionnaire::Questionnaire;
use tierwise_store::{
    AuditEntry, AuditEvent, AuditQuery, AuditVerification, CheckQuery, CheckRow, ClientQuery, ClientRow, ClientScope,
    Confirmation, OneTimeLink, RunInfo, Sale, Session, StoredClassification, User,
};
use tierwise_suitability::{CheckOutcome, CheckRequest, Verdict};

/// How long a session lasts from sign-in.
pub const SESSION_SECONDS: i64 = 12 * 3600;
/// How long a questionnaire link stays usable.
pub const LINK_SECONDS: i64 = 7 * 24 * 3600;

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn json(v: serde_json::Value) -> String {
    v.to_string()
}

fn invalid(field: &str, reason: impl Into<String>) -> AppError {
    AppError::Invalid { field: field.into(), reason: reason.into() }
}

/// A signed-in session: who, and the token the forms must echo.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub actor: Actor,
    /// the cookie value (never stored: the store keeps its hash)
    pub token: String,
    pub csrf_token: String,
    pub expires_at: i64,
}

/// A user as the admin page shows it (no password hash).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub advisor_id: Option<String>,
    pub branch_id: Option<String>,
    pub can_view_pii: bool,
    pub active: bool,
    pub created_at: String,
}

impl From<&User> for UserView {
    fn from(u: &User) -> UserView {
        UserView {
            user_id: u.user_id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            role: u.role.clone(),
            advisor_id: u.advisor_id.clone(),
            branch_id: u.branch_id.clone(),
            can_view_pii: u.can_view_pii,
            active: u.active,
            created_at: u.created_at.clone(),
        }
    }
}

/// A new member of staff.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub advisor_id: Option<String>,
    pub branch_id: Option<String>,
    pub password: String,
    /// default: the role's ([`Role::pii_by_default`])
    pub can_view_pii: Option<bool>,
}

/// Changes to a member of staff; absent fields stay.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct UserChange {
    pub display_name: Option<String>,
    pub role: Option<String>,
    /// "" clears it
    pub advisor_id: Option<String>,
    /// "" clears it
    pub branch_id: Option<String>,
    pub can_view_pii: Option<bool>,
    pub active: Option<bool>,
    pub password: Option<String>,
}

/// One bar of a distribution.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Bar {
    pub code: String,
    pub label: String,
    pub clients: i64,
}

/// A migration matrix (rows: previous value; columns: current value).
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Matrix {
    pub labels: Vec<String>,
    pub codes: Vec<String>,
    /// cells[from][to]
    pub cells: Vec<Vec<u64>>,
    /// clients that changed value
    pub moved: u64,
}

impl Matrix {
    fn from(m: &MigrationMatrix, order: &[(String, String)]) -> Matrix {
        let mut codes: Vec<String> = order.iter().map(|(c, _)| c.clone()).collect();
        let mut labels: Vec<String> = order.iter().map(|(_, l)| l.clone()).collect();
        for (f, t, _) in m.pairs() {
            for v in [f, t] {
                if !codes.iter().any(|c| c == v) {
                    codes.push(v.to_string());
                    labels.push(v.to_string());
                }
            }
        }
        let cells = codes.iter().map(|f| codes.iter().map(|t| m.get(f, t)).collect()).collect();
        Matrix { labels, codes, cells, moved: m.moved() }
    }
}

/// The latest run, as shown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RunView {
    pub run_id: i64,
    pub as_of: String,
    pub rule_pack: String,
    pub rule_version: String,
    pub finished_at: String,
    pub clients: i64,
}

impl From<&RunInfo> for RunView {
    fn from(r: &RunInfo) -> RunView {
        RunView {
            run_id: r.run_id,
            as_of: r.as_of.to_string(),
            rule_pack: r.rule_pack.clone(),
            rule_version: r.rule_version.clone(),
            finished_at: r.finished_at.clone(),
            clients: r.clients,
        }
    }
}

/// A client in a list, with display labels.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClientListRow {
    pub client_id: String,
    pub name: Option<String>,
    pub branch_id: Option<String>,
    pub advisor_id: Option<String>,
    #[schema(value_type = Option<String>)]
    pub aum: Option<Decimal>,
    pub asset_tier: Option<String>,
    pub asset_tier_label: Option<String>,
    pub segment: Option<String>,
    pub segment_label: Option<String>,
    pub risk_level: Option<String>,
    pub behaviour_risk: Option<String>,
    pub lifecycle: Option<String>,
    pub assessment_status: Option<String>,
    pub churn_risk: Option<String>,
}

/// A suitability check, as listed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CheckView {
    pub check_id: i64,
    pub client_id: String,
    pub product_id: String,
    pub at: String,
    pub verdict: String,
    pub actor: String,
    pub rule_pack: String,
    pub rule_version: String,
    /// reason codes of the check
    pub reasons: Vec<String>,
    pub sale: Option<SaleView>,
}

/// A recorded sale.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SaleView {
    pub sale_id: i64,
    #[schema(value_type = String)]
    pub amount: Decimal,
    pub recorded_by: String,
    pub recorded_at: String,
    pub confirmed_by: Option<String>,
    pub confirmed_at: Option<String>,
    pub confirmation_channel: Option<String>,
    pub recording_ref: Option<String>,
}

impl From<&CheckRow> for CheckView {
    fn from(c: &CheckRow) -> CheckView {
        let payload: serde_json::Value = serde_json::from_str(&c.payload).unwrap_or_default();
        let reasons = payload
            .pointer("/outcome/reasons")
            .or_else(|| payload.get("reasons"))
            .and_then(|r| r.as_array())
            .map(|a| a.iter().filter_map(|r| r.get("code").and_then(|c| c.as_str()).map(String::from)).collect())
            .unwrap_or_default();
        CheckView {
            check_id: c.check_id,
            client_id: c.client_id.clone(),
            product_id: c.product_id.clone(),
            at: c.at.clone(),
            verdict: c.verdict.clone(),
            actor: c.actor.clone(),
            rule_pack: c.rule_pack.clone(),
            rule_version: c.rule_version.clone(),
            reasons,
            sale: c.sale.as_ref().map(|s| SaleView {
                sale_id: s.sale_id,
                amount: s.amount,
                recorded_by: s.recorded_by.clone(),
                recorded_at: s.recorded_at.clone(),
                confirmed_by: s.confirmation.as_ref().map(|c| c.confirmed_by.clone()),
                confirmed_at: s.confirmation.as_ref().map(|c| c.confirmed_at.clone()),
                confirmation_channel: s.confirmation.as_ref().map(|c| c.channel.clone()),
                recording_ref: s.confirmation.as_ref().and_then(|c| c.recording_ref.clone()),
            }),
        }
    }
}

/// A role's dashboard.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Dashboard {
    pub run: Option<RunView>,
    /// clients in the viewer's scope in the run
    pub clients: i64,
    pub tiers: Vec<Bar>,
    pub segments: Vec<Bar>,
    pub tier_migrations: Matrix,
    /// assessments expiring within 30 days (first page)
    pub expiring: Vec<ClientListRow>,
    /// high churn risk (first page)
    pub churn_risk: Vec<ClientListRow>,
    /// the latest warned or prohibited checks
    pub warnings: Vec<CheckView>,
}

/// Filters of the client list (all optional, AND-ed).
#[derive(Debug, Clone, Default, serde::Deserialize, Serialize, utoipa::ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClientFilter {
    pub asset_tier: Option<String>,
    pub segment: Option<String>,
    pub risk_level: Option<String>,
    pub lifecycle: Option<String>,
    pub assessment_status: Option<String>,
    pub churn_risk: Option<String>,
    pub advisor_id: Option<String>,
    pub branch_id: Option<String>,
    /// only clients holding above their tolerance
    pub above_tolerance: Option<bool>,
    /// client id, phone or the start of the name
    pub q: Option<String>,
    /// the last client id of the previous page
    pub after: Option<String>,
    /// page size (default 50, at most 200)
    pub limit: Option<u32>,
}

/// A form or query value, trimmed; None when absent or blank.
pub fn nonempty(s: &Option<String>) -> Option<String> {
    s.as_ref().map(|x| x.trim().to_string()).filter(|x| !x.is_empty())
}

/// A page of clients.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClientPage {
    pub rows: Vec<ClientListRow>,
    /// pass as `after` for the next page; None on the last page
    pub next: Option<String>,
}

/// A client's profile as the viewer may see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClientProfile {
    pub client_id: String,
    pub kind: String,
    pub name: Option<String>,
    pub gender: Option<String>,
    pub birth_date: Option<String>,
    pub age: Option<i32>,
    /// masked unless the viewer holds the PII permission
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub occupation: Option<String>,
    pub city: Option<String>,
    pub branch_id: Option<String>,
    pub advisor_id: Option<String>,
    pub onboarded_at: Option<String>,
    #[schema(value_type = Option<String>)]
    pub annual_income: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub declared_financial_assets: Option<Decimal>,
    pub experience_years: Option<u32>,
    pub professional_status: String,
    /// true when the ID number, phone and email above are unmasked
    pub pii_visible: bool,
}

/// One holding of the newest snapshot.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HoldingView {
    pub product_id: String,
    pub product_name: Option<String>,
    pub line: String,
    pub category: String,
    pub risk_level: String,
    #[schema(value_type = String)]
    pub market_value: Decimal,
    pub as_of: String,
}

/// AUM of one business line.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LineTotal {
    pub line: String,
    #[schema(value_type = String)]
    pub aum: Decimal,
}

/// One dimension of the current classification with its explanation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DimensionView {
    pub dimension: String,
    pub label: String,
    pub value: String,
    pub value_label: String,
    /// `客户层级 = 财富 ← aum >= wealth_min … ‹aum = 812345.5›`
    pub explanation: String,
}

/// The current classification of a client.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClassificationView {
    pub run_id: i64,
    pub as_of: String,
    pub rule_pack: String,
    pub rule_version: String,
    pub asset_tier: String,
    pub segment: String,
    pub segment_label: String,
    pub value_decile: u8,
    pub dimensions: Vec<DimensionView>,
    /// the service plan of the segment
    pub service_plan: Option<String>,
}

/// The client's result in one run.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HistoryView {
    pub run_id: i64,
    pub as_of: String,
    pub rule_version: String,
    #[schema(value_type = String)]
    pub aum: Decimal,
    pub asset_tier: String,
    pub segment: String,
    pub risk_level: String,
    pub previous_asset_tier: Option<String>,
    pub previous_segment: Option<String>,
}

/// An assessment, as listed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AssessmentView {
    pub questionnaire_id: String,
    pub assessed_at: String,
    pub channel: String,
    pub level: String,
    pub lowest: bool,
    pub score: Option<i64>,
    pub horizon_months: Option<u32>,
    pub varieties: Option<String>,
    pub goal: Option<String>,
}

impl From<&Assessment> for AssessmentView {
    fn from(a: &Assessment) -> AssessmentView {
        AssessmentView {
            questionnaire_id: a.questionnaire_id.clone(),
            assessed_at: tierwise_domain::dates::format_timestamp(&a.assessed_at),
            channel: a.channel.as_str().into(),
            level: a.result.level.as_str().into(),
            lowest: a.result.lowest,
            score: a.result.score,
            horizon_months: a.result.horizon_months,
            varieties: a.result.varieties.as_ref().map(|v| tierwise_domain::format_varieties(v)),
            goal: a.result.goal.map(|g| g.as_str().into()),
        }
    }
}

/// An interaction, as listed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InteractionView {
    pub at: String,
    pub channel: String,
    pub advisor_id: Option<String>,
    pub topic: Option<String>,
    pub outcome: Option<String>,
}

/// Everything about one client on one page (客户360视图).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Client360 {
    pub profile: ClientProfile,
    #[schema(value_type = String)]
    pub aum: Decimal,
    pub lines: Vec<LineTotal>,
    pub holdings: Vec<HoldingView>,
    pub classification: Option<ClassificationView>,
    pub history: Vec<HistoryView>,
    pub assessments: Vec<AssessmentView>,
    pub checks: Vec<CheckView>,
    pub interactions: Vec<InteractionView>,
}

/// An interaction logged at the desk.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct NewInteraction {
    /// call | visit | email | message | event
    pub channel: String,
    pub topic: Option<String>,
    pub outcome: Option<String>,
}

/// A questionnaire scored.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ScoreView {
    pub score: Option<i64>,
    pub level: String,
    pub lowest: bool,
    pub horizon_months: Option<u32>,
    pub varieties: Vec<String>,
    pub goal: Option<String>,
}

/// What submitting a questionnaire did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AssessmentOutcome {
    pub result: ScoreView,
    /// the classification after the assessment (None without a run)
    pub asset_tier: Option<String>,
    pub segment: Option<String>,
    pub risk_level: Option<String>,
    pub previous_segment: Option<String>,
}

/// A one-time questionnaire link.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LinkView {
    /// the path the client opens: `/q/{token}`
    pub path: String,
    pub expires_at: String,
}

/// A suitability check asked at the desk.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct CheckInput {
    pub client_id: String,
    pub product_id: String,
    /// default: the product's minimum investment
    #[schema(value_type = Option<String>)]
    pub amount: Option<Decimal>,
    /// client | advisor (default client)
    pub initiated_by: Option<String>,
    /// branch | online (default branch at the desk)
    pub channel: Option<String>,
}

/// A check's result with its id (to record the sale).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CheckResult {
    pub check_id: i64,
    pub verdict: String,
    pub verdict_label: String,
    pub reasons: Vec<ReasonView>,
    pub obligations: Vec<ReasonView>,
    pub rule_pack: String,
    pub rule_version: String,
    /// whether recording a sale needs the client's confirmation
    pub needs_confirmation: bool,
    #[schema(value_type = String)]
    pub amount: Decimal,
}

/// A reason or obligation: its code and its message in the viewer's language.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReasonView {
    pub code: String,
    pub message: String,
}

/// Recording a sale after a check.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct SaleInput {
    /// required after a warning: the client's name as they confirmed
    pub confirmed_by: Option<String>,
    /// branch | online
    pub confirmation_channel: Option<String>,
    /// the 双录 recording reference (required when the check obliged dual recording)
    pub recording_ref: Option<String>,
}

/// A product edited by operations.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProductView {
    pub product_id: String,
    pub name: Option<String>,
    pub category: String,
    pub variety: String,
    pub line: String,
    pub risk_level: String,
    pub horizon_months: u32,
    #[schema(value_type = String)]
    pub min_investment: Decimal,
    pub investor_requirement: String,
    #[schema(value_type = String)]
    pub annual_fee_rate: Decimal,
    pub status: String,
    pub currency: String,
}

impl From<&Product> for ProductView {
    fn from(p: &Product) -> ProductView {
        ProductView {
            product_id: p.product_id.clone(),
            name: p.name.clone(),
            category: p.category.as_str().into(),
            variety: p.variety().map_or_else(String::new, |v| v.as_str().into()),
            line: p.line().as_str().into(),
            risk_level: p.risk_level.as_str().into(),
            horizon_months: p.horizon_months,
            min_investment: p.min_investment,
            investor_requirement: p.investor_requirement.as_str().into(),
            annual_fee_rate: p.annual_fee_rate,
            status: p.status.as_str().into(),
            currency: p.currency.clone(),
        }
    }
}

/// A product's editable fields (strings as in products.csv).
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct ProductInput {
    pub name: Option<String>,
    pub category: String,
    pub variety: Option<String>,
    pub risk_level: String,
    pub horizon_months: String,
    pub min_investment: String,
    pub investor_requirement: String,
    pub annual_fee_rate: String,
    pub status: String,
    pub currency: Option<String>,
}

/// An audit event, as listed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditView {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub payload: String,
    pub hash: String,
}

impl From<&AuditEvent> for AuditView {
    fn from(e: &AuditEvent) -> AuditView {
        AuditView {
            seq: e.seq,
            at: e.at.clone(),
            actor: e.actor.clone(),
            action: e.action.clone(),
            subject: e.subject.clone(),
            payload: e.payload.clone(),
            hash: e.hash.clone(),
        }
    }
}

/// A rule pack known to the server.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PackView {
    pub id: String,
    pub version: String,
    pub name: String,
    pub active: bool,
    /// runs that used this pack version
    pub runs: i64,
}

/// A simulation's outcome.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SimulationView {
    pub pack: String,
    pub version: String,
    pub clients: u64,
    pub tiers: Vec<Bar>,
    pub segments: Vec<Bar>,
    pub tier_migrations: Matrix,
    pub segment_migrations: Matrix,
}

/// The compliance page's lists.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ComplianceView {
    pub warnings: Vec<CheckView>,
    pub prohibited: Vec<CheckView>,
    pub confirmations: Vec<CheckView>,
    pub expired: Vec<ClientListRow>,
    pub stale: Vec<ClientListRow>,
    pub above_tolerance: Vec<ClientListRow>,
}

/// The value of one dimension of a stored result, as the explanation names it.
pub fn stored_value(row: &StoredClassification, dim: &str) -> String {
    match dim {
        "aum" => row.aum.to_string(),
        "asset_tier" => row.asset_tier.clone(),
        "risk_level" => row.risk_level.clone(),
        "risk_lowest" => row.risk_lowest.to_string(),
        "assessment_status" => row.assessment_status.clone(),
        "risk_preference" => row.risk_preference.clone(),
        "goal" => row.goal.clone(),
        "experience" => row.experience.clone(),
        "lifecycle" => row.lifecycle.clone(),
        "depth" => row.depth.clone(),
        "investor_category" => row.investor_category.clone(),
        "qualified_investor" => row.qualified_investor.to_string(),
        "private_fund_qualified" => row.private_fund_qualified.to_string(),
        "churn_risk" => row.churn_risk.clone(),
        "value" => row.value.normalize().to_string(),
        "behaviour_risk" => row.behaviour_risk.clone(),
        "segment" => row.segment.clone(),
        _ => String::new(),
    }
}

impl App {
    fn audit_entry(actor: &Actor, action: &str, subject: &str, payload: serde_json::Value) -> AuditEntry {
        AuditEntry::new(&actor.username, action, subject, json(payload))
    }

    // ---- sign-in and sessions -------------------------------------------------

    /// Signs a member of staff in (rate limited per username and address);
    /// every attempt is audited.
    pub fn login(&self, username: &str, password: &str, addr: &str) -> AppResult<SignedIn> {
        let username = username.trim();
        self.limiter.check(username, addr)?;
        let user = self.store.user_by_name(username)?;
        let ok = user.as_ref().is_some_and(|u| u.active && access::verify_password(password, &u.password_hash));
        let Some(user) = user.filter(|_| ok) else {
            self.limiter.failed(username, addr);
            self.store.audit(
                username,
                "auth.login_failed",
                &format!("user:{username}"),
                &json(serde_json::json!({"addr": addr})),
            )?;
            return Err(AppError::Unauthenticated);
        };
        self.limiter.succeeded(username);
        let actor = Actor::from_user(&user)?;
        let token = access::new_token();
        let csrf_token = access::new_token();
        let now = unix_now();
        let session = Session {
            token_hash: access::token_hash(&token),
            user_id: user.user_id,
            csrf_token: csrf_token.clone(),
            created_at: now,
            expires_at: now + SESSION_SECONDS,
        };
        self.store.create_session(&session)?;
        self.store.audit(
            &user.username,
            "auth.login",
            &format!("user:{}", user.user_id),
            &json(serde_json::json!({"addr": addr})),
        )?;
        Ok(SignedIn { actor, token, csrf_token, expires_at: session.expires_at })
    }

    /// The person behind a session cookie, with the session's CSRF token.
    pub fn session(&self, token: &str) -> AppResult<(Actor, String)> {
        let s = self.store.session(&access::token_hash(token))?.ok_or(AppError::Unauthenticated)?;
        if s.expires_at <= unix_now() {
            self.store.delete_session(&s.token_hash)?;
            return Err(AppError::Unauthenticated);
        }
        let user = self.store.user(s.user_id)?.filter(|u| u.active).ok_or(AppError::Unauthenticated)?;
        Ok((Actor::from_user(&user)?, s.csrf_token))
    }

    pub fn logout(&self, token: &str) -> AppResult<()> {
        let h = access::token_hash(token);
        if let Some(s) = self.store.session(&h)? {
            self.store.delete_session(&h)?;
            if let Some(u) = self.store.user(s.user_id)? {
                self.store.audit(&u.username, "auth.logout", &format!("user:{}", u.user_id), "{}")?;
            }
        }
        Ok(())
    }

    // ---- users -----------------------------------------------------------------

    pub fn users(&self, actor: &Actor) -> AppResult<Vec<UserView>> {
        actor.require(Permission::ManageUsers)?;
        Ok(self.store.users()?.iter().map(UserView::from).collect())
    }

    /// Adds a member of staff; `actor` None is the command line (`tierwise user add`).
    pub fn create_user(&self, actor: Option<&Actor>, u: &NewUser) -> AppResult<i64> {
        if let Some(a) = actor {
            a.require(Permission::ManageUsers)?;
        }
        let role = Role::parse(u.role.trim()).map_err(|e| invalid("role", e.to_string()))?;
        let username = u.username.trim();
        if username.is_empty() || username.len() > 64 || username.chars().any(|c| c.is_whitespace()) {
            return Err(invalid("username", "1–64 characters without spaces"));
        }
        access::check_password_rules(&u.password)?;
        let user = User {
            user_id: 0,
            username: username.to_string(),
            display_name: if u.display_name.trim().is_empty() {
                username.to_string()
            } else {
                u.display_name.trim().into()
            },
            role: role.as_str().into(),
            advisor_id: nonempty(&u.advisor_id),
            branch_id: nonempty(&u.branch_id),
            can_view_pii: u.can_view_pii.unwrap_or(role.pii_by_default()),
            active: true,
            password_hash: access::hash_password(&u.password)?,
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        };
        check_role_fields(&user)?;
        let who = actor.map_or("cli", |a| a.username.as_str());
        let audit = AuditEntry::new(
            who,
            "user.create",
            &format!("user:{username}"),
            json(
                serde_json::json!({"role": user.role, "advisor_id": user.advisor_id, "branch_id": user.branch_id, "can_view_pii": user.can_view_pii}),
            ),
        );
        Ok(self.store.create_user(&user, &audit)?)
    }

    pub fn update_user(&self, actor: &Actor, user_id: i64, ch: &UserChange) -> AppResult<UserView> {
        actor.require(Permission::ManageUsers)?;
        let mut u = self.store.user(user_id)?.ok_or_else(|| AppError::NotFound(format!("user {user_id}")))?;
        if let Some(d) = &ch.display_name {
            u.display_name = d.trim().to_string();
        }
        if let Some(r) = &ch.role {
            u.role = Role::parse(r.trim()).map_err(|e| invalid("role", e.to_string()))?.as_str().into();
        }
        if let Some(a) = &ch.advisor_id {
            u.advisor_id = nonempty(&Some(a.clone()));
        }
        if let Some(b) = &ch.branch_id {
            u.branch_id = nonempty(&Some(b.clone()));
        }
        if let Some(p) = ch.can_view_pii {
            u.can_view_pii = p;
        }
        if let Some(a) = ch.active {
            if !a && u.user_id == actor.user_id {
                return Err(invalid("active", "you cannot deactivate yourself"));
            }
            u.active = a;
        }
        if let Some(p) = ch.password.as_ref().filter(|p| !p.is_empty()) {
            access::check_password_rules(p)?;
            u.password_hash = access::hash_password(p)?;
        }
        check_role_fields(&u)?;
        let audit = Self::audit_entry(
            actor,
            "user.update",
            &format!("user:{}", u.username),
            serde_json::json!({"role": u.role, "advisor_id": u.advisor_id, "branch_id": u.branch_id,
                "can_view_pii": u.can_view_pii, "active": u.active, "password_changed": ch.password.as_ref().is_some_and(|p| !p.is_empty())}),
        );
        self.store.update_user(&u, &audit)?;
        Ok(UserView::from(&u))
    }

    // ---- dashboards ------------------------------------------------------------

    /// Bars and the tier migration matrix of the latest run within the
    /// viewer's scope, and the lists that need attention.
    pub fn dashboard(&self, actor: &Actor, lang: Lang) -> AppResult<Dashboard> {
        let run = self.store.latest_run()?;
        // aggregates are no client data: roles without client access see the whole book's
        let scope = if actor.can(Permission::ViewClients) { actor.scope() } else { ClientScope::All };
        let mut tiers: Vec<(String, i64)> = Vec::new();
        let mut segments: Vec<(String, i64)> = Vec::new();
        let mut matrix = MigrationMatrix::default();
        let mut total = 0;
        if let Some(r) = &run {
            for c in self.store.run_counts(r.run_id)? {
                if !scope.admits(c.advisor_id.as_deref(), c.branch_id.as_deref()) {
                    continue;
                }
                total += c.clients;
                add_count(&mut tiers, &c.asset_tier, c.clients);
                add_count(&mut segments, &c.segment, c.clients);
                if let Some(p) = &c.prev_asset_tier {
                    matrix.add_n(p, &c.asset_tier, c.clients as u64);
                }
            }
        }
        let tier_order = self.value_order("asset_tier", lang);
        let segment_order: Vec<(String, String)> =
            self.pack.segments.iter().map(|s| (s.id.clone(), s.name.get(lang).to_string())).collect();
        let bars = |counts: &[(String, i64)], order: &[(String, String)]| -> Vec<Bar> {
            let mut out: Vec<Bar> = order
                .iter()
                .filter_map(|(c, l)| {
                    counts.iter().find(|(k, _)| k == c).map(|(_, n)| Bar {
                        code: c.clone(),
                        label: l.clone(),
                        clients: *n,
                    })
                })
                .collect();
            for (k, n) in counts {
                if !order.iter().any(|(c, _)| c == k) {
                    out.push(Bar { code: k.clone(), label: k.clone(), clients: *n });
                }
            }
            out
        };
        let (expiring, churn_risk, warnings) = if actor.can(Permission::ViewClients) {
            let f = |status: Option<&str>, churn: Option<&str>| ClientFilter {
                assessment_status: status.map(String::from),
                churn_risk: churn.map(String::from),
                limit: Some(10),
                ..Default::default()
            };
            let expiring = self.clients(actor, &f(Some("expiring"), None), lang)?.rows;
            let churn = self.clients(actor, &f(None, Some("high")), lang)?.rows;
            let mut warnings = self.store.checks(&CheckQuery {
                scope: actor.scope(),
                verdict: Some("warn".into()),
                limit: 10,
                ..Default::default()
            })?;
            warnings.extend(self.store.checks(&CheckQuery {
                scope: actor.scope(),
                verdict: Some("prohibited".into()),
                limit: 10,
                ..Default::default()
            })?);
            warnings.sort_by_key(|c| std::cmp::Reverse(c.check_id));
            warnings.truncate(10);
            (expiring, churn, warnings.iter().map(CheckView::from).collect())
        } else {
            (Vec::new(), Vec::new(), Vec::new())
        };
        Ok(Dashboard {
            run: run.as_ref().map(RunView::from),
            clients: total,
            tiers: bars(&tiers, &tier_order),
            segments: bars(&segments, &segment_order),
            tier_migrations: Matrix::from(&matrix, &tier_order),
            expiring,
            churn_risk,
            warnings,
        })
    }

    /// (value id, label) of a dimension in pack order.
    pub fn value_order(&self, dim: &str, lang: Lang) -> Vec<(String, String)> {
        self.pack
            .dimensions
            .get(dim)
            .map(|d| d.values.iter().map(|(id, name)| (id.clone(), name.get(lang).to_string())).collect())
            .unwrap_or_default()
    }

    // ---- clients ---------------------------------------------------------------

    fn client_query(&self, actor: &Actor, f: &ClientFilter, run_id: Option<i64>) -> AppResult<ClientQuery> {
        actor.require(Permission::ViewClients)?;
        Ok(ClientQuery {
            scope: actor.scope(),
            run_id,
            asset_tier: nonempty(&f.asset_tier),
            segment: nonempty(&f.segment),
            risk_level: nonempty(&f.risk_level),
            lifecycle: nonempty(&f.lifecycle),
            assessment_status: nonempty(&f.assessment_status),
            churn_risk: nonempty(&f.churn_risk),
            advisor_id: nonempty(&f.advisor_id),
            branch_id: nonempty(&f.branch_id),
            above_tolerance: f.above_tolerance.unwrap_or(false),
            search: nonempty(&f.q),
            after: nonempty(&f.after),
            limit: f.limit.unwrap_or(50).clamp(1, 200),
        })
    }

    fn list_row(&self, r: ClientRow, lang: Lang) -> ClientListRow {
        ClientListRow {
            asset_tier_label: r.asset_tier.as_ref().map(|t| self.pack.value_name("asset_tier", t, lang)),
            segment_label: r
                .segment
                .as_ref()
                .map(|s| self.pack.segment(s).map_or_else(|| s.clone(), |x| x.name.get(lang).to_string())),
            client_id: r.client_id,
            name: r.name,
            branch_id: r.branch_id,
            advisor_id: r.advisor_id,
            aum: r.aum,
            asset_tier: r.asset_tier,
            segment: r.segment,
            risk_level: r.risk_level,
            behaviour_risk: r.behaviour_risk,
            lifecycle: r.lifecycle,
            assessment_status: r.assessment_status,
            churn_risk: r.churn_risk,
        }
    }

    /// A page of the clients the viewer may see, filtered, in id order.
    pub fn clients(&self, actor: &Actor, f: &ClientFilter, lang: Lang) -> AppResult<ClientPage> {
        let run = self.store.latest_run()?;
        let q = self.client_query(actor, f, run.map(|r| r.run_id))?;
        if self.surely_empty(&q)? {
            return Ok(ClientPage { rows: Vec::new(), next: None });
        }
        let limit = q.limit as usize;
        let mut q2 = q.clone();
        q2.limit = q.limit + 1;
        let mut rows = self.store.list_clients(&q2)?;
        let next = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|r| r.client_id.clone())
        } else {
            None
        };
        Ok(ClientPage { rows: rows.into_iter().map(|r| self.list_row(r, lang)).collect(), next })
    }

    /// Whether the run's kept counts prove that a tier/segment filter
    /// matches nobody in the scope: such a filter would otherwise walk the
    /// whole run looking for a first row.
    fn surely_empty(&self, q: &ClientQuery) -> AppResult<bool> {
        let Some(run_id) = q.run_id else { return Ok(false) };
        if q.asset_tier.is_none() && q.segment.is_none() {
            return Ok(false);
        }
        let counts = self.cached_counts(run_id)?;
        let any = counts.iter().any(|c| {
            q.asset_tier.as_ref().is_none_or(|t| &c.asset_tier == t)
                && q.segment.as_ref().is_none_or(|s| &c.segment == s)
                && q.advisor_id.as_ref().is_none_or(|a| c.advisor_id.as_ref() == Some(a))
                && q.branch_id.as_ref().is_none_or(|b| c.branch_id.as_ref() == Some(b))
                && q.scope.admits(c.advisor_id.as_deref(), c.branch_id.as_deref())
        });
        Ok(!any)
    }

    /// The run's counts, kept in memory for a few seconds (the list's
    /// empty-filter shortcut reads them on every request; a reclassification
    /// here drops them at once, one in another server within 10 s).
    fn cached_counts(&self, run_id: i64) -> AppResult<std::sync::Arc<Vec<tierwise_store::RunCount>>> {
        let fresh = std::time::Duration::from_secs(10);
        if let Some(counts) = self.counts_cache.get(&run_id.to_string(), fresh) {
            return Ok(counts);
        }
        let counts = std::sync::Arc::new(self.store.run_counts(run_id)?);
        self.counts_cache.put(run_id.to_string(), counts.clone(), fresh);
        Ok(counts)
    }

    /// Writes the filtered list (every page) as CSV; it carries no PII.
    pub fn export_clients(&self, actor: &Actor, f: &ClientFilter, out: &mut dyn std::io::Write) -> AppResult<u64> {
        let run = self.store.latest_run()?;
        let mut q = self.client_query(actor, f, run.map(|r| r.run_id))?;
        q.limit = 1000;
        q.after = nonempty(&f.after);
        writeln!(out, "client_id,name,branch_id,advisor_id,aum,asset_tier,segment,risk_level,behaviour_risk,lifecycle,assessment_status,churn_risk")?;
        let mut n = 0u64;
        loop {
            let rows = self.store.list_clients(&q)?;
            for r in &rows {
                let cells = [
                    Some(r.client_id.clone()),
                    r.name.clone(),
                    r.branch_id.clone(),
                    r.advisor_id.clone(),
                    r.aum.map(|a| a.to_string()),
                    r.asset_tier.clone(),
                    r.segment.clone(),
                    r.risk_level.clone(),
                    r.behaviour_risk.clone(),
                    r.lifecycle.clone(),
                    r.assessment_status.clone(),
                    r.churn_risk.clone(),
                ];
                let line: Vec<String> = cells.iter().map(|c| csv_cell(c.as_deref().unwrap_or(""))).collect();
                writeln!(out, "{}", line.join(","))?;
                n += 1;
            }
            match rows.last() {
                Some(last) if rows.len() == q.limit as usize => q.after = Some(last.client_id.clone()),
                _ => break,
            }
        }
        self.store.audit(
            &actor.username,
            "clients.export",
            "clients",
            &json(serde_json::json!({"filter": f, "rows": n})),
        )?;
        Ok(n)
    }

    /// The client, when the viewer may see them (else NotFound: whether a
    /// client outside one's book exists is not told).
    fn visible_client(&self, actor: &Actor, client_id: &str) -> AppResult<Client> {
        actor.require(Permission::ViewClients)?;
        if !self.store.client_in_scope(client_id, &actor.scope())? {
            return Err(AppError::NotFound(format!("client {client_id}")));
        }
        self.store.client(client_id)?.ok_or_else(|| AppError::NotFound(format!("client {client_id}")))
    }

    /// The client 360 page's data. An unmasked read of PII is audited.
    pub fn client_360(&self, actor: &Actor, client_id: &str, lang: Lang) -> AppResult<Client360> {
        let client = self.visible_client(actor, client_id)?;
        let catalog = self.catalog()?;
        let book = self.store.client_book(client_id, &catalog)?;
        let today = self.today();
        let profile = self.profile(actor, &client, today)?;
        // the newest snapshot's holdings, by line
        let mut holdings = Vec::new();
        let mut lines: Vec<LineTotal> = Vec::new();
        if let Some(book) = &book {
            if let Some(day) = book.snapshot_date(today).or_else(|| book.holdings.iter().map(|h| h.as_of).max()) {
                for h in book.holdings.iter().filter(|h| h.as_of == day) {
                    let Some(p) = catalog.get(h.product) else { continue };
                    let line = p.line().as_str().to_string();
                    match lines.iter_mut().find(|l| l.line == line) {
                        Some(l) => l.aum += h.market_value,
                        None => lines.push(LineTotal { line: line.clone(), aum: h.market_value }),
                    }
                    holdings.push(HoldingView {
                        product_id: p.product_id.clone(),
                        product_name: p.name.clone(),
                        line,
                        category: p.category.as_str().into(),
                        risk_level: p.risk_level.as_str().into(),
                        market_value: h.market_value,
                        as_of: h.as_of.to_string(),
                    });
                }
            }
        }
        let aum = lines.iter().map(|l| l.aum).sum();
        let history_rows = self.store.client_history(client_id)?;
        let classification = match history_rows.first() {
            Some((run, row)) => Some(self.classification_view(run, row, lang)?),
            None => None,
        };
        let history = history_rows
            .iter()
            .map(|(run, r)| HistoryView {
                run_id: run.run_id,
                as_of: run.as_of.to_string(),
                rule_version: run.rule_version.clone(),
                aum: r.aum,
                asset_tier: r.asset_tier.clone(),
                segment: r.segment.clone(),
                risk_level: r.risk_level.clone(),
                previous_asset_tier: r.previous_asset_tier.clone(),
                previous_segment: r.previous_segment.clone(),
            })
            .collect();
        let assessments = self.store.client_assessments(client_id)?.iter().map(AssessmentView::from).collect();
        let checks = self
            .store
            .checks(&CheckQuery { client_id: Some(client_id.into()), limit: 50, ..Default::default() })?
            .iter()
            .map(CheckView::from)
            .collect();
        let interactions = self
            .store
            .client_interactions(client_id, 50)?
            .iter()
            .map(|i| InteractionView {
                at: tierwise_domain::dates::format_timestamp(&i.at),
                channel: i.channel.as_str().into(),
                advisor_id: i.advisor_id.clone(),
                topic: i.topic.clone(),
                outcome: i.outcome.clone(),
            })
            .collect();
        Ok(Client360 { profile, aum, lines, holdings, classification, history, assessments, checks, interactions })
    }

    fn profile(&self, actor: &Actor, c: &Client, today: NaiveDate) -> AppResult<ClientProfile> {
        let pii = actor.can_view_pii;
        let has_pii = c.id_number.is_some() || c.phone.is_some() || c.email.is_some();
        if pii && has_pii {
            self.store.audit(&actor.username, "pii.read", &format!("client:{}", c.client_id), "{}")?;
        }
        let show =
            |v: &Option<String>, mask: fn(&str) -> String| v.as_ref().map(|s| if pii { s.clone() } else { mask(s) });
        Ok(ClientProfile {
            client_id: c.client_id.clone(),
            kind: c.kind().as_str().into(),
            name: c.name.clone(),
            gender: c.gender.map(|g| g.as_str().into()),
            birth_date: c.birth_date.map(|d| d.to_string()),
            age: c.birth_date.map(|b| tierwise_domain::dates::age_at(b, today)),
            id_number: show(&c.id_number, access::mask_id_number),
            phone: show(&c.phone, access::mask_phone),
            email: show(&c.email, access::mask_email),
            occupation: c.occupation.clone(),
            city: c.city.clone(),
            branch_id: c.branch_id.clone(),
            advisor_id: c.advisor_id.clone(),
            onboarded_at: c.onboarded_at.map(|d| d.to_string()),
            annual_income: c.annual_income,
            declared_financial_assets: c.declared_financial_assets,
            experience_years: c.experience_years,
            professional_status: c.professional_status().as_str().into(),
            pii_visible: pii,
        })
    }

    fn classification_view(
        &self,
        run: &RunInfo,
        row: &StoredClassification,
        lang: Lang,
    ) -> AppResult<ClassificationView> {
        let pack = self.run_pack(run)?;
        let explanation = self.store.explanation(run.run_id, &row.client_id)?;
        let value = |d: &str| stored_value(row, d);
        let mut dimensions = Vec::new();
        if let Some(stored) = explanation {
            let ex =
                Explanation::from_stored(&stored).map_err(|e| AppError::Aborted(format!("stored explanation: {e}")))?;
            let rendered = tierwise_classify::render_explanation(&pack, &ex, &value, lang);
            for (l, text) in ex.lines(&pack).iter().zip(rendered) {
                let v = value(&l.dimension);
                let value_label = match pack.segment(&v) {
                    Some(s) if l.dimension == "segment" => s.name.get(lang).to_string(),
                    _ if v.is_empty() => "—".into(),
                    _ => pack.value_name(&l.dimension, &v, lang),
                };
                dimensions.push(DimensionView {
                    label: pack.dimension_name(&l.dimension, lang),
                    dimension: l.dimension.clone(),
                    value: v,
                    value_label,
                    explanation: text,
                });
            }
        }
        let seg = pack.segment(&row.segment);
        Ok(ClassificationView {
            run_id: run.run_id,
            as_of: run.as_of.to_string(),
            rule_pack: run.rule_pack.clone(),
            rule_version: run.rule_version.clone(),
            asset_tier: row.asset_tier.clone(),
            segment: row.segment.clone(),
            segment_label: seg.map_or_else(|| row.segment.clone(), |s| s.name.get(lang).to_string()),
            value_decile: row.value_decile,
            dimensions,
            service_plan: seg.map(|s| service_plan_text(&s.plan, lang)),
        })
    }

    /// The pack version that produced a run (as stored with it), else the active pack.
    pub fn run_pack(&self, run: &RunInfo) -> AppResult<tierwise_rules::Pack> {
        if run.rule_pack == self.pack.id && run.rule_version == self.pack.version {
            return Ok(self.pack.clone());
        }
        match self.store.pack_text(&run.rule_pack, &run.rule_version)? {
            Some(t) => tierwise_rules::Pack::parse(&t, &format!("{} {}", run.rule_pack, run.rule_version))
                .map_err(|e| AppError::Aborted(format!("the stored pack no longer validates: {e}"))),
            None => Ok(self.pack.clone()),
        }
    }

    /// The name of a client the viewer serves (for the questionnaire and
    /// check pages); NotFound outside the viewer's book.
    pub fn served_client_name(&self, actor: &Actor, client_id: &str) -> AppResult<Option<String>> {
        actor.require(Permission::ServeClients)?;
        Ok(self.visible_client(actor, client_id)?.name)
    }

    /// Logs an interaction with a client the viewer serves.
    pub fn add_interaction(&self, actor: &Actor, client_id: &str, i: &NewInteraction) -> AppResult<()> {
        actor.require(Permission::ServeClients)?;
        self.visible_client(actor, client_id)?;
        let channel = InteractionChannel::parse(i.channel.trim()).map_err(|e| invalid("channel", e.to_string()))?;
        let clip = |s: &Option<String>, field: &str| -> AppResult<Option<String>> {
            match nonempty(s) {
                Some(v) if v.chars().count() > 500 => Err(invalid(field, "at most 500 characters")),
                v => Ok(v),
            }
        };
        let rec = Interaction {
            client_id: client_id.into(),
            advisor_id: actor.advisor_id.clone(),
            at: self.now_local(),
            channel,
            topic: clip(&i.topic, "topic")?,
            outcome: clip(&i.outcome, "outcome")?,
        };
        let audit = Self::audit_entry(
            actor,
            "interaction.add",
            &format!("client:{client_id}"),
            serde_json::json!({"channel": channel.as_str(), "topic": rec.topic}),
        );
        self.store.add_interaction(&rec, &audit)?;
        // a contact completes the open follow-up and schedules the next
        self.after_contact(&actor.username, client_id, &rec, None)?;
        Ok(())
    }

    // ---- questionnaire ---------------------------------------------------------

    /// A questionnaire by id (None: the default, the first loaded).
    pub fn questionnaire(&self, id: Option<&str>) -> AppResult<&Questionnaire> {
        match id.filter(|s| !s.is_empty()) {
            Some(id) => self
                .questionnaires
                .iter()
                .find(|q| q.id() == id)
                .ok_or_else(|| AppError::NotFound(format!("questionnaire {id}"))),
            None => self.questionnaires.first().ok_or_else(|| AppError::NotFound("questionnaire".into())),
        }
    }

    /// Scores answers without storing anything (the live preview).
    pub fn score(&self, questionnaire_id: Option<&str>, answers: &str) -> AppResult<ScoreView> {
        let q = self.questionnaire(questionnaire_id)?;
        let r = q.score_str(answers).map_err(|e| invalid("answers", e.to_string()))?;
        Ok(score_view(&r))
    }

    /// Stores a questionnaire filled in at the desk and reclassifies the client at once.
    pub fn submit_assessment(
        &self,
        actor: &Actor,
        client_id: &str,
        questionnaire_id: Option<&str>,
        answers: &str,
    ) -> AppResult<AssessmentOutcome> {
        actor.require(Permission::ServeClients)?;
        self.visible_client(actor, client_id)?;
        self.store_assessment(&actor.username, client_id, questionnaire_id, answers, Channel::Branch, None)
    }

    /// Creates a one-time questionnaire link for a client.
    pub fn create_link(
        &self,
        actor: &Actor,
        client_id: &str,
        questionnaire_id: Option<&str>,
    ) -> AppResult<(String, LinkView)> {
        actor.require(Permission::ServeClients)?;
        self.visible_client(actor, client_id)?;
        let q = self.questionnaire(questionnaire_id)?;
        let token = access::new_token();
        let now = unix_now();
        let link = OneTimeLink {
            token_hash: access::token_hash(&token),
            purpose: "questionnaire".into(),
            client_id: client_id.into(),
            questionnaire_id: q.id().into(),
            created_by: actor.username.clone(),
            created_at: now,
            expires_at: now + LINK_SECONDS,
            used_at: None,
        };
        let expires = chrono::DateTime::from_timestamp(link.expires_at, 0)
            .map(|t| t.with_timezone(&self.tz).format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default();
        let audit = Self::audit_entry(
            actor,
            "questionnaire.link",
            &format!("client:{client_id}"),
            serde_json::json!({"questionnaire_id": q.id(), "expires_at": expires}),
        );
        self.store.create_link(&link, &audit)?;
        Ok((token.clone(), LinkView { path: format!("/q/{token}"), expires_at: expires }))
    }

    /// The questionnaire behind a link the client opened (LinkInvalid when
    /// unknown, used or expired).
    pub fn open_link(&self, token: &str) -> AppResult<(OneTimeLink, &Questionnaire)> {
        let link = self.store.link(&access::token_hash(token))?.ok_or(AppError::LinkInvalid)?;
        if link.used_at.is_some() || link.expires_at <= unix_now() || link.purpose != "questionnaire" {
            return Err(AppError::LinkInvalid);
        }
        let q = self.questionnaire(Some(&link.questionnaire_id))?;
        Ok((link, q))
    }

    /// The client's answers through a one-time link: stored, the link used
    /// up, the client reclassified.
    pub fn submit_by_link(&self, token: &str, answers: &str) -> AppResult<AssessmentOutcome> {
        let (link, q) = self.open_link(token)?;
        let qid = q.id().to_string();
        self.store_assessment(
            &format!("client:{}", link.client_id),
            &link.client_id,
            Some(&qid),
            answers,
            Channel::Online,
            Some(token),
        )
    }

    fn store_assessment(
        &self,
        who: &str,
        client_id: &str,
        questionnaire_id: Option<&str>,
        answers: &str,
        channel: Channel,
        link_token: Option<&str>,
    ) -> AppResult<AssessmentOutcome> {
        let q = self.questionnaire(questionnaire_id)?;
        let result = q.score_str(answers).map_err(|e| invalid("answers", e.to_string()))?;
        let a = Assessment {
            client_id: client_id.into(),
            questionnaire_id: q.id().into(),
            assessed_at: self.now_local(),
            channel,
            answers: Some(answers.trim().to_string()),
            result: result.clone(),
        };
        let audit = AuditEntry::new(
            who,
            "assessment.record",
            &format!("client:{client_id}"),
            json(serde_json::json!({"questionnaire_id": q.id(), "channel": channel.as_str(), "answers": a.answers,
                "level": result.level.as_str(), "score": result.score, "lowest": result.lowest, "by_link": link_token.is_some()})),
        );
        let link_hash = link_token.map(access::token_hash);
        if !self.store.record_assessment(&a, link_hash.as_deref(), unix_now(), &audit)? {
            return Err(AppError::LinkInvalid);
        }
        let (asset_tier, segment, risk_level, previous_segment) = self.reclassify_one(who, client_id)?;
        // a new assessment clears or raises the client's alerts and tasks now
        self.monitor_client(client_id, who)?;
        Ok(AssessmentOutcome { result: score_view(&result), asset_tier, segment, risk_level, previous_segment })
    }

    /// Classifies one client now and replaces their result in the latest run.
    /// Returns (asset_tier, segment, risk_level, previous segment).
    fn reclassify_one(&self, who: &str, client_id: &str) -> AppResult<Reclassified> {
        let Some(run) = self.store.latest_run()? else { return Ok((None, None, None, None)) };
        let catalog = self.catalog()?;
        let Some(book) = self.store.client_book(client_id, &catalog)? else { return Ok((None, None, None, None)) };
        let as_of = self.today().max(run.as_of);
        let engine = self.engine(&self.pack);
        let c = engine.classify(&book, &catalog, as_of);
        let before =
            self.store.client_history(client_id)?.into_iter().find(|(r, _)| r.run_id == run.run_id).map(|(_, r)| r);
        let audit = AuditEntry::new(
            who,
            "classification.reclassify",
            &format!("client:{client_id}"),
            json(serde_json::json!({"run_id": run.run_id, "as_of": as_of.to_string(),
                "before": before.as_ref().map(|b| serde_json::json!({"asset_tier": b.asset_tier, "segment": b.segment, "risk_level": b.risk_level})),
                "after": {"asset_tier": c.asset_tier, "segment": c.segment, "risk_level": c.risk_level.map(|l| l.as_str())}})),
        );
        self.store.reclassify(run.run_id, &c, &audit)?;
        self.counts_cache.clear();
        Ok((
            Some(c.asset_tier.clone()),
            Some(c.segment.clone()),
            c.risk_level.map(|l| l.as_str().to_string()),
            before.map(|b| b.segment),
        ))
    }

    // ---- suitability and sales -------------------------------------------------

    /// A suitability check at the desk, recorded with its inputs.
    pub fn desk_check(&self, actor: &Actor, input: &CheckInput, lang: Lang) -> AppResult<CheckResult> {
        actor.require(Permission::ServeClients)?;
        self.visible_client(actor, &input.client_id)?;
        let catalog = self.catalog()?;
        let product = catalog
            .by_id(input.product_id.trim())
            .cloned()
            .ok_or_else(|| AppError::UnknownProduct(input.product_id.clone()))?;
        let initiated_by = match input.initiated_by.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => InitiatedBy::parse(s).map_err(|e| invalid("initiated_by", e.to_string()))?,
            None => InitiatedBy::Client,
        };
        let channel = match input.channel.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => Channel::parse(s).map_err(|e| invalid("channel", e.to_string()))?,
            None => Channel::Branch,
        };
        let amount = input.amount.unwrap_or(product.min_investment);
        if amount.is_sign_negative() {
            return Err(invalid("amount", "must not be negative"));
        }
        let req = CheckRequest {
            client_id: input.client_id.trim().into(),
            product_id: product.product_id.clone(),
            amount,
            initiated_by,
            channel,
            at: self.now_local(),
        };
        let (check_id, outcome) = self.check_as(&actor.username, &catalog, &product, &req, lang)?;
        Ok(check_result(check_id, &outcome, amount, lang))
    }

    /// Runs and records a check (the CLI's `check` and the desk's).
    pub(crate) fn check_as(
        &self,
        who: &str,
        catalog: &tierwise_classify::Catalog,
        product: &Product,
        req: &CheckRequest,
        lang: Lang,
    ) -> AppResult<(i64, CheckOutcome)> {
        let book = self
            .store
            .client_book(&req.client_id, catalog)?
            .ok_or_else(|| AppError::UnknownClient(req.client_id.clone()))?;
        let engine = self.engine(&self.pack);
        let outcome = tierwise_suitability::check(&engine, &book, catalog, product, req, lang);
        let record = tierwise_store::CheckRecord {
            client_id: req.client_id.clone(),
            product_id: req.product_id.clone(),
            at: tierwise_domain::dates::format_timestamp(&req.at),
            verdict: outcome.verdict.as_str().to_string(),
            rule_pack: outcome.rule_pack.clone(),
            rule_version: outcome.rule_version.clone(),
            actor: who.to_string(),
            payload: outcome.audit_json(req).to_string(),
        };
        let id = self.store.record_check(&record)?;
        Ok((id, outcome))
    }

    /// Turns a check into a sale: after a match directly, after a warning
    /// only with the client's confirmation (and the 双录 reference where the
    /// check obliged dual recording); never after a prohibition.
    pub fn record_sale(&self, actor: &Actor, check_id: i64, input: &SaleInput) -> AppResult<i64> {
        actor.require(Permission::ServeClients)?;
        let check = self.store.check(check_id)?.ok_or_else(|| AppError::NotFound(format!("check {check_id}")))?;
        self.visible_client(actor, &check.client_id)?;
        if let Some(s) = &check.sale {
            return Err(tierwise_store::StoreError::Conflict(format!(
                "check {check_id} is already sale {}",
                s.sale_id
            ))
            .into());
        }
        let payload: serde_json::Value = serde_json::from_str(&check.payload).unwrap_or_default();
        let obligations: Vec<String> = payload
            .pointer("/outcome/obligations")
            .or_else(|| payload.get("obligations"))
            .and_then(|o| o.as_array())
            .map(|a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect())
            .unwrap_or_default();
        let amount: Decimal = payload
            .pointer("/request/amount")
            .or_else(|| payload.get("amount"))
            .and_then(|a| a.as_str().map(String::from).or_else(|| a.as_f64().map(|f| f.to_string())))
            .and_then(|s| s.parse().ok())
            .unwrap_or_default();
        // the 双录 reference, required when the check obliged dual recording
        let recording = || -> AppResult<Option<String>> {
            let r = nonempty(&input.recording_ref);
            if r.is_none() && obligations.iter().any(|o| o == "dual_recording") {
                return Err(invalid(
                    "recording_ref",
                    "this sale must be dual-recorded (双录): give the recording reference",
                ));
            }
            Ok(r)
        };
        let confirmation = match check.verdict.as_str() {
            "prohibited" => return Err(invalid("check", "a prohibited sale cannot be recorded")),
            "warn" => {
                let by = nonempty(&input.confirmed_by)
                    .ok_or_else(|| invalid("confirmed_by", "the client's confirmation is required after a warning"))?;
                let channel = nonempty(&input.confirmation_channel).unwrap_or_else(|| "branch".into());
                Channel::parse(&channel).map_err(|e| invalid("confirmation_channel", e.to_string()))?;
                let recording_ref = recording()?;
                Some(Confirmation {
                    confirmed_by: by,
                    confirmed_at: tierwise_domain::dates::format_timestamp(&self.now_local()),
                    channel,
                    recording_ref,
                })
            }
            "match" => {
                let recording_ref = recording()?;
                // a dual recording is the client's confirmation on record: keep it with the client's name
                let by = nonempty(&input.confirmed_by).or_else(|| {
                    recording_ref.as_ref()?;
                    self.store
                        .client(&check.client_id)
                        .ok()
                        .flatten()
                        .and_then(|c| c.name)
                        .or(Some(check.client_id.clone()))
                });
                by.map(|by| Confirmation {
                    confirmed_by: by,
                    confirmed_at: tierwise_domain::dates::format_timestamp(&self.now_local()),
                    channel: nonempty(&input.confirmation_channel).unwrap_or_else(|| "branch".into()),
                    recording_ref,
                })
            }
            other => {
                return Err(invalid(
                    "check",
                    format!("a {other} verdict cannot become a sale: reassess the client first"),
                ))
            }
        };
        let sale = Sale {
            sale_id: 0,
            check_id,
            client_id: check.client_id.clone(),
            product_id: check.product_id.clone(),
            amount,
            recorded_by: actor.username.clone(),
            recorded_at: tierwise_domain::dates::format_timestamp(&self.now_local()),
            confirmation: confirmation.clone(),
        };
        let audit = Self::audit_entry(
            actor,
            if confirmation.is_some() && check.verdict == "warn" { "sale.confirmed" } else { "sale.record" },
            &format!("check:{check_id}"),
            serde_json::json!({"client_id": check.client_id, "product_id": check.product_id, "amount": amount.to_string(),
                "verdict": check.verdict, "confirmed_by": confirmation.as_ref().map(|c| c.confirmed_by.clone()),
                "channel": confirmation.as_ref().map(|c| c.channel.clone()), "recording_ref": confirmation.as_ref().and_then(|c| c.recording_ref.clone())}),
        );
        Ok(self.store.record_sale(&sale, &audit)?)
    }

    /// A check the viewer may see.
    pub fn check_view(&self, actor: &Actor, check_id: i64) -> AppResult<CheckView> {
        let check = self.store.check(check_id)?.ok_or_else(|| AppError::NotFound(format!("check {check_id}")))?;
        if !actor.can(Permission::ViewCompliance) {
            self.visible_client(actor, &check.client_id)?;
        }
        Ok(CheckView::from(&check))
    }

    // ---- products --------------------------------------------------------------

    pub fn product_list(&self) -> AppResult<Vec<ProductView>> {
        Ok(self.store.products()?.iter().map(ProductView::from).collect())
    }

    /// Creates or updates a product (operations).
    pub fn save_product(&self, actor: &Actor, product_id: &str, p: &ProductInput) -> AppResult<ProductView> {
        actor.require(Permission::EditProducts)?;
        let product_id = product_id.trim();
        if product_id.is_empty() {
            return Err(invalid("product_id", "required"));
        }
        fn parse_err(field: &'static str) -> impl Fn(tierwise_domain::ParseError) -> AppError {
            move |e| invalid(field, e.to_string())
        }
        let product = Product {
            product_id: product_id.into(),
            name: nonempty(&p.name),
            category: tierwise_domain::ProductCategory::parse(p.category.trim()).map_err(parse_err("category"))?,
            variety: match nonempty(&p.variety) {
                Some(v) => Some(tierwise_domain::Variety::parse(&v).map_err(parse_err("variety"))?),
                None => None,
            },
            risk_level: tierwise_domain::ProductRisk::parse(p.risk_level.trim()).map_err(parse_err("risk_level"))?,
            horizon_months: p
                .horizon_months
                .trim()
                .parse()
                .map_err(|_| invalid("horizon_months", "a whole number of months"))?,
            min_investment: tierwise_domain::parse_money(p.min_investment.trim())
                .map_err(parse_err("min_investment"))?,
            investor_requirement: tierwise_domain::InvestorRequirement::parse(p.investor_requirement.trim())
                .map_err(parse_err("investor_requirement"))?,
            annual_fee_rate: tierwise_domain::parse_money(p.annual_fee_rate.trim())
                .map_err(parse_err("annual_fee_rate"))?,
            status: tierwise_domain::ProductStatus::parse(p.status.trim()).map_err(parse_err("status"))?,
            currency: nonempty(&p.currency).unwrap_or_else(|| "CNY".into()),
        };
        let before = self.store.products()?.into_iter().find(|x| x.product_id == product_id);
        let audit = Self::audit_entry(
            actor,
            if before.is_some() { "product.update" } else { "product.create" },
            &format!("product:{product_id}"),
            serde_json::json!({"before": before.as_ref().map(ProductView::from).map(|v| serde_json::to_value(v).unwrap_or_default()),
                "after": serde_json::to_value(ProductView::from(&product)).unwrap_or_default()}),
        );
        self.store.put_product(&product, &audit)?;
        if let Some(before) = &before {
            // CSRC Art 21: a re-rating is told to every holder
            self.product_rerated(&actor.username, before, &product)?;
        }
        Ok(ProductView::from(&product))
    }

    // ---- compliance and audit --------------------------------------------------

    pub fn compliance(&self, actor: &Actor, lang: Lang) -> AppResult<ComplianceView> {
        actor.require(Permission::ViewCompliance)?;
        let checks = |verdict: Option<&str>, confirmed: bool| -> AppResult<Vec<CheckView>> {
            Ok(self
                .store
                .checks(&CheckQuery {
                    verdict: verdict.map(String::from),
                    confirmed_only: confirmed,
                    limit: 50,
                    ..Default::default()
                })?
                .iter()
                .map(CheckView::from)
                .collect())
        };
        let list = |f: ClientFilter| -> AppResult<Vec<ClientListRow>> { Ok(self.clients(actor, &f, lang)?.rows) };
        Ok(ComplianceView {
            warnings: checks(Some("warn"), false)?,
            prohibited: checks(Some("prohibited"), false)?,
            confirmations: checks(None, true)?,
            expired: list(ClientFilter { assessment_status: Some("expired".into()), ..Default::default() })?,
            stale: list(ClientFilter { assessment_status: Some("stale".into()), ..Default::default() })?,
            above_tolerance: list(ClientFilter { above_tolerance: Some(true), ..Default::default() })?,
        })
    }

    pub fn audit_log(&self, actor: &Actor, q: &AuditQuery) -> AppResult<Vec<AuditView>> {
        actor.require(Permission::ViewAudit)?;
        let mut q = q.clone();
        q.limit = q.limit.clamp(1, 500);
        Ok(self.store.audit_events(&q)?.iter().map(AuditView::from).collect())
    }

    /// Verifies the hash chain (audited: who verified, and what they found).
    pub fn verify_audit(&self, actor: Option<&Actor>) -> AppResult<AuditVerification> {
        if let Some(a) = actor {
            a.require(Permission::ViewAudit)?;
        }
        let v = tierwise_store::verify_audit(self.store.as_ref())?;
        self.store.audit(
            actor.map_or("cli", |a| a.username.as_str()),
            "audit.verify",
            "audit",
            &json(serde_json::json!({"events": v.events, "head": v.head, "broken": v.broken.as_ref().map(|(s, w)| serde_json::json!({"seq": s, "why": w}))})),
        )?;
        Ok(v)
    }

    // ---- rules -----------------------------------------------------------------

    /// The packs this server knows (built in and from the packs folder).
    pub fn packs(&self, actor: &Actor, lang: Lang) -> AppResult<Vec<PackView>> {
        actor.require(Permission::ManageRules)?;
        let runs = self.store.runs()?;
        let mut out = Vec::new();
        for name in tierwise_rules::BUILTIN.iter().map(|(n, _)| n.to_string()) {
            if let Ok((p, _)) = tierwise_rules::load(&name, self.packs_dir.as_deref()) {
                out.push(PackView {
                    active: p.id == self.pack.id && p.version == self.pack.version,
                    runs: runs.iter().filter(|r| r.rule_pack == p.id && r.rule_version == p.version).count() as i64,
                    name: p.name.get(lang).to_string(),
                    id: p.id,
                    version: p.version,
                });
            }
        }
        if !out.iter().any(|p| p.active) {
            out.insert(
                0,
                PackView {
                    id: self.pack.id.clone(),
                    version: self.pack.version.clone(),
                    name: self.pack.name.get(lang).to_string(),
                    active: true,
                    runs: runs
                        .iter()
                        .filter(|r| r.rule_pack == self.pack.id && r.rule_version == self.pack.version)
                        .count() as i64,
                },
            );
        }
        Ok(out)
    }

    /// Classifies the whole book with a candidate pack (a known name or the
    /// text of a pack) without storing results; audited.
    pub fn simulate_pack(&self, actor: &Actor, name_or_text: &str, lang: Lang) -> AppResult<SimulationView> {
        actor.require(Permission::ManageRules)?;
        let candidate = if name_or_text.contains('\n') || name_or_text.contains('=') {
            tierwise_rules::Pack::parse(name_or_text, "candidate.toml")
                .map_err(|e| invalid("pack", e.0.iter().map(|x| x.to_string()).collect::<Vec<_>>().join("; ")))?
        } else {
            tierwise_rules::load(name_or_text.trim(), self.packs_dir.as_deref())?.0
        };
        let as_of = self.store.latest_run()?.map_or_else(|| self.today(), |r| r.as_of);
        let mut d: Distribution = self.simulate(&candidate, as_of, &|_: u64| {})?;
        crate::in_pack_order(&candidate, &mut d);
        self.store.audit(
            &actor.username,
            "rules.simulate",
            &format!("pack:{}", candidate.id),
            &json(serde_json::json!({"version": candidate.version, "as_of": as_of.to_string(), "clients": d.clients, "moved_tier": d.tier_matrix.moved(), "moved_segment": d.segment_matrix.moved()})),
        )?;
        let tier_order: Vec<(String, String)> = candidate
            .dimensions
            .get("asset_tier")
            .map(|x| x.values.iter().map(|(id, n)| (id.clone(), n.get(lang).to_string())).collect())
            .unwrap_or_default();
        let seg_order: Vec<(String, String)> =
            candidate.segments.iter().map(|s| (s.id.clone(), s.name.get(lang).to_string())).collect();
        let bars = |v: &[(String, u64)], order: &[(String, String)]| -> Vec<Bar> {
            v.iter()
                .map(|(k, n)| Bar {
                    code: k.clone(),
                    label: order.iter().find(|(c, _)| c == k).map_or_else(|| k.clone(), |(_, l)| l.clone()),
                    clients: *n as i64,
                })
                .collect()
        };
        Ok(SimulationView {
            pack: candidate.id.clone(),
            version: candidate.version.clone(),
            clients: d.clients,
            tiers: bars(&d.tiers, &tier_order),
            segments: bars(&d.segments, &seg_order),
            tier_migrations: Matrix::from(&d.tier_matrix, &tier_order),
            segment_migrations: Matrix::from(&d.segment_matrix, &seg_order),
        })
    }
}

fn check_role_fields(u: &User) -> AppResult<()> {
    match u.role.as_str() {
        "advisor" if u.advisor_id.is_none() => Err(invalid("advisor_id", "an advisor account needs its advisor id")),
        "team_lead" if u.branch_id.is_none() => Err(invalid("branch_id", "a team lead account needs its branch")),
        _ => Ok(()),
    }
}

fn add_count(v: &mut Vec<(String, i64)>, k: &str, n: i64) {
    match v.iter_mut().find(|(x, _)| x == k) {
        Some(e) => e.1 += n,
        None => v.push((k.to_string(), n)),
    }
}

fn csv_cell(s: &str) -> String {
    // a leading = + - @ would be a formula in a spreadsheet: quote it with a '
    let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_string() };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn score_view(r: &tierwise_domain::AssessmentResult) -> ScoreView {
    ScoreView {
        score: r.score,
        level: r.level.as_str().into(),
        lowest: r.lowest,
        horizon_months: r.horizon_months,
        varieties: r.varieties.as_ref().map(|v| v.iter().map(|x| x.as_str().to_string()).collect()).unwrap_or_default(),
        goal: r.goal.map(|g| g.as_str().into()),
    }
}

fn check_result(check_id: i64, o: &CheckOutcome, amount: Decimal, lang: Lang) -> CheckResult {
    CheckResult {
        check_id,
        verdict: o.verdict.as_str().into(),
        verdict_label: o.verdict.label(lang).into(),
        reasons: o
            .reasons
            .iter()
            .map(|r| ReasonView { code: r.code.to_string(), message: r.message.clone() })
            .collect(),
        obligations: o
            .obligations
            .iter()
            .map(|c| ReasonView {
                code: c.to_string(),
                message: tierwise_suitability::obligation_text(c, lang).to_string(),
            })
            .collect(),
        rule_pack: o.rule_pack.clone(),
        rule_version: o.rule_version.clone(),
        needs_confirmation: o.verdict == Verdict::Warn,
        amount,
    }
}

/// A service plan in words: `专属理财经理 · 资深理财经理及以上 · 每30天联系`.
pub fn service_plan_text(p: &tierwise_rules::ServicePlan, lang: Lang) -> String {
    let model = match (p.service_model, lang) {
        (tierwise_rules::ServiceModel::PrivateBankerTeam, Lang::Zh) => "私人银行家团队",
        (tierwise_rules::ServiceModel::PrivateBankerTeam, Lang::En) => "private banker team",
        (tierwise_rules::ServiceModel::DedicatedAdvisor, Lang::Zh) => "专属理财经理",
        (tierwise_rules::ServiceModel::DedicatedAdvisor, Lang::En) => "dedicated advisor",
        (tierwise_rules::ServiceModel::Digital, Lang::Zh) => "线上服务",
        (tierwise_rules::ServiceModel::Digital, Lang::En) => "digital service",
    };
    let title = match (p.advisor_title, lang) {
        (tierwise_domain::AdvisorTitle::Assistant, Lang::Zh) => "助理理财经理",
        (tierwise_domain::AdvisorTitle::Advisor, Lang::Zh) => "理财经理",
        (tierwise_domain::AdvisorTitle::SeniorAdvisor, Lang::Zh) => "资深理财经理",
        (tierwise_domain::AdvisorTitle::PrivateBanker, Lang::Zh) => "私人银行家",
        (tierwise_domain::AdvisorTitle::Assistant, Lang::En) => "assistant advisor",
        (tierwise_domain::AdvisorTitle::Advisor, Lang::En) => "advisor",
        (tierwise_domain::AdvisorTitle::SeniorAdvisor, Lang::En) => "senior advisor",
        (tierwise_domain::AdvisorTitle::PrivateBanker, Lang::En) => "private banker",
    };
    let mut s = format!("{model} · {title}");
    if p.advisor_min_years > 0 {
        s.push_str(&match lang {
            Lang::Zh => format!(" · 从业≥{}年", p.advisor_min_years),
            Lang::En => format!(" · ≥{} years", p.advisor_min_years),
        });
    }
    if let Some(d) = p.contact_every_days {
        s.push_str(&match lang {
            Lang::Zh => format!(" · 每{d}天联系"),
            Lang::En => format!(" · contact every {d} days"),
        });
    }
    s
}

/// Parses the desk's local time input (for tests and the API).
pub fn parse_local(s: &str, tz: chrono_tz::Tz) -> AppResult<LocalDateTime> {
    tierwise_domain::parse_timestamp(s, tz).map_err(|e| invalid("at", e.to_string()))
}

/// A questionnaire as a form shows it (no scores: the client must not
/// answer to the score).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuestionnaireView {
    pub id: String,
    pub title: String,
    pub questions: Vec<QuestionView>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuestionView {
    pub id: String,
    pub text: String,
    /// single | multi
    pub kind: String,
    pub options: Vec<OptionView>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OptionView {
    pub id: String,
    pub text: String,
}

impl QuestionnaireView {
    pub fn of(q: &Questionnaire, lang: Lang) -> QuestionnaireView {
        QuestionnaireView {
            id: q.id().into(),
            title: q.title().get(lang).into(),
            questions: q
                .questions()
                .iter()
                .map(|x| QuestionView {
                    id: x.id.clone(),
                    text: x.text.get(lang).into(),
                    kind: x.kind.as_str().into(),
                    options: x
                        .options
                        .iter()
                        .map(|o| OptionView { id: o.id.clone(), text: o.text.get(lang).into() })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// What a reclassification gave: (asset_tier, segment, risk_level, previous segment).
type Reclassified = (Option<String>, Option<String>, Option<String>, Option<String>);

/// The password of every demo login (printed by `serve --demo`).
pub const DEMO_PASSWORD: &str = "tierwise-demo-1";

impl App {
    /// One demo login per role, created once on a demo book: the advisor
    /// serves the book's first advised client's advisor, the team lead that
    /// client's branch. Returns (username, role) of each.
    pub fn ensure_demo_users(&self) -> AppResult<Vec<(String, String)>> {
        let page = self.store.list_clients(&ClientQuery { limit: 200, ..Default::default() })?;
        let anchor = page.iter().find(|r| r.advisor_id.is_some() && r.branch_id.is_some());
        let advisor = anchor.and_then(|r| r.advisor_id.clone());
        let branch = anchor.and_then(|r| r.branch_id.clone());
        let wanted = [
            ("advisor", Role::Advisor, "演示理财经理 Demo RM"),
            ("lead", Role::TeamLead, "演示团队主管 Demo team lead"),
            ("compliance", Role::Compliance, "演示合规 Demo compliance"),
            ("ops", Role::Operations, "演示运营 Demo operations"),
            ("admin", Role::Admin, "演示管理员 Demo admin"),
        ];
        let mut out = Vec::new();
        for (name, role, display) in wanted {
            if self.store.user_by_name(name)?.is_none() {
                self.create_user(
                    None,
                    &NewUser {
                        username: name.into(),
                        display_name: display.into(),
                        role: role.as_str().into(),
                        advisor_id: if role == Role::Advisor { advisor.clone() } else { None },
                        branch_id: if matches!(role, Role::TeamLead | Role::Advisor) { branch.clone() } else { None },
                        password: DEMO_PASSWORD.into(),
                        can_view_pii: None,
                    },
                )?;
            }
            out.push((name.to_string(), role.as_str().to_string()));
        }
        Ok(out)
    }
}
