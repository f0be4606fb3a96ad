//! Inventory and catalog benchmark: prints figures, asserts nothing.
//!
//! `cargo run -p tests --bin bench-inventory -- [seconds] [concurrency]` (defaults 5 s, 16).
//! Uses a fresh database on the local PostgreSQL (`TT_TEST_DATABASE_URL`), and measures in
//! one run, on the same machine:
//! - holds per second on one hot room-night, and spread over 120 nights;
//! - the raw PostgreSQL rate of the same conditional counter update, without the hold's
//!   bookkeeping, as the baseline of both;
//! - catalog search requests per second through the real API, with latency percentiles,
//!   against `/healthz` of the same API (itself against a bare axum route) and against the
//!   search's own queries run straight on the database.

use chrono::{Duration as Days, Utc};
use contracts::{BookingRef, StayDates, activities::HoldRequest};
use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};
use tests::{TestDatabase, TestPlatformOptions};
use uuid::Uuid;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let seconds: u64 = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(5);
    let concurrency: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(16);
    let duration = Duration::from_secs(seconds);
    println!(
        "bench-inventory: {seconds} s per measurement, {concurrency} concurrent clients, {} cores",
        std::thread::available_parallelism()?
    );

    let db = TestDatabase::create(TestPlatformOptions::default().rooms_per_night).await?;
    // Pools as large as the concurrency, so the pool is not what is measured.
    let inventory = platform::db::context_pool(&db.url, inventory::SCHEMA, u32::try_from(concurrency)?)?;
    let room = "bench_room";
    let first = contracts::india::today() + Days::days(1);

    // Baseline: the conditional counter update alone.
    let baseline_id = Uuid::new_v4();
    inventory::store::set_allotment(&inventory, baseline_id, room, first, first + Days::days(1), i32::MAX / 2).await?;
    let pool_for_raw = inventory.clone();
    let raw = run(duration, concurrency, move |_, _| {
        let pool = pool_for_raw.clone();
        async move {
            sqlx::query(
                "UPDATE accommodation_availability SET held = held + 1, updated_at = now()
                 WHERE accommodation_id = $1 AND room_type = $2 AND night = $3 AND held + booked + 1 <= allotment",
            )
            .bind(baseline_id)
            .bind(room)
            .bind(first)
            .execute(&pool)
            .await
            .map(|_| ())
        }
    })
    .await;
    report("raw conditional UPDATE, one hot night", &raw, None);

    for (label, spread) in [("holds, one hot room-night", 1i64), ("holds, spread over 120 nights", 120)] {
        let id = Uuid::new_v4();
        inventory::store::set_allotment(&inventory, id, room, first, first + Days::days(spread + 1), i32::MAX / 2)
            .await?;
        let pool_for_holds = inventory.clone();
        let result =
            run(duration, concurrency, move |client, n| {
                let pool = pool_for_holds.clone();
                let check_in = first + Days::days(i64::try_from(n).unwrap_or(0) % spread);
                let request = HoldRequest {
                    hold_id: format!("bench/{label}/{client}/{n}"),
                    booking_ref: BookingRef::from_random(n),
                    accommodation_id: id,
                    room_type: room.into(),
                    dates: StayDates { check_in, check_out: check_in + Days::days(1) },
                    rooms: 1,
                };
                async move {
                    inventory::store::hold_rooms(&pool, &request, Utc::now() + Days::minutes(30)).await.map(|_| ())
                }
            })
            .await;
        report(label, &result, Some(&raw));
    }

    // Holds never oversell: the database's check constraint would refuse it, and the
    // counters say so.
    let oversold: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM accommodation_availability WHERE held + booked > allotment OR held < 0",
    )
    .fetch_one(&inventory)
    .await?;
    println!("{:<44} {oversold}", "nights oversold after the holds");

    catalog_reads(&db.url, duration, concurrency).await?;
    db.drop_database().await
}

/// Catalog search through the real API, against two baselines of the same run: a trivial
/// route of the same API (`/healthz`, itself against a bare axum route), and the search's
/// own queries run straight on the database, without HTTP.
async fn catalog_reads(database_url: &str, duration: Duration, concurrency: usize) -> anyhow::Result<()> {
    let bare = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let bare_url = format!("http://{}", bare.local_addr()?);
    tokio::spawn(async move {
        let app = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
        axum::serve(bare, app).await.ok();
    });
    let mut api = tests::spawn_catalog_api(database_url).await?;
    let http = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build()?;
    let get = |urls: Vec<String>| {
        let http = http.clone();
        move |_, n: u64| {
            let url = urls[usize::try_from(n).unwrap_or(0) % urls.len()].clone();
            let http = http.clone();
            async move {
                let response = http.get(url).send().await.map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
                let status = response.status();
                // The body is read, as a client would.
                let _ = response.bytes().await.map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
                if status.is_success() { Ok(()) } else { Err(sqlx::Error::Protocol(status.to_string())) }
            }
        }
    };
    // The catalog's pages are kept once the API has heard the catalog's version.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let bare_route = run(duration, concurrency, get(vec![format!("{bare_url}/")])).await;
    report("bare axum route (baseline of /healthz)", &bare_route, None);
    let healthz = run(duration, concurrency, get(vec![format!("{}/healthz", api.url)])).await;
    report_against("/healthz of the API", &healthz, &[(&bare_route, "the bare route")]);

    let catalog =
        catalog::Catalog::new(platform::db::context_pool(database_url, catalog::SCHEMA, u32::try_from(concurrency)?)?);
    let raw = run(duration, concurrency, move |_, _| {
        let catalog = catalog.clone();
        async move {
            let filter =
                catalog::search::AccommodationFilter { destination: Some("agartala".into()), ..Default::default() };
            let page = catalog.search_accommodations(&filter, catalog::search::SortOrder::Name, None, 21).await?;
            let ids: Vec<_> = page.iter().map(|a| a.accommodation_id).collect();
            catalog.room_types_of(&ids).await.map(|_| ())
        }
    })
    .await;
    report("search's own queries, no HTTP (baseline)", &raw, None);

    let destination =
        run(duration, concurrency, get(vec![format!("{}/api/catalog/accommodations?destination=agartala", api.url)]))
            .await;
    report_against(
        "catalog search by destination via the API",
        &destination,
        &[(&healthz, "/healthz"), (&raw, "its own queries")],
    );
    let queries = ["", "?sort=price&limit=2", "?destination=agartala", "?max_price=300000", "?guests=3&sort=price"];
    let mixed = run(
        duration,
        concurrency,
        get(queries.iter().map(|q| format!("{}/api/catalog/accommodations{q}", api.url)).collect()),
    )
    .await;
    report_against("catalog search, five filters via the API", &mixed, &[(&healthz, "/healthz")]);
    let check_in = contracts::india::today() + Days::days(20);
    let dated = run(
        duration,
        concurrency,
        get((0..40)
            .map(|d| {
                let from = check_in + Days::days(d);
                format!("{}/api/catalog/accommodations?check_in={from}&check_out={}", api.url, from + Days::days(2))
            })
            .collect()),
    )
    .await;
    report_against(
        "dated search via the API (never kept)",
        &dated,
        &[(&healthz, "/healthz"), (&raw, "the search's own queries")],
    );
    api.stop();
    Ok(())
}

struct RunResult {
    ok: u64,
    errors: u64,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

/// Runs `concurrency` closed-loop clients for `duration`, each calling `op(client, n)`.
async fn run<F, Fut>(duration: Duration, concurrency: usize, op: F) -> RunResult
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static + Clone,
    Fut: std::future::Future<Output = Result<(), sqlx::Error>> + Send + 'static,
{
    let counter = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let clients = (0..concurrency).map(|client| {
        let (op, counter, errors) = (op.clone(), counter.clone(), errors.clone());
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            while started.elapsed() < duration {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let t = Instant::now();
                match op(client, n).await {
                    Ok(()) => latencies.push(t.elapsed()),
                    Err(_) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            latencies
        })
    });
    let mut latencies: Vec<Duration> =
        futures::future::join_all(clients).await.into_iter().flat_map(|r| r.unwrap_or_default()).collect();
    latencies.sort();
    RunResult {
        ok: latencies.len() as u64,
        errors: errors.load(Ordering::Relaxed),
        elapsed: started.elapsed(),
        latencies,
    }
}

fn rate(r: &RunResult) -> f64 {
    r.ok as f64 / r.elapsed.as_secs_f64()
}

fn report_against(label: &str, r: &RunResult, baselines: &[(&RunResult, &str)]) {
    report(label, r, None);
    let ratios: Vec<String> = baselines.iter().map(|(b, name)| format!("{:.2}× {name}", rate(r) / rate(b))).collect();
    println!("{:<44} {}", "", ratios.join(", "));
}

fn report(label: &str, r: &RunResult, baseline: Option<&RunResult>) {
    let rate = r.ok as f64 / r.elapsed.as_secs_f64();
    let pct = |p: f64| {
        if r.latencies.is_empty() {
            return 0.0;
        }
        let i = ((r.latencies.len() as f64 - 1.0) * p).round() as usize;
        r.latencies[i].as_secs_f64() * 1000.0
    };
    let ratio = baseline
        .map(|b| format!("  ({:.2}× the raw update)", rate / (b.ok as f64 / b.elapsed.as_secs_f64())))
        .unwrap_or_default();
    println!(
        "{label:<40} {rate:>9.0}/s{ratio}  p50 {:.2} ms  p95 {:.2} ms  p99 {:.2} ms  max {:.2} ms  errors {}",
        pct(0.50),
        pct(0.95),
        pct(0.99),
        pct(1.0),
        r.errors
    );
}
