//! What the terminal shows: progress bars, tables, a check's verdict.

use indicatif::{ProgressBar, ProgressStyle};
use tierwise_app::{Distribution, Progress};
use tierwise_domain::Lang;
use tierwise_rules::{DimensionRules, Pack, RULE_DIMS};
use tierwise_suitability::CheckOutcome;

/// Picks the Chinese or the English text.
pub fn t(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

/// A progress bar on stderr, drawn only on a terminal.
pub struct Bar(ProgressBar);

impl Bar {
    pub fn rows() -> Bar {
        let b = ProgressBar::new_spinner();
        b.set_style(
            ProgressStyle::with_template("{spinner} {msg} {pos} rows ({per_sec})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        Bar(b)
    }
    pub fn clients() -> Bar {
        let b = ProgressBar::new(0);
        b.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} clients ({per_sec}, eta {eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Bar(b)
    }
    pub fn set(&self, file: &str, n: u64) {
        self.0.set_message(file.to_string());
        self.0.set_position(n);
    }
    pub fn total_clients(&self, n: u64) {
        self.0.set_length(n);
    }
    pub fn set_clients(&self, n: u64) {
        self.0.set_position(n);
    }
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl Progress for Bar {
    fn total(&self, clients: u64) {
        self.0.set_length(clients);
    }
    fn done(&self, clients: u64) {
        self.0.set_position(clients);
    }
}

fn name_of(pack: &Pack, key: &str, value: &str, lang: Lang) -> String {
    if key == "segment" {
        pack.segment(value).map(|s| s.name.get(lang).to_string()).unwrap_or_else(|| value.to_string())
    } else {
        pack.value_name(key, value, lang)
    }
}

/// Columns a string takes on a terminal: CJK and full-width characters take two.
fn display_width(s: &str) -> usize {
    s.chars()
        .map(|c| match c as u32 {
            0x1100..=0x115F
            | 0x2E80..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60 => 2,
            _ => 1,
        })
        .sum()
}

/// `label n · label n · …` in the language.
pub fn counts(lang: Lang, items: &[(&'static str, &'static str, u64)]) -> String {
    items.iter().map(|(zh, en, n)| format!("{} {n}", t(lang, zh, en))).collect::<Vec<_>>().join(" · ")
}

/// `s` padded with spaces to `width` terminal columns.
pub fn pad(s: &str, width: usize) -> String {
    format!("{s}{}", " ".repeat(width.saturating_sub(display_width(s))))
}

/// Counts per tier and segment, then the migration matrices.
pub fn distribution(pack: &Pack, d: &Distribution, lang: Lang) {
    let mut d = d.clone();
    tierwise_app::in_pack_order(pack, &mut d);
    for (key, rows) in [("asset_tier", &d.tiers), ("segment", &d.segments)] {
        println!("\n{} ({key})", pack.dimension_name(key, lang));
        for (v, n) in rows.iter() {
            let pct = if d.clients > 0 { *n as f64 * 100.0 / d.clients as f64 } else { 0.0 };
            println!("  {:<18} {} {:>10} {:>6.2}%", v, pad(&name_of(pack, key, v, lang), 18), n, pct);
        }
    }
    let tiers: Vec<&str> = d.tiers.iter().map(|(k, _)| k.as_str()).collect();
    let segs: Vec<&str> = pack.segments.iter().map(|s| s.id.as_str()).collect();
    println!("\n{} (asset_tier)", t(lang, "迁移矩阵：上次 → 本次", "migration matrix: previous → this"));
    print!("{}", d.tier_matrix.render(&tiers));
    println!("{}: {}", t(lang, "层级变动客户", "clients who changed tier"), d.tier_matrix.moved());
    println!("\n{} (segment)", t(lang, "迁移矩阵：上次 → 本次", "migration matrix: previous → this"));
    print!("{}", d.segment_matrix.render(&segs));
    println!("{}: {}", t(lang, "分群变动客户", "clients who changed segment"), d.segment_matrix.moved());
}

/// A check's verdict, reasons and obligations.
pub fn check(o: &CheckOutcome, lang: Lang) {
    let label = o.verdict.label(lang);
    if label == o.verdict.as_str() {
        println!("{}: {label}", t(lang, "结论", "verdict"));
    } else {
        println!("{}: {label} ({})", t(lang, "结论", "verdict"), o.verdict.as_str());
    }
    for r in &o.reasons {
        println!("  - [{}] {}", r.code, r.message);
    }
    if !o.obligations.is_empty() {
        println!("{}:", t(lang, "销售义务", "obligations"));
        for code in &o.obligations {
            println!("  - [{}] {}", code, tierwise_suitability::obligation_text(code, lang));
        }
    }
    println!("{}: {} {}", t(lang, "规则包", "rule pack"), o.rule_pack, o.rule_version);
}

/// A pack: its thresholds, rules, segments and suitability switches.
pub fn pack(p: &Pack, lang: Lang) {
    println!("{} {} — {}", p.id, p.version, p.name.get(lang));
    if let Some(d) = &p.description {
        println!("{}", d.get(lang));
    }
    println!(
        "\n{}: {} {} · {} {} {}",
        t(lang, "评估有效期", "assessment validity"),
        p.validity_months,
        t(lang, "个月", "months"),
        t(lang, "到期预警", "expiring within"),
        p.expiring_within_days,
        t(lang, "天", "days")
    );
    println!(
        "{}: {} · {} {}",
        t(lang, "窗口（天）", "windows (days)"),
        p.churn_days,
        t(lang, "活动", "activity"),
        p.activity_days
    );
    for (k, v) in &p.params {
        println!("  {k} = {v}");
    }
    for dim in RULE_DIMS {
        println!("\n{} ({})", p.dimension_name(dim.name(), lang), dim.name());
        match p.rules_of(dim) {
            DimensionRules::Boolean { when } => println!("  true ← {}", when.source()),
            DimensionRules::Categorical { rules, default } => {
                for r in rules {
                    println!("  {:<14} ← {}", p.value_id(dim, r.value), r.when.source());
                }
                match default {
                    Some(d) => println!("  {:<14} ← {}", p.value_id(dim, *d), t(lang, "（默认）", "(default)")),
                    None => println!("  {:<14} ← {}", "—", t(lang, "（无匹配则为空）", "(empty when none holds)")),
                }
            }
        }
    }
    println!("\n{}", t(lang, "客户分群（先匹配者优先）", "segments (first match wins)"));
    for s in &p.segments {
        let plan = &s.plan;
        println!(
            "  {:<16} {:<12} ← {}\n  {:<16} {:?} · {} ≥{}y · max {} · every {} d",
            s.id,
            s.name.get(lang),
            s.when.source(),
            "",
            plan.service_model,
            plan.advisor_title,
            plan.advisor_min_years,
            plan.max_clients_per_advisor.map(|n| n.to_string()).unwrap_or_else(|| "—".into()),
            plan.contact_every_days.map(|n| n.to_string()).unwrap_or_else(|| "—".into())
        );
    }
    let s = &p.suitability;
    println!(
        "\n{}: regime {} · professional_investor_matches {} · first_purchase_requires_branch_assessment {} · mismatch_policy {:?} · dual_recording {:?} · enhanced_care {:?} · elderly_age {}",
        t(lang, "适当性", "suitability"),
        s.regime,
        s.professional_investor_matches,
        s.first_purchase_requires_branch_assessment,
        s.mismatch_policy,
        s.dual_recording,
        s.enhanced_care_levels,
        s.elderly_age
    );
}
