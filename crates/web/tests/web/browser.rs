//! The advisor's walks in a real browser (Debian's headless chromium through
//! chromedriver), in zh and in en; screenshots of each step go to
//! target/screenshots/:
//!
//! - sign in → search → client 360 → questionnaire at the desk (with the
//!   live preview) → suitability check → warning → the client's
//!   confirmation → the sale;
//! - the demo advisor's day: My day → log a contact on a due task (the row
//!   turns done, with the next follow-up and the survey link) → acknowledge
//!   and close an alert → the client 360's task history → the client
//!   answers the survey → the dashboard's NPS; then the team lead's page.

use crate::support::*;
use crate::webdriver::Browser;
use serde_json::json;

fn walk(lang: &str) {
    // cn-csrc: a client-initiated purchase above tolerance is a warning (Art 19)
    let t = spawn_app("cn-csrc");
    let Some(b) = Browser::start(if lang == "zh" { "zh-CN" } else { "en-US" }) else { return };
    let shot = |name: &str| b.screenshot(&format!("{lang}-{name}"));

    b.goto(&format!("{}/login?lang={lang}", t.base));
    b.type_into("input[name=username]", "adv_a2");
    b.type_into("input[name=password]", PASSWORD);
    shot("01-login");
    b.click("form[action='/login'] button[type=submit]");
    b.find("meta[name=csrf-token]");
    shot("02-dashboard");

    b.goto(&format!("{}/clients", t.base));
    b.type_into("input[name=q]", "13800000001");
    // the search narrows the list (htmx, as the user types)
    b.wait_gone("#client-rows", "C002");
    b.wait_text("#client-rows", "C001");
    shot("03-search");
    b.click("#client-rows a[href='/clients/C001']");
    b.wait_text("body", "310101195803121234");
    shot("04-client-360");

    b.click("a[href='/clients/C001/questionnaire']");
    b.find("form[data-questionnaire]");
    for pair in moderate_answers(&t.app).split(';') {
        let (q, opts) = pair.split_once('=').unwrap();
        for o in opts.split(',') {
            b.click(&format!("form[data-questionnaire] input[name='{q}'][value='{o}']"));
        }
    }
    let level = t.app.score(None, &moderate_answers(&t.app)).unwrap().level;
    b.wait_text("#preview", &level);
    shot("05-questionnaire-preview");
    b.click("form[data-questionnaire] button[type=submit]");
    b.wait_text("dd.level", &level);
    shot("06-questionnaire-stored");

    b.goto(&format!("{}/clients/C001/check", t.base));
    b.click("select[name=product_id] option[value='P-EQ']");
    b.click("form[action='/clients/C001/check'] button[type=submit]");
    b.find("#check-result .verdict-warn");
    b.find("#check-result li[data-code='risk_exceeds_tolerance']");
    shot("07-check-warn");
    if !b.find_all("#sale-area input[name=recording_ref]").is_empty() {
        b.type_into("#sale-area input[name=recording_ref]", "REC-2026-0001");
    }
    b.click("#sale-area button[type=submit]");
    b.find("#sale-area .alert-ok");
    shot("08-confirmed-sale");

    // what the browser did is what compliance sees
    let comp = t.login("compliance").json("/api/v1/compliance");
    let sale = &comp["confirmations"][0]["sale"];
    assert_eq!(sale["confirmed_by"], "王芳", "{comp}");
    assert_eq!(comp["confirmations"][0]["client_id"], "C001");
    let _ = json!(null);
}

#[test]
fn an_advisors_walk_in_chinese() {
    walk("zh");
}

#[test]
fn an_advisors_walk_in_english() {
    walk("en");
}

/// Whether the page scrolls sideways (it must not at 820 px).
fn overflows(b: &Browser) -> bool {
    b.eval("return document.documentElement.scrollWidth > document.documentElement.clientWidth;").as_bool()
        != Some(false)
}

fn day(lang: &str) {
    let t = spawn_work_app("cn-bank");
    // the demo logins: the advisor serves the book's first advised client's advisor (A2: C001, C002)
    t.app.ensure_demo_users().unwrap();
    let password = tierwise_app::desk::DEMO_PASSWORD;
    let a2 = t.login("adv_a2");
    let (followup, alert) = (crate::work::c001_followup(&a2), crate::work::c001_alert(&a2));
    let Some(b) = Browser::start(if lang == "zh" { "zh-CN" } else { "en-US" }) else { return };
    let shot = |name: &str| b.screenshot(&format!("day-{lang}-{name}"));
    let zh = lang == "zh";

    b.goto(&format!("{}/login?lang={lang}", t.base));
    b.type_into("input[name=username]", "advisor");
    b.type_into("input[name=password]", password);
    b.click("form[action='/login'] button[type=submit]");
    b.find("meta[name=csrf-token]");
    b.click("nav.mainnav a[href='/work']");
    let task = format!("#task-{followup}");
    b.find(&format!("{task}.task-overdue form.contact"));
    b.find(&format!("#alert-{alert} dl.evidence"));
    shot("01-my-day");

    // log a contact on a due task: the row turns into a done line
    let outcome = if zh { "电话回访，客户满意" } else { "Called: the client is happy" };
    b.click(&format!("{task} select[name=channel] option[value='visit']"));
    b.type_into(&format!("{task} input[name=outcome]"), outcome);
    b.click(&format!("{task} button[type=submit]"));
    b.find(&format!("li.task-done{task}"));
    let next = (t.app.today() + chrono::Duration::days(90)).to_string();
    b.wait_text(&task, &next);
    let survey = b.property(&format!("{task} .survey-link input"), "value");
    assert!(survey.starts_with(&format!("{}/s/", t.base)), "{survey}");
    shot("02-contact-logged");

    // acknowledge, then close the alert with its outcome
    let a = format!("#alert-{alert}");
    b.click(&format!("{a} button.ack"));
    b.find(&format!("{a} .astatus-acknowledged"));
    b.type_into(
        &format!("{a} input[name=outcome]"),
        if zh { "已回访，暂无流失意向" } else { "Called: staying with us" },
    );
    b.click(&format!("{a} form.close button[type=submit]"));
    b.find(&format!("{a} .astatus-closed"));
    shot("03-alert-closed");

    // a tablet's width: one column, nothing scrolls sideways
    b.resize(820, 1100);
    b.goto(&format!("{}/work", t.base));
    b.find("#tasks");
    assert!(!overflows(&b), "My day scrolls sideways at 820 px");
    shot("04-my-day-820px");
    b.resize(1280, 1000);

    // the client 360 shows the task history and the notices
    b.goto(&format!("{}/clients/C001", t.base));
    b.wait_text("#client-tasks", outcome);
    b.find("#client-tasks li.task-done");
    b.find("#work-card table.notices");
    b.eval("document.getElementById('work-card').scrollIntoView();");
    shot("05-client-360-history");

    // the client answers the survey (no account), once
    b.goto(&survey);
    b.click("label.nps-option input[value='9']");
    b.type_into("textarea[name=comment]", if zh { "服务很周到" } else { "Very helpful" });
    shot("06-survey");
    b.click("form button[type=submit]");
    b.wait_text("main h1", if zh { "感谢您的反馈" } else { "Thank you for your feedback" });
    shot("07-survey-thanks");

    // it counts in the dashboard's NPS and the KPIs
    b.goto(&format!("{}/", t.base));
    b.wait_text("#nps .nps-overall", "100");
    b.eval("document.getElementById('nps').scrollIntoView();");
    shot("08-dashboard-nps");
    b.goto(&format!("{}/kpis", t.base));
    b.wait_text("table.kpis", "100");
    shot("09-kpis");

    // the team lead's page, at 1280 and 820 px
    b.click("form[action='/logout'] button[type=submit]");
    b.type_into("input[name=username]", "lead");
    b.type_into("input[name=password]", password);
    b.click("form[action='/login'] button[type=submit]");
    b.click("nav.mainnav a[href='/team']");
    b.find("#proposals input[name=client_id][value='C004']");
    shot("10-team");
    b.resize(820, 1100);
    b.goto(&format!("{}/team", t.base));
    assert!(!overflows(&b), "the team page scrolls sideways at 820 px");
    shot("11-team-820px");
    b.click("#proposals button[value=all]");
    b.find(".alert-ok ul.moves");
    shot("12-team-applied");
}

#[test]
fn an_advisors_day_in_chinese() {
    day("zh");
}

#[test]
fn an_advisors_day_in_english() {
    day("en");
}
