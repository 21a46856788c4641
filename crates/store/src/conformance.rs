//! The storage conformance suite: one story every backend must tell the
//! same way (import all-or-nothing, updates by key, the streamed book, runs
//! as history, the append-only audit trail). A backend's tests call each
//! function with a fresh, empty, migrated store.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod desk;
pub mod work;

use crate::*;
use rust_decimal::Decimal;
use tierwise_domain::*;

fn client(id: &str) -> Client {
    Client { client_id: id.into(), ..Default::default() }
}

fn product(id: &str) -> Product {
    Product {
        product_id: id.into(),
        name: Some("债基".into()),
        category: ProductCategory::BondFund,
        variety: None,
        risk_level: ProductRisk::R2,
        horizon_months: 0,
        min_investment: Decimal::ONE,
        investor_requirement: InvestorRequirement::None,
        annual_fee_rate: "0.005".parse().unwrap(),
        status: ProductStatus::OnSale,
        currency: "CNY".into(),
    }
}

fn seed(s: &dyn Store) {
    let ok = s
        .import(&mut |sink| {
            sink.put_products(&[product("P1")])?;
            sink.put_clients(&[client("C2"), client("C1"), client("C3")])?;
            sink.put_holdings(&[
                Holding {
                    client_id: "C1".into(),
                    product_id: "P1".into(),
                    market_value: "100.50".parse().unwrap(),
                    as_of: parse_date("2025-06-30").unwrap(),
                },
                Holding {
                    client_id: "C3".into(),
                    product_id: "P1".into(),
                    market_value: "7".parse().unwrap(),
                    as_of: parse_date("2025-06-30").unwrap(),
                },
            ])?;
            Ok(true)
        })
        .unwrap();
    assert!(ok);
}

/// An import commits on `Ok(true)` and leaves nothing on `Ok(false)` or an error.
pub fn import_commits_on_true_and_rolls_back_on_false(s: &dyn Store) {
    seed(s);
    assert_eq!(s.counts().unwrap().clients, 3);
    let ok = s
        .import(&mut |sink| {
            sink.put_clients(&[client("C9")])?;
            Ok(false)
        })
        .unwrap();
    assert!(!ok);
    assert_eq!(s.counts().unwrap().clients, 3, "a rolled-back import leaves nothing");
    assert_eq!(s.client_count().unwrap(), 3, "the clients alone, counted as counts() does");
    let err = s.import(&mut |sink| {
        sink.put_clients(&[client("C8")])?;
        Err(StoreError::Aborted("boom".into()))
    });
    assert!(err.is_err());
    assert!(s.client("C8").unwrap().is_none());
}

/// Re-putting a row with an existing key updates it.
pub fn reimport_updates_by_key(s: &dyn Store) {
    seed(s);
    s.import(&mut |sink| {
        let mut c = client("C1");
        c.name = Some("王芳".into());
        sink.put_clients(&[c])?;
        Ok(true)
    })
    .unwrap();
    assert_eq!(s.client("C1").unwrap().unwrap().name.as_deref(), Some("王芳"));
    assert_eq!(s.counts().unwrap().clients, 3);
    // a transaction id re-imported under another client moves to it
    let txn = |client: &str, amount: &str| Transaction {
        txn_id: "T1".into(),
        client_id: client.into(),
        product_id: None,
        ts: parse_timestamp("2025-06-01T10:00:00", chrono_tz::Asia::Shanghai).unwrap(),
        kind: TxnKind::Deposit,
        amount: amount.parse().unwrap(),
        channel: None,
    };
    s.import(&mut |sink| {
        sink.put_transactions(&[txn("C1", "10")])?;
        Ok(true)
    })
    .unwrap();
    s.import(&mut |sink| {
        sink.put_transactions(&[txn("C2", "20")])?;
        Ok(true)
    })
    .unwrap();
    assert_eq!(s.counts().unwrap().transactions, 1);
    let cat = tierwise_classify::Catalog::new(s.products().unwrap());
    let c2 = s.client_book("C2", &cat).unwrap().unwrap();
    assert_eq!(c2.transactions.len(), 1);
    assert_eq!(c2.transactions[0].amount, "20".parse::<Decimal>().unwrap());
    assert!(s.client_book("C1", &cat).unwrap().unwrap().transactions.is_empty());
}

/// The book streams in client-id order, each client with its rows.
pub fn scan_streams_clients_in_id_order_with_their_rows(s: &dyn Store) {
    seed(s);
    let cat = tierwise_classify::Catalog::new(s.products().unwrap());
    let mut seen = Vec::new();
    s.scan_books(&cat, 2, None, &mut |chunk| {
        for c in chunk {
            seen.push((c.book.client.client_id.clone(), c.book.holdings.len()));
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(seen, vec![("C1".into(), 1), ("C2".into(), 0), ("C3".into(), 1)]);
}

/// A windowed scan delivers the holdings dated up to D and the transactions
/// of the window's days (both ends included, whatever the time of day),
/// nothing else; without a window, everything.
pub fn a_windowed_scan_delivers_only_what_counts_as_of_d(s: &dyn Store) {
    seed(s);
    let at = |t: &str| parse_timestamp(t, chrono_tz::Asia::Shanghai).unwrap();
    let txn = |id: &str, client: &str, ts: &str| Transaction {
        txn_id: id.into(),
        client_id: client.into(),
        product_id: None,
        ts: at(ts),
        kind: TxnKind::Deposit,
        amount: Decimal::ONE,
        channel: None,
    };
    let holding = |client: &str, as_of: &str| Holding {
        client_id: client.into(),
        product_id: "P1".into(),
        market_value: Decimal::TEN,
        as_of: parse_date(as_of).unwrap(),
    };
    s.import(&mut |sink| {
        sink.put_holdings(&[holding("C1", "2025-07-01"), holding("C3", "2024-12-31")])?;
        sink.put_transactions(&[
            txn("T1", "C1", "2024-07-01T00:00:00"),     // the window's first day: in
            txn("T2", "C1", "2024-06-30T23:59:59.999"), // the day before: out
            txn("T3", "C1", "2025-06-30T23:59:59.5"),   // D itself, its last instant: in
            txn("T4", "C1", "2025-07-01T00:00:00"),     // after D: out
            txn("T5", "C3", "2025-01-15T09:30:00"),     // in
            txn("T6", "C2", "2019-01-01T09:30:00"),     // out
        ])?;
        Ok(true)
    })
    .unwrap();
    let cat = tierwise_classify::Catalog::new(s.products().unwrap());
    let window = tierwise_classify::BookWindow {
        as_of: parse_date("2025-06-30").unwrap(),
        transactions_from: parse_date("2024-07-01").unwrap(),
    };
    let scan = |window: Option<tierwise_classify::BookWindow>| {
        let mut seen = Vec::new();
        s.scan_books(&cat, 2, window, &mut |chunk| {
            for c in chunk {
                let mut dates: Vec<String> = c.book.holdings.iter().map(|h| h.as_of.to_string()).collect();
                dates.sort();
                let mut times: Vec<String> = c.book.transactions.iter().map(|t| t.ts.to_string()).collect();
                times.sort();
                seen.push((c.book.client.client_id.clone(), dates, times));
            }
            Ok(())
        })
        .unwrap();
        seen.sort();
        seen
    };
    let strings = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        scan(Some(window)),
        vec![
            ("C1".into(), strings(&["2025-06-30"]), strings(&["2024-07-01 00:00:00", "2025-06-30 23:59:59.500"])),
            ("C2".into(), vec![], vec![]),
            ("C3".into(), strings(&["2024-12-31", "2025-06-30"]), strings(&["2025-01-15 09:30:00"])),
        ]
    );
    let all = scan(None);
    assert_eq!(all[0].1.len(), 2, "without a window, C1's holdings after D too");
    assert_eq!(all[0].2.len(), 4, "and every transaction");
    assert_eq!(all[1].2.len(), 1);
}

/// A run dropped before `finish` leaves nothing; a finished one is history.
pub fn an_unfinished_run_leaves_nothing_and_a_finished_one_is_history(s: &dyn Store) {
    seed(s);
    let pack = tierwise_rules_pack();
    let cat = tierwise_classify::Catalog::new(s.products().unwrap());
    let engine = tierwise_classify::Engine::new(&pack, Default::default());
    let as_of = parse_date("2025-06-30").unwrap();
    let classify_all = |s: &dyn Store| {
        let mut out = Vec::new();
        s.scan_books(&cat, 10, Some(engine.window(as_of)), &mut |chunk| {
            for c in chunk {
                out.push((engine.classify(&c.book, &cat, as_of), c.previous));
            }
            Ok(())
        })
        .unwrap();
        out
    };
    {
        let mut w = s.begin_run(as_of, &pack.id, &pack.version, &pack.source_text).unwrap();
        w.write(&classify_all(s)).unwrap();
        // dropped without finish
    }
    assert!(s.latest_run().unwrap().is_none());
    let rows = classify_all(s);
    let mut w = s.begin_run(as_of, &pack.id, &pack.version, &pack.source_text).unwrap();
    w.write(&rows).unwrap();
    let run = w.finish(&[("C1".into(), 1), ("C3".into(), 2), ("C2".into(), 3)], 3).unwrap();
    assert_eq!(s.latest_run().unwrap().unwrap(), run);
    let mut got = Vec::new();
    s.scan_run(run.run_id, &mut |r| {
        got.push((r.client_id.clone(), r.aum.to_string(), r.value_decile, r.previous_asset_tier.clone()));
        Ok(())
    })
    .unwrap();
    assert_eq!(got[0], ("C1".into(), "100.50".into(), 1, None));
    assert_eq!(got.len(), 3);
    let ex = s.explanation(run.run_id, "C1").unwrap().unwrap();
    let ex = tierwise_classify::Explanation::from_stored(&ex).unwrap();
    assert_eq!(ex.line(&pack, "asset_tier").unwrap().inputs[0].value.as_deref(), Some("100.5"));
    // a second run sees the first as previous
    let rows = classify_all(s);
    assert!(rows.iter().all(|(_, p)| p.as_ref().is_some_and(|(t, _)| t == "mass")));
    assert_eq!(s.pack_text("cn-bank", &pack.version).unwrap().as_deref(), Some(pack.source_text.as_str()));
}

/// One ordinary run over the whole book, as `app::batch` does it.
fn ordinary_run(
    s: &dyn Store,
    pack: &tierwise_rules::Pack,
    cat: &tierwise_classify::Catalog,
    as_of: chrono::NaiveDate,
) -> RunInfo {
    let engine = tierwise_classify::Engine::new(pack, Default::default());
    let mut w = s.begin_run(as_of, &pack.id, &pack.version, &pack.source_text).unwrap();
    let mut values = Vec::new();
    s.scan_books(cat, 4, Some(engine.window(as_of)), &mut |chunk| {
        let rows: Vec<_> = chunk.into_iter().map(|c| (engine.classify(&c.book, cat, as_of), c.previous)).collect();
        values.extend(rows.iter().map(|(c, _)| (c.client_id.clone(), c.value)));
        w.write(&rows)
    })
    .unwrap();
    let n = values.len() as i64;
    w.finish(&tierwise_classify::ntile_deciles(values), n).unwrap()
}

/// Partition `part` of 3 opened and written in full; the writer is returned
/// unfinished, with the partition and its client count.
fn write_partition<'s>(
    s: &'s dyn Store,
    pack: &tierwise_rules::Pack,
    cat: &tierwise_classify::Catalog,
    as_of: chrono::NaiveDate,
    part: i64,
) -> (Partition, Box<dyn RunWriter + 's>, i64) {
    let engine = tierwise_classify::Engine::new(pack, Default::default());
    let (p, mut w) = s.begin_partition(as_of, &pack.id, &pack.version, &pack.source_text, part, 3).unwrap();
    let mut n = 0;
    s.scan_partition(cat, 4, &p, Some(engine.window(as_of)), &mut |chunk| {
        let rows: Vec<_> = chunk.into_iter().map(|c| (engine.classify(&c.book, cat, as_of), c.previous)).collect();
        n += rows.len() as i64;
        w.write(&rows)
    })
    .unwrap();
    (p, w, n)
}

fn export(s: &dyn Store, run_id: i64) -> Vec<StoredClassification> {
    let mut out = Vec::new();
    s.scan_run(run_id, &mut |r| {
        out.push(r.clone());
        Ok(())
    })
    .unwrap();
    out
}

/// A run classified as 3 partitions — one killed mid-way (its writer dropped)
/// and run again, one run twice — is invisible until its finishing step, and
/// then exports exactly what an ordinary run over the same book exports.
pub fn a_partitioned_run_is_invisible_until_finished_and_equals_an_ordinary_one(s: &dyn Store) {
    let ok = s
        .import(&mut |sink| {
            sink.put_products(&[product("P1")])?;
            let ids: Vec<String> = (1..=25).map(|i| format!("C{i:02}")).collect();
            sink.put_clients(&ids.iter().map(|id| client(id)).collect::<Vec<_>>())?;
            let holdings: Vec<Holding> = (1..=25)
                .filter(|i| i % 5 != 0)
                .map(|i| Holding {
                    client_id: format!("C{i:02}"),
                    product_id: "P1".into(),
                    // repeated values: ties ordered by client id
                    market_value: Decimal::from((i % 7) * 150_000 + 10_000),
                    as_of: parse_date("2025-06-30").unwrap(),
                })
                .collect();
            sink.put_holdings(&holdings)?;
            Ok(true)
        })
        .unwrap();
    assert!(ok);
    let pack = tierwise_rules_pack();
    let cat = tierwise_classify::Catalog::new(s.products().unwrap());
    let as_of = parse_date("2025-06-30").unwrap();
    ordinary_run(s, &pack, &cat, as_of);
    let ordinary = ordinary_run(s, &pack, &cat, as_of);
    let expected = export(s, ordinary.run_id);
    assert_eq!(expected.len(), 25);
    assert!(expected.iter().any(|r| r.value_decile == 10));
    let visible = |s: &dyn Store| {
        assert_eq!(s.latest_run().unwrap().unwrap(), ordinary);
        assert_eq!(s.runs().unwrap().len(), 2);
        assert_eq!(s.counts().unwrap().runs, 2);
    };

    // partition 1 killed mid-way: its writer dropped before finish
    {
        let (p, w, n) = write_partition(s, &pack, &cat, as_of, 1);
        assert!(!p.already_done);
        assert_eq!(p.previous_run, Some(ordinary.run_id));
        assert!(n > 0);
        drop(w);
    }
    visible(s);
    let open = s.open_run().unwrap().unwrap();
    assert_eq!((open.partitions, open.done.clone()), (3, vec![]));
    assert_eq!(open.run_id, ordinary.run_id + 1);

    // partition 2, then again: the second replaces the first's rows
    let (p, w, n2) = write_partition(s, &pack, &cat, as_of, 2);
    assert!(!p.already_done);
    w.finish(&[], n2).unwrap();
    let (p, w, again) = write_partition(s, &pack, &cat, as_of, 2);
    assert!(p.already_done);
    assert_eq!(again, n2);
    w.finish(&[], again).unwrap();
    // partition 3
    let (_, w, n3) = write_partition(s, &pack, &cat, as_of, 3);
    w.finish(&[], n3).unwrap();
    visible(s);
    assert_eq!(s.open_run().unwrap().unwrap().done, vec![2, 3]);

    // while open: no finishing step before every partition is done, no other
    // run, no import, no other shape of the same run
    assert!(s.begin_finish_partitions().is_err());
    assert!(s.begin_run(as_of, &pack.id, &pack.version, &pack.source_text).is_err());
    assert!(s.import(&mut |_| Ok(true)).is_err());
    assert!(s.begin_partition(as_of, &pack.id, &pack.version, &pack.source_text, 1, 4).is_err());
    visible(s);

    // partition 1 again, in full this time
    let (_, w, n1) = write_partition(s, &pack, &cat, as_of, 1);
    w.finish(&[], n1).unwrap();
    assert_eq!(n1 + n2 + n3, 25);
    visible(s);

    // a finishing step dropped before its end changes nothing
    {
        let (_, pairs, _w) = s.begin_finish_partitions().unwrap();
        assert_eq!(pairs.len(), 25);
    }
    visible(s);
    let (open, pairs, w) = s.begin_finish_partitions().unwrap();
    assert_eq!(open.done, vec![1, 2, 3]);
    let n = pairs.len() as i64;
    let run = w.finish(&tierwise_classify::ntile_deciles(pairs), n).unwrap();
    assert_eq!(run.clients, 25);
    assert_eq!(s.latest_run().unwrap().unwrap(), run);
    assert_eq!(s.runs().unwrap().len(), 3);
    assert!(s.open_run().unwrap().is_none());
    assert_eq!(export(s, run.run_id), expected);
    // an ordinary run follows, with the partitioned one as its previous run
    let next = ordinary_run(s, &pack, &cat, as_of);
    assert_eq!(export(s, next.run_id), export(s, run.run_id));

    // an abandoned partitioned run leaves nothing
    let (_, w, n) = write_partition(s, &pack, &cat, as_of, 1);
    w.finish(&[], n).unwrap();
    assert!(s.abandon_partitions().unwrap().is_some());
    assert!(s.open_run().unwrap().is_none());
    assert_eq!(s.latest_run().unwrap().unwrap(), next);
    assert_eq!(s.runs().unwrap().len(), 4);
}

fn tierwise_rules_pack() -> tierwise_rules::Pack {
    tierwise_rules::load("cn-bank", None).unwrap().0
}

/// Runs the whole suite, each part on a fresh store from `fresh`.
pub fn run_all<S: Store>(fresh: &mut dyn FnMut() -> S) {
    import_commits_on_true_and_rolls_back_on_false(&fresh());
    reimport_updates_by_key(&fresh());
    scan_streams_clients_in_id_order_with_their_rows(&fresh());
    a_windowed_scan_delivers_only_what_counts_as_of_d(&fresh());
    an_unfinished_run_leaves_nothing_and_a_finished_one_is_history(&fresh());
    a_partitioned_run_is_invisible_until_finished_and_equals_an_ordinary_one(&fresh());
}
