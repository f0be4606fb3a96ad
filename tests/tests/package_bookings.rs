//! Package bookings end to end on the real dev server: the grand circuit's seats and its two
//! included stays held, paid once and confirmed; a decline or a full departure giving back
//! every item; cancellations refunding by the package's tiers to the paisa; partners booking
//! packages as they book stays; and a crash of the inventory worker between the seat hold
//! and the room holds.

use chrono::{Duration as Span, NaiveDate};
use contracts::pricing::apply_bp;
use serde_json::{Value, json};
use std::{process::Child, time::Duration};
use tests::{Session, TestPlatform, TestPlatformOptions, body_of, error_code, json_of, workspace_binary};
use uuid::Uuid;
use workers::WorkerContext;

/// The seeded package with two included stays: a night at the Ujjayanta heritage hotel,
/// then two at the Matabari guest house.
const PACKAGE: &str = "tripura-grand-circuit";

fn departure_in(days: i64) -> NaiveDate {
    contracts::india::today() + Span::days(days)
}

fn package_body(departure: NaiveDate, adults: u32, card_token: &str) -> Value {
    json!({
        "package": PACKAGE, "departure": departure, "adults": adults,
        "lead_traveller": { "name": "Ananya Debbarma", "email": "ananya@example.in", "phone": "+919876543210" },
        "payment": { "method": "card", "card_token": card_token },
    })
}

async fn operator(platform: &TestPlatform) -> Session {
    platform.user_with_role(auth::roles::OPERATOR).await.unwrap()
}

/// Puts `seats` seats on sale on the package's departure of `departure`.
async fn open_departure(platform: &TestPlatform, operator: &Session, departure: NaiveDate, seats: i32) {
    let body = json!({ "package": PACKAGE, "departure": departure, "seats": seats });
    let url = format!("{}/api/inventory/departures", platform.api_url);
    let (status, answer) = body_of(platform.http_as(operator).put(url).json(&body).send().await.unwrap()).await;
    assert_eq!(status, 200, "{answer}");
}

async fn post_package(platform: &TestPlatform, session: &Session, body: &Value) -> (u16, Value) {
    let url = format!("{}/api/bookings/packages", platform.api_url);
    body_of(platform.http_as(session).post(url).json(body).send().await.unwrap()).await
}

async fn book_package(platform: &TestPlatform, body: &Value) -> String {
    let (status, accepted) = post_package(platform, &platform.traveller, body).await;
    assert_eq!(status, 202, "{accepted}");
    assert_eq!(accepted["status_url"], format!("/api/bookings/packages/{}", accepted["booking_ref"].as_str().unwrap()));
    accepted["booking_ref"].as_str().unwrap().to_string()
}

/// The package booking once it reaches one of `statuses`.
async fn wait_for(platform: &TestPlatform, booking_ref: &str, statuses: &[&str]) -> Value {
    let url = format!("{}/api/bookings/packages/{booking_ref}?wait=10", platform.api_url);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let (status, view) = body_of(platform.http_as(&platform.traveller).get(&url).send().await.unwrap()).await;
        assert_eq!(status, 200, "{view}");
        if statuses.contains(&view["status"].as_str().unwrap_or_default()) {
            return view;
        }
        assert!(tokio::time::Instant::now() < deadline, "{booking_ref} never reached {statuses:?}: {view}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn package_id(platform: &TestPlatform) -> Uuid {
    sqlx::query_scalar("SELECT package_id FROM packages WHERE code = $1")
        .bind(PACKAGE)
        .fetch_one(&platform.catalog_db)
        .await
        .unwrap()
}

/// The departure's seats (held, sold).
async fn seats(platform: &TestPlatform, departure: NaiveDate) -> (i32, i32) {
    sqlx::query_as(
        "SELECT seats_held, seats_sold FROM package_availability WHERE package_id = $1 AND departure_date = $2",
    )
    .bind(package_id(platform).await)
    .bind(departure)
    .fetch_one(&platform.inventory_db)
    .await
    .unwrap()
}

/// The rooms held and booked, night by night, at the package's included stays for a trip
/// departing on `departure`: (night, held, booked) in itinerary order.
async fn stay_nights(platform: &TestPlatform, departure: NaiveDate) -> Vec<(NaiveDate, i32, i32)> {
    let stays = [
        ("ujjayanta-heritage-hotel", "deluxe_double", 0, 1),
        ("matabari-pilgrim-guest-house", "standard_double", 2, 2),
    ];
    let mut nights = Vec::new();
    for (accommodation, room_type, offset, count) in stays {
        let offer = catalog::store::find_offer(&platform.catalog_db, accommodation, room_type).await.unwrap().unwrap();
        let from = departure + Span::days(offset);
        let listed = inventory::store::availability(
            &platform.inventory_db,
            offer.accommodation_id,
            room_type,
            from,
            from + Span::days(count),
        )
        .await
        .unwrap();
        assert_eq!(listed.len(), usize::try_from(count).unwrap(), "allotments exist for {accommodation}");
        nights.extend(listed.into_iter().map(|n| (n.night, n.held, n.booked)));
    }
    nights
}

/// The package's public quote for `adults` departing on `departure`: (base, gst, total).
async fn quote(platform: &TestPlatform, departure: NaiveDate, adults: u32) -> (i64, i64, i64) {
    let url = format!("{}/api/catalog/packages/{PACKAGE}/quote?start={departure}&adults={adults}", platform.api_url);
    let quote = json_of(platform.http.get(url)).await;
    let amount = |field: &str| quote[field]["amount"].as_i64().unwrap();
    (amount("base_total"), amount("gst_total"), amount("total"))
}

async fn cancel(platform: &TestPlatform, booking_ref: &str) -> Value {
    let url = format!("{}/api/bookings/{booking_ref}/cancel", platform.api_url);
    let (status, accepted) =
        body_of(platform.http_as(&platform.traveller).post(url).json(&json!({})).send().await.unwrap()).await;
    assert_eq!(status, 202, "{accepted}");
    assert_eq!(accepted["status_url"], format!("/api/bookings/packages/{booking_ref}"), "{accepted}");
    wait_for(platform, booking_ref, &["cancelled"]).await
}

async fn terms(platform: &TestPlatform, booking_ref: &str) -> Value {
    let url = format!("{}/api/bookings/{booking_ref}/cancellation-terms", platform.api_url);
    json_of(platform.http_as(&platform.traveller).get(url)).await
}

/// The booking's items as recorded: (kind, night, seats, rooms, base, gst).
async fn items(platform: &TestPlatform, booking_ref: &str) -> Vec<(String, NaiveDate, Option<i32>, i32, i64, i64)> {
    sqlx::query_as(
        "SELECT i.kind, i.night, i.seats, i.rooms, i.base_paise, i.gst_paise FROM booking_items i
         JOIN bookings b USING (booking_id) WHERE b.booking_ref = $1 ORDER BY i.kind, i.night",
    )
    .bind(booking_ref)
    .fetch_all(&platform.booking_db)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_package_with_two_included_stays_is_held_paid_once_confirmed_and_cancelled_with_everything_back() {
    let platform = TestPlatform::spawn().await.unwrap();
    let operator = operator(&platform).await;
    let departure = departure_in(45);
    open_departure(&platform, &operator, departure, 12).await;
    let rooms_before = stay_nights(&platform, departure).await;
    assert_eq!(seats(&platform, departure).await, (0, 0));
    // Found by its departure's seats: twelve free that day, not thirteen.
    for (seats_wanted, listed) in [(12, true), (13, false)] {
        let url = format!(
            "{}/api/catalog/packages?departs_from={departure}&departs_to={departure}&seats={seats_wanted}&limit=100",
            platform.api_url
        );
        let found = json_of(platform.http.get(url)).await;
        let codes: Vec<&str> = found["items"].as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap()).collect();
        assert_eq!(codes.contains(&PACKAGE), listed, "{seats_wanted} seats: {found}");
    }
    let url = format!(
        "{}/api/inventory/departures?package={PACKAGE}&from={departure}&to={departure}&seats=2",
        platform.api_url
    );
    let listed = json_of(platform.http.get(url)).await;
    assert_eq!(listed["departures"], json!([{ "departure": departure, "seats_left": 12 }]), "{listed}");

    let booking_ref = book_package(&platform, &package_body(departure, 2, "tok_success")).await;
    let confirmed = wait_for(&platform, &booking_ref, &["confirmed", "failed"]).await;
    assert_eq!(confirmed["status"], "confirmed", "{confirmed}");
    let (base, gst, total) = quote(&platform, departure, 2).await;
    assert_eq!(confirmed["total"]["amount"], total, "the package quote is the price: {confirmed}");
    assert_eq!(confirmed["amount_charged"]["amount"], total, "{confirmed}");
    assert_eq!((confirmed["seats"].as_i64(), confirmed["rooms"].as_i64()), (Some(2), Some(1)), "{confirmed}");
    let stays = confirmed["stays"].as_array().unwrap();
    let dates: Vec<(&str, &str)> =
        stays.iter().map(|s| (s["check_in"].as_str().unwrap(), s["check_out"].as_str().unwrap())).collect();
    let day = |n: i64| (departure + Span::days(n)).to_string();
    assert_eq!(dates, vec![(day(0).as_str(), day(1).as_str()), (day(2).as_str(), day(4).as_str())], "{confirmed}");

    // Every item booked: the seats sold and each included night's room booked, nothing left held.
    assert_eq!(seats(&platform, departure).await, (0, 2));
    let booked: Vec<(NaiveDate, i32, i32)> = rooms_before.iter().map(|&(n, h, b)| (n, h, b + 1)).collect();
    assert_eq!(stay_nights(&platform, departure).await, booked);
    let recorded = items(&platform, &booking_ref).await;
    assert_eq!(recorded.len(), 4, "one seats line and three room-nights: {recorded:?}");
    assert_eq!(recorded[0], ("package_seats".into(), departure, Some(2), 0, base, gst), "the seats carry the price");
    assert!(recorded[1..].iter().all(|i| i.0 == "room_night" && i.3 == 1 && i.4 == 0), "{recorded:?}");
    let books = platform.gateway_ledger().await;
    let captures: Vec<&Value> =
        books["orders"].as_array().unwrap().iter().filter(|o| o["captures"].as_i64() == Some(1)).collect();
    assert_eq!(captures.len(), 1, "one charge for the whole: {books}");
    assert_eq!(captures[0]["amount"], total, "{books}");

    // Package bookings list on their own; the stay routes point at them.
    let mine =
        json_of(platform.http_as(&platform.traveller).get(format!("{}/api/bookings/packages", platform.api_url))).await;
    assert_eq!(mine["items"][0]["booking_ref"], booking_ref.as_str(), "{mine}");
    let stays_list =
        json_of(platform.http_as(&platform.traveller).get(format!("{}/api/bookings", platform.api_url))).await;
    assert!(stays_list["items"].as_array().unwrap().is_empty(), "{stays_list}");
    let url = format!("{}/api/bookings/{booking_ref}", platform.api_url);
    let (status, elsewhere) = body_of(platform.http_as(&platform.traveller).get(url).send().await.unwrap()).await;
    assert_eq!((status, error_code(&elsewhere)), (404, "booking_is_a_package"), "{elsewhere}");
    let stranger = platform.sign_up(&format!("stranger-{}@example.in", Uuid::new_v4())).await.unwrap();
    let url = format!("{}/api/bookings/packages/{booking_ref}", platform.api_url);
    let (status, _) = body_of(platform.http_as(&stranger).get(url).send().await.unwrap()).await;
    assert_eq!(status, 404, "another traveller's package booking is not found");

    // 45 days ahead: the package policy refunds everything; seats and rooms go back on sale.
    let offered = terms(&platform, &booking_ref).await;
    assert_eq!((offered["policy"].as_str(), offered["refund_bp"].as_i64()), (Some("package_standard"), Some(10_000)));
    let cancelled = cancel(&platform, &booking_ref).await;
    assert_eq!(cancelled["amount_refunded"]["amount"], total, "{cancelled}");
    assert_eq!(seats(&platform, departure).await, (0, 0));
    assert_eq!(stay_nights(&platform, departure).await, rooms_before);
    platform.replay_workflow_history(&format!("booking-{booking_ref}"), "package_booking_confirmed").await.unwrap();
    platform.replay_workflow_history(&format!("cancel-{booking_ref}"), "package_cancellation").await.unwrap();
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_package_refunds_by_its_tiers_to_the_paisa() {
    let platform = TestPlatform::spawn().await.unwrap();
    let operator = operator(&platform).await;
    // 20 days ahead refunds half of the base and of the GST, each rounded half up; 10 days
    // ahead refunds nothing, and the seats and rooms still go back on sale.
    for (days, refund_bp) in [(20, 5_000), (10, 0)] {
        let departure = departure_in(days);
        open_departure(&platform, &operator, departure, 12).await;
        let rooms_before = stay_nights(&platform, departure).await;
        let booking_ref = book_package(&platform, &package_body(departure, 3, "tok_success")).await;
        let confirmed = wait_for(&platform, &booking_ref, &["confirmed", "failed"]).await;
        assert_eq!(confirmed["status"], "confirmed", "{confirmed}");
        let (base, gst, total) = quote(&platform, departure, 3).await;
        let owed = apply_bp(base, refund_bp) + apply_bp(gst, refund_bp);
        let offered = terms(&platform, &booking_ref).await;
        assert_eq!(
            (
                offered["days_before_check_in"].as_i64(),
                offered["refund_bp"].as_i64(),
                offered["refund"]["amount"].as_i64()
            ),
            (Some(days), Some(refund_bp), Some(owed)),
            "{offered}"
        );
        let cancelled = cancel(&platform, &booking_ref).await;
        let refunded = cancelled["amount_refunded"]["amount"].as_i64().unwrap_or(0);
        assert_eq!(refunded, owed, "{cancelled}");
        assert!(owed < total);
        let ledger = platform.gateway_payments(&booking_ref).await.unwrap();
        assert_eq!(ledger.iter().map(|p| p.amount_refunded).sum::<i64>(), owed, "the gateway refunded exactly that");
        assert_eq!(seats(&platform, departure).await, (0, 0));
        assert_eq!(stay_nights(&platform, departure).await, rooms_before);
    }

    // An operator overrides the policy for a package as for a stay: 5 days ahead, where the
    // policy refunds nothing, three quarters, kept in the booking's overrides.
    let departure = departure_in(5);
    open_departure(&platform, &operator, departure, 12).await;
    let booking_ref = book_package(&platform, &package_body(departure, 2, "tok_success")).await;
    let confirmed = wait_for(&platform, &booking_ref, &["confirmed", "failed"]).await;
    assert_eq!(confirmed["status"], "confirmed", "{confirmed}");
    let (base, gst, _) = quote(&platform, departure, 2).await;
    let url = format!("{}/api/bookings/{booking_ref}/cancel", platform.api_url);
    let body = json!({ "refund_bp": 7_500, "override_reason": "the tour bus broke down" });
    let (status, accepted) = body_of(platform.http_as(&operator).post(url).json(&body).send().await.unwrap()).await;
    assert_eq!(status, 202, "{accepted}");
    let cancelled = wait_for(&platform, &booking_ref, &["cancelled"]).await;
    let owed = apply_bp(base, 7_500) + apply_bp(gst, 7_500);
    assert_eq!(cancelled["amount_refunded"]["amount"].as_i64(), Some(owed), "{cancelled}");
    let kept: Vec<(String, String)> = sqlx::query_as(
        "SELECT o.kind, o.reason FROM booking_overrides o JOIN bookings b USING (booking_id) WHERE b.booking_ref = $1",
    )
    .bind(&booking_ref)
    .fetch_all(&platform.booking_db)
    .await
    .unwrap();
    assert_eq!(kept, vec![("cancellation_refund".to_string(), "the tour bus broke down".to_string())]);
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_card_or_a_full_departure_gives_back_every_item() {
    let platform = TestPlatform::spawn().await.unwrap();
    let operator = operator(&platform).await;
    let departure = departure_in(30);
    open_departure(&platform, &operator, departure, 12).await;
    let rooms_before = stay_nights(&platform, departure).await;

    // The card is declined after the seats and both stays were held: all of it is released.
    let declined = book_package(&platform, &package_body(departure, 2, "tok_decline")).await;
    let failed = wait_for(&platform, &declined, &["failed", "confirmed"]).await;
    assert_eq!(
        (failed["status"].as_str(), failed["failure"]["code"].as_str()),
        (Some("failed"), Some("card_declined"))
    );
    assert_eq!(seats(&platform, departure).await, (0, 0));
    assert_eq!(stay_nights(&platform, departure).await, rooms_before);
    let holds: Vec<(String, String)> = sqlx::query_as(
        "SELECT hold_id, status FROM seat_holds WHERE booking_ref = $1
         UNION ALL SELECT hold_id, status FROM inventory_holds WHERE booking_ref = $1 ORDER BY 1",
    )
    .bind(&declined)
    .fetch_all(&platform.inventory_db)
    .await
    .unwrap();
    let workflow = format!("booking-{declined}");
    let expected: Vec<(String, String)> =
        ["/seats", "/stay-1", "/stay-2"].iter().map(|h| (format!("{workflow}{h}"), "released".to_string())).collect();
    assert_eq!(holds, expected, "every item was held, then released");
    let status: String = sqlx::query_scalar("SELECT status FROM bookings WHERE booking_ref = $1")
        .bind(&declined)
        .fetch_one(&platform.booking_db)
        .await
        .unwrap();
    assert_eq!(status, "failed");

    // The second stay's rooms are gone: the seats and the first stay, already held, are
    // given back, and nothing is charged.
    let full = departure_in(31);
    open_departure(&platform, &operator, full, 12).await;
    let matabari = catalog::store::find_offer(&platform.catalog_db, "matabari-pilgrim-guest-house", "standard_double")
        .await
        .unwrap()
        .unwrap();
    let (second_stay, after) = (full + Span::days(2), full + Span::days(4));
    inventory::store::set_allotment(
        &platform.inventory_db,
        matabari.accommodation_id,
        "standard_double",
        second_stay,
        after,
        0,
    )
    .await
    .unwrap();
    let rooms_before = stay_nights(&platform, full).await;
    let sold_out = book_package(&platform, &package_body(full, 2, "tok_success")).await;
    let failed = wait_for(&platform, &sold_out, &["failed", "confirmed"]).await;
    assert_eq!(failed["failure"]["code"], "sold_out", "{failed}");
    assert_eq!(stay_nights(&platform, full).await, rooms_before);
    assert_eq!(seats(&platform, full).await, (0, 0));
    let holds: Vec<(String, String)> = sqlx::query_as(
        "SELECT hold_id, status FROM seat_holds WHERE booking_ref = $1
         UNION ALL SELECT hold_id, status FROM inventory_holds WHERE booking_ref = $1 ORDER BY 1",
    )
    .bind(&sold_out)
    .fetch_all(&platform.inventory_db)
    .await
    .unwrap();
    let placed = format!("booking-{sold_out}");
    assert_eq!(
        holds,
        vec![(format!("{placed}/seats"), "released".into()), (format!("{placed}/stay-1"), "released".into())],
        "the seats and the first stay were held, then released; the second stay kept nothing"
    );
    assert!(platform.gateway_payments(&sold_out).await.unwrap().is_empty(), "nothing was charged");

    // A departure without the seats for the party is refused at once.
    let few = departure_in(32);
    open_departure(&platform, &operator, few, 1).await;
    let (status, refused) = post_package(&platform, &platform.traveller, &package_body(few, 2, "tok_success")).await;
    assert_eq!((status, error_code(&refused)), (422, "not_enough_seats"), "{refused}");
    platform.replay_workflow_history(&workflow, "package_booking_declined").await.unwrap();
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn package_requests_are_checked_before_any_saga_starts() {
    let platform = TestPlatform::spawn().await.unwrap();
    let departure = departure_in(25);
    open_departure(&platform, &operator(&platform).await, departure, 12).await;
    let traveller = platform.traveller.clone();
    let with = |change: &dyn Fn(&mut Value)| {
        let mut body = package_body(departure, 2, "tok_success");
        change(&mut body);
        body
    };
    let cases: Vec<(Value, u16, &str)> = vec![
        (with(&|b| b["departure"] = json!(departure_in(-1))), 422, "departure_in_past"),
        (with(&|b| b["adults"] = json!(0)), 422, "invalid_adults"),
        (with(&|b| b["adults"] = json!(13)), 422, "group_too_large"),
        (with(&|b| b["children"] = json!(1)), 422, "too_few_rooms"),
        (with(&|b| b["rooms"] = json!(3)), 422, "invalid_rooms"),
        (with(&|b| b["payment"] = json!({ "method": "cash" })), 422, "unsupported_payment_method"),
        (with(&|b| b["package"] = json!("no-such-package")), 404, "package_not_found"),
        (with(&|b| b["departure"] = json!(departure_in(200))), 422, "departure_not_on_sale"),
    ];
    for (body, status, code) in cases {
        let (got, answer) = post_package(&platform, &traveller, &body).await;
        assert_eq!((got, error_code(&answer)), (status, code), "{body} → {answer}");
    }
    let asset_manager = platform.user_with_role(auth::roles::ASSET_MANAGER).await.unwrap();
    let (status, _) = post_package(&platform, &asset_manager, &package_body(departure, 2, "tok_success")).await;
    assert_eq!(status, 403, "an asset manager does not book");
    assert!(platform.find_workflows("WorkflowType = 'PackageBookingSaga'").await.is_empty(), "no saga started");
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_books_and_cancels_a_package_as_it_does_a_stay() {
    let platform = TestPlatform::spawn().await.unwrap();
    let operator = operator(&platform).await;
    let departure = departure_in(40);
    open_departure(&platform, &operator, departure, 12).await;
    let admin = platform.http_as(&platform.user_with_role("admin").await.unwrap());
    let base = &platform.api_url;
    let onboard = json!({ "code": "jampui-journeys", "name": "Jampui Journeys", "contact_email": "ops@jampui.in",
                          "commission_bp": 1_000, "rate_limit_per_minute": 600 });
    let (status, partner) =
        body_of(admin.post(format!("{base}/api/partners")).json(&onboard).send().await.unwrap()).await;
    assert_eq!(status, 201, "{partner}");
    let (status, issued) =
        body_of(admin.post(format!("{base}/api/partners/jampui-journeys/keys")).json(&json!({})).send().await.unwrap())
            .await;
    assert_eq!(status, 201, "{issued}");
    let key = issued["key"].as_str().unwrap();

    let post = || {
        platform
            .http
            .post(format!("{base}/api/partners/v1/bookings/packages"))
            .bearer_auth(key)
            .header("Idempotency-Key", "PO-2027-0042")
            .json(&package_body(departure, 2, "tok_success"))
            .send()
    };
    let (status, accepted) = body_of(post().await.unwrap()).await;
    assert_eq!(status, 202, "{accepted}");
    let booking_ref = accepted["booking_ref"].as_str().unwrap().to_string();
    let (status, again) = body_of(post().await.unwrap()).await;
    assert_eq!((status, again["booking_ref"].as_str()), (202, Some(booking_ref.as_str())), "same key, same booking");
    let status_url = format!("/api/partners/v1/bookings/packages/{booking_ref}");
    assert_eq!(accepted["status_url"], status_url.as_str());

    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    let view = loop {
        let (status, view) =
            body_of(platform.http.get(format!("{base}{status_url}?wait=10")).bearer_auth(key).send().await.unwrap())
                .await;
        assert_eq!(status, 200, "{view}");
        if view["status"] == "confirmed" {
            break view;
        }
        assert!(tokio::time::Instant::now() < deadline, "{view}");
    };
    assert_eq!(view["status_url"], status_url.as_str());
    let listed = json_of(platform.http.get(format!("{base}/api/partners/v1/bookings/packages")).bearer_auth(key)).await;
    assert_eq!(listed["items"][0]["booking_ref"], booking_ref.as_str(), "{listed}");
    let partner_id: Uuid = partner["partner_id"].as_str().unwrap().parse().unwrap();
    let (channel, recorded_partner): (String, Option<Uuid>) =
        sqlx::query_as("SELECT channel, partner_id FROM bookings WHERE booking_ref = $1")
            .bind(&booking_ref)
            .fetch_one(&platform.booking_db)
            .await
            .unwrap();
    assert_eq!((channel.as_str(), recorded_partner), ("partner", Some(partner_id)));

    let url = format!("{base}/api/partners/v1/bookings/{booking_ref}/cancel");
    let (status, cancelling) =
        body_of(platform.http.post(url).bearer_auth(key).json(&json!({})).send().await.unwrap()).await;
    assert_eq!((status, cancelling["status_url"].as_str()), (202, Some(status_url.as_str())), "{cancelling}");
    wait_for_partner_cancelled(&platform, key, &status_url).await;
    assert_eq!(seats(&platform, departure).await, (0, 0));
    platform.stop().await.unwrap();
}

async fn wait_for_partner_cancelled(platform: &TestPlatform, key: &str, status_url: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let url = format!("{}{status_url}", platform.api_url);
        let (_, view) = body_of(platform.http.get(url).bearer_auth(key).send().await.unwrap()).await;
        if view["status"] == "cancelled" {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "never cancelled: {view}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The inventory worker as its own process, killed when dropped.
struct InventoryWorker(Child);

impl InventoryWorker {
    fn start(platform: &TestPlatform) -> Self {
        InventoryWorker(
            std::process::Command::new(workspace_binary("inventory-worker"))
                .envs(platform.worker_process_env())
                .env("RUST_LOG", "warn")
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap(),
        )
    }

    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for InventoryWorker {
    fn drop(&mut self) {
        self.kill();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inventory_worker_killed_between_the_seat_hold_and_the_room_holds_leaves_nothing_half_held() {
    let options = TestPlatformOptions::with_workers(&[WorkerContext::Booking, WorkerContext::Payment]);
    let platform = TestPlatform::spawn_with(options).await.unwrap();
    let operator = operator(&platform).await;
    let mut caught_between = 0;
    for attempt in 0..3 {
        let departure = departure_in(35 + attempt);
        open_departure(&platform, &operator, departure, 12).await;
        let rooms_before = stay_nights(&platform, departure).await;
        let mut worker = InventoryWorker::start(&platform);
        let booking_ref = book_package(&platform, &package_body(departure, 2, "tok_success")).await;
        let workflow = format!("booking-{booking_ref}");
        // Kill the worker the moment the seats are held.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while seats(&platform, departure).await.0 == 0 {
            assert!(tokio::time::Instant::now() < deadline, "the seats were never held");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        worker.kill();
        let rooms_held: i64 = sqlx::query_scalar("SELECT count(*) FROM inventory_holds WHERE booking_ref = $1")
            .bind(&booking_ref)
            .fetch_one(&platform.inventory_db)
            .await
            .unwrap();
        if rooms_held == 0 {
            caught_between += 1;
        }
        // While no inventory worker runs the saga waits with the seats held and no room held.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let (_, view) = body_of(
            platform
                .http_as(&platform.traveller)
                .get(format!("{}/api/bookings/packages/{booking_ref}", platform.api_url))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert!(matches!(view["status"].as_str(), Some("pending" | "held")), "{view}");

        // A new worker picks the saga up where it stopped: everything booked, once.
        let _worker = InventoryWorker::start(&platform);
        let ended = wait_for(&platform, &booking_ref, &["confirmed", "failed"]).await;
        assert_eq!(ended["status"], "confirmed", "{ended}");
        assert_eq!(seats(&platform, departure).await, (0, 2));
        let booked: Vec<(NaiveDate, i32, i32)> = rooms_before.iter().map(|&(n, h, b)| (n, h, b + 1)).collect();
        assert_eq!(stay_nights(&platform, departure).await, booked, "each night booked once");
        platform.replay_workflow_history(&workflow, "package_booking_after_crash").await.unwrap();
        if caught_between > 0 {
            break;
        }
    }
    assert!(caught_between > 0, "the worker was never killed between the holds; the test proved nothing");
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_package_saga_stopped_at_its_checkout_is_found_by_the_repair_sweep_and_gives_every_item_back() {
    use temporalio_client::{WorkflowGetResultOptions, WorkflowTerminateOptions};
    let platform = TestPlatform::spawn().await.unwrap();
    let operator = operator(&platform).await;
    let departure = departure_in(50);
    open_departure(&platform, &operator, departure, 12).await;
    let rooms_before = stay_nights(&platform, departure).await;
    let mut body = package_body(departure, 2, "tok_unused");
    body["payment"] = json!({ "method": "checkout" });
    let booking_ref = book_package(&platform, &body).await;
    let waiting = wait_for(&platform, &booking_ref, &["awaiting_payment"]).await;
    assert_eq!(seats(&platform, departure).await, (2, 0), "{waiting}");
    assert_ne!(stay_nights(&platform, departure).await, rooms_before, "the included stays are held");

    // Terminated, as an operator should not: nothing compensates, until the sweep's repair.
    let saga_id = format!("booking-{booking_ref}");
    let saga = platform.client.get_workflow_handle::<sagas::PackageBookingWorkflow>(saga_id.clone());
    saga.terminate(WorkflowTerminateOptions::builder().reason("stopped by a test".to_string()).build()).await.unwrap();
    let query = format!("WorkflowId = '{saga_id}' AND ExecutionStatus = 'Terminated'");
    tests::eventually("the termination in visibility", async || {
        if platform.find_workflows(&query).await.is_empty() { Err("not yet") } else { Ok(()) }
    })
    .await;
    platform.trigger_schedule(contracts::temporal::REPAIR_SWEEP_SCHEDULE_ID).await;
    let repair_id = format!("repair-{booking_ref}");
    let repair = platform.client.get_workflow_handle::<sagas::RepairBookingWorkflow>(repair_id.clone());
    let report = tests::eventually("the repair to finish", async || {
        repair.get_result(WorkflowGetResultOptions::default()).await.map_err(|e| e.to_string())
    })
    .await;
    assert_eq!(report.outcome, contracts::saga::RepairOutcome::Compensated, "{report:?}");

    // Every item is back on sale and the record says why.
    assert_eq!(seats(&platform, departure).await, (0, 0));
    assert_eq!(stay_nights(&platform, departure).await, rooms_before);
    let (status, failure): (String, Option<String>) =
        sqlx::query_as("SELECT status, failure_code FROM bookings WHERE booking_ref = $1")
            .bind(&booking_ref)
            .fetch_one(&platform.booking_db)
            .await
            .unwrap();
    assert_eq!((status.as_str(), failure.as_deref()), ("failed", Some("saga_stopped")));
    platform.replay_workflow_history(&repair_id, "repair_package_compensated").await.unwrap();
    platform.stop().await.unwrap();
}
