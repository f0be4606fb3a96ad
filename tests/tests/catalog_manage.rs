//! Managing the catalog: operators add properties; a property is sold only once it has a
//! room type and is published; asset managers change only the properties assigned to them.

use serde_json::{Value, json};
use tests::{Session, TestPlatform, TestPlatformOptions, body_of, error_code};

async fn send(platform: &TestPlatform, session: &Session, method: &str, path: &str, body: Value) -> (u16, Value) {
    let url = format!("{}{path}", platform.api_url);
    body_of(platform.http_as(session).request(method.parse().unwrap(), url).json(&body).send().await.unwrap()).await
}

/// An anonymous GET: what the public sees.
async fn public(platform: &TestPlatform, path: &str) -> (u16, Value) {
    body_of(platform.http.get(format!("{}{path}", platform.api_url)).send().await.unwrap()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_add_and_publish_properties_and_managers_edit_only_their_own() {
    let platform = TestPlatform::spawn_with(TestPlatformOptions::without_workers()).await.unwrap();
    let operator = platform.user_with_role("operator").await.unwrap();
    let admin = platform.user_with_role("admin").await.unwrap();
    let manager = platform.user_with_role("asset_manager").await.unwrap();
    let new = json!({ "code": "jampui-orange-retreat", "destination": "jampui-hills", "name": "Jampui Orange Retreat",
                      "kind": "homestay", "summary": "Orange orchards and sunrise over the Mizo hills" });

    for (field, value, expected) in [
        ("kind", json!("castle"), "invalid_kind"),
        ("code", json!("Jampui Retreat"), "invalid_code"),
        ("destination", json!("atlantis"), "unknown_destination"),
        ("name", json!("  "), "invalid_field"),
    ] {
        let mut bad = new.clone();
        bad[field] = value;
        let (status, body) = send(&platform, &operator, "POST", "/api/catalog/accommodations", bad).await;
        assert_eq!((status, error_code(&body)), (422, expected), "{field}: {body}");
    }
    let (status, body) = send(&platform, &manager, "POST", "/api/catalog/accommodations", new.clone()).await;
    assert_eq!(status, 403, "managers do not add properties: {body}");
    let (status, created) = send(&platform, &operator, "POST", "/api/catalog/accommodations", new.clone()).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!((created["published"].as_bool(), created["room_types"].as_i64()), (Some(false), Some(0)));
    let (status, body) = send(&platform, &operator, "POST", "/api/catalog/accommodations", new.clone()).await;
    assert_eq!((status, error_code(&body)), (409, "code_taken"));

    // Not on sale until it has a room type and is published.
    assert_eq!(public(&platform, "/api/catalog/accommodations/jampui-orange-retreat").await.0, 404);
    let path = "/api/catalog/accommodations/jampui-orange-retreat";
    let (status, body) = send(&platform, &operator, "PATCH", path, json!({ "published": true })).await;
    assert_eq!((status, error_code(&body)), (409, "no_room_types"), "{body}");
    let room = json!({ "name": "Orchard cottage", "max_occupancy": 3, "base_tariff": { "amount": 280000, "currency": "INR" } });
    let (status, body) =
        send(&platform, &operator, "PUT", &format!("{path}/room-types/orchard_cottage"), room.clone()).await;
    assert_eq!((status, body["room_types"].as_i64()), (200, Some(1)), "{body}");
    let mut too_many = room.clone();
    too_many["max_occupancy"] = json!(40);
    let (status, body) =
        send(&platform, &operator, "PUT", &format!("{path}/room-types/orchard_cottage"), too_many).await;
    assert_eq!((status, error_code(&body)), (422, "invalid_occupancy"));
    let (status, body) = send(&platform, &operator, "PATCH", path, json!({ "published": true })).await;
    assert_eq!((status, body["published"].as_bool()), (200, Some(true)), "{body}");
    let (_, listed) = public(&platform, path).await;
    assert_eq!(listed["name"], "Jampui Orange Retreat", "{listed}");

    // The manager is assigned one property: edits there, 403 elsewhere.
    let assign = format!("/api/auth/users/{}/assignments/ujjayanta-heritage-hotel", manager.user_id);
    assert_eq!(send(&platform, &admin, "PUT", &assign, json!(null)).await.0, 204);
    let own = "/api/catalog/accommodations/ujjayanta-heritage-hotel";
    let summary = "Stay steps from the palace, with breakfast on the lawn";
    let (status, body) = send(&platform, &manager, "PATCH", own, json!({ "summary": summary })).await;
    assert_eq!((status, body["summary"].as_str()), (200, Some(summary)), "{body}");
    let (status, body) = send(&platform, &manager, "PATCH", path, json!({ "summary": "mine now" })).await;
    assert_eq!((status, error_code(&body)), (403, "not_assigned"), "{body}");
    let traveller = platform.traveller.clone();
    assert_eq!(send(&platform, &traveller, "PATCH", own, json!({ "summary": "x" })).await.0, 403);

    // Withdrawn, it is off sale again.
    let (status, _) = send(&platform, &operator, "PATCH", path, json!({ "published": false })).await;
    assert_eq!(status, 200);
    assert_eq!(public(&platform, path).await.0, 404);
    // Operators withdraw and restore a package; managers cannot.
    let package = "/api/catalog/packages/agartala-heritage-weekend";
    let (status, body) = send(&platform, &operator, "PATCH", package, json!({ "published": false })).await;
    assert_eq!((status, body["published"].as_bool()), (200, Some(false)), "{body}");
    assert_eq!(public(&platform, package).await.0, 404);
    assert_eq!(send(&platform, &manager, "PATCH", package, json!({ "published": true })).await.0, 403);
    assert_eq!(send(&platform, &operator, "PATCH", package, json!({ "published": true })).await.0, 200);
    assert_eq!(public(&platform, package).await.0, 200);
    let (status, body) =
        send(&platform, &operator, "PATCH", "/api/catalog/experiences/no-such-thing", json!({ "published": true }))
            .await;
    assert_eq!((status, error_code(&body)), (404, "not_found"));
    let actions: Vec<String> =
        sqlx::query_scalar("SELECT action FROM user_activity_logs").fetch_all(&platform.auth_db).await.unwrap();
    for action in ["accommodation_create", "room_type_put", "accommodation_update"] {
        assert!(actions.iter().any(|a| a == action), "{action} not logged");
    }
    platform.stop().await.unwrap();
}

/// Operators add a destination, an experience there and a package around both, price the
/// package by season, publish them, and the public reads and quotes them; nobody else may.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_add_destinations_experiences_and_priced_packages() {
    let platform = TestPlatform::spawn_with(TestPlatformOptions::without_workers()).await.unwrap();
    let operator = platform.user_with_role("operator").await.unwrap();
    let manager = platform.user_with_role("asset_manager").await.unwrap();
    let place = json!({ "code": "boxanagar", "name": "Boxanagar", "district": "Sepahijala",
                        "summary": "Brick ruins of a Buddhist stupa and monastery",
                        "latitude": 23.6603, "longitude": 91.2481 });
    for (field, value, expected) in [
        ("district", json!(""), "invalid_field"),
        ("latitude", json!(123.0), "invalid_field"),
        ("code", json!("Boxa Nagar"), "invalid_code"),
    ] {
        let mut bad = place.clone();
        bad[field] = value;
        let (status, body) = send(&platform, &operator, "POST", "/api/catalog/destinations", bad).await;
        assert_eq!(
            (status, error_code(&body), body["error"]["details"]["field"].as_str()),
            (422, expected, Some(field))
        );
    }
    let (status, _) = send(&platform, &manager, "POST", "/api/catalog/destinations", place.clone()).await;
    assert_eq!(status, 403, "asset managers do not add destinations");
    let (status, created) = send(&platform, &operator, "POST", "/api/catalog/destinations", place.clone()).await;
    assert_eq!((status, created["published"].as_bool()), (201, Some(false)), "{created}");
    let (status, body) = send(&platform, &operator, "POST", "/api/catalog/destinations", place).await;
    assert_eq!((status, error_code(&body)), (409, "code_taken"));
    assert_eq!(public(&platform, "/api/catalog/destinations/boxanagar").await.0, 404, "unpublished");

    let ride = json!({ "code": "boxanagar-stupa-walk", "name": "Walk through the stupa ruins", "duration_minutes": 90,
                       "price": { "amount": 30000, "currency": "INR" }, "destinations": ["boxanagar", "atlantis"] });
    let (status, body) = send(&platform, &operator, "POST", "/api/catalog/experiences", ride.clone()).await;
    assert_eq!((status, error_code(&body)), (422, "unknown_destination"), "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("atlantis"), "{body}");
    let mut ride = ride;
    ride["destinations"] = json!(["boxanagar"]);
    let (status, body) = send(&platform, &operator, "POST", "/api/catalog/experiences", ride).await;
    assert_eq!(status, 201, "{body}");

    let package = json!({
        "code": "sepahijala-ruins-1n", "name": "Boxanagar ruins and Chabimura carvings", "nights": 1, "max_group_size": 6,
        "destinations": [{ "code": "boxanagar", "day": 1 }, { "code": "chabimura", "day": 2 }],
        "experiences": [{ "code": "boxanagar-stupa-walk", "day": 1 }],
        "amenities": ["guide", "entry-tickets"],
    });
    let mut too_late = package.clone();
    too_late["experiences"][0]["day"] = json!(3);
    let (status, body) = send(&platform, &operator, "POST", "/api/catalog/packages", too_late).await;
    assert_eq!((status, error_code(&body)), (422, "invalid_field"), "a 1-night package has days 1 and 2: {body}");
    let mut unknown = package.clone();
    unknown["amenities"] = json!(["helicopter"]);
    let (status, body) = send(&platform, &operator, "POST", "/api/catalog/packages", unknown).await;
    assert_eq!((status, error_code(&body)), (422, "unknown_amenity"), "{body}");
    let (status, body) = send(&platform, &operator, "POST", "/api/catalog/packages", package).await;
    assert_eq!(status, 201, "{body}");

    // Seasons: overlapping ones are refused and the price list stays as it was.
    let prices = "/api/catalog/packages/sepahijala-ruins-1n/prices";
    let season = |from: &str, to: &str, price: i64| json!({ "basis": "per_person", "valid_from": from, "valid_to": to, "price": { "amount": price, "currency": "INR" } });
    // Seasons around today (in India), so the quote below stays in the future whenever the
    // suite runs: a high season until 100 days from now, then a regular one.
    let day = |offset: i64| (contracts::india::today() + chrono::Duration::days(offset)).to_string();
    let (high_from, high_to, regular_from, regular_to) = (day(-60), day(100), day(101), day(380));
    let overlapping =
        json!({ "seasons": [season(&high_from, &high_to, 450000), season(&high_to, &regular_to, 380000)] });
    let (status, body) = send(&platform, &operator, "PUT", prices, overlapping).await;
    assert_eq!((status, error_code(&body)), (422, "seasons_overlap"), "{body}");
    let mut child_above_adult = season(&high_from, &high_to, 450000);
    child_above_adult["child_price"] = json!({ "amount": 500000, "currency": "INR" });
    let (status, body) = send(&platform, &operator, "PUT", prices, json!({ "seasons": [child_above_adult] })).await;
    assert_eq!((status, error_code(&body)), (422, "invalid_child_price"), "{body}");
    let (status, _) =
        send(&platform, &manager, "PUT", prices, json!({ "seasons": [season(&high_from, &high_to, 1)] })).await;
    assert_eq!(status, 403);
    let nowhere = "/api/catalog/packages/no-such-package/prices";
    let (status, body) =
        send(&platform, &operator, "PUT", nowhere, json!({ "seasons": [season(&high_from, &high_to, 450000)] })).await;
    assert_eq!((status, error_code(&body)), (404, "package_not_found"));
    let seasons =
        json!({ "seasons": [season(&high_from, &high_to, 450000), season(&regular_from, &regular_to, 380000)] });
    let (status, body) = send(&platform, &operator, "PUT", prices, seasons).await;
    assert_eq!(status, 200, "{body}");

    for path in [
        "/api/catalog/destinations/boxanagar",
        "/api/catalog/experiences/boxanagar-stupa-walk",
        "/api/catalog/packages/sepahijala-ruins-1n",
    ] {
        let (status, body) = send(&platform, &operator, "PATCH", path, json!({ "published": true })).await;
        assert_eq!((status, body["published"].as_bool()), (200, Some(true)), "{path}: {body}");
    }
    let (status, destination) = public(&platform, "/api/catalog/destinations/boxanagar").await;
    assert_eq!((status, destination["district"].as_str()), (200, Some("Sepahijala")), "{destination}");
    let (status, listed) = public(&platform, "/api/catalog/packages/sepahijala-ruins-1n").await;
    assert_eq!(status, 200, "{listed}");
    let (status, quote) =
        public(&platform, &format!("/api/catalog/packages/sepahijala-ruins-1n/quote?start={}&adults=2", day(110)))
            .await;
    // Two adults at ₹3,800 in the regular season, 5 % GST.
    assert_eq!((status, quote["total"]["amount"].as_i64()), (200, Some(798_000)), "{quote}");
    platform.stop().await.unwrap();
}
