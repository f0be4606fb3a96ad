//! The accommodation search by dates: only stays with a room type that has the rooms asked
//! for free on every night, as the inventory counts them (allotment − held − booked, expired
//! holds not counting, nothing on a stop-sell night or a night without an allotment).

use chrono::{Duration as Days, NaiveDate, Utc};
use contracts::{BookingRef, StayDates, activities::HoldRequest};
use tests::{CatalogUnderTest, ExpectedError, TestDatabase};
use uuid::Uuid;

fn today() -> NaiveDate {
    contracts::india::today()
}

/// Holds `rooms` of a demo room type for one night, live for a while or already expired.
async fn hold_one_night(
    db: &TestDatabase,
    accommodation: &str,
    room_type: &str,
    night: NaiveDate,
    rooms: u32,
    live: bool,
) {
    let offer = catalog::store::find_offer(&db.catalog, accommodation, room_type).await.unwrap().unwrap();
    let request = HoldRequest {
        hold_id: format!("booking-TRP-TEST00/{accommodation}/{night}/{live}"),
        booking_ref: BookingRef::parse("TRP-TEST00").unwrap(),
        accommodation_id: offer.accommodation_id,
        room_type: room_type.to_string(),
        dates: StayDates { check_in: night, check_out: night + Days::days(1) },
        rooms,
    };
    let expires_at = if live { Utc::now() + Days::minutes(15) } else { Utc::now() - Days::minutes(1) };
    let outcome = inventory::store::hold_rooms(&db.inventory, &request, expires_at).await.unwrap();
    assert_eq!(outcome, inventory::store::HoldOutcome::Placed);
}

async fn set_allotment(db: &TestDatabase, accommodation: &str, room_type: &str, night: NaiveDate, rooms: i32) {
    let id: Uuid =
        catalog::store::find_offer(&db.catalog, accommodation, room_type).await.unwrap().unwrap().accommodation_id;
    inventory::store::set_allotment(&db.inventory, id, room_type, night, night + Days::days(1), rooms).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dated_search_lists_only_stays_with_rooms_free_on_every_night() {
    let catalog = CatalogUnderTest::start(8).await.unwrap();
    let d = today() + Days::days(10);
    let stays = |from: NaiveDate, nights: i64, extra: &str| {
        format!("check_in={from}&check_out={}{extra}", from + Days::days(nights))
    };
    let all = catalog.codes("accommodations", "").await;
    assert_eq!(all.len(), 5);
    assert_eq!(catalog.codes("accommodations", &stays(d, 3, "")).await, all, "eight rooms free everywhere");

    // The homestay's only room type has no rooms on the middle night: gone for stays over
    // it, back for stays around it (check-out is exclusive).
    set_allotment(&catalog.db, "vanghmun-orange-homestay", "family_room", d + Days::days(1), 0).await;
    let homestay = "vanghmun-orange-homestay".to_string();
    assert!(!catalog.codes("accommodations", &stays(d, 3, "")).await.contains(&homestay));
    assert!(catalog.codes("accommodations", &stays(d - Days::days(2), 3, "")).await.contains(&homestay));
    assert!(catalog.codes("accommodations", &stays(d + Days::days(2), 2, "")).await.contains(&homestay));
    assert!(catalog.codes("accommodations", "kind=homestay").await.contains(&homestay), "undated, it is listed");

    // Every cottage of the resort held for one night; a hold that has expired holds nothing.
    let resort = "rudrasagar-lakeside-resort".to_string();
    hold_one_night(&catalog.db, "rudrasagar-lakeside-resort", "lake_view_cottage", d + Days::days(5), 8, true).await;
    hold_one_night(&catalog.db, "rudrasagar-lakeside-resort", "lake_view_cottage", d + Days::days(7), 8, false).await;
    assert!(!catalog.codes("accommodations", &stays(d + Days::days(4), 2, "")).await.contains(&resort));
    assert_eq!(
        catalog.codes("accommodations", &stays(d + Days::days(5), 1, "&destination=neermahal")).await,
        Vec::<String>::new()
    );
    assert_eq!(
        catalog.codes("accommodations", &stays(d + Days::days(7), 1, "&destination=neermahal")).await,
        ["rudrasagar-lakeside-resort"]
    );
    assert!(catalog.codes("accommodations", &stays(d + Days::days(6), 1, "")).await.contains(&resort));

    // Six of eight rooms held: two rooms are free, three are not.
    let guest_house = "matabari-pilgrim-guest-house".to_string();
    hold_one_night(&catalog.db, "matabari-pilgrim-guest-house", "standard_double", d + Days::days(9), 6, true).await;
    assert!(catalog.codes("accommodations", &stays(d + Days::days(9), 1, "&rooms=2")).await.contains(&guest_house));
    assert!(!catalog.codes("accommodations", &stays(d + Days::days(9), 1, "&rooms=3")).await.contains(&guest_house));

    // The hotel has two room types: it stays listed while either has rooms.
    let hotel = "ujjayanta-heritage-hotel".to_string();
    set_allotment(&catalog.db, "ujjayanta-heritage-hotel", "deluxe_double", d + Days::days(11), 0).await;
    assert!(catalog.codes("accommodations", &stays(d + Days::days(11), 1, "")).await.contains(&hotel));
    sqlx::query(
        "UPDATE accommodation_availability SET stop_sell = true WHERE room_type = 'palace_view_suite' AND night = $1",
    )
    .bind(d + Days::days(11))
    .execute(&catalog.db.inventory)
    .await
    .unwrap();
    assert!(!catalog.codes("accommodations", &stays(d + Days::days(11), 1, "")).await.contains(&hotel));

    // Paging and sorting work on the dated search too; nights with no allotment sell nothing.
    let (paged, pages) = catalog.all_pages("accommodations", &stays(d, 3, "&sort=price&limit=2")).await;
    assert_eq!((paged.len(), pages), (4, 2));
    let beyond = today() + Days::days(130);
    assert!(catalog.codes("accommodations", &stays(beyond, 1, "")).await.is_empty());

    let past = today() - Days::days(2);
    let cases: [(String, ExpectedError); 10] = [
        (stays(past, 1, ""), (422, "check_in_in_past", Some("check_in"))),
        (format!("check_in={d}&check_out={d}"), (422, "check_out_not_after_check_in", Some("check_out"))),
        (stays(d, 31, ""), (422, "stay_too_long", Some("check_out"))),
        (format!("check_in=2027-02-30&check_out={d}"), (422, "invalid_date", Some("check_in"))),
        (format!("check_in={d}&check_out=tomorrow"), (422, "invalid_date", Some("check_out"))),
        (format!("check_in={d}"), (422, "missing_check_out", Some("check_out"))),
        (format!("check_out={d}"), (422, "missing_check_in", Some("check_in"))),
        ("rooms=2".to_string(), (422, "missing_check_in", Some("check_in"))),
        (stays(d, 1, "&rooms=0"), (422, "invalid_rooms", Some("rooms"))),
        (stays(d, 1, "&rooms=10"), (422, "invalid_rooms", Some("rooms"))),
    ];
    catalog
        .assert_errors(cases.map(|(query, expected)| (format!("/api/catalog/accommodations?{query}"), expected)))
        .await;
    catalog.stop().await.unwrap();
}
