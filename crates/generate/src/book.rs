//! One client at a time: draw the client's whole story (wealth, age, risk
//! tolerance, assessments, holdings, transactions, contacts), then write its
//! rows. Nothing of a client is kept once written, except the few institution
//! ids later clients may name as their payroll employer.

use crate::catalog::Catalog;
use crate::lists::*;
use crate::out::{digit_count, Sink};
use crate::{GenerateError, GenerateOptions, Summary};
use chrono::{Datelike, Days, Months, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::Path;
use tierwise_domain::{
    age_at, AdvisorTitle, BusinessLine, Channel, Goal, InteractionChannel, ProductCategory as Cat, RiskLevel, TxnKind,
};

/// The earliest day the calendar formats, relative to as-of (a 95-year-old's birth and more).
const MIN_REL: i32 = -(97 * 366);
/// The latest day, relative to as-of (future-dated rows).
const MAX_REL: i32 = 400;
/// Transactions of one client never exceed this (it bounds the width of transaction ids).
const MAX_TXNS_PER_CLIENT: u64 = 64;
/// Clients per advisor.
const CLIENTS_PER_ADVISOR: u64 = 300;
/// At most this many institutions are remembered as possible payroll employers.
const EMPLOYER_POOL: usize = 5_000;
/// Recent households a new household member may join.
const HOUSEHOLD_RING: usize = 64;

/// `progress` is called after this many clients.
const PROGRESS_EVERY: u64 = 10_000;

const QUESTIONNAIRE: &str = "cn-default-2025";

// Wealth: ln(AUM in CNY) ~ N(mu, sigma), calibrated so that about 85 % of
// clients are below 500,000 (mass), 14 % below 10,000,000 (wealth) and 1 %
// above (hnw), institutions (2 %, richer) included.
const PERSON_MU: f64 = 10.774;
const PERSON_SIGMA: f64 = 2.148;
const INSTITUTION_MU: f64 = 14.51;
const INSTITUTION_SIGMA: f64 = 1.8;
const INSTITUTION_SHARE: f64 = 0.02;

const WEALTH_CENTS: u64 = 500_000 * 100;
const HNW_CENTS: u64 = 10_000_000 * 100;

/// Formatted dates around as-of, so that rows are written without calendar work.
pub(crate) struct Calendar {
    as_of: NaiveDate,
    dates: Vec<[u8; 10]>,
}

impl Calendar {
    pub fn new(as_of: NaiveDate) -> Result<Calendar, GenerateError> {
        let out_of_range = || GenerateError::DateOutOfRange(as_of);
        let start = as_of.checked_sub_days(Days::new(MIN_REL.unsigned_abs().into())).ok_or_else(out_of_range)?;
        let end = as_of.checked_add_days(Days::new(MAX_REL as u64)).ok_or_else(out_of_range)?;
        if start.year() < 1 || end.year() > 9999 {
            return Err(out_of_range());
        }
        let mut dates = Vec::with_capacity((MAX_REL - MIN_REL + 1) as usize);
        let mut d = start;
        loop {
            let mut s = [0u8; 10];
            let (y, m, day) = (d.year() as u32, d.month(), d.day());
            for (i, b) in [y / 1000 % 10, y / 100 % 10, y / 10 % 10, y % 10].into_iter().enumerate() {
                s[i] = b'0' + b as u8;
            }
            s[4] = b'-';
            s[5] = b'0' + (m / 10) as u8;
            s[6] = b'0' + (m % 10) as u8;
            s[7] = b'-';
            s[8] = b'0' + (day / 10) as u8;
            s[9] = b'0' + (day % 10) as u8;
            dates.push(s);
            if d >= end {
                break;
            }
            d = d.succ_opt().ok_or_else(out_of_range)?;
        }
        Ok(Calendar { as_of, dates })
    }

    /// The date `rel` days from as-of, formatted (clamped to the calendar's range).
    pub fn date(&self, rel: i32) -> &[u8; 10] {
        const FALLBACK: [u8; 10] = *b"1970-01-01";
        let i = (rel.clamp(MIN_REL, MAX_REL) - MIN_REL) as usize;
        self.dates.get(i).unwrap_or(&FALLBACK)
    }

    /// Days from as-of to `d`.
    pub fn rel(&self, d: NaiveDate) -> i32 {
        (d - self.as_of).num_days().clamp(MIN_REL.into(), MAX_REL.into()) as i32
    }
}

// ---------------------------------------------------------------- randomness

fn chance(rng: &mut ChaCha8Rng, p: f64) -> bool {
    rng.gen::<f64>() < p
}

fn uniform(rng: &mut ChaCha8Rng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * rng.gen::<f64>()
}

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1 = 1.0 - rng.gen::<f64>();
    let u2 = rng.gen::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// One element of a constant, non-empty list.
fn pick<T: Copy>(rng: &mut ChaCha8Rng, xs: &[T]) -> T {
    xs[rng.gen_range(0..xs.len())]
}

/// One element of a constant, non-empty weighted list.
fn weighted<T: Copy>(rng: &mut ChaCha8Rng, xs: &[(T, u32)]) -> T {
    let total: u32 = xs.iter().map(|x| x.1).sum();
    let mut r = rng.gen_range(0..total.max(1));
    for &(x, w) in xs {
        if r < w {
            return x;
        }
        r -= w;
    }
    xs[xs.len() - 1].0
}

/// A random second of the day between the two hours.
fn time_between(rng: &mut ChaCha8Rng, from_hour: u32, to_hour: u32) -> u32 {
    rng.gen_range(from_hour * 3600..to_hour * 3600)
}

fn cents_f(x: f64) -> u64 {
    if x.is_finite() && x > 0.0 {
        x.round() as u64
    } else {
        0
    }
}

/// Rounds cents down to a multiple of `step` cents, keeping at least `step`.
fn round_down(cents: u64, step: u64) -> u64 {
    (cents / step * step).max(step)
}

// ---------------------------------------------------------------- advisors

struct Advisors {
    count: u64,
    width: usize,
    /// advisor indices per branch: [assistants and advisors, senior advisors, private bankers]
    per_branch: Vec<[Vec<u32>; 3]>,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Tier {
    Mass,
    Wealth,
    Hnw,
}

fn tier(aum_cents: u64) -> Tier {
    if aum_cents >= HNW_CENTS {
        Tier::Hnw
    } else if aum_cents >= WEALTH_CENTS {
        Tier::Wealth
    } else {
        Tier::Mass
    }
}

impl Advisors {
    fn write(rng: &mut ChaCha8Rng, clients: u64, sink: &mut Sink) -> Advisors {
        let count = clients.div_ceil(CLIENTS_PER_ADVISOR);
        let width = digit_count(count).max(4);
        let mut per_branch: Vec<[Vec<u32>; 3]> = (0..BRANCHES).map(|_| Default::default()).collect();
        let mut name = String::new();
        for i in 0..count {
            let branch = (i % u64::from(BRANCHES)) as u32;
            let title = weighted(
                rng,
                &[
                    (AdvisorTitle::Assistant, 15),
                    (AdvisorTitle::Advisor, 50),
                    (AdvisorTitle::SeniorAdvisor, 25),
                    (AdvisorTitle::PrivateBanker, 10),
                ],
            );
            let (years, capacity) = match title {
                AdvisorTitle::Assistant => (rng.gen_range(0..=3), 300),
                AdvisorTitle::Advisor => (rng.gen_range(2..=10), 400),
                AdvisorTitle::SeniorAdvisor => (rng.gen_range(5..=20), 350),
                AdvisorTitle::PrivateBanker => (rng.gen_range(8..=25), 150),
            };
            let group = match title {
                AdvisorTitle::Assistant | AdvisorTitle::Advisor => 0,
                AdvisorTitle::SeniorAdvisor => 1,
                AdvisorTitle::PrivateBanker => 2,
            };
            if let Some(b) = per_branch.get_mut(branch as usize) {
                b[group].push(i as u32);
            }
            let female = chance(rng, 0.5);
            person_name(rng, female, &mut name, None);
            sink.row()
                .id("A", i + 1, width)
                .text(&name)
                .raw(title.as_str().as_bytes())
                .uint(years)
                .uint(capacity + rng.gen_range(0..=5) * 10)
                .id("B", u64::from(branch) + 1, 2)
                .end();
        }
        Advisors { count, width, per_branch }
    }

    /// An advisor of the branch suited to the client's tier (0-based index), or
    /// any advisor when the branch has none.
    fn assign(&self, rng: &mut ChaCha8Rng, branch: u32, tier: Tier) -> Option<u32> {
        if self.count == 0 {
            return None;
        }
        let groups = self.per_branch.get(branch as usize)?;
        let preference: [usize; 3] = match tier {
            Tier::Hnw => [2, 1, 0],
            Tier::Wealth => {
                if chance(rng, 0.3) {
                    [2, 1, 0]
                } else if chance(rng, 0.85) {
                    [1, 2, 0]
                } else {
                    [0, 1, 2]
                }
            }
            Tier::Mass => [0, 1, 2],
        };
        for g in preference {
            let list = &groups[g];
            if !list.is_empty() {
                return Some(list[rng.gen_range(0..list.len())]);
            }
        }
        Some(rng.gen_range(0..self.count) as u32)
    }
}

// ---------------------------------------------------------------- names and ids

/// A Chinese name (surname + one or two characters); with `email`, also an
/// address at a reserved example domain spelled from the name's pinyin.
fn person_name(rng: &mut ChaCha8Rng, female: bool, name: &mut String, email: Option<&mut String>) {
    name.clear();
    // common surnames are much more common
    let u: f64 = rng.gen();
    let si = ((SURNAMES.len() as f64) * u.powf(1.8)) as usize;
    let (surname, surname_py) = SURNAMES[si.min(SURNAMES.len() - 1)];
    let chars = if female { GIVEN_F } else { GIVEN_M };
    let (g1, p1) = pick(rng, chars);
    let second = if chance(rng, 0.65) { Some(pick(rng, chars)) } else { None };
    name.push_str(surname);
    name.push_str(g1);
    if let Some((g2, _)) = second {
        name.push_str(g2);
    }
    if let Some(email) = email {
        email.clear();
        email.push_str(p1);
        if let Some((_, p2)) = second {
            email.push_str(p2);
        }
        if chance(rng, 0.5) {
            email.push('.');
        }
        email.push_str(surname_py);
        if chance(rng, 0.7) {
            let n: u32 = rng.gen_range(1..1000);
            email.push_str(&n.to_string());
        }
        email.push('@');
        email.push_str(pick(rng, EMAIL_DOMAINS));
    }
}

/// A resident identity card number (GB 11643): district, birth date, sequence
/// (odd for men) and the ISO 7064 MOD 11-2 check character. Synthetic.
fn id_number_for(rng: &mut ChaCha8Rng, district: &str, birth: &[u8; 10], female: bool) -> [u8; 18] {
    let mut s = [b'0'; 18];
    s[..6].copy_from_slice(&district.as_bytes()[..6.min(district.len())]);
    s[6..10].copy_from_slice(&birth[0..4]);
    s[10..12].copy_from_slice(&birth[5..7]);
    s[12..14].copy_from_slice(&birth[8..10]);
    let seq: u32 = rng.gen_range(0..100);
    let sex_digit = rng.gen_range(0..5) * 2 + u32::from(!female);
    s[14] = b'0' + (seq / 10) as u8;
    s[15] = b'0' + (seq % 10) as u8;
    s[16] = b'0' + sex_digit as u8;
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = s[..17].iter().zip(W).map(|(c, w)| u32::from(c.wrapping_sub(b'0')) * w).sum();
    s[17] = b"10X98765432"[(sum % 11) as usize];
    s
}

/// A unified social credit code (GB 32100) for a company: "91", district,
/// organisation code, check character. Synthetic.
fn credit_code(rng: &mut ChaCha8Rng, district: &str) -> [u8; 18] {
    const CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    const W: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
    let mut s = [b'0'; 18];
    s[0] = b'9';
    s[1] = b'1';
    s[2..8].copy_from_slice(&district.as_bytes()[..6.min(district.len())]);
    for c in s.iter_mut().take(17).skip(8) {
        *c = CHARSET[rng.gen_range(0..31)];
    }
    let value = |c: u8| CHARSET.iter().position(|&x| x == c).unwrap_or(0) as u32;
    let sum: u32 = s[..17].iter().zip(W).map(|(&c, w)| value(c) * w).sum();
    s[17] = CHARSET[((31 - sum % 31) % 31) as usize];
    s
}

// ---------------------------------------------------------------- per-client records

#[derive(Clone, Copy)]
struct Assessment {
    rel: i32,
    secs: u32,
    channel: Channel,
    level: RiskLevel,
    lowest: bool,
    horizon: u32,
    varieties: &'static str,
    goal: Goal,
}

#[derive(Clone, Copy)]
struct Txn {
    rel: i32,
    secs: u32,
    kind: TxnKind,
    product: Option<u16>,
    cents: u64,
    channel: Option<&'static str>,
}

#[derive(Clone, Copy)]
struct Contact {
    rel: i32,
    secs: u32,
    advisor: u32,
    channel: InteractionChannel,
    topic: &'static str,
    outcome: &'static str,
}

/// Buffers reused from one client to the next.
#[derive(Default)]
struct Scratch {
    name: String,
    email: String,
    assessments: Vec<Assessment>,
    /// the counted snapshot (product, cents); index 0 is the current account
    holdings: Vec<(u16, u64)>,
    older: Vec<(u16, u64)>,
    future: Vec<(u16, u64)>,
    txns: Vec<Txn>,
    contacts: Vec<Contact>,
}

fn add_holding(h: &mut Vec<(u16, u64)>, product: u16, cents: u64) {
    if cents == 0 {
        return;
    }
    match h.iter_mut().find(|x| x.0 == product) {
        Some(x) => x.1 += cents,
        None => h.push((product, cents)),
    }
}

/// Categories a client of each risk level (C1…C5) typically holds, with weights.
const MENUS: [&[(Cat, u32)]; 5] = [
    &[
        (Cat::TimeDeposit, 35),
        (Cat::StructuredDeposit, 15),
        (Cat::MoneyFund, 30),
        (Cat::Bond, 8),
        (Cat::Insurance, 12),
        (Cat::WealthFixedIncome, 10),
    ],
    &[
        (Cat::TimeDeposit, 22),
        (Cat::StructuredDeposit, 14),
        (Cat::MoneyFund, 16),
        (Cat::BondFund, 14),
        (Cat::WealthFixedIncome, 24),
        (Cat::Bond, 4),
        (Cat::Insurance, 10),
    ],
    &[
        (Cat::TimeDeposit, 14),
        (Cat::StructuredDeposit, 10),
        (Cat::MoneyFund, 10),
        (Cat::BondFund, 14),
        (Cat::WealthFixedIncome, 20),
        (Cat::MixedFund, 16),
        (Cat::IndexFund, 6),
        (Cat::Insurance, 8),
        (Cat::Trust, 3),
    ],
    &[
        (Cat::TimeDeposit, 10),
        (Cat::StructuredDeposit, 6),
        (Cat::MoneyFund, 8),
        (Cat::BondFund, 10),
        (Cat::WealthFixedIncome, 14),
        (Cat::MixedFund, 14),
        (Cat::EquityFund, 12),
        (Cat::IndexFund, 10),
        (Cat::QdiiFund, 5),
        (Cat::Stock, 4),
        (Cat::Insurance, 6),
        (Cat::Trust, 4),
        (Cat::PrivateFund, 3),
    ],
    &[
        (Cat::TimeDeposit, 6),
        (Cat::StructuredDeposit, 4),
        (Cat::MoneyFund, 6),
        (Cat::BondFund, 6),
        (Cat::WealthFixedIncome, 10),
        (Cat::MixedFund, 10),
        (Cat::EquityFund, 14),
        (Cat::IndexFund, 10),
        (Cat::QdiiFund, 7),
        (Cat::Stock, 8),
        (Cat::Insurance, 3),
        (Cat::Trust, 4),
        (Cat::PrivateFund, 6),
        (Cat::StructuredNote, 4),
        (Cat::LeveragedFund, 2),
        (Cat::Futures, 2),
        (Cat::Options, 2),
        (Cat::Margin, 2),
    ],
];

const RISK_LEVELS: [RiskLevel; 5] = [RiskLevel::C1, RiskLevel::C2, RiskLevel::C3, RiskLevel::C4, RiskLevel::C5];

/// Horizon, accepted varieties and goal typical of a risk level (with noise).
fn profile(rng: &mut ChaCha8Rng, level: RiskLevel) -> (u32, &'static str, Goal) {
    const FI: &str = "fixed_income";
    const FE: &str = "fixed_income|equity";
    const FED: &str = "fixed_income|equity|derivative";
    const ALL: &str = "fixed_income|equity|derivative|complex";
    match level {
        RiskLevel::C1 => {
            (weighted(rng, &[(12, 80), (36, 20)]), FI, weighted(rng, &[(Goal::Preservation, 85), (Goal::Balanced, 15)]))
        }
        RiskLevel::C2 => (
            weighted(rng, &[(12, 55), (36, 45)]),
            weighted(rng, &[(FI, 70), (FE, 30)]),
            weighted(rng, &[(Goal::Preservation, 55), (Goal::Balanced, 40), (Goal::Growth, 5)]),
        ),
        RiskLevel::C3 => (
            weighted(rng, &[(12, 20), (36, 60), (60, 20)]),
            weighted(rng, &[(FE, 85), (FI, 15)]),
            weighted(rng, &[(Goal::Balanced, 65), (Goal::Growth, 20), (Goal::Preservation, 15)]),
        ),
        RiskLevel::C4 => (
            weighted(rng, &[(36, 40), (60, 45), (0, 15)]),
            weighted(rng, &[(FE, 60), (FED, 40)]),
            weighted(rng, &[(Goal::Growth, 60), (Goal::Balanced, 35), (Goal::Preservation, 5)]),
        ),
        RiskLevel::C5 => (
            weighted(rng, &[(60, 50), (0, 40), (36, 10)]),
            weighted(rng, &[(FED, 40), (ALL, 50), (FE, 10)]),
            weighted(rng, &[(Goal::Growth, 85), (Goal::Balanced, 15)]),
        ),
    }
}

// ---------------------------------------------------------------- the book

pub(crate) struct Sinks {
    pub advisors: Sink,
    pub products: Sink,
    pub clients: Sink,
    pub holdings: Sink,
    pub transactions: Sink,
    pub assessments: Sink,
    pub interactions: Sink,
}

impl Sinks {
    /// Opens the seven files of `crate::FILES` in `dir`.
    pub fn create(dir: &Path) -> Result<Sinks, GenerateError> {
        let [a, p, c, h, t, s, i] = crate::FILES;
        Ok(Sinks {
            advisors: Sink::create(dir, a)?,
            products: Sink::create(dir, p)?,
            clients: Sink::create(dir, c)?,
            holdings: Sink::create(dir, h)?,
            transactions: Sink::create(dir, t)?,
            assessments: Sink::create(dir, s)?,
            interactions: Sink::create(dir, i)?,
        })
    }

    /// Gives every file its final name.
    pub fn finish(mut self) -> Result<(), GenerateError> {
        for sink in [
            &mut self.advisors,
            &mut self.products,
            &mut self.clients,
            &mut self.holdings,
            &mut self.transactions,
            &mut self.assessments,
            &mut self.interactions,
        ] {
            sink.finish()?;
        }
        Ok(())
    }
}

struct Book<'a> {
    rng: ChaCha8Rng,
    cal: Calendar,
    shelf: &'a Catalog,
    advisors: Advisors,
    client_width: usize,
    txn_width: usize,
    /// the latest quarter-end strictly before as-of (days from as-of)
    prev_quarter_end: i32,
    employers: Vec<u64>,
    households: Vec<u64>,
    next_txn: u64,
    s: Scratch,
}

pub(crate) fn write(
    opts: &GenerateOptions,
    sinks: &mut Sinks,
    progress: &mut dyn FnMut(u64),
) -> Result<Summary, GenerateError> {
    let cal = Calendar::new(opts.as_of)?;
    let shelf = Catalog::new();
    write_products(&shelf, &mut sinks.products);
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let advisors = Advisors::write(&mut rng, opts.clients, &mut sinks.advisors);
    let prev_quarter_end = cal.rel(previous_quarter_end(opts.as_of));
    let mut book = Book {
        rng,
        cal,
        shelf: &shelf,
        advisors,
        client_width: digit_count(opts.clients).max(7),
        txn_width: digit_count(opts.clients.saturating_mul(MAX_TXNS_PER_CLIENT)).max(8),
        prev_quarter_end,
        employers: Vec::new(),
        households: Vec::new(),
        next_txn: 1,
        s: Scratch::default(),
    };
    progress(0);
    let mut reported = 0;
    for n in 1..=opts.clients {
        book.client(n, sinks);
        for sink in [
            &mut sinks.clients,
            &mut sinks.holdings,
            &mut sinks.transactions,
            &mut sinks.assessments,
            &mut sinks.interactions,
        ] {
            sink.flush_if_full()?;
        }
        if n - reported >= PROGRESS_EVERY {
            progress(n);
            reported = n;
        }
    }
    if reported != opts.clients {
        progress(opts.clients);
    }
    Ok(Summary {
        clients: sinks.clients.rows,
        advisors: sinks.advisors.rows,
        products: sinks.products.rows,
        holdings: sinks.holdings.rows,
        transactions: sinks.transactions.rows,
        assessments: sinks.assessments.rows,
        interactions: sinks.interactions.rows,
    })
}

/// The last day of the quarter before the one `d` is in, or of the previous
/// quarter when `d` is itself a quarter-end… strictly before `d` either way.
fn previous_quarter_end(d: NaiveDate) -> NaiveDate {
    let quarter_start_month = (d.month0() / 3) * 3 + 1;
    NaiveDate::from_ymd_opt(d.year(), quarter_start_month, 1).and_then(|start| start.pred_opt()).unwrap_or(d)
}

fn write_products(shelf: &Catalog, sink: &mut Sink) {
    for (i, p) in shelf.products.iter().enumerate() {
        sink.row()
            .id("P", i as u64 + 1, 4)
            .text(&p.name)
            .raw(p.category.as_str().as_bytes())
            .opt_text(p.variety.map(|v| v.as_str()))
            .raw(p.risk.as_str().as_bytes())
            .uint(p.horizon_months.into())
            .money(p.min_cents)
            .raw(p.requirement.as_str().as_bytes())
            .rate(p.fee)
            .raw(p.status_str().as_bytes())
            .raw(p.currency.as_bytes())
            .end();
    }
}

/// What the client is, drawn before any row is written.
struct Profile {
    institution: bool,
    licensed: bool,
    female: bool,
    /// standard-normal wealth rank; everything wealth-related follows it
    z: f64,
    age: u32,
    birth_rel: i32,
    onboard_rel: i32,
    aum: u64,
    income: Option<u64>,
    net_assets: Option<u64>,
    experience: Option<u64>,
    /// newest assessment on or before as-of
    level: Option<RiskLevel>,
    lowest: bool,
    qualification: u8,
    dormant: bool,
    deposit_only: bool,
    /// the institution paying the salary (代发工资), a client written earlier
    payroll: Option<u64>,
}

impl Book<'_> {
    fn client(&mut self, n: u64, sinks: &mut Sinks) {
        let p = self.draw_profile();
        let branch = self.rng.gen_range(0..BRANCHES);
        let home = &CITIES[(branch / 2) as usize % CITIES.len()];
        let city = if chance(&mut self.rng, 0.9) { home } else { &CITIES[self.rng.gen_range(0..CITIES.len())] };
        let t = tier(p.aum);
        let unassigned = match t {
            Tier::Mass => 0.10,
            Tier::Wealth => 0.02,
            Tier::Hnw => 0.0,
        };
        let advisor =
            if chance(&mut self.rng, unassigned) { None } else { self.advisors.assign(&mut self.rng, branch, t) };

        self.draw_holdings(&p);
        self.draw_transactions(&p);
        self.draw_contacts(&p, t, branch, advisor);

        self.write_client(n, &p, branch, city, advisor, &mut sinks.clients);
        self.write_holdings(n, &p, &mut sinks.holdings);
        self.write_transactions(n, &mut sinks.transactions);
        self.write_assessments(n, &mut sinks.assessments);
        self.write_contacts(n, &mut sinks.interactions);
        if p.institution && !p.licensed && self.employers.len() < EMPLOYER_POOL {
            self.employers.push(n);
        }
    }

    fn draw_profile(&mut self) -> Profile {
        let rng = &mut self.rng;
        let institution = chance(rng, INSTITUTION_SHARE);
        let licensed = institution && chance(rng, 0.10);
        let female = chance(rng, 0.5);
        let z = normal(rng);
        let (mu, sigma) = if institution { (INSTITUTION_MU, INSTITUTION_SIGMA) } else { (PERSON_MU, PERSON_SIGMA) };
        let aum = if chance(rng, 0.005) { 0 } else { cents_f((mu + sigma * z).exp().min(2e9) * 100.0) };

        // age follows wealth loosely
        let age = if institution {
            rng.gen_range(1..=30)
        } else {
            let mut age = None;
            for _ in 0..10 {
                let a = (44.0 + 5.0 * z + 15.0 * normal(rng)).round();
                if (18.0..=95.0).contains(&a) {
                    age = Some(a as u32);
                    break;
                }
            }
            age.unwrap_or_else(|| rng.gen_range(18..=95))
        };
        let (birth_rel, adult_rel) = self.birth(age, institution);
        let rng = &mut self.rng;

        let retired = !institution && age >= 60;
        let income = if institution || chance(rng, 0.15) {
            None
        } else {
            let mut x = (100_000f64.ln() + 0.45 * z + 0.55 * normal(rng)).exp();
            if retired {
                x *= 0.5;
            }
            if age < 23 {
                x *= 0.2;
            }
            Some(round_down(cents_f(x * 100.0), 10_000))
        };
        let net_assets = if institution {
            let mut x = (3e7f64.ln() + 0.5 * z + 1.2 * normal(rng)).exp();
            if licensed {
                x *= 10.0;
            }
            Some(round_down(cents_f(x.min(1e12) * 100.0), 1_000_000))
        } else {
            None
        };

        // risk tolerance follows wealth and youth loosely
        let assessed = chance(rng, if institution { 0.7 } else { 0.9 });
        let score = if institution {
            0.3 * z + 0.9 * normal(rng)
        } else {
            0.35 * z - 0.025 * (f64::from(age) - 45.0) + 0.9 * normal(rng)
        };
        let rank = [-1.35, -0.45, 0.45, 1.25].iter().filter(|&&t| score >= t).count();
        let mut level = assessed.then_some(RISK_LEVELS[rank.min(4)]);
        let lowest = assessed && chance(rng, 0.01);
        if lowest {
            level = Some(RiskLevel::C1);
        }
        self.draw_assessments(level, lowest, adult_rel);
        let rng = &mut self.rng;

        let experience = if chance(rng, if institution { 0.3 } else { 0.2 }) {
            None
        } else {
            let r = level.map_or(1.0, |l| f64::from(l.rank()));
            let x = 2.2 * (r - 1.0) + 0.08 * (f64::from(age) - 30.0) + 3.0 * normal(rng);
            let cap = if institution { 20.0 } else { f64::from(age.saturating_sub(18)) };
            Some(x.round().clamp(0.0, cap) as u64)
        };

        // onboarding: before the first assessment, after the 18th birthday
        let candidate = if chance(rng, 0.08) { -rng.gen_range(0..365) } else { -rng.gen_range(365..=7300) };
        let first_assessment = self.s.assessments.iter().map(|a| a.rel).min().unwrap_or(0).min(0);
        let onboard_rel = if candidate > first_assessment {
            (first_assessment - rng.gen_range(0..=90)).max(adult_rel)
        } else {
            candidate.max(adult_rel)
        };

        let income_v = income.unwrap_or(0);
        let qualification = if licensed
            || (aum >= 5_000_000 * 100 && experience.unwrap_or(0) >= 2)
            || net_assets.unwrap_or(0) >= 20_000_000 * 100
        {
            2
        } else if aum >= 3_000_000 * 100 || income_v >= 500_000 * 100 || net_assets.unwrap_or(0) >= 10_000_000 * 100 {
            1
        } else {
            0
        };
        let dormant = onboard_rel <= self.prev_quarter_end && chance(rng, 0.015);
        let deposit_only = aum > 0
            && (level.is_none() && chance(rng, 0.7) || aum < 50_000 * 100 && chance(rng, 0.3) || chance(rng, 0.06));
        // about 10 % of clients are paid through us by an institution already written
        let payroll = if !institution && age < 60 && !self.employers.is_empty() && chance(rng, 0.13) {
            let u: f64 = rng.gen();
            let i = ((self.employers.len() as f64) * u * u) as usize;
            self.employers.get(i.min(self.employers.len() - 1)).copied()
        } else {
            None
        };
        Profile {
            payroll,
            institution,
            licensed,
            female,
            z,
            age,
            birth_rel,
            onboard_rel,
            aum,
            income,
            net_assets,
            experience,
            level: if lowest { Some(RiskLevel::C1) } else { level },
            lowest,
            qualification,
            dormant,
            deposit_only,
        }
    }

    /// (birth, 18th birthday) in days from as-of for a person of `age`;
    /// for an institution, (founding, founding).
    fn birth(&mut self, age: u32, institution: bool) -> (i32, i32) {
        let as_of = self.cal.as_of;
        if institution {
            let founded = -(age as i32 * 365 + self.rng.gen_range(0..365));
            return (founded, founded);
        }
        // born after `earliest_excl` and on or before `latest`: `age` full years at as-of
        let latest = as_of.checked_sub_months(Months::new(12 * age)).unwrap_or(as_of);
        let earliest_excl = as_of.checked_sub_months(Months::new(12 * (age + 1))).unwrap_or(latest);
        let span = (latest - earliest_excl).num_days().max(1);
        let mut birth = latest - chrono::Duration::days(self.rng.gen_range(0..span));
        if !(18..=95).contains(&age_at(birth, as_of)) {
            birth = latest;
        }
        let adult = birth.checked_add_months(Months::new(12 * 18)).unwrap_or(as_of);
        (self.cal.rel(birth), self.cal.rel(adult).min(0))
    }

    fn draw_assessments(&mut self, level: Option<RiskLevel>, lowest: bool, adult_rel: i32) {
        let rng = &mut self.rng;
        let list = &mut self.s.assessments;
        list.clear();
        let Some(level) = level else { return };
        // age of the newest: valid, expiring (11–12 months), expired, long expired (> 24 months)
        let age = match weighted(rng, &[(0u8, 57), (1, 8), (2, 22), (3, 13)]) {
            0 => rng.gen_range(0..=334),
            1 => rng.gen_range(336..=364),
            2 => rng.gen_range(366..=729),
            _ => rng.gen_range(731..=1500),
        };
        let count = weighted(rng, &[(1u32, 60), (2, 30), (3, 10)]);
        let mut rel = (-age).max(adult_rel);
        for i in 0..count {
            if i > 0 {
                rel -= rng.gen_range(330..=560);
                if rel < adult_rel {
                    break;
                }
            }
            let lvl = if i == 0 {
                level
            } else if chance(rng, 0.3) {
                let r = (level.rank() as usize + rng.gen_range(0..=2)).clamp(2, 6) - 2;
                RISK_LEVELS[r.min(4)]
            } else {
                level
            };
            list.push(self::assessment(rng, rel, lvl, lowest && i == 0));
        }
        // rarely, one taken after as-of (counts only once its date has come)
        if chance(rng, 0.003) {
            let lvl = RISK_LEVELS[rng.gen_range(0..5)];
            let rel = rng.gen_range(1..=20);
            list.push(self::assessment(rng, rel, lvl, false));
        }
        list.sort_by_key(|a| (a.rel, a.secs));
    }

    fn draw_holdings(&mut self, p: &Profile) {
        let shelf = self.shelf;
        let rng = &mut self.rng;
        let h = &mut self.s.holdings;
        h.clear();
        self.s.older.clear();
        self.s.future.clear();
        if p.aum > 0 {
            let cap = if p.lowest { 1 } else { p.level.map_or(1, |l| l.rank()) };
            let menu = MENUS[usize::from(cap - 1).min(4)];
            let extras: u32 = if p.deposit_only {
                u32::from(chance(rng, 0.45))
            } else {
                match p.aum {
                    a if a < 10_000 * 100 => rng.gen_range(1..=3),
                    a if a < 100_000 * 100 => rng.gen_range(2..=5),
                    a if a < WEALTH_CENTS => rng.gen_range(2..=6),
                    a if a < HNW_CENTS => rng.gen_range(3..=8),
                    _ => rng.gen_range(5..=10),
                }
            };
            let cash_share = if p.deposit_only {
                if extras == 0 {
                    1.0
                } else {
                    uniform(rng, 0.2, 0.7)
                }
            } else {
                uniform(rng, 0.03, 0.35)
            };
            let cash = cents_f(p.aum as f64 * cash_share).clamp(1, p.aum);
            h.push((shelf.current_account, cash));
            let mut rest = p.aum - cash;
            for j in 0..extras {
                if rest == 0 {
                    break;
                }
                let mut take =
                    if j + 1 == extras { rest } else { cents_f(rest as f64 * uniform(rng, 0.25, 0.65)).clamp(1, rest) };
                let category = if p.deposit_only { Cat::TimeDeposit } else { weighted(rng, menu) };
                // a few hold something above their tolerance
                let max_risk = if chance(rng, 0.03) { (cap + 2).min(5) } else { cap };
                let on_sale_only = !chance(rng, 0.15);
                let mut product = shelf.pick(rng, category, max_risk, on_sale_only, take, p.qualification);
                if product.is_none() {
                    // buy the minimum when the client can afford it
                    if let Some(q) = shelf.pick(rng, category, max_risk, on_sale_only, rest, p.qualification) {
                        let min = shelf.get(q).map_or(0, |x| x.min_cents);
                        take = cents_f(min as f64 * uniform(rng, 1.0, 1.6)).clamp(min.max(1), rest);
                        product = Some(q);
                    }
                }
                if product.is_none() {
                    product = shelf.pick(rng, Cat::MoneyFund, 5, true, take, 0);
                }
                match product {
                    Some(q) => add_holding(h, q, take),
                    None => add_holding(h, shelf.current_account, take),
                }
                rest -= take;
            }
            add_holding(h, shelf.current_account, rest);
        }

        // credit: outstanding balances, never part of AUM
        let loans = shelf.of(Cat::Loan);
        let cards = shelf.of(Cat::CreditCard);
        if p.institution {
            if chance(rng, 0.3) {
                if let Some(&q) = loans.last() {
                    let v = (1e6f64.ln() + 1.2 * rng.gen::<f64>() * 3.0).exp();
                    h.push((q, round_down(cents_f(v * 100.0), 100)));
                }
            }
        } else {
            if !cards.is_empty() && chance(rng, 0.22) {
                let q = pick(rng, cards);
                let v =
                    if chance(rng, 0.1) { 0 } else { cents_f((8.5 + 1.1 * normal(rng)).exp().min(200_000.0) * 100.0) };
                h.push((q, v));
            }
            if loans.len() >= 5 && chance(rng, 0.09) {
                let (q, lo, hi) = if chance(rng, 0.55) {
                    (loans[0], 200_000.0, 3_000_000.0)
                } else {
                    (loans[rng.gen_range(1..5)], 10_000.0, 500_000.0)
                };
                h.push((q, round_down(cents_f(uniform(rng, lo, hi) * 100.0), 100)));
            }
        }

        if h.is_empty() {
            return;
        }
        // an older snapshot at the previous quarter-end for some
        if !p.dormant && p.onboard_rel <= self.prev_quarter_end && chance(rng, 0.25) {
            let f = if chance(rng, 0.1) { uniform(rng, 0.3, 2.0) } else { uniform(rng, 0.7, 1.3) };
            for &(q, v) in h.iter() {
                if chance(rng, 0.9) {
                    let v = cents_f(v as f64 * f * uniform(rng, 0.9, 1.1));
                    self.s.older.push((q, v.max(1)));
                }
            }
        }
        // rarely, a snapshot dated after as-of (it must not count on as-of)
        if !p.dormant && chance(rng, 0.004) {
            for &(q, v) in h.iter() {
                let v = cents_f(v as f64 * uniform(rng, 0.3, 3.0));
                self.s.future.push((q, v.max(1)));
            }
        }
    }

    fn draw_transactions(&mut self, p: &Profile) {
        let shelf = self.shelf;
        let rng = &mut self.rng;
        let txns = &mut self.s.txns;
        txns.clear();
        let lo = (-729).max(p.onboard_rel);
        let hi = if p.dormant { -120 } else { 0 };
        // a product held other than the current account and credit
        let held = |h: &[(u16, u64)], rng: &mut ChaCha8Rng| -> Option<(u16, u64)> {
            let investment = |x: &&(u16, u64)| {
                x.0 != shelf.current_account
                    && shelf.get(x.0).is_some_and(|p| p.category.line() != BusinessLine::Credit)
            };
            let n = h.iter().filter(investment).count();
            if n == 0 {
                return None;
            }
            h.iter().filter(investment).nth(rng.gen_range(0..n)).copied()
        };
        let trader = !p.deposit_only && p.level.is_some_and(|l| l >= RiskLevel::C3) && chance(rng, 0.04);
        let count: u32 = if lo > hi {
            0
        } else if p.dormant {
            rng.gen_range(0..=2)
        } else if trader {
            rng.gen_range(30..=55)
        } else if p.deposit_only {
            rng.gen_range(2..=14)
        } else {
            rng.gen_range(4..=20)
        };
        let kinds: &[(TxnKind, u32)] = if trader {
            &[
                (TxnKind::Deposit, 6),
                (TxnKind::Withdraw, 5),
                (TxnKind::TransferIn, 4),
                (TxnKind::TransferOut, 3),
                (TxnKind::Buy, 40),
                (TxnKind::Sell, 30),
                (TxnKind::Redeem, 5),
                (TxnKind::Dividend, 4),
                (TxnKind::Fee, 3),
            ]
        } else if p.deposit_only {
            &[
                (TxnKind::Deposit, 32),
                (TxnKind::Withdraw, 30),
                (TxnKind::TransferIn, 14),
                (TxnKind::TransferOut, 12),
                (TxnKind::Buy, 6),
                (TxnKind::Redeem, 4),
                (TxnKind::Fee, 2),
            ]
        } else {
            &[
                (TxnKind::Deposit, 18),
                (TxnKind::Withdraw, 16),
                (TxnKind::TransferIn, 10),
                (TxnKind::TransferOut, 9),
                (TxnKind::Buy, 17),
                (TxnKind::Sell, 5),
                (TxnKind::Redeem, 9),
                (TxnKind::Dividend, 7),
                (TxnKind::Fee, 9),
            ]
        };
        let base = (p.aum as f64).clamp(1_000.0 * 100.0, 3_000_000.0 * 100.0);
        let cap = if p.lowest { 1 } else { p.level.map_or(1, |l| l.rank()) };
        let menu = MENUS[usize::from(cap - 1).min(4)];
        for _ in 0..count {
            let mut kind = weighted(rng, kinds);
            let mut product = None;
            let cents;
            match kind {
                TxnKind::Buy => {
                    let from_held = if chance(rng, 0.7) { held(&self.s.holdings, rng) } else { None };
                    let q = match from_held {
                        Some((q, _)) if shelf.get(q).is_some_and(|x| x.on_sale) => Some(q),
                        _ => {
                            let category = if p.deposit_only { Cat::TimeDeposit } else { weighted(rng, menu) };
                            shelf
                                .pick(rng, category, cap, true, u64::MAX, p.qualification)
                                .or_else(|| shelf.pick(rng, Cat::MoneyFund, cap, true, u64::MAX, 0))
                        }
                    };
                    if q.is_none() {
                        kind = TxnKind::Deposit;
                    }
                    let min = q.and_then(|q| shelf.get(q)).map_or(0, |x| x.min_cents);
                    let amount = cents_f(base * 0.08 * (0.7 * normal(rng)).exp());
                    let amount = if amount < min { cents_f(min as f64 * uniform(rng, 1.0, 1.5)) } else { amount };
                    product = q;
                    cents = round_down(amount, 100 * 100);
                }
                TxnKind::Sell | TxnKind::Redeem | TxnKind::Dividend => {
                    match held(&self.s.holdings, rng) {
                        Some((q, v)) => {
                            product = Some(q);
                            if kind != TxnKind::Dividend {
                                // securities are sold, funds and wealth products redeemed
                                let traded = shelf.get(q).is_some_and(|x| {
                                    matches!(
                                        x.category,
                                        Cat::Stock | Cat::Bond | Cat::Futures | Cat::Options | Cat::Margin
                                    )
                                });
                                kind = if traded { TxnKind::Sell } else { TxnKind::Redeem };
                            }
                            let share = if kind == TxnKind::Dividend {
                                uniform(rng, 0.002, 0.03)
                            } else {
                                uniform(rng, 0.1, 1.0)
                            };
                            cents = cents_f(v as f64 * share).max(1);
                        }
                        None => {
                            kind = TxnKind::Deposit;
                            cents = cents_f(base * 0.04 * (0.9 * normal(rng)).exp()).max(100);
                        }
                    }
                }
                TxnKind::Fee => {
                    if chance(rng, 0.5) {
                        product = held(&self.s.holdings, rng).map(|x| x.0);
                    }
                    cents = rng.gen_range(100..=50_000);
                }
                _ => {
                    if chance(rng, 0.25) {
                        product = Some(shelf.current_account);
                    }
                    let x = cents_f(base * 0.03 * (0.8 * normal(rng)).exp()).max(100);
                    cents = if x > 1_000 * 100 && chance(rng, 0.7) { round_down(x, 100 * 100) } else { x };
                }
            }
            let rel = if chance(rng, 0.0025) && !p.dormant { rng.gen_range(1..=10) } else { rng.gen_range(lo..=hi) };
            let (mut channel, mut secs) = txn_channel(rng, kind);
            if channel == Some("atm") && cents > 20_000 * 100 {
                // too much for a cash machine
                channel = Some("branch");
                secs = time_between(rng, 9, 17);
            }
            txns.push(Txn { rel, secs, kind, product, cents, channel });
        }

        // salary paid through us (代发工资): the last six months
        if let (Some(_), Some(income)) = (p.payroll, p.income) {
            let monthly = income as f64 / 12.0;
            let day = rng.gen_range(0..28);
            for m in 0..6 {
                let rel = -(m * 30 + day);
                if rel >= lo && rel <= hi {
                    let cents = cents_f(monthly * uniform(rng, 0.9, 1.1)).max(100);
                    txns.push(Txn {
                        rel,
                        secs: 2 * 3600,
                        kind: TxnKind::TransferIn,
                        product: None,
                        cents,
                        channel: None,
                    });
                }
            }
        }

        // churn: some clients move a large share of their money out in the
        // last 90 days (net outflow / (aum + net outflow) of 12–25 % or 35–85 %)
        let recent_lo = (-80).max(p.onboard_rel);
        if p.aum > 0 && !p.dormant && recent_lo <= 0 {
            let r = match weighted(rng, &[(0u8, 960), (1, 25), (2, 15)]) {
                1 => uniform(rng, 0.12, 0.25),
                2 => uniform(rng, 0.35, 0.85),
                _ => 0.0,
            };
            if r > 0.0 {
                let (mut inflow, mut outflow) = (0u64, 0u64);
                for t in txns.iter().filter(|t| (-89..=0).contains(&t.rel)) {
                    match t.kind {
                        TxnKind::Deposit | TxnKind::TransferIn => inflow += t.cents,
                        TxnKind::Withdraw | TxnKind::TransferOut => outflow += t.cents,
                        _ => {}
                    }
                }
                let target = p.aum as f64 * r / (1.0 - r);
                let missing = target - (outflow as f64 - inflow as f64);
                if missing > 100.0 {
                    let parts = rng.gen_range(1..=3u32);
                    let each = cents_f(missing / f64::from(parts)) + 1;
                    for _ in 0..parts {
                        let kind = if chance(rng, 0.5) { TxnKind::Withdraw } else { TxnKind::TransferOut };
                        let (channel, secs) = txn_channel(rng, kind);
                        let rel = rng.gen_range(recent_lo..=0);
                        txns.push(Txn { rel, secs, kind, product: None, cents: each, channel });
                    }
                }
            }
        }
        // a single large outflow (需求预警) for some of the wealthy
        if p.aum >= 1_000_000 * 100 && !p.dormant && chance(rng, 0.08) {
            let hi_cents = (p.aum as f64 * 0.6).clamp(600_000.0 * 100.0, 5_000_000.0 * 100.0);
            let cents = round_down(cents_f(uniform(rng, 500_000.0 * 100.0, hi_cents)), 100 * 100);
            let rel = rng.gen_range((-59).max(p.onboard_rel)..=0);
            let (channel, secs) = txn_channel(rng, TxnKind::TransferOut);
            txns.push(Txn { rel, secs, kind: TxnKind::TransferOut, product: None, cents, channel });
        }
        txns.truncate(MAX_TXNS_PER_CLIENT as usize);
        txns.sort_by_key(|t| (t.rel, t.secs));
    }

    fn draw_contacts(&mut self, p: &Profile, t: Tier, branch: u32, advisor: Option<u32>) {
        let rng = &mut self.rng;
        let list = &mut self.s.contacts;
        list.clear();
        let Some(advisor) = advisor else { return };
        let (share, max, window) = match t {
            Tier::Hnw => (0.9, 4, 75),
            Tier::Wealth => (0.7, 3, 200),
            Tier::Mass => (0.3, 2, 364),
        };
        if !chance(rng, share) {
            return;
        }
        let lo = (-window).max(p.onboard_rel);
        let count = rng.gen_range(1..=max);
        for _ in 0..count {
            let who = if chance(rng, 0.95) {
                advisor
            } else {
                self.advisors.assign(rng, branch, Tier::Mass).unwrap_or(advisor)
            };
            let channel = weighted(
                rng,
                &[
                    (InteractionChannel::Call, 35),
                    (InteractionChannel::Visit, if t == Tier::Mass { 8 } else { 25 }),
                    (InteractionChannel::Email, 10),
                    (InteractionChannel::Message, 30),
                    (InteractionChannel::Event, 7),
                ],
            );
            list.push(Contact {
                rel: rng.gen_range(lo..=0),
                secs: time_between(rng, 9, 20),
                advisor: who,
                channel,
                topic: pick(rng, TOPICS),
                outcome: pick(rng, OUTCOMES),
            });
        }
        list.sort_by_key(|c| (c.rel, c.secs));
    }

    // ------------------------------------------------------------ rows

    #[allow(clippy::too_many_arguments)]
    fn write_client(&mut self, n: u64, p: &Profile, branch: u32, city: &City, advisor: Option<u32>, sink: &mut Sink) {
        let rng = &mut self.rng;
        let s = &mut self.s;
        // most were born where they live
        let birthplace = if chance(rng, 0.7) { city } else { &CITIES[rng.gen_range(0..CITIES.len())] };
        let district = pick(rng, birthplace.districts);
        let mut phone = [0u8; 11];
        phone[..3].copy_from_slice(pick(rng, PHONE_PREFIXES).as_bytes());
        for d in phone.iter_mut().skip(3) {
            *d = b'0' + rng.gen_range(0..10u8);
        }
        let id_number;
        let mut email = None;
        let mut occupation = None;
        let mut household = None;
        if p.institution {
            s.name.clear();
            s.name.push_str(city.name);
            s.name.push_str(pick(rng, FIRM_WORDS));
            if p.licensed {
                s.name.push_str(pick(rng, FINANCIAL_FIRMS));
            } else {
                s.name.push_str(pick(rng, INDUSTRIES));
                s.name.push_str(pick(rng, FIRM_SUFFIXES));
            }
            id_number = credit_code(rng, district);
            if chance(rng, 0.6) {
                s.email.clear();
                s.email.push_str("contact");
                s.email.push_str(&n.to_string());
                s.email.push('@');
                s.email.push_str(pick(rng, EMAIL_DOMAINS));
                email = Some(s.email.as_str());
            }
        } else {
            let with_email = chance(rng, 0.45);
            person_name(rng, p.female, &mut s.name, Some(&mut s.email));
            if with_email {
                email = Some(s.email.as_str());
            }
            id_number = id_number_for(rng, district, self.cal.date(p.birth_rel), p.female);
            occupation = if chance(rng, 0.05) {
                None
            } else if p.age >= 60 && chance(rng, 0.75) {
                Some(RETIRED)
            } else if p.age < 23 && chance(rng, 0.6) {
                Some(STUDENT)
            } else if p.z > 1.3 && chance(rng, 0.4) {
                Some(pick(rng, OCCUPATIONS_WEALTHY))
            } else {
                Some(pick(rng, OCCUPATIONS))
            };
            if chance(rng, 0.25) {
                let h = if !self.households.is_empty() && chance(rng, 0.45) {
                    self.households[rng.gen_range(0..self.households.len())]
                } else {
                    if self.households.len() >= HOUSEHOLD_RING {
                        self.households.remove(0);
                    }
                    self.households.push(n);
                    n
                };
                household = Some(h);
            }
        }

        let declared_assets = if chance(rng, if p.institution { 0.5 } else { 0.3 }) {
            Some(round_down(cents_f(p.aum as f64 * uniform(rng, 1.0, 3.5)), 1_000 * 100))
        } else {
            None
        };
        let loan: u64 = s
            .holdings
            .iter()
            .filter(|(q, _)| self.shelf.get(*q).is_some_and(|x| x.category == Cat::Loan))
            .map(|x| x.1)
            .sum();
        let liabilities = if chance(rng, if p.institution { 0.3 } else { 0.15 }) {
            let v = match p.net_assets {
                Some(na) => na as f64 * uniform(rng, 0.1, 1.0),
                None if loan > 0 => loan as f64 * uniform(rng, 1.0, 1.2),
                None => uniform(rng, 10_000.0, 500_000.0) * 100.0,
            };
            Some(round_down(cents_f(v), 100 * 100))
        } else {
            None
        };
        let status = if p.institution {
            weighted(rng, &[("derive", 94), ("approved", 3), ("opted_out", 3)])
        } else if p.aum >= 5_000_000 * 100 || p.income.unwrap_or(0) >= 500_000 * 100 {
            weighted(rng, &[("derive", 88), ("approved", 10), ("opted_out", 2)])
        } else {
            weighted(rng, &[("derive", 995), ("approved", 2), ("opted_out", 3)])
        };
        // a reported material change (stale assessment when after it)
        let material_change = if chance(rng, 0.03) {
            let newest = s.assessments.iter().filter(|a| a.rel <= 0).map(|a| a.rel).max();
            let lo = p.onboard_rel.max(-729);
            match newest {
                Some(a) if a < 0 && chance(rng, 0.6) => Some(rng.gen_range(a + 1..=0)),
                Some(a) if a > lo => Some(rng.gen_range(lo..a)),
                _ => Some(rng.gen_range(lo..=0)),
            }
        } else {
            None
        };

        let cal = &self.cal;
        let mut row = sink.row();
        row.id("C", n, self.client_width);
        if p.institution {
            row.raw(b"institution").text(&s.name).empty().empty();
        } else {
            let gender: &[u8] = if p.female { b"F" } else { b"M" };
            row.raw(b"person").text(&s.name).raw(gender).raw(cal.date(p.birth_rel));
        }
        row.raw(&id_number)
            .raw(&phone)
            .opt_text(email)
            .opt_text(occupation)
            .text(city.name)
            .id("B", u64::from(branch) + 1, 2)
            .opt_id("A", advisor.map(|a| u64::from(a) + 1), self.advisors.width)
            .raw(cal.date(p.onboard_rel))
            .opt_id("H", household, self.client_width)
            .opt_money(p.income)
            .opt_money(declared_assets)
            .opt_money(liabilities)
            .opt_money(p.net_assets);
        if p.institution {
            row.bool(p.licensed);
        } else {
            row.empty();
        }
        row.opt_uint(p.experience).opt_id("C", p.payroll, self.client_width).raw(status.as_bytes());
        match material_change {
            Some(rel) => row.raw(cal.date(rel)),
            None => row.empty(),
        };
        row.end();
    }

    fn write_holdings(&mut self, n: u64, p: &Profile, sink: &mut Sink) {
        let current = if p.dormant { self.prev_quarter_end } else { 0 };
        let future = self.rng.gen_range(1..=30);
        let snapshots: [(&[(u16, u64)], i32); 3] =
            [(&self.s.older, self.prev_quarter_end), (&self.s.holdings, current), (&self.s.future, future)];
        for (rows, rel) in snapshots {
            let date = self.cal.date(rel);
            for &(q, v) in rows {
                sink.row().id("C", n, self.client_width).id("P", u64::from(q) + 1, 4).money(v).raw(date).end();
            }
        }
    }

    fn write_transactions(&mut self, n: u64, sink: &mut Sink) {
        for t in &self.s.txns {
            let mut row = sink.row();
            row.id("T", self.next_txn, self.txn_width)
                .id("C", n, self.client_width)
                .opt_id("P", t.product.map(|q| u64::from(q) + 1), 4)
                .ts(self.cal.date(t.rel), t.secs)
                .raw(t.kind.as_str().as_bytes())
                .money(t.cents.max(1))
                .opt_text(t.channel)
                .end();
            self.next_txn += 1;
        }
    }

    fn write_assessments(&mut self, n: u64, sink: &mut Sink) {
        for a in &self.s.assessments {
            sink.row()
                .id("C", n, self.client_width)
                .ts(self.cal.date(a.rel), a.secs)
                .raw(a.channel.as_str().as_bytes())
                .raw(QUESTIONNAIRE.as_bytes())
                .empty()
                .raw(a.level.as_str().as_bytes())
                .bool(a.lowest)
                .uint(a.horizon.into())
                .raw(a.varieties.as_bytes())
                .raw(a.goal.as_str().as_bytes())
                .end();
        }
    }

    fn write_contacts(&mut self, n: u64, sink: &mut Sink) {
        for c in &self.s.contacts {
            sink.row()
                .id("C", n, self.client_width)
                .id("A", u64::from(c.advisor) + 1, self.advisors.width)
                .ts(self.cal.date(c.rel), c.secs)
                .raw(c.channel.as_str().as_bytes())
                .text(c.topic)
                .text(c.outcome)
                .end();
        }
    }
}

/// The channel of a transaction and a time of day fitting it; system postings
/// (dividends, fees) have no channel and happen at night.
fn txn_channel(rng: &mut ChaCha8Rng, kind: TxnKind) -> (Option<&'static str>, u32) {
    let channel = match kind {
        TxnKind::Dividend | TxnKind::Fee => None,
        TxnKind::Deposit | TxnKind::Withdraw => {
            Some(weighted(rng, &[("branch", 20), ("online", 15), ("mobile", 45), ("atm", 20)]))
        }
        TxnKind::TransferIn | TxnKind::TransferOut => {
            Some(weighted(rng, &[("branch", 10), ("online", 30), ("mobile", 60)]))
        }
        _ => Some(weighted(rng, &[("branch", 25), ("online", 30), ("mobile", 45)])),
    };
    let secs = match channel {
        Some("branch") => time_between(rng, 9, 17),
        Some("atm") => time_between(rng, 6, 23),
        Some(_) => time_between(rng, 7, 24),
        None => time_between(rng, 1, 5) / 60 * 60,
    };
    (channel, secs)
}

fn assessment(rng: &mut ChaCha8Rng, rel: i32, level: RiskLevel, lowest: bool) -> Assessment {
    let channel = if lowest || chance(rng, 0.55) { Channel::Branch } else { Channel::Online };
    let secs = match channel {
        Channel::Branch => time_between(rng, 9, 17),
        Channel::Online => time_between(rng, 7, 23),
    };
    let (horizon, varieties, goal) =
        if lowest { (12, "fixed_income", Goal::Preservation) } else { profile(rng, level) };
    Assessment {
        rel,
        secs,
        channel,
        level: if lowest { RiskLevel::C1 } else { level },
        lowest,
        horizon,
        varieties,
        goal,
    }
}
