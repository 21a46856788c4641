//! The storage conformance suite: one story every backend must tell the
//! same way (import all-or-nothing, updates by key, the streamed book, runs
//! as history, the append-only audit trail). A backend's tests call each
//! function with a fresh, empty, migrated store.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod desk;

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
    s.scan_books(&cat, 2, &mut |chunk| {
        for c in chunk {
            seen.push((c.book.client.client_id.clone(), c.book.holdings.len()));
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(seen, vec![("C1".into(), 1), ("C2".into(), 0), ("C3".into(), 1)]);
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
        s.scan_books(&cat, 10, &mut |chunk| {
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
    let ex = tierwise_classify::Explanation::from_json(&ex).unwrap();
    assert_eq!(ex.line(&pack, "asset_tier").unwrap().inputs[0].value.as_deref(), Some("100.5"));
    // a second run sees the first as previous
    let rows = classify_all(s);
    assert!(rows.iter().all(|(_, p)| p.as_ref().is_some_and(|(t, _)| t == "mass")));
    assert_eq!(s.pack_text("cn-bank", &pack.version).unwrap().as_deref(), Some(pack.source_text.as_str()));
}

fn tierwise_rules_pack() -> tierwise_rules::Pack {
    tierwise_rules::load("cn-bank", None).unwrap().0
}

/// Runs the whole suite, each part on a fresh store from `fresh`.
pub fn run_all<S: Store>(fresh: &mut dyn FnMut() -> S) {
    import_commits_on_true_and_rolls_back_on_false(&fresh());
    reimport_updates_by_key(&fresh());
    scan_streams_clients_in_id_order_with_their_rows(&fresh());
    an_unfinished_run_leaves_nothing_and_a_finished_one_is_history(&fresh());
}
