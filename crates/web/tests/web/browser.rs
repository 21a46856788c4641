//! The advisor's walk in a real browser (Debian's headless chromium through
//! chromedriver): sign in → search → client 360 → questionnaire at the
//! desk (with the live preview) → suitability check → warning → the
//! client's confirmation → the sale, in zh and in en. Screenshots of each
//! step go to target/screenshots/.

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
