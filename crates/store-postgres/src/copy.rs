//! Binary COPY: rows encoded into a buffer on the caller's thread
//! ([`CopyRows`]), sent as one COPY ([`copy_all`]) or — for an import's
//! first load — streamed to the server by a thread of its own that keeps
//! one COPY open while batches of the same table come ([`streamer`]).
//!
//! Why a thread: a COPY per batch makes the client and the server take
//! turns (the client encodes and sends, then waits for the server to finish
//! the batch; the server then waits for the next). With the COPY kept open
//! the server reads rows while the importer validates and encodes the next
//! batch; only a change of table, a query, or the end closes it.

use crate::db;
use bytes::{BufMut, Bytes, BytesMut};
use postgres::types::{IsNull, ToSql, Type};
use postgres::{GenericClient, Transaction};
use std::io::Write;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use tierwise_store::{StoreError, StoreResult};

/// Why a value could not be encoded for COPY.
pub(crate) type EncodeError = Box<dyn std::error::Error + Sync + Send>;

/// The binary COPY signature, flags and (empty) header extension.
const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// The file trailer: a field count of -1.
const TRAILER: &[u8] = &[0xff, 0xff];

/// Rows in PostgreSQL's binary COPY format (without header and trailer),
/// each value encoded for its column's type as the `postgres` client would.
pub(crate) struct CopyRows {
    types: Vec<Type>,
    buf: BytesMut,
}

impl CopyRows {
    pub fn new(types: Vec<Type>) -> CopyRows {
        CopyRows { types, buf: BytesMut::new() }
    }

    /// One row: a value per column, in column order.
    pub fn write(&mut self, values: &[&(dyn ToSql + Sync)]) -> Result<(), EncodeError> {
        if values.len() != self.types.len() {
            return Err(format!("a row of {} values for {} columns", values.len(), self.types.len()).into());
        }
        self.buf.put_i16(i16::try_from(values.len())?);
        for (v, ty) in values.iter().zip(&self.types) {
            let at = self.buf.len();
            self.buf.put_i32(0);
            let len = match v.to_sql_checked(ty, &mut self.buf)? {
                IsNull::Yes => -1,
                IsNull::No => i32::try_from(self.buf.len() - at - 4)?,
            };
            self.buf[at..at + 4].copy_from_slice(&len.to_be_bytes());
        }
        Ok(())
    }

    /// How many bytes the rows written so far take.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// The rows written so far; the buffer starts again empty.
    pub fn take(&mut self) -> Bytes {
        self.buf.split().freeze()
    }
}

/// A value that could not be encoded, as a store error.
pub(crate) fn encode_error(table: &str, e: EncodeError) -> StoreError {
    StoreError::Database(format!("a row for {table} could not be encoded: {e}"))
}

/// An error writing COPY data: the server's, when the client library kept it.
fn write_error(e: std::io::Error) -> StoreError {
    match e.into_inner() {
        Some(inner) => match inner.downcast::<postgres::Error>() {
            Ok(pg) => db(*pg),
            Err(other) => StoreError::Database(format!("COPY: {other}")),
        },
        None => StoreError::Database("COPY: the connection failed".to_string()),
    }
}

/// One COPY (`sql`, `COPY … FROM STDIN (FORMAT binary)`) of `rows`.
pub(crate) fn copy_all(c: &mut impl GenericClient, sql: &str, rows: &[u8]) -> StoreResult<u64> {
    let mut w = c.copy_in(sql).map_err(db)?;
    w.write_all(HEADER).map_err(write_error)?;
    w.write_all(rows).map_err(write_error)?;
    w.write_all(TRAILER).map_err(write_error)?;
    w.finish().map_err(db)
}

/// The caller's end of a COPY thread: the transaction is lent to the thread
/// with a COPY statement ([`Streamer::open`]), rows follow
/// ([`Streamer::send`]), and [`Streamer::close`] ends the COPY and gives
/// the transaction back with its outcome. While lent, only the thread may
/// use the transaction — which the borrow it travels as enforces.
pub(crate) struct Streamer<'t, 'c> {
    open: SyncSender<(&'t mut Transaction<'c>, String)>,
    data: SyncSender<Option<Bytes>>,
    back: Receiver<(&'t mut Transaction<'c>, StoreResult<()>)>,
}

/// The thread's end: see [`Copier::run`].
pub(crate) struct Copier<'t, 'c> {
    open: Receiver<(&'t mut Transaction<'c>, String)>,
    data: Receiver<Option<Bytes>>,
    back: SyncSender<(&'t mut Transaction<'c>, StoreResult<()>)>,
}

/// Batches queued for the COPY thread (a batch is ~0.5 MB).
const QUEUED: usize = 8;

/// A connected pair: run [`Copier::run`] on a thread of its own.
pub(crate) fn streamer<'t, 'c>() -> (Streamer<'t, 'c>, Copier<'t, 'c>) {
    let (open_tx, open_rx) = sync_channel(1);
    let (data_tx, data_rx) = sync_channel(QUEUED);
    let (back_tx, back_rx) = sync_channel(1);
    (Streamer { open: open_tx, data: data_tx, back: back_rx }, Copier { open: open_rx, data: data_rx, back: back_tx })
}

pub(crate) fn gone() -> StoreError {
    StoreError::Aborted("the import's COPY thread stopped".to_string())
}

impl<'t, 'c> Streamer<'t, 'c> {
    /// Lends `tx` to the thread, which starts the COPY `sql` on it.
    pub fn open(&self, tx: &'t mut Transaction<'c>, sql: String) -> StoreResult<()> {
        self.open.send((tx, sql)).map_err(|_| gone())
    }

    /// Rows for the open COPY (encoded by [`CopyRows`]).
    pub fn send(&self, rows: Bytes) -> StoreResult<()> {
        self.data.send(Some(rows)).map_err(|_| gone())
    }

    /// Ends the open COPY: the transaction back, and whether every row was
    /// taken (the transaction is failed when not).
    pub fn close(&self) -> StoreResult<(&'t mut Transaction<'c>, StoreResult<()>)> {
        self.data.send(None).map_err(|_| gone())?;
        self.back.recv().map_err(|_| gone())
    }
}

impl Copier<'_, '_> {
    /// Serves COPYs until the caller's end is dropped.
    pub fn run(self) {
        while let Ok((tx, sql)) = self.open.recv() {
            let Some(outcome) = self.stream(tx, &sql) else { return };
            if self.back.send((tx, outcome)).is_err() {
                return;
            }
        }
    }

    /// One COPY: rows until the caller closes it (None when the caller is
    /// gone: the COPY is then dropped unfinished, which aborts it).
    fn stream(&self, tx: &mut Transaction<'_>, sql: &str) -> Option<StoreResult<()>> {
        let mut failed: Option<StoreError> = None;
        let mut w = match tx.copy_in(sql) {
            Ok(w) => Some(w),
            Err(e) => {
                failed = Some(db(e));
                None
            }
        };
        if let Some(writer) = w.as_mut() {
            if let Err(e) = writer.write_all(HEADER) {
                failed = Some(write_error(e));
                w = None;
            }
        }
        loop {
            match self.data.recv() {
                Ok(Some(rows)) => {
                    if let Some(writer) = w.as_mut() {
                        if let Err(e) = writer.write_all(&rows) {
                            failed = Some(write_error(e));
                            w = None;
                        }
                    }
                }
                Ok(None) => break,
                Err(_) => return None,
            }
        }
        Some(match (failed, w) {
            (Some(e), _) => Err(e),
            (None, Some(mut writer)) => {
                writer.write_all(TRAILER).map_err(write_error).and_then(|()| writer.finish().map(|_| ()).map_err(db))
            }
            (None, None) => Err(gone()),
        })
    }
}

/// COPYs sent in order on a connection lent to a thread of their own, while
/// the caller goes on (a classification run: the writer encodes the next
/// results while the server takes the last). The first failure is kept and
/// the COPYs after it are skipped; [`CopyQueue::finish`] reports it.
pub(crate) struct CopyQueue {
    to: SyncSender<(String, Bytes)>,
    thread: std::thread::JoinHandle<(postgres::Client, StoreResult<()>)>,
}

/// COPYs waiting for the queue's thread.
const QUEUED_COPIES: usize = 2;

impl CopyQueue {
    /// Lends `client` (inside its transaction) to a new thread.
    pub fn start(client: postgres::Client) -> StoreResult<CopyQueue> {
        let (to, from) = sync_channel::<(String, Bytes)>(QUEUED_COPIES);
        let thread = std::thread::Builder::new()
            .name("tierwise-copy".to_string())
            .spawn(move || {
                let mut client = client;
                let mut outcome = Ok(());
                for (sql, rows) in from {
                    if outcome.is_ok() {
                        outcome = copy_all(&mut client, &sql, &rows).map(|_| ());
                    }
                }
                (client, outcome)
            })
            .map_err(|e| StoreError::Aborted(format!("cannot start a COPY thread: {e}")))?;
        Ok(CopyQueue { to, thread })
    }

    /// One COPY (`sql`) of `rows`, after those sent before.
    pub fn send(&self, sql: String, rows: Bytes) -> StoreResult<()> {
        self.to.send((sql, rows)).map_err(|_| gone())
    }

    /// Waits for every COPY sent: the connection back, and the first failure.
    pub fn finish(self) -> (postgres::Client, StoreResult<()>) {
        let CopyQueue { to, thread } = self;
        drop(to); // the thread ends once it has sent what is queued
        match thread.join() {
            Ok(back) => back,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_is_its_field_count_then_each_value_with_its_length() {
        let mut rows = CopyRows::new(vec![Type::INT8, Type::TEXT, Type::TEXT]);
        rows.write(&[&7i64, &"ab", &None::<&str>]).unwrap();
        let b = rows.take();
        let mut want = vec![0, 3];
        want.extend_from_slice(&8i32.to_be_bytes());
        want.extend_from_slice(&7i64.to_be_bytes());
        want.extend_from_slice(&2i32.to_be_bytes());
        want.extend_from_slice(b"ab");
        want.extend_from_slice(&(-1i32).to_be_bytes());
        assert_eq!(&b[..], &want[..]);
        assert!(rows.take().is_empty(), "take empties the buffer");
    }

    #[test]
    fn a_row_of_the_wrong_width_or_type_is_refused() {
        let mut rows = CopyRows::new(vec![Type::INT8, Type::TEXT]);
        assert!(rows.write(&[&7i64]).is_err());
        assert!(rows.write(&[&"seven", &"x"]).is_err(), "text for a BIGINT column");
    }
}
