//! The OpenAPI document and its browsable page. The document is built from the same route
//! lists the server mounts (`routes::parts_of`), so every served route is in it, with the
//! operation its handler declares; what every operation shares (the error body, the answers
//! the extractors and middleware give) is added here from each operation's own shape.

use crate::{paging, routes, settings::ApiService, state::AppState};
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
/// answers `/api/openapi.json` with the same contract. Kept as JSON: the finishing touches
/// below are made on the document as served.
pub fn openapi_document() -> Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
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
            name_link_fields(&mut document);
            describe_paging(&mut document);
            describe_text_rules(&mut document);
            forbid_nul_in_requests(&mut document);
            document
        })
        .clone()
}

pub(crate) fn router() -> Router<AppState> {
    Router::new().merge(SwaggerUi::new("/api/docs").external_url_unchecked("/api/openapi.json", openapi_document()))
}

/// Calls `f` with each operation of the document and its path.
fn each_operation(document: &mut Value, mut f: impl FnMut(&str, &mut Map<String, Value>)) {
    let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) else { return };
    for (path, item) in paths.iter_mut() {
        for operation in item.as_object_mut().into_iter().flat_map(|item| item.values_mut()) {
            if let Some(operation) = operation.as_object_mut() {
                f(path, operation);
            }
        }
    }
}

/// Every paged list reads `limit` and `cursor` through `crate::paging`: says so once here,
/// from its constants, rather than on each list's query.
fn describe_paging(document: &mut Value) {
    each_operation(document, |_, operation| {
        let Some(parameters) = operation.get_mut("parameters").and_then(Value::as_array_mut) else { return };
        let named = |p: &Value, name: &str| p["in"] == "query" && p["name"] == name;
        if !parameters.iter().any(|p| named(p, "cursor")) {
            return;
        }
        for parameter in parameters.iter_mut() {
            if named(parameter, "limit") {
                parameter["schema"]["minimum"] = json!(1);
                parameter["schema"]["maximum"] = json!(paging::MAX_PAGE);
            } else if named(parameter, "cursor") {
                parameter["schema"]["pattern"] = json!(paging::CURSOR_PATTERN);
            }
        }
    });
}

/// Text that is more than spaces: what `trim` (Rust's whitespace, spelled out) leaves
/// something of, without NUL.
const NON_BLANK: &str =
    r"^[^\u0000]*[^\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000][^\u0000]*$";

/// Two rules of text the handlers apply, stated in full once here: every address the API
/// takes is held to `contracts::EmailAddress` (`format: email` would let a client send
/// more), and a name or code marked `format: non-blank` must be more than spaces.
fn describe_text_rules(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            let pattern = match fields.get("format").and_then(Value::as_str) {
                Some("email") => Some(contracts::email::PATTERN),
                Some("non-blank") => Some(NON_BLANK),
                _ => None,
            };
            if let Some(pattern) = pattern {
                fields.remove("format");
                fields.insert("pattern".into(), json!(pattern));
            }
            fields.values_mut().for_each(describe_text_rules);
        }
        Value::Array(items) => items.iter_mut().for_each(describe_text_rules),
        _ => {}
    }
}

/// Says of every free text a request carries what the extractors hold it to: PostgreSQL
/// text cannot carry the NUL character, so no request may (`crate::extract`). Texts with a
/// pattern, a format or a list of values say more already. Answers are left alone: an
/// error message may quote what a client sent.
fn forbid_nul_in_requests(document: &mut Value) {
    let mut referenced = std::collections::BTreeSet::new();
    each_operation(document, |_, operation| {
        for part in ["parameters", "requestBody"] {
            if let Some(part) = operation.get_mut(part) {
                forbid_nul_in_text(part, &mut referenced);
            }
        }
    });
    // The components requests use, and the components those use, each once.
    let mut done = std::collections::BTreeSet::new();
    while let Some(name) = referenced.iter().find(|name| !done.contains(*name)).cloned() {
        done.insert(name.clone());
        if let Some(schema) = document.pointer_mut(&format!("/components/schemas/{name}")) {
            forbid_nul_in_text(schema, &mut referenced);
        }
    }
}

/// Adds the NUL rule to every text schema in `value`, and collects the components it refers to.
fn forbid_nul_in_text(value: &mut Value, referenced: &mut std::collections::BTreeSet<String>) {
    match value {
        Value::Object(fields) => {
            if let Some(name) =
                fields.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/components/schemas/"))
            {
                referenced.insert(name.to_string());
            }
            let is_text = match fields.get("type") {
                Some(Value::String(t)) => t == "string",
                Some(Value::Array(types)) => types.iter().any(|t| t == "string"),
                _ => false,
            };
            let said = ["pattern", "format", "enum", "const"].iter().any(|k| fields.contains_key(*k));
            if is_text && !said {
                fields.insert("pattern".into(), json!("^[^\\u0000]*$"));
            }
            // Keys of a map are not stored as text; examples are not schemas.
            for (key, field) in fields.iter_mut() {
                if !matches!(key.as_str(), "example" | "examples" | "propertyNames") {
                    forbid_nul_in_text(field, referenced);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| forbid_nul_in_text(item, referenced)),
        _ => {}
    }
}

/// utoipa writes a link's fields in snake case; OpenAPI names them in camel case.
fn name_link_fields(document: &mut Value) {
    each_operation(document, |_, operation| {
        let Some(responses) = operation.get_mut("responses").and_then(Value::as_object_mut) else { return };
        for response in responses.values_mut() {
            let Some(links) = response.get_mut("links").and_then(Value::as_object_mut) else { continue };
            for link in links.values_mut().filter_map(Value::as_object_mut) {
                for (snake, camel) in [
                    ("operation_id", "operationId"),
                    ("operation_ref", "operationRef"),
                    ("request_body", "requestBody"),
                ] {
                    if let Some(value) = link.remove(snake) {
                        link.insert(camel.to_string(), value);
                    }
                }
            }
        }
    });
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
    each_operation(document, add_operation_answers);
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

    /// The document names a schema by its type's name, and two types of one name would
    /// silently share one schema (the last registered wins): every type deriving `ToSchema`
    /// has a name of its own.
    #[test]
    fn every_schema_is_one_type() {
        fn sources(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
                let path = entry.path();
                if path.is_dir() {
                    sources(&path, found);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    found.push(path);
                }
            }
        }
        let mut files = Vec::new();
        sources(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
        let mut seen: std::collections::BTreeMap<String, std::path::PathBuf> = std::collections::BTreeMap::new();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let mut derives_schema = false;
            for line in text.lines().map(str::trim) {
                if line.starts_with("#[derive(") {
                    derives_schema |= line.contains("ToSchema");
                    continue;
                }
                let named = ["pub(crate) struct ", "pub(crate) enum ", "pub struct ", "pub enum ", "struct ", "enum "]
                    .iter()
                    .find_map(|k| line.strip_prefix(k));
                if let Some(rest) = named {
                    if derives_schema {
                        let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                        if let Some(earlier) = seen.insert(name.clone(), file.clone()) {
                            panic!("{name} derives ToSchema in {} and in {}", earlier.display(), file.display());
                        }
                    }
                    derives_schema = false;
                } else if !line.starts_with("#[") && !line.starts_with("///") && !line.is_empty() {
                    derives_schema = false;
                }
            }
        }
        assert!(seen.len() > 50, "the scan found only {} schemas", seen.len());
    }

    fn document() -> Value {
        openapi_document()
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
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                for response in operation["responses"].as_object().unwrap().values() {
                    for (name, link) in response["links"].as_object().into_iter().flatten() {
                        let target = link["operationId"].as_str().unwrap_or_default();
                        if !ids.contains(target) {
                            problems.push(format!("{method} {path}: link {name} names no operation ({link})"));
                        }
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
