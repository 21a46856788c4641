//! The run of one import inside the store's transaction: files in order,
//! rows streamed, ids and keys remembered, rows written in batches while
//! there is no error, the error report kept in order and bounded.
//!
//! Reading and validating run on a worker thread while the calling thread,
//! which owns the store's transaction, writes the batches the worker sends
//! it (and answers its questions about stored ids): on two cores the
//! validation costs little more than the writing alone. Messages keep their
//! order, so the store sees the same calls as a single-threaded import.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, SyncSender};

use tierwise_domain::{Advisor, Assessment, Client, Holding, Interaction, Product, Transaction};
use tierwise_store::{IdKind, ImportSink, StoreError, StoreResult};

use crate::files::{self, Which};
use crate::keys::KeyHashes;
use crate::records::{Records, MAX_FIELDS, MAX_RECORD_BYTES};
use crate::table::{row_error, Check, Layout};
use crate::{FileSummary, ImportOptions, ImportReport, RowError};

/// Rows per write, and how often progress is reported.
pub(crate) const BATCH: u64 = 5_000;

/// Batches waiting in the channel to the writing thread.
const IN_FLIGHT: usize = 4;

/// Why a run stopped before its end.
pub(crate) enum Failure {
    Io(PathBuf, io::Error),
    Store(StoreError),
    /// the writing thread stopped (after a store error, which it reports)
    Stopped,
}

/// What the worker asks of the thread holding the store's transaction.
enum ToStore {
    Put(Box<Batches>),
    KnownIds(IdKind),
    Progress(&'static str, u64),
}

/// Runs the import: validation on a worker thread, writes on this one.
/// Returns the report (not yet marked committed).
pub(crate) fn run(
    dir: &Path,
    opts: &ImportOptions,
    present: &[Which],
    sink: &mut dyn ImportSink,
    progress: &mut dyn FnMut(&str, u64),
) -> Result<ImportReport, Failure> {
    let (tx, rx) = mpsc::sync_channel::<ToStore>(IN_FLIGHT);
    let (ids_tx, ids_rx) = mpsc::channel::<StoreResult<HashSet<String>>>();
    std::thread::scope(|scope| {
        let spawned = std::thread::Builder::new().name("tierwise-import".to_string()).spawn_scoped(scope, move || {
            let mut imp = Importer::new(dir, opts, Link { tx, ids_rx });
            imp.run(present)?;
            Ok(ImportReport {
                files: imp.files,
                errors: imp.log.kept,
                error_count: imp.log.count,
                committed: false,
                large_outflows: Vec::new(),
                clients: None,
            })
        });
        let worker = match spawned {
            Ok(w) => w,
            Err(e) => return Err(Failure::Io(dir.to_path_buf(), e)),
        };
        let mut store_error = None;
        let mut watched: Vec<Transaction> = Vec::new();
        let mut clients: Option<Vec<String>> = (opts.watch_clients_up_to > 0).then(Vec::new);
        for msg in rx.iter() {
            match msg {
                ToStore::Put(batch) => {
                    if let Err(e) = write(sink, &batch) {
                        store_error = Some(e);
                        break;
                    }
                    if let Some(min) = opts.watch_outflows {
                        watched.extend(batch.transactions.iter().filter(|t| is_large_outflow(t, min)).cloned());
                    }
                    if let Some(ids) = clients.as_mut() {
                        if ids.len() + batch.clients.len() > opts.watch_clients_up_to {
                            clients = None; // too many: the caller's nightly sweep sees them
                        } else {
                            ids.extend(batch.clients.iter().map(|c| c.client_id.clone()));
                        }
                    }
                }
                ToStore::KnownIds(kind) => {
                    if ids_tx.send(sink.known_ids(kind)).is_err() {
                        break;
                    }
                }
                ToStore::Progress(file, rows) => progress(file, rows),
            }
        }
        // Unblocks a worker waiting to send or for an answer.
        drop(rx);
        drop(ids_tx);
        let outcome = match worker.join() {
            Ok(outcome) => outcome,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        match store_error {
            Some(e) => Err(Failure::Store(e)),
            None => outcome.map(|mut r| {
                r.large_outflows = watched;
                r.clients = clients;
                r
            }),
        }
    })
}

/// A single withdraw or transfer out of at least `min` (需求预警).
fn is_large_outflow(t: &Transaction, min: rust_decimal::Decimal) -> bool {
    matches!(t.kind, tierwise_domain::TxnKind::Withdraw | tierwise_domain::TxnKind::TransferOut) && t.amount >= min
}

fn write(sink: &mut dyn ImportSink, b: &Batches) -> StoreResult<()> {
    if !b.advisors.is_empty() {
        sink.put_advisors(&b.advisors)?;
    }
    if !b.products.is_empty() {
        sink.put_products(&b.products)?;
    }
    if !b.clients.is_empty() {
        sink.put_clients(&b.clients)?;
    }
    if !b.holdings.is_empty() {
        sink.put_holdings(&b.holdings)?;
    }
    if !b.transactions.is_empty() {
        sink.put_transactions(&b.transactions)?;
    }
    if !b.assessments.is_empty() {
        sink.put_assessments(&b.assessments)?;
    }
    if !b.interactions.is_empty() {
        sink.put_interactions(&b.interactions)?;
    }
    Ok(())
}

/// The worker's end of the channels to the writing thread.
struct Link {
    tx: SyncSender<ToStore>,
    ids_rx: Receiver<StoreResult<HashSet<String>>>,
}

impl Link {
    fn send(&self, msg: ToStore) -> Result<(), Failure> {
        self.tx.send(msg).map_err(|_| Failure::Stopped)
    }

    fn known_ids(&self, kind: IdKind) -> Result<HashSet<String>, Failure> {
        self.send(ToStore::KnownIds(kind))?;
        match self.ids_rx.recv() {
            Ok(Ok(ids)) => Ok(ids),
            Ok(Err(e)) => Err(Failure::Store(e)),
            Err(_) => Err(Failure::Stopped),
        }
    }
}

/// Row errors in file order then line order, at most `max` kept, all counted.
pub(crate) struct ErrorLog {
    pub kept: Vec<RowError>,
    pub count: u64,
    max: usize,
    file_start: usize,
    /// errors found out of line order (at the end of a file), merged in by `end_file`
    deferred: Vec<RowError>,
}

impl ErrorLog {
    fn new(max: usize) -> ErrorLog {
        ErrorLog { kept: Vec::new(), count: 0, max, file_start: 0, deferred: Vec::new() }
    }

    fn begin_file(&mut self) {
        self.file_start = self.kept.len();
    }

    /// An error in line order: once `max` are kept, a later one cannot be
    /// among the first `max`.
    pub(crate) fn push(&mut self, e: RowError) {
        self.count += 1;
        if self.kept.len() < self.max {
            self.kept.push(e);
        }
    }

    /// An error found after rows with later lines were logged.
    pub(crate) fn defer(&mut self, e: RowError) {
        self.count += 1;
        self.deferred.push(e);
        if self.deferred.len() >= self.max.saturating_mul(2).max(1024) {
            self.deferred.sort_by_key(|e| e.line);
            self.deferred.truncate(self.max);
        }
    }

    fn end_file(&mut self) {
        if self.deferred.is_empty() {
            return;
        }
        self.kept.append(&mut self.deferred);
        if let Some(file) = self.kept.get_mut(self.file_start..) {
            // stable: errors of one line keep their order
            file.sort_by_key(|e| e.line);
        }
        self.kept.truncate(self.max);
    }
}

/// The ids of one kind: this import's own (with the line that defined
/// each), and those stored before it, read when first needed.
#[derive(Default)]
pub(crate) struct Ids {
    pub in_file: HashMap<String, u64>,
    stored: Option<HashSet<String>>,
    /// false when the kind's file lacks its id column: references to it are
    /// then not checked (every one would be a spurious error)
    pub unchecked: bool,
}

/// Rows waiting to be written.
#[derive(Default)]
pub(crate) struct Batches {
    pub advisors: Vec<Advisor>,
    pub products: Vec<Product>,
    pub clients: Vec<Client>,
    pub holdings: Vec<Holding>,
    pub transactions: Vec<Transaction>,
    pub assessments: Vec<Assessment>,
    pub interactions: Vec<Interaction>,
}

impl Batches {
    fn is_empty(&self) -> bool {
        self.advisors.is_empty()
            && self.products.is_empty()
            && self.clients.is_empty()
            && self.holdings.is_empty()
            && self.transactions.is_empty()
            && self.assessments.is_empty()
            && self.interactions.is_empty()
    }
}

pub(crate) struct Importer<'a> {
    dir: &'a Path,
    pub opts: &'a ImportOptions,
    link: Link,
    pub log: ErrorLog,
    pub files: Vec<FileSummary>,
    ids: [Ids; 3],
    pub batch: Batches,
    /// clients.csv: (line, employer id) of payroll employers not yet seen
    pub pending_payroll: Vec<(u64, String)>,
    pub keys: KeyHashes,
}

fn slot(kind: IdKind) -> usize {
    match kind {
        IdKind::Client => 0,
        IdKind::Advisor => 1,
        IdKind::Product => 2,
    }
}

/// How a kind is named in messages, and its file.
fn noun(kind: IdKind) -> (&'static str, &'static str) {
    match kind {
        IdKind::Client => ("client", "clients.csv"),
        IdKind::Advisor => ("advisor", "advisors.csv"),
        IdKind::Product => ("product", "products.csv"),
    }
}

impl<'a> Importer<'a> {
    fn new(dir: &'a Path, opts: &'a ImportOptions, link: Link) -> Self {
        Importer {
            dir,
            opts,
            link,
            log: ErrorLog::new(opts.max_reported_errors),
            files: Vec::new(),
            ids: Default::default(),
            batch: Batches::default(),
            pending_payroll: Vec::new(),
            keys: KeyHashes::default(),
        }
    }

    /// Whether rows are still written (no error so far).
    pub(crate) fn writing(&self) -> bool {
        self.log.count == 0
    }

    /// (`slot` is always below 3.)
    pub(crate) fn ids(&mut self, kind: IdKind) -> &mut Ids {
        &mut self.ids[slot(kind)]
    }

    /// Records an id defined by a row; a second definition is an error
    /// naming the first line.
    pub(crate) fn define(&mut self, kind: IdKind, id: &str, chk: &mut Check, column: &str) {
        let line = chk.line;
        let ids = &mut self.ids(kind).in_file;
        if let Some(first) = ids.get(id) {
            chk.error(Some(column), format!("duplicate {column} {id} (first on line {first})"));
        } else {
            ids.insert(id.to_string(), line);
        }
    }

    /// Whether an id exists in this import or in the store.
    pub(crate) fn resolves(&mut self, kind: IdKind, id: &str) -> Result<bool, Failure> {
        let ids = &self.ids[slot(kind)];
        if ids.unchecked || ids.in_file.contains_key(id) {
            return Ok(true);
        }
        if ids.stored.is_none() {
            let stored = self.link.known_ids(kind)?;
            self.ids(kind).stored = Some(stored);
        }
        Ok(self.ids(kind).stored.as_ref().is_some_and(|s| s.contains(id)))
    }

    /// Checks a reference, reporting it on `column` when it does not resolve.
    pub(crate) fn refer(&mut self, kind: IdKind, id: &str, chk: &mut Check, column: &str) -> Result<(), Failure> {
        if !self.resolves(kind, id)? {
            chk.error(Some(column), unknown(kind, id));
        }
        Ok(())
    }

    /// Reads every present file in order.
    fn run(&mut self, present: &[Which]) -> Result<(), Failure> {
        for &which in present {
            self.file(which)?;
        }
        Ok(())
    }

    fn open(&self, which: Which) -> Result<(PathBuf, Records<File>), Failure> {
        let path = self.dir.join(which.spec().name);
        match File::open(&path) {
            Ok(f) => Ok((path, Records::new(f))),
            Err(e) => Err(Failure::Io(path, e)),
        }
    }

    fn file(&mut self, which: Which) -> Result<(), Failure> {
        let spec = which.spec();
        let (path, mut rec) = self.open(which)?;
        let io_err = |e: io::Error| Failure::Io(path.clone(), e);
        self.log.begin_file();
        if !rec.advance().map_err(io_err)? {
            self.log.push(row_error(
                spec.name,
                1,
                None,
                "the file is empty: its first line must name the columns".to_string(),
            ));
            self.files.push(FileSummary { file: spec.name.to_string(), rows: 0 });
            self.begin(which, None);
            return Ok(());
        }
        let mut header_errors = Vec::new();
        let layout = Layout::read(spec, &rec, &mut header_errors);
        for e in header_errors {
            self.log.push(e);
        }
        self.begin(which, Some(&layout));
        let mut rows: u64 = 0;
        let mut next_flush = BATCH;
        while rec.advance().map_err(io_err)? {
            rows += 1;
            let mut chk = Check::new(spec.name, rec.line());
            if rec.oversized() {
                chk.error(
                    None,
                    format!("the row is too long (more than {} MiB or {MAX_FIELDS} fields)", MAX_RECORD_BYTES >> 20),
                );
            } else if rec.field_count() != layout.width {
                chk.error(None, format!("the row has {} fields, the header has {}", rec.field_count(), layout.width));
            } else {
                let cells = layout.row(&rec, Some(&mut chk));
                files::row(self, which, &layout, &cells, &mut chk)?;
                if let Some(key) = files::key_of(which, &cells, self.opts.tz) {
                    self.keys.push(&key);
                }
            }
            for e in chk.errors {
                self.log.push(e);
            }
            if rows >= next_flush {
                next_flush += BATCH;
                self.flush()?;
                self.link.send(ToStore::Progress(spec.name, rows))?;
            }
        }
        self.finish(which, &layout)?;
        self.flush()?;
        self.link.send(ToStore::Progress(spec.name, rows))?;
        self.log.end_file();
        self.files.push(FileSummary { file: spec.name.to_string(), rows });
        Ok(())
    }

    /// Before a file's rows: references to its kind are not checked when it
    /// has no id column.
    fn begin(&mut self, which: Which, layout: Option<&Layout>) {
        if let Some((kind, column)) = which.defines() {
            let has = layout.is_some_and(|l| l.has(column));
            self.ids(kind).unchecked = !has;
        }
    }

    /// After a file's rows: forward references and duplicate keys.
    fn finish(&mut self, which: Which, layout: &Layout) -> Result<(), Failure> {
        let pending = std::mem::take(&mut self.pending_payroll);
        for (line, id) in pending {
            if !self.resolves(IdKind::Client, &id)? {
                let e = row_error(which.spec().name, line, Some("payroll_employer_id"), unknown(IdKind::Client, &id));
                self.log.defer(e);
            }
        }
        let repeated = self.keys.take_repeated();
        if repeated.is_empty() {
            return Ok(());
        }
        // Second reading: confirm the repeated hashes with the full keys.
        let (path, mut rec) = self.open(which)?;
        let io_err = |e: io::Error| Failure::Io(path.clone(), e);
        let mut first: HashMap<String, u64> = HashMap::new();
        if !rec.advance().map_err(io_err)? {
            return Ok(());
        }
        while rec.advance().map_err(io_err)? {
            if rec.oversized() || rec.field_count() != layout.width {
                continue;
            }
            let cells = layout.row(&rec, None);
            let Some(key) = files::key_of(which, &cells, self.opts.tz) else { continue };
            if !repeated.contains(&key.hash64()) {
                continue;
            }
            let described = key.describe();
            match first.get(&described) {
                Some(&line) => {
                    let reason = format!("duplicate {described} (first on line {line})");
                    self.log.defer(row_error(which.spec().name, rec.line(), key.column(), reason));
                }
                None => {
                    first.insert(described, rec.line());
                }
            }
        }
        Ok(())
    }

    /// Sends the waiting rows to be written, or drops them once there is an error.
    fn flush(&mut self) -> Result<(), Failure> {
        let batch = std::mem::take(&mut self.batch);
        if self.log.count > 0 || batch.is_empty() {
            return Ok(());
        }
        self.link.send(ToStore::Put(Box::new(batch)))
    }
}

/// `unknown product P9 (not in products.csv nor in the database)`
fn unknown(kind: IdKind, id: &str) -> String {
    let (noun, file) = noun(kind);
    format!("unknown {noun} {id} (not in {file} nor in the database)")
}
