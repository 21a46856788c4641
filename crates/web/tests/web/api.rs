//! The API's behaviour end to end: sign-in, CSRF, the questionnaire at the
//! desk and by one-time link, check → warning → confirmed sale, the audit
//! trail's verification against tampering, and the OpenAPI snapshot.

use crate::support::*;
use serde_json::json;

#[test]
fn sign_in_is_rate_limited_and_sessions_end_at_logout() {
    let t = spawn_app("cn-bank");
    let http = t.anonymous();
    let login = |pw: &str| {
        http.post(format!("{}/api/v1/login", t.base))
            .json(&json!({"username": "adv_a2", "password": pw}))
            .send()
            .unwrap()
    };
    assert_eq!(http.get(format!("{}/api/v1/me", t.base)).send().unwrap().status(), 401);
    for _ in 0..5 {
        let r = login("wrong-password-1");
        assert_eq!(r.status(), 401);
        let v: serde_json::Value = r.json().unwrap();
        assert_eq!(v["code"], "unauthenticated");
    }
    let r = login(PASSWORD);
    assert_eq!(r.status(), 429, "locked after five failures, even with the right password");
    // the lock is the username's: a colleague at the same address still signs in
    let s = t.login("adv_a1");
    assert_eq!(s.get("/api/v1/me").status(), 200);
    let cookie_flags = t
        .anonymous()
        .post(format!("{}/api/v1/login", t.base))
        .json(&json!({"username": "adv_a1", "password": PASSWORD}))
        .send()
        .unwrap()
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie_flags.contains("HttpOnly") && cookie_flags.contains("SameSite=Strict"), "{cookie_flags}");
    assert_eq!(s.post("/api/v1/logout", json!(null)).status(), 204);
    assert_eq!(s.get("/api/v1/me").status(), 401);
}

#[test]
fn state_changes_need_the_csrf_token() {
    let t = spawn_app("cn-bank");
    let s = t.login("adv_a2");
    let url = format!("{}/api/v1/clients/C001/interactions", t.base);
    let body = json!({"channel": "call", "topic": "回访"});
    let r = s.http.post(&url).json(&body).send().unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(r.json::<serde_json::Value>().unwrap()["code"], "csrf");
    let r = s.http.post(&url).header("X-CSRF-Token", "0".repeat(64)).json(&body).send().unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(s.post("/api/v1/clients/C001/interactions", body).status(), 201);
    let c = s.json("/api/v1/clients/C001");
    assert_eq!(c["interactions"][0]["topic"], "回访");
    assert_eq!(c["interactions"][0]["advisor_id"], "A2");
}

#[test]
fn errors_have_stable_codes_in_both_languages() {
    let t = spawn_app("cn-bank");
    let s = t.login("adv_a2");
    let zh: serde_json::Value = s.get("/api/v1/clients/NOPE").json().unwrap();
    let en: serde_json::Value = s.get("/api/v1/clients/NOPE?lang=en").json().unwrap();
    assert_eq!(zh["code"], "not_found");
    assert_eq!(en["code"], "not_found");
    assert!(zh["message"].as_str().unwrap().contains("未找到"), "{zh}");
    assert!(en["message"].as_str().unwrap().starts_with("Not found"), "{en}");
    let r = s.post("/api/v1/clients/C001/interactions", json!({"channel": "fax"}));
    assert_eq!(r.status(), 400);
    let v: serde_json::Value = r.json().unwrap();
    assert_eq!(v["code"], "invalid");
    assert_eq!(v["field"], "channel");
    let r = s
        .http
        .post(format!("{}/api/v1/checks?lang=en", t.base))
        .header("X-CSRF-Token", &s.csrf)
        .header("content-type", "application/json")
        .body("{\"client_id\": \"C001\"")
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: serde_json::Value = r.json().unwrap();
    assert_eq!((v["code"].as_str(), v["field"].as_str()), (Some("invalid"), Some("body")), "{v}");
}

#[test]
fn questionnaire_by_link_is_used_once_and_reclassifies() {
    let t = spawn_app("cn-bank");
    let s = t.login("adv_a2");
    let link = s.post("/api/v1/clients/C002/questionnaire-links", json!({}));
    assert_eq!(link.status(), 200);
    let path = link.json::<serde_json::Value>().unwrap()["path"].as_str().unwrap().to_string();
    let token = path.trim_start_matches("/q/").to_string();
    let public = t.anonymous();
    let url = format!("{}/api/v1/public/questionnaire/{token}", t.base);
    let q: serde_json::Value = public.get(&url).send().unwrap().json().unwrap();
    assert!(q["questions"].as_array().unwrap().len() >= 10);
    assert!(!q.to_string().contains("score"), "the form must not show scores");
    let answers = cautious_answers(&t.app);
    let before = s.json("/api/v1/clients/C002");
    assert_eq!(before["classification"]["dimensions"].as_array().map(|d| d.is_empty()), Some(false));
    let r = public.post(&url).json(&json!({"answers": answers})).send().unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().unwrap();
    assert_eq!(v["level"], "C1");
    let r = public.post(&url).json(&json!({"answers": answers})).send().unwrap();
    assert_eq!(r.status(), 410, "a link works once");
    let after = s.json("/api/v1/clients/C002");
    assert_eq!(after["assessments"][0]["channel"], "online");
    assert_eq!(after["assessments"][0]["level"], "C1");
    let risk = after["classification"]["dimensions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["dimension"] == "assessment_status")
        .unwrap()["value"]
        .clone();
    assert_eq!(risk, "valid", "reclassified at once");
    assert_eq!(public.get(format!("{}/api/v1/public/questionnaire/nope", t.base)).send().unwrap().status(), 410);
}

#[test]
fn a_warning_becomes_a_sale_only_with_the_clients_confirmation() {
    // cn-csrc: a client-initiated purchase above tolerance is a warning (Art 19)
    let t = spawn_app("cn-csrc");
    let s = t.login("adv_a2");
    let r = s.post("/api/v1/clients/C001/assessments", json!({"answers": moderate_answers(&t.app)}));
    assert_eq!(r.status(), 200);
    let check = s.post("/api/v1/checks", json!({"client_id": "C001", "product_id": "P-EQ", "initiated_by": "client"}));
    assert_eq!(check.status(), 200);
    let c: serde_json::Value = check.json().unwrap();
    assert_eq!(c["verdict"], "warn", "{c}");
    assert_eq!(c["needs_confirmation"], true);
    assert!(c["reasons"].as_array().unwrap().iter().any(|r| r["code"] == "risk_exceeds_tolerance"));
    let id = c["check_id"].as_i64().unwrap();
    let r = s.post(&format!("/api/v1/checks/{id}/sale"), json!({}));
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<serde_json::Value>().unwrap()["field"], "confirmed_by");
    let r = s.post(
        &format!("/api/v1/checks/{id}/sale"),
        json!({"confirmed_by": "王芳", "confirmation_channel": "branch", "recording_ref": "REC-001"}),
    );
    assert_eq!(r.status(), 200);
    assert_eq!(s.post(&format!("/api/v1/checks/{id}/sale"), json!({"confirmed_by": "王芳"})).status(), 409);
    let adv = s.post("/api/v1/checks", json!({"client_id": "C001", "product_id": "P-EQ", "initiated_by": "advisor"}));
    let adv: serde_json::Value = adv.json().unwrap();
    assert_eq!(adv["verdict"], "prohibited");
    let r = s.post(&format!("/api/v1/checks/{}/sale", adv["check_id"]), json!({"confirmed_by": "王芳"}));
    assert_eq!(r.status(), 400);

    let comp = t.login("compliance").json("/api/v1/compliance");
    let confirmed = comp["confirmations"].as_array().unwrap();
    assert_eq!(confirmed.len(), 1);
    assert_eq!(confirmed[0]["sale"]["confirmed_by"], "王芳");
    assert_eq!(confirmed[0]["sale"]["recording_ref"], "REC-001");
    assert_eq!(comp["prohibited"].as_array().unwrap().len(), 1);
}

#[test]
fn an_edited_or_deleted_audit_event_breaks_verification() {
    let t = spawn_app("cn-bank");
    let s = t.login("adv_a2");
    for _ in 0..3 {
        s.post("/api/v1/checks", json!({"client_id": "C001", "product_id": "P-BOND"}));
    }
    let comp = t.login("compliance");
    let v: serde_json::Value = comp.post("/api/v1/audit/verify", json!(null)).json().unwrap();
    assert_eq!(v["intact"], true, "{v}");
    let events = v["events"].as_i64().unwrap();
    assert!(events > 10);

    let db = rusqlite::Connection::open(&t.db).unwrap();
    db.execute_batch("DROP TRIGGER audit_events_no_update; UPDATE audit_events SET payload = '{}' WHERE seq = 5;")
        .unwrap();
    let v: serde_json::Value = comp.post("/api/v1/audit/verify", json!(null)).json().unwrap();
    assert_eq!(v["intact"], false);
    assert_eq!(v["broken_seq"], 5, "{v}");
}

#[test]
fn the_openapi_description_does_not_change_by_accident() {
    use utoipa::OpenApi;
    let now = serde_json::to_string_pretty(&tierwise_web::ApiDoc::openapi()).unwrap() + "\n";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &now).unwrap();
    }
    let stored = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        stored == now,
        "the API description changed: review the difference, then run with UPDATE_OPENAPI=1 to accept it ({})",
        path.display()
    );
    for route in [
        "/api/v1/clients",
        "/api/v1/checks",
        "/api/v1/checks/{id}/sale",
        "/api/v1/audit/verify",
        "/api/v1/alerts/{id}/close",
        "/api/v1/tasks/{id}/complete",
        "/api/v1/workbench",
        "/api/v1/events/transactions",
        "/api/v1/public/survey/{token}",
    ] {
        assert!(now.contains(&format!("\"{route}\"")), "{route} is described");
    }
}
