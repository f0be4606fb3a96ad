//! The contexts' PostgreSQL pools hand out a connection used moments ago without a ping
//! first, and check one that sat idle: a connection the server dropped while it was idle is
//! replaced before anyone uses it.

use platform::db::context_pool_pinging_after;
use std::time::Duration;

async fn backend_pid(pool: &sqlx::PgPool) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(pool).await
}

/// Waits until `pool`'s connection is back among its idle ones: sqlx checks a connection
/// as it is released, in a task of its own, and a connection ended on the server before
/// that check would be found dead there rather than on its next use.
async fn back_in_the_pool(pool: &sqlx::PgPool) {
    for _ in 0..100 {
        if pool.num_idle() == 1 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the connection never came back to the pool");
}

/// Ends the server side of `pid` and waits until it is gone.
async fn drop_on_the_server(admin: &sqlx::PgPool, pid: i32) {
    let ended: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)").bind(pid).fetch_one(admin).await.unwrap();
    assert!(ended, "backend {pid} was terminated");
    for _ in 0..100 {
        let alive: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)")
            .bind(pid)
            .fetch_one(admin)
            .await
            .unwrap();
        if !alive {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("backend {pid} still alive after 2 s");
}

#[tokio::test]
async fn a_recently_used_connection_is_not_pinged_and_an_idle_one_is_checked() {
    let url = tests::admin_url();
    let admin = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(&url).await.unwrap();

    // Used "moments ago" (within a threshold no loaded machine can exceed here): handed out
    // as it is, so a connection the server has just dropped fails its next query (the
    // price of skipping the round trip): activities retry, and the API answers 503 so its
    // client does.
    let pool = context_pool_pinging_after(&url, "public", 1, Duration::from_secs(60)).unwrap();
    let first = backend_pid(&pool).await.unwrap();
    back_in_the_pool(&pool).await;
    drop_on_the_server(&admin, first).await;
    let failed = backend_pid(&pool).await.expect_err("a connection used moments ago is handed out without a ping");
    let answer = axum::response::IntoResponse::into_response(api::error::ApiError::from(failed));
    assert_eq!(answer.status(), 503);
    let second = backend_pid(&pool).await.unwrap();
    assert_ne!(second, first, "the failed connection was not kept");
    pool.close().await;

    // Idle for longer than the threshold: pinged, found dead and replaced unseen.
    let threshold = Duration::from_millis(200);
    let pool = context_pool_pinging_after(&url, "public", 1, threshold).unwrap();
    let idle = backend_pid(&pool).await.unwrap();
    back_in_the_pool(&pool).await;
    drop_on_the_server(&admin, idle).await;
    tokio::time::sleep(threshold + Duration::from_millis(100)).await;
    let replaced = backend_pid(&pool).await.expect("an idle connection the server dropped is replaced before use");
    assert_ne!(replaced, idle);

    pool.close().await;
    admin.close().await;
}
