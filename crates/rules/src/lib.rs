//! Rule packs (规则包): the thresholds, names, ordered dimension rules,
//! segments with their service plans and suitability regime switches that
//! classification and suitability run on — data, never code.
//!
//! This crate owns the pack file format, its validation (every error with its
//! place) and the small typed expression language the conditions are written
//! in. It must never do I/O beyond reading a pack file it is asked to read,
//! and knows nothing of storage, HTTP or the terminal.

pub mod expr;
pub mod fields;
pub mod pack;

pub use fields::{Fact, RuleDim, RULE_DIMS};
pub use pack::{
    DimensionRules, DualRecording, MismatchPolicy, Pack, PackError, PackErrors, Segment, ServiceModel, ServicePlan,
    SuitabilityRules,
};

use std::path::{Path, PathBuf};

/// The packs shipped inside the binary: (name, file text).
pub const BUILTIN: &[(&str, &str)] = &[
    ("cn-bank", include_str!("../../../packs/cn-bank.toml")),
    ("cn-csrc", include_str!("../../../packs/cn-csrc.toml")),
];

/// The default pack.
pub const DEFAULT_PACK: &str = "cn-bank";

/// Where a pack came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackSource {
    Builtin(&'static str),
    File(PathBuf),
}

/// Error loading a pack by name or path.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("no rule pack named {name:?}: the packs are {known} (or give the path of a .toml file)")]
    Unknown { name: String, known: String },
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{0}")]
    Invalid(PackErrors),
}

/// Loads a pack by name (a file `NAME.toml` in `dir` if given and present,
/// else a built-in pack) or by path (anything ending in `.toml`).
pub fn load(name_or_path: &str, dir: Option<&Path>) -> Result<(Pack, PackSource), LoadError> {
    if name_or_path.ends_with(".toml") {
        let p = PathBuf::from(name_or_path);
        return load_file(&p).map(|pk| (pk, PackSource::File(p)));
    }
    if let Some(d) = dir {
        let p = d.join(format!("{name_or_path}.toml"));
        if p.is_file() {
            return load_file(&p).map(|pk| (pk, PackSource::File(p)));
        }
    }
    match BUILTIN.iter().find(|(n, _)| *n == name_or_path) {
        Some((n, text)) => Pack::parse(text, &format!("packs/{n}.toml"))
            .map(|p| (p, PackSource::Builtin(n)))
            .map_err(LoadError::Invalid),
        None => Err(LoadError::Unknown {
            name: name_or_path.to_string(),
            known: BUILTIN.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", "),
        }),
    }
}

/// Reads and validates a pack file.
pub fn load_file(path: &Path) -> Result<Pack, LoadError> {
    let text =
        std::fs::read_to_string(path).map_err(|e| LoadError::Io { path: path.display().to_string(), source: e })?;
    Pack::parse(&text, &path.display().to_string()).map_err(LoadError::Invalid)
}

#[cfg(test)]
mod tests;
