//! Formatting helpers of the UI (the pages themselves are tested over HTTP
//! in tests/web/ui.rs).

#[test]
fn money_and_times_read_well() {
    use rust_decimal::Decimal;
    assert_eq!(super::money(&Decimal::new(12345678, 1)), "1,234,567.80");
    assert_eq!(super::money(&Decimal::new(-5, 0)), "-5.00");
    assert_eq!(super::money(&Decimal::new(999, 0)), "999.00");
    assert_eq!(super::ts("2025-03-01T10:20:30.123"), "2025-03-01 10:20");
    assert_eq!(super::ts("2025-03-01"), "2025-03-01");
    assert_eq!(super::enc("a b&c=中"), "a%20b%26c%3D%E4%B8%AD");
}
