//! The inputs of a classification: one client's records and the products.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::HashMap;
use tierwise_domain::{AssessmentResult, BusinessLine, Channel, Client, LocalDateTime, Product, TxnKind};

/// The product catalogue, indexed for the hot loop.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub products: Vec<Product>,
    index: HashMap<String, u32>,
}

impl Catalog {
    pub fn new(products: Vec<Product>) -> Catalog {
        let index = products.iter().enumerate().map(|(i, p)| (p.product_id.clone(), i as u32)).collect();
        Catalog { products, index }
    }
    pub fn index_of(&self, product_id: &str) -> Option<u32> {
        self.index.get(product_id).copied()
    }
    /// [`Catalog::index_of`] of an id as stored bytes.
    pub fn index_of_bytes(&self, product_id: &[u8]) -> Option<u32> {
        std::str::from_utf8(product_id).ok().and_then(|p| self.index_of(p))
    }
    pub fn get(&self, index: u32) -> Option<&Product> {
        self.products.get(index as usize)
    }
    pub fn by_id(&self, product_id: &str) -> Option<&Product> {
        self.index_of(product_id).and_then(|i| self.get(i))
    }
}

/// One holding row (one product in one snapshot).
#[derive(Debug, Clone, PartialEq)]
pub struct HoldingRow {
    /// index into the catalogue
    pub product: u32,
    pub market_value: Decimal,
    pub as_of: NaiveDate,
}

/// One transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct TxnRow {
    /// local time
    pub ts: LocalDateTime,
    pub kind: TxnKind,
    pub amount: Decimal,
    /// index into the catalogue; None for cash
    pub product: Option<u32>,
}

/// One assessment.
#[derive(Debug, Clone, PartialEq)]
pub struct AssessmentRow {
    pub questionnaire_id: String,
    /// local time
    pub assessed_at: LocalDateTime,
    pub channel: Channel,
    pub result: AssessmentResult,
}

/// The dated records a classification as of `as_of` reads: holdings dated
/// on or before `as_of`, and transactions dated `transactions_from ..=
/// as_of` (the longer of the pack's activity and churn windows; see
/// [`crate::Engine::window`]). A scan may leave out every other holding and
/// transaction: the engine would ignore them. Assessments are always read
/// whole (a client has a few).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookWindow {
    pub as_of: NaiveDate,
    pub transactions_from: NaiveDate,
}

impl BookWindow {
    /// The day after `as_of`: transactions are read while `ts < next_day`.
    pub fn next_day(&self) -> NaiveDate {
        self.as_of.succ_opt().unwrap_or(self.as_of)
    }
}

/// Everything classification reads about one client.
#[derive(Debug, Clone, Default)]
pub struct ClientBook {
    pub client: Client,
    pub holdings: Vec<HoldingRow>,
    pub transactions: Vec<TxnRow>,
    pub assessments: Vec<AssessmentRow>,
}

impl ClientBook {
    /// The date of the newest holdings snapshot dated on or before `on`.
    pub fn snapshot_date(&self, on: NaiveDate) -> Option<NaiveDate> {
        self.holdings.iter().filter(|h| h.as_of <= on).map(|h| h.as_of).max()
    }

    /// The newest assessment satisfying `taken` (by time, the latest wins).
    pub fn newest_assessment(&self, taken: impl Fn(&AssessmentRow) -> bool) -> Option<&AssessmentRow> {
        self.assessments.iter().filter(|a| taken(a)).max_by_key(|a| a.assessed_at)
    }

    /// The same book restricted to what was known strictly before `t`
    /// (transactions and assessments) and to snapshots dated on or before
    /// `t`'s date — what a suitability check at `t` may see.
    pub fn as_known_before(&self, t: LocalDateTime) -> ClientBook {
        let day = t.date();
        ClientBook {
            client: self.client.clone(),
            holdings: self.holdings.iter().filter(|h| h.as_of <= day).cloned().collect(),
            transactions: self.transactions.iter().filter(|x| x.ts < t).cloned().collect(),
            assessments: self.assessments.iter().filter(|a| a.assessed_at < t).cloned().collect(),
        }
    }
}

/// The business line a transaction counts for: its product's, or deposit
/// for cash movements without a product.
pub(crate) fn txn_line(t: &TxnRow, catalog: &Catalog) -> Option<BusinessLine> {
    match t.product {
        None => Some(BusinessLine::Deposit),
        Some(i) => catalog.get(i).map(|p| p.line()),
    }
}
