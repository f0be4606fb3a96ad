//! The OpenAPI document, generated from the handlers, and its browsable page.

use crate::routes::{self, auth, bookings, catalog, codec, inventory, payments};
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
        auth::register,
        auth::login,
        auth::refresh,
        auth::logout,
        auth::logout_all,
        auth::me,
        auth::my_activity,
        auth::jwks,
        auth::list_roles,
        auth::list_users,
        auth::get_user,
        auth::update_user,
        auth::delete_user,
        auth::grant_role,
        auth::revoke_role,
        auth::assign,
        auth::unassign,
        bookings::create_booking,
        bookings::list_my_bookings,
        bookings::cancel_booking,
        bookings::get_booking,
        codec::decode,
        codec::encode,
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
        inventory::change_allotments,
        payments::gateway_webhook,
        routes::health::healthz,
        routes::health::readyz,
    ),
    modifiers(&BearerAuth),
    components(schemas(
        bookings::CreateBookingRequest,
        bookings::TravellerDto,
        bookings::PaymentDto,
        bookings::BookingAccepted,
        bookings::BookingView,
        bookings::FailureDto,
        routes::MoneyDto,
        codec::CodecPayloads,
        codec::JsonPayload,
    ))
)]
struct ApiDoc;

/// Declares the `bearer` scheme every protected route names in its `security`, and the
/// gateway's webhook signature.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
        // The gateway's webhooks carry no token: an HMAC of the body under the shared secret.
        components.add_security_scheme(
            "gateway_signature",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Razorpay-Signature"))),
        );
    }
}

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
