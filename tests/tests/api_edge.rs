//! The API's edge: bad input gets a clear 4xx in the one error shape and starts nothing;
//! reads, probes and docs answer.

use serde_json::{Value, json};
use tests::{TestPlatform, TestPlatformOptions, booking_body, get_revalidated, json_of};

async fn error_of(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or_else(|e| panic!("{status}: body is not JSON: {e}"));
    let code = body["error"]["code"].as_str().unwrap_or_else(|| panic!("no error code in {body}")).to_string();
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    (status, code)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_booking_requests_get_a_clear_4xx_and_start_no_saga() {
    // No workers: nothing here may reach them anyway.
    let platform = TestPlatform::spawn_with(TestPlatformOptions::without_workers()).await.unwrap();
    let url = format!("{}/api/bookings", platform.api_url);
    let http = platform.http_as(&platform.traveller);
    let good = booking_body(10, 2, 1, "tok_success");
    let with = |path: &str, value: Value| {
        let mut body = good.clone();
        let mut target = &mut body;
        let parts: Vec<&str> = path.split('.').collect();
        for p in &parts[..parts.len() - 1] {
            target = &mut target[*p];
        }
        target[parts[parts.len() - 1]] = value;
        body
    };
    let without = |field: &str| {
        let mut body = good.clone();
        body.as_object_mut().unwrap().remove(field);
        body
    };
    let yesterday = (contracts::india::today() - chrono::Duration::days(2)).to_string();

    let cases: Vec<(&str, Value, u16, &str)> = vec![
        ("unknown accommodation", with("accommodation", json!("taj-agartala")), 422, "unknown_accommodation"),
        ("unknown room type", with("room_type", json!("penthouse")), 422, "unknown_room_type"),
        ("check-in in the past", with("check_in", json!(yesterday)), 422, "check_in_in_past"),
        ("check-out before check-in", with("check_out", good["check_in"].clone()), 422, "check_out_not_after_check_in"),
        ("zero guests", with("guests", json!(0)), 422, "invalid_guests"),
        ("too many guests", with("guests", json!(3)), 422, "too_many_guests"),
        ("negative guests", with("guests", json!(-1)), 422, "invalid_body"),
        ("zero rooms", with("rooms", json!(0)), 422, "invalid_rooms"),
        ("missing traveller", without("lead_traveller"), 422, "invalid_body"),
        ("blank traveller name", with("lead_traveller.name", json!(" ")), 422, "invalid_traveller_name"),
        ("bad email", with("lead_traveller.email", json!("not-an-email")), 422, "invalid_traveller_email"),
        ("unknown field", with("coupon", json!("FREE")), 422, "invalid_body"),
        ("date that is not a date", with("check_in", json!("24/12/2026")), 422, "invalid_body"),
        ("bad card token", with("payment.card_token", json!("4111 1111 1111 1111")), 422, "invalid_card_token"),
        // PostgreSQL text cannot hold NUL; it is refused as input, not met as a database error.
        ("NUL in a name", with("lead_traveller.name", json!("Asha\u{0}")), 422, "invalid_body"),
    ];
    for (what, body, status, code) in cases {
        let response = http.post(&url).json(&body).send().await.unwrap();
        assert_eq!(error_of(response).await, (status, code.to_string()), "{what}");
    }

    let malformed =
        http.post(&url).header("content-type", "application/json").body("{\"accommodation\": ").send().await.unwrap();
    assert_eq!(error_of(malformed).await, (400, "malformed_json".into()));
    let not_json = http.post(&url).body("accommodation=x").send().await.unwrap();
    assert_eq!(error_of(not_json).await, (415, "unsupported_media_type".into()));
    let huge =
        http.post(&url).header("content-type", "application/json").body(vec![b' '; 200 * 1024]).send().await.unwrap();
    let connection = huge.headers().get("connection").and_then(|v| v.to_str().ok()).map(str::to_owned);
    assert_eq!(connection.as_deref(), Some("close"), "the unread rest of the body spoils the connection");
    assert_eq!(error_of(huge).await, (413, "payload_too_large".into()));
    for key in [String::new(), "k".repeat(201), "two words".into()] {
        let bad_key = http.post(&url).header("Idempotency-Key", &key).json(&good).send().await.unwrap();
        assert_eq!(error_of(bad_key).await, (400, "invalid_idempotency_key".into()), "{key:?}");
    }
    let wrong_method = http.delete(format!("{}/api/catalog/accommodations", platform.api_url)).send().await.unwrap();
    assert_eq!(error_of(wrong_method).await, (405, "method_not_allowed".into()));
    let api = |path: &str| format!("{}{path}", platform.api_url);
    let nul_query = http.get(api("/api/catalog/accommodations?destination=agar%00tala")).send().await.unwrap();
    assert_eq!(error_of(nul_query).await, (400, "invalid_query".into()));
    let nul_path = http.get(api("/api/catalog/destinations/neer%00mahal")).send().await.unwrap();
    assert_eq!(error_of(nul_path).await, (404, "not_found".into()));
    // An empty address can be nobody's: a wrong login, not a broken one.
    for email in ["", "  "] {
        let login = platform.http.post(api("/api/auth/login")).json(&json!({"email": email, "password": "x"}));
        assert_eq!(error_of(login.send().await.unwrap()).await, (401, "invalid_credentials".into()), "{email:?}");
    }

    // Nothing above reached the point of binding a booking reference, so no saga started.
    let bound: i64 =
        sqlx::query_scalar("SELECT count(*) FROM booking_requests").fetch_one(&platform.booking_db).await.unwrap();
    assert_eq!(bound, 0);
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_probes_and_docs_answer() {
    let platform = TestPlatform::spawn_with(TestPlatformOptions::without_workers()).await.unwrap();
    let http = platform.http_as(&platform.traveller);
    let get = |path: &str| http.get(format!("{}{path}", platform.api_url)).send();

    assert_eq!(get("/healthz").await.unwrap().status(), 200);
    let ready = get("/readyz").await.unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.json::<Value>().await.unwrap()["checks"]["temporal"], "ok");

    let (status, code) = error_of(get("/api/bookings/TRP-ZZZZZZ").await.unwrap()).await;
    assert_eq!((status, code.as_str()), (404, "booking_not_found"));
    let (status, code) = error_of(get("/api/bookings/not-a-ref").await.unwrap()).await;
    assert_eq!((status, code.as_str()), (404, "booking_not_found"));
    let (status, code) = error_of(get("/api/bookings/TRP-ZZZZZZ?wait=soon").await.unwrap()).await;
    assert_eq!((status, code.as_str()), (400, "invalid_query"));
    let (status, code) = error_of(get("/api/nowhere").await.unwrap()).await;
    assert_eq!((status, code.as_str()), (404, "route_not_found"));

    // The list answers with a validator, and a cache revalidating its copy gets a 304.
    let list = get_revalidated(&http, &format!("{}/api/catalog/accommodations", platform.api_url)).await;
    let codes: Vec<&str> = list["items"].as_array().unwrap().iter().map(|a| a["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"ujjayanta-heritage-hotel") && codes.contains(&"rudrasagar-lakeside-resort"), "{codes:?}");

    let from = contracts::india::today() + chrono::Duration::days(17);
    let to = from + chrono::Duration::days(2);
    let availability = get(&format!(
        "/api/inventory/availability?accommodation=ujjayanta-heritage-hotel&room_type=deluxe_double&from={from}&to={to}"
    ))
    .await
    .unwrap();
    assert_eq!(availability.status(), 200);
    // Anyone may see what can be booked, not how much is held, booked or allotted.
    let availability: Value = availability.json().await.unwrap();
    let nights = availability["nights"].as_array().unwrap();
    assert_eq!(nights.len(), 2, "{availability}");
    for night in nights {
        let mut fields: Vec<&str> = night.as_object().unwrap().keys().map(String::as_str).collect();
        fields.sort_unstable();
        assert_eq!(fields, ["available", "night"], "{availability}");
    }

    // The served document is the one the contract test holds to api/contract/openapi.json.
    let doc = json_of(http.get(format!("{}/api/openapi.json", platform.api_url))).await;
    assert!(doc["paths"]["/api/bookings"]["post"].is_object());
    assert_eq!(doc, api::openapi_document(), "the served document is the built one");
    let docs_page = get("/api/docs/").await.unwrap();
    assert_eq!(docs_page.status(), 200);
    assert!(docs_page.text().await.unwrap().contains("swagger"), "the docs page is Swagger UI");
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_deployment_serves_only_its_services_and_reports_metrics() {
    let mut platform = TestPlatform::spawn_with(TestPlatformOptions::without_workers()).await.unwrap();
    let catalog_only = platform.spawn_api(&[api::ApiService::Catalog]).await.unwrap();
    let get = |path: &str| platform.http.get(format!("{catalog_only}{path}")).send();

    assert_eq!(get("/api/catalog/accommodations").await.unwrap().status(), 200);
    let (status, code) = error_of(get("/api/bookings/TRP-ZZZZZZ").await.unwrap()).await;
    assert_eq!((status, code.as_str()), (404, "route_not_found"), "bookings belong to another deployment");
    assert_eq!(get("/readyz").await.unwrap().status(), 200);

    let metrics = get("/metrics").await.unwrap().text().await.unwrap();
    let line = metrics
        .lines()
        .find(|l| {
            l.starts_with("http_requests_total")
                && l.contains("route=\"/api/catalog/accommodations\"")
                && l.contains("status=\"200\"")
        })
        .unwrap_or_else(|| panic!("no request counter for the catalog route in:\n{metrics}"));
    let count: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(count >= 1.0, "{line}");
    assert!(metrics.contains("route=\"unmatched\""), "the 404 is counted without its raw path");
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_temporal_the_api_still_starts_serves_reads_and_answers_503_for_new_bookings() {
    let mut platform = TestPlatform::spawn_with(TestPlatformOptions::without_workers()).await.unwrap();
    let dead_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dead = url::Url::parse(&format!("http://127.0.0.1:{dead_port}")).unwrap();
    let api = platform.spawn_api_at(&api::ApiService::ALL, Some(dead)).await.unwrap();

    assert_eq!(platform.http.get(format!("{api}/healthz")).send().await.unwrap().status(), 200);
    let ready = platform.http.get(format!("{api}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    assert_eq!(ready.json::<Value>().await.unwrap()["checks"]["temporal"], "unreachable");
    assert_eq!(platform.http.get(format!("{api}/api/catalog/accommodations")).send().await.unwrap().status(), 200);

    let booking = platform
        .http_as(&platform.traveller)
        .post(format!("{api}/api/bookings"))
        .json(&booking_body(10, 1, 1, "tok_success"))
        .send()
        .await
        .unwrap();
    assert_eq!(booking.headers().get("retry-after").map(|v| v.to_str().unwrap()), Some("5"));
    assert_eq!(error_of(booking).await, (503, "temporal_unavailable".into()));

    // A booking accepted while Temporal was there is still readable through this API: the
    // last state known for sure, and when to ask again.
    let accepted = platform.book(&booking_body(11, 1, 1, "tok_success")).await;
    let read = platform.read_booking_at(&api, &accepted, 1).await.unwrap();
    assert_eq!(read.status(), 200);
    assert_eq!(read.headers().get("retry-after").map(|v| v.to_str().unwrap()), Some("2"));
    let view: Value = read.json().await.unwrap();
    assert_eq!((view["booking_ref"].as_str(), view["status"].as_str()), (Some(accepted.as_str()), Some("pending")));
    platform.stop().await.unwrap();
}
