//! `spawn_app()`: the real server on port 0 with a fresh SQLite database
//! holding the fixture book (crates/cli/tests/fixtures/book) plus one
//! client of a second branch, classified as of 2025-06-30, and one user
//! per role (and masked variants).

use std::path::PathBuf;
use std::sync::Arc;
use tierwise_app::desk::NewUser;
use tierwise_app::{App, Config};

pub const PASSWORD: &str = "test-Password-1";

/// (username, role, advisor, branch, pii)
pub type TestUser = (&'static str, &'static str, Option<&'static str>, Option<&'static str>, bool);

pub const USERS: &[TestUser] = &[
    ("adv_a2", "advisor", Some("A2"), Some("B01"), true),
    ("adv_a1", "advisor", Some("A1"), Some("B01"), true),
    ("adv_masked", "advisor", Some("A2"), Some("B01"), false),
    ("lead_b01", "team_lead", None, Some("B01"), false),
    ("lead_b02", "team_lead", None, Some("B02"), false),
    ("compliance", "compliance", None, None, true),
    ("compliance_masked", "compliance", None, None, false),
    ("ops", "operations", None, None, false),
    ("admin", "admin", None, None, false),
];

/// Every raw PII value of the book: no masked role may ever receive one.
pub const RAW_PII: &[&str] = &[
    "310101195803121234",
    "13800000001",
    "wang@example.com",
    "310101199602291111",
    "13800000002",
    "310101197508202222",
    "13800000003",
    "310101199011113333",
    "13800000004",
    "320101198001015555",
    "13900000009",
];

pub struct TestApp {
    pub base: String,
    pub app: Arc<App>,
    pub db: PathBuf,
    _dir: tempfile::TempDir,
}

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../cli/tests/fixtures/book")
}

pub fn spawn_app(pack: &str) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let cfg = Config {
        db_url: format!("sqlite://{}", db.display()),
        pack: pack.into(),
        packs_dir: None,
        questionnaires_dir: None,
        time_zone: "Asia/Shanghai".into(),
    };
    let app = App::open(&cfg).unwrap();
    app.store.migrate().unwrap();
    let r = app.import(&fixture(), &mut |_, _| {}).unwrap();
    assert!(r.committed, "{:?}", r.errors);
    // a second branch with its own advisor and client
    let extra = dir.path().join("extra");
    std::fs::create_dir(&extra).unwrap();
    std::fs::write(
        extra.join("advisors.csv"),
        "advisor_id,name,title,experience_years,capacity,branch_id\nA3,周杰,advisor,5,300,B02\n",
    )
    .unwrap();
    std::fs::write(
        extra.join("clients.csv"),
        "client_id,name,birth_date,id_number,phone,branch_id,advisor_id,onboarded_at\nX01,钱进,1980-01-01,320101198001015555,13900000009,B02,A3,2020-01-01\n",
    )
    .unwrap();
    let r = app.import(&extra, &mut |_, _| {}).unwrap();
    assert!(r.committed, "{:?}", r.errors);
    let as_of = chrono::NaiveDate::from_ymd_opt(2025, 6, 30).unwrap();
    app.classify(as_of, &|_: u64| {}).unwrap();
    for (name, role, advisor, branch, pii) in USERS {
        app.create_user(
            None,
            &NewUser {
                username: name.to_string(),
                display_name: name.to_string(),
                role: role.to_string(),
                advisor_id: advisor.map(String::from),
                branch_id: branch.map(String::from),
                password: PASSWORD.into(),
                can_view_pii: Some(*pii),
            },
        )
        .unwrap();
    }
    let app = Arc::new(app);
    let (tx, rx) = std::sync::mpsc::channel();
    let served = app.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            tierwise_web::serve(served, listener).await.unwrap();
        });
    });
    let addr = rx.recv().unwrap();
    TestApp { base: format!("http://{addr}"), app, db, _dir: dir }
}

/// A signed-in HTTP client.
pub struct Session {
    pub http: reqwest::blocking::Client,
    pub base: String,
    pub csrf: String,
}

impl TestApp {
    pub fn anonymous(&self) -> reqwest::blocking::Client {
        reqwest::blocking::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    pub fn login(&self, user: &str) -> Session {
        let http = self.anonymous();
        let r = http
            .post(format!("{}/api/v1/login", self.base))
            .json(&serde_json::json!({"username": user, "password": PASSWORD}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "login {user}");
        let me: serde_json::Value = r.json().unwrap();
        Session { http, base: self.base.clone(), csrf: me["csrf_token"].as_str().unwrap().to_string() }
    }
}

impl Session {
    pub fn get(&self, path: &str) -> reqwest::blocking::Response {
        self.http.get(format!("{}{path}", self.base)).send().unwrap()
    }
    pub fn send(&self, method: &str, path: &str, body: serde_json::Value) -> reqwest::blocking::Response {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        self.http
            .request(m, format!("{}{path}", self.base))
            .header("X-CSRF-Token", &self.csrf)
            .json(&body)
            .send()
            .unwrap()
    }
    pub fn post(&self, path: &str, body: serde_json::Value) -> reqwest::blocking::Response {
        self.send("POST", path, body)
    }
    pub fn json(&self, path: &str) -> serde_json::Value {
        let r = self.get(path);
        assert_eq!(r.status(), 200, "GET {path}");
        r.json().unwrap()
    }
}

/// The answers that put a client in the lowest level of the default questionnaire.
pub fn cautious_answers(app: &App) -> String {
    let q = app.questionnaire(None).unwrap();
    q.questions().iter().map(|x| format!("{}={}", x.id, x.options[0].id)).collect::<Vec<_>>().join(";")
}

/// Answers that give a middle level (C2 or C3), not the lowest category:
/// start from the boldest answers and make them cautious one question at a
/// time (never choosing an option that puts the client in the lowest category).
pub fn moderate_answers(app: &App) -> String {
    let q = app.questionnaire(None).unwrap();
    let pick = |x: &tierwise_questionnaire::Question, bold: bool| {
        let mut opts: Vec<_> = x.options.iter().filter(|o| !o.lowest).collect();
        opts.sort_by_key(|o| o.score);
        if bold {
            opts[opts.len() - 1].id.clone()
        } else {
            opts[0].id.clone()
        }
    };
    let mut chosen: Vec<String> = q.questions().iter().map(|x| pick(x, true)).collect();
    for i in 0..=chosen.len() {
        let a = q.questions().iter().zip(&chosen).map(|(x, o)| format!("{}={o}", x.id)).collect::<Vec<_>>().join(";");
        let r = q.score_str(&a).unwrap();
        if !r.lowest && matches!(r.level.as_str(), "C2" | "C3") {
            return a;
        }
        if i < chosen.len() {
            chosen[i] = pick(&q.questions()[i], false);
        }
    }
    panic!("no moderate answer set in the default questionnaire");
}

/// `spawn_app` plus the monitoring sweep as of the run's date: alerts,
/// tasks and notices for the advisors of the book.
pub fn spawn_work_app(pack: &str) -> TestApp {
    let t = spawn_app(pack);
    let as_of = chrono::NaiveDate::from_ymd_opt(2025, 6, 30).unwrap();
    t.app.monitor(as_of, &|_: u64| {}).unwrap();
    t
}
