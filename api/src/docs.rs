//! The OpenAPI document and its browsable page. The document is built from the same route
//! lists the server mounts (`routes::parts_of`), so every served route is in it, with the
//! operation its handler declares; what every operation shares (the error body, the answers
//! the extractors and middleware give) is added here from each operation's own shape.

use crate::{routes, settings::ApiService, state::AppState};
use axum::Router;
use serde_json::{Map, Value, json};
use std::sync::OnceLock;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tripura Tourism booking API",
        description = "Book stays across Tripura. Errors are always `{\"error\": {\"code\", \"message\", \"details\"?}}`."
    ),
    modifiers(&SecuritySchemes),
    components(schemas(crate::error::ErrorBody))
)]
struct ApiDoc;

/// The whole API's document, whichever services this process serves: every deployment
/// answers `/api/openapi.json` with the same contract.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    static DOCUMENT: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOCUMENT
        .get_or_init(|| {
            let mut router = OpenApiRouter::<AppState>::with_openapi(ApiDoc::openapi()).merge(crate::probe_routes());
            for service in ApiService::ALL {
                for (prefix, part) in routes::parts_of(service) {
                    router = router.nest(prefix, part);
                }
            }
            let mut document = serde_json::to_value(router.into_openapi()).expect("an OpenAPI document serializes");
            add_shared_answers(&mut document);
            serde_json::from_value(document).expect("the completed document is still an OpenAPI document")
        })
        .clone()
}

pub(crate) fn router() -> Router<AppState> {
    Router::new().merge(SwaggerUi::new("/api/docs").url("/api/openapi.json", openapi_document()))
}

/// Declares the schemes routes name in their `security`: `bearer` (a user's access token),
/// a partner's API key on the partner API (sent either way), and the gateway's webhook
/// signature.
struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
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

/// The answers every operation of a given shape can give, whatever its handler says: the
/// extractors' (`crate::extract`) for an unreadable body or query, the access extractors'
/// for a missing or insufficient login, the path extractor's for an identifier that names
/// nothing, the time limit's and the dependencies' 503. Each error answer gets the error
/// body's schema, and the headers `ApiError` sets.
fn add_shared_answers(document: &mut Value) {
    let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) else { return };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else { continue };
        for operation in item.values_mut().filter_map(Value::as_object_mut) {
            add_operation_answers(path, operation);
        }
    }
}

fn add_operation_answers(path: &str, operation: &mut Map<String, Value>) {
    let parameters_in = |place: &str| {
        operation.get("parameters").and_then(Value::as_array).is_some_and(|ps| ps.iter().any(|p| p["in"] == place))
    };
    let any_body = operation.contains_key("requestBody");
    let secured = operation
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|requirements| requirements.iter().any(|r| r.as_object().is_some_and(|r| !r.is_empty())));
    let (query, in_path) = (parameters_in("query"), parameters_in("path"));
    let mut shared: Vec<(&str, &str)> = Vec::new();
    if any_body || query {
        shared.push(("400", "The request could not be read: malformed JSON, or an unreadable query"));
    }
    if secured {
        shared.push(("401", "Not signed in, or the credentials do not verify"));
        shared.push(("403", "Signed in, but not allowed to do this"));
    }
    if in_path {
        shared.push(("404", "Nothing by that identifier, or nothing the caller may see"));
    }
    if any_body {
        shared.push(("413", "The body is larger than the API accepts"));
        shared.push(("415", "The body is not sent in the media type the operation takes"));
    }
    if any_body || query {
        shared.push(("422", "Well-formed but invalid; `details.field` names the field when one is at fault"));
    }
    if path.starts_with("/api/") {
        shared.push(("503", "A dependency is unreachable, or the request took too long (`Retry-After`)"));
    }
    let responses = operation.entry("responses").or_insert_with(|| json!({}));
    let Some(responses) = responses.as_object_mut() else { return };
    for (status, description) in shared {
        responses.entry(status).or_insert_with(|| json!({ "description": description }));
    }
    for (status, response) in responses.iter_mut() {
        let Some(response) = response.as_object_mut() else { continue };
        if !(status.starts_with('4') || status.starts_with('5')) {
            continue;
        }
        response.entry("content").or_insert_with(
            || json!({ "application/json": { "schema": { "$ref": "#/components/schemas/ErrorBody" } } }),
        );
        let header = match status.as_str() {
            "401" => Some(("WWW-Authenticate", "`Bearer`")),
            "429" | "503" => Some(("Retry-After", "Seconds to wait before trying again")),
            _ => None,
        };
        if let Some((name, description)) = header {
            let headers = response.entry("headers").or_insert_with(|| json!({}));
            if let Some(headers) = headers.as_object_mut() {
                headers
                    .entry(name)
                    .or_insert_with(|| json!({ "description": description, "schema": { "type": "string" } }));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document() -> Value {
        serde_json::to_value(openapi_document()).unwrap()
    }

    #[test]
    fn the_openapi_document_names_every_booking_route() {
        let doc = document();
        for path in [
            "/api/bookings",
            "/api/bookings/{booking_ref}",
            "/api/catalog/accommodations",
            "/api/partners/{partner}/keys/{key_prefix}/rotate",
            "/api/partners/v1/bookings/{booking_ref}",
            "/readyz",
            "/metrics",
        ] {
            assert!(doc["paths"][path].is_object(), "missing {path}");
        }
    }

    #[test]
    fn the_openapi_document_names_every_catalog_route() {
        let doc = document();
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

    #[test]
    fn every_operation_has_its_own_id_and_declares_its_path_parameters() {
        let doc = document();
        let (mut ids, mut problems) = (std::collections::BTreeSet::new(), Vec::new());
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let id = operation["operationId"].as_str().unwrap_or_default();
                if !ids.insert(id.to_string()) {
                    problems.push(format!("{method} {path}: operation id `{id}` is not unique"));
                }
                let declared: Vec<&str> = operation["parameters"]
                    .as_array()
                    .map(|ps| ps.iter().filter(|p| p["in"] == "path").map(|p| p["name"].as_str().unwrap()).collect())
                    .unwrap_or_default();
                for name in declared.iter().filter(|name| !path.contains(&format!("{{{name}}}"))) {
                    problems.push(format!("{method} {path}: {name} is declared in the path, which has no such part"));
                }
                for segment in path.split('/').filter(|s| s.starts_with('{')) {
                    let name = segment.trim_matches(|c| c == '{' || c == '}');
                    if !declared.contains(&name) {
                        problems.push(format!("{method} {path}: path parameter {name} is not declared"));
                    }
                }
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    #[test]
    fn every_error_answer_has_the_error_body() {
        let doc = document();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                for (status, response) in operation["responses"].as_object().unwrap() {
                    if status.starts_with('4') || status.starts_with('5') {
                        let schema = &response["content"]["application/json"]["schema"];
                        assert!(schema.is_object(), "{method} {path} {status}: no error body");
                    }
                }
            }
        }
        let booking = &doc["paths"]["/api/bookings/{booking_ref}"]["get"]["responses"];
        for status in ["401", "403", "404", "503"] {
            assert!(booking[status].is_object(), "GET /api/bookings/{{booking_ref}} does not list {status}");
        }
    }
}
