#![allow(clippy::unwrap_used, clippy::expect_used)]
use super::*;

fn builtin(name: &str) -> Pack {
    load(name, None).unwrap().0
}

#[test]
fn shipped_packs_validate() {
    for (name, _) in BUILTIN {
        let p = builtin(name);
        assert_eq!(p.id, *name);
        assert!(!p.version.is_empty());
        assert_eq!(p.segments.len(), 8);
        assert_eq!(p.rules.len(), RULE_DIMS.len());
    }
    assert_eq!(builtin("cn-bank").validity_months, 12);
    assert_eq!(builtin("cn-csrc").validity_months, 24);
    assert_eq!(builtin("cn-csrc").suitability.mismatch_policy, MismatchPolicy::ByInitiator);
    assert_eq!(builtin("cn-bank").suitability.mismatch_policy, MismatchPolicy::RiskProhibits);
}

#[test]
fn default_segments_are_in_the_specified_order_with_service_plans() {
    let p = builtin("cn-bank");
    let ids: Vec<_> = p.segments.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "hnw-growth",
            "hnw-preserve",
            "wealth-growth",
            "wealth-retiree",
            "wealth-balanced",
            "mass-potential",
            "mass-engaged",
            "mass-basic"
        ]
    );
    let pb = &p.segment("hnw-growth").unwrap().plan;
    assert_eq!(pb.max_clients_per_advisor, Some(30));
    assert_eq!(pb.contact_every_days, Some(30));
    assert_eq!(p.segment("wealth-retiree").unwrap().plan.contact_every_days, Some(90));
    assert_eq!(p.segment("mass-potential").unwrap().plan.contact_every_days, Some(180));
    assert_eq!(p.segment("mass-engaged").unwrap().plan.contact_every_days, None);
    assert_eq!(p.segment("mass-basic").unwrap().plan.contact_every_days, None);
}

#[test]
fn every_dimension_has_zh_and_en_names() {
    let p = builtin("cn-bank");
    for d in pack::ALL_DIMENSIONS {
        assert!(!p.dimension_name(d, tierwise_domain::Lang::Zh).is_empty());
        assert_ne!(p.dimension_name(d, tierwise_domain::Lang::En), "");
    }
    assert_eq!(p.value_name("asset_tier", "hnw", tierwise_domain::Lang::Zh), "高净值");
    assert_eq!(p.value_name("risk_preference", "balanced", tierwise_domain::Lang::Zh), "稳健型");
}

fn with(replace: &str, by: &str) -> Result<Pack, PackErrors> {
    let text = BUILTIN[0].1;
    assert!(text.contains(replace), "fixture text not found: {replace}");
    Pack::parse(&text.replacen(replace, by, 1), "candidate.toml")
}

fn one_error(replace: &str, by: &str) -> PackError {
    let errs = with(replace, by).unwrap_err();
    errs.0.into_iter().next().unwrap()
}

#[test]
fn validation_names_place_line_and_reason() {
    // (what to change, into what, place expected, message fragment)
    let cases: &[(&str, &str, &str, &str)] = &[
        ("\"aum >= hnw_min\"", "\"aum >= hnw_mn\"", "dimensions.asset_tier.rules[0].when", "hnw_mn"),
        ("\"aum >= hnw_min\"", "\"aum >= \"", "dimensions.asset_tier.rules[0].when", "column"),
        (
            "{ value = \"hnw\", when",
            "{ value = \"hwn\", when",
            "dimensions.asset_tier.rules[0].value",
            "not one of the values",
        ),
        (
            "\"asset_tier == 'hnw' and risk_preference == 'aggressive'\"",
            "\"asset_tier == 'hwn'\"",
            "segments[0].when",
            "hwn",
        ),
        (
            "\"lines_used >= 2 and has_payroll_employer\"",
            "\"lines_used >= 2 and churn_risk == 'high'\"",
            "dimensions.depth.rules[0].when",
            "decided at or after depth",
        ),
        ("validity_months = 12", "validity_months = 0", "assessment.validity_months", "between 1 and 120"),
        ("wealth_min = 500_000", "wealth_min = 0.5", "params.wealth_min", "floating-point"),
        (
            "id = \"mass-basic\"\nname = { zh = \"大众·基础\", en = \"Mass · basic\" }\nwhen = \"true\"",
            "id = \"mass-basic\"\nname = { zh = \"大众·基础\", en = \"Mass · basic\" }\nwhen = \"aum > 0\"",
            "segments[7].when",
            "must be `true`",
        ),
        ("id = \"hnw-preserve\"", "id = \"hnw-growth\"", "segments[1].id", "duplicate"),
        (
            "name = { zh = \"客户层级\", en = \"Asset tier\" }",
            "name = { zh = \"客户层级\", en = \"\" }",
            "dimensions.asset_tier.name.en",
            "English",
        ),
        ("[windows]", "[windows]\ncolour = 1", "file", "unknown field"),
    ];
    for (from, to, place, frag) in cases {
        let e = one_error(from, to);
        assert_eq!(&e.place, place, "{from} → {to}: {e}");
        assert!(e.message.contains(frag) || e.to_string().contains(frag), "{from} → {to}: {e}");
        assert!(e.line.is_some() || e.place.starts_with("assessment"), "no line for {e}");
        assert!(e.to_string().starts_with("candidate.toml"), "{e}");
    }
}

#[test]
fn errors_point_at_the_line_of_the_condition() {
    let text = BUILTIN[0].1;
    let line = text.lines().position(|l| l.contains("\"aum >= hnw_min\"")).unwrap() + 1;
    let e = one_error("\"aum >= hnw_min\"", "\"aum >= nope\"");
    assert_eq!(e.line, Some(line));
}

#[test]
fn all_errors_are_reported_at_once() {
    let text = BUILTIN[0].1.replacen("aum >= hnw_min", "aum >= x1", 1).replacen("aum >= wealth_min", "aum >= x2", 1);
    let errs = Pack::parse(&text, "c.toml").unwrap_err();
    assert_eq!(errs.0.len(), 2, "{errs}");
}

#[test]
fn unknown_pack_names_the_known_ones() {
    let e = load("cn-nope", None).unwrap_err().to_string();
    assert!(e.contains("cn-bank") && e.contains("cn-csrc"), "{e}");
}
