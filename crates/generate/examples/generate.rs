//! Generates a book and prints how long it took and how big it is:
//! `cargo run --release -p tierwise-generate --example generate -- 1000000 /tmp/book [seed] [as-of]`

use std::time::Instant;
use tierwise_generate::{generate, GenerateOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let clients: u64 = args.next().as_deref().unwrap_or("100000").parse()?;
    let out = std::path::PathBuf::from(args.next().unwrap_or_else(|| "book".into()));
    let seed: u64 = args.next().as_deref().unwrap_or("42").parse()?;
    let as_of = chrono::NaiveDate::parse_from_str(args.next().as_deref().unwrap_or("2025-06-30"), "%Y-%m-%d")?;
    let started = Instant::now();
    let summary = generate(&GenerateOptions { clients, seed, as_of }, &out, &mut |_| {})?;
    let elapsed = started.elapsed();
    let mut bytes = 0;
    for (name, _) in tierwise_generate::FILES {
        bytes += std::fs::metadata(out.join(name))?.len();
    }
    println!("{summary:?}");
    println!("{clients} clients in {:.2} s, {:.1} MB", elapsed.as_secs_f64(), bytes as f64 / 1e6);
    Ok(())
}
