//! The UI over HTTP: the real server on port 0 with the fixture book,
//! signed in through the sign-in form, with and without htmx.

use crate::support::*;

type Resp = reqwest::blocking::Response;

struct Browser {
    http: reqwest::blocking::Client,
    base: String,
    csrf: String,
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// The value of `<meta name="csrf-token" content="…">`.
fn meta_csrf(html: &str) -> String {
    let i = html.find("name=\"csrf-token\" content=\"").expect("no csrf meta") + 27;
    html[i..].split('"').next().unwrap().to_string()
}

impl TestApp {
    fn form_anonymous(&self) -> Browser {
        Browser { http: client(), base: self.base.clone(), csrf: String::new() }
    }

    /// Signs in through the form and reads the CSRF token off the dashboard.
    fn form_login(&self, user: &str) -> Browser {
        let mut b = self.form_anonymous();
        let r = b.form("/login", &[("username", user), ("password", PASSWORD)]);
        assert_eq!(r.status(), 303, "login {user}");
        assert_eq!(r.headers()["location"], "/");
        let home = b.get("/");
        assert_eq!(home.status(), 200);
        b.csrf = meta_csrf(&home.text().unwrap());
        b
    }
}

impl Browser {
    fn get(&self, path: &str) -> Resp {
        self.http.get(format!("{}{path}", self.base)).send().unwrap()
    }
    fn htmx_get(&self, path: &str) -> Resp {
        self.http.get(format!("{}{path}", self.base)).header("HX-Request", "true").send().unwrap()
    }
    fn text(&self, path: &str) -> String {
        let r = self.get(path);
        assert_eq!(r.status(), 200, "GET {path}");
        r.text().unwrap()
    }
    /// A plain form post (the token in `_csrf`).
    fn form(&self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        if !self.csrf.is_empty() {
            all.push(("_csrf", &self.csrf));
        }
        self.http.post(format!("{}{path}", self.base)).form(&all).send().unwrap()
    }
    /// An htmx post (the token in the header, as app.js sends it).
    fn htmx(&self, path: &str, fields: &[(&str, &str)]) -> Resp {
        self.http
            .post(format!("{}{path}", self.base))
            .header("HX-Request", "true")
            .header("X-CSRF-Token", &self.csrf)
            .form(fields)
            .send()
            .unwrap()
    }
}

#[test]
fn signed_out_visitors_go_to_the_sign_in_page() {
    let s = spawn_app("cn-bank");
    let b = s.form_anonymous();
    let r = b.get("/clients");
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login");
    let page = b.text("/login");
    assert!(page.contains("<form method=\"post\" action=\"/login\""), "{page}");
    assert!(page.contains("登录"));
}

#[test]
fn wrong_passwords_are_told_on_the_form_and_then_locked() {
    let s = spawn_app("cn-bank");
    let b = s.form_anonymous();
    let r = b.form("/login?lang=en", &[("username", "adv_a2"), ("password", "nope-nope-1")]);
    assert_eq!(r.status(), 401);
    let page = r.text().unwrap();
    assert!(page.contains("Wrong username or password") && page.contains("value=\"adv_a2\""), "{page}");
    for _ in 0..4 {
        b.form("/login", &[("username", "adv_a2"), ("password", "nope-nope-1")]);
    }
    let r = b.form("/login", &[("username", "adv_a2"), ("password", PASSWORD)]);
    assert_eq!(r.status(), 429);
    assert!(r.text().unwrap().contains("15 minutes"), "the language chosen on the first visit sticks");
}

#[test]
fn the_language_choice_sticks_and_every_page_has_the_switch() {
    let s = spawn_app("cn-bank");
    let b = s.form_login("adv_a2");
    let zh = b.text("/clients");
    assert!(zh.contains("<html lang=\"zh-CN\">") && zh.contains("href=\"/clients?lang=en\""), "{zh}");
    let r = b.get("/clients?lang=en");
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("tw_lang=en;"), "{cookie}");
    let en = b.text("/");
    assert!(en.contains("<html lang=\"en\">") && en.contains("Clients by asset tier"), "{en}");
    b.get("/?lang=zh");
    assert!(b.text("/").contains("客户层级分布"));
}

#[test]
fn navigation_and_pages_follow_the_role() {
    let s = spawn_app("cn-bank");
    let adv = s.form_login("adv_a2");
    let home = adv.text("/");
    assert!(home.contains("href=\"/clients\"") && home.contains("href=\"/products\""));
    assert!(
        !home.contains("href=\"/compliance\"")
            && !home.contains("href=\"/rules\"")
            && !home.contains("href=\"/admin/users\"")
    );
    assert!(home.contains("<svg") && home.contains("chart-bar"), "server-rendered charts");
    for p in ["/compliance", "/compliance/audit", "/rules", "/admin/users", "/products/new", "/products/P-BOND/edit"] {
        assert_eq!(adv.get(p).status(), 403, "advisor GET {p}");
    }
    assert!(!adv.text("/products").contains("/products/new"));

    let comp = s.form_login("compliance");
    let home = comp.text("/");
    for href in ["/clients", "/compliance", "/compliance/audit", "/products"] {
        assert!(home.contains(&format!("href=\"{href}\"")), "compliance nav {href}");
    }
    assert!(comp.text("/compliance").contains("verdict") || comp.get("/compliance").status() == 200);
    // compliance reads clients but does not serve them: no desk actions
    let c360 = comp.text("/clients/C001");
    assert!(!c360.contains("/clients/C001/check") && !c360.contains("name=\"topic\""), "no desk actions");

    let ops = s.form_login("ops");
    let home = ops.text("/");
    assert!(home.contains("href=\"/rules\"") && !home.contains("href=\"/clients\""));
    assert_eq!(ops.get("/clients").status(), 403);
    assert!(ops.text("/products").contains("/products/P-BOND/edit"));

    let admin = s.form_login("admin");
    assert!(admin.text("/").contains("href=\"/admin/users\""));
    assert!(admin.text("/admin/users").contains("<code>adv_a2</code>"));
}

#[test]
fn the_client_list_filters_pages_and_exports() {
    let s = spawn_app("cn-bank");
    let b = s.form_login("compliance");
    let page = b.text("/clients");
    assert!(page.contains("id=\"client-rows\"") && page.contains("hx-push-url=\"true\""));
    assert!(page.contains("href=\"/clients/C001\"") && page.contains("href=\"/clients/X01\"") == page.contains("X01"));
    // htmx gets the rows alone, with the export link swapped out of band
    let r = b.htmx_get("/clients?q=13800000002");
    assert_eq!(r.headers()["vary"], "HX-Request");
    let part = r.text().unwrap();
    assert!(!part.contains("<html") && part.contains("<tr>") && part.contains("hx-swap-oob"), "{part}");
    assert!(part.contains("/clients/C002") && !part.contains("/clients/C001\""), "{part}");
    assert!(part.contains("/clients/export.csv?q=13800000002"), "{part}");
    // empty selects are no filter; filters AND
    let part = b.htmx_get("/clients?asset_tier=&risk_level=&q=").text().unwrap();
    assert!(part.contains("/clients/C001"));
    // keyset pages: the next link carries the last id
    let r = b.htmx_get("/clients?asset_tier=mass&after=C001").text().unwrap();
    assert!(!r.contains("/clients/C001\""), "{r}");
    let csv = b.get("/clients/export.csv?q=C001");
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().unwrap();
    assert!(csv.starts_with("client_id,") && csv.contains("\nC001,") && !csv.contains("C002"), "{csv}");
}

#[test]
fn the_client_360_shows_everything_and_masks_pii() {
    let s = spawn_app("cn-bank");
    let b = s.form_login("adv_a2");
    let page = b.text("/clients/C001");
    for part in [
        "310101195803121234",
        "王芳",
        "client-head",
        "class=\"list dims\"",
        "/clients/C001/questionnaire",
        "hx-post=\"/clients/C001/questionnaire-link\"",
    ] {
        assert!(page.contains(part), "{part}");
    }
    assert!(!page.contains("已脱敏"));
    let masked = s.form_login("adv_masked").text("/clients/C001");
    assert!(
        !masked.contains("310101195803121234")
            && !masked.contains("13800000001")
            && !masked.contains("wang@example.com")
    );
    assert!(masked.contains("3101**********1234") && masked.contains("已脱敏"));
    assert_eq!(s.form_login("adv_a2").get("/clients/C003").status(), 404, "another advisor's client");
}

#[test]
fn interactions_are_logged_with_the_token_and_re_rendered() {
    let s = spawn_app("cn-bank");
    let b = s.form_login("adv_a2");
    let r = b.http.post(format!("{}/clients/C001/interactions", s.base)).form(&[("channel", "call")]).send().unwrap();
    assert_eq!(r.status(), 403, "a form without _csrf");
    let r = b.form("/clients/C001/interactions", &[("channel", "call"), ("topic", "季度回访")]);
    assert_eq!(r.status(), 303);
    let part = b.htmx("/clients/C001/interactions", &[("channel", "visit"), ("topic", "面谈资产配置")]).text().unwrap();
    assert!(
        part.starts_with("<div id=\"interactions\">") && part.contains("面谈资产配置") && part.contains("季度回访"),
        "{part}"
    );
    let r = b.htmx("/clients/C001/interactions", &[("channel", "fax")]);
    assert_eq!(r.headers()["hx-retarget"], "#interaction-msg");
    assert!(r.text().unwrap().contains("alert-error"));
}

#[test]
fn the_questionnaire_link_works_once_without_sign_in() {
    let s = spawn_app("cn-bank");
    let b = s.form_login("adv_a2");
    let part = b.htmx("/clients/C001/questionnaire-link", &[]).text().unwrap();
    let start = part.find(&format!("{}/q/", s.base)).expect("full link");
    let url = part[start..].split('"').next().unwrap().to_string();
    let path = url.trim_start_matches(&s.base).to_string();
    let client = s.form_anonymous();
    let form = client.text(&path);
    assert!(form.contains("data-questionnaire") && form.contains("data-question=\"q1\""), "{form}");
    let answers = cautious_answers(&s.app);
    let level = s.app.score(None, &answers).unwrap().level;
    let preview = client.form(&format!("{path}/preview"), &[("answers", &answers)]).text().unwrap();
    assert!(preview.contains(&level), "{preview}");
    let r = client.form(&path, &[("answers", &answers)]);
    assert_eq!(r.status(), 200);
    assert!(r.text().unwrap().contains(&level));
    let r = client.get(&path);
    assert_eq!(r.status(), 410);
    assert!(r.text().unwrap().contains("链接无效"));
    assert_eq!(client.get("/q/not-a-token?lang=en").status(), 410);
}

#[test]
fn the_desk_questionnaire_works_without_script_and_keeps_answers_on_error() {
    let s = spawn_app("cn-bank");
    let b = s.form_login("adv_a2");
    let form = b.text("/clients/C001/questionnaire");
    assert!(form.contains("hx-post=\"/questionnaire/preview\"") && form.contains("name=\"_csrf\""));
    let q = s.app.questionnaire(None).unwrap();
    let pairs: Vec<(String, String)> = q.questions().iter().map(|x| (x.id.clone(), x.options[0].id.clone())).collect();
    let mut fields: Vec<(&str, &str)> = pairs.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    // one question unanswered: refused, the other answers stay ticked
    let last = fields.pop().unwrap();
    let r = b.form("/clients/C001/questionnaire", &fields);
    assert_eq!(r.status(), 400);
    let page = r.text().unwrap();
    assert!(page.contains("alert-error") && page.contains("checked"), "{page}");
    fields.push(last);
    let r = b.form("/clients/C001/questionnaire", &fields);
    assert_eq!(r.status(), 200);
    let page = r.text().unwrap();
    assert!(page.contains("<dd class=\"level\">C1"), "{page}");
    let preview = b.htmx("/questionnaire/preview", &[("answers", "q1=A")]).text().unwrap();
    assert!(preview.contains("<progress") && !preview.contains("<html"), "{preview}");
}

#[test]
fn checks_lead_to_sales_only_as_the_verdict_allows() {
    let s = spawn_app("cn-bank");
    let b = s.form_login("adv_a2");
    // a fresh assessment first (the fixture's has expired by now)
    let r = b.form("/clients/C001/questionnaire", &[("answers", &moderate_answers(&s.app))]);
    assert_eq!(r.status(), 200);
    let form = b.text("/clients/C001/check");
    assert!(form.contains("value=\"P-EQ\"") && form.contains("hx-target=\"#check-result\""));
    // match at a branch: cn-bank obliges dual recording for a fund
    let part =
        b.htmx("/clients/C001/check", &[("product_id", "P-BOND"), ("initiated_by", "client"), ("channel", "branch")]);
    let part = part.text().unwrap();
    assert!(part.contains("verdict-match") && part.contains("name=\"recording_ref\""), "{part}");
    let id = part.split("/checks/").nth(1).unwrap().split('/').next().unwrap().to_string();
    let r = b.htmx(&format!("/checks/{id}/sale"), &[]);
    assert_eq!(r.headers()["hx-retarget"], "#sale-msg");
    let r = b.htmx(&format!("/checks/{id}/sale"), &[("recording_ref", "REC-1")]).text().unwrap();
    assert!(r.contains("alert-ok"), "{r}");
    // a private fund for a client who is not qualified: prohibited, no sale form
    let part = b.htmx("/clients/C001/check", &[("product_id", "P-PF")]).text().unwrap();
    assert!(part.contains("verdict-prohibited") && !part.contains("/sale\""), "{part}");
    let bad = b.htmx("/clients/C001/check", &[("product_id", "P-BOND"), ("amount", "abc")]).text().unwrap();
    assert!(bad.contains("alert-error"), "{bad}");
}

#[test]
fn operations_edit_and_add_products() {
    let s = spawn_app("cn-bank");
    let b = s.form_login("ops");
    let form = b.text("/products/P-BOND/edit");
    assert!(form.contains("value=\"0.005\"") && form.contains("action=\"/products/P-BOND\""), "{form}");
    let fields = [
        ("name", "稳健债基二号"),
        ("category", "bond_fund"),
        ("variety", ""),
        ("risk_level", "R3"),
        ("horizon_months", "12"),
        ("min_investment", "1,000"),
        ("investor_requirement", "none"),
        ("annual_fee_rate", "0.006"),
        ("status", "on_sale"),
        ("currency", "CNY"),
    ];
    let r = b.form("/products/P-BOND", &fields);
    assert_eq!(r.status(), 303);
    assert!(b.text("/products?saved=P-BOND").contains("稳健债基二号"));
    let mut new = fields.to_vec();
    new.push(("product_id", "P-NEW"));
    assert_eq!(b.form("/products", &new).status(), 303);
    assert_eq!(b.form("/products", &new).status(), 409, "an existing id is not overwritten by the new form");
    let mut bad = fields.to_vec();
    bad[4] = ("horizon_months", "twelve");
    let r = b.form("/products/P-BOND", &bad);
    assert_eq!(r.status(), 400);
    assert!(r.text().unwrap().contains("horizon_months"));
}

#[test]
fn compliance_verifies_the_audit_chain_and_pages_the_log() {
    let s = spawn_app("cn-bank");
    let b = s.form_login("compliance");
    let page = b.text("/compliance");
    assert!(page.contains("compliance") || page.contains("合规"));
    let part = b.htmx("/compliance/audit/verify", &[]).text().unwrap();
    assert!(part.contains("alert-ok") && part.contains("审计链完整"), "{part}");
    let log = b.text("/compliance/audit?action=auth.");
    assert!(log.contains("auth.login"), "{log}");
    assert!(!log.contains("<code>audit.verify</code>"));
}

#[test]
fn operations_simulate_a_pack() {
    let s = spawn_app("cn-bank");
    let b = s.form_login("ops");
    let page = b.text("/rules");
    assert!(page.contains("cn-bank") && page.contains("cn-csrc"));
    let part = b.htmx("/rules/simulate", &[("pack", "cn-csrc"), ("text", "")]).text().unwrap();
    assert!(part.contains("<svg") && part.matches("class=\"matrix\"").count() == 2, "{part}");
    let bad = b.htmx("/rules/simulate", &[("pack", "cn-bank"), ("text", "id = \"x\"\nnot toml [")]).text().unwrap();
    assert!(bad.contains("alert-error"), "{bad}");
}

#[test]
fn the_admin_creates_and_changes_users() {
    let s = spawn_app("cn-bank");
    let b = s.form_login("admin");
    let r = b.form(
        "/admin/users",
        &[
            ("username", "adv_new"),
            ("display_name", "新人"),
            ("role", "advisor"),
            ("advisor_id", "A9"),
            ("password", "short"),
        ],
    );
    assert_eq!(r.status(), 400);
    let page = r.text().unwrap();
    assert!(page.contains("password") && page.contains("value=\"adv_new\""), "{page}");
    let r = b.form(
        "/admin/users",
        &[
            ("username", "adv_new"),
            ("display_name", "新人"),
            ("role", "advisor"),
            ("advisor_id", "A9"),
            ("password", PASSWORD),
            ("can_view_pii", ""),
        ],
    );
    assert_eq!(r.status(), 303);
    let id = s.app.store.users().unwrap().into_iter().find(|u| u.username == "adv_new").unwrap().user_id;
    let r = b.form(
        &format!("/admin/users/{id}"),
        &[
            ("display_name", "新人"),
            ("role", "team_lead"),
            ("advisor_id", ""),
            ("branch_id", "B01"),
            ("can_view_pii", "false"),
            ("active", "true"),
            ("password", ""),
        ],
    );
    assert_eq!(r.status(), 303);
    let u = s.app.store.users().unwrap().into_iter().find(|u| u.username == "adv_new").unwrap();
    assert_eq!((u.role.as_str(), u.branch_id.as_deref(), u.can_view_pii), ("team_lead", Some("B01"), false));
}

// ---- monitoring and relationship work -------------------------------------------------

fn api_ids(s: &TestApp) -> (i64, i64, i64) {
    let a2 = s.login("adv_a2");
    (crate::work::c001_alert(&a2), crate::work::c001_followup(&a2), crate::work::c001_task(&a2, "retention"))
}

#[test]
fn my_day_lists_the_tasks_and_alerts_and_logs_a_contact_in_place() {
    let s = spawn_work_app("cn-bank");
    let (alert, followup, retention) = api_ids(&s);
    let b = s.form_login("adv_a2");
    let home = b.text("/");
    assert!(home.contains("href=\"/work\"") && home.contains("href=\"/kpis\"") && !home.contains("href=\"/team\""));
    let page = b.text("/work");
    for part in [
        format!("id=\"task-{followup}\""),
        "task task-overdue".to_string(),
        format!("hx-post=\"/work/tasks/{followup}/complete\""),
        format!("id=\"alert-{alert}\""),
        "sev sev-high".into(),
        "高流失风险".into(),
        // the evidence, readably: the numbers and the rule
        "650,000.00".into(),
        "<code>churn_risk == ".into(),
    ] {
        assert!(page.contains(&part), "{part}");
    }
    assert!(!page.contains("C003"), "another advisor's client");
    // the high alert comes before the medium one
    assert!(page.find("sev sev-high").unwrap() < page.find("sev sev-medium").unwrap());

    // log a contact: the row becomes a done line with the next due date and the survey link
    let next = (s.app.today() + chrono::Duration::days(90)).to_string();
    let r = b.htmx(&format!("/work/tasks/{followup}/complete"), &[("channel", "call"), ("outcome", "客户满意")]);
    assert_eq!(r.status(), 200);
    let part = r.text().unwrap();
    assert!(part.trim_start().starts_with(&format!("<li class=\"task task-done\" id=\"task-{followup}\"")), "{part}");
    assert!(part.contains(&next) && part.contains(&format!("{}/s/", s.base)) && !part.contains("<html"), "{part}");
    // a refusal goes to the row's message slot
    let r = b.htmx(&format!("/work/tasks/{retention}/complete"), &[("channel", "fax")]);
    assert_eq!(r.headers()["hx-retarget"], format!("#task-{retention}-msg").as_str());
    assert!(r.text().unwrap().contains("alert-error"));
    let r = b.htmx(&format!("/work/tasks/{followup}/complete"), &[("channel", "call")]);
    assert!(r.text().unwrap().contains("alert-error"), "done once");

    // acknowledge, then close with an outcome
    let part = b.htmx(&format!("/work/alerts/{alert}/acknowledge"), &[]).text().unwrap();
    assert!(part.contains("astatus-acknowledged") && !part.contains("/acknowledge\""), "{part}");
    let r = b.htmx(&format!("/work/alerts/{alert}/close"), &[("outcome", "")]);
    assert_eq!(r.headers()["hx-retarget"], format!("#alert-{alert}-msg").as_str());
    let part = b.htmx(&format!("/work/alerts/{alert}/close"), &[("outcome", "已回访")]).text().unwrap();
    assert!(part.contains("astatus-closed") && part.contains("已回访") && !part.contains("<form"), "{part}");
    assert!(!b.text("/work").contains(&format!("id=\"alert-{alert}\"")), "a closed alert leaves the day");

    // without script: plain forms, back to the page they came from (never another site)
    let other =
        crate::work::id_of(&s.login("adv_a2"), "/api/v1/alerts?client_id=C001", "alert_id", |a| a["status"] == "open");
    let r = b.form(&format!("/work/alerts/{other}/acknowledge"), &[("back", "//evil.example/x")]);
    assert_eq!((r.status().as_u16(), r.headers()["location"].to_str().unwrap()), (303, "/work"));
    let r = b.form(&format!("/work/alerts/{other}/close"), &[("outcome", "ok"), ("back", "/clients/C001")]);
    assert_eq!((r.status().as_u16(), r.headers()["location"].to_str().unwrap()), (303, "/clients/C001"));
    let r = b.http.post(format!("{}/work/alerts/{other}/close", s.base)).form(&[("outcome", "x")]).send().unwrap();
    assert_eq!(r.status(), 403, "a form without _csrf");
    let r = s.form_login("adv_a1").htmx(&format!("/work/tasks/{retention}/complete"), &[("channel", "call")]);
    assert!(r.text().unwrap().contains("alert-error"), "another advisor's task is not found");
}

#[test]
fn the_client_360_shows_alerts_task_history_and_notices() {
    let s = spawn_work_app("cn-bank");
    let (_, followup, _) = api_ids(&s);
    let b = s.form_login("adv_a2");
    b.htmx(&format!("/work/tasks/{followup}/complete"), &[("channel", "visit"), ("outcome", "面谈顺利")]);
    let page = b.text("/clients/C001");
    for part in
        ["id=\"work-card\"", "id=\"client-tasks\"", "高流失风险", "面谈顺利", "task task-done", "满意度调查", "待发送"]
    {
        assert!(page.contains(part), "{part}");
    }
    assert!(page.contains("name=\"back\" value=\"/clients/C001\""));
    // compliance reads it, without the desk's buttons
    let c = s.form_login("compliance").text("/clients/C001");
    assert!(c.contains("id=\"work-card\"") && !c.contains("/work/alerts/") && !c.contains("/work/tasks/"));
    let en = b.text("/clients/C001?lang=en");
    assert!(en.contains("Satisfaction survey") && en.contains("High churn risk") && en.contains("Pending"), "{en}");
}

#[test]
fn the_team_page_shows_the_load_and_applies_proposals() {
    let s = spawn_work_app("cn-bank");
    // A2 over capacity: one client allowed, two served
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("advisors.csv"),
        "advisor_id,name,title,experience_years,capacity,branch_id\nA2,张伟,advisor,3,1,B01\n",
    )
    .unwrap();
    assert!(s.app.import(dir.path(), &mut |_, _| {}).unwrap().committed);
    let b = s.form_login("lead_b01");
    let home = b.text("/");
    assert!(home.contains("href=\"/team\"") && home.contains("href=\"/work\""));
    let page = b.text("/team");
    for part in [
        "李明",
        "张伟",
        "私人银行家",
        "<tr class=\"over\">",
        "tag load-over\">200%",
        "name=\"client_id\" value=\"C004\"",
        "name=\"apply\" value=\"all\"",
    ] {
        assert!(page.contains(part), "{part}: {page}");
    }
    // the branch's task without an advisor (C004), with its contact form
    assert!(page.contains("id=\"unassigned\"") && page.contains("href=\"/clients/C004\""));
    let r = b
        .http
        .post(format!("{}/team/assign", s.base))
        .form(&[("client_id", "C004"), ("apply", "selected")])
        .send()
        .unwrap();
    assert_eq!(r.status(), 403, "a form without _csrf");
    let r = b.form("/team/assign", &[("client_id", "C004"), ("apply", "selected")]);
    assert_eq!(r.status(), 200);
    let page = r.text().unwrap();
    assert!(page.contains("alert-ok") && page.contains("已调整 1 位客户") && page.contains("C004"), "{page}");
    assert!(!page.contains("name=\"client_id\" value=\"C004\""), "no longer proposed");
    assert_eq!(s.form_login("adv_a2").get("/team").status(), 403);
    let other = s.form_login("lead_b02").text("/team");
    assert!(other.contains("周杰") && !other.contains("张伟"));
}

#[test]
fn kpis_and_nps_follow_the_viewer_and_the_period() {
    let s = spawn_work_app("cn-bank");
    let b = s.form_login("adv_a2");
    let page = b.text("/kpis");
    assert!(page.contains("张伟") && !page.contains("李明"), "an advisor sees their own row");
    assert!(page.contains("href=\"/kpis?days=90\" class=\"active\""));
    assert!(b.text("/kpis?days=30").contains("href=\"/kpis?days=30\" class=\"active\""));
    assert!(b.text("/kpis?days=oops").contains("href=\"/kpis?days=90\" class=\"active\""));
    let lead = s.form_login("lead_b01").text("/kpis?days=365");
    assert!(lead.contains("张伟") && lead.contains("李明") && lead.contains("<tfoot>") && !lead.contains("周杰"));
    let all = s.form_login("compliance").text("/kpis");
    assert!(all.contains("周杰"));

    // the dashboard's NPS panel, before and after an answer
    assert!(b.text("/").contains("暂无满意度调查答复"));
    let a2 = s.login("adv_a2");
    let id = crate::work::c001_followup(&a2);
    let done: serde_json::Value =
        a2.post(&format!("/api/v1/tasks/{id}/complete"), serde_json::json!({"channel": "call"})).json().unwrap();
    let path = done["survey_path"].as_str().unwrap().to_string();
    let client = s.form_anonymous();
    let form = client.text(&path);
    assert_eq!(form.matches("type=\"radio\" name=\"nps\"").count(), 11, "{form}");
    assert!(!form.contains("name=\"_csrf\"") && !form.contains("href=\"/clients\""), "a public page");
    let r = client.form(&path, &[("nps", "12"), ("comment", "好")]);
    assert_eq!(r.status(), 400);
    let again = r.text().unwrap();
    assert!(again.contains("alert-error") && again.contains(">好</textarea>"), "{again}");
    let r = client.form(&path, &[("nps", "6"), ("comment", "等待时间较长")]);
    assert_eq!(r.status(), 200);
    assert!(r.text().unwrap().contains("感谢您的反馈"));
    let r = client.get(&path);
    assert_eq!(r.status(), 410);
    assert!(r.text().unwrap().contains("链接不可用"));
    assert_eq!(client.form(&path, &[("nps", "9")]).status(), 410);
    assert!(client.get("/s/nope?lang=en").text().unwrap().contains("Link not available"));

    let home = b.text("/");
    assert!(home.contains("nps-score nps-poor\">-100") && home.contains("财富·养老"), "{home}");
    let en = s.form_login("compliance").text("/?lang=en");
    assert!(en.contains("Client satisfaction (NPS)") && en.contains("By branch"));
    assert!(s.form_login("ops").text("/").contains("id=\"nps\""), "aggregates for every role");
    assert!(
        s.form_login("lead_b02").text("/").contains("暂无满意度调查答复"),
        "another branch's answers are not counted"
    );
}
