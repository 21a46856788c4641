//! The product shelf: about 230 products over every category of PRODUCT.md 2.2,
//! the same for every seed and size of book (a fixed seed draws their details),
//! so that product ids mean the same thing in every generated book.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tierwise_domain::{InvestorRequirement as Req, ProductCategory as Cat, ProductRisk as Risk, Variety};

/// The shelf does not depend on the book's seed.
const SHELF_SEED: u64 = 0x7469_6572_7769_7365;

pub(crate) struct ProductSpec {
    pub name: String,
    pub category: Cat,
    /// stated explicitly for a few products; the category default otherwise
    pub variety: Option<Variety>,
    pub risk: Risk,
    pub horizon_months: u32,
    pub min_cents: u64,
    pub requirement: Req,
    /// annual fee rate in ten-thousandths (150 = 0.0150)
    pub fee: u32,
    pub on_sale: bool,
    pub currency: &'static str,
}

impl ProductSpec {
    pub fn status_str(&self) -> &'static str {
        if self.on_sale {
            tierwise_domain::ProductStatus::OnSale.as_str()
        } else {
            tierwise_domain::ProductStatus::Closed.as_str()
        }
    }
}

pub(crate) struct Catalog {
    pub products: Vec<ProductSpec>,
    /// product indices per category (`Cat as usize`)
    by_category: Vec<Vec<u16>>,
    /// the current-account deposit every client has (活期储蓄存款)
    pub current_account: u16,
}

/// Fund-house and issuer names of our own invention.
const BRANDS: &[&str] = &[
    "天衡", "泓远", "锦程", "和泰", "启元", "安澜", "鼎丰", "澄明", "云帆", "松柏", "青禾", "远山", "弘毅", "睿信",
    "恒泽", "瀚海",
];

struct Draft<'a> {
    rng: &'a mut ChaCha8Rng,
    products: Vec<ProductSpec>,
}

impl Draft<'_> {
    fn brand(&mut self) -> &'static str {
        BRANDS[self.rng.gen_range(0..BRANDS.len())]
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.rng.gen_range(0..xs.len())]
    }
    fn fee(&mut self, lo: u32, hi: u32) -> u32 {
        // in steps of 0.0005
        let steps = (hi - lo) / 5;
        lo + 5 * self.rng.gen_range(0..=steps)
    }
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        category: Cat,
        name: String,
        risk: Risk,
        horizon_months: u32,
        min_yuan: u64,
        requirement: Req,
        fee: u32,
        variety: Option<Variety>,
    ) {
        self.products.push(ProductSpec {
            name,
            category,
            variety,
            risk,
            horizon_months,
            min_cents: min_yuan * 100,
            requirement,
            fee,
            on_sale: true,
            currency: "CNY",
        });
    }
}

impl Catalog {
    pub fn new() -> Catalog {
        let mut rng = ChaCha8Rng::seed_from_u64(SHELF_SEED);
        let mut d = Draft { rng: &mut rng, products: Vec::with_capacity(240) };
        let none = Req::None;

        // deposit line
        d.add(Cat::Deposit, "活期储蓄存款".into(), Risk::R1, 0, 1, none, 0, None);
        d.add(Cat::Deposit, "个人通知存款".into(), Risk::R1, 0, 50_000, none, 0, None);
        d.add(Cat::Deposit, "单位活期存款".into(), Risk::R1, 0, 1, none, 0, None);
        for (label, months) in [("3个月", 3), ("6个月", 6), ("1年", 12), ("2年", 24), ("3年", 36), ("5年", 60)]
        {
            d.add(Cat::TimeDeposit, format!("整存整取定期存款{label}"), Risk::R1, months, 50, none, 0, None);
        }
        d.add(Cat::TimeDeposit, "大额存单1年期".into(), Risk::R1, 12, 200_000, none, 0, None);
        d.add(Cat::TimeDeposit, "大额存单3年期".into(), Risk::R1, 36, 200_000, none, 0, None);
        for n in 1..=10u32 {
            let b = d.brand();
            let months = d.pick(&[1, 3, 3, 6, 6, 12]);
            let min = d.pick(&[10_000, 10_000, 50_000]);
            let risk = if n % 4 == 0 { Risk::R2 } else { Risk::R1 };
            // the variety is stated on a few rows, as a core system might
            let variety = if n == 3 { Some(Variety::FixedIncome) } else { None };
            d.add(Cat::StructuredDeposit, format!("{b}结构性存款{n}期"), risk, months, min, none, 0, variety);
        }

        // wealth line, fixed income
        for n in 1..=10u32 {
            let b = d.brand();
            let share = if n % 2 == 0 { "B" } else { "A" };
            let fee = d.fee(20, 45);
            d.add(Cat::MoneyFund, format!("{b}货币{share}"), Risk::R1, 0, 1, none, fee, None);
        }
        for n in 1..=20u32 {
            let b = d.brand();
            let kind = d.pick(&["纯债", "短债", "中短债", "信用债", "利率债", "可转债"]);
            let share = if n % 2 == 0 { "C" } else { "A" };
            let horizon = d.pick(&[0, 0, 0, 3, 6, 12]);
            let fee = d.fee(50, 90);
            let risk = if kind == "可转债" { Risk::R3 } else { Risk::R2 };
            d.add(Cat::BondFund, format!("{b}{kind}债券{share}"), risk, horizon, 10, none, fee, None);
        }
        for n in 1..=10u32 {
            let (name, risk, horizon, min) = match n {
                1..=4 => (
                    format!("{}年记账式附息国债({:02}期)", 2021 + n, n + 4),
                    Risk::R1,
                    [12, 36, 60, 120][n as usize - 1],
                    100,
                ),
                5..=7 => (
                    format!("{}地方政府债({}期)", ["上海市", "广东省", "浙江省"][n as usize - 5], n),
                    Risk::R1,
                    60,
                    100,
                ),
                _ => {
                    let w = d.pick(crate::lists::FIRM_WORDS);
                    (format!("{w}集团公司债{n}号"), Risk::R2, 36, 1_000)
                }
            };
            d.add(Cat::Bond, name, risk, horizon, min, none, 0, None);
        }
        for n in 1..=30u32 {
            let b = d.brand();
            let series = d.pick(&["稳利", "安盈", "月开", "季开", "半年开", "日日盈", "添利"]);
            let horizon = match series {
                "日日盈" => 0,
                "月开" => 1,
                "季开" => 3,
                "半年开" => 6,
                _ => d.pick(&[12, 18, 24]),
            };
            let risk = match n % 10 {
                0 => Risk::R1,
                5 => Risk::R3,
                _ => Risk::R2,
            };
            let min = if n % 6 == 0 { 10_000 } else { 1 };
            let fee = d.fee(30, 80);
            d.add(Cat::WealthFixedIncome, format!("{b}理财{series}{n}号"), risk, horizon, min, none, fee, None);
        }

        // wealth line, equity
        for n in 1..=25u32 {
            let b = d.brand();
            let style = d.pick(&["平衡", "灵活配置", "价值", "成长", "稳健", "偏债"]);
            let share = if n % 2 == 0 { "C" } else { "A" };
            let fee = d.fee(120, 150);
            let (risk, variety) = match style {
                // a bond-heavy mixed fund states its variety explicitly
                "偏债" => (Risk::R2, Some(Variety::FixedIncome)),
                "成长" => (Risk::R4, None),
                _ => (if n % 3 == 0 { Risk::R4 } else { Risk::R3 }, None),
            };
            d.add(Cat::MixedFund, format!("{b}{style}混合{share}"), risk, 0, 10, none, fee, variety);
        }
        for n in 1..=20u32 {
            let b = d.brand();
            let theme = d.pick(&["消费", "医疗", "科技", "新能源", "高端制造", "红利", "金融地产"]);
            let share = if n % 2 == 0 { "C" } else { "A" };
            d.add(Cat::EquityFund, format!("{b}{theme}股票{share}"), Risk::R4, 0, 10, none, 150, None);
        }
        for n in 1..=15u32 {
            let b = d.brand();
            let index = d.pick(&["沪深300", "中证500", "中证1000", "创业板", "科创50", "中证红利", "上证50"]);
            let share = if n % 2 == 0 { "C" } else { "A" };
            let fee = d.fee(50, 80);
            let risk = if index == "沪深300" || index == "上证50" || index == "中证红利" {
                Risk::R3
            } else {
                Risk::R4
            };
            d.add(Cat::IndexFund, format!("{b}{index}指数{share}"), risk, 0, 10, none, fee, None);
        }
        for n in 1..=10u32 {
            let b = d.brand();
            let theme = d.pick(&["纳斯达克100", "标普500", "恒生科技", "全球医疗", "美元债", "日经225"]);
            let fee = d.fee(80, 150);
            let (risk, variety) = match theme {
                "美元债" => (Risk::R3, Some(Variety::FixedIncome)),
                "恒生科技" => (Risk::R5, None),
                _ => (Risk::R4, None),
            };
            d.add(Cat::QdiiFund, format!("{b}{theme}(QDII){n}"), risk, 0, 10, none, fee, variety);
            if n % 2 == 0 {
                if let Some(p) = d.products.last_mut() {
                    p.currency = "USD";
                    p.name.push_str("美元");
                }
            }
        }
        for n in 1..=10u32 {
            let w = d.pick(crate::lists::FIRM_WORDS);
            let ind = d.pick(crate::lists::INDUSTRIES);
            let risk = if n % 3 == 0 { Risk::R5 } else { Risk::R4 };
            d.add(Cat::Stock, format!("{w}{ind}(A股)"), risk, 0, 100, none, 0, None);
        }
        for n in 1..=8u32 {
            let b = d.brand();
            let series = d.pick(&["稳健", "鑫享", "安泰", "恒盈"]);
            let horizon = d.pick(&[12, 24, 36]);
            let fee = d.fee(100, 200);
            let risk = if n % 3 == 0 { Risk::R4 } else { Risk::R3 };
            d.add(
                Cat::Trust,
                format!("{b}信托·{series}{n}号集合资金信托计划"),
                risk,
                horizon,
                1_000_000,
                Req::Qualified,
                fee,
                None,
            );
        }
        for n in 1..=10u32 {
            let b = d.brand();
            let style = d.pick(&["量化", "价值", "成长", "宏观对冲", "指数增强"]);
            let horizon = d.pick(&[12, 12, 36]);
            let fee = d.fee(150, 200);
            let risk = if n % 3 == 0 { Risk::R5 } else { Risk::R4 };
            d.add(
                Cat::PrivateFund,
                format!("{b}{style}私募证券投资基金{n}号"),
                risk,
                horizon,
                1_000_000,
                Req::PrivateFund,
                fee,
                None,
            );
        }

        // wealth line, derivatives and complex
        d.add(Cat::Futures, "商品期货账户".into(), Risk::R5, 0, 50_000, Req::Qualified, 0, None);
        d.add(Cat::Futures, "股指期货账户".into(), Risk::R5, 0, 500_000, Req::Professional, 0, None);
        d.add(Cat::Futures, "国债期货账户".into(), Risk::R5, 0, 500_000, Req::Qualified, 0, None);
        d.add(Cat::Options, "50ETF期权账户".into(), Risk::R5, 0, 500_000, Req::Qualified, 0, None);
        d.add(Cat::Options, "300ETF期权账户".into(), Risk::R5, 0, 500_000, Req::Qualified, 0, None);
        d.add(Cat::Options, "场外个股期权".into(), Risk::R5, 3, 1_000_000, Req::Professional, 0, None);
        d.add(Cat::Margin, "融资融券信用账户".into(), Risk::R5, 0, 500_000, Req::Qualified, 0, None);
        d.add(Cat::Margin, "转融通证券出借".into(), Risk::R5, 0, 500_000, Req::Professional, 0, None);
        for n in 1..=6u32 {
            let b = d.brand();
            let kind = d.pick(&["挂钩沪深300", "雪球", "鲨鱼鳍", "挂钩黄金"]);
            let horizon = d.pick(&[6, 12, 24]);
            let fee = d.fee(50, 100);
            let (min, req) = if kind == "雪球" { (1_000_000, Req::Qualified) } else { (100_000, none) };
            let risk = if kind == "鲨鱼鳍" { Risk::R4 } else { Risk::R5 };
            let variety = if kind == "挂钩黄金" { Some(Variety::Derivative) } else { None };
            d.add(Cat::StructuredNote, format!("{b}{kind}收益凭证{n}号"), risk, horizon, min, req, fee, variety);
        }
        d.add(Cat::LeveragedFund, "沪深300两倍杠杆ETF".into(), Risk::R5, 0, 10, none, 100, None);
        d.add(Cat::LeveragedFund, "创业板两倍杠杆ETF".into(), Risk::R5, 0, 10, none, 100, None);
        d.add(Cat::LeveragedFund, "纳指三倍杠杆(QDII)".into(), Risk::R5, 0, 50_000, Req::Professional, 150, None);

        // insurance line
        for n in 1..=12u32 {
            let b = d.brand();
            let series = d.pick(&["金满仓", "鑫享", "如意", "福禄", "安康"]);
            let (kind, risk, horizon, variety) = match n % 6 {
                0 => ("投资连结保险", Risk::R4, 120, Some(Variety::Equity)),
                1 => ("年金保险", Risk::R1, 120, None),
                2 => ("增额终身寿险", Risk::R1, 240, None),
                3 => ("两全保险", Risk::R1, 60, None),
                4 => ("万能型保险", Risk::R2, 60, None),
                _ => ("分红型保险", Risk::R2, 120, None),
            };
            let fee = d.fee(80, 150);
            d.add(Cat::Insurance, format!("{b}人寿{series}{kind}"), risk, horizon, 10_000, none, fee, variety);
        }

        // credit line (liabilities)
        for (name, horizon) in [
            ("个人住房贷款", 360),
            ("个人消费贷款", 36),
            ("个人经营贷款", 36),
            ("个人汽车贷款", 60),
            ("个人信用贷款", 12),
            ("单位流动资金贷款", 12),
        ] {
            d.add(Cat::Loan, name.into(), Risk::R1, horizon, 0, none, 0, None);
        }
        for name in ["标准信用卡(普卡)", "金卡信用卡", "白金信用卡", "联名信用卡"] {
            d.add(Cat::CreditCard, name.into(), Risk::R1, 0, 0, none, 0, None);
        }

        let mut products = d.products;
        // about 8 % of the shelf is closed (no longer on sale; still held by some)
        let mut seen = [false; 32];
        for p in products.iter_mut() {
            let first_of_category = !std::mem::replace(&mut seen[p.category as usize % 32], true);
            let line = p.category.line();
            let closable = !first_of_category
                && line != tierwise_domain::BusinessLine::Deposit
                && line != tierwise_domain::BusinessLine::Credit;
            if closable && rng.gen_bool(0.10) {
                p.on_sale = false;
            }
        }

        let mut by_category = vec![Vec::new(); Cat::ALL.len()];
        for (i, p) in products.iter().enumerate() {
            if let Some(v) = by_category.get_mut(p.category as usize) {
                v.push(i as u16);
            }
        }
        Catalog { products, by_category, current_account: 0 }
    }

    pub fn get(&self, i: u16) -> Option<&ProductSpec> {
        self.products.get(usize::from(i))
    }

    /// A product of `category` rated at most `max_risk` (1–5), optionally on sale
    /// only, with a minimum of at most `max_min_cents`, whose investor
    /// requirement the client meets (`qualification`: 0 none, 1 qualified /
    /// private fund, 2 professional); chosen uniformly.
    pub fn pick(
        &self,
        rng: &mut ChaCha8Rng,
        category: Cat,
        max_risk: u8,
        on_sale_only: bool,
        max_min_cents: u64,
        qualification: u8,
    ) -> Option<u16> {
        let list = self.by_category.get(category as usize)?;
        let fits = |i: &&u16| {
            self.get(**i).is_some_and(|p| {
                p.risk.rank() <= max_risk
                    && (p.on_sale || !on_sale_only)
                    && p.min_cents <= max_min_cents
                    && requirement_level(p.requirement) <= qualification
            })
        };
        let n = list.iter().filter(fits).count();
        if n == 0 {
            return None;
        }
        list.iter().filter(fits).nth(rng.gen_range(0..n)).copied()
    }

    /// Products of a category (for tests and credit choices).
    pub fn of(&self, category: Cat) -> &[u16] {
        self.by_category.get(category as usize).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// 0 none, 1 qualified or private-fund qualified, 2 professional.
pub(crate) fn requirement_level(r: Req) -> u8 {
    match r {
        Req::None => 0,
        Req::Qualified | Req::PrivateFund => 1,
        Req::Professional => 2,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn shelf_covers_every_category_with_sensible_ratings() {
        let c = Catalog::new();
        assert!((150..=300).contains(&c.products.len()), "{}", c.products.len());
        for cat in Cat::ALL {
            assert!(!c.of(*cat).is_empty(), "{cat} has no product");
        }
        for p in &c.products {
            match p.category {
                Cat::Deposit | Cat::TimeDeposit => assert_eq!(p.risk, Risk::R1),
                Cat::PrivateFund => assert_eq!(p.requirement, Req::PrivateFund),
                Cat::Trust => assert_eq!(p.requirement, Req::Qualified),
                Cat::Futures | Cat::Options | Cat::Margin => assert_eq!(p.risk, Risk::R5),
                _ => {}
            }
            if p.category.line() == tierwise_domain::BusinessLine::Deposit {
                assert_eq!(p.fee, 0);
                assert!(p.on_sale);
            }
        }
        assert_eq!(c.products[usize::from(c.current_account)].name, "活期储蓄存款");
        assert!(c.products.iter().any(|p| !p.on_sale));
        assert!(c.products.iter().any(|p| p.currency == "USD"));
        assert!(c.products.iter().any(|p| p.variety.is_some()));
    }
}
