//! Import against an in-memory store: each error class with its file, line,
//! column and reason; all-or-nothing; re-import as update.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Mutex;

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use tierwise_classify::{Catalog, ClientBook};
use tierwise_domain::*;
use tierwise_questionnaire::Questionnaire;
use tierwise_store::{
    BookCounts, CheckRecord, IdKind, ImportSink, RunInfo, RunWriter, ScannedClient, Store, StoreError, StoreResult,
    StoredClassification,
};

use super::*;

// ------------------------------------------------------------------ fake store

/// What the fake store holds, keyed as the real one upserts.
#[derive(Debug, Clone, Default)]
struct Book {
    advisors: BTreeMap<String, Advisor>,
    products: BTreeMap<String, Product>,
    clients: BTreeMap<String, Client>,
    holdings: BTreeMap<(String, String, NaiveDate), Holding>,
    transactions: BTreeMap<String, Transaction>,
    assessments: BTreeMap<(String, NaiveDateTime), Assessment>,
    interactions: BTreeMap<(String, NaiveDateTime, InteractionChannel), Interaction>,
}

impl Book {
    fn rows(&self) -> usize {
        self.advisors.len()
            + self.products.len()
            + self.clients.len()
            + self.holdings.len()
            + self.transactions.len()
            + self.assessments.len()
            + self.interactions.len()
    }
}

#[derive(Default)]
struct FakeStore {
    committed: Mutex<Book>,
    /// rows put, over every import (committed or not)
    puts: Mutex<Vec<(&'static str, usize)>>,
    fail_puts: bool,
    fail_known_ids: bool,
}

struct FakeSink<'a> {
    before: Book,
    book: Book,
    puts: &'a Mutex<Vec<(&'static str, usize)>>,
    fail: bool,
    fail_known_ids: bool,
}

impl FakeSink<'_> {
    fn put(&self, what: &'static str, n: usize) -> StoreResult<()> {
        if self.fail {
            return Err(StoreError::Database("disk full".into()));
        }
        self.puts.lock().unwrap().push((what, n));
        Ok(())
    }
}

impl ImportSink for FakeSink<'_> {
    fn known_ids(&mut self, kind: IdKind) -> StoreResult<HashSet<String>> {
        if self.fail_known_ids {
            return Err(StoreError::Database("connection lost".into()));
        }
        Ok(match kind {
            IdKind::Client => self.before.clients.keys().cloned().collect(),
            IdKind::Advisor => self.before.advisors.keys().cloned().collect(),
            IdKind::Product => self.before.products.keys().cloned().collect(),
        })
    }
    fn put_advisors(&mut self, rows: &[Advisor]) -> StoreResult<()> {
        self.put("advisors", rows.len())?;
        self.book.advisors.extend(rows.iter().map(|r| (r.advisor_id.clone(), r.clone())));
        Ok(())
    }
    fn put_products(&mut self, rows: &[Product]) -> StoreResult<()> {
        self.put("products", rows.len())?;
        self.book.products.extend(rows.iter().map(|r| (r.product_id.clone(), r.clone())));
        Ok(())
    }
    fn put_clients(&mut self, rows: &[Client]) -> StoreResult<()> {
        self.put("clients", rows.len())?;
        self.book.clients.extend(rows.iter().map(|r| (r.client_id.clone(), r.clone())));
        Ok(())
    }
    fn put_holdings(&mut self, rows: &[Holding]) -> StoreResult<()> {
        self.put("holdings", rows.len())?;
        let keyed = rows.iter().map(|r| ((r.client_id.clone(), r.product_id.clone(), r.as_of), r.clone()));
        self.book.holdings.extend(keyed);
        Ok(())
    }
    fn put_transactions(&mut self, rows: &[Transaction]) -> StoreResult<()> {
        self.put("transactions", rows.len())?;
        self.book.transactions.extend(rows.iter().map(|r| (r.txn_id.clone(), r.clone())));
        Ok(())
    }
    fn put_assessments(&mut self, rows: &[Assessment]) -> StoreResult<()> {
        self.put("assessments", rows.len())?;
        self.book.assessments.extend(rows.iter().map(|r| ((r.client_id.clone(), r.assessed_at), r.clone())));
        Ok(())
    }
    fn put_interactions(&mut self, rows: &[Interaction]) -> StoreResult<()> {
        self.put("interactions", rows.len())?;
        let keyed = rows.iter().map(|r| ((r.client_id.clone(), r.at, r.channel), r.clone()));
        self.book.interactions.extend(keyed);
        Ok(())
    }
}

fn not_in_test<T>() -> StoreResult<T> {
    Err(StoreError::Aborted("not in test".into()))
}

impl Store for FakeStore {
    fn migrate(&self) -> StoreResult<()> {
        Ok(())
    }
    fn import(&self, f: &mut dyn FnMut(&mut dyn ImportSink) -> StoreResult<bool>) -> StoreResult<bool> {
        let before = self.committed.lock().unwrap().clone();
        let mut sink = FakeSink {
            book: before.clone(),
            before,
            puts: &self.puts,
            fail: self.fail_puts,
            fail_known_ids: self.fail_known_ids,
        };
        let commit = f(&mut sink)?;
        if commit {
            *self.committed.lock().unwrap() = sink.book;
        }
        Ok(commit)
    }
    fn products(&self) -> StoreResult<Vec<Product>> {
        not_in_test()
    }
    fn client(&self, _: &str) -> StoreResult<Option<Client>> {
        not_in_test()
    }
    fn client_book(&self, _: &str, _: &Catalog) -> StoreResult<Option<ClientBook>> {
        not_in_test()
    }
    fn counts(&self) -> StoreResult<BookCounts> {
        not_in_test()
    }
    fn scan_books(
        &self,
        _: &Catalog,
        _: usize,
        _: Option<tierwise_classify::BookWindow>,
        _: &mut dyn FnMut(Vec<ScannedClient>) -> StoreResult<()>,
    ) -> StoreResult<()> {
        not_in_test()
    }
    fn begin_run(&self, _: NaiveDate, _: &str, _: &str, _: &str) -> StoreResult<Box<dyn RunWriter + '_>> {
        not_in_test()
    }
    fn open_run(&self) -> StoreResult<Option<tierwise_store::OpenRun>> {
        not_in_test()
    }
    fn begin_partition(
        &self,
        _: NaiveDate,
        _: &str,
        _: &str,
        _: &str,
        _: i64,
        _: i64,
    ) -> StoreResult<(tierwise_store::Partition, Box<dyn RunWriter + '_>)> {
        not_in_test()
    }
    fn scan_partition(
        &self,
        _: &Catalog,
        _: usize,
        _: &tierwise_store::Partition,
        _: Option<tierwise_classify::BookWindow>,
        _: &mut dyn FnMut(Vec<ScannedClient>) -> StoreResult<()>,
    ) -> StoreResult<()> {
        not_in_test()
    }
    #[allow(clippy::type_complexity)]
    fn begin_finish_partitions(
        &self,
    ) -> StoreResult<(tierwise_store::OpenRun, Vec<(String, rust_decimal::Decimal)>, Box<dyn RunWriter + '_>)> {
        not_in_test()
    }
    fn abandon_partitions(&self) -> StoreResult<Option<i64>> {
        not_in_test()
    }
    fn latest_run(&self) -> StoreResult<Option<RunInfo>> {
        not_in_test()
    }
    fn runs(&self) -> StoreResult<Vec<RunInfo>> {
        not_in_test()
    }
    fn scan_run(&self, _: i64, _: &mut dyn FnMut(&StoredClassification) -> StoreResult<()>) -> StoreResult<()> {
        not_in_test()
    }
    fn explanation(&self, _: i64, _: &str) -> StoreResult<Option<Vec<u8>>> {
        not_in_test()
    }
    fn run_distribution(&self, _: i64, _: &str) -> StoreResult<Vec<(String, i64)>> {
        not_in_test()
    }
    fn run_migrations(&self, _: i64, _: &str) -> StoreResult<Vec<(String, String, i64)>> {
        not_in_test()
    }
    fn pack_text(&self, _: &str, _: &str) -> StoreResult<Option<String>> {
        not_in_test()
    }
    fn record_check(&self, _: &CheckRecord) -> StoreResult<i64> {
        not_in_test()
    }
    fn audit(&self, _: &str, _: &str, _: &str, _: &str) -> StoreResult<i64> {
        not_in_test()
    }
}

// ------------------------------------------------------------------ fixtures

/// A small questionnaire: q1 A=0 B=5; q2 A=0 (12 months, fixed income,
/// preservation), B=5 (36 months, fixed income and equity, growth), C lowest.
const TQ: &str = r#"
id = "tq"
title = { zh = "测试问卷", en = "Test questionnaire" }
[[bands]]
level = "C1"
min = 0
max = 1
[[bands]]
level = "C2"
min = 2
max = 3
[[bands]]
level = "C3"
min = 4
max = 5
[[bands]]
level = "C4"
min = 6
max = 8
[[bands]]
level = "C5"
min = 9
max = 10
[[questions]]
id = "q1"
text = { zh = "收入", en = "Income" }
kind = "single"
  [[questions.options]]
  id = "A"
  text = { zh = "无", en = "None" }
  score = 0
  [[questions.options]]
  id = "B"
  text = { zh = "稳定", en = "Regular" }
  score = 5
[[questions]]
id = "q2"
text = { zh = "期限", en = "Horizon" }
kind = "single"
  [[questions.options]]
  id = "A"
  text = { zh = "一年", en = "A year" }
  score = 0
  horizon_months = 12
  varieties = ["fixed_income"]
  goal = "preservation"
  [[questions.options]]
  id = "B"
  text = { zh = "三年", en = "Three years" }
  score = 5
  horizon_months = 36
  varieties = ["fixed_income", "equity"]
  goal = "growth"
  [[questions.options]]
  id = "C"
  text = { zh = "不能承受损失", en = "Cannot bear any loss" }
  score = 0
  lowest = true
"#;

fn opts() -> ImportOptions {
    let tq = Questionnaire::parse(TQ, "tq.toml").unwrap();
    ImportOptions::new(chrono_tz::Asia::Shanghai, vec![tq])
}

const ADVISORS: &str = "\
advisor_id,name,title,experience_years,capacity,branch_id
A1,王芳,senior_advisor,8,300,B01
A2,Li Lei,advisor,,,
";

const PRODUCTS: &str = "\
product_id,name,category,variety,risk_level,horizon_months,min_investment,investor_requirement,annual_fee_rate,status,currency
P1,活期存款,deposit,,R1,0,0,none,0,on_sale,CNY
P2,Equity fund,equity_fund,,R4,12,1000.00,,0.015,,
P3,Private fund,private_fund,equity,R5,36,1000000,private_fund,0.02,closed,USD
";

/// C1's payroll employer C3 comes later in the file.
const CLIENTS: &str = "\
client_id,kind,name,gender,birth_date,advisor_id,annual_income,declared_financial_assets,licensed_financial_institution,experience_years,payroll_employer_id,professional_status
C1,person,张三,M,1980-05-01,A1,300000,2000000,,5,C3,derive
C2,,李四,F,1990-02-28,A2,,,,,,
C3,institution,某科技有限公司,,,A1,,,false,,,
";

const HOLDINGS: &str = "\
client_id,product_id,market_value,as_of
C1,P1,10000.50,2025-01-31
C1,P2,50000,2025-01-31
C2,P1,0,2025-01-31
";

const TRANSACTIONS: &str = "\
txn_id,client_id,product_id,ts,kind,amount,channel
T1,C1,P2,2025-01-05T10:00:00,buy,50000,online
T2,C1,,2025-01-06 09:30:00,deposit,1000,mobile
T3,C2,P1,2025-01-07T00:00:00Z,fee,0,
";

const ASSESSMENTS: &str = "\
client_id,assessed_at,channel,questionnaire_id,answers,risk_level,lowest,horizon_months,varieties,goal
C1,2025-01-02T10:00:00,branch,tq,q1=B;q2=B,,,,,
C2,2025-01-03T11:00:00+08:00,online,legacy-2019,,C2,false,12,fixed_income,preservation
C1,2024-01-02T10:00:00,online,tq,q1=B;q2=A,C3,false,12,fixed_income,preservation
";

/// The first row's outcome spans lines 2–3.
const INTERACTIONS: &str = "\
client_id,advisor_id,at,channel,topic,outcome
C1,A1,2025-01-10T15:00:00,call,季度回访,\"客户满意
愿意加仓\"
C2,,2025-01-11T09:00:00,visit,,
";

const FULL: [(&str, &str); 7] = [
    ("advisors.csv", ADVISORS),
    ("products.csv", PRODUCTS),
    ("clients.csv", CLIENTS),
    ("holdings.csv", HOLDINGS),
    ("transactions.csv", TRANSACTIONS),
    ("assessments.csv", ASSESSMENTS),
    ("interactions.csv", INTERACTIONS),
];

fn dir_of(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, body) in files {
        std::fs::write(dir.path().join(name), body).unwrap();
    }
    dir
}

fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let bytes: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, b.as_bytes())).collect();
    dir_of(&bytes)
}

/// The full valid set with some files replaced (an empty body removes the file).
fn full_with(changes: &[(&str, &str)]) -> tempfile::TempDir {
    let mut files: Vec<(&str, &str)> = FULL.to_vec();
    for (name, body) in changes {
        files.retain(|(n, _)| n != name);
        if !body.is_empty() {
            files.push((name, body));
        }
    }
    dir_with(&files)
}

fn run(store: &FakeStore, dir: &Path) -> ImportReport {
    import_dir(dir, store, &opts(), &mut |_, _| {}).unwrap()
}

fn import(files: &[(&str, &str)]) -> (FakeStore, ImportReport) {
    let store = FakeStore::default();
    let dir = dir_with(files);
    let report = run(&store, dir.path());
    (store, report)
}

/// Asserts the report has exactly this one error, and that nothing was stored.
fn one_error(report: &ImportReport, store: &FakeStore, file: &str, line: u64, column: Option<&str>, fragment: &str) {
    assert_eq!(report.errors.len(), 1, "{:#?}", report.errors);
    assert_error(&report.errors[0], file, line, column, fragment);
    assert_eq!(report.error_count, 1);
    assert!(!report.committed);
    assert_eq!(store.committed.lock().unwrap().rows(), 0, "nothing may be stored after an error");
}

fn assert_error(e: &RowError, file: &str, line: u64, column: Option<&str>, fragment: &str) {
    assert_eq!((e.file.as_str(), e.line, e.column.as_deref()), (file, line, column), "{e}");
    assert!(e.reason.contains(fragment), "{e:?} should contain {fragment:?}");
}

// ------------------------------------------------------------------ success

#[test]
fn a_full_valid_set_of_seven_files_is_stored_with_the_right_counts() {
    let mut seen = Vec::new();
    let store = FakeStore::default();
    let dir = full_with(&[]);
    let report = import_dir(dir.path(), &store, &opts(), &mut |f, n| seen.push((f.to_string(), n))).unwrap();
    assert_eq!(report.errors, []);
    assert_eq!(report.error_count, 0);
    assert!(report.committed);
    let counts: Vec<(&str, u64)> = report.files.iter().map(|f| (f.file.as_str(), f.rows)).collect();
    assert_eq!(
        counts,
        [
            ("advisors.csv", 2),
            ("products.csv", 3),
            ("clients.csv", 3),
            ("holdings.csv", 3),
            ("transactions.csv", 3),
            ("assessments.csv", 3),
            ("interactions.csv", 2)
        ]
    );
    assert_eq!(seen.last(), Some(&("interactions.csv".to_string(), 2)));

    let book = store.committed.lock().unwrap();
    assert_eq!(book.rows(), 19);
    // product defaults
    let p2 = &book.products["P2"];
    assert_eq!(p2.status, ProductStatus::OnSale);
    assert_eq!(p2.currency, "CNY");
    assert_eq!(p2.investor_requirement, InvestorRequirement::None);
    assert_eq!(p2.min_investment.to_string(), "1000.00");
    assert_eq!(p2.variety(), Some(Variety::Equity));
    assert_eq!(book.products["P3"].currency, "USD");
    // clients: kind absent stays absent; payroll forward reference kept
    assert_eq!(book.clients["C2"].kind, None);
    assert_eq!(book.clients["C1"].payroll_employer_id.as_deref(), Some("C3"));
    assert_eq!(book.clients["C3"].licensed_financial_institution, Some(false));
    // a UTC timestamp becomes local time
    assert_eq!(book.transactions["T3"].ts.to_string(), "2025-01-07 08:00:00");
    assert_eq!(book.transactions["T3"].amount, Decimal::ZERO);
    assert_eq!(book.transactions["T2"].product_id, None);
    // assessments: scored from answers, or pre-scored
    let scored = book.assessments.values().find(|a| a.answers.as_deref() == Some("q1=B;q2=B")).unwrap();
    assert_eq!(scored.result.level, RiskLevel::C5);
    assert_eq!(scored.result.score, Some(10));
    assert_eq!(scored.result.varieties, Some(vec![Variety::FixedIncome, Variety::Equity]));
    let legacy = book.assessments.values().find(|a| a.questionnaire_id == "legacy-2019").unwrap();
    assert_eq!((legacy.result.level, legacy.result.score, legacy.result.lowest), (RiskLevel::C2, None, false));
    // a quoted field keeps its line break
    let call = book.interactions.values().find(|i| i.channel == InteractionChannel::Call).unwrap();
    assert_eq!(call.outcome.as_deref(), Some("客户满意\n愿意加仓"));
}

#[test]
fn reimporting_a_row_with_an_existing_id_updates_it() {
    let store = FakeStore::default();
    let first = full_with(&[]);
    assert!(run(&store, first.path()).committed);
    let puts_before = store.puts.lock().unwrap().len();

    // Only clients and holdings this time: references resolve against the store.
    let clients = "client_id,name,advisor_id\nC1,张三丰,A2\nC4,New,A1\n";
    let holdings = "client_id,product_id,market_value,as_of\nC1,P1,20000,2025-01-31\nC4,P3,1,2025-02-28\n";
    let second = dir_with(&[("clients.csv", clients), ("holdings.csv", holdings)]);
    let report = run(&store, second.path());
    assert!(report.committed, "{:#?}", report.errors);
    assert!(store.puts.lock().unwrap().len() > puts_before);
    let book = store.committed.lock().unwrap();
    assert_eq!(book.clients.len(), 4);
    assert_eq!(book.clients["C1"].name.as_deref(), Some("张三丰"));
    assert_eq!(book.clients["C1"].advisor_id.as_deref(), Some("A2"));
    assert_eq!(book.holdings.len(), 4);
    let key = ("C1".to_string(), "P1".to_string(), NaiveDate::from_ymd_opt(2025, 1, 31).unwrap());
    assert_eq!(book.holdings[&key].market_value.to_string(), "20000");
}

#[test]
fn a_bom_crlf_line_ends_and_blank_lines_are_tolerated() {
    let clients = "\u{feff}client_id,name\r\nC1,A\r\n\r\nC2,B\r\n";
    let (store, report) = import(&[("clients.csv", clients)]);
    assert!(report.committed, "{:#?}", report.errors);
    assert_eq!(store.committed.lock().unwrap().clients.len(), 2);
}

#[test]
fn a_header_alone_is_a_file_of_no_rows() {
    let (_, report) = import(&[("advisors.csv", "advisor_id,name\n")]);
    assert!(report.committed);
    assert_eq!(report.files, [FileSummary { file: "advisors.csv".into(), rows: 0 }]);
}

#[test]
fn rows_are_written_in_batches_and_progress_is_reported() {
    let mut body = String::from("txn_id,client_id,ts,kind,amount\n");
    for i in 0..12_345 {
        body.push_str(&format!("T{i},C1,2025-01-01T00:00:00,deposit,{i}.5\n"));
    }
    let store = FakeStore::default();
    let dir = full_with(&[("transactions.csv", &body)]);
    let mut seen = Vec::new();
    let report = import_dir(dir.path(), &store, &opts(), &mut |f, n| {
        if f == "transactions.csv" {
            seen.push(n)
        }
    })
    .unwrap();
    assert!(report.committed, "{:#?}", report.errors);
    assert_eq!(seen, [5_000, 10_000, 12_345]);
    let txn_puts: Vec<usize> =
        store.puts.lock().unwrap().iter().filter(|(w, _)| *w == "transactions").map(|(_, n)| *n).collect();
    assert_eq!(txn_puts, [5_000, 5_000, 2_345]);
    assert_eq!(store.committed.lock().unwrap().transactions.len(), 12_345);
}

// ------------------------------------------------------------------ header errors

#[test]
fn an_unknown_column_is_an_error_on_line_1() {
    let (store, report) = import(&[("clients.csv", "client_id,colour\nC1,red\n")]);
    one_error(&report, &store, "clients.csv", 1, None, "unknown column \"colour\"");
    assert_eq!(report.errors[0].to_string(), "clients.csv:1: unknown column \"colour\"");
}

#[test]
fn a_missing_required_column_is_named() {
    let (store, report) = import(&[
        ("clients.csv", "client_id\nC1\n"),
        ("products.csv", "product_id,category,risk_level\nP1,deposit,R1\n"),
        ("holdings.csv", "client_id,product_id,market_value\nC1,P1,5\n"),
    ]);
    one_error(&report, &store, "holdings.csv", 1, None, "missing required column \"as_of\"");
}

#[test]
fn a_duplicate_column_is_an_error() {
    let (store, report) = import(&[("advisors.csv", "advisor_id,name,name\nA1,x,y\n")]);
    one_error(&report, &store, "advisors.csv", 1, None, "duplicate column \"name\"");
}

#[test]
fn a_file_without_its_id_column_does_not_make_every_reference_fail() {
    let (store, report) = import(&[
        ("clients.csv", "name\nX\n"),
        ("products.csv", "product_id,category,risk_level\nP1,deposit,R1\n"),
        ("holdings.csv", "client_id,product_id,market_value,as_of\nC1,P1,5,2025-01-01\n"),
    ]);
    one_error(&report, &store, "clients.csv", 1, None, "missing required column \"client_id\"");
}

#[test]
fn an_empty_file_is_an_error() {
    let (store, report) = import(&[("clients.csv", "")]);
    one_error(&report, &store, "clients.csv", 1, None, "empty");
}

#[test]
fn assessments_need_an_answers_or_a_risk_level_column() {
    let body = "client_id,assessed_at,channel,questionnaire_id\nC1,2025-01-01,online,tq\n";
    let (store, report) = import(&[("clients.csv", "client_id\nC1\n"), ("assessments.csv", body)]);
    one_error(&report, &store, "assessments.csv", 1, None, "\"answers\" or \"risk_level\"");
}

// ------------------------------------------------------------------ cell errors

#[test]
fn a_bad_enum_lists_the_allowed_values() {
    let (store, report) = import(&[("clients.csv", "client_id,gender\nC1,X\n")]);
    one_error(&report, &store, "clients.csv", 2, Some("gender"), "\"X\" is not one of M, F");
}

#[test]
fn a_bad_date_names_line_and_column() {
    let (store, report) = import(&[("clients.csv", "client_id,name,birth_date\nC0,a,1990-12-01\nC1,b,1990-13-01\n")]);
    one_error(&report, &store, "clients.csv", 3, Some("birth_date"), "not a valid calendar date");
    assert_eq!(report.errors[0].to_string(), "clients.csv:3: birth_date: \"1990-13-01\" is not a valid calendar date");
}

#[test]
fn a_bad_timestamp_is_an_error() {
    let txns = "txn_id,client_id,ts,kind,amount\nT1,C1,2025-01-05 25:00,buy,1\n";
    let (store, report) = import(&[("clients.csv", "client_id\nC1\n"), ("transactions.csv", txns)]);
    one_error(&report, &store, "transactions.csv", 2, Some("ts"), "not an ISO 8601 timestamp");
}

#[test]
fn money_must_be_a_plain_non_negative_decimal() {
    let holdings = "client_id,product_id,market_value,as_of\n\
                    C1,P1,\"1,234.00\",2025-01-01\n\
                    C1,P1,-5,2025-01-02\n\
                    C1,P1,¥5,2025-01-03\n\
                    C1,P1,5,2025-01-04\n";
    let (store, report) = import(&[
        ("clients.csv", "client_id\nC1\n"),
        ("products.csv", "product_id,category,risk_level\nP1,deposit,R1\n"),
        ("holdings.csv", holdings),
    ]);
    assert_eq!(report.error_count, 3, "{:#?}", report.errors);
    for (e, line) in report.errors.iter().zip(2..) {
        assert_error(e, "holdings.csv", line, Some("market_value"), "not a plain non-negative decimal");
    }
    assert!(report.errors[0].reason.contains("\"1,234.00\""));
    assert_eq!(store.committed.lock().unwrap().rows(), 0);
}

#[test]
fn counts_rates_and_currencies_are_checked() {
    let products = "product_id,category,risk_level,horizon_months,annual_fee_rate,currency\n\
                    P1,deposit,R1,-3,0.5,CNY\n\
                    P2,deposit,R1,3,1.5,cny\n";
    let (_, report) = import(&[("products.csv", products)]);
    assert_eq!(report.error_count, 3, "{:#?}", report.errors);
    assert_error(&report.errors[0], "products.csv", 2, Some("horizon_months"), "not a whole number");
    assert_error(&report.errors[1], "products.csv", 3, Some("annual_fee_rate"), "more than 1");
    assert_error(&report.errors[2], "products.csv", 3, Some("currency"), "currency code");
}

#[test]
fn a_required_cell_left_empty_is_an_error() {
    let (store, report) = import(&[("products.csv", "product_id,category,risk_level\nP1,,R1\n")]);
    one_error(&report, &store, "products.csv", 2, Some("category"), "a value is required");
}

#[test]
fn ids_may_not_have_spaces_around_them_or_exceed_64_characters() {
    let long = "X".repeat(65);
    let body = format!("client_id\n C1\n{long}\n");
    let (_, report) = import(&[("clients.csv", &body)]);
    assert_eq!(report.error_count, 2);
    assert_error(&report.errors[0], "clients.csv", 2, Some("client_id"), "spaces");
    assert_error(&report.errors[1], "clients.csv", 3, Some("client_id"), "longer than 64");
}

// ------------------------------------------------------------------ row shape

#[test]
fn a_ragged_row_is_an_error_on_its_line_and_the_file_goes_on() {
    let (store, report) = import(&[("clients.csv", "client_id,name\nC1,a\nC2,b,extra\nC3\nC4,d\n")]);
    assert_eq!(report.error_count, 2, "{:#?}", report.errors);
    assert_error(&report.errors[0], "clients.csv", 3, None, "the row has 3 fields, the header has 2");
    assert_error(&report.errors[1], "clients.csv", 4, None, "the row has 1 fields, the header has 2");
    assert_eq!(report.files[0].rows, 4);
    assert_eq!(store.committed.lock().unwrap().rows(), 0);
}

#[test]
fn invalid_utf8_names_line_and_column() {
    let store = FakeStore::default();
    let dir = dir_of(&[("clients.csv", b"client_id,name\nC1,ok\nC2,\xff\xfebad\n")]);
    let report = run(&store, dir.path());
    one_error(&report, &store, "clients.csv", 3, Some("name"), "not valid UTF-8");
}

#[test]
fn a_character_split_across_two_fields_is_invalid_utf8() {
    // "中" is E4 B8 AD: its bytes in two fields are valid together, not apart.
    let store = FakeStore::default();
    let dir = dir_of(&[("clients.csv", b"client_id,name\nC1\xe4,\xb8\xad\n")]);
    let report = run(&store, dir.path());
    assert_eq!(report.error_count, 2, "{:#?}", report.errors);
    assert_error(&report.errors[0], "clients.csv", 2, Some("client_id"), "not valid UTF-8");
    assert_error(&report.errors[1], "clients.csv", 2, Some("name"), "not valid UTF-8");
}

#[test]
fn a_quoted_field_spanning_lines_keeps_the_line_count_right() {
    let body = "client_id,name\r\nC1,\"line one\r\nline two\r\nline three\"\r\nC2,ok\r\nC3,x,y\r\n";
    let (store, report) = import(&[("clients.csv", body)]);
    one_error(&report, &store, "clients.csv", 6, None, "the row has 3 fields");
}

#[test]
fn a_row_longer_than_the_limit_is_an_error_without_being_kept() {
    let body = format!("client_id,name\nC1,{}\nC2,x,y\n", "n".repeat(2 << 20));
    let (_, report) = import(&[("clients.csv", &body)]);
    assert_eq!(report.error_count, 2);
    assert_error(&report.errors[0], "clients.csv", 2, None, "too long");
    assert_error(&report.errors[1], "clients.csv", 3, None, "3 fields");
}

// ------------------------------------------------------------------ keys and references

#[test]
fn a_duplicate_id_names_the_first_line() {
    let (store, report) = import(&[("clients.csv", "client_id\nC0001\nC2\nC0001\n")]);
    one_error(&report, &store, "clients.csv", 4, Some("client_id"), "duplicate client_id C0001 (first on line 2)");
}

#[test]
fn duplicate_keys_of_the_large_files_are_found_and_confirmed() {
    let txns = "txn_id,client_id,ts,kind,amount\n\
                T1,C1,2025-01-01,buy,1\n\
                T2,C1,2025-01-01,buy,1\n\
                T1,C1,2025-01-02,buy,1\n\
                T1,C1,2025-01-03,buy,1\n";
    // the same instant written in two offsets is the same key
    let assessments = "client_id,assessed_at,channel,questionnaire_id,risk_level\n\
                       C1,2025-01-01T08:00:00+08:00,online,x,C2\n\
                       C1,2025-01-01T00:00:00Z,online,x,C3\n";
    let holdings =
        "client_id,product_id,market_value,as_of\nC1,P1,1,2025-01-31\nC1,P1,2,2025-01-30\nC1,P1,3,2025-01-31\n";
    let interactions =
        "client_id,at,channel\nC1,2025-01-01T09:00,call\nC1,2025-01-01T09:00,visit\nC1,2025-01-01T09:00:00,call\n";
    let (store, report) = import(&[
        ("clients.csv", "client_id\nC1\n"),
        ("products.csv", "product_id,category,risk_level\nP1,deposit,R1\n"),
        ("holdings.csv", holdings),
        ("transactions.csv", txns),
        ("assessments.csv", assessments),
        ("interactions.csv", interactions),
    ]);
    assert_eq!(report.error_count, 5, "{:#?}", report.errors);
    let e = &report.errors;
    assert_error(
        &e[0],
        "holdings.csv",
        4,
        None,
        "duplicate client_id C1, product_id P1, as_of 2025-01-31 (first on line 2)",
    );
    assert_error(&e[1], "transactions.csv", 4, Some("txn_id"), "duplicate txn_id T1 (first on line 2)");
    assert_error(&e[2], "transactions.csv", 5, Some("txn_id"), "duplicate txn_id T1 (first on line 2)");
    assert_error(&e[3], "assessments.csv", 3, None, "assessed_at 2025-01-01T08:00:00 (first on line 2)");
    assert_error(&e[4], "interactions.csv", 4, None, "channel call (first on line 2)");
    assert_eq!(store.committed.lock().unwrap().rows(), 0);
}

#[test]
fn an_unresolved_reference_is_an_error() {
    let holdings = "client_id,product_id,market_value,as_of\nC1,P1,1,2025-01-31\nC1,P9,1,2025-01-31\n";
    let (store, report) = import(&[
        ("clients.csv", "client_id\nC1\n"),
        ("products.csv", "product_id,category,risk_level\nP1,deposit,R1\n"),
        ("holdings.csv", holdings),
    ]);
    one_error(&report, &store, "holdings.csv", 3, Some("product_id"), "unknown product P9");
}

#[test]
fn references_of_every_kind_are_checked() {
    let (_, report) = import(&[
        ("advisors.csv", "advisor_id\nA1\n"),
        ("clients.csv", "client_id,advisor_id\nC1,A1\nC2,A9\n"),
        ("transactions.csv", "txn_id,client_id,product_id,ts,kind,amount\nT1,C9,P9,2025-01-01,buy,1\n"),
        ("assessments.csv", "client_id,assessed_at,channel,questionnaire_id,risk_level\nC8,2025-01-01,online,x,C1\n"),
        ("interactions.csv", "client_id,advisor_id,at,channel\nC1,A7,2025-01-01,call\n"),
    ]);
    let got: Vec<(String, u64, Option<String>)> =
        report.errors.iter().map(|e| (e.file.clone(), e.line, e.column.clone())).collect();
    let want = [
        ("clients.csv", 3, "advisor_id"),
        ("transactions.csv", 2, "client_id"),
        ("transactions.csv", 2, "product_id"),
        ("assessments.csv", 2, "client_id"),
        ("interactions.csv", 2, "advisor_id"),
    ];
    let want: Vec<(String, u64, Option<String>)> =
        want.iter().map(|(f, l, c)| (f.to_string(), *l, Some(c.to_string()))).collect();
    assert_eq!(got, want, "{:#?}", report.errors);
}

#[test]
fn a_payroll_employer_may_come_later_in_the_file_but_must_exist() {
    let ok = "client_id,payroll_employer_id\nC1,E1\nE1,\n";
    let (_, report) = import(&[("clients.csv", ok)]);
    assert!(report.committed, "{:#?}", report.errors);

    // The unresolved reference is found at the end of the file but reported in line order.
    let bad = "client_id,payroll_employer_id,gender\nC1,E9,M\nC2,,X\n";
    let (store, report) = import(&[("clients.csv", bad)]);
    assert_eq!(report.error_count, 2);
    assert_error(&report.errors[0], "clients.csv", 2, Some("payroll_employer_id"), "unknown client E9");
    assert_error(&report.errors[1], "clients.csv", 3, Some("gender"), "not one of");
    assert_eq!(store.committed.lock().unwrap().rows(), 0);
}

// ------------------------------------------------------------------ assessments

fn assess(rows: &str) -> (FakeStore, ImportReport) {
    let body = format!(
        "client_id,assessed_at,channel,questionnaire_id,answers,risk_level,lowest,horizon_months,varieties,goal\n{rows}"
    );
    import(&[("clients.csv", "client_id\nC1\n"), ("assessments.csv", &body)])
}

#[test]
fn pre_scored_values_agreeing_with_the_answers_are_accepted() {
    let (store, report) = assess("C1,2025-01-01,online,tq,q1=B;q2=B,C5,false,36,equity|fixed_income,growth\n");
    assert!(report.committed, "{:#?}", report.errors);
    let book = store.committed.lock().unwrap();
    let a = book.assessments.values().next().unwrap();
    assert_eq!(a.result.level, RiskLevel::C5);
    assert_eq!(a.answers.as_deref(), Some("q1=B;q2=B"));
}

#[test]
fn pre_scored_values_disagreeing_with_the_answers_are_errors() {
    let (store, report) = assess("C1,2025-01-01,online,tq,q1=B;q2=A,C4,,,,\n");
    one_error(
        &report,
        &store,
        "assessments.csv",
        2,
        Some("risk_level"),
        "risk_level C4 disagrees with the answers, which score C3",
    );

    let (_, report) = assess("C1,2025-01-01,online,tq,q1=B;q2=A,,true,36,equity,growth\n");
    let cols: Vec<_> = report.errors.iter().map(|e| e.column.as_deref().unwrap()).collect();
    assert_eq!(cols, ["lowest", "horizon_months", "varieties", "goal"], "{:#?}", report.errors);
    assert!(report.errors[1].reason.contains("horizon_months 36 disagrees with the answers, which give 12"));
}

#[test]
fn answers_with_an_unknown_option_are_an_error_on_the_answers_column() {
    let (store, report) = assess("C1,2025-01-01,online,tq,q1=Z;q2=A,,,,,\n");
    one_error(&report, &store, "assessments.csv", 2, Some("answers"), "option Z does not exist");
}

#[test]
fn answers_need_a_known_questionnaire() {
    let (store, report) = assess("C1,2025-01-01,online,nope,q1=A;q2=A,,,,,\n");
    one_error(&report, &store, "assessments.csv", 2, Some("questionnaire_id"), "unknown questionnaire nope");
}

#[test]
fn the_lowest_category_is_always_c1() {
    let (store, report) = assess("C1,2025-01-01,online,legacy,,C3,true,,,\n");
    one_error(&report, &store, "assessments.csv", 2, Some("lowest"), "always C1");
    let (_, report) = assess("C1,2025-01-01,online,legacy,,C1,true,,,\n");
    assert!(report.committed);
    let (_, report) = assess("C1,2025-01-01,online,tq,q1=B;q2=C,,true,,,\n");
    assert!(report.committed, "{:#?}", report.errors);
}

#[test]
fn an_assessment_without_answers_or_risk_level_is_an_error() {
    let (store, report) = assess("C1,2025-01-01,online,legacy,,,false,12,,\n");
    one_error(&report, &store, "assessments.csv", 2, None, "either answers or risk_level is required");
}

// ------------------------------------------------------------------ all or nothing, report

#[test]
fn nothing_is_written_when_any_row_is_wrong() {
    let bad_last = format!("{INTERACTIONS}C1,,2025-01-12T09:00:00,fax,,\n");
    let store = FakeStore::default();
    let dir = full_with(&[("interactions.csv", &bad_last)]);
    let report = run(&store, dir.path());
    assert_eq!(report.error_count, 1);
    assert_error(&report.errors[0], "interactions.csv", 5, Some("channel"), "\"fax\" is not one of");
    assert!(!report.committed);
    // the first six files were put in the transaction, and rolled back
    assert!(!store.puts.lock().unwrap().is_empty());
    assert_eq!(store.committed.lock().unwrap().rows(), 0);
}

#[test]
fn errors_come_in_file_then_line_order_and_only_the_first_are_kept() {
    let clients = "client_id,gender\nC1,X\nC2,Y\nC3,Z\n";
    let advisors = "advisor_id,title\nA1,boss\nA2,chief\n";
    let store = FakeStore::default();
    let dir = dir_with(&[("clients.csv", clients), ("advisors.csv", advisors)]);
    let mut o = opts();
    o.max_reported_errors = 3;
    let report = import_dir(dir.path(), &store, &o, &mut |_, _| {}).unwrap();
    assert_eq!(report.error_count, 5);
    let got: Vec<(&str, u64)> = report.errors.iter().map(|e| (e.file.as_str(), e.line)).collect();
    assert_eq!(got, [("advisors.csv", 2), ("advisors.csv", 3), ("clients.csv", 2)]);
}

#[test]
fn deferred_errors_take_their_place_among_the_kept_ones() {
    let clients = "client_id,payroll_employer_id,gender\nC1,E9,\nC2,,X\nC3,,Y\n";
    let store = FakeStore::default();
    let dir = dir_with(&[("clients.csv", clients)]);
    let mut o = opts();
    o.max_reported_errors = 2;
    let report = import_dir(dir.path(), &store, &o, &mut |_, _| {}).unwrap();
    assert_eq!(report.error_count, 3);
    let got: Vec<u64> = report.errors.iter().map(|e| e.line).collect();
    assert_eq!(got, [2, 3]);
}

#[test]
fn a_directory_without_import_files_is_an_error() {
    let dir = dir_with(&[("readme.txt", "hello")]);
    let err = import_dir(dir.path(), &FakeStore::default(), &opts(), &mut |_, _| {}).unwrap_err();
    assert!(matches!(err, ImportError::NoFiles(_)), "{err}");
    assert_eq!(err.code(), "import_no_files");
}

#[test]
fn an_import_file_that_is_not_a_file_is_an_io_error() {
    let dir = dir_with(&[]);
    std::fs::create_dir(dir.path().join("clients.csv")).unwrap();
    let err = import_dir(dir.path(), &FakeStore::default(), &opts(), &mut |_, _| {}).unwrap_err();
    assert!(matches!(err, ImportError::Io { .. }), "{err}");
}

#[test]
fn a_store_failure_aborts_the_import() {
    let store = FakeStore { fail_puts: true, ..FakeStore::default() };
    let dir = dir_with(&[("clients.csv", "client_id\nC1\n")]);
    let err = import_dir(dir.path(), &store, &opts(), &mut |_, _| {}).unwrap_err();
    assert!(matches!(err, ImportError::Store(StoreError::Database(_))), "{err}");
    assert_eq!(store.committed.lock().unwrap().rows(), 0);
}

#[test]
fn a_store_failure_while_resolving_references_aborts_the_import() {
    let store = FakeStore { fail_known_ids: true, ..FakeStore::default() };
    let dir = dir_with(&[("holdings.csv", "client_id,product_id,market_value,as_of\nC1,P1,1,2025-01-01\n")]);
    let err = import_dir(dir.path(), &store, &opts(), &mut |_, _| {}).unwrap_err();
    assert!(matches!(err, ImportError::Store(StoreError::Database(_))), "{err}");
}

#[test]
fn arbitrary_bytes_never_panic() {
    // A small deterministic generator of CSV-ish garbage.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let alphabet: &[u8] = b"C1P2A,\"\r\n;=|-.0123456789:TZ+ \xff\xe4\xb8\xad\xef\xbb\xbfabc";
    for round in 0..60 {
        let mut files: Vec<(&str, Vec<u8>)> = Vec::new();
        for (name, body) in FULL {
            let mut bytes = body.as_bytes().to_vec();
            for _ in 0..(next() % 40) {
                let at = (next() as usize) % (bytes.len() + 1);
                let b = alphabet[(next() as usize) % alphabet.len()];
                match next() % 3 {
                    0 => bytes.insert(at, b),
                    1 if at < bytes.len() => bytes[at] = b,
                    _ if at < bytes.len() => {
                        bytes.remove(at);
                    }
                    _ => {}
                }
            }
            if round % 7 == 0 {
                bytes.truncate((next() as usize) % (bytes.len() + 1));
            }
            files.push((name, bytes));
        }
        let refs: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, b.as_slice())).collect();
        let store = FakeStore::default();
        let dir = dir_of(&refs);
        let report = run(&store, dir.path());
        let stored = store.committed.lock().unwrap().rows();
        assert_eq!(report.committed, report.error_count == 0, "round {round}");
        if !report.committed {
            assert_eq!(stored, 0, "round {round}");
        }
        for e in &report.errors {
            assert!(e.line >= 1 && !e.reason.is_empty(), "round {round}: {e}");
        }
    }
}
