//! The application layer: the use cases the CLI and the web server share —
//! import, classification runs and simulations, export, suitability checks —
//! each written to the audit trail.
//!
//! It chooses the storage backend once (from the database URL), loads the
//! rule pack and questionnaires, and drives the pure engines. It knows
//! neither HTTP nor the terminal: progress is reported through callbacks.

pub mod access;
mod batch;
pub mod desk;
mod export;
pub mod work;

pub use batch::{in_pack_order, BatchOutcome, Progress};
pub use export::EXPORT_HEADER;

use chrono::NaiveDate;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tierwise_classify::{Catalog, Engine, MigrationMatrix};
use tierwise_domain::{Lang, LocalDateTime};
use tierwise_questionnaire::Questionnaire;
use tierwise_rules::Pack;
use tierwise_store::{Database, Partition, RunInfo, StoreError};
use tierwise_store_sqlite::SqliteStore;
use tierwise_suitability::{CheckOutcome, CheckRequest};

/// An application error with a stable code the UI can translate.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Pack(#[from] tierwise_rules::LoadError),
    #[error("questionnaire {path}: {message}")]
    Questionnaire { path: String, message: String },
    #[error("{0}")]
    Import(#[from] tierwise_import::ImportError),
    #[error("no client with id {0:?}")]
    UnknownClient(String),
    #[error("no product with id {0:?}")]
    UnknownProduct(String),
    #[error("there is no classification run yet: run `tierwise classify` first")]
    NoRun,
    #[error("unknown time zone {0:?} (use an IANA name such as Asia/Shanghai)")]
    TimeZone(String),
    #[error("cannot write: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Aborted(String),
    #[error("sign in first")]
    Unauthenticated,
    #[error("your role does not allow this")]
    Forbidden,
    #[error("too many failed sign-ins: wait 15 minutes")]
    TooManyAttempts,
    #[error("{0} not found")]
    NotFound(String),
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    #[error("this link is unknown, expired or already used")]
    LinkInvalid,
}

impl AppError {
    /// A stable code for translation and the API.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Store(StoreError::Conflict(_)) => "conflict",
            AppError::Store(_) => "store",
            AppError::Pack(_) => "rule_pack",
            AppError::Questionnaire { .. } => "questionnaire",
            AppError::Import(_) => "import",
            AppError::UnknownClient(_) => "unknown_client",
            AppError::UnknownProduct(_) => "unknown_product",
            AppError::NoRun => "no_run",
            AppError::TimeZone(_) => "time_zone",
            AppError::Io(_) => "io",
            AppError::Aborted(_) => "aborted",
            AppError::Unauthenticated => "unauthenticated",
            AppError::Forbidden => "forbidden",
            AppError::TooManyAttempts => "too_many_attempts",
            AppError::NotFound(_) => "not_found",
            AppError::Invalid { .. } => "invalid",
            AppError::LinkInvalid => "link_invalid",
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// Where the application finds its database, pack and questionnaires.
#[derive(Clone)]
pub struct Config {
    pub db_url: String,
    /// a pack name (`cn-bank`) or the path of a pack file
    pub pack: String,
    /// a folder of pack files overriding the built-in ones by name
    pub packs_dir: Option<PathBuf>,
    /// a folder of questionnaire definitions (`*.toml`); the built-in default is always known
    pub questionnaires_dir: Option<PathBuf>,
    /// the institution's time zone (IANA name)
    pub time_zone: String,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // the URL may carry a password: never print it
        f.debug_struct("Config")
            .field("db_url", &redact_url(&self.db_url))
            .field("pack", &self.pack)
            .field("packs_dir", &self.packs_dir)
            .field("questionnaires_dir", &self.questionnaires_dir)
            .field("time_zone", &self.time_zone)
            .finish()
    }
}

/// `postgres://user:secret@host/db?password=x` → `postgres://user:***@host/db?password=***`.
pub fn redact_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let mut out = match (base.find("://"), base.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &base[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &base[..s + 3], &creds[..c], &base[at..]),
                None => base.to_string(),
            }
        }
        _ => base.to_string(),
    };
    if let Some(q) = query {
        let parts: Vec<String> = q
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => kv.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&parts.join("&"));
    }
    out
}

/// Opens the store a URL names: `sqlite://PATH` or `postgres://…` (`postgresql://…`).
pub fn open_store(url: &str) -> AppResult<Box<dyn Database>> {
    if url.starts_with("sqlite:") {
        let path = SqliteStore::path_from_url(url)?;
        if let Some(parent) = path.parent() {
            if !parent.as_os_str().is_empty() && !parent.exists() {
                std::fs::create_dir_all(parent)?;
            }
        }
        return Ok(Box::new(SqliteStore::open(&path)?));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        // its errors carry the URL with the password masked
        return Ok(Box::new(tierwise_store_postgres::PostgresStore::open(url)?));
    }
    Err(StoreError::UnsupportedUrl(redact_url(url)).into())
}

/// Loads every questionnaire: the built-in default, then `*.toml` in `dir`
/// (a file with the same id replaces the built-in one).
pub fn load_questionnaires(dir: Option<&Path>) -> AppResult<Vec<Questionnaire>> {
    let mut out = match tierwise_questionnaire::builtin() {
        Ok(q) => vec![q],
        Err(errs) => {
            return Err(AppError::Questionnaire {
                path: tierwise_questionnaire::DEFAULT_SOURCE.to_string(),
                message: errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "),
            })
        }
    };
    let Some(dir) = dir.filter(|d| d.is_dir()) else { return Ok(out) };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    for f in files {
        let q = Questionnaire::load(&f).map_err(|errs| AppError::Questionnaire {
            path: f.display().to_string(),
            message: errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "),
        })?;
        out.retain(|x| x.id() != q.id());
        out.push(q);
    }
    Ok(out)
}

/// An import of at most this many clients re-runs their detections at once;
/// a larger one is left to the next sweep (`tierwise monitor`, or `serve
/// --monitor-at`), which reads the whole book anyway.
const CLIENT_EVENTS_UP_TO: usize = 1_000;

/// The application: a store, the active pack and the questionnaires.
pub struct App {
    pub store: Box<dyn Database>,
    pub pack: Pack,
    pub questionnaires: Vec<Questionnaire>,
    pub tz: chrono_tz::Tz,
    /// a folder of pack files overriding the built-in ones by name
    pub packs_dir: Option<PathBuf>,
    /// failed sign-ins, per username and address
    pub limiter: access::LoginLimiter,
    /// the latest run's counts, briefly (see `desk::App::clients`), by run id
    counts_cache: Kept<Vec<tierwise_store::RunCount>>,
    /// assignment plans by scope, briefly (see `work::App::team`)
    plan_cache: work::PlanCache,
    /// KPI tables by (scope, period), briefly
    kpi_cache: work::KpiCache,
    /// team views by scope, briefly
    team_cache: work::TeamCache,
}

/// Values kept briefly, by key: (when, value).
pub(crate) struct Kept<T>(std::sync::Mutex<HashMap<String, (std::time::Instant, std::sync::Arc<T>)>>);

impl<T> Default for Kept<T> {
    fn default() -> Self {
        Kept(std::sync::Mutex::new(HashMap::new()))
    }
}

impl<T> Kept<T> {
    pub(crate) fn get(&self, key: &str, ttl: std::time::Duration) -> Option<std::sync::Arc<T>> {
        let g = self.0.lock().ok()?;
        g.get(key).filter(|(at, _)| at.elapsed() < ttl).map(|(_, v)| v.clone())
    }

    pub(crate) fn put(&self, key: String, v: std::sync::Arc<T>, ttl: std::time::Duration) {
        if let Ok(mut g) = self.0.lock() {
            g.retain(|_, (at, _)| at.elapsed() < ttl);
            g.insert(key, (std::time::Instant::now(), v));
        }
    }

    pub(crate) fn clear(&self) {
        if let Ok(mut g) = self.0.lock() {
            g.clear();
        }
    }
}

/// Counts and migrations of a run or a simulation.
#[derive(Debug, Clone, Default)]
pub struct Distribution {
    pub clients: u64,
    pub tiers: Vec<(String, u64)>,
    pub segments: Vec<(String, u64)>,
    pub tier_matrix: MigrationMatrix,
    pub segment_matrix: MigrationMatrix,
}

impl App {
    pub fn open(cfg: &Config) -> AppResult<App> {
        let tz: chrono_tz::Tz = cfg.time_zone.parse().map_err(|_| AppError::TimeZone(cfg.time_zone.clone()))?;
        let (pack, _) = tierwise_rules::load(&cfg.pack, cfg.packs_dir.as_deref())?;
        let questionnaires = load_questionnaires(cfg.questionnaires_dir.as_deref())?;
        let store = open_store(&cfg.db_url)?;
        Ok(App {
            store,
            pack,
            questionnaires,
            tz,
            packs_dir: cfg.packs_dir.clone(),
            limiter: access::LoginLimiter::default(),
            counts_cache: Kept::default(),
            plan_cache: work::PlanCache::default(),
            kpi_cache: work::KpiCache::default(),
            team_cache: work::TeamCache::default(),
        })
    }

    /// Today in the institution's time zone.
    pub fn today(&self) -> NaiveDate {
        chrono::Utc::now().with_timezone(&self.tz).date_naive()
    }

    /// Now, as local time in the institution's time zone.
    pub fn now_local(&self) -> LocalDateTime {
        chrono::Utc::now().with_timezone(&self.tz).naive_local()
    }

    /// questionnaire id → its own validity months, where it sets one.
    pub fn questionnaire_validity(&self) -> HashMap<String, u32> {
        self.questionnaires.iter().filter_map(|q| q.validity_months().map(|m| (q.id().to_string(), m))).collect()
    }

    pub fn engine<'p>(&self, pack: &'p Pack) -> Engine<'p> {
        Engine::new(pack, self.questionnaire_validity())
    }

    pub fn catalog(&self) -> AppResult<Catalog> {
        Ok(Catalog::new(self.store.products()?))
    }

    /// Imports a folder of CSV files, all or nothing, and audits it.
    pub fn import(&self, dir: &Path, progress: &mut dyn FnMut(&str, u64)) -> AppResult<tierwise_import::ImportReport> {
        let opts = tierwise_import::ImportOptions {
            tz: self.tz,
            questionnaires: self.questionnaires.clone(),
            max_reported_errors: 1000,
            watch_outflows: Some(self.monitor_for(self.today()).large_outflow()),
            watch_clients_up_to: CLIENT_EVENTS_UP_TO,
        };
        // a re-imported product whose risk level changed is a re-rating (CSRC Art 21)
        let products_before = self.store.products()?;
        let report = tierwise_import::import_dir(dir, self.store.as_ref(), &opts, progress)?;
        let payload = serde_json::json!({
            "dir": dir.display().to_string(),
            "committed": report.committed,
            "files": report.files.iter().map(|f| serde_json::json!({"file": f.file, "rows": f.rows})).collect::<Vec<_>>(),
            "errors": report.error_count,
        });
        self.store.audit(
            "cli",
            if report.committed { "import.committed" } else { "import.rejected" },
            &dir.display().to_string(),
            &payload.to_string(),
        )?;
        if report.committed {
            self.forget_plans();
        }
        if report.committed && !report.large_outflows.is_empty() {
            // an imported outflow raises its alert now, not at the next sweep
            let mut b = tierwise_store::WorkBatch {
                at: tierwise_domain::dates::format_timestamp(&self.now_local()),
                by: "import".into(),
                ..Default::default()
            };
            self.outflow_batch(&report.large_outflows, &mut b, "import")?;
            self.store.apply_work(&b)?;
        }
        // a change of client data (a material change, a birth date, an advisor)
        // re-runs the client's detections at once when the import was small
        if let (true, Some(ids)) = (report.committed, &report.clients) {
            for id in ids {
                self.monitor_client(id, "import")?;
            }
        }
        if report.committed && report.files.iter().any(|f| f.file == "products.csv") {
            let after: HashMap<String, tierwise_domain::Product> =
                self.store.products()?.into_iter().map(|p| (p.product_id.clone(), p)).collect();
            for before in &products_before {
                if let Some(now) = after.get(&before.product_id) {
                    self.product_rerated("import", before, now)?;
                }
            }
        }
        Ok(report)
    }

    /// Classifies every client as of `as_of` with the active pack and stores the run.
    pub fn classify(&self, as_of: NaiveDate, progress: &dyn Progress) -> AppResult<(RunInfo, Distribution)> {
        let catalog = self.catalog()?;
        let engine = self.engine(&self.pack);
        let writer = self.store.begin_run(as_of, &self.pack.id, &self.pack.version, &self.pack.source_text)?;
        let out = batch::run(self.store.as_ref(), &engine, &catalog, as_of, Some(writer), progress)?;
        let run = out.run.ok_or_else(|| AppError::Aborted("the run was not stored".into()))?;
        Ok((run, out.distribution))
    }

    /// Classifies one partition (`part` of `partitions`) of a partitioned
    /// run, opening the run if none is open. A partition already done is
    /// left as it is (`None`): a scheduler may re-run every partition that
    /// did not report success.
    pub fn classify_partition(
        &self,
        as_of: NaiveDate,
        part: i64,
        partitions: i64,
        progress: &dyn Progress,
    ) -> AppResult<(Partition, Option<(RunInfo, Distribution)>)> {
        let catalog = self.catalog()?;
        let engine = self.engine(&self.pack);
        let (p, writer) = self.store.begin_partition(
            as_of,
            &self.pack.id,
            &self.pack.version,
            &self.pack.source_text,
            part,
            partitions,
        )?;
        if p.already_done {
            drop(writer); // rolls back: the committed partition stays as it was
            return Ok((p, None));
        }
        let out = batch::run_in(self.store.as_ref(), &engine, &catalog, as_of, Some(writer), Some(&p), progress)?;
        let run = out.run.ok_or_else(|| AppError::Aborted("the partition was not stored".into()))?;
        Ok((p, Some((run, out.distribution))))
    }

    /// The finishing step of a partitioned run: exact deciles over the whole
    /// run (the same `ntile_deciles` as an ordinary run), then the run is
    /// visible. Fails, changing nothing, unless every partition is done.
    pub fn finish_partitions(&self) -> AppResult<(RunInfo, Distribution)> {
        let (_open, pairs, writer) = self.store.begin_finish_partitions()?;
        let clients = pairs.len() as i64;
        let deciles = tierwise_classify::ntile_deciles(pairs);
        let run = writer.finish(&deciles, clients)?;
        let mut dist = self.run_distribution(&run)?;
        batch::in_pack_order(&self.pack, &mut dist);
        Ok((run, dist))
    }

    /// Gives up the open partitioned run (nothing of it was ever visible).
    pub fn abandon_partitions(&self) -> AppResult<Option<i64>> {
        Ok(self.store.abandon_partitions()?)
    }

    /// Classifies every client with `candidate` without storing anything; the
    /// matrices compare it with the latest stored run.
    pub fn simulate(&self, candidate: &Pack, as_of: NaiveDate, progress: &dyn Progress) -> AppResult<Distribution> {
        let catalog = self.catalog()?;
        let engine = self.engine(candidate);
        let out = batch::run(self.store.as_ref(), &engine, &catalog, as_of, None, progress)?;
        Ok(out.distribution)
    }

    /// The distribution and migrations of a stored run.
    pub fn run_distribution(&self, run: &RunInfo) -> AppResult<Distribution> {
        let mut d = Distribution { clients: run.clients as u64, ..Default::default() };
        d.tiers =
            self.store.run_distribution(run.run_id, "asset_tier")?.into_iter().map(|(k, n)| (k, n as u64)).collect();
        d.segments =
            self.store.run_distribution(run.run_id, "segment")?.into_iter().map(|(k, n)| (k, n as u64)).collect();
        for (f, t, n) in self.store.run_migrations(run.run_id, "asset_tier")? {
            d.tier_matrix.add_n(&f, &t, n as u64);
        }
        for (f, t, n) in self.store.run_migrations(run.run_id, "segment")? {
            d.segment_matrix.add_n(&f, &t, n as u64);
        }
        Ok(d)
    }

    /// Writes the latest run as CSV (PRODUCT.md 7.1 columns).
    pub fn export_classifications(&self, out: &mut dyn std::io::Write) -> AppResult<u64> {
        let run = self.store.latest_run()?.ok_or(AppError::NoRun)?;
        export::write_csv(self.store.as_ref(), run.run_id, out)
    }

    /// One suitability check, recorded with its inputs in the audit trail.
    pub fn check(&self, req: &CheckRequest, lang: Lang) -> AppResult<CheckOutcome> {
        let catalog = self.catalog()?;
        let product =
            catalog.by_id(&req.product_id).cloned().ok_or_else(|| AppError::UnknownProduct(req.product_id.clone()))?;
        Ok(self.check_as("cli", &catalog, &product, req, lang)?.1)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_redacted_for_logs() {
        assert_eq!(redact_url("postgres://app:s3cret@db:5432/tw"), "postgres://app:***@db:5432/tw");
        assert_eq!(redact_url("sqlite://tierwise.db"), "sqlite://tierwise.db");
        assert_eq!(redact_url("postgres://app@db/tw"), "postgres://app@db/tw");
        assert_eq!(
            redact_url("postgres://app@db/tw?password=s3cret&sslmode=disable"),
            "postgres://app@db/tw?password=***&sslmode=disable"
        );
    }
}
