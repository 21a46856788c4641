//! `tierwise`: the one binary. This crate owns the terminal — arguments,
//! progress bars, tables, exit codes — and nothing else: every command calls
//! the application layer or an engine.

mod output;

use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tierwise_app::{App, Config};
use tierwise_domain::{Channel, InitiatedBy, Lang};
use tierwise_questionnaire::Questionnaire;
use tierwise_suitability::CheckRequest;

#[derive(Parser)]
#[command(
    name = "tierwise",
    version,
    about = "Client classification and suitability for banks, brokers and wealth managers"
)]
struct Cli {
    /// Database URL: sqlite://PATH (default) or postgres://…
    #[arg(long, global = true, env = "TIERWISE_DB", default_value = "sqlite://tierwise.db")]
    db: String,
    /// Rule pack: a name (cn-bank, cn-csrc) or the path of a pack file
    #[arg(long, global = true, env = "TIERWISE_PACK", default_value = "cn-bank")]
    pack: String,
    /// Language of messages and names
    #[arg(long, global = true, env = "TIERWISE_LANG", default_value = "zh")]
    lang: LangArg,
    /// The institution's time zone (IANA name)
    #[arg(long, global = true, env = "TIERWISE_TZ", default_value = "Asia/Shanghai")]
    tz: String,
    /// Folder of rule-pack files that override the built-in ones by name
    #[arg(long, global = true, env = "TIERWISE_PACKS_DIR")]
    packs_dir: Option<PathBuf>,
    /// Folder of questionnaire definitions (*.toml)
    #[arg(long, global = true, env = "TIERWISE_QUESTIONNAIRES")]
    questionnaires: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LangArg {
    Zh,
    En,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web UI and API
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        /// On an empty database, first generate, import and classify a demo book
        #[arg(long)]
        demo: bool,
        #[command(flatten)]
        work: ServeWork,
    },
    /// Run every monitoring detection (alerts, tasks, client notices) over the latest run
    Monitor {
        /// Evaluation date (default: today in the institution's time zone)
        #[arg(long)]
        as_of: Option<NaiveDate>,
    },
    /// Propose advisors for unassigned and mismatched clients by service plan
    Assign {
        /// Apply the proposals (audited; both advisors are notified)
        #[arg(long)]
        apply: bool,
        /// Print at most this many proposals
        #[arg(long, default_value_t = 50)]
        show: usize,
    },
    /// The client notification outbox
    Notifications {
        #[command(subcommand)]
        cmd: NotificationsCmd,
    },
    /// Import clients.csv, advisors.csv, products.csv, holdings.csv, transactions.csv, assessments.csv, interactions.csv from DIR
    Import { dir: PathBuf },
    /// Classify every client and store the run
    Classify {
        /// Evaluation date (default: today in the institution's time zone)
        #[arg(long)]
        as_of: Option<NaiveDate>,
        /// Classify only partition I of N of a partitioned run (opened by the
        /// first partition; invisible until `--finish-partitions`)
        #[arg(long, value_name = "I/N", value_parser = parse_partition, conflicts_with_all = ["finish_partitions", "abandon_partitions"])]
        partition: Option<(i64, i64)>,
        /// Once every partition is done: compute the deciles over the whole run and make it visible
        #[arg(long, conflicts_with_all = ["as_of", "abandon_partitions"])]
        finish_partitions: bool,
        /// Give up the open partitioned run (nothing of it was ever visible)
        #[arg(long, conflicts_with = "as_of")]
        abandon_partitions: bool,
        /// Store the run only; leave the alerts and tasks to a separate `tierwise monitor`
        #[arg(long)]
        skip_monitor: bool,
    },
    /// Export stored results
    Export {
        #[command(subcommand)]
        what: ExportWhat,
    },
    /// Check one sale for suitability
    Check(CheckArgs),
    /// Risk questionnaires
    Questionnaire {
        #[command(subcommand)]
        cmd: QuestionnaireCmd,
    },
    /// Rule packs
    Rules {
        #[command(subcommand)]
        cmd: RulesCmd,
    },
    /// Generate a synthetic book in the import format
    Generate {
        #[arg(long)]
        clients: u64,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// The book's "today" (default: today)
        #[arg(long)]
        as_of: Option<NaiveDate>,
    },
    /// Show a client's latest classification with the explanation of every dimension
    Explain { client: String },
    /// Create or upgrade the database schema
    Migrate,
    /// Staff accounts
    User {
        #[command(subcommand)]
        cmd: UserCmd,
    },
    /// The audit trail
    Audit {
        #[command(subcommand)]
        cmd: AuditCmd,
    },
}

#[derive(Subcommand)]
enum UserCmd {
    /// Add a member of staff (the password is read from --password, or
    /// TIERWISE_USER_PASSWORD, or the first line of standard input)
    Add {
        username: String,
        /// advisor | team_lead | compliance | operations | admin
        #[arg(long)]
        role: String,
        #[arg(long)]
        name: Option<String>,
        /// the advisor record an advisor account serves as
        #[arg(long)]
        advisor: Option<String>,
        /// the branch a team lead leads
        #[arg(long)]
        branch: Option<String>,
        /// may read unmasked PII (default: advisors and compliance)
        #[arg(long)]
        pii: Option<bool>,
        #[arg(long, env = "TIERWISE_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
}

/// What `serve` runs beside the server.
#[derive(Args, Clone)]
struct ServeWork {
    /// Run `monitor` every day at this local time (HH:MM)
    #[arg(long, env = "TIERWISE_MONITOR_AT", value_parser = parse_hhmm)]
    monitor_at: Option<chrono::NaiveTime>,
    #[command(flatten)]
    webhook: WebhookArgs,
}

/// Where client notices are delivered.
#[derive(Args, Clone)]
struct WebhookArgs {
    /// Deliver client notices to this URL (HTTP POST, JSON, HMAC-SHA256 signed)
    #[arg(long = "webhook", env = "TIERWISE_WEBHOOK_URL")]
    webhook_url: Option<String>,
    /// The shared secret of the signature (required with --webhook)
    #[arg(long, env = "TIERWISE_WEBHOOK_SECRET", hide_env_values = true)]
    webhook_secret: Option<String>,
    /// A notice is dead-lettered after this many failed attempts
    #[arg(long, env = "TIERWISE_WEBHOOK_MAX_ATTEMPTS", default_value_t = 8)]
    webhook_max_attempts: i64,
    /// Seconds before the first retry; doubled after each failure (at most 6 hours)
    #[arg(long, env = "TIERWISE_WEBHOOK_BACKOFF", default_value_t = 30)]
    webhook_backoff: i64,
}

impl WebhookArgs {
    fn webhook(&self) -> Result<Option<tierwise_app::work::Webhook>> {
        let Some(url) = self.webhook_url.clone() else { return Ok(None) };
        let Some(secret) = self.webhook_secret.clone().filter(|s| !s.is_empty()) else {
            bail!("--webhook needs --webhook-secret (or TIERWISE_WEBHOOK_SECRET): receivers check the signature")
        };
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            bail!("--webhook: {url:?} is not an http:// or https:// URL");
        }
        Ok(Some(tierwise_app::work::Webhook {
            url,
            secret,
            max_attempts: self.webhook_max_attempts.max(1),
            backoff_seconds: self.webhook_backoff.max(0),
            timeout: std::time::Duration::from_secs(10),
        }))
    }
}

fn parse_hhmm(s: &str) -> std::result::Result<chrono::NaiveTime, String> {
    chrono::NaiveTime::parse_from_str(s, "%H:%M").map_err(|_| format!("{s:?} is not a time HH:MM"))
}

#[derive(Subcommand)]
enum NotificationsCmd {
    /// Write the outbox as CSV
    Export {
        #[arg(long)]
        out: Option<PathBuf>,
        /// pending | delivered | dead
        #[arg(long)]
        status: Option<String>,
    },
    /// Deliver the due notices to the webhook once, and print what happened
    Deliver {
        #[command(flatten)]
        webhook: WebhookArgs,
    },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Verify the hash chain of the audit trail; exit 1 when it is broken
    Verify,
}

#[derive(Subcommand)]
enum ExportWhat {
    /// The latest run, one row per client
    Classifications {
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Args)]
struct CheckArgs {
    #[arg(long)]
    client: String,
    #[arg(long)]
    product: String,
    /// Amount (default: the product's minimum investment)
    #[arg(long)]
    amount: Option<String>,
    #[arg(long, default_value = "client")]
    initiated_by: String,
    #[arg(long, default_value = "online")]
    channel: String,
    /// Local date-time of the sale (default: now)
    #[arg(long)]
    at: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum QuestionnaireCmd {
    /// Validate a questionnaire definition
    Validate { file: PathBuf },
    /// Score an answer set
    Score {
        file: PathBuf,
        #[arg(long)]
        answers: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum RulesCmd {
    /// List the rule packs
    List,
    /// Show a rule pack
    Show { name: String },
    /// Validate a rule-pack file
    Validate { file: PathBuf },
    /// Classify with a candidate pack without storing, and compare with the stored results
    Simulate {
        file: PathBuf,
        #[arg(long)]
        as_of: Option<NaiveDate>,
    },
}

impl Cli {
    fn lang(&self) -> Lang {
        match self.lang {
            LangArg::Zh => Lang::Zh,
            LangArg::En => Lang::En,
        }
    }
    fn config(&self) -> Config {
        let default_dir = |d: &str| Some(PathBuf::from(d)).filter(|p| p.is_dir());
        Config {
            db_url: self.db.clone(),
            pack: self.pack.clone(),
            packs_dir: self.packs_dir.clone().or_else(|| default_dir("packs")),
            questionnaires_dir: self.questionnaires.clone().or_else(|| default_dir("questionnaires")),
            time_zone: self.tz.clone(),
        }
    }
}

/// mimalloc rather than the system's allocator: a classification run, an
/// import and the server allocate and free millions of small values (a
/// client's strings, a chunk's rows) across threads, where glibc's malloc
/// took a tenth of a run's CPU time. With its `override` feature it serves
/// SQLite's own allocations too (a copy of every bound text value: ~15 a
/// result row), and `.cargo/config.toml` builds SQLite without its memory
/// statistics, whose global mutex every one of those took (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    // A closed pipe (`tierwise export classifications | head`) ends the
    // program quietly, as for every Unix tool, instead of a panic in print.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(1);
        }
    }
}

fn run(cli: Cli) -> Result<i32> {
    let lang = cli.lang();
    let cfg = cli.config();
    match cli.command {
        Command::Serve { addr, demo, work } => serve(&cfg, &addr, demo, &work, lang),
        Command::Monitor { as_of } => {
            let app = App::open(&cfg)?;
            let as_of = as_of.unwrap_or_else(|| app.today());
            monitor(&app, as_of, lang)?;
            Ok(0)
        }
        Command::Assign { apply, show } => {
            let app = App::open(&cfg)?;
            assign(&app, apply, show, lang)
        }
        Command::Notifications { cmd: NotificationsCmd::Export { out, status } } => {
            let app = App::open(&cfg)?;
            let n = write_out(out.as_deref(), &mut |w| Ok(app.export_notices(status.as_deref(), w)?))?;
            if let Some(p) = out {
                eprintln!("{} {n} → {}", output::t(lang, "已导出通知", "exported notices:"), p.display());
            }
            Ok(0)
        }
        Command::Notifications { cmd: NotificationsCmd::Deliver { webhook } } => {
            let app = App::open(&cfg)?;
            let Some(hook) = webhook.webhook()? else { bail!("give the webhook: --webhook URL --webhook-secret S") };
            let r = app.deliver_notices(&hook, 1000)?;
            let line =
                [("已送达", "delivered", r.delivered), ("待重试", "to retry", r.retried), ("死信", "dead", r.dead)];
            println!("{}", output::counts(lang, &line));
            Ok(0)
        }
        Command::User { cmd: UserCmd::Add { username, role, name, advisor, branch, pii, password } } => {
            let app = App::open(&cfg)?;
            app.store.migrate()?;
            let password = match password {
                Some(p) => p,
                None => {
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line)?;
                    line.trim_end_matches(['\r', '\n']).to_string()
                }
            };
            let id = app.create_user(
                None,
                &tierwise_app::desk::NewUser {
                    username: username.clone(),
                    display_name: name.unwrap_or_default(),
                    role,
                    advisor_id: advisor,
                    branch_id: branch,
                    password,
                    can_view_pii: pii,
                },
            )?;
            println!("{} {username} (#{id})", output::t(lang, "已添加用户", "added user"));
            Ok(0)
        }
        Command::Audit { cmd: AuditCmd::Verify } => {
            let app = App::open(&cfg)?;
            app.store.migrate()?;
            let v = app.verify_audit(None)?;
            match &v.broken {
                None => {
                    println!(
                        "{}: {} {} · head {}",
                        output::t(lang, "审计链完整", "audit trail intact"),
                        v.events,
                        output::t(lang, "条事件", "events"),
                        v.head
                    );
                    Ok(0)
                }
                Some((seq, why)) => {
                    println!("{}: #{seq}: {why}", output::t(lang, "审计链已被篡改", "audit trail BROKEN at event"));
                    Ok(1)
                }
            }
        }
        Command::Import { dir } => {
            let app = App::open(&cfg)?;
            import(&app, &dir, lang)
        }
        Command::Classify { as_of, partition, finish_partitions, abandon_partitions, skip_monitor } => {
            let app = App::open(&cfg)?;
            if finish_partitions {
                let run = finish_partitions_cmd(&app, lang)?;
                if !skip_monitor {
                    monitor(&app, run.as_of, lang)?;
                }
                return Ok(0);
            }
            if abandon_partitions {
                match app.abandon_partitions()? {
                    Some(id) => println!("{} #{id}", output::t(lang, "已放弃分区分类", "abandoned partitioned run")),
                    None => println!("{}", output::t(lang, "没有未完成的分区分类", "no partitioned run is open")),
                }
                return Ok(0);
            }
            let as_of = as_of.unwrap_or_else(|| app.today());
            match partition {
                Some((part, partitions)) => classify_partition(&app, as_of, part, partitions, lang)?,
                None => {
                    classify(&app, as_of, lang)?;
                    // PRODUCT.md 7.1: a run stores results, migrations and alerts
                    if !skip_monitor {
                        monitor(&app, as_of, lang)?;
                    }
                }
            }
            Ok(0)
        }
        Command::Export { what: ExportWhat::Classifications { out } } => {
            let app = App::open(&cfg)?;
            let n = write_out(out.as_deref(), &mut |w| Ok(app.export_classifications(w)?))?;
            if let Some(p) = out {
                eprintln!("{} {n} → {}", output::t(lang, "已导出客户", "exported clients:"), p.display());
            }
            Ok(0)
        }
        Command::Check(args) => check(&cfg, args, lang),
        Command::Questionnaire { cmd } => questionnaire(cmd, lang),
        Command::Rules { cmd } => rules(&cfg, cmd, lang),
        Command::Generate { clients, out, seed, as_of } => {
            let as_of = as_of.unwrap_or_else(|| chrono::Local::now().date_naive());
            generate(clients, seed, as_of, &out, lang)?;
            Ok(0)
        }
        Command::Explain { client } => {
            let app = App::open(&cfg)?;
            explain(&app, &client, lang)
        }
        Command::Migrate => {
            tierwise_app::open_store(&cfg.db_url)?.migrate()?;
            println!("{}", output::t(lang, "数据库结构已是最新", "the database schema is up to date"));
            Ok(0)
        }
    }
}

/// Writes an export to standard output, or to a file written beside and
/// then renamed: a failed export never leaves half a file.
fn write_out(out: Option<&Path>, f: &mut dyn FnMut(&mut dyn std::io::Write) -> Result<u64>) -> Result<u64> {
    let Some(p) = out else { return f(&mut std::io::stdout().lock()) };
    let tmp = p.with_extension("tmp");
    let mut file = std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let n = f(&mut file)?;
    file.sync_all()?;
    std::fs::rename(&tmp, p)?;
    Ok(n)
}

fn import(app: &App, dir: &Path, lang: Lang) -> Result<i32> {
    let bar = output::Bar::rows();
    let report = app.import(dir, &mut |file, n| bar.set(file, n))?;
    bar.finish();
    for f in &report.files {
        println!("{:<18} {:>10} {}", f.file, f.rows, output::t(lang, "行", "rows"));
    }
    if report.committed {
        println!("{}", output::t(lang, "导入成功：已全部写入。", "import committed: every row stored."));
        return Ok(0);
    }
    for e in &report.errors {
        eprintln!("{e}");
    }
    if report.error_count > report.errors.len() as u64 {
        eprintln!(
            "… {} {}",
            report.error_count - report.errors.len() as u64,
            output::t(lang, "个错误未列出", "more errors not listed")
        );
    }
    eprintln!(
        "{} {} {}",
        output::t(lang, "导入失败：", "import rejected:"),
        report.error_count,
        output::t(lang, "个错误，未写入任何数据。", "errors; nothing was stored.")
    );
    Ok(2)
}

fn classify(app: &App, as_of: NaiveDate, lang: Lang) -> Result<()> {
    let bar = output::Bar::clients();
    let started = std::time::Instant::now();
    let (run, dist) = app.classify(as_of, &bar)?;
    bar.finish();
    run_summary(app, &run, &dist, started, lang);
    Ok(())
}

/// The line and tables printed after a run is stored.
fn run_summary(
    app: &App,
    run: &tierwise_store::RunInfo,
    dist: &tierwise_app::Distribution,
    started: std::time::Instant,
    lang: Lang,
) {
    println!(
        "{} #{} · {} {} · {} {} {} · {} {} · {:.1}s",
        output::t(lang, "分类完成", "classification run"),
        run.run_id,
        output::t(lang, "评估日", "as of"),
        run.as_of,
        output::t(lang, "规则包", "rule pack"),
        run.rule_pack,
        run.rule_version,
        run.clients,
        output::t(lang, "位客户", "clients"),
        started.elapsed().as_secs_f64()
    );
    output::distribution(&app.pack, dist, lang);
}

/// `I/N` with 1 ≤ I ≤ N.
fn parse_partition(s: &str) -> std::result::Result<(i64, i64), String> {
    let bad = || format!("{s:?} is not a partition: write I/N with 1 ≤ I ≤ N, e.g. 2/8");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n): (i64, i64) = (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
    if i < 1 || n < 1 || i > n {
        return Err(bad());
    }
    Ok((i, n))
}

fn classify_partition(app: &App, as_of: NaiveDate, part: i64, partitions: i64, lang: Lang) -> Result<()> {
    let bar = output::Bar::clients();
    let started = std::time::Instant::now();
    let (p, out) = app.classify_partition(as_of, part, partitions, &bar)?;
    bar.finish();
    match out {
        None => println!(
            "{} {part}/{partitions} {} #{} {}",
            output::t(lang, "分区", "partition"),
            output::t(lang, "属于分类", "of run"),
            p.run_id,
            output::t(lang, "已完成，未重算", "is already done")
        ),
        Some((run, _)) => println!(
            "{} {part}/{partitions} {} #{} {} · {} {} · {} {} · {:.1}s",
            output::t(lang, "分区", "partition"),
            output::t(lang, "属于分类", "of run"),
            run.run_id,
            output::t(lang, "完成", "done"),
            output::t(lang, "评估日", "as of"),
            run.as_of,
            run.clients,
            output::t(lang, "位客户", "clients"),
            started.elapsed().as_secs_f64()
        ),
    }
    Ok(())
}

fn finish_partitions_cmd(app: &App, lang: Lang) -> Result<tierwise_store::RunInfo> {
    let started = std::time::Instant::now();
    let (run, dist) = app.finish_partitions()?;
    run_summary(app, &run, &dist, started, lang);
    Ok(run)
}

fn explain(app: &App, client: &str, lang: Lang) -> Result<i32> {
    let Some(latest) = app.store.latest_run()? else {
        bail!("there is no classification run yet: run `tierwise classify` first")
    };
    // the client's row of the latest run (a point lookup, not a scan of the run)
    let Some((run, row)) = app.store.client_history(client)?.into_iter().find(|(r, _)| r.run_id == latest.run_id)
    else {
        bail!("client {client:?} is not in run #{}", latest.run_id)
    };
    let Some(stored) = app.store.explanation(run.run_id, client)? else {
        bail!("client {client:?} is not in run #{}", run.run_id)
    };
    let ex = tierwise_classify::Explanation::from_stored(&stored)?;
    // the pack version that produced the run, as stored with it
    let pack = app.run_pack(&run)?;
    let value = |dim: &str| tierwise_app::desk::stored_value(&row, dim);
    println!(
        "{client} · {} #{} · {} {} · {} {} {}",
        output::t(lang, "分类", "run"),
        run.run_id,
        output::t(lang, "评估日", "as of"),
        run.as_of,
        output::t(lang, "规则包", "rule pack"),
        run.rule_pack,
        run.rule_version
    );
    for line in tierwise_classify::render_explanation(&pack, &ex, &value, lang) {
        println!("  {line}");
    }
    if let Some(prev) = &row.previous_segment {
        println!("  {}: {} → {}", output::t(lang, "分群迁移", "segment migration"), prev, row.segment);
    }
    Ok(0)
}

fn check(cfg: &Config, a: CheckArgs, lang: Lang) -> Result<i32> {
    let app = App::open(cfg)?;
    let initiated_by = InitiatedBy::parse(&a.initiated_by).map_err(|e| anyhow::anyhow!("--initiated-by: {e}"))?;
    let channel = Channel::parse(&a.channel).map_err(|e| anyhow::anyhow!("--channel: {e}"))?;
    let at = match &a.at {
        Some(s) => tierwise_domain::parse_timestamp(s, app.tz).map_err(|e| anyhow::anyhow!("--at: {e}"))?,
        None => app.now_local(),
    };
    let catalog = app.catalog()?;
    let Some(product) = catalog.by_id(&a.product) else { bail!("no product with id {:?}", a.product) };
    let amount = match &a.amount {
        Some(s) => tierwise_domain::parse_money(s).map_err(|e| anyhow::anyhow!("--amount: {e}"))?,
        None => product.min_investment,
    };
    let req = CheckRequest { client_id: a.client, product_id: a.product, amount, initiated_by, channel, at };
    let outcome = app.check(&req, lang)?;
    if a.json {
        println!("{}", outcome.to_json());
    } else {
        output::check(&outcome, lang);
    }
    Ok(0)
}

fn questionnaire(cmd: QuestionnaireCmd, lang: Lang) -> Result<i32> {
    let load = |file: &Path| -> Result<Questionnaire, i32> {
        Questionnaire::load(file).map_err(|errs| {
            for e in &errs {
                eprintln!("{e}");
            }
            eprintln!("{} {}", errs.len(), output::t(lang, "个错误", "error(s)"));
            1
        })
    };
    match cmd {
        QuestionnaireCmd::Validate { file } => match load(&file) {
            Ok(q) => {
                let (lo, hi) = q.reachable_range();
                println!(
                    "{}: {} · {} {} · {} {lo}–{hi}",
                    file.display(),
                    output::t(lang, "有效", "valid"),
                    q.questions().len(),
                    output::t(lang, "道题", "questions"),
                    output::t(lang, "分数范围", "score range")
                );
                Ok(0)
            }
            Err(code) => Ok(code),
        },
        QuestionnaireCmd::Score { file, answers, json } => {
            let q = match load(&file) {
                Ok(q) => q,
                Err(code) => return Ok(code),
            };
            match q.score_str(&answers) {
                Ok(r) => {
                    let v = serde_json::json!({
                        "score": r.score,
                        "level": r.level.as_str(),
                        "lowest": r.lowest,
                        "horizon_months": r.horizon_months,
                        "varieties": r.varieties.as_ref().map(|v| v.iter().map(|x| x.as_str()).collect::<Vec<_>>()),
                        "goal": r.goal.map(|g| g.as_str()),
                    });
                    if json {
                        println!("{v}");
                    } else {
                        println!(
                            "{} {} · {} {}{}",
                            output::t(lang, "得分", "score"),
                            r.score.unwrap_or(0),
                            output::t(lang, "等级", "level"),
                            r.level,
                            if r.lowest { output::t(lang, "（最低类别）", " (lowest category)") } else { "" }
                        );
                    }
                    Ok(0)
                }
                Err(e) => {
                    eprintln!("{e}");
                    Ok(1)
                }
            }
        }
    }
}

fn rules(cfg: &Config, cmd: RulesCmd, lang: Lang) -> Result<i32> {
    match cmd {
        RulesCmd::List => {
            for (name, _) in tierwise_rules::BUILTIN {
                let (p, src) = tierwise_rules::load(name, cfg.packs_dir.as_deref())?;
                let from = match src {
                    tierwise_rules::PackSource::Builtin(_) => output::t(lang, "内置", "built-in").to_string(),
                    tierwise_rules::PackSource::File(f) => f.display().to_string(),
                };
                let mark = if *name == cfg.pack { "*" } else { " " };
                println!("{mark} {:<10} {:<10} {} ({from})", p.id, p.version, p.name.get(lang));
            }
            Ok(0)
        }
        RulesCmd::Show { name } => {
            let (p, _) = tierwise_rules::load(&name, cfg.packs_dir.as_deref())?;
            output::pack(&p, lang);
            Ok(0)
        }
        RulesCmd::Validate { file } => match tierwise_rules::load_file(&file) {
            Ok(p) => {
                println!("{}: {} ({} {})", file.display(), output::t(lang, "有效", "valid"), p.id, p.version);
                Ok(0)
            }
            Err(tierwise_rules::LoadError::Invalid(errs)) => {
                for e in &errs.0 {
                    eprintln!("{e}");
                }
                eprintln!("{} {}", errs.0.len(), output::t(lang, "个错误", "error(s)"));
                Ok(1)
            }
            Err(e) => Err(e.into()),
        },
        RulesCmd::Simulate { file, as_of } => {
            let app = App::open(cfg)?;
            let candidate = tierwise_rules::load_file(&file)?;
            let as_of = as_of.unwrap_or_else(|| app.today());
            let bar = output::Bar::clients();
            let dist = app.simulate(&candidate, as_of, &bar)?;
            bar.finish();
            let current = app.store.latest_run()?;
            println!(
                "{} {} {} · {} {} · {}",
                output::t(lang, "模拟", "simulation of"),
                candidate.id,
                candidate.version,
                output::t(lang, "评估日", "as of"),
                as_of,
                match &current {
                    Some(r) => format!(
                        "{} #{} ({} {})",
                        output::t(lang, "对比当前结果", "compared with run"),
                        r.run_id,
                        r.rule_pack,
                        r.rule_version
                    ),
                    None => output::t(lang, "尚无已存结果可对比", "no stored run to compare with").to_string(),
                }
            );
            println!("{}", output::t(lang, "（未写入任何数据）", "(nothing was stored)"));
            output::distribution(&candidate, &dist, lang);
            Ok(0)
        }
    }
}

fn generate(clients: u64, seed: u64, as_of: NaiveDate, out: &Path, lang: Lang) -> Result<()> {
    let bar = output::Bar::clients();
    bar.total_clients(clients);
    let opts = tierwise_generate::GenerateOptions { clients, seed, as_of };
    let s = tierwise_generate::generate(&opts, out, &mut |n| bar.set_clients(n))?;
    bar.finish();
    println!(
        "{} {}: {} {}, {} {}, {} {}, {} {}, {} {}, {} {}, {} {}",
        output::t(lang, "已生成", "generated in"),
        out.display(),
        s.clients,
        output::t(lang, "客户", "clients"),
        s.advisors,
        output::t(lang, "理财经理", "advisors"),
        s.products,
        output::t(lang, "产品", "products"),
        s.holdings,
        output::t(lang, "持仓", "holdings"),
        s.transactions,
        output::t(lang, "交易", "transactions"),
        s.assessments,
        output::t(lang, "评估", "assessments"),
        s.interactions,
        output::t(lang, "互动", "interactions")
    );
    Ok(())
}

fn monitor(app: &App, as_of: NaiveDate, lang: Lang) -> Result<()> {
    let bar = output::Bar::clients();
    let started = std::time::Instant::now();
    let s = app.monitor(as_of, &bar)?;
    bar.finish();
    println!(
        "{} · {} {} · {} #{} · {} {} · {:.1}s",
        output::t(lang, "监控完成", "monitoring done"),
        output::t(lang, "评估日", "as of"),
        s.as_of,
        output::t(lang, "分类批次", "run"),
        s.run_id,
        s.clients,
        output::t(lang, "位客户", "clients"),
        started.elapsed().as_secs_f64()
    );
    let line = [
        ("新增预警", "alerts opened", s.alerts_opened),
        ("已解除", "cleared", s.alerts_cleared),
        ("新增任务", "tasks opened", s.tasks_opened),
        ("已结束任务", "tasks finished", s.tasks_finished),
        ("待发客户通知", "client notices queued", s.notices_queued),
    ];
    println!("  {}", output::counts(lang, &line));
    println!("{}", output::t(lang, "未关闭预警（按类型）", "open alerts by kind"));
    for (kind, n) in &s.open_alerts {
        let label = tierwise_monitor::AlertKind::parse(kind).map_or(kind.as_str(), |k| k.name(lang));
        println!("  {:<24} {} {:>9}", kind, output::pad(label, 22), n);
    }
    Ok(())
}

fn assign(app: &App, apply: bool, show: usize, lang: Lang) -> Result<i32> {
    let v = app.assign(None, apply, None)?;
    println!(
        "{:<14} {:<18} {:<10} {:<10} {}",
        output::t(lang, "客户", "client"),
        output::t(lang, "客户分群", "segment"),
        output::t(lang, "原理财经理", "from"),
        output::t(lang, "建议", "to"),
        output::t(lang, "原因", "why")
    );
    for p in v.proposals.iter().take(show) {
        println!(
            "{:<14} {:<18} {:<10} {:<10} {}",
            p.client_id,
            p.segment,
            p.from.as_deref().unwrap_or("-"),
            p.to,
            p.why
        );
    }
    if v.proposals.len() > show {
        println!("… {} {}", v.proposals.len() - show, output::t(lang, "条未列出", "more not shown"));
    }
    println!(
        "{} {} · {} {}",
        output::t(lang, "建议调整", "proposals"),
        v.proposals.len(),
        output::t(lang, "无合适理财经理（容量已满或无资质）", "left unplaced (no eligible advisor with room)"),
        v.unplaced.len()
    );
    if apply {
        println!("{} {}", output::t(lang, "已调整客户", "clients reassigned:"), v.applied);
    } else if !v.proposals.is_empty() {
        println!("{}", output::t(lang, "加 --apply 执行调整。", "run with --apply to make these changes."));
    }
    Ok(0)
}

/// `serve`'s helpers: the daily sweep and the webhook delivery, each on
/// its own thread (they block on the store and the network).
fn start_background(app: &Arc<App>, work: &ServeWork, lang: Lang) -> Result<()> {
    if let Some(at) = work.monitor_at {
        let app = app.clone();
        std::thread::Builder::new().name("tierwise-monitor".into()).spawn(move || loop {
            let now = app.now_local();
            let mut next = now.date().and_time(at);
            if next <= now {
                next += chrono::Duration::days(1);
            }
            let wait = (next - now).to_std().unwrap_or(std::time::Duration::from_secs(60));
            std::thread::sleep(wait);
            match app.monitor(app.today(), &|_| {}) {
                Ok(s) => eprintln!(
                    "monitor {} · run #{} · alerts +{} -{} · tasks +{}",
                    s.as_of, s.run_id, s.alerts_opened, s.alerts_cleared, s.tasks_opened
                ),
                Err(e) => eprintln!("monitor failed: {e}"),
            }
        })?;
        println!("  {} {}", output::t(lang, "每日监控时间", "daily monitoring at"), at.format("%H:%M"));
    }
    if let Some(hook) = work.webhook.webhook()? {
        let app = app.clone();
        println!(
            "  {} {}",
            output::t(lang, "客户通知投递至", "client notices delivered to"),
            tierwise_app::redact_url(&hook.url)
        );
        std::thread::Builder::new().name("tierwise-webhook".into()).spawn(move || loop {
            match app.deliver_notices(&hook, 200) {
                Ok(r) if r.delivered + r.retried + r.dead > 0 => continue,
                Ok(_) => {}
                Err(e) => eprintln!("webhook delivery failed: {e}"),
            }
            std::thread::sleep(std::time::Duration::from_secs(5));
        })?;
    }
    Ok(())
}

fn serve(cfg: &Config, addr: &str, demo: bool, work: &ServeWork, lang: Lang) -> Result<i32> {
    let app = App::open(cfg)?;
    if demo && app.store.counts()?.clients == 0 {
        let dir = std::env::temp_dir().join(format!("tierwise-demo-{}", std::process::id()));
        // TIERWISE_DEMO_CLIENTS lets tests use a smaller demo book
        let n: u64 = std::env::var("TIERWISE_DEMO_CLIENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
        println!("{} ({n})", output::t(lang, "空数据库：正在生成演示数据…", "empty database: generating a demo book…"));
        generate(n, 42, app.today(), &dir, lang)?;
        let code = import(&app, &dir, lang)?;
        let _ = std::fs::remove_dir_all(&dir);
        if code != 0 {
            bail!("the demo import failed");
        }
        classify(&app, app.today(), lang)?;
        monitor(&app, app.today(), lang)?;
    }
    let logins = if demo { app.ensure_demo_users()? } else { Vec::new() };
    let app = Arc::new(app);
    // the dashboards' counts of the latest run are computed once and kept:
    // do it now rather than in the first person's request
    let warm = app.clone();
    std::thread::spawn(move || {
        if let Ok(Some(run)) = warm.store.latest_run() {
            let _ = warm.store.run_counts(run.run_id);
        }
        // the team and KPI pages read each advisor's book in the last two runs
        for run in warm.store.runs().unwrap_or_default().iter().take(2) {
            let _ = warm.store.advisor_books(run.run_id);
        }
        let _ = warm.warm_team_plans();
    });
    start_background(&app, work, lang)?;
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
        let local = listener.local_addr()?;
        println!("Tierwise {} http://{local}/", output::t(lang, "已启动：", "is running at"));
        for (user, role) in &logins {
            println!(
                "  {}: {user} / {}  ({role})",
                output::t(lang, "演示登录", "demo login"),
                tierwise_app::desk::DEMO_PASSWORD
            );
        }
        println!("  API: http://{local}/api/docs");
        tierwise_web::serve(app, listener).await?;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(0)
}
