//! The stays a package includes, through the API: operators set a package's whole list at
//! once, the public package page shows it night by night, and a list the catalog cannot
//! sell (a night covered twice, a room that does not exist, a night past the trip) is
//! refused naming the stay's field, and changes nothing.

use serde_json::{Value, json};
use tests::{Session, TestPlatform, TestPlatformOptions, body_of, error_code};

/// Three nights: the Unakoti reliefs, then the Jampui ridge.
const PACKAGE: &str = "unakoti-jampui-hills-escape";

async fn send(platform: &TestPlatform, session: &Session, method: &str, path: &str, body: Value) -> (u16, Value) {
    let url = format!("{}{path}", platform.api_url);
    body_of(platform.http_as(session).request(method.parse().unwrap(), url).json(&body).send().await.unwrap()).await
}

/// An anonymous GET: what the public sees.
async fn public(platform: &TestPlatform, path: &str) -> (u16, Value) {
    body_of(platform.http.get(format!("{}{path}", platform.api_url)).send().await.unwrap()).await
}

fn stay(first_night: u32, nights: u32, accommodation: &str, room_type: &str) -> Value {
    json!({ "first_night": first_night, "nights": nights, "accommodation": accommodation, "room_type": room_type })
}

/// The stays of a package on its public page.
async fn public_stays(platform: &TestPlatform, package: &str) -> Value {
    let (status, page) = public(platform, &format!("/api/catalog/packages/{package}")).await;
    assert_eq!(status, 200, "{page}");
    page["included_stays"].clone()
}

async fn catalog_version(platform: &TestPlatform) -> i64 {
    sqlx::query_scalar("SELECT version FROM catalog.catalog_version").fetch_one(&platform.catalog_db).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_set_the_stays_a_package_includes_and_the_public_page_shows_them() {
    let platform = TestPlatform::spawn_with(TestPlatformOptions::without_workers()).await.unwrap();
    let operator = platform.user_with_role("operator").await.unwrap();
    let stays_of = |package: &str| format!("/api/catalog/packages/{package}/stays");

    // The demo's grand circuit includes two stays; the package here none yet.
    assert_eq!(
        public_stays(&platform, "tripura-grand-circuit").await,
        json!([
            stay(1, 1, "ujjayanta-heritage-hotel", "deluxe_double"),
            stay(3, 2, "matabari-pilgrim-guest-house", "standard_double"),
        ])
    );
    assert_eq!(public_stays(&platform, PACKAGE).await, json!([]));

    // Given out of order, answered and shown in the order of the trip.
    let before = catalog_version(&platform).await;
    let (_, page_before) = public(&platform, &format!("/api/catalog/packages/{PACKAGE}")).await;
    let list = json!({ "stays": [
        stay(2, 2, "vanghmun-orange-homestay", "family_room"),
        stay(1, 1, "unakoti-forest-eco-lodge", "bamboo_cottage"),
    ] });
    let expected = json!([
        stay(1, 1, "unakoti-forest-eco-lodge", "bamboo_cottage"),
        stay(2, 2, "vanghmun-orange-homestay", "family_room"),
    ]);
    let (status, body) = send(&platform, &operator, "PUT", &stays_of(PACKAGE), list.clone()).await;
    assert_eq!((status, &body["stays"]), (200, &expected), "{body}");
    let after = catalog_version(&platform).await;
    assert!(after > before, "a change of the catalog moves its version: {before} -> {after}");
    assert_eq!(public_stays(&platform, PACKAGE).await, expected, "seen at once, not from a page kept before");
    let (_, page_after) = public(&platform, &format!("/api/catalog/packages/{PACKAGE}")).await;
    assert_eq!(page_after["code"], page_before["code"]);
    assert_eq!(page_after["prices"], page_before["prices"], "only the stays changed");

    // The same list again: the same answer, and nothing changes, not even the version.
    let (status, again) = send(&platform, &operator, "PUT", &stays_of(PACKAGE), list).await;
    assert_eq!((status, &again), (200, &body));
    assert_eq!(catalog_version(&platform).await, after);
    assert_eq!(public_stays(&platform, PACKAGE).await, expected);

    // Lists the catalog cannot sell: 422 naming the stay's field, and nothing changes.
    let refused: [(Value, &str, &str); 9] = [
        (
            json!([
                stay(1, 2, "unakoti-forest-eco-lodge", "bamboo_cottage"),
                stay(2, 2, "vanghmun-orange-homestay", "family_room"),
            ]),
            "stays_overlap",
            "stays[1].first_night",
        ),
        (
            json!([
                stay(2, 1, "vanghmun-orange-homestay", "family_room"),
                stay(2, 1, "unakoti-forest-eco-lodge", "bamboo_cottage")
            ]),
            "stays_overlap",
            "stays[1].first_night",
        ),
        (
            json!([stay(1, 1, "atlantis-grand-hotel", "deluxe_double")]),
            "unknown_accommodation",
            "stays[0].accommodation",
        ),
        (
            json!([
                stay(1, 1, "unakoti-forest-eco-lodge", "bamboo_cottage"),
                stay(2, 1, "vanghmun-orange-homestay", "penthouse"),
            ]),
            "unknown_room_type",
            "stays[1].room_type",
        ),
        // A room type of another accommodation.
        (json!([stay(1, 1, "unakoti-forest-eco-lodge", "family_room")]), "unknown_room_type", "stays[0].room_type"),
        (json!([stay(3, 2, "vanghmun-orange-homestay", "family_room")]), "stay_outside_package", "stays[0].nights"),
        (
            json!([stay(4, 1, "vanghmun-orange-homestay", "family_room")]),
            "stay_outside_package",
            "stays[0].first_night",
        ),
        (json!([stay(0, 1, "vanghmun-orange-homestay", "family_room")]), "invalid_field", "stays[0].first_night"),
        (json!([stay(1, 31, "vanghmun-orange-homestay", "family_room")]), "invalid_field", "stays[0].nights"),
    ];
    for (stays, code, field) in refused {
        let (status, body) = send(&platform, &operator, "PUT", &stays_of(PACKAGE), json!({ "stays": stays })).await;
        assert_eq!(
            (status, error_code(&body), body["error"]["details"]["field"].as_str()),
            (422, code, Some(field)),
            "{stays}: {body}"
        );
    }
    // A day trip includes no stay.
    let day_trip = json!({ "stays": [stay(1, 1, "rudrasagar-lakeside-resort", "lake_view_cottage")] });
    let (status, body) = send(&platform, &operator, "PUT", &stays_of("neermahal-sepahijala-day-trip"), day_trip).await;
    assert_eq!((status, error_code(&body)), (422, "stay_outside_package"), "{body}");
    assert_eq!(catalog_version(&platform).await, after, "no refused list changed the catalog");
    assert_eq!(public_stays(&platform, PACKAGE).await, expected);

    let (status, body) = send(&platform, &operator, "PUT", &stays_of("no-such-package"), json!({ "stays": [] })).await;
    assert_eq!((status, error_code(&body)), (404, "package_not_found"), "{body}");

    // An empty list: the package includes no stay again.
    let (status, body) = send(&platform, &operator, "PUT", &stays_of(PACKAGE), json!({ "stays": [] })).await;
    assert_eq!((status, &body["stays"]), (200, &json!([])), "{body}");
    assert_eq!(public_stays(&platform, PACKAGE).await, json!([]));
    assert!(catalog_version(&platform).await > after);

    let actions: Vec<String> =
        sqlx::query_scalar("SELECT action FROM user_activity_logs WHERE action = 'package_stays_put'")
            .fetch_all(&platform.auth_db)
            .await
            .unwrap();
    assert_eq!(actions.len(), 3, "each accepted change is logged");
    platform.stop().await.unwrap();
}

/// A package's stays are changed by whoever changes packages (operators and admins): not
/// by travellers, and not by asset managers, whose permission covers the properties
/// assigned to them and no package.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_operators_change_a_packages_stays() {
    let platform = TestPlatform::spawn_with(TestPlatformOptions::without_workers()).await.unwrap();
    let manager = platform.user_with_role("asset_manager").await.unwrap();
    let admin = platform.user_with_role("admin").await.unwrap();
    let path = format!("/api/catalog/packages/{PACKAGE}/stays");
    let list = json!({ "stays": [stay(1, 1, "ujjayanta-heritage-hotel", "deluxe_double")] });

    // Even one assigned the accommodation the stay is at.
    let assign = format!("/api/auth/users/{}/assignments/ujjayanta-heritage-hotel", manager.user_id);
    assert_eq!(send(&platform, &admin, "PUT", &assign, json!(null)).await.0, 204);
    for (who, session) in [("traveller", &platform.traveller), ("asset manager", &manager)] {
        let (status, body) = send(&platform, session, "PUT", &path, list.clone()).await;
        assert_eq!(status, 403, "{who}: {body}");
    }
    let (status, _) =
        body_of(platform.http.put(format!("{}{path}", platform.api_url)).json(&list).send().await.unwrap()).await;
    assert_eq!(status, 401, "anonymous");
    assert_eq!(public_stays(&platform, PACKAGE).await, json!([]), "nothing changed");

    let (status, body) = send(&platform, &admin, "PUT", &path, list).await;
    assert_eq!((status, body["stays"].as_array().map(Vec::len)), (200, Some(1)), "{body}");
    platform.stop().await.unwrap();
}
