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
