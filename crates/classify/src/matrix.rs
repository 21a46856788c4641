//! The migration matrix: how many clients moved from one value to another
//! between two runs (e.g. asset tier wealth → hnw).

use std::fmt::Write;

/// Counts of (from, to) pairs; `from` is empty for clients new to the run.
/// A handful of distinct values: a list searched in place, so counting a
/// client allocates nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationMatrix {
    counts: Vec<((String, String), u64)>,
}

impl MigrationMatrix {
    pub fn add(&mut self, from: &str, to: &str) {
        self.add_n(from, to, 1);
    }
    pub fn add_n(&mut self, from: &str, to: &str, n: u64) {
        match self.counts.iter_mut().find(|((f, t), _)| f == from && t == to) {
            Some((_, c)) => *c += n,
            None => self.counts.push(((from.to_string(), to.to_string()), n)),
        }
    }
    pub fn get(&self, from: &str, to: &str) -> u64 {
        self.counts.iter().find(|((f, t), _)| f == from && t == to).map(|(_, n)| *n).unwrap_or(0)
    }
    /// Every (from, to) pair counted, with its count.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str, u64)> {
        self.counts.iter().map(|((f, t), n)| (f.as_str(), t.as_str(), *n))
    }
    /// Clients whose value changed (new clients not counted).
    pub fn moved(&self) -> u64 {
        self.counts.iter().filter(|((f, t), _)| !f.is_empty() && f != t).map(|(_, n)| n).sum()
    }

    /// A text table, rows = from, columns = to, in the given value order
    /// (values not listed follow); `(new)` is the row of clients absent before.
    pub fn render(&self, order: &[&str]) -> String {
        let mut values: Vec<String> = order.iter().map(|s| s.to_string()).collect();
        for ((f, t), _) in &self.counts {
            for v in [f, t] {
                if !v.is_empty() && !values.contains(v) {
                    values.push(v.clone());
                }
            }
        }
        let mut rows: Vec<String> = values.clone();
        if self.counts.iter().any(|((f, _), _)| f.is_empty()) {
            rows.push(String::new());
        }
        let label = |v: &str| if v.is_empty() { "(new)".to_string() } else { v.to_string() };
        let w = values.iter().map(|v| v.len()).chain(std::iter::once(12)).max().unwrap_or(12) + 2;
        let mut out = String::new();
        let _ = write!(out, "{:<w$}", "from \\ to");
        for v in &values {
            let _ = write!(out, "{:>w$}", v);
        }
        out.push('\n');
        for r in &rows {
            let _ = write!(out, "{:<w$}", label(r));
            for c in &values {
                let _ = write!(out, "{:>w$}", self.get(r, c));
            }
            out.push('\n');
        }
        out
    }
}
