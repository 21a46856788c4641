//! zh-CN and en texts (Fluent files under `locales/`, compiled in). Every
//! key used by a template or by the code exists in both languages: a test
//! walks the templates and the sources and fails on a missing key.

use fluent_templates::{LanguageIdentifier, Loader};
use tierwise_domain::Lang;

fluent_templates::static_loader! {
    pub static LOCALES = {
        locales: "./locales",
        fallback_language: "zh-CN",
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

static ZH: LanguageIdentifier = fluent_templates::langid!("zh-CN");
static EN: LanguageIdentifier = fluent_templates::langid!("en");

fn id(lang: Lang) -> &'static LanguageIdentifier {
    match lang {
        Lang::Zh => &ZH,
        Lang::En => &EN,
    }
}

/// The text of `key` (the key itself if missing, which the tests forbid).
pub fn t(lang: Lang, key: &str) -> String {
    LOCALES.try_lookup(id(lang), key).unwrap_or_else(|| key.to_string())
}

/// The text of `key` with `{ $name }` arguments.
pub fn t_args(lang: Lang, key: &str, args: &[(&'static str, String)]) -> String {
    let map: std::collections::HashMap<std::borrow::Cow<'static, str>, fluent_templates::fluent_bundle::FluentValue> =
        args.iter().map(|(k, v)| (std::borrow::Cow::Borrowed(*k), v.clone().into())).collect();
    LOCALES.try_lookup_with_args(id(lang), key, &map).unwrap_or_else(|| key.to_string())
}

/// What templates call: `{{ tr.t("nav-clients") }}`.
#[derive(Debug, Clone, Copy)]
pub struct Tr(pub Lang);

impl Tr {
    pub fn t(&self, key: &str) -> String {
        t(self.0, key)
    }
    pub fn lang(&self) -> &'static str {
        match self.0 {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }
    pub fn html_lang(&self) -> &'static str {
        match self.0 {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
    pub fn is_zh(&self) -> bool {
        self.0 == Lang::Zh
    }
}

/// The keys of a Fluent file (messages at the start of a line).
fn ftl_keys(text: &str) -> std::collections::BTreeSet<String> {
    text.lines()
        .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_alphabetic()))
        .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim().to_string()))
        .collect()
}

/// Keys used by templates and sources: every `t("…")` / `t(lang, "…")` /
/// `t_args(lang, "…"` literal.
pub fn template_keys(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for pat in ["t(\"", "t(lang, \"", "t(l, \"", "t_args(lang, \"", "t(self.lang, \""] {
        let mut rest = text;
        while let Some(i) = rest.find(pat) {
            let before = rest[..i].chars().last();
            rest = &rest[i + pat.len()..];
            if before.is_some_and(|c| c.is_ascii_alphanumeric() && c != 'r' && c != '.') {
                continue;
            }
            if let Some(end) = rest.find('"') {
                let k = &rest[..end];
                if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                    out.push(k.to_string());
                }
            }
        }
    }
    out
}

/// Keys present in one language and not the other, and keys used but
/// defined in neither (for the tests; the files are read from the crate).
pub fn missing_keys(zh: &str, en: &str, used: &[String]) -> Vec<String> {
    let (z, e) = (ftl_keys(zh), ftl_keys(en));
    let mut out: Vec<String> = z.symmetric_difference(&e).map(|k| format!("only in one language: {k}")).collect();
    for k in used {
        if !z.contains(k) || !e.contains(k) {
            out.push(format!("used but not defined: {k}"));
        }
    }
    out.sort();
    out.dedup();
    out
}
