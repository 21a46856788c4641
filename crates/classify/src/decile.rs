//! Value deciles: SQL `NTILE(10) OVER (ORDER BY value DESC, client_id ASC)`.

use rust_decimal::Decimal;

/// Assigns deciles 1–10 (1 = most valuable) exactly as SQL's `NTILE(10)`
/// over `value DESC, client_id ASC` (client ids compared byte-wise, as the
/// BINARY collation does). Returns `(client_id, decile)` in that order.
pub fn ntile_deciles(mut rows: Vec<(String, Decimal)>) -> Vec<(String, u8)> {
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.as_bytes().cmp(b.0.as_bytes())));
    let n = rows.len();
    let (q, r) = (n / 10, n % 10);
    let big = r * (q + 1); // the first r buckets hold q + 1 rows
    rows.into_iter()
        .enumerate()
        .map(|(k, (id, _))| {
            let bucket = if k < big { k / (q + 1) } else { r + (k - big) / q.max(1) };
            (id, (bucket + 1) as u8)
        })
        .collect()
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
    fn exact_multiple_of_ten() {
        let v: Vec<i64> = (0..30).rev().collect();
        let d = deciles(&v);
        assert_eq!(d[0], 1);
        assert_eq!(d[2], 1);
        assert_eq!(d[3], 2);
        assert_eq!(d[29], 10);
    }
}
