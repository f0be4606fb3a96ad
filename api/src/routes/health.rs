//! Liveness and readiness probes.

use crate::state::{AppState, OpenedDatabases, Temporal};
use axum::{Json, extract::State, http::StatusCode};
use serde_json::{Value, json};
use std::time::Duration;
use temporalio_client::tonic;
use temporalio_common::protos::grpc::health::v1::HealthCheckRequest;
use utoipa_axum::{router::OpenApiRouter, routes};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(healthz)).routes(routes!(readyz))
}

/// The process is alive.
#[utoipa::path(get, security(()), path = "/healthz", tag = "health", responses((status = 200, description = "Alive")))]
pub(crate) async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// The databases this process opened and Temporal are reachable.
#[utoipa::path(get, security(()), path = "/readyz", tag = "health", responses((status = 200, description = "Ready"), (status = 503, description = "A dependency is down")))]
pub(crate) async fn readyz(
    State(databases): State<OpenedDatabases>,
    State(temporal): State<Temporal>,
) -> (StatusCode, Json<Value>) {
    let temporal = async {
        let Ok(client) = temporal.client().await else { return false };
        let mut health = client.connection().health_service();
        tokio::time::timeout(Duration::from_secs(2), health.check(tonic::Request::new(HealthCheckRequest::default())))
            .await
            .is_ok_and(|r| r.is_ok())
    };
    // Every opened pool at once, each bounded by `ping`'s limit.
    let tasks: Vec<_> = databases
        .0
        .iter()
        .map(|(_, pool)| {
            let pool = pool.clone();
            tokio::spawn(async move { ping(platform::db::is_reachable(&pool)).await })
        })
        .collect();
    let pings = async {
        let mut pings = Vec::with_capacity(tasks.len());
        for task in tasks {
            pings.push(task.await.unwrap_or(false));
        }
        pings
    };
    let (pings, temporal) = tokio::join!(pings, temporal);
    let ready = temporal && pings.iter().all(|ok| *ok);
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let word = |ok: bool| if ok { "ok" } else { "unreachable" };
    let mut checks = serde_json::Map::new();
    for ((context, _), ok) in databases.0.iter().zip(pings) {
        checks.insert(format!("{context}_db"), json!(word(ok)));
    }
    checks.insert("temporal".into(), json!(word(temporal)));
    (status, Json(json!({ "status": if ready { "ready" } else { "not_ready" }, "checks": checks })))
}

/// A dependency that does not answer within two seconds is not ready.
async fn ping(reachable: impl Future<Output = bool>) -> bool {
    tokio::time::timeout(Duration::from_secs(2), reachable).await.unwrap_or(false)
}
