//! The reason and obligation codes of PRODUCT.md 5 and their zh/en texts.
//!
//! Codes are the contract (stable, snake_case, checked by tests and read by
//! compliance); messages are for people and say what was found in this case
//! (the levels, dates and amounts compared).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use tierwise_domain::{Channel, Lang, ProductRisk, RiskLevel, Variety};

/// Every reason code, in the order of the steps that report them.
pub const REASON_CODES: &[&str] = &[
    "not_on_sale",
    "below_minimum",
    "requires_qualified_investor",
    "requires_private_fund_qualified",
    "requires_professional",
    "assessment_missing",
    "assessment_expired",
    "material_change",
    "first_purchase_needs_branch_assessment",
    "lowest_category",
    "risk_exceeds_tolerance",
    "horizon_exceeds",
    "variety_not_accepted",
    "advisor_initiated_mismatch",
];

/// Every obligation code, in the order they are listed on an outcome.
pub const OBLIGATION_CODES: &[&str] = &[
    "risk_disclosure",
    "special_risk_warning",
    "client_confirmation",
    "dual_recording",
    "electronic_trace",
    "enhanced_care",
    "elderly_special_care",
];

/// What one step found, with what it compared; rendered into a [`crate::Reason`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Finding {
    NotOnSale { product: String },
    BelowMinimum { amount: Decimal, minimum: Decimal },
    RequiresQualifiedInvestor { product: String },
    RequiresPrivateFundQualified { product: String },
    RequiresProfessional { product: String },
    AssessmentMissing,
    AssessmentExpired { assessed: NaiveDate, expiry: NaiveDate },
    MaterialChange { changed: NaiveDate, assessed: NaiveDate },
    FirstPurchaseNeedsBranchAssessment { assessed: NaiveDate, channel: Channel },
    LowestCategory { product_risk: ProductRisk },
    RiskExceedsTolerance { product_risk: ProductRisk, client_level: RiskLevel },
    HorizonExceeds { product_months: u32, client_months: u32 },
    VarietyNotAccepted { variety: Variety, accepted: Vec<Variety> },
    AdvisorInitiatedMismatch,
}

impl Finding {
    pub(crate) fn code(&self) -> &'static str {
        match self {
            Finding::NotOnSale { .. } => "not_on_sale",
            Finding::BelowMinimum { .. } => "below_minimum",
            Finding::RequiresQualifiedInvestor { .. } => "requires_qualified_investor",
            Finding::RequiresPrivateFundQualified { .. } => "requires_private_fund_qualified",
            Finding::RequiresProfessional { .. } => "requires_professional",
            Finding::AssessmentMissing => "assessment_missing",
            Finding::AssessmentExpired { .. } => "assessment_expired",
            Finding::MaterialChange { .. } => "material_change",
            Finding::FirstPurchaseNeedsBranchAssessment { .. } => "first_purchase_needs_branch_assessment",
            Finding::LowestCategory { .. } => "lowest_category",
            Finding::RiskExceedsTolerance { .. } => "risk_exceeds_tolerance",
            Finding::HorizonExceeds { .. } => "horizon_exceeds",
            Finding::VarietyNotAccepted { .. } => "variety_not_accepted",
            Finding::AdvisorInitiatedMismatch => "advisor_initiated_mismatch",
        }
    }

    pub(crate) fn message(&self, lang: Lang) -> String {
        let zh = lang == Lang::Zh;
        match self {
            Finding::NotOnSale { product } => match zh {
                true => format!("产品 {product} 已停售"),
                false => format!("product {product} is not on sale"),
            },
            Finding::BelowMinimum { amount, minimum } => {
                let (a, m) = (amount.normalize(), minimum.normalize());
                match zh {
                    true => format!("购买金额 {a} 低于产品起购金额 {m}"),
                    false => format!("the amount {a} is below the product minimum {m}"),
                }
            }
            Finding::RequiresQualifiedInvestor { product } => match zh {
                true => format!("产品 {product} 仅向合格投资者销售（资管新规第五条），客户不符合合格投资者条件"),
                false => format!(
                    "product {product} is sold only to qualified investors (asset management rules Art 5); the client does not qualify"
                ),
            },
            Finding::RequiresPrivateFundQualified { product } => match zh {
                true => format!("产品 {product} 仅向私募合格投资者销售（私募办法第十二条），客户不符合私募合格投资者条件"),
                false => format!(
                    "product {product} is sold only to private fund qualified investors (private fund measures Art 12); the client does not qualify"
                ),
            },
            Finding::RequiresProfessional { product } => match zh {
                true => format!("产品 {product} 仅向专业投资者销售，客户为普通投资者"),
                false => format!("product {product} is sold only to professional investors; the client is an ordinary investor"),
            },
            Finding::AssessmentMissing => match zh {
                true => "客户尚未进行风险承受能力评估，须先完成评估".to_string(),
                false => "the client has no risk tolerance assessment: one must be taken first".to_string(),
            },
            Finding::AssessmentExpired { assessed, expiry } => match zh {
                true => format!("{assessed} 的风险承受能力评估已于 {expiry} 到期，须重新评估"),
                false => format!("the risk assessment of {assessed} expired on {expiry}: the client must be reassessed"),
            },
            Finding::MaterialChange { changed, assessed } => match zh {
                true => format!("客户于 {changed} 发生重大变化，晚于 {assessed} 的风险承受能力评估，须重新评估"),
                false => format!(
                    "the client reported a material change on {changed}, after the risk assessment of {assessed}: the client must be reassessed"
                ),
            },
            Finding::FirstPurchaseNeedsBranchAssessment { assessed, channel } => match zh {
                true => format!(
                    "客户首次购买非存款类产品，须在营业网点进行风险承受能力评估（最近一次评估于 {assessed} 通过{}完成）",
                    channel_zh(*channel)
                ),
                false => format!(
                    "first purchase of a non-deposit product: the risk assessment must be taken at a branch (the latest, of {assessed}, was taken {})",
                    channel_en(*channel)
                ),
            },
            Finding::LowestCategory { product_risk } => match zh {
                true => format!("客户属于风险承受能力最低类别，只能购买 R1 级产品，本产品为 {product_risk}"),
                false => format!("the client is in the lowest risk category and may buy only R1 products; this product is {product_risk}"),
            },
            Finding::RiskExceedsTolerance { product_risk, client_level } => match zh {
                true => format!("产品风险等级 {product_risk} 高于客户风险承受能力 {client_level}"),
                false => format!("product risk {product_risk} is above the client's risk tolerance {client_level}"),
            },
            Finding::HorizonExceeds { product_months, client_months } => match zh {
                true => format!("产品期限 {product_months} 个月超过客户的投资期限 {client_months} 个月"),
                false => format!("the product's horizon of {product_months} months exceeds the client's investment horizon of {client_months} months"),
            },
            Finding::VarietyNotAccepted { variety, accepted } => match zh {
                true => format!(
                    "产品投资品种（{}）不在客户可接受的品种（{}）之内",
                    variety_zh(*variety),
                    list(accepted, variety_zh, "、", "无")
                ),
                false => format!(
                    "the product's variety ({}) is not among the varieties the client accepts ({})",
                    variety_en(*variety),
                    list(accepted, variety_en, ", ", "none")
                ),
            },
            Finding::AdvisorInitiatedMismatch => match zh {
                true => "本次销售由机构推荐发起：不得主动向投资者推荐不匹配的产品（《证券期货投资者适当性管理办法》第二十二条）".to_string(),
                false => "the sale was initiated by the advisor: a firm may not actively recommend a product that does not match the investor (CSRC suitability measures Art 22)".to_string(),
            },
        }
    }
}

/// The zh or en description of an obligation code (the code itself when unknown).
pub fn obligation_text(code: &str, lang: Lang) -> &'static str {
    let (zh, en) = match code {
        "risk_disclosure" => ("向普通投资者进行风险揭示", "risk disclosure to the ordinary investor"),
        "special_risk_warning" => ("出具书面特别风险警示", "give the special written risk warning"),
        "client_confirmation" => (
            "客户书面确认并留存记录（确认人、时间、渠道、录音录像编号）",
            "record the client's written confirmation (who, when, channel, recording reference)",
        ),
        "dual_recording" => ("销售过程录音录像（双录）", "audio and video recording of the sale (双录)"),
        "electronic_trace" => ("线上销售全程电子留痕", "keep the electronic trace of the online sale"),
        "enhanced_care" => (
            "向普通投资者销售高风险（R4/R5）产品：加强告知、风险警示并回访",
            "high-risk (R4/R5) product to an ordinary investor: enhanced explanation, warning and follow-up",
        ),
        "elderly_special_care" => {
            ("老年客户特别关注：充分说明并确认其理解", "elderly client: explain fully and confirm understanding")
        }
        _ => ("未知义务", "unknown obligation"),
    };
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

/// The zh or en description of a reason code, without the particulars of a case.
pub fn reason_title(code: &str, lang: Lang) -> &'static str {
    let (zh, en) = match code {
        "not_on_sale" => ("产品已停售", "product not on sale"),
        "below_minimum" => ("低于起购金额", "below the minimum investment"),
        "requires_qualified_investor" => ("须为合格投资者", "qualified investors only"),
        "requires_private_fund_qualified" => ("须为私募合格投资者", "private fund qualified investors only"),
        "requires_professional" => ("须为专业投资者", "professional investors only"),
        "assessment_missing" => ("未进行风险承受能力评估", "no risk assessment"),
        "assessment_expired" => ("风险承受能力评估已过期", "risk assessment expired"),
        "material_change" => ("客户发生重大变化", "material change since the assessment"),
        "first_purchase_needs_branch_assessment" => {
            ("首次购买须在网点评估", "first purchase needs a branch assessment")
        }
        "lowest_category" => ("最低类别客户", "lowest-category client"),
        "risk_exceeds_tolerance" => ("产品风险高于承受能力", "risk above tolerance"),
        "horizon_exceeds" => ("产品期限超过投资期限", "horizon exceeds the client's"),
        "variety_not_accepted" => ("投资品种不匹配", "variety not accepted"),
        "advisor_initiated_mismatch" => ("机构推荐不匹配产品", "advisor-initiated mismatch"),
        _ => ("未知原因", "unknown reason"),
    };
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

fn channel_zh(c: Channel) -> &'static str {
    match c {
        Channel::Branch => "营业网点",
        Channel::Online => "线上渠道",
    }
}

fn channel_en(c: Channel) -> &'static str {
    match c {
        Channel::Branch => "at a branch",
        Channel::Online => "online",
    }
}

fn variety_zh(v: Variety) -> &'static str {
    match v {
        Variety::FixedIncome => "固定收益类",
        Variety::Equity => "权益类",
        Variety::Derivative => "衍生品类",
        Variety::Complex => "复杂类",
    }
}

fn variety_en(v: Variety) -> &'static str {
    match v {
        Variety::FixedIncome => "fixed income",
        Variety::Equity => "equity",
        Variety::Derivative => "derivatives",
        Variety::Complex => "complex",
    }
}

fn list(vs: &[Variety], name: fn(Variety) -> &'static str, sep: &str, none: &str) -> String {
    if vs.is_empty() {
        return none.to_string();
    }
    vs.iter().map(|v| name(*v)).collect::<Vec<_>>().join(sep)
}
