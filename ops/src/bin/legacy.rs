//! The monolith's database, rebuilt to import from (docs/legacy-import.md).
//!
//! ```text
//! legacy generate --database-url postgres://postgres@127.0.0.1:5432/legacy_demo \
//!     [--scale BOOKINGS] [--seed SEED] [--create] [--manifest manifest.json]
//! ```
//!
//! Applies `legacy/schema_v3.sql` to the (empty) database and fills it, `--scale` bookings
//! (default 3000) and the users, content, availability, payments and partners around them,
//! the same rows for the same seed. Prints the rows the import must reject, a count of the
//! rows it must clean, and the oversold nights; `--manifest` writes all of them as JSON.

use std::time::Instant;

const USAGE: &str =
    "usage: legacy generate --database-url URL [--scale BOOKINGS] [--seed SEED] [--create] [--manifest PATH]";

struct Args {
    database_url: String,
    options: ops::legacy::Options,
    create: bool,
    manifest: Option<String>,
}

fn parse(mut args: impl Iterator<Item = String>) -> anyhow::Result<Args> {
    anyhow::ensure!(args.next().as_deref() == Some("generate"), "{USAGE}");
    let mut database_url = None;
    let mut options = ops::legacy::Options::default();
    let mut create = false;
    let mut manifest = None;
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| anyhow::anyhow!("{arg} needs a value\n{USAGE}"));
        match arg.as_str() {
            "--database-url" => database_url = Some(value()?),
            "--scale" => options.scale = value()?.replace('_', "").parse()?,
            "--seed" => options.seed = value()?.parse()?,
            "--manifest" => manifest = Some(value()?),
            "--create" => create = true,
            "-h" | "--help" => anyhow::bail!("{USAGE}"),
            other => anyhow::bail!("unknown argument {other}\n{USAGE}"),
        }
    }
    let database_url = database_url
        .or_else(|| std::env::var("TT_LEGACY_DATABASE_URL").ok())
        .ok_or_else(|| anyhow::anyhow!("--database-url (or TT_LEGACY_DATABASE_URL) is required\n{USAGE}"))?;
    anyhow::ensure!((1..=5_000_000).contains(&options.scale), "--scale is between 1 and 5000000 bookings");
    Ok(Args { database_url, options, create, manifest })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse(std::env::args().skip(1))?;
    if args.create {
        platform::db::ensure_database(&args.database_url).await?;
    }
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(16).connect(&args.database_url).await?;
    let started = Instant::now();
    let manifest = ops::legacy::generate(&pool, args.options).await?;
    let elapsed = started.elapsed();

    println!(
        "schema_v3 filled: seed {}, {} bookings, in {:.1} s",
        manifest.seed,
        manifest.scale,
        elapsed.as_secs_f64()
    );
    for (table, rows) in &manifest.rows {
        println!("  {table:<28} {rows:>10} rows");
    }
    println!("bad rows the import must reject ({}):", manifest.bad.len());
    for p in &manifest.bad {
        println!("  bad\t{}\t{}\t{}", p.table, p.id, p.case);
    }
    let mut dirty = std::collections::BTreeMap::<(&str, &str), usize>::new();
    for p in &manifest.dirty {
        *dirty.entry((p.table.as_str(), p.case.as_str())).or_default() += 1;
    }
    println!("dirty rows the import must clean ({}):", manifest.dirty.len());
    for ((table, case), count) in dirty {
        println!("  dirty\t{table}\t{case}\t{count}");
    }
    println!("oversold nights ({}):", manifest.oversold.len());
    for o in &manifest.oversold {
        println!(
            "  oversold\taccommodation {}\t{}\t{}\t{} booked of {}\tbookings {:?}",
            o.accommodation_id, o.room_type, o.night, o.booked_rooms, o.total_rooms, o.bookings
        );
    }
    println!("demo accounts (legacy password {:?}): {}", ops::legacy::DEMO_PASSWORD, manifest.demo_users.join(", "));
    if let Some(path) = args.manifest {
        std::fs::write(&path, serde_json::to_vec_pretty(&manifest)?)?;
        println!("manifest written to {path}");
    }
    pool.close().await;
    Ok(())
}
