//! The batch classification: the store streams the book in chunks on one
//! thread, rayon classifies each chunk on every core, and the run writer
//! persists results on another thread — reading, computing and writing
//! overlap, and memory holds only a few chunks at a time.

use crate::{AppError, AppResult, Distribution};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::sync::mpsc::sync_channel;
use tierwise_classify::{ntile_deciles, Catalog, Classification, Engine};
use tierwise_store::{Partition, RunInfo, RunWriter, ScannedClient, Store, StoreError};

/// Progress of a batch: called with the number of clients done.
pub trait Progress: Sync {
    fn total(&self, _clients: u64) {}
    fn done(&self, clients: u64);
}

impl<F: Fn(u64) + Sync> Progress for F {
    fn done(&self, clients: u64) {
        self(clients)
    }
}

pub struct BatchOutcome {
    pub run: Option<RunInfo>,
    pub distribution: Distribution,
}

const CHUNK: usize = 2048;

type Results = Vec<(Classification, Option<(String, String)>)>;

/// Counts one value in a short list (a handful of tiers or segments).
fn count(list: &mut Vec<(String, u64)>, value: &str) {
    match list.iter_mut().find(|(v, _)| v == value) {
        Some((_, n)) => *n += 1,
        None => list.push((value.to_string(), 1)),
    }
}

pub(crate) fn run(
    store: &dyn Store,
    engine: &Engine,
    catalog: &Catalog,
    as_of: NaiveDate,
    writer: Option<Box<dyn RunWriter + '_>>,
    progress: &dyn Progress,
) -> AppResult<BatchOutcome> {
    run_in(store, engine, catalog, as_of, writer, None, progress)
}

/// `run` over the whole book (`partition` None) or over one partition of a
/// partitioned run, whose writer is finished without deciles.
pub(crate) fn run_in(
    store: &dyn Store,
    engine: &Engine,
    catalog: &Catalog,
    as_of: NaiveDate,
    writer: Option<Box<dyn RunWriter + '_>>,
    partition: Option<&Partition>,
    progress: &dyn Progress,
) -> AppResult<BatchOutcome> {
    use rayon::prelude::*;
    let total = store.client_count()? as u64;
    // only the records the engine reads as of D leave the store
    let window = engine.window(as_of);
    progress.total(match partition {
        Some(p) => total.div_ceil(p.partitions.max(1) as u64),
        None => total,
    });
    // (client id, value) of each chunk as it came: chunks are id-ordered
    // and disjoint, so ordering them by their first id orders the book
    let mut values: Vec<Vec<(String, Decimal)>> = Vec::new();
    let mut tiers: Vec<(String, u64)> = Vec::new();
    let mut segments: Vec<(String, u64)> = Vec::new();
    let mut dist = Distribution::default();

    let (book_tx, book_rx) = sync_channel::<Vec<ScannedClient>>(4);
    let (res_tx, res_rx) = sync_channel::<Results>(4);

    let (scan_res, write_res) = std::thread::scope(|s| {
        let scanner = s.spawn(move || {
            let mut send =
                |chunk| book_tx.send(chunk).map_err(|_| StoreError::Aborted("the classification stopped".into()));
            match partition {
                Some(p) => store.scan_partition(catalog, CHUNK, p, Some(window), &mut send),
                None => store.scan_books(catalog, CHUNK, Some(window), &mut send),
            }
        });
        let persister = s.spawn(move || -> Result<Option<Box<dyn RunWriter + '_>>, StoreError> {
            let mut w = writer;
            for rows in res_rx {
                if let Some(w) = w.as_mut() {
                    w.write(&rows)?;
                }
            }
            Ok(w)
        });
        let mut done = 0u64;
        for chunk in book_rx {
            let rows: Results =
                chunk.into_par_iter().map(|sc| (engine.classify(&sc.book, catalog, as_of), sc.previous)).collect();
            let mut chunk_values = Vec::with_capacity(rows.len());
            for (c, prev) in &rows {
                chunk_values.push((c.client_id.clone(), c.value));
                count(&mut tiers, &c.asset_tier);
                count(&mut segments, &c.segment);
                let (pt, ps) = prev.as_ref().map(|(t, s)| (t.as_str(), s.as_str())).unwrap_or(("", ""));
                dist.tier_matrix.add(pt, &c.asset_tier);
                dist.segment_matrix.add(ps, &c.segment);
            }
            if !chunk_values.is_empty() {
                values.push(chunk_values);
            }
            done += rows.len() as u64;
            if res_tx.send(rows).is_err() {
                break; // the writer failed; its error is reported below
            }
            progress.done(done);
        }
        drop(res_tx);
        let scan = scanner.join().map_err(|_| AppError::Aborted("the reader thread panicked".into()));
        let write = persister.join().map_err(|_| AppError::Aborted("the writer thread panicked".into()));
        (scan, write)
    });
    let writer = write_res??;
    scan_res??;

    values.sort_unstable_by(|a, b| a[0].0.as_bytes().cmp(b[0].0.as_bytes()));
    let values: Vec<(String, Decimal)> = values.into_iter().flatten().collect();
    let clients = values.len() as u64;
    dist.clients = clients;
    tiers.sort();
    segments.sort();
    dist.tiers = tiers;
    dist.segments = segments;
    let run = match writer {
        Some(w) if partition.is_some() => Some(w.finish(&[], clients as i64)?),
        Some(w) => {
            let deciles = ntile_deciles(values);
            Some(w.finish(&deciles, clients as i64)?)
        }
        None => None,
    };
    Ok(BatchOutcome { run, distribution: dist })
}

/// Orders a distribution's tiers and segments as the pack lists them
/// (mass, wealth, hnw; segments in rule order), unknown values last.
pub fn in_pack_order(pack: &tierwise_rules::Pack, d: &mut Distribution) {
    let tier_order: Vec<String> = pack
        .dimensions
        .get("asset_tier")
        .map(|i| i.values.iter().map(|(id, _)| id.clone()).collect())
        .unwrap_or_default();
    let pos = |order: &[String], k: &str| order.iter().position(|v| v == k).unwrap_or(usize::MAX);
    d.tiers.sort_by(|a, b| pos(&tier_order, &a.0).cmp(&pos(&tier_order, &b.0)).then_with(|| a.0.cmp(&b.0)));
    let seg_order: Vec<String> = pack.segments.iter().map(|s| s.id.clone()).collect();
    d.segments.sort_by(|a, b| pos(&seg_order, &a.0).cmp(&pos(&seg_order, &b.0)).then_with(|| a.0.cmp(&b.0)));
}
