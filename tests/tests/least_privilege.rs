//! Least privilege per context: each context's login role reaches its own schema only, and
//! the platform runs end to end on six databases, every process as its context's role.

use serde_json::Value;
use sqlx::PgPool;
use tests::{DatabaseLayout, TestDatabase, TestPlatform, TestPlatformOptions, booking_body};

/// The SQLSTATE of a statement's failure, if it failed in the database.
async fn sqlstate(pool: &PgPool, sql: &str) -> Option<String> {
    match sqlx::query(sql).execute(pool).await {
        Ok(_) => None,
        Err(sqlx::Error::Database(e)) => Some(e.code().unwrap_or_default().into_owned()),
        Err(e) => panic!("`{sql}` failed outside the database: {e}"),
    }
}

const PERMISSION_DENIED: Option<&str> = Some("42501");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalog_role_reaches_its_own_tables_and_nothing_else() {
    let layout = DatabaseLayout { separate_databases: false, context_roles: true };
    let db = TestDatabase::create_with(1, layout).await.unwrap();
    let as_catalog = platform::db::context_pool(&db.context_url(catalog::SCHEMA), catalog::SCHEMA, 1).unwrap();
    let role: String = sqlx::query_scalar("SELECT current_user::text").fetch_one(&as_catalog).await.unwrap();
    assert!(role.ends_with("_catalog"), "connected as {role}");

    // Its own tables: read and write.
    let stays: i64 =
        sqlx::query_scalar("SELECT count(*) FROM catalog.accommodations").fetch_one(&as_catalog).await.unwrap();
    assert!(stays > 0);
    for sql in [
        "INSERT INTO amenities (amenity_id, code, name) VALUES (gen_random_uuid(), 'least-privilege', 'Test')",
        "UPDATE amenities SET name = 'Tested' WHERE code = 'least-privilege'",
        "DELETE FROM amenities WHERE code = 'least-privilege'",
    ] {
        assert_eq!(sqlstate(&as_catalog, sql).await, None, "{sql}");
    }

    // Nothing of another context, whatever the statement.
    for sql in [
        "SELECT * FROM payment.payments",
        "SELECT * FROM auth.user_credentials",
        "SELECT * FROM auth.users",
        "SELECT * FROM booking.bookings",
        "SELECT * FROM inventory.accommodation_availability",
        "SELECT * FROM partner.api_credentials",
        "DELETE FROM payment.payments",
    ] {
        assert_eq!(sqlstate(&as_catalog, sql).await.as_deref(), PERMISSION_DENIED, "{sql}");
    }
    // USAGE on its own schema, on no other context's.
    let usable: Vec<String> = sqlx::query_scalar(
        "SELECT nspname::text FROM pg_namespace
         WHERE nspname IN ('auth', 'catalog', 'inventory', 'booking', 'payment', 'partner')
           AND has_schema_privilege(nspname, 'USAGE') ORDER BY 1",
    )
    .fetch_all(&as_catalog)
    .await
    .unwrap();
    assert_eq!(usable, ["catalog"]);
    // No DDL, and the migration history is the migration's.
    for sql in [
        "CREATE TABLE catalog.smuggled (id int)",
        "DROP TABLE catalog.amenities",
        "TRUNCATE catalog.amenities",
        "DELETE FROM catalog._sqlx_migrations",
        "CREATE SCHEMA smuggled",
    ] {
        assert_eq!(sqlstate(&as_catalog, sql).await.as_deref(), PERMISSION_DENIED, "{sql}");
    }
    // What `migrate --wait` reads, as the role: the schema is at this build's version.
    let applied = ops::schema_version::applied_version(&as_catalog).await.unwrap();
    assert_eq!(applied, ops::schema_version::expected_version(&catalog::MIGRATOR));

    // The other way round too: the payment role cannot read the catalog or auth.
    let as_payment = platform::db::context_pool(&db.context_url(payment::SCHEMA), payment::SCHEMA, 1).unwrap();
    assert_eq!(sqlstate(&as_payment, "SELECT * FROM payment.payments").await, None);
    assert_eq!(sqlstate(&as_payment, "SELECT * FROM catalog.accommodations").await.as_deref(), PERMISSION_DENIED);
    assert_eq!(sqlstate(&as_payment, "SELECT * FROM auth.user_credentials").await.as_deref(), PERMISSION_DENIED);

    // A table a later migration adds is the context's too (default privileges), and running
    // the grants again changes nothing and fails on nothing.
    sqlx::query("CREATE TABLE catalog.added_later (id int)").execute(&db.catalog).await.unwrap();
    assert_eq!(sqlstate(&as_catalog, "INSERT INTO catalog.added_later VALUES (1)").await, None);
    let url = |context: &str| Ok(db.context_url(context));
    let admin = |_: &str| Ok(db.url.clone());
    ops::roles::apply(ops::roles::RolesMode::Create, admin, url).await.unwrap();
    ops::roles::apply(ops::roles::RolesMode::Grant, admin, url).await.unwrap();
    assert_eq!(sqlstate(&as_catalog, "SELECT * FROM catalog.added_later").await, None);
    assert_eq!(sqlstate(&as_catalog, "SELECT * FROM payment.payments").await.as_deref(), PERMISSION_DENIED);

    // A grant someone added by hand on another context is taken back by the next run.
    sqlx::query(&format!("GRANT USAGE ON SCHEMA payment TO \"{role}\"")).execute(&db.catalog).await.unwrap();
    sqlx::query(&format!("GRANT SELECT ON payment.payments TO \"{role}\"")).execute(&db.catalog).await.unwrap();
    assert_eq!(sqlstate(&as_catalog, "SELECT * FROM payment.payments").await, None);
    ops::roles::apply(ops::roles::RolesMode::Grant, admin, url).await.unwrap();
    assert_eq!(sqlstate(&as_catalog, "SELECT * FROM payment.payments").await.as_deref(), PERMISSION_DENIED);

    // Migrate refuses a context role that is the migration's own, or shared by two contexts.
    let as_admin = |_: &str| Ok(db.url.clone());
    assert!(ops::roles::apply(ops::roles::RolesMode::Grant, admin, as_admin).await.is_err());

    as_catalog.close().await;
    as_payment.close().await;
    db.drop_database().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booking_runs_end_to_end_on_six_databases_each_process_as_its_context_role() {
    let options = TestPlatformOptions {
        databases: DatabaseLayout { separate_databases: true, context_roles: true },
        ..TestPlatformOptions::default()
    };
    let mut platform = TestPlatform::spawn_with(options).await.unwrap();
    let urls: Vec<String> = ops::CONTEXTS
        .iter()
        .map(|(context, _)| platform.context_url(context))
        .collect::<std::collections::HashSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(urls.len(), 6, "six databases, six roles");

    let booking_ref = platform.book(&booking_body(12, 2, 1, "tok_success")).await;
    let confirmed = platform.wait_for_status(&booking_ref, &["confirmed"]).await.unwrap();
    assert_eq!(confirmed["amount_charged"]["amount"], 945_000, "{confirmed}");
    // Each context's record is in its own database.
    let bookings: i64 = sqlx::query_scalar("SELECT count(*) FROM bookings WHERE status = 'confirmed'")
        .fetch_one(&platform.booking_db)
        .await
        .unwrap();
    assert_eq!(bookings, 1);
    let in_payment_db: bool = sqlx::query_scalar("SELECT to_regclass('booking.bookings') IS NOT NULL")
        .fetch_one(&platform.payment_db)
        .await
        .unwrap();
    assert!(!in_payment_db, "the payment database holds no booking schema");

    // An API process serving payments only opens, and reports, the payment pool only.
    let payments_api = platform.spawn_api(&[api::ApiService::Payments]).await.unwrap();
    let ready = platform.http.get(format!("{payments_api}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let checks: Value = ready.json::<Value>().await.unwrap()["checks"].clone();
    let mut names: Vec<&str> = checks.as_object().unwrap().keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["payment_db", "temporal"]);
    // The full API reports the six it opened.
    let ready: Value =
        platform.http.get(format!("{}/readyz", platform.api_url)).send().await.unwrap().json().await.unwrap();
    assert_eq!(ready["checks"].as_object().unwrap().len(), 7, "{ready}");

    platform.stop().await.unwrap();
}

#[test]
fn each_api_service_opens_the_pools_its_routes_reach() {
    use api::{ApiService, database_contexts};
    assert_eq!(database_contexts(&[ApiService::Payments]), ["payment"]);
    let catalog = database_contexts(&[ApiService::Catalog]);
    assert!(!catalog.contains(&"payment") && !catalog.contains(&"booking") && !catalog.contains(&"partner"));
    assert_eq!(database_contexts(&ApiService::ALL).len(), 6);
}
