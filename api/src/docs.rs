//! The OpenAPI document, generated from the handlers, and its browsable page.

use crate::routes::{self, auth, bookings, catalog, codec, inventory, partners, payments};
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
        auth::register, auth::login, auth::refresh, auth::logout, auth::logout_all, auth::me, auth::my_activity,
        auth::jwks, auth::list_roles, auth::list_users, auth::get_user, auth::update_user, auth::delete_user,
        auth::grant_role, auth::revoke_role, auth::assign, auth::unassign,
        bookings::create_booking, bookings::list_my_bookings, bookings::cancel_booking, bookings::booking_versions,
        bookings::cancellation_terms,
        bookings::get_booking,
        codec::decode, codec::encode, codec::sign_in_page, codec::sign_in,
        catalog::list_accommodations, catalog::get_accommodation, catalog::quote,
        catalog::places::list_destinations, catalog::places::get_destination, catalog::places::list_experiences,
        catalog::packages::list_packages, catalog::packages::get_package, catalog::packages::quote_package,
        inventory::availability, inventory::change_allotments,
        catalog::manage::create_accommodation, catalog::manage::update_accommodation, catalog::manage::put_room_type,
        catalog::manage::update_destination, catalog::manage::update_experience, catalog::manage::update_package,
        catalog::entries::create_destination, catalog::entries::create_experience, catalog::entries::create_package,
        catalog::entries::put_package_prices,
        payments::gateway_webhook,
        partners::admin::onboard_partner, partners::admin::list_partners, partners::admin::get_partner,
        partners::admin::update_partner, partners::admin::issue_key, partners::admin::list_keys,
        partners::admin::rotate_key, partners::admin::revoke_key, partners::admin::list_settlements,
        partners::admin::settlement_statement,
        partners::v1::availability, partners::v1::quote, partners::v1::create_booking, partners::v1::list_bookings,
        partners::v1::get_booking, partners::v1::cancel_booking, partners::v1::settlements,
        routes::health::healthz, routes::health::readyz,
    ),
    modifiers(&BearerAuth),
    components(schemas(
        bookings::CreateBookingRequest, bookings::TravellerDto, bookings::PaymentDto, bookings::BookingAccepted,
        bookings::BookingView, bookings::FailureDto, bookings::BookingState,
        routes::MoneyDto,
        catalog::entries::CreateDestinationRequest, catalog::entries::CreateExperienceRequest,
        catalog::entries::CreatePackageRequest, catalog::entries::ItineraryStop, catalog::entries::SeasonDto,
        catalog::entries::PackagePricesRequest,
        partners::admin::OnboardPartnerRequest, partners::admin::UpdatePartnerRequest, partners::admin::PartnerView,
        partners::admin::PartnerList, partners::admin::IssueKeyRequest, partners::admin::RotateKeyRequest,
        partners::admin::KeyView, partners::admin::IssuedKeyView, partners::admin::RotatedKeyView,
        partners::SettlementView, partners::SettlementList,
        codec::CodecPayloads, codec::JsonPayload, codec::CodecSignIn,
    ))
)]
struct ApiDoc;

/// Declares the schemes routes name in their `security`: `bearer` (a user's access token),
/// a partner's API key on the partner API (sent either way), and the gateway's webhook
/// signature.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
        components.add_security_scheme(
            "partner_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("tt_live_<prefix>_<secret>")
                    .description(Some("A partner's API key, on /api/partners/v1 only"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "partner_key_header",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Api-Key",
                "A partner's API key, on /api/partners/v1 only",
            ))),
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
        for path in [
            "/api/bookings",
            "/api/bookings/{booking_ref}",
            "/api/catalog/accommodations",
            "/api/partners/{partner}/keys/{key_prefix}/rotate",
            "/api/partners/v1/bookings/{booking_ref}",
            "/readyz",
        ] {
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
