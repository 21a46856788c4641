//! The generated book: same seed, same bytes; the import format of PRODUCT.md
//! 7.3 to the letter; and a book that looks like a bank's (tiers 85/14/1,
//! about 4 holdings and 12 transactions a client, references that resolve).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use tierwise_domain::money::Decimal;
use tierwise_domain::*;
use tierwise_generate::{generate, GenerateOptions, Summary, FILES};

fn as_of() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2025, 6, 30).unwrap()
}

fn run(clients: u64, seed: u64, dir: &Path) -> Summary {
    let mut calls = Vec::new();
    let summary = generate(&GenerateOptions { clients, seed, as_of: as_of() }, dir, &mut |n| calls.push(n)).unwrap();
    assert_eq!(calls.last(), Some(&clients), "progress ends with the number of clients");
    assert!(calls.windows(2).all(|w| w[0] <= w[1]), "progress only grows");
    summary
}

/// A small CSV reader (RFC 4180 quoting) so the test does not trust the writer.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    field.push('"');
                    chars.next();
                }
                '"' => quoted = false,
                _ => field.push(c),
            }
        } else {
            match c {
                '"' => quoted = true,
                ',' => row.push(std::mem::take(&mut field)),
                '\n' => {
                    row.push(std::mem::take(&mut field));
                    rows.push(std::mem::take(&mut row));
                }
                '\r' => panic!("no carriage returns expected"),
                _ => field.push(c),
            }
        }
    }
    assert!(field.is_empty() && row.is_empty(), "the file ends with a line break");
    rows
}

/// One file: its header and its rows as column name → value.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn read(dir: &Path, name: &str) -> Table {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        let mut rows = parse_csv(&text);
        let header = rows.remove(0);
        for (i, r) in rows.iter().enumerate() {
            assert_eq!(r.len(), header.len(), "{name} line {}: {r:?}", i + 2);
        }
        Table { header, rows }
    }
    fn col(&self, name: &str) -> usize {
        self.header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"))
    }
    /// Values of a column, row by row.
    fn values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> + 'a {
        let i = self.col(name);
        self.rows.iter().map(move |r| r[i].as_str())
    }
}

struct Book {
    dir: PathBuf,
    summary: Summary,
    clients: Table,
    advisors: Table,
    products: Table,
    holdings: Table,
    transactions: Table,
    assessments: Table,
    interactions: Table,
}

const N: u64 = 20_000;

/// The 20,000-client book, generated once for all the tests that read it.
fn book() -> &'static Book {
    static BOOK: OnceLock<Book> = OnceLock::new();
    BOOK.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tierwise-generate-20000");
        let _ = std::fs::remove_dir_all(&dir);
        let summary = run(N, 7, &dir);
        Book {
            clients: Table::read(&dir, "clients.csv"),
            advisors: Table::read(&dir, "advisors.csv"),
            products: Table::read(&dir, "products.csv"),
            holdings: Table::read(&dir, "holdings.csv"),
            transactions: Table::read(&dir, "transactions.csv"),
            assessments: Table::read(&dir, "assessments.csv"),
            interactions: Table::read(&dir, "interactions.csv"),
            summary,
            dir,
        }
    })
}

fn date(s: &str) -> chrono::NaiveDate {
    parse_date(s).unwrap_or_else(|e| panic!("{e}"))
}

fn ts(s: &str) -> chrono::NaiveDateTime {
    assert_eq!(s.len(), 19, "{s}");
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn share(part: usize, whole: usize) -> f64 {
    part as f64 / whole as f64
}

#[test]
fn the_same_seed_gives_the_same_bytes() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let sa = run(3_000, 11, a.path());
    let sb = run(3_000, 11, b.path());
    assert_eq!(sa, sb);
    for (name, _) in FILES {
        let (x, y) = (std::fs::read(a.path().join(name)).unwrap(), std::fs::read(b.path().join(name)).unwrap());
        assert!(x == y, "{name} differs between two runs with the same seed");
    }
    let names: BTreeSet<_> =
        std::fs::read_dir(a.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    let expected: BTreeSet<_> = FILES.iter().map(|f| f.0.to_string()).collect();
    assert_eq!(names, expected, "exactly the seven files, no temporary file left");
}

#[test]
fn another_seed_gives_another_book() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    run(1_000, 1, a.path());
    run(1_000, 2, b.path());
    for name in ["clients.csv", "holdings.csv", "transactions.csv", "assessments.csv"] {
        let (x, y) = (std::fs::read(a.path().join(name)).unwrap(), std::fs::read(b.path().join(name)).unwrap());
        assert!(x != y, "{name} is the same for two seeds");
    }
}

#[test]
fn headers_are_the_columns_of_the_import_format() {
    let expected = [
        ("clients.csv", "client_id,kind,name,gender,birth_date,id_number,phone,email,occupation,city,branch_id,advisor_id,onboarded_at,household_id,annual_income,declared_financial_assets,declared_liabilities,net_assets,licensed_financial_institution,experience_years,payroll_employer_id,professional_status,material_change_at"),
        ("advisors.csv", "advisor_id,name,title,experience_years,capacity,branch_id"),
        ("products.csv", "product_id,name,category,variety,risk_level,horizon_months,min_investment,investor_requirement,annual_fee_rate,status,currency"),
        ("holdings.csv", "client_id,product_id,market_value,as_of"),
        ("transactions.csv", "txn_id,client_id,product_id,ts,kind,amount,channel"),
        ("assessments.csv", "client_id,assessed_at,channel,questionnaire_id,answers,risk_level,lowest,horizon_months,varieties,goal"),
        ("interactions.csv", "client_id,advisor_id,at,channel,topic,outcome"),
    ];
    let dir = tempfile::tempdir().unwrap();
    run(50, 3, dir.path());
    for (name, header) in expected {
        let text = std::fs::read_to_string(dir.path().join(name)).unwrap();
        assert_eq!(text.lines().next(), Some(header), "{name}");
    }
}

#[test]
fn an_empty_book_has_headers_and_the_product_shelf() {
    let dir = tempfile::tempdir().unwrap();
    let s = run(0, 3, &dir.path().join("nested/out"));
    assert_eq!((s.clients, s.advisors, s.holdings, s.transactions), (0, 0, 0, 0));
    assert!(s.products >= 150);
}

#[test]
fn ids_are_zero_padded_and_widen_with_the_book() {
    let b = book();
    assert_eq!(b.clients.rows[0][0], "C0000001");
    assert_eq!(b.advisors.rows[0][0], "A0001");
    assert_eq!(b.products.rows[0][0], "P0001");
    assert_eq!(b.transactions.rows[0][0], "T00000001");
    let ids: Vec<&str> = b.clients.values("client_id").collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "clients in id order");
    let txn: BTreeSet<&str> = b.transactions.values("txn_id").collect();
    assert_eq!(txn.len(), b.transactions.rows.len(), "txn_id unique");
    assert!(b.products.rows.len() >= 150 && b.products.rows.len() <= 300);
    assert_eq!(b.advisors.rows.len() as u64, N.div_ceil(300));
}

#[test]
fn summary_counts_the_rows_written() {
    let b = book();
    let s = b.summary;
    assert_eq!(s.clients, b.clients.rows.len() as u64);
    assert_eq!(s.advisors, b.advisors.rows.len() as u64);
    assert_eq!(s.products, b.products.rows.len() as u64);
    assert_eq!(s.holdings, b.holdings.rows.len() as u64);
    assert_eq!(s.transactions, b.transactions.rows.len() as u64);
    assert_eq!(s.assessments, b.assessments.rows.len() as u64);
    assert_eq!(s.interactions, b.interactions.rows.len() as u64);
    assert!(b.dir.join("clients.csv").exists());
}

#[test]
fn every_value_is_spelled_as_the_domain_parses_it() {
    let b = book();
    fn opt(s: &str) -> Option<&str> {
        (!s.is_empty()).then_some(s)
    }
    for r in &b.clients.rows {
        let c = |n: &str| r[b.clients.col(n)].as_str();
        let kind = ClientKind::parse(c("kind")).unwrap();
        opt(c("gender")).map(Gender::parse).transpose().unwrap();
        opt(c("birth_date")).map(parse_date).transpose().unwrap();
        parse_date(c("onboarded_at")).unwrap();
        ProfessionalStatus::parse(c("professional_status")).unwrap();
        for m in ["annual_income", "declared_financial_assets", "declared_liabilities", "net_assets"] {
            opt(c(m)).map(parse_money).transpose().unwrap();
        }
        opt(c("licensed_financial_institution")).map(parse_bool).transpose().unwrap();
        opt(c("experience_years")).map(|s| s.parse::<u32>()).transpose().unwrap();
        opt(c("material_change_at")).map(parse_date).transpose().unwrap();
        assert!(date(c("onboarded_at")) <= as_of());
        let phone = c("phone");
        assert!(phone.len() == 11 && phone.bytes().all(|b| b.is_ascii_digit()), "{phone}");
        assert!(["13", "15", "18"].contains(&&phone[..2]), "{phone}");
        assert_eq!(c("id_number").len(), 18);
        if kind == ClientKind::Person {
            assert!(!c("name").is_empty() && !c("gender").is_empty() && !c("birth_date").is_empty());
            assert!(c("net_assets").is_empty() && c("licensed_financial_institution").is_empty());
            // the identity number carries the birth date and the sex
            let id = c("id_number").as_bytes();
            assert_eq!(&c("id_number")[6..14], c("birth_date").replace('-', ""));
            assert_eq!((id[16] - b'0') % 2 == 1, c("gender") == "M");
            if let Some(e) = opt(c("email")) {
                assert!(e.contains('@') && e.is_ascii(), "{e}");
            }
        } else {
            assert!(c("gender").is_empty() && c("birth_date").is_empty());
            assert!(!c("net_assets").is_empty() && !c("licensed_financial_institution").is_empty());
        }
    }
    for r in &b.advisors.rows {
        AdvisorTitle::parse(&r[b.advisors.col("title")]).unwrap();
        r[b.advisors.col("experience_years")].parse::<u32>().unwrap();
        r[b.advisors.col("capacity")].parse::<u32>().unwrap();
    }
    for r in &b.products.rows {
        let c = |n: &str| r[b.products.col(n)].as_str();
        ProductCategory::parse(c("category")).unwrap();
        opt(c("variety")).map(Variety::parse).transpose().unwrap();
        ProductRisk::parse(c("risk_level")).unwrap();
        c("horizon_months").parse::<u32>().unwrap();
        parse_money(c("min_investment")).unwrap();
        InvestorRequirement::parse(c("investor_requirement")).unwrap();
        parse_money(c("annual_fee_rate")).unwrap();
        ProductStatus::parse(c("status")).unwrap();
        assert!(["CNY", "USD"].contains(&c("currency")));
    }
    for r in &b.holdings.rows {
        parse_money(&r[b.holdings.col("market_value")]).unwrap();
        date(&r[b.holdings.col("as_of")]);
    }
    let channels = ["branch", "online", "mobile", "atm", ""];
    for r in &b.transactions.rows {
        let c = |n: &str| r[b.transactions.col(n)].as_str();
        ts(c("ts"));
        TxnKind::parse(c("kind")).unwrap();
        assert!(parse_money(c("amount")).unwrap() > Decimal::ZERO, "amounts are positive");
        assert!(channels.contains(&c("channel")), "{}", c("channel"));
    }
    for r in &b.assessments.rows {
        let c = |n: &str| r[b.assessments.col(n)].as_str();
        ts(c("assessed_at"));
        Channel::parse(c("channel")).unwrap();
        assert_eq!(c("questionnaire_id"), "cn-default-2025");
        assert_eq!(c("answers"), "");
        let level = RiskLevel::parse(c("risk_level")).unwrap();
        if parse_bool(c("lowest")).unwrap() {
            assert_eq!(level, RiskLevel::C1);
        }
        assert!([0, 12, 36, 60].contains(&c("horizon_months").parse::<u32>().unwrap()));
        parse_varieties(c("varieties")).unwrap();
        Goal::parse(c("goal")).unwrap();
    }
    for r in &b.interactions.rows {
        ts(&r[b.interactions.col("at")]);
        InteractionChannel::parse(&r[b.interactions.col("channel")]).unwrap();
    }
}

#[test]
fn every_reference_resolves() {
    let b = book();
    let clients: BTreeSet<&str> = b.clients.values("client_id").collect();
    let advisors: BTreeSet<&str> = b.advisors.values("advisor_id").collect();
    let products: BTreeSet<&str> = b.products.values("product_id").collect();
    let institutions: BTreeMap<&str, usize> = b
        .clients
        .rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r[b.clients.col("kind")] == "institution")
        .map(|(i, r)| (r[0].as_str(), i))
        .collect();
    for (i, r) in b.clients.rows.iter().enumerate() {
        let a = &r[b.clients.col("advisor_id")];
        assert!(a.is_empty() || advisors.contains(a.as_str()), "advisor {a}");
        let e = &r[b.clients.col("payroll_employer_id")];
        if !e.is_empty() {
            let at = institutions.get(e.as_str()).unwrap_or_else(|| panic!("employer {e} is not an institution"));
            assert!(*at < i, "the employer is written before its employees");
        }
    }
    for r in &b.holdings.rows {
        assert!(clients.contains(r[0].as_str()) && products.contains(r[1].as_str()), "{r:?}");
    }
    for r in &b.transactions.rows {
        let p = &r[b.transactions.col("product_id")];
        assert!(clients.contains(r[1].as_str()), "{r:?}");
        assert!(p.is_empty() || products.contains(p.as_str()), "{r:?}");
    }
    for r in &b.assessments.rows {
        assert!(clients.contains(r[0].as_str()), "{r:?}");
    }
    for r in &b.interactions.rows {
        assert!(clients.contains(r[0].as_str()) && advisors.contains(r[1].as_str()), "{r:?}");
    }
    // one snapshot row per client, product and date
    let keys: BTreeSet<(&str, &str, &str)> =
        b.holdings.rows.iter().map(|r| (r[0].as_str(), r[1].as_str(), r[3].as_str())).collect();
    assert_eq!(keys.len(), b.holdings.rows.len(), "no duplicate holding");
}

#[test]
fn persons_are_aged_18_to_95_and_two_percent_are_institutions() {
    let b = book();
    let mut institutions = 0;
    let mut ages = Vec::new();
    for r in &b.clients.rows {
        if r[b.clients.col("kind")] == "institution" {
            institutions += 1;
            continue;
        }
        let birth = date(&r[b.clients.col("birth_date")]);
        let age = age_at(birth, as_of());
        assert!((18..=95).contains(&age), "age {age}");
        ages.push(age);
        // onboarded as an adult
        assert!(age_at(birth, date(&r[b.clients.col("onboarded_at")])) >= 18);
    }
    let s = share(institutions, b.clients.rows.len());
    assert!((0.015..=0.025).contains(&s), "institutions {s}");
    let mean = ages.iter().map(|&a| f64::from(a)).sum::<f64>() / ages.len() as f64;
    assert!((38.0..=52.0).contains(&mean), "mean age {mean}");
    assert!(ages.iter().any(|&a| a >= 65) && ages.iter().any(|&a| a < 30));
}

#[test]
fn a_leap_day_as_of_dates_everything_correctly() {
    let dir = tempfile::tempdir().unwrap();
    let d = chrono::NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
    generate(&GenerateOptions { clients: 2_000, seed: 5, as_of: d }, dir.path(), &mut |_| {}).unwrap();
    let clients = Table::read(dir.path(), "clients.csv");
    for b in clients.values("birth_date").filter(|b| !b.is_empty()) {
        assert!((18..=95).contains(&age_at(date(b), d)), "{b}");
    }
    let holdings = Table::read(dir.path(), "holdings.csv");
    let dates: BTreeSet<&str> = holdings.values("as_of").collect();
    assert!(dates.contains("2024-02-29") && dates.contains("2023-12-31"), "{dates:?}");
}

/// AUM as the classification counts it: the newest snapshot on or before
/// as-of, credit excluded.
fn aum_by_client(b: &Book) -> BTreeMap<String, Decimal> {
    let credit: BTreeSet<&str> = b
        .products
        .rows
        .iter()
        .filter(|r| matches!(r[b.products.col("category")].as_str(), "loan" | "credit_card"))
        .map(|r| r[0].as_str())
        .collect();
    let mut newest: BTreeMap<&str, chrono::NaiveDate> = BTreeMap::new();
    for r in &b.holdings.rows {
        let d = date(&r[3]);
        if d <= as_of() {
            let e = newest.entry(r[0].as_str()).or_insert(d);
            *e = (*e).max(d);
        }
    }
    let mut aum: BTreeMap<String, Decimal> =
        b.clients.values("client_id").map(|c| (c.to_string(), Decimal::ZERO)).collect();
    for r in &b.holdings.rows {
        if newest.get(r[0].as_str()) == Some(&date(&r[3])) && !credit.contains(r[1].as_str()) {
            *aum.get_mut(&r[0]).unwrap() += parse_money(&r[2]).unwrap();
        }
    }
    aum
}

#[test]
fn tiers_are_85_14_1_in_the_counted_snapshot() {
    let b = book();
    let aum = aum_by_client(b);
    let (wealth, hnw) = (Decimal::from(500_000), Decimal::from(10_000_000));
    let n = aum.len();
    let mass = aum.values().filter(|v| **v < wealth).count();
    let top = aum.values().filter(|v| **v >= hnw).count();
    let (mass, mid, top) = (share(mass, n), share(n - mass - top, n), share(top, n));
    eprintln!("tiers: mass {mass:.4} wealth {mid:.4} hnw {top:.4}");
    assert!((0.83..=0.87).contains(&mass), "mass {mass}");
    assert!((0.12..=0.16).contains(&mid), "wealth {mid}");
    assert!((0.006..=0.014).contains(&top), "hnw {top}");
}

#[test]
fn snapshots_are_mostly_current_with_some_older_and_a_few_future_ones() {
    let b = book();
    let current = b.holdings.values("as_of").filter(|d| date(d) == as_of()).count();
    let older: BTreeSet<&str> =
        b.holdings.rows.iter().filter(|r| date(&r[3]) < as_of()).map(|r| r[0].as_str()).collect();
    let future: BTreeSet<&str> =
        b.holdings.rows.iter().filter(|r| date(&r[3]) > as_of()).map(|r| r[0].as_str()).collect();
    let per_client = current as f64 / N as f64;
    eprintln!(
        "holdings in the newest snapshot per client {per_client:.2}; older {} future {}",
        older.len(),
        future.len()
    );
    assert!((3.4..=4.6).contains(&per_client), "holdings per client {per_client}");
    assert!(share(older.len(), N as usize) > 0.1);
    assert!(!future.is_empty() && share(future.len(), N as usize) < 0.02, "future snapshots {}", future.len());

    // deposit-only clients and clients with credit exist
    let category: BTreeMap<&str, &str> =
        b.products.rows.iter().map(|r| (r[0].as_str(), r[b.products.col("category")].as_str())).collect();
    let mut cats: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for r in &b.holdings.rows {
        cats.entry(r[0].as_str()).or_default().insert(category[r[1].as_str()]);
    }
    let deposit_only = cats.values().filter(|c| c.iter().all(|x| matches!(*x, "deposit" | "time_deposit"))).count();
    let credit = cats.values().filter(|c| c.contains("loan") || c.contains("credit_card")).count();
    assert!(share(deposit_only, N as usize) > 0.1, "deposit-only {deposit_only}");
    assert!(share(credit, N as usize) > 0.1, "with credit {credit}");
    let held: BTreeSet<&str> = cats.values().flatten().copied().collect();
    for c in ProductCategory::NAMES {
        assert!(held.contains(c), "nobody holds a {c}");
    }
}

#[test]
fn transactions_span_two_years_with_churn_and_large_outflows() {
    let b = book();
    let n = b.transactions.rows.len();
    let per_client = n as f64 / N as f64;
    eprintln!("transactions per client {per_client:.2}");
    assert!((10.5..=13.5).contains(&per_client), "transactions per client {per_client}");
    let d = as_of();
    let col = |name: &str| b.transactions.col(name);
    let (mut last_90, mut last_365, mut older, mut future) = (0, 0, 0, 0);
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    let mut flows: BTreeMap<&str, (Decimal, Decimal)> = BTreeMap::new();
    let mut large_outflows = 0;
    for r in &b.transactions.rows {
        let day = ts(&r[col("ts")]).date();
        let age = (d - day).num_days();
        match age {
            a if a < 0 => future += 1,
            0..=89 => last_90 += 1,
            90..=364 => last_365 += 1,
            _ => older += 1,
        }
        let kind = r[col("kind")].as_str();
        *kinds.entry(kind).or_default() += 1;
        let amount = parse_money(&r[col("amount")]).unwrap();
        let product = r[col("product_id")].as_str();
        match kind {
            "buy" | "sell" | "redeem" | "dividend" => {
                assert!(!product.is_empty(), "{kind} names its product")
            }
            _ => {}
        }
        if (0..=89).contains(&age) {
            let f = flows.entry(r[1].as_str()).or_default();
            match kind {
                "deposit" | "transfer_in" => f.0 += amount,
                "withdraw" | "transfer_out" => {
                    f.1 += amount;
                    if amount >= Decimal::from(500_000) {
                        large_outflows += 1;
                    }
                }
                _ => {}
            }
        }
    }
    assert!(last_90 > 0 && last_365 > 0 && older > 0);
    assert!(future > 0 && share(future, n) < 0.01, "future-dated {future}");
    assert!(older as f64 / n as f64 > 0.3, "two years of history");
    for k in TxnKind::NAMES {
        assert!(kinds.get(k).copied().unwrap_or(0) > 0, "no {k}");
    }
    assert!(large_outflows > 0, "single outflows of 500,000 or more");
    // churn risk as PRODUCT.md 3 computes it
    let aum = aum_by_client(b);
    let (mut high, mut medium) = (0, 0);
    for (c, (inflow, outflow)) in &flows {
        let net = *outflow - *inflow;
        let base = aum[*c] + net;
        if base > Decimal::ZERO && net > Decimal::ZERO {
            let ratio = net / base;
            if ratio >= Decimal::new(30, 2) {
                high += 1;
            } else if ratio >= Decimal::new(10, 2) {
                medium += 1;
            }
        }
    }
    eprintln!("churn: high {high} medium {medium}");
    assert!(share(high, N as usize) > 0.005 && share(high, N as usize) < 0.08, "high churn {high}");
    assert!(share(medium, N as usize) > 0.01 && share(medium, N as usize) < 0.12, "medium churn {medium}");
}

#[test]
fn assessments_are_of_every_age_and_some_clients_have_none() {
    let b = book();
    let d = as_of();
    let mut newest: BTreeMap<&str, (chrono::NaiveDate, bool)> = BTreeMap::new();
    let mut future = 0;
    for r in &b.assessments.rows {
        let at = ts(&r[1]).date();
        if at > d {
            future += 1;
            continue;
        }
        let lowest = r[b.assessments.col("lowest")] == "true";
        let e = newest.entry(r[0].as_str()).or_insert((at, lowest));
        if at >= e.0 {
            *e = (at, lowest);
        }
    }
    let persons: Vec<&str> =
        b.clients.rows.iter().filter(|r| r[b.clients.col("kind")] == "person").map(|r| r[0].as_str()).collect();
    let never = persons.iter().filter(|c| !newest.contains_key(**c)).count();
    let never = share(never, persons.len());
    assert!((0.06..=0.14).contains(&never), "never assessed {never}");
    let (mut valid, mut expiring, mut expired, mut over_24) = (0, 0, 0, 0);
    for (at, _) in newest.values() {
        let expiry = add_months_clamped(*at, 12);
        if d >= expiry {
            expired += 1;
            if d >= add_months_clamped(*at, 24) {
                over_24 += 1;
            }
        } else if (expiry - d).num_days() <= 30 {
            expiring += 1;
        } else {
            valid += 1;
        }
    }
    let all = newest.len();
    eprintln!("assessments: valid {valid} expiring {expiring} expired {expired} (over 24 months {over_24})");
    assert!(
        share(valid, all) > 0.4
            && share(expiring, all) > 0.03
            && share(expired, all) > 0.2
            && share(over_24, all) > 0.05
    );
    assert!(future > 0 && future < 100, "future-dated assessments {future}");
    let lowest = newest.values().filter(|x| x.1).count();
    assert!((0.003..=0.02).contains(&share(lowest, all)), "lowest {lowest}");
    let levels: BTreeSet<&str> = b.assessments.values("risk_level").collect();
    assert_eq!(levels.len(), 5);
}

#[test]
fn client_attributes_have_realistic_shares() {
    let b = book();
    let n = N as usize;
    let count = |col: &str, f: &dyn Fn(&str) -> bool| b.clients.values(col).filter(|v| f(v)).count();
    let payroll = share(count("payroll_employer_id", &|v| !v.is_empty()), n);
    assert!((0.07..=0.13).contains(&payroll), "payroll {payroll}");
    let advised = share(count("advisor_id", &|v| !v.is_empty()), n);
    assert!((0.8..=0.97).contains(&advised), "advised {advised}");
    let changed = share(count("material_change_at", &|v| !v.is_empty()), n);
    assert!((0.02..=0.04).contains(&changed), "material change {changed}");
    assert!(count("professional_status", &|v| v == "approved") > 0);
    assert!(count("professional_status", &|v| v == "opted_out") > 0);
    assert!(share(count("professional_status", &|v| v == "derive"), n) > 0.95);
    assert!(count("licensed_financial_institution", &|v| v == "true") > 0);
    assert!(share(count("household_id", &|v| !v.is_empty()), n) > 0.1);
    assert!(share(count("email", &|v| !v.is_empty()), n) > 0.2);
    let branches: BTreeSet<&str> = b.clients.values("branch_id").collect();
    assert_eq!(branches.len(), 20);
    let titles: BTreeSet<&str> = b.advisors.values("title").collect();
    assert_eq!(titles.len(), 4);
    let per_client = b.interactions.rows.len() as f64 / N as f64;
    assert!((0.3..=2.0).contains(&per_client), "interactions per client {per_client}");
}

#[test]
fn the_product_shelf_is_sensible() {
    let b = book();
    let c = |r: &Vec<String>, n: &str| r[b.products.col(n)].clone();
    let mut categories = BTreeSet::new();
    for r in &b.products.rows {
        let cat = ProductCategory::parse(&c(r, "category")).unwrap();
        categories.insert(cat);
        let risk = ProductRisk::parse(&c(r, "risk_level")).unwrap();
        let fee = parse_money(&c(r, "annual_fee_rate")).unwrap();
        match cat {
            ProductCategory::Deposit | ProductCategory::TimeDeposit => {
                assert_eq!(risk, ProductRisk::R1);
                assert_eq!(fee, Decimal::ZERO);
            }
            ProductCategory::PrivateFund => {
                assert_eq!(c(r, "investor_requirement"), "private_fund");
                assert_eq!(parse_money(&c(r, "min_investment")).unwrap(), Decimal::from(1_000_000));
            }
            ProductCategory::BondFund | ProductCategory::MixedFund | ProductCategory::EquityFund => {
                assert!(fee >= Decimal::new(5, 3) && fee <= Decimal::new(15, 3), "{fee}");
            }
            ProductCategory::Futures | ProductCategory::Options => {
                assert_eq!(risk, ProductRisk::R5)
            }
            _ => {}
        }
    }
    assert_eq!(categories.len(), ProductCategory::ALL.len());
    let closed = b.products.values("status").filter(|s| *s == "closed").count();
    assert!(closed > 0 && closed < b.products.rows.len() / 5);
    let explicit = b.products.values("variety").filter(|s| !s.is_empty()).count();
    assert!(explicit > 0 && explicit < b.products.rows.len() / 10);
}

#[test]
fn an_unwritable_directory_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let e = generate(&GenerateOptions { clients: 10, seed: 1, as_of: as_of() }, &file, &mut |_| {}).unwrap_err();
    assert_eq!(e.code(), "generate_create_dir");
    let e = generate(
        &GenerateOptions { clients: 10, seed: 1, as_of: chrono::NaiveDate::MAX },
        &dir.path().join("late"),
        &mut |_| {},
    )
    .unwrap_err();
    assert_eq!(e.code(), "generate_date_out_of_range");
    let left = std::fs::read_dir(dir.path().join("late")).unwrap().count();
    assert_eq!(left, 0, "a failed run leaves no file behind");
}

/// `cargo test --release -p tierwise-generate -- --ignored --nocapture million`
#[test]
#[ignore]
fn a_million_clients_in_well_under_a_minute() {
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let s = run(1_000_000, 42, dir.path());
    let elapsed = started.elapsed();
    let bytes: u64 = FILES.iter().map(|(n, _)| std::fs::metadata(dir.path().join(n)).unwrap().len()).sum();
    eprintln!("{s:?}\n1,000,000 clients in {:.2} s, {:.0} MB", elapsed.as_secs_f64(), bytes as f64 / 1e6);
    assert!(elapsed.as_secs() < 60);
}
