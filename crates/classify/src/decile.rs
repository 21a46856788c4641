//! Value deciles: SQL `NTILE(10) OVER (ORDER BY value DESC, client_id ASC)`.

use rust_decimal::Decimal;

/// Assigns deciles 1–10 (1 = most valuable) exactly as SQL's `NTILE(10)`
/// over `value DESC, client_id ASC` (client ids compared byte-wise, as the
/// BINARY collation does). Returns `(client_id, decile)` in client-id order.
pub fn ntile_deciles(mut rows: Vec<(String, Decimal)>) -> Vec<(String, u8)> {
    if !in_id_order(&rows) {
        rows.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    }
    let deciles = ntile_in_id_order(rows.iter().map(|r| r.1));
    rows.into_iter().zip(deciles).map(|((id, _), d)| (id, d)).collect()
}

/// Whether `rows` are in strictly ascending client-id order (byte-wise).
fn in_id_order(rows: &[(String, Decimal)]) -> bool {
    rows.windows(2).all(|w| w[0].0.as_bytes() < w[1].0.as_bytes())
}

/// The deciles of values given in client-id order, in that order: ties of
/// value break by position, so no client id is compared (a run of a
/// million clients sorts a million (value, position) pairs, not strings).
fn ntile_in_id_order(values: impl Iterator<Item = Decimal>) -> Vec<u8> {
    let mut order: Vec<(Decimal, u32)> = values.enumerate().map(|(i, v)| (v, i as u32)).collect();
    order.sort_unstable_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let n = order.len();
    let (q, r) = (n / 10, n % 10);
    let big = r * (q + 1); // the first r buckets hold q + 1 rows
    let mut out = vec![0u8; n];
    for (k, (_, i)) in order.into_iter().enumerate() {
        let bucket = if k < big { k / (q + 1) } else { r + (k - big) / q.max(1) };
        out[i as usize] = (bucket + 1) as u8;
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn deciles(values: &[i64]) -> Vec<u8> {
        let rows = values.iter().enumerate().map(|(i, v)| (format!("C{i:03}"), Decimal::from(*v))).collect();
        let mut out = ntile_deciles(rows);
        out.sort();
        out.into_iter().map(|(_, d)| d).collect()
    }

    #[test]
    fn ntile_gives_the_first_buckets_one_extra_row() {
        // 12 rows: buckets 1 and 2 have 2 rows, buckets 3–10 one each
        let d = deciles(&[12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
        assert_eq!(d, vec![1, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    }

    #[test]
    fn fewer_rows_than_buckets_each_get_their_own() {
        assert_eq!(deciles(&[5, 9, 1]), vec![2, 1, 3]);
    }

    #[test]
    fn ties_break_by_client_id_ascending() {
        // 20 equal values: ids C000..C019 in order, two per bucket
        let d = deciles(&[7; 20]);
        assert_eq!(d, (0..20).map(|i| (i / 2 + 1) as u8).collect::<Vec<_>>());
    }

    #[test]
    fn rows_out_of_id_order_come_back_in_id_order_with_the_same_deciles() {
        let values = [3, 9, 9, 1, 7, 0, 5, 9, 2, 4, 8, 6];
        let rows: Vec<(String, Decimal)> =
            values.iter().enumerate().map(|(i, v)| (format!("C{i:03}"), Decimal::from(*v))).collect();
        let mut shuffled = rows.clone();
        shuffled.reverse();
        shuffled.swap(2, 7);
        let a = ntile_deciles(rows);
        let b = ntile_deciles(shuffled);
        assert_eq!(a, b);
        assert!(a.windows(2).all(|w| w[0].0 < w[1].0), "id order");
        // the three 9s: C001, C002, C007 -> buckets 1, 1, 2 (12 rows: buckets 1-2 hold 2)
        assert_eq!((a[1].1, a[2].1, a[7].1), (1, 1, 2));
    }

    #[test]
    fn exact_multiple_of_ten() {
        let v: Vec<i64> = (0..30).rev().collect();
        let d = deciles(&v);
        assert_eq!(d[0], 1);
        assert_eq!(d[2], 1);
        assert_eq!(d[3], 2);
        assert_eq!(d[29], 10);
    }
}
