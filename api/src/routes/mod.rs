//! One module per bounded context, each exporting `router()`, and the travellers' web pages.

pub(crate) mod auth;
pub(crate) mod bookings;
pub(crate) mod catalog;
pub(crate) mod codec;
pub(crate) mod health;
pub(crate) mod inventory;
pub(crate) mod partners;
pub(crate) mod payments;
pub(crate) mod web;

use crate::error::ApiError;

pub(crate) use crate::money::MoneyDto;

pub(crate) async fn not_found() -> ApiError {
    ApiError::not_found("route_not_found", "No such route; the API is documented at /api/docs")
}

pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
