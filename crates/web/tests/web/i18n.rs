//! Every text of the UI exists in zh-CN and en: the two Fluent files have
//! the same keys, and every key the templates and the sources use is in
//! both. Templates carry no language of their own: no Chinese at all, and
//! no English outside `tr.t(…)`.

use std::path::{Path, PathBuf};
use tierwise_web::{missing_keys, template_keys};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, ext, out);
        } else if p.extension().is_some_and(|x| x == ext) {
            out.push(p);
        }
    }
}

fn locales() -> (String, String) {
    (read(&root().join("locales/zh-CN/main.ftl")), read(&root().join("locales/en/main.ftl")))
}

fn templates() -> Vec<PathBuf> {
    let mut out = Vec::new();
    files(&root().join("templates"), "html", &mut out);
    assert!(!out.is_empty(), "no templates found");
    out
}

/// Literals that the key scanner takes for keys but are HTTP header names
/// (`headers.insert("x-frame-options", …)` in the security headers).
const NOT_KEYS: &[&str] = &["x-content-type-options", "x-frame-options", "referrer-policy", "content-security-policy"];

#[test]
fn every_used_key_is_in_both_languages() {
    let (zh, en) = locales();
    let mut sources = templates();
    files(&root().join("src"), "rs", &mut sources);
    let mut used = Vec::new();
    for f in &sources {
        used.extend(template_keys(&read(f)));
    }
    used.retain(|k| !NOT_KEYS.contains(&k.as_str()));
    assert!(used.len() > 100, "the scanner found only {} keys: does it still see `tr.t(\"…\")`?", used.len());
    let missing = missing_keys(&zh, &en, &used);
    assert!(missing.is_empty(), "{missing:#?}");
}

#[test]
fn the_scanner_sees_how_templates_call_the_translator() {
    let keys = template_keys(r#"<h1>{{ tr.t("nav-clients") }}</h1>{% call choose("x", tr.t("col-tier"), tiers) %}"#);
    assert_eq!(keys, vec!["nav-clients".to_string(), "col-tier".to_string()]);
}

/// Codes shown through their Fluent label (`prefix-code`), built at run time.
#[test]
fn every_code_label_is_in_both_languages() {
    use tierwise_domain::{
        BusinessLine, Channel, ClientKind, Gender, InteractionChannel, InvestorRequirement, ProductCategory,
        ProductStatus, ProfessionalStatus, RiskLevel, Variety,
    };
    let (zh, en) = locales();
    let mut keys: Vec<String> = Vec::new();
    let mut add = |prefix: &str, codes: &[&str]| keys.extend(codes.iter().map(|c| format!("{prefix}-{c}")));
    add("cat", ProductCategory::NAMES);
    add("variety", Variety::NAMES);
    add("line", BusinessLine::NAMES);
    add("req", InvestorRequirement::NAMES);
    add("pstatus", ProductStatus::NAMES);
    add("channel", Channel::NAMES);
    add("ich", InteractionChannel::NAMES);
    add("kind", ClientKind::NAMES);
    add("gender", Gender::NAMES);
    add("professional", ProfessionalStatus::NAMES);
    add("level", RiskLevel::NAMES);
    add("role", tierwise_app::access::Role::NAMES);
    add("verdict", &["match", "warn", "prohibited", "reassess"]);
    add(
        "reason",
        &[
            "not_on_sale",
            "below_minimum",
            "requires_qualified_investor",
            "requires_private_fund_qualified",
            "requires_professional",
            "assessment_missing",
            "assessment_expired",
            "material_change",
            "first_purchase_needs_branch_assessment",
            "lowest_category",
            "risk_exceeds_tolerance",
            "horizon_exceeds",
            "variety_not_accepted",
            "advisor_initiated_mismatch",
        ],
    );
    // monitoring and relationship work
    add("severity", &["high", "medium", "low"]);
    add("astatus", &["open", "acknowledged", "closed"]);
    add("tstatus", &["open", "done", "cancelled"]);
    add("nstatus", &["pending", "delivered", "dead"]);
    add("title", tierwise_domain::AdvisorTitle::NAMES);
    add("txn", tierwise_domain::TxnKind::NAMES);
    add("why", &["unassigned", "unknown_advisor", "title_below_plan", "too_few_years", "other_branch"]);
    add(
        "outcome",
        &["cleared", "superseded", "contact_logged", "plan_changed", "reassessed", "condition_cleared", "contacted"],
    );
    let missing = missing_keys(&zh, &en, &keys);
    assert!(missing.is_empty(), "{missing:#?}");
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3000}'..='\u{303F}' | '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{FF00}'..='\u{FFEF}')
}

/// `t` without what lies between each `open` and its `close`.
fn strip(t: &str, pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    let mut rest = t;
    loop {
        let next = pairs.iter().filter_map(|(o, c)| rest.find(o).map(|i| (i, *o, *c))).min();
        let Some((i, open, close)) = next else {
            out.push_str(rest);
            return out;
        };
        out.push_str(&rest[..i]);
        out.push(' ');
        rest = match rest[i + open.len()..].find(close) {
            Some(j) => &rest[i + open.len() + j + close.len()..],
            None => "",
        };
    }
}

/// The text of a template outside expressions, statements and tags.
fn visible_text(t: &str) -> String {
    let code = strip(t, &[("{{", "}}"), ("{%", "%}"), ("{#", "#}")]);
    strip(&code, &[("<", ">")])
}

#[test]
fn templates_hold_no_language_of_their_own() {
    for f in templates() {
        let t = read(&f);
        if let Some(c) = t.chars().find(|c| is_cjk(*c)) {
            panic!("{}: Chinese text {c:?} belongs in the Fluent files", f.display());
        }
        let text = visible_text(&t);
        let words: Vec<&str> = text.split(|c: char| !c.is_ascii_alphabetic()).filter(|w| w.len() > 1).collect();
        assert!(words.is_empty(), "{}: English text outside tr.t(…): {words:?}", f.display());
    }
}
