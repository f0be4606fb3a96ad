//! The OpenAPI document, generated from the handlers, and its browsable page.

use crate::routes::{self, bookings, catalog, inventory};
use crate::state::AppState;
use axum::Router;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tripura Tourism booking API",
        description = "Book stays across Tripura. Errors are always `{\"error\": {\"code\", \"message\"}}`."
    ),
    paths(
        bookings::create_booking,
        bookings::get_booking,
        catalog::list_accommodations,
        catalog::get_accommodation,
        catalog::quote,
        catalog::places::list_destinations,
        catalog::places::get_destination,
        catalog::places::list_experiences,
        catalog::packages::list_packages,
        catalog::packages::get_package,
        catalog::packages::quote_package,
        inventory::availability,
        routes::health::healthz,
        routes::health::readyz,
    ),
    components(schemas(
        bookings::CreateBookingRequest,
        bookings::TravellerDto,
        bookings::PaymentDto,
        bookings::BookingAccepted,
        bookings::BookingView,
        bookings::FailureDto,
        routes::MoneyDto,
    ))
)]
struct ApiDoc;

pub(crate) fn router() -> Router<AppState> {
    Router::new().merge(SwaggerUi::new("/api/docs").url("/api/openapi.json", ApiDoc::openapi()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_openapi_document_names_every_booking_route() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        for path in ["/api/bookings", "/api/bookings/{booking_ref}", "/api/catalog/accommodations", "/readyz"] {
            assert!(doc["paths"][path].is_object(), "missing {path}");
        }
    }

    #[test]
    fn the_openapi_document_names_every_catalog_route() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let catalog = ["accommodations", "accommodations/{code}", "quote", "destinations", "destinations/{code}"]
            .into_iter()
            .chain(["experiences", "packages", "packages/{code}", "packages/{code}/quote"]);
        for path in catalog.map(|p| format!("/api/catalog/{p}")) {
            assert!(doc["paths"][&path]["get"].is_object(), "missing {path}");
        }
        let quote = &doc["paths"]["/api/catalog/packages/{code}/quote"]["get"]["parameters"];
        let names: Vec<&str> = quote.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["code", "start", "adults", "children", "rooms"]);
    }
}
