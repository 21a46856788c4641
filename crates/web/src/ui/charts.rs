//! Server-rendered charts: horizontal bars as inline SVG (no script) and
//! migration matrices as tables.

use super::render;
use crate::error::WebError;
use crate::i18n::Tr;
use askama::Template;
use tierwise_app::desk::{Bar, Matrix};

/// Drawing constants of a bar chart (SVG user units).
const WIDTH: u32 = 640;
const LABEL_W: u32 = 150;
const VALUE_W: u32 = 110;
const ROW_H: u32 = 30;
const BAR_H: u32 = 20;

pub(crate) struct ChartBar {
    pub label: String,
    pub count: i64,
    pub pct: String,
    pub y: u32,
    pub text_y: u32,
    pub w: u32,
    pub value_x: u32,
    pub colour: usize,
}

#[derive(Template)]
#[template(path = "chart.html")]
pub(crate) struct Chart {
    pub tr: Tr,
    pub title: String,
    pub bars: Vec<ChartBar>,
    pub width: u32,
    pub height: u32,
    pub bar_h: u32,
    pub bar_x: u32,
    pub total: i64,
}

impl Chart {
    pub fn new(tr: Tr, title: String, bars: &[Bar]) -> Chart {
        let total: i64 = bars.iter().map(|b| b.clients).sum();
        let max = bars.iter().map(|b| b.clients).max().unwrap_or(0).max(1);
        let span = WIDTH - LABEL_W - VALUE_W;
        let rows = bars
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let w = ((b.clients.max(0) as f64 / max as f64) * span as f64).round() as u32;
                let w = if b.clients > 0 { w.max(2) } else { 0 };
                let pct =
                    if total > 0 { format!("{:.1}%", b.clients as f64 * 100.0 / total as f64) } else { "0%".into() };
                let y = i as u32 * ROW_H + (ROW_H - BAR_H) / 2;
                ChartBar {
                    label: truncate(&b.label, 18),
                    count: b.clients,
                    pct,
                    y,
                    text_y: y + BAR_H / 2 + 5,
                    w,
                    value_x: LABEL_W + w + 6,
                    colour: i % 8,
                }
            })
            .collect::<Vec<_>>();
        Chart {
            tr,
            title,
            height: (rows.len() as u32 * ROW_H).max(ROW_H),
            bars: rows,
            width: WIDTH,
            bar_h: BAR_H,
            bar_x: LABEL_W,
            total,
        }
    }

    pub fn html(&self) -> Result<String, WebError> {
        render(self, self.tr.0)
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

pub(crate) struct MatrixCell {
    pub n: u64,
    pub diagonal: bool,
}

pub(crate) struct MatrixRow {
    pub label: String,
    pub cells: Vec<MatrixCell>,
    pub total: u64,
}

/// A migration matrix: rows are the previous value, columns the current one.
#[derive(Template)]
#[template(path = "matrix.html")]
pub(crate) struct MatrixTable {
    pub tr: Tr,
    pub title: String,
    pub labels: Vec<String>,
    pub rows: Vec<MatrixRow>,
    pub moved: u64,
    pub empty: bool,
}

impl MatrixTable {
    pub fn new(tr: Tr, title: String, m: &Matrix) -> MatrixTable {
        let rows: Vec<MatrixRow> = m
            .labels
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let cells: Vec<MatrixCell> = m
                    .cells
                    .get(i)
                    .map(|r| r.iter().enumerate().map(|(j, n)| MatrixCell { n: *n, diagonal: i == j }).collect())
                    .unwrap_or_default();
                MatrixRow { label: l.clone(), total: cells.iter().map(|c| c.n).sum(), cells }
            })
            .collect();
        let empty = rows.iter().all(|r| r.total == 0);
        MatrixTable { tr, title, labels: m.labels.clone(), rows, moved: m.moved, empty }
    }

    pub fn html(&self) -> Result<String, WebError> {
        render(self, self.tr.0)
    }
}
