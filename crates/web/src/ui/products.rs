//! The product catalogue: everyone reads it; operations edit it.

use super::{
    code_label, code_options, enc, money, render, respond, run, see_other, select, Ctx, Opt, Section, UiResult,
};
use crate::i18n::Tr;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Form;
use rust_decimal::Decimal;
use serde::Deserialize;
use tierwise_app::access::Permission;
use tierwise_app::desk::{ProductInput, ProductView};
use tierwise_app::AppError;
use tierwise_domain::{InvestorRequirement, ProductCategory, ProductRisk, ProductStatus, Variety};

pub(crate) struct ProductRow {
    pub id: String,
    pub name: String,
    pub category: String,
    pub variety: String,
    pub line: String,
    pub risk: String,
    pub horizon: String,
    pub min: String,
    pub requirement: String,
    pub fee: String,
    pub status: String,
    pub status_code: String,
}

fn percent(d: &Decimal) -> String {
    format!("{:.2}%", (*d * Decimal::from(100)).round_dp(2))
}

fn row(tr: Tr, p: &ProductView) -> ProductRow {
    let lang = tr.0;
    ProductRow {
        id: p.product_id.clone(),
        name: super::or_dash(&p.name),
        category: code_label(lang, "cat", &p.category),
        variety: code_label(lang, "variety", &p.variety),
        line: code_label(lang, "line", &p.line),
        risk: p.risk_level.clone(),
        horizon: super::clients::horizon_text(tr, p.horizon_months),
        min: format!("{} {}", money(&p.min_investment), p.currency),
        requirement: code_label(lang, "req", &p.investor_requirement),
        fee: percent(&p.annual_fee_rate),
        status: code_label(lang, "pstatus", &p.status),
        status_code: p.status.clone(),
    }
}

#[derive(Template)]
#[template(path = "products.html")]
struct ProductsPage {
    tr: Tr,
    rows: Vec<ProductRow>,
    can_edit: bool,
    saved: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct ListParams {
    saved: Option<String>,
}

pub(crate) async fn list(State(s): State<AppState>, ctx: Ctx, Query(lp): Query<ListParams>) -> UiResult {
    let app = s.app.clone();
    let products = run(ctx.lang, move || app.product_list()).await?;
    let p = ProductsPage {
        tr: ctx.tr,
        rows: products.iter().map(|p| row(ctx.tr, p)).collect(),
        can_edit: ctx.can(Permission::EditProducts),
        saved: lp.saved.filter(|x| !x.is_empty()),
    };
    let body = render(&p, ctx.lang)?;
    respond(&ctx, Section::Products, &ctx.tr.t("nav-products"), body)
}

/// The edit form's fields, as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct ProductForm {
    #[serde(default)]
    product_id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    variety: String,
    #[serde(default)]
    risk_level: String,
    #[serde(default)]
    horizon_months: String,
    #[serde(default)]
    min_investment: String,
    #[serde(default)]
    investor_requirement: String,
    #[serde(default)]
    annual_fee_rate: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    currency: String,
}

impl From<&ProductView> for ProductForm {
    fn from(p: &ProductView) -> ProductForm {
        ProductForm {
            product_id: p.product_id.clone(),
            name: p.name.clone().unwrap_or_default(),
            category: p.category.clone(),
            variety: p.variety.clone(),
            risk_level: p.risk_level.clone(),
            horizon_months: p.horizon_months.to_string(),
            min_investment: p.min_investment.normalize().to_string(),
            investor_requirement: p.investor_requirement.clone(),
            annual_fee_rate: p.annual_fee_rate.normalize().to_string(),
            status: p.status.clone(),
            currency: p.currency.clone(),
        }
    }
}

impl ProductForm {
    fn input(&self) -> ProductInput {
        let opt = |s: &str| Some(s.trim().to_string()).filter(|x| !x.is_empty());
        ProductInput {
            name: opt(&self.name),
            category: self.category.clone(),
            variety: opt(&self.variety),
            risk_level: self.risk_level.clone(),
            horizon_months: self.horizon_months.clone(),
            min_investment: self.min_investment.replace(',', ""),
            investor_requirement: self.investor_requirement.clone(),
            annual_fee_rate: self.annual_fee_rate.clone(),
            status: self.status.clone(),
            currency: opt(&self.currency),
        }
    }
}

#[derive(Template)]
#[template(path = "product_form.html")]
struct FormPage {
    tr: Tr,
    csrf: String,
    is_new: bool,
    action: String,
    f: ProductForm,
    categories: Vec<Opt>,
    varieties: Vec<Opt>,
    risks: Vec<Opt>,
    requirements: Vec<Opt>,
    statuses: Vec<Opt>,
    error: Option<String>,
}

fn form_page(ctx: &Ctx, is_new: bool, f: ProductForm, error: Option<String>) -> UiResult {
    let lang = ctx.lang;
    let action = if is_new { "/products".to_string() } else { format!("/products/{}", enc(&f.product_id)) };
    let p = FormPage {
        tr: ctx.tr,
        csrf: ctx.csrf.clone(),
        is_new,
        action,
        categories: select(code_options(lang, "cat", ProductCategory::NAMES), Some(&f.category)),
        varieties: select(code_options(lang, "variety", Variety::NAMES), Some(&f.variety)),
        risks: select(ProductRisk::NAMES.iter().map(|r| Opt::new(*r, *r)).collect(), Some(&f.risk_level)),
        requirements: select(code_options(lang, "req", InvestorRequirement::NAMES), Some(&f.investor_requirement)),
        statuses: select(code_options(lang, "pstatus", ProductStatus::NAMES), Some(&f.status)),
        f,
        error,
    };
    let body = render(&p, lang)?;
    let title = ctx.tr.t(if is_new { "product-new" } else { "product-edit" });
    respond(ctx, Section::Products, &title, body)
}

pub(crate) async fn new_form(ctx: Ctx) -> UiResult {
    ctx.require(Permission::EditProducts)?;
    let f = ProductForm {
        status: "on_sale".into(),
        investor_requirement: "none".into(),
        currency: "CNY".into(),
        horizon_months: "0".into(),
        annual_fee_rate: "0".into(),
        ..Default::default()
    };
    form_page(&ctx, true, f, None)
}

pub(crate) async fn edit_form(State(s): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> UiResult {
    ctx.require(Permission::EditProducts)?;
    let app = s.app.clone();
    let products = run(ctx.lang, move || app.product_list()).await?;
    let p =
        products.iter().find(|p| p.product_id == id).ok_or_else(|| ctx.err(AppError::UnknownProduct(id.clone())))?;
    form_page(&ctx, false, ProductForm::from(p), None)
}

async fn save_as(s: AppState, ctx: Ctx, id: String, is_new: bool, mut f: ProductForm) -> UiResult {
    f.product_id = id.trim().to_string();
    if is_new && !f.product_id.is_empty() {
        let app = s.app.clone();
        let existing = run(ctx.lang, move || app.product_list()).await?;
        if existing.iter().any(|p| p.product_id == f.product_id) {
            let msg = ctx.tr.t("product-exists");
            let mut r = form_page(&ctx, true, f, Some(msg))?;
            *r.status_mut() = StatusCode::CONFLICT;
            return Ok(r);
        }
    }
    let (app, actor, pid, input) = (s.app.clone(), ctx.actor.clone(), f.product_id.clone(), f.input());
    match crate::blocking(move || app.save_product(&actor, &pid, &input)).await {
        Ok(p) => Ok(see_other(&format!("/products?saved={}", enc(&p.product_id)))),
        Err(e @ AppError::Invalid { .. }) => {
            let msg = super::message_of(e, ctx.lang)?;
            let mut r = form_page(&ctx, is_new, f, Some(msg))?;
            *r.status_mut() = StatusCode::BAD_REQUEST;
            Ok(r)
        }
        Err(e) => Err(ctx.err(e)),
    }
}

pub(crate) async fn create(State(s): State<AppState>, ctx: Ctx, Form(f): Form<ProductForm>) -> UiResult {
    let id = f.product_id.clone();
    save_as(s, ctx, id, true, f).await
}

pub(crate) async fn save(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<ProductForm>,
) -> UiResult {
    save_as(s, ctx, id, false, f).await
}
