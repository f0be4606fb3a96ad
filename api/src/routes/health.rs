//! Liveness and readiness probes.

use crate::state::{AppState, Temporal};
use axum::{Json, Router, extract::State, http::StatusCode, routing::get};
use serde_json::{Value, json};
use std::time::Duration;
use temporalio_client::tonic;
use temporalio_common::protos::grpc::health::v1::HealthCheckRequest;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz))
}

/// The process is alive.
#[utoipa::path(get, security(()), path = "/healthz", tag = "health", responses((status = 200, description = "Alive")))]
pub(crate) async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// The databases and Temporal are reachable.
#[utoipa::path(get, security(()), path = "/readyz", tag = "health", responses((status = 200, description = "Ready"), (status = 503, description = "A dependency is down")))]
pub(crate) async fn readyz(
    State(catalog): State<catalog::Catalog>,
    State(bookings): State<booking::Bookings>,
    State(inventory): State<inventory::Inventory>,
    State(temporal): State<Temporal>,
) -> (StatusCode, Json<Value>) {
    let temporal = async {
        let Ok(client) = temporal.client().await else { return false };
        let mut health = client.connection().health_service();
        tokio::time::timeout(Duration::from_secs(2), health.check(tonic::Request::new(HealthCheckRequest::default())))
            .await
            .is_ok_and(|r| r.is_ok())
    };
    let (catalog, booking, inventory, temporal) = tokio::join!(
        ping(catalog.is_reachable()),
        ping(bookings.is_reachable()),
        ping(inventory.is_reachable()),
        temporal
    );
    let ready = catalog && booking && inventory && temporal;
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let word = |ok: bool| if ok { "ok" } else { "unreachable" };
    (
        status,
        Json(json!({
            "status": if ready { "ready" } else { "not_ready" },
            "checks": { "catalog_db": word(catalog), "booking_db": word(booking), "inventory_db": word(inventory), "temporal": word(temporal) },
        })),
    )
}

/// A dependency that does not answer within two seconds is not ready.
async fn ping(reachable: impl Future<Output = bool>) -> bool {
    tokio::time::timeout(Duration::from_secs(2), reachable).await.unwrap_or(false)
}
