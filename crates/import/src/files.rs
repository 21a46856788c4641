//! The seven files of PRODUCT.md 7.3: their columns, and how a row of each
//! becomes a domain record (or row errors).

use chrono_tz::Tz;
use rust_decimal::Decimal;
use tierwise_domain::{
    format_varieties, parse_bool, parse_money, parse_varieties, Advisor, AdvisorTitle, Assessment, AssessmentResult,
    Channel, Client, ClientKind, Gender, Goal, Holding, Interaction, InteractionChannel, InvestorRequirement, Product,
    ProductCategory, ProductRisk, ProductStatus, ProfessionalStatus, RiskLevel, Transaction, TxnKind, Variety,
};
use tierwise_store::IdKind;

use crate::importer::{Failure, Importer};
use crate::keys::Key;
use crate::table::{
    date, parse_count, parse_currency, parse_id, parse_rate, take, timestamp, Cell, Check, FileSpec, Layout, Val,
    MAX_COLS,
};

/// One of the seven files, in import order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Which {
    Advisors,
    Products,
    Clients,
    Holdings,
    Transactions,
    Assessments,
    Interactions,
}

impl Which {
    /// Import order: what a row refers to is read before it.
    pub(crate) const ALL: [Which; 7] = [
        Which::Advisors,
        Which::Products,
        Which::Clients,
        Which::Holdings,
        Which::Transactions,
        Which::Assessments,
        Which::Interactions,
    ];

    pub(crate) fn spec(self) -> &'static FileSpec {
        match self {
            Which::Advisors => &ADVISORS,
            Which::Products => &PRODUCTS,
            Which::Clients => &CLIENTS,
            Which::Holdings => &HOLDINGS,
            Which::Transactions => &TRANSACTIONS,
            Which::Assessments => &ASSESSMENTS,
            Which::Interactions => &INTERACTIONS,
        }
    }

    /// The kind of id the file defines, and its column.
    pub(crate) fn defines(self) -> Option<(IdKind, &'static str)> {
        match self {
            Which::Advisors => Some((IdKind::Advisor, "advisor_id")),
            Which::Products => Some((IdKind::Product, "product_id")),
            Which::Clients => Some((IdKind::Client, "client_id")),
            _ => None,
        }
    }
}

static ADVISORS: FileSpec = FileSpec {
    name: "advisors.csv",
    columns: tierwise_domain::import_format::ADVISORS,
    required: &["advisor_id"],
    either: None,
};

static PRODUCTS: FileSpec = FileSpec {
    name: "products.csv",
    columns: tierwise_domain::import_format::PRODUCTS,
    required: &["product_id", "category", "risk_level"],
    either: None,
};

static CLIENTS: FileSpec = FileSpec {
    name: "clients.csv",
    columns: tierwise_domain::import_format::CLIENTS,
    required: &["client_id"],
    either: None,
};

static HOLDINGS: FileSpec = FileSpec {
    name: "holdings.csv",
    columns: tierwise_domain::import_format::HOLDINGS,
    required: &["client_id", "product_id", "market_value", "as_of"],
    either: None,
};

static TRANSACTIONS: FileSpec = FileSpec {
    name: "transactions.csv",
    columns: tierwise_domain::import_format::TRANSACTIONS,
    required: &["txn_id", "client_id", "ts", "kind", "amount"],
    either: None,
};

static ASSESSMENTS: FileSpec = FileSpec {
    name: "assessments.csv",
    columns: tierwise_domain::import_format::ASSESSMENTS,
    required: &["client_id", "assessed_at", "channel", "questionnaire_id"],
    either: Some(("answers", "risk_level")),
};

static INTERACTIONS: FileSpec = FileSpec {
    name: "interactions.csv",
    columns: tierwise_domain::import_format::INTERACTIONS,
    required: &["client_id", "at", "channel"],
    either: None,
};

/// Every file's name, in import order.
pub(crate) fn names() -> [&'static str; 7] {
    Which::ALL.map(|w| w.spec().name)
}

/// Validates one row (whose field count matches the header) and queues its
/// record for writing.
pub(crate) fn row(
    imp: &mut Importer<'_>,
    which: Which,
    layout: &Layout,
    cells: &[Cell<'_>; MAX_COLS],
    chk: &mut Check,
) -> Result<(), Failure> {
    match which {
        Which::Advisors => advisor(imp, cells, chk),
        Which::Products => product(imp, cells, chk),
        Which::Clients => client(imp, cells, chk)?,
        Which::Holdings => holding(imp, cells, chk)?,
        Which::Transactions => transaction(imp, cells, chk)?,
        Which::Assessments => assessment(imp, layout, cells, chk)?,
        Which::Interactions => interaction(imp, cells, chk)?,
    }
    Ok(())
}

/// The key of a row of a file whose duplicates are found by hashing, if
/// its key cells are valid. The same function serves both readings of the
/// file, so they agree on which rows have a key.
pub(crate) fn key_of<'r>(which: Which, cells: &[Cell<'r>; MAX_COLS], tz: Tz) -> Option<Key<'r>> {
    let id = |c: &Cell<'r>| match c.val {
        Val::Text(s) => parse_id(s).ok(),
        _ => None,
    };
    let text = |c: &Cell<'r>| match c.val {
        Val::Text(s) => Some(s),
        _ => None,
    };
    match which {
        Which::Holdings => {
            let [client, product, _, as_of] = take(cells);
            Some(Key::Holding(id(&client)?, id(&product)?, date(text(&as_of)?).ok()?))
        }
        Which::Transactions => {
            let [txn] = take(cells);
            Some(Key::Transaction(id(&txn)?))
        }
        Which::Assessments => {
            let [client, at] = take(cells);
            Some(Key::Assessment(id(&client)?, timestamp(text(&at)?, tz).ok()?))
        }
        Which::Interactions => {
            let [client, _, at, channel] = take(cells);
            let at = timestamp(text(&at)?, tz).ok()?;
            Some(Key::Interaction(id(&client)?, at, InteractionChannel::parse(text(&channel)?).ok()?))
        }
        Which::Advisors | Which::Products | Which::Clients => None,
    }
}

fn advisor(imp: &mut Importer<'_>, cells: &[Cell<'_>; MAX_COLS], chk: &mut Check) {
    let [advisor_id, name, title, experience_years, capacity, branch_id] = take(cells);
    let advisor_id = chk.req_id(advisor_id);
    if let Some(id) = &advisor_id {
        imp.define(IdKind::Advisor, id, chk, "advisor_id");
    }
    let record = Advisor {
        advisor_id: advisor_id.unwrap_or_default(),
        name: chk.opt_text(name),
        title: chk.opt(title, AdvisorTitle::parse),
        experience_years: chk.opt(experience_years, parse_count),
        capacity: chk.opt(capacity, parse_count),
        branch_id: chk.opt_id(branch_id),
    };
    if !chk.failed && imp.writing() {
        imp.batch.advisors.push(record);
    }
}

/// Products: only id, category and risk level are required; an empty cell
/// takes the default a bank expects (horizon 0 = on demand, no minimum, no
/// investor requirement, no fee, on sale, CNY).
fn product(imp: &mut Importer<'_>, cells: &[Cell<'_>; MAX_COLS], chk: &mut Check) {
    let [product_id, name, category, variety, risk_level, horizon_months, min_investment, investor_requirement, annual_fee_rate, status, currency] =
        take(cells);
    let product_id = chk.req_id(product_id);
    if let Some(id) = &product_id {
        imp.define(IdKind::Product, id, chk, "product_id");
    }
    let name = chk.opt_text(name);
    let category = chk.req(category, ProductCategory::parse);
    let variety = chk.opt(variety, Variety::parse);
    let risk_level = chk.req(risk_level, ProductRisk::parse);
    let horizon_months = chk.opt(horizon_months, parse_count);
    let min_investment = chk.opt(min_investment, parse_money);
    let investor_requirement = chk.opt(investor_requirement, InvestorRequirement::parse);
    let annual_fee_rate = chk.opt(annual_fee_rate, parse_rate);
    let status = chk.opt(status, ProductStatus::parse);
    let currency = chk.opt(currency, parse_currency);
    let (Some(product_id), Some(category), Some(risk_level)) = (product_id, category, risk_level) else { return };
    if chk.failed || !imp.writing() {
        return;
    }
    imp.batch.products.push(Product {
        product_id,
        name,
        category,
        variety,
        risk_level,
        horizon_months: horizon_months.unwrap_or(0),
        min_investment: min_investment.unwrap_or(Decimal::ZERO),
        investor_requirement: investor_requirement.unwrap_or(InvestorRequirement::None),
        annual_fee_rate: annual_fee_rate.unwrap_or(Decimal::ZERO),
        status: status.unwrap_or(ProductStatus::OnSale),
        currency: currency.unwrap_or_else(|| "CNY".to_string()),
    });
}

fn client(imp: &mut Importer<'_>, cells: &[Cell<'_>; MAX_COLS], chk: &mut Check) -> Result<(), Failure> {
    let [client_id, kind, name, gender, birth_date, id_number, phone, email, occupation, city, branch_id, advisor_id, onboarded_at, household_id, annual_income, declared_financial_assets, declared_liabilities, net_assets, licensed_financial_institution, experience_years, payroll_employer_id, professional_status, material_change_at] =
        take(cells);
    let client_id = chk.req_id(client_id);
    if let Some(id) = &client_id {
        imp.define(IdKind::Client, id, chk, "client_id");
    }
    let advisor_id = chk.opt_id(advisor_id);
    if let Some(id) = &advisor_id {
        imp.refer(IdKind::Advisor, id, chk, "advisor_id")?;
    }
    let payroll_employer_id = chk.opt_id(payroll_employer_id);
    if let Some(id) = &payroll_employer_id {
        // May name a client further down the file: settled at its end.
        if !imp.resolves(IdKind::Client, id)? {
            imp.pending_payroll.push((chk.line, id.clone()));
        }
    }
    let record = Client {
        client_id: client_id.unwrap_or_default(),
        kind: chk.opt(kind, ClientKind::parse),
        name: chk.opt_text(name),
        gender: chk.opt(gender, Gender::parse),
        birth_date: chk.opt(birth_date, date),
        id_number: chk.opt_text(id_number),
        phone: chk.opt_text(phone),
        email: chk.opt_text(email),
        occupation: chk.opt_text(occupation),
        city: chk.opt_text(city),
        branch_id: chk.opt_id(branch_id),
        advisor_id,
        onboarded_at: chk.opt(onboarded_at, date),
        household_id: chk.opt_id(household_id),
        annual_income: chk.opt(annual_income, parse_money),
        declared_financial_assets: chk.opt(declared_financial_assets, parse_money),
        declared_liabilities: chk.opt(declared_liabilities, parse_money),
        net_assets: chk.opt(net_assets, parse_money),
        licensed_financial_institution: chk.opt(licensed_financial_institution, parse_bool),
        experience_years: chk.opt(experience_years, parse_count),
        payroll_employer_id,
        professional_status: chk.opt(professional_status, ProfessionalStatus::parse),
        material_change_at: chk.opt(material_change_at, date),
    };
    if !chk.failed && imp.writing() {
        imp.batch.clients.push(record);
    }
    Ok(())
}

fn holding(imp: &mut Importer<'_>, cells: &[Cell<'_>; MAX_COLS], chk: &mut Check) -> Result<(), Failure> {
    let [client_id, product_id, market_value, as_of] = take(cells);
    let client_id = chk.req_id(client_id);
    if let Some(id) = &client_id {
        imp.refer(IdKind::Client, id, chk, "client_id")?;
    }
    let product_id = chk.req_id(product_id);
    if let Some(id) = &product_id {
        imp.refer(IdKind::Product, id, chk, "product_id")?;
    }
    let market_value = chk.req(market_value, parse_money);
    let as_of = chk.req(as_of, date);
    if let (Some(client_id), Some(product_id), Some(market_value), Some(as_of)) =
        (client_id, product_id, market_value, as_of)
    {
        if !chk.failed && imp.writing() {
            imp.batch.holdings.push(Holding { client_id, product_id, market_value, as_of });
        }
    }
    Ok(())
}

fn transaction(imp: &mut Importer<'_>, cells: &[Cell<'_>; MAX_COLS], chk: &mut Check) -> Result<(), Failure> {
    let [txn_id, client_id, product_id, ts, kind, amount, channel] = take(cells);
    let txn_id = chk.req_id(txn_id);
    let client_id = chk.req_id(client_id);
    if let Some(id) = &client_id {
        imp.refer(IdKind::Client, id, chk, "client_id")?;
    }
    let product_id = chk.opt_id(product_id);
    if let Some(id) = &product_id {
        imp.refer(IdKind::Product, id, chk, "product_id")?;
    }
    let tz = imp.opts.tz;
    let ts = chk.req(ts, |s| timestamp(s, tz));
    let kind = chk.req(kind, TxnKind::parse);
    // An amount of 0 is accepted (a waived fee, a zero dividend).
    let amount = chk.req(amount, parse_money);
    let channel = chk.opt_text(channel);
    if let (Some(txn_id), Some(client_id), Some(ts), Some(kind), Some(amount)) = (txn_id, client_id, ts, kind, amount) {
        if !chk.failed && imp.writing() {
            imp.batch.transactions.push(Transaction { txn_id, client_id, product_id, ts, kind, amount, channel });
        }
    }
    Ok(())
}

fn assessment(
    imp: &mut Importer<'_>,
    layout: &Layout,
    cells: &[Cell<'_>; MAX_COLS],
    chk: &mut Check,
) -> Result<(), Failure> {
    let [client_id, assessed_at, channel, questionnaire_id, answers, risk_level, lowest, horizon_months, varieties, goal] =
        take(cells);
    let client_id = chk.req_id(client_id);
    if let Some(id) = &client_id {
        imp.refer(IdKind::Client, id, chk, "client_id")?;
    }
    let tz = imp.opts.tz;
    let assessed_at = chk.req(assessed_at, |s| timestamp(s, tz));
    let channel = chk.req(channel, Channel::parse);
    let questionnaire_id = chk.req_id(questionnaire_id);
    let answers_text = chk.text(answers);
    let given = Given {
        level: chk.opt(risk_level, RiskLevel::parse),
        lowest: chk.opt(lowest, parse_bool),
        horizon_months: chk.opt(horizon_months, parse_count),
        varieties: chk.opt(varieties, |s| {
            parse_varieties(s).map(|mut v| {
                v.sort_unstable();
                v
            })
        }),
        goal: chk.opt(goal, Goal::parse),
    };
    let result = match (answers_text, given.level) {
        (Some(text), _) => {
            let questionnaire = questionnaire_id.as_deref().and_then(|id| {
                let found = imp.opts.questionnaires.iter().find(|q| q.id() == id);
                if found.is_none() {
                    let known: Vec<&str> = imp.opts.questionnaires.iter().map(|q| q.id()).collect();
                    let known = if known.is_empty() { "none".to_string() } else { known.join(", ") };
                    chk.error(
                        Some("questionnaire_id"),
                        format!("unknown questionnaire {id}: answers can only be scored with a known questionnaire (known: {known})"),
                    );
                }
                found
            });
            match questionnaire.map(|q| q.score_str(text)) {
                Some(Ok(scored)) => {
                    given.compare(&scored, chk);
                    Some(scored)
                }
                Some(Err(e)) => {
                    chk.error(Some("answers"), e.to_string());
                    None
                }
                None => None,
            }
        }
        (None, Some(level)) if !answers.is_given() => {
            let lowest = given.lowest.unwrap_or(false);
            if lowest && level != RiskLevel::C1 {
                chk.error(
                    Some("lowest"),
                    format!("lowest is true but risk_level is {level}: the lowest category is always C1"),
                );
            }
            Some(AssessmentResult {
                level,
                lowest,
                score: None,
                horizon_months: given.horizon_months,
                varieties: given.varieties,
                goal: given.goal,
            })
        }
        (None, _) => {
            let neither = !answers.is_given() && !risk_level.is_given();
            // Without either column the header was already reported.
            if neither && (layout.has("answers") || layout.has("risk_level")) {
                chk.error(None, "either answers or risk_level is required".to_string());
            }
            chk.failed = true;
            None
        }
    };
    if let (Some(client_id), Some(assessed_at), Some(channel), Some(questionnaire_id), Some(result)) =
        (client_id, assessed_at, channel, questionnaire_id, result)
    {
        if !chk.failed && imp.writing() {
            imp.batch.assessments.push(Assessment {
                client_id,
                questionnaire_id,
                assessed_at,
                channel,
                answers: answers_text.map(str::to_string),
                result,
            });
        }
    }
    Ok(())
}

/// The pre-scored result columns of an assessment row, as given.
struct Given {
    level: Option<RiskLevel>,
    lowest: Option<bool>,
    horizon_months: Option<u32>,
    varieties: Option<Vec<Variety>>,
    goal: Option<Goal>,
}

impl Given {
    /// Every given value must agree with the answers' result.
    fn compare(&self, scored: &AssessmentResult, chk: &mut Check) {
        let mut disagree = |column: &str, given: String, scored: String| {
            let verb = if column == "risk_level" { "score" } else { "give" };
            chk.error(Some(column), format!("{column} {given} disagrees with the answers, which {verb} {scored}"));
        };
        if let Some(level) = self.level.filter(|l| *l != scored.level) {
            disagree("risk_level", level.to_string(), scored.level.to_string());
        }
        if let Some(lowest) = self.lowest.filter(|l| *l != scored.lowest) {
            disagree("lowest", lowest.to_string(), scored.lowest.to_string());
        }
        if let Some(h) = self.horizon_months.filter(|h| Some(*h) != scored.horizon_months) {
            let s = scored.horizon_months.map_or_else(|| "no horizon".to_string(), |x| x.to_string());
            disagree("horizon_months", h.to_string(), s);
        }
        if let Some(v) = self.varieties.as_ref().filter(|v| Some(*v) != scored.varieties.as_ref()) {
            let s = scored.varieties.as_deref().map_or_else(|| "no varieties".to_string(), format_varieties);
            disagree("varieties", format_varieties(v), s);
        }
        if let Some(g) = self.goal.filter(|g| Some(*g) != scored.goal) {
            let s = scored.goal.map_or_else(|| "no goal".to_string(), |x| x.to_string());
            disagree("goal", g.to_string(), s);
        }
    }
}

fn interaction(imp: &mut Importer<'_>, cells: &[Cell<'_>; MAX_COLS], chk: &mut Check) -> Result<(), Failure> {
    let [client_id, advisor_id, at, channel, topic, outcome] = take(cells);
    let client_id = chk.req_id(client_id);
    if let Some(id) = &client_id {
        imp.refer(IdKind::Client, id, chk, "client_id")?;
    }
    let advisor_id = chk.opt_id(advisor_id);
    if let Some(id) = &advisor_id {
        imp.refer(IdKind::Advisor, id, chk, "advisor_id")?;
    }
    let tz = imp.opts.tz;
    let at = chk.req(at, |s| timestamp(s, tz));
    let channel = chk.req(channel, InteractionChannel::parse);
    let topic = chk.opt_text(topic);
    let outcome = chk.opt_text(outcome);
    if let (Some(client_id), Some(at), Some(channel)) = (client_id, at, channel) {
        if !chk.failed && imp.writing() {
            imp.batch.interactions.push(Interaction { client_id, advisor_id, at, channel, topic, outcome });
        }
    }
    Ok(())
}
