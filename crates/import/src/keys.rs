//! Duplicate keys in the large files (holdings, transactions, assessments,
//! interactions), found with 8 bytes per row.
//!
//! While a file is read, each row's key is hashed to 64 bits and the hash
//! kept in a vector. At the end of the file the vector is sorted; only if
//! some hash occurs twice is the file read a second time, keeping the full
//! key (and its first line) of just those rows whose hash repeats, so that a
//! hash collision between different keys is never reported as a duplicate.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashSet;
use std::hash::{Hash, Hasher};

use chrono::{NaiveDate, NaiveDateTime};
use tierwise_domain::dates::format_timestamp;
use tierwise_domain::InteractionChannel;

/// The key of a row of one of the large files, as stored (timestamps as
/// local time, so `…T08:00:00+08:00` and `…T00:00:00Z` are the same key in
/// Asia/Shanghai).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Key<'r> {
    Transaction(&'r str),
    Holding(&'r str, &'r str, NaiveDate),
    Assessment(&'r str, NaiveDateTime),
    Interaction(&'r str, NaiveDateTime, InteractionChannel),
}

impl Key<'_> {
    /// `txn_id T1`, `client_id C1, product_id P1, as_of 2025-01-31`, …
    pub(crate) fn describe(&self) -> String {
        match self {
            Key::Transaction(id) => format!("txn_id {id}"),
            Key::Holding(c, p, d) => format!("client_id {c}, product_id {p}, as_of {d}"),
            Key::Assessment(c, t) => format!("client_id {c}, assessed_at {}", format_timestamp(t)),
            Key::Interaction(c, t, ch) => format!("client_id {c}, at {}, channel {ch}", format_timestamp(t)),
        }
    }

    /// The column a duplicate is reported on: the key's column when the key
    /// is one column, none when it is several.
    pub(crate) fn column(&self) -> Option<&'static str> {
        match self {
            Key::Transaction(_) => Some("txn_id"),
            _ => None,
        }
    }

    pub(crate) fn hash64(&self) -> u64 {
        let mut h = DefaultHasher::new();
        self.hash(&mut h);
        h.finish()
    }
}

/// The key hashes of one file.
#[derive(Default)]
pub(crate) struct KeyHashes(Vec<u64>);

impl KeyHashes {
    pub(crate) fn push(&mut self, key: &Key<'_>) {
        self.0.push(key.hash64());
    }

    /// The hashes seen more than once (emptying the list).
    pub(crate) fn take_repeated(&mut self) -> HashSet<u64> {
        let mut all = std::mem::take(&mut self.0);
        all.sort_unstable();
        let mut repeated = HashSet::new();
        for pair in all.windows(2) {
            if let [a, b] = pair {
                if a == b {
                    repeated.insert(*a);
                }
            }
        }
        repeated
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn only_repeated_hashes_are_kept() {
        let mut k = KeyHashes::default();
        for id in ["T1", "T2", "T1", "T3", "T2", "T1"] {
            k.push(&Key::Transaction(id));
        }
        let r = k.take_repeated();
        assert_eq!(r.len(), 2);
        assert!(r.contains(&Key::Transaction("T1").hash64()));
        assert!(!r.contains(&Key::Transaction("T3").hash64()));
        assert!(k.take_repeated().is_empty());
    }
}
