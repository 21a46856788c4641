//! The enumerations of PRODUCT.md 2, each with its stored spelling.

use crate::ParseError;

/// Declares a closed set of values with a stable snake_case spelling, parsing
/// that names the allowed values on failure, and serde in that spelling.
#[macro_export]
macro_rules! str_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $var:ident = $s:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vmeta])* $var),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$var),+];
            pub const NAMES: &'static [&'static str] = &[$($s),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$var => $s),+ }
            }
            /// The value spelled by these bytes (stored text read without a UTF-8 check).
            pub fn parse_bytes(b: &[u8]) -> Option<Self> {
                $(if b == $s.as_bytes() { return Some($name::$var); })+
                None
            }
            pub fn parse(s: &str) -> Result<Self, $crate::ParseError> {
                match s {
                    $($s => Ok($name::$var),)+
                    other => Err($crate::ParseError::new(format!(
                        "{other:?} is not one of {}", Self::NAMES.join(", ")
                    ))),
                }
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl std::str::FromStr for $name {
            type Err = $crate::ParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> { Self::parse(s) }
        }
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

str_enum!(
    /// Person or institution.
    ClientKind { Person = "person", Institution = "institution" }
);
str_enum!(Gender { M = "M", F = "F" });
str_enum!(
    /// CSRC 2016 Art 11: a client may be converted to (approved) or opt out of
    /// professional status; `derive` applies the criteria of Art 8.
    ProfessionalStatus { Derive = "derive", Approved = "approved", OptedOut = "opted_out" }
);
str_enum!(
    AdvisorTitle { Assistant = "assistant", Advisor = "advisor", SeniorAdvisor = "senior_advisor", PrivateBanker = "private_banker" }
);
str_enum!(
    /// Product category (PRODUCT.md 2.2).
    ProductCategory {
        Deposit = "deposit", TimeDeposit = "time_deposit", StructuredDeposit = "structured_deposit",
        MoneyFund = "money_fund", BondFund = "bond_fund", Bond = "bond", WealthFixedIncome = "wealth_fixed_income",
        MixedFund = "mixed_fund", EquityFund = "equity_fund", IndexFund = "index_fund", QdiiFund = "qdii_fund",
        Stock = "stock", Trust = "trust", PrivateFund = "private_fund",
        Futures = "futures", Options = "options", Margin = "margin",
        StructuredNote = "structured_note", LeveragedFund = "leveraged_fund",
        Insurance = "insurance", Loan = "loan", CreditCard = "credit_card",
    }
);
str_enum!(
    /// 投资品种: what kind of exposure a product gives.
    Variety { FixedIncome = "fixed_income", Equity = "equity", Derivative = "derivative", Complex = "complex" }
);
str_enum!(
    /// 业务条线.
    BusinessLine { Deposit = "deposit", Wealth = "wealth", Insurance = "insurance", Credit = "credit" }
);

impl ProductCategory {
    /// The business line a category belongs to.
    pub fn line(self) -> BusinessLine {
        use ProductCategory::*;
        match self {
            Deposit | TimeDeposit | StructuredDeposit => BusinessLine::Deposit,
            Insurance => BusinessLine::Insurance,
            Loan | CreditCard => BusinessLine::Credit,
            _ => BusinessLine::Wealth,
        }
    }
    /// The default variety, or `None` for credit products (liabilities).
    pub fn default_variety(self) -> Option<Variety> {
        use ProductCategory::*;
        match self {
            Deposit | TimeDeposit | StructuredDeposit | MoneyFund | BondFund | Bond | WealthFixedIncome | Insurance => {
                Some(Variety::FixedIncome)
            }
            MixedFund | EquityFund | IndexFund | QdiiFund | Stock | Trust | PrivateFund => Some(Variety::Equity),
            Futures | Options | Margin => Some(Variety::Derivative),
            StructuredNote | LeveragedFund => Some(Variety::Complex),
            Loan | CreditCard => None,
        }
    }
}

str_enum!(
    /// Product risk rating R1 (lowest) … R5 (highest).
    ProductRisk { R1 = "R1", R2 = "R2", R3 = "R3", R4 = "R4", R5 = "R5" }
);
str_enum!(
    /// Client risk tolerance C1 (lowest) … C5 (highest): 风险承受能力.
    RiskLevel { C1 = "C1", C2 = "C2", C3 = "C3", C4 = "C4", C5 = "C5" }
);

impl ProductRisk {
    /// 1 … 5
    pub fn rank(self) -> u8 {
        self as u8 + 1
    }
}
impl RiskLevel {
    /// 1 … 5
    pub fn rank(self) -> u8 {
        self as u8 + 1
    }
}

str_enum!(
    InvestorRequirement { None = "none", Qualified = "qualified", PrivateFund = "private_fund", Professional = "professional" }
);
str_enum!(ProductStatus { OnSale = "on_sale", Closed = "closed" });
str_enum!(
    TxnKind {
        Deposit = "deposit", Withdraw = "withdraw", TransferIn = "transfer_in", TransferOut = "transfer_out",
        Buy = "buy", Sell = "sell", Redeem = "redeem", Dividend = "dividend", Fee = "fee",
    }
);
str_enum!(
    /// Where an assessment was taken or a sale made.
    Channel { Branch = "branch", Online = "online" }
);
str_enum!(
    InteractionChannel { Call = "call", Visit = "visit", Email = "email", Message = "message", Event = "event" }
);
str_enum!(
    /// 投资目标 as stated in an assessment.
    Goal { Growth = "growth", Balanced = "balanced", Preservation = "preservation" }
);
str_enum!(
    /// Who initiated a sale: the client (客户主动) or the institution (机构推荐).
    InitiatedBy { Client = "client", Advisor = "advisor" }
);

/// Parses `true` / `false`.
pub fn parse_bool(s: &str) -> Result<bool, ParseError> {
    match s {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(ParseError::new(format!("{other:?} is not true or false"))),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn every_category_has_its_line_and_default_variety() {
        assert_eq!(ProductCategory::StructuredDeposit.line(), BusinessLine::Deposit);
        assert_eq!(ProductCategory::WealthFixedIncome.line(), BusinessLine::Wealth);
        assert_eq!(ProductCategory::Insurance.default_variety(), Some(Variety::FixedIncome));
        assert_eq!(ProductCategory::Margin.default_variety(), Some(Variety::Derivative));
        assert_eq!(ProductCategory::LeveragedFund.default_variety(), Some(Variety::Complex));
        assert_eq!(ProductCategory::CreditCard.line(), BusinessLine::Credit);
        assert_eq!(ProductCategory::Loan.default_variety(), None);
        assert_eq!(ProductCategory::ALL.len(), 22);
    }

    #[test]
    fn parse_names_the_allowed_values() {
        let e = RiskLevel::parse("C6").unwrap_err();
        assert!(e.0.contains("C1, C2, C3, C4, C5"), "{e}");
        assert!(RiskLevel::C4 > RiskLevel::C3);
        assert_eq!(ProductRisk::R5.rank(), 5);
    }
}
