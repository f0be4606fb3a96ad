//! The legacy generator against a real PostgreSQL (`TT_TEST_DATABASE_URL`, by default
//! postgres://postgres@127.0.0.1:5432/postgres): each test fills databases of its own and
//! drops them at the end.

use ops::legacy::{self, Manifest, Options};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};

fn server_url() -> String {
    std::env::var("TT_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A fresh, empty database, dropped when the test is done with it.
struct TestDb {
    name: String,
    pool: PgPool,
}

impl TestDb {
    async fn new() -> TestDb {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "legacy_test_{}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos()
        );
        let admin = PgPool::connect(&server_url()).await.expect("the test PostgreSQL is reachable");
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.unwrap();
        admin.close().await;
        let options = sqlx::postgres::PgConnectOptions::from_str(&server_url()).unwrap().database(&name);
        let pool = PgPoolOptions::new().max_connections(12).connect_with(options).await.unwrap();
        TestDb { name, pool }
    }

    async fn drop(self) {
        self.pool.close().await;
        let admin = PgPool::connect(&server_url()).await.unwrap();
        sqlx::query(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)).execute(&admin).await.unwrap();
        admin.close().await;
    }
}

/// A checksum of every table's rows, in id order.
async fn checksums(pool: &PgPool) -> BTreeMap<&'static str, String> {
    let mut sums = BTreeMap::new();
    for table in legacy::TABLES {
        let sum: Option<String> =
            sqlx::query_scalar(&format!("SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM {table} t"))
                .fetch_one(pool)
                .await
                .unwrap();
        sums.insert(table, sum.unwrap_or_default());
    }
    sums
}

async fn ids_where(pool: &PgPool, table: &str, condition: &str) -> BTreeSet<i64> {
    sqlx::query_scalar::<_, i64>(&format!("SELECT t.id::bigint FROM {table} t WHERE {condition}"))
        .fetch_all(pool)
        .await
        .unwrap_or_else(|e| panic!("{table}: {condition}: {e}"))
        .into_iter()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schema_applies_to_an_empty_database_with_its_35_tables() {
    let db = TestDb::new().await;
    legacy::apply_schema(&db.pool).await.unwrap();
    let tables: BTreeSet<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap()
    .into_iter()
    .collect();
    let expected: BTreeSet<String> = legacy::TABLES.iter().map(|t| t.to_string()).collect();
    assert_eq!(tables, expected);
    assert_eq!(tables.len(), 35);
    // The monolith's habits are in the schema itself.
    let amount_type: String = sqlx::query_scalar(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'bookings'::regclass AND attname = 'total_amount'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(amount_type, "numeric(12,2)");
    let created_type: String = sqlx::query_scalar(
        "SELECT data_type::text FROM information_schema.columns WHERE table_name = 'bookings' AND column_name = 'created_at'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(created_type, "timestamp without time zone");
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_gives_the_same_rows_and_another_seed_other_rows() {
    let options = Options { scale: 1_500, seed: 7 };
    let (a, b, c) = (TestDb::new().await, TestDb::new().await, TestDb::new().await);
    let manifest_a = legacy::generate(&a.pool, options).await.unwrap();
    let manifest_b = legacy::generate(&b.pool, options).await.unwrap();
    let manifest_c = legacy::generate(&c.pool, Options { seed: 8, ..options }).await.unwrap();
    let (sums_a, sums_b, sums_c) = (checksums(&a.pool).await, checksums(&b.pool).await, checksums(&c.pool).await);
    assert_eq!(sums_a, sums_b, "two runs with seed 7 differ");
    assert_eq!(manifest_a, manifest_b);
    assert_ne!(sums_a["bookings"], sums_c["bookings"], "seeds 7 and 8 gave the same bookings");
    assert_ne!(sums_a["users"], sums_c["users"], "seeds 7 and 8 gave the same users");
    assert_ne!(manifest_a.bad, manifest_c.bad);
    assert_eq!(manifest_a.rows["bookings"], 1_500);
    for db in [a, b, c] {
        db.drop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_manifest_names_every_planted_row_and_every_case_is_planted() {
    let db = TestDb::new().await;
    let manifest: Manifest = legacy::generate(&db.pool, Options::default()).await.unwrap();

    // Row counts are the tables' own.
    for (table, rows) in &manifest.rows {
        let count: i64 =
            sqlx::query_scalar(&format!("SELECT count(*) FROM {table}")).fetch_one(&db.pool).await.unwrap();
        assert_eq!(count as u64, *rows, "{table}");
    }
    assert_eq!(manifest.rows.len(), 35);
    assert_eq!(manifest.rows["bookings"], u64::from(Options::default().scale));

    // Every case appears at the default scale, and only in its own list.
    for (table, case, rejected, _) in legacy::CASES {
        let list = if *rejected { &manifest.bad } else { &manifest.dirty };
        assert!(list.iter().any(|p| p.table == *table && p.case == *case), "no {table} {case} planted");
    }
    let listed: BTreeSet<(&str, &str)> =
        manifest.bad.iter().chain(&manifest.dirty).map(|p| (p.table.as_str(), p.case.as_str())).collect();
    for (table, case) in &listed {
        assert!(legacy::case_condition(table, case).is_some(), "{table} {case} is not a known case");
    }

    // Bad rows are exactly the rows their condition finds: what the import will reject.
    let mut planted_bad: BTreeMap<(&str, &str), BTreeSet<i64>> = BTreeMap::new();
    for p in &manifest.bad {
        planted_bad.entry((p.table.as_str(), p.case.as_str())).or_default().insert(p.id);
    }
    let bad_ids: Vec<(&str, i64)> = manifest.bad.iter().map(|p| (p.table.as_str(), p.id)).collect();
    let unique: BTreeSet<&(&str, i64)> = bad_ids.iter().collect();
    assert_eq!(unique.len(), bad_ids.len(), "a row is planted bad twice");
    for (table, case, rejected, condition) in legacy::CASES {
        let found = ids_where(&db.pool, table, condition).await;
        if *rejected {
            let planted = planted_bad.get(&(*table, *case)).cloned().unwrap_or_default();
            assert_eq!(found, planted, "{table} {case}: rows found differ from rows planted");
        } else {
            for p in manifest.dirty.iter().filter(|p| p.table == *table && p.case == *case) {
                assert!(found.contains(&p.id), "{table} {} is listed {case} but is not", p.id);
            }
        }
    }

    // Bad rows stand alone: nothing refers to them, so each is exactly one reject.
    for (table, column, child) in [
        ("users", "user_id", "user_credentials"),
        ("users", "user_id", "bookings"),
        ("bookings", "booking_id", "booking_customers"),
        ("bookings", "booking_id", "booking_items"),
        ("bookings", "booking_id", "payments"),
        ("bookings", "booking_id", "booking_versions"),
        ("payments", "payment_id", "booking_payments"),
        ("accommodations", "accommodation_id", "accommodation_availability"),
        ("accommodations", "accommodation_id", "bookings"),
        ("api_partners", "partner_id", "bookings"),
        ("api_partners", "partner_id", "api_credentials"),
        ("booking_customers", "customer_id", "booking_customer_contacts"),
    ] {
        let ids: Vec<i64> = manifest.bad.iter().filter(|p| p.table == table).map(|p| p.id).collect();
        let referring: i64 =
            sqlx::query_scalar(&format!("SELECT count(*) FROM {child} WHERE {column} = ANY($1::bigint[])"))
                .bind(&ids)
                .fetch_one(&db.pool)
                .await
                .unwrap();
        assert_eq!(referring, 0, "{child} rows refer to bad {table}");
    }

    // Oversold nights: more confirmed rooms than rooms, held by the bookings named.
    assert!(!manifest.oversold.is_empty());
    for o in &manifest.oversold {
        let (accommodation, room_type, night, total, booked): (i32, String, String, i32, i32) = sqlx::query_as(
            "SELECT accommodation_id, room_type, stay_date::text, total_rooms, booked_rooms \
             FROM accommodation_availability WHERE id = $1",
        )
        .bind(o.availability_id as i32)
        .fetch_one(&db.pool)
        .await
        .unwrap();
        assert_eq!(
            (i64::from(accommodation), room_type.as_str(), night.as_str()),
            (o.accommodation_id, o.room_type.as_str(), o.night.as_str())
        );
        assert!(booked > total && i64::from(booked) == o.booked_rooms && i64::from(total) == o.total_rooms);
        let holding: Vec<i32> = sqlx::query_scalar(
            "SELECT id FROM bookings WHERE accommodation_id = $1 AND room_type = $2 \
             AND check_in <= $3::date AND check_out > $3::date \
             AND upper(status) IN ('CONFIRMED', 'CONFIRMD', 'COMPLETED') ORDER BY id",
        )
        .bind(accommodation)
        .bind(&room_type)
        .bind(&night)
        .fetch_all(&db.pool)
        .await
        .unwrap();
        assert_eq!(holding.into_iter().map(i64::from).collect::<Vec<_>>(), o.bookings, "bookings on {night}");
        let rooms: i64 = sqlx::query_scalar("SELECT sum(num_rooms)::bigint FROM bookings WHERE id = ANY($1::bigint[])")
            .bind(&o.bookings)
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(rooms, o.booked_rooms);
    }

    // The demo accounts sign in with the old password: real bcrypt `$2b$` hashes.
    for email in &manifest.demo_users {
        let hash: String = sqlx::query_scalar(
            "SELECT c.password_hash FROM user_credentials c JOIN users u ON u.id = c.user_id WHERE u.email = $1",
        )
        .bind(email)
        .fetch_one(&db.pool)
        .await
        .unwrap();
        assert!(hash.starts_with("$2b$10$"), "{hash}");
        assert!(bcrypt::verify(legacy::DEMO_PASSWORD, &hash).unwrap());
        assert!(!bcrypt::verify("not the password", &hash).unwrap());
    }

    // Bookings in flight at cutover are pending, made in the monolith's last two days.
    let in_flight: Vec<i64> =
        manifest.dirty.iter().filter(|p| p.case == "in_flight_at_cutover").map(|p| p.id).collect();
    let late: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM bookings WHERE id = ANY($1::bigint[]) AND created_at >= $2::timestamp - interval '2 days' \
         AND check_in > $2::timestamp",
    )
    .bind(&in_flight)
    .bind(&manifest.cutover)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(late as usize, in_flight.len());
    db.drop().await;
}
