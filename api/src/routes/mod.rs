//! One module per bounded context, each exporting `router()` (its routes registered with their
//! OpenAPI operations, so the document lists exactly the routes served), and the travellers'
//! web pages.

pub(crate) mod auth;
pub(crate) mod bookings;
pub(crate) mod catalog;
pub(crate) mod codec;
pub(crate) mod health;
pub(crate) mod inventory;
pub(crate) mod partners;
pub(crate) mod payments;
pub(crate) mod web;

use crate::{error::ApiError, settings::ApiService, state::AppState};
use utoipa_axum::router::OpenApiRouter;

pub(crate) use crate::money::MoneyDto;

pub(crate) async fn not_found() -> ApiError {
    ApiError::not_found("route_not_found", "No such route; the API is documented at /api/docs")
}

pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// Where each part of an API service is served, and its routes: one part per prefix, so a
/// part can take a layer of its own (the partner API's gate). The same list builds the
/// served router and the OpenAPI document.
pub(crate) fn parts_of(service: ApiService) -> Vec<(&'static str, OpenApiRouter<AppState>)> {
    match service {
        ApiService::Auth => vec![("/api/auth", auth::router())],
        // The deployment that talks to Temporal about bookings also opens their payloads.
        ApiService::Bookings => vec![("/api/bookings", bookings::router()), ("/api/codec", codec::router())],
        ApiService::Catalog => vec![("/api/catalog", catalog::router())],
        ApiService::Inventory => vec![("/api/inventory", inventory::router())],
        ApiService::Payments => vec![("/api/payments", payments::router())],
        ApiService::Partners => {
            vec![(PARTNER_API_PREFIX, partners::v1_router()), ("/api/partners", partners::admin_router())]
        }
    }
}

/// Where the versioned partner API is served; its requests pass the partner gate.
pub(crate) const PARTNER_API_PREFIX: &str = "/api/partners/v1";
