//! Managing the catalog: operators add properties; a property is sold only once it has a
//! room type and is published; asset managers change only the properties assigned to them.

use serde_json::{Value, json};
use tests::{Session, TestPlatform, TestPlatformOptions};

async fn send(platform: &TestPlatform, session: &Session, method: &str, path: &str, body: Value) -> (u16, Value) {
    let url = format!("{}{path}", platform.api_url);
    let response = platform.http_as(session).request(method.parse().unwrap(), url).json(&body).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_add_and_publish_properties_and_managers_edit_only_their_own() {
    let options = TestPlatformOptions { worker_contexts: vec![], ..Default::default() };
    let platform = TestPlatform::spawn_with(options).await.unwrap();
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
        assert_eq!((status, code(&body)), (422, expected), "{field}: {body}");
    }
    let (status, body) = send(&platform, &manager, "POST", "/api/catalog/accommodations", new.clone()).await;
    assert_eq!(status, 403, "managers do not add properties: {body}");
    let (status, created) = send(&platform, &operator, "POST", "/api/catalog/accommodations", new.clone()).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!((created["published"].as_bool(), created["room_types"].as_i64()), (Some(false), Some(0)));
    let (status, body) = send(&platform, &operator, "POST", "/api/catalog/accommodations", new.clone()).await;
    assert_eq!((status, code(&body)), (409, "code_taken"));

    // Not on sale until it has a room type and is published.
    let public = |path: &str| platform.http.get(format!("{}{path}", platform.api_url)).send();
    assert_eq!(public("/api/catalog/accommodations/jampui-orange-retreat").await.unwrap().status(), 404);
    let path = "/api/catalog/accommodations/jampui-orange-retreat";
    let (status, body) = send(&platform, &operator, "PATCH", path, json!({ "published": true })).await;
    assert_eq!((status, code(&body)), (409, "no_room_types"), "{body}");
    let room = json!({ "name": "Orchard cottage", "max_occupancy": 3, "base_tariff": { "amount": 280000, "currency": "INR" } });
    let (status, body) =
        send(&platform, &operator, "PUT", &format!("{path}/room-types/orchard_cottage"), room.clone()).await;
    assert_eq!((status, body["room_types"].as_i64()), (200, Some(1)), "{body}");
    let mut too_many = room.clone();
    too_many["max_occupancy"] = json!(40);
    let (status, body) =
        send(&platform, &operator, "PUT", &format!("{path}/room-types/orchard_cottage"), too_many).await;
    assert_eq!((status, code(&body)), (422, "invalid_occupancy"));
    let (status, body) = send(&platform, &operator, "PATCH", path, json!({ "published": true })).await;
    assert_eq!((status, body["published"].as_bool()), (200, Some(true)), "{body}");
    let listed: Value = public(path).await.unwrap().json().await.unwrap();
    assert_eq!(listed["name"], "Jampui Orange Retreat", "{listed}");

    // The manager is assigned one property: edits there, 403 elsewhere.
    let assign = format!("/api/auth/users/{}/assignments/ujjayanta-heritage-hotel", manager.user_id);
    assert_eq!(send(&platform, &admin, "PUT", &assign, json!(null)).await.0, 204);
    let own = "/api/catalog/accommodations/ujjayanta-heritage-hotel";
    let summary = "Stay steps from the palace, with breakfast on the lawn";
    let (status, body) = send(&platform, &manager, "PATCH", own, json!({ "summary": summary })).await;
    assert_eq!((status, body["summary"].as_str()), (200, Some(summary)), "{body}");
    let (status, body) = send(&platform, &manager, "PATCH", path, json!({ "summary": "mine now" })).await;
    assert_eq!((status, code(&body)), (403, "not_assigned"), "{body}");
    let traveller = platform.traveller.clone();
    assert_eq!(send(&platform, &traveller, "PATCH", own, json!({ "summary": "x" })).await.0, 403);

    // Withdrawn, it is off sale again.
    let (status, _) = send(&platform, &operator, "PATCH", path, json!({ "published": false })).await;
    assert_eq!(status, 200);
    assert_eq!(public(path).await.unwrap().status(), 404);
    // Operators withdraw and restore a package; managers cannot.
    let (status, body) = send(
        &platform,
        &operator,
        "PATCH",
        "/api/catalog/packages/agartala-heritage-weekend",
        json!({ "published": false }),
    )
    .await;
    assert_eq!((status, body["published"].as_bool()), (200, Some(false)), "{body}");
    assert_eq!(public("/api/catalog/packages/agartala-heritage-weekend").await.unwrap().status(), 404);
    let (status, _) = send(
        &platform,
        &manager,
        "PATCH",
        "/api/catalog/packages/agartala-heritage-weekend",
        json!({ "published": true }),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = send(
        &platform,
        &operator,
        "PATCH",
        "/api/catalog/packages/agartala-heritage-weekend",
        json!({ "published": true }),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(public("/api/catalog/packages/agartala-heritage-weekend").await.unwrap().status(), 200);
    let (status, body) =
        send(&platform, &operator, "PATCH", "/api/catalog/experiences/no-such-thing", json!({ "published": true }))
            .await;
    assert_eq!((status, code(&body)), (404, "not_found"));
    let actions: Vec<String> =
        sqlx::query_scalar("SELECT action FROM user_activity_logs").fetch_all(&platform.auth_db).await.unwrap();
    for action in ["accommodation_create", "room_type_put", "accommodation_update"] {
        assert!(actions.iter().any(|a| a == action), "{action} not logged");
    }
    platform.stop().await.unwrap();
}
