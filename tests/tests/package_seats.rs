//! Seats on package departures against the real database: never oversold under a race,
//! idempotent by hold id, the same life cycle as room holds (confirm, unbook, release,
//! expiry), and searches that see what a party could still hold.

use chrono::{DateTime, Duration as Days, NaiveDate, Utc};
use contracts::{BookingRef, StayDates, activities::HoldRequest, activities::SeatHoldRequest};
use inventory::store::{self, ConfirmOutcome, Departure, DepartureChange, HoldOutcome, SeatHoldOutcome};
use sqlx::PgPool;
use std::collections::{BTreeMap, BTreeSet};
use tests::{DatabaseLayout, TestDatabase, demo_room};
use uuid::Uuid;

/// A fresh database, and a pool wide enough for parties to really race on one row.
struct Seats {
    db: TestDatabase,
    pool: PgPool,
    today: NaiveDate,
}

impl Seats {
    async fn create() -> Self {
        let db = TestDatabase::create(1).await.unwrap();
        let pool = platform::db::context_pool(&db.url, inventory::SCHEMA, 24).unwrap();
        Seats { db, pool, today: contracts::india::today() }
    }

    /// A date `days_ahead` days from the day the test started. Far enough out that the demo
    /// data (120 days of rooms) never shares it.
    fn day(&self, days_ahead: i64) -> NaiveDate {
        self.today + Days::days(400 + days_ahead)
    }

    /// A new package with one departure of `seats` seats on `day(days_ahead)`.
    async fn departure(&self, days_ahead: i64, seats: i32) -> Uuid {
        let package = Uuid::new_v4();
        self.set(package, days_ahead, seats).await;
        package
    }

    async fn set(&self, package: Uuid, days_ahead: i64, seats: i32) {
        let change = store::set_departure(&self.pool, package, self.day(days_ahead), seats).await.unwrap();
        assert!(matches!(change, DepartureChange::Applied { .. }), "{change:?}");
    }

    async fn hold(
        &self,
        id: &str,
        package: Uuid,
        days_ahead: i64,
        seats: u32,
        expires_at: DateTime<Utc>,
    ) -> SeatHoldOutcome {
        store::hold_seats(&self.pool, &request(id, package, self.day(days_ahead), seats), expires_at).await.unwrap()
    }

    /// The departure's counters as stored (expired holds still counted until released).
    async fn raw(&self, package: Uuid, days_ahead: i64) -> (i32, i32, i32) {
        sqlx::query_as(
            "SELECT seats_allotted, seats_held, seats_sold FROM package_availability
             WHERE package_id = $1 AND departure_date = $2",
        )
        .bind(package)
        .bind(self.day(days_ahead))
        .fetch_one(&self.pool)
        .await
        .unwrap()
    }

    /// The departure as operators and searches see it.
    async fn seen(&self, package: Uuid, days_ahead: i64) -> Departure {
        let day = self.day(days_ahead);
        let mut found = store::departures(&self.pool, package, day, day).await.unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        found.remove(0)
    }

    async fn status(&self, id: &str) -> Option<String> {
        sqlx::query_scalar("SELECT status FROM seat_holds WHERE hold_id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .unwrap()
    }
}

fn request(id: &str, package: Uuid, departure: NaiveDate, seats: u32) -> SeatHoldRequest {
    SeatHoldRequest {
        hold_id: id.to_string(),
        booking_ref: BookingRef::from_random(11),
        package_id: package,
        departure,
        seats,
    }
}

/// A seat hold id as the package saga derives it: `booking-TRP-XXXXXX/seats`.
fn seat_hold_id(n: u64) -> String {
    format!("{}/seats", BookingRef::from_random(n).workflow_id())
}

fn live() -> DateTime<Utc> {
    Utc::now() + Days::minutes(15)
}

fn expired() -> DateTime<Utc> {
    Utc::now() - Days::minutes(1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_parties_racing_for_the_last_twelve_seats_hold_exactly_twelve() {
    let seats = Seats::create().await;
    // Several rounds, each on a departure of its own, so several interleavings are tried.
    for round in 0..4i64 {
        // 30 seats, 18 of them sold already: the parties race for the last 12.
        let package = seats.departure(round, 30).await;
        let sold = seat_hold_id(1_000 + u64::try_from(round).unwrap());
        assert_eq!(seats.hold(&sold, package, round, 18, live()).await, SeatHoldOutcome::Placed);
        assert_eq!(store::confirm_hold(&seats.pool, &sold).await.unwrap(), ConfirmOutcome::Confirmed);

        // Parties of 1 to 4 travellers (25 of each size, 250 seats asked); every tenth
        // party's hold is also retried at once, as a redelivered activity would be.
        let size = |i: u64| u32::try_from((i + u64::try_from(round).unwrap()) % 4 + 1).unwrap();
        let id = |i: u64| seat_hold_id(10_000 * (u64::try_from(round).unwrap() + 1) + i);
        let attempts = (0..100u64).flat_map(|i| if i % 10 == 0 { vec![i, i] } else { vec![i] }).map(|i| {
            let pool = seats.pool.clone();
            let request = request(&id(i), package, seats.day(round), size(i));
            tokio::spawn(async move { (i, store::hold_seats(&pool, &request, live()).await.unwrap()) })
        });
        let answers: Vec<(u64, SeatHoldOutcome)> =
            futures::future::join_all(attempts).await.into_iter().map(|r| r.unwrap()).collect();

        let mut by_party: BTreeMap<u64, Vec<SeatHoldOutcome>> = BTreeMap::new();
        for (i, answer) in answers {
            by_party.entry(i).or_default().push(answer);
        }
        let mut placed = BTreeSet::new();
        let mut smallest_refused = u32::MAX;
        for (i, answers) in &by_party {
            let got_placed = answers.iter().filter(|a| **a == SeatHoldOutcome::Placed).count();
            assert!(got_placed <= 1, "party {i} placed twice: {answers:?}");
            if got_placed == 1 {
                // Its retry found the hold, never took seats again.
                assert!(
                    answers.iter().all(|a| matches!(a, SeatHoldOutcome::Placed | SeatHoldOutcome::AlreadyPlaced)),
                    "party {i}: {answers:?}"
                );
                placed.insert(*i);
            } else {
                for answer in answers {
                    let SeatHoldOutcome::SoldOut { seats_left } = answer else {
                        panic!("party {i} was neither placed nor refused: {answers:?}");
                    };
                    // Refused only for want of seats.
                    assert!(*seats_left < i32::try_from(size(*i)).unwrap(), "party {i}: {answers:?}");
                }
                smallest_refused = smallest_refused.min(size(*i));
            }
        }

        let placed_seats: i32 = placed.iter().map(|i| i32::try_from(size(*i)).unwrap()).sum();
        let (allotted, held, sold) = seats.raw(package, round).await;
        assert_eq!((allotted, sold), (30, 18));
        assert_eq!(held, placed_seats, "the counter is exactly the parties placed");
        assert!(held <= 12, "oversold: {held} seats held of the last 12");
        // Seats only went, never came back: a refused party found fewer seats than it asked,
        // and so does the last one. Parties of one were refused (there are 25 of them), so
        // every one of the 12 seats was taken.
        let left = 12 - held;
        assert!(
            left < i32::try_from(smallest_refused).unwrap(),
            "{left} seats left, a party of {smallest_refused} refused"
        );
        assert_eq!(smallest_refused, 1);
        assert_eq!(left, 0);
        // One live hold row per placed party, none for the refused ones.
        let rows: Vec<(String, i32)> = sqlx::query_as(
            "SELECT hold_id, seats FROM seat_holds WHERE package_id = $1 AND status = 'held' ORDER BY hold_id",
        )
        .bind(package)
        .fetch_all(&seats.pool)
        .await
        .unwrap();
        let mut expected: Vec<(String, i32)> =
            placed.iter().map(|i| (id(*i), i32::try_from(size(*i)).unwrap())).collect();
        expected.sort();
        assert_eq!(rows, expected);
        assert_eq!(seats.seen(package, round).await.seats_left(), 0);
    }
    seats.db.drop_database().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seat_hold_is_idempotent_and_goes_held_sold_on_sale_like_a_room_hold() {
    let seats = Seats::create().await;
    let package = seats.departure(0, 10).await;
    let a = seat_hold_id(1);

    // The same hold twice is one hold, with the first attempt's expiry.
    let first_expiry = live();
    assert_eq!(seats.hold(&a, package, 0, 3, first_expiry).await, SeatHoldOutcome::Placed);
    assert_eq!(seats.hold(&a, package, 0, 3, live() + Days::minutes(5)).await, SeatHoldOutcome::AlreadyPlaced);
    assert_eq!(seats.raw(package, 0).await, (10, 3, 0));
    let on_record = store::hold_expiry(&seats.pool, &a).await.unwrap().unwrap();
    assert_eq!(on_record.timestamp_micros(), first_expiry.timestamp_micros());
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM seat_holds WHERE hold_id = $1")
        .bind(&a)
        .fetch_one(&seats.pool)
        .await
        .unwrap();
    assert_eq!(rows, 1);

    // Confirmed: held → sold, once.
    assert_eq!(store::confirm_hold(&seats.pool, &a).await.unwrap(), ConfirmOutcome::Confirmed);
    assert_eq!(seats.raw(package, 0).await, (10, 0, 3));
    assert_eq!(store::confirm_hold(&seats.pool, &a).await.unwrap(), ConfirmOutcome::AlreadyConfirmed);
    assert_eq!(seats.raw(package, 0).await, (10, 0, 3));
    // Releasing a confirmed hold does nothing: only unbooking gives sold seats back.
    assert!(!store::release_hold(&seats.pool, &a).await.unwrap());
    assert_eq!(seats.raw(package, 0).await, (10, 0, 3));
    assert_eq!(seats.status(&a).await.as_deref(), Some("confirmed"));
    assert_eq!(seats.seen(package, 0).await.seats_left(), 7);

    // Unbooked: the seats are on sale again, once.
    assert!(store::unbook_hold(&seats.pool, &a).await.unwrap());
    assert_eq!(seats.raw(package, 0).await, (10, 0, 0));
    assert!(!store::unbook_hold(&seats.pool, &a).await.unwrap());
    assert_eq!(seats.raw(package, 0).await, (10, 0, 0));
    assert_eq!(seats.seen(package, 0).await.seats_left(), 10);
    // Its id is spent: a late retry takes nothing.
    assert_eq!(seats.hold(&a, package, 0, 3, live()).await, SeatHoldOutcome::Released);
    assert_eq!(seats.raw(package, 0).await, (10, 0, 0));

    // Released: held → on sale, once, and the id is spent.
    let b = seat_hold_id(2);
    assert_eq!(seats.hold(&b, package, 0, 4, live()).await, SeatHoldOutcome::Placed);
    assert_eq!(seats.raw(package, 0).await, (10, 4, 0));
    assert!(store::release_hold(&seats.pool, &b).await.unwrap());
    assert_eq!(seats.raw(package, 0).await, (10, 0, 0));
    assert!(!store::release_hold(&seats.pool, &b).await.unwrap());
    assert_eq!(seats.raw(package, 0).await, (10, 0, 0));
    assert_eq!(seats.hold(&b, package, 0, 4, live()).await, SeatHoldOutcome::Released);
    assert_eq!(store::confirm_hold(&seats.pool, &b).await.unwrap(), ConfirmOutcome::NotHeld);
    assert!(!store::unbook_hold(&seats.pool, &b).await.unwrap());
    assert_eq!(seats.raw(package, 0).await, (10, 0, 0));

    // Ids nobody placed.
    let never = seat_hold_id(3);
    assert_eq!(store::confirm_hold(&seats.pool, &never).await.unwrap(), ConfirmOutcome::NotHeld);
    assert!(!store::release_hold(&seats.pool, &never).await.unwrap());
    assert!(!store::unbook_hold(&seats.pool, &never).await.unwrap());
    assert_eq!(store::hold_expiry(&seats.pool, &never).await.unwrap(), None);

    // A party larger than what is left is refused whole, and told what is left.
    let c = seat_hold_id(4);
    assert_eq!(seats.hold(&c, package, 0, 8, live()).await, SeatHoldOutcome::Placed);
    assert_eq!(seats.hold(&seat_hold_id(5), package, 0, 3, live()).await, SeatHoldOutcome::SoldOut { seats_left: 2 });
    assert_eq!(seats.raw(package, 0).await, (10, 8, 0));
    assert_eq!(seats.status(&seat_hold_id(5)).await, None, "a refused hold keeps no row");
    seats.db.drop_database().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_seat_holds_stop_counting_and_the_sweep_gives_their_seats_back() {
    let seats = Seats::create().await;
    let package = seats.departure(0, 8).await;

    // An expired hold still counts in the stored counter until released, but not for
    // readers: the departure is not full for a search.
    let gone = seat_hold_id(1);
    assert_eq!(seats.hold(&gone, package, 0, 6, expired()).await, SeatHoldOutcome::Placed);
    assert_eq!(seats.raw(package, 0).await, (8, 6, 0));
    let seen = seats.seen(package, 0).await;
    assert_eq!((seen.seats_held, seen.seats_left()), (0, 8));
    let day = seats.day(0);
    assert!(store::packages_departing(&seats.pool, day, day, 8).await.unwrap().contains(&package));
    // A retry of it finds it spent, and releases it on the way.
    assert_eq!(seats.hold(&gone, package, 0, 6, live()).await, SeatHoldOutcome::Released);
    assert_eq!(seats.raw(package, 0).await, (8, 0, 0));
    assert_eq!(seats.status(&gone).await.as_deref(), Some("released"));

    // Another party's hold releases an expired one on its departure before counting.
    let stale = seat_hold_id(2);
    assert_eq!(seats.hold(&stale, package, 0, 5, expired()).await, SeatHoldOutcome::Placed);
    let fresh = seat_hold_id(3);
    assert_eq!(seats.hold(&fresh, package, 0, 8, live()).await, SeatHoldOutcome::Placed);
    assert_eq!(seats.raw(package, 0).await, (8, 8, 0));
    assert_eq!(seats.status(&stale).await.as_deref(), Some("released"));
    assert!(!store::release_hold(&seats.pool, &stale).await.unwrap());
    assert_eq!(seats.raw(package, 0).await, (8, 8, 0));

    // The sweep releases expired holds of both kinds, and counts both.
    // (Two departures: a hold on one departure releases the expired holds of that departure.)
    let (other, third) = (seats.departure(1, 4).await, seats.departure(2, 4).await);
    let (s1, s2) = (seat_hold_id(4), seat_hold_id(5));
    assert_eq!(seats.hold(&s1, other, 1, 1, expired()).await, SeatHoldOutcome::Placed);
    assert_eq!(seats.hold(&s2, third, 2, 2, expired()).await, SeatHoldOutcome::Placed);
    assert_eq!((seats.raw(other, 1).await, seats.raw(third, 2).await), ((4, 1, 0), (4, 2, 0)));
    let room_hold = expired_room_hold(&seats, 6, expired()).await;
    assert_eq!(store::release_expired_holds(&seats.pool, 100).await.unwrap(), 3);
    assert_eq!((seats.raw(other, 1).await, seats.raw(third, 2).await), ((4, 0, 0), (4, 0, 0)));
    assert_eq!(seats.status(&s1).await.as_deref(), Some("released"));
    assert_eq!(seats.status(&s2).await.as_deref(), Some("released"));
    let room_status: String = sqlx::query_scalar("SELECT status FROM inventory_holds WHERE hold_id = $1")
        .bind(&room_hold.hold_id)
        .fetch_one(&seats.pool)
        .await
        .unwrap();
    assert_eq!(room_status, "released");
    // Nothing left to sweep; the live hold was never touched.
    assert_eq!(store::release_expired_holds(&seats.pool, 100).await.unwrap(), 0);
    assert_eq!(seats.raw(package, 0).await, (8, 8, 0));
    assert_eq!(seats.status(&fresh).await.as_deref(), Some("held"));
    seats.db.drop_database().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_takes_its_limit_across_rooms_and_seats_oldest_first() {
    let seats = Seats::create().await;
    // Three expired seat holds, each on a departure of its own (a hold releases the expired
    // holds of its departure), expired 30, 20 and 10 minutes ago, and a room hold expired
    // 25 minutes ago.
    let mut departures = Vec::new();
    for (n, minutes) in [(1, 30), (2, 20), (3, 10)] {
        let package = seats.departure(n, 10).await;
        let expired_at = Utc::now() - Days::minutes(minutes);
        assert_eq!(
            seats.hold(&seat_hold_id(n.unsigned_abs()), package, n, 1, expired_at).await,
            SeatHoldOutcome::Placed
        );
        departures.push((package, n));
    }
    let room_hold = expired_room_hold(&seats, 7, Utc::now() - Days::minutes(25)).await;
    let room_status = || async {
        sqlx::query_scalar::<_, String>("SELECT status FROM inventory_holds WHERE hold_id = $1")
            .bind(&room_hold.hold_id)
            .fetch_one(&seats.pool)
            .await
            .unwrap()
    };

    // The two oldest, whatever their kind.
    assert_eq!(store::release_expired_holds(&seats.pool, 2).await.unwrap(), 2);
    assert_eq!(seats.status(&seat_hold_id(1)).await.as_deref(), Some("released"));
    assert_eq!(room_status().await, "released");
    assert_eq!(seats.status(&seat_hold_id(2)).await.as_deref(), Some("held"));
    assert_eq!(seats.status(&seat_hold_id(3)).await.as_deref(), Some("held"));
    let held: Vec<i32> = futures::future::join_all(departures.iter().map(|(p, n)| seats.raw(*p, *n)))
        .await
        .into_iter()
        .map(|(_, held, _)| held)
        .collect();
    assert_eq!(held, [0, 1, 1]);
    assert_eq!(store::release_expired_holds(&seats.pool, 2).await.unwrap(), 2);
    assert_eq!(store::release_expired_holds(&seats.pool, 2).await.unwrap(), 0);
    let held: Vec<i32> = futures::future::join_all(departures.iter().map(|(p, n)| seats.raw(*p, *n)))
        .await
        .into_iter()
        .map(|(_, held, _)| held)
        .collect();
    assert_eq!(held, [0, 0, 0]);
    seats.db.drop_database().await.unwrap();
}

/// A room hold on the demo room, placed already expired at `expires_at`.
async fn expired_room_hold(seats: &Seats, n: u64, expires_at: DateTime<Utc>) -> HoldRequest {
    let (accommodation, room_type) = demo_room();
    let offer = catalog::store::find_offer(&seats.db.catalog, accommodation, room_type).await.unwrap().unwrap();
    // A night of its own per hold, so one hold does not release another on its way.
    let check_in = contracts::india::today() + Days::days(10 + i64::try_from(n).unwrap());
    let request = HoldRequest {
        hold_id: format!("{}/hold", BookingRef::from_random(n).workflow_id()),
        booking_ref: BookingRef::from_random(n),
        accommodation_id: offer.accommodation_id,
        room_type: room_type.to_string(),
        dates: StayDates { check_in, check_out: check_in + Days::days(1) },
        rooms: 1,
    };
    assert_eq!(store::hold_rooms(&seats.pool, &request, expires_at).await.unwrap(), HoldOutcome::Placed);
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_sell_and_missing_departures_refuse_holds_and_keep_what_is_held() {
    let seats = Seats::create().await;
    let package = seats.departure(0, 6).await;
    let held = seat_hold_id(1);
    assert_eq!(seats.hold(&held, package, 0, 2, live()).await, SeatHoldOutcome::Placed);

    assert!(store::set_departure_stop_sell(&seats.pool, package, seats.day(0), true).await.unwrap());
    assert_eq!(seats.hold(&seat_hold_id(2), package, 0, 1, live()).await, SeatHoldOutcome::SoldOut { seats_left: 0 });
    assert_eq!(seats.status(&seat_hold_id(2)).await, None);
    let seen = seats.seen(package, 0).await;
    assert!(seen.stop_sell);
    assert_eq!((seen.seats_held, seen.seats_left()), (2, 0));
    let day = seats.day(0);
    assert!(!store::packages_departing(&seats.pool, day, day, 1).await.unwrap().contains(&package));
    // What was held before stays held, and can still be sold.
    assert_eq!(store::confirm_hold(&seats.pool, &held).await.unwrap(), ConfirmOutcome::Confirmed);
    assert_eq!(seats.raw(package, 0).await, (6, 0, 2));

    // Back on sale.
    assert!(store::set_departure_stop_sell(&seats.pool, package, seats.day(0), false).await.unwrap());
    assert_eq!(seats.hold(&seat_hold_id(2), package, 0, 4, live()).await, SeatHoldOutcome::Placed);
    assert_eq!(seats.raw(package, 0).await, (6, 4, 2));

    // A date without a departure has nothing to sell.
    assert_eq!(seats.hold(&seat_hold_id(3), package, 5, 1, live()).await, SeatHoldOutcome::SoldOut { seats_left: 0 });
    assert_eq!(seats.status(&seat_hold_id(3)).await, None);
    assert!(!store::set_departure_stop_sell(&seats.pool, package, seats.day(5), true).await.unwrap());
    assert_eq!(store::departures(&seats.pool, package, seats.day(5), seats.day(5)).await.unwrap(), vec![]);
    seats.db.drop_database().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_departure_never_shrinks_below_what_is_held_and_sold() {
    let seats = Seats::create().await;
    let package = seats.departure(0, 10).await;
    let (sold, held) = (seat_hold_id(1), seat_hold_id(2));
    assert_eq!(seats.hold(&sold, package, 0, 3, live()).await, SeatHoldOutcome::Placed);
    assert_eq!(store::confirm_hold(&seats.pool, &sold).await.unwrap(), ConfirmOutcome::Confirmed);
    assert_eq!(seats.hold(&held, package, 0, 4, live()).await, SeatHoldOutcome::Placed);

    let change = store::set_departure(&seats.pool, package, seats.day(0), 6).await.unwrap();
    assert_eq!(change, DepartureChange::BelowCommitments { committed: 7 });
    assert_eq!(seats.raw(package, 0).await, (10, 4, 3), "nothing changed");

    // Down to exactly what is committed: nothing left to sell.
    let change = store::set_departure(&seats.pool, package, seats.day(0), 7).await.unwrap();
    let DepartureChange::Applied { departure } = change else { panic!("{change:?}") };
    assert_eq!(
        departure,
        Departure { departure_date: seats.day(0), seats_allotted: 7, seats_held: 4, seats_sold: 3, stop_sell: false }
    );
    assert_eq!(departure.seats_left(), 0);
    assert_eq!(seats.hold(&seat_hold_id(3), package, 0, 1, live()).await, SeatHoldOutcome::SoldOut { seats_left: 0 });
    // Up again: the new seats are for sale.
    seats.set(package, 0, 9).await;
    assert_eq!(seats.seen(package, 0).await.seats_left(), 2);
    assert_eq!(seats.hold(&seat_hold_id(3), package, 0, 2, live()).await, SeatHoldOutcome::Placed);
    // A negative allotment is below any commitment; on a new departure the database
    // refuses it outright.
    let change = store::set_departure(&seats.pool, package, seats.day(0), -1).await.unwrap();
    assert_eq!(change, DepartureChange::BelowCommitments { committed: 9 });
    assert_eq!(seats.raw(package, 0).await, (9, 6, 3));
    let refused = store::set_departure(&seats.pool, package, seats.day(1), -1).await.unwrap_err();
    // (A CHECK violation: -1 breaks the non-negative allotment and the no-overbooking rules.)
    let code = refused.as_database_error().and_then(|e| e.code()).map(|c| c.to_string());
    assert_eq!(code.as_deref(), Some("23514"), "{refused}");
    assert_eq!(store::departures(&seats.pool, package, seats.day(1), seats.day(1)).await.unwrap(), vec![]);
    seats.db.drop_database().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn packages_departing_filters_by_dates_and_seats_left() {
    let seats = Seats::create().await;
    // p1 departs on days 5, 10 and 40 with 5 seats each.
    let p1 = seats.departure(10, 5).await;
    seats.set(p1, 5, 5).await;
    seats.set(p1, 40, 5).await;
    // p2: day 20, 2 seats.
    let p2 = seats.departure(20, 2).await;
    // p3: day 10, 10 seats, stop sell.
    let p3 = seats.departure(10, 10).await;
    assert!(store::set_departure_stop_sell(&seats.pool, p3, seats.day(10), true).await.unwrap());
    // p4: day 30, 10 seats of which 8 held.
    let p4 = seats.departure(30, 10).await;
    assert_eq!(seats.hold(&seat_hold_id(1), p4, 30, 8, live()).await, SeatHoldOutcome::Placed);
    // p5: day 15, 5 seats all held by a hold that has expired (not yet swept).
    let p5 = seats.departure(15, 5).await;
    assert_eq!(seats.hold(&seat_hold_id(2), p5, 15, 5, expired()).await, SeatHoldOutcome::Placed);
    // p6: day 12, 4 seats all sold.
    let p6 = seats.departure(12, 4).await;
    assert_eq!(seats.hold(&seat_hold_id(3), p6, 12, 4, live()).await, SeatHoldOutcome::Placed);
    assert_eq!(store::confirm_hold(&seats.pool, &seat_hold_id(3)).await.unwrap(), ConfirmOutcome::Confirmed);

    let mine = [p1, p2, p3, p4, p5, p6];
    let departing = |from: i64, to: i64, min_seats: u32| {
        let (pool, from, to) = (seats.pool.clone(), seats.day(from), seats.day(to));
        async move {
            let found = store::packages_departing(&pool, from, to, min_seats).await.unwrap();
            let found: BTreeSet<Uuid> = found.into_iter().filter(|p| mine.contains(p)).collect();
            found
        }
    };
    let set = |ids: &[Uuid]| ids.iter().copied().collect::<BTreeSet<Uuid>>();

    // Both ends of the range are included.
    assert_eq!(departing(10, 20, 3).await, set(&[p1, p5]));
    assert_eq!(departing(10, 20, 2).await, set(&[p1, p2, p5]));
    assert_eq!(departing(10, 20, 1).await, set(&[p1, p2, p5]));
    assert_eq!(departing(10, 20, 6).await, set(&[]));
    assert_eq!(departing(11, 19, 1).await, set(&[p5]));
    assert_eq!(departing(16, 19, 1).await, set(&[]));
    assert_eq!(departing(20, 30, 2).await, set(&[p2, p4]));
    assert_eq!(departing(20, 30, 3).await, set(&[]));
    assert_eq!(departing(21, 30, 2).await, set(&[p4]));
    assert_eq!(departing(0, 50, 5).await, set(&[p1, p5]));
    assert_eq!(departing(41, 50, 1).await, set(&[]));
    // One package is listed once, however many departures it has in range.
    let day = |d| seats.day(d);
    let listed = store::packages_departing(&seats.pool, day(0), day(50), 5).await.unwrap();
    assert_eq!(listed.iter().filter(|p| **p == p1).count(), 1);

    // A package's departures in a range, by date, both ends included.
    let found: Vec<(NaiveDate, i32)> = store::departures(&seats.pool, p1, day(5), day(10))
        .await
        .unwrap()
        .iter()
        .map(|d| (d.departure_date, d.seats_left()))
        .collect();
    assert_eq!(found, vec![(day(5), 5), (day(10), 5)]);
    let found: Vec<NaiveDate> =
        store::departures(&seats.pool, p1, day(6), day(50)).await.unwrap().iter().map(|d| d.departure_date).collect();
    assert_eq!(found, vec![day(10), day(40)]);

    // Selling the seats of p1 on day 10 leaves it only its day-5 and day-40 departures.
    assert_eq!(seats.hold(&seat_hold_id(4), p1, 10, 5, live()).await, SeatHoldOutcome::Placed);
    assert_eq!(departing(10, 20, 1).await, set(&[p2, p5]));
    assert_eq!(departing(5, 20, 1).await, set(&[p1, p2, p5]));
    seats.db.drop_database().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inventory_role_runs_departures_and_seat_holds_on_its_own_grants_and_no_other_role_can() {
    // Each context as its own login role, as in production: the new tables and function
    // must be usable by the inventory role (the worker's and the API's) with no grant beyond
    // what `migrate` gives every table of its schema.
    let layout = DatabaseLayout { separate_databases: false, context_roles: true };
    let db = TestDatabase::create_with(1, layout).await.unwrap();
    let as_inventory = platform::db::context_pool(&db.context_url(inventory::SCHEMA), inventory::SCHEMA, 2).unwrap();
    let role: String = sqlx::query_scalar("SELECT current_user::text").fetch_one(&as_inventory).await.unwrap();
    assert!(role.ends_with("_inventory"), "connected as {role}");

    let package = Uuid::new_v4();
    let day = contracts::india::today() + Days::days(400);
    let change = store::set_departure(&as_inventory, package, day, 5).await.unwrap();
    assert!(matches!(change, DepartureChange::Applied { .. }), "{change:?}");
    assert!(store::set_departure_stop_sell(&as_inventory, package, day, false).await.unwrap());
    let (sold, gone, expiring) = (seat_hold_id(1), seat_hold_id(2), seat_hold_id(3));
    for (id, seats) in [(&sold, 2), (&gone, 1)] {
        let outcome = store::hold_seats(&as_inventory, &request(id, package, day, seats), live()).await.unwrap();
        assert_eq!(outcome, SeatHoldOutcome::Placed);
    }
    let outcome = store::hold_seats(&as_inventory, &request(&expiring, package, day, 1), expired()).await.unwrap();
    assert_eq!(outcome, SeatHoldOutcome::Placed);
    assert_eq!(store::confirm_hold(&as_inventory, &sold).await.unwrap(), ConfirmOutcome::Confirmed);
    assert!(store::release_hold(&as_inventory, &gone).await.unwrap());
    assert_eq!(store::release_expired_holds(&as_inventory, 10).await.unwrap(), 1);
    assert!(store::hold_expiry(&as_inventory, &sold).await.unwrap().is_some());
    let found = store::departures(&as_inventory, package, day, day).await.unwrap();
    assert_eq!((found[0].seats_held, found[0].seats_sold, found[0].seats_left()), (0, 2, 3));
    assert_eq!(store::packages_departing(&as_inventory, day, day, 3).await.unwrap(), vec![package]);
    assert!(store::unbook_hold(&as_inventory, &sold).await.unwrap());

    // Another context's role reaches neither table nor the function.
    let as_catalog = platform::db::context_pool(&db.context_url(catalog::SCHEMA), catalog::SCHEMA, 1).unwrap();
    for sql in [
        "SELECT * FROM inventory.package_availability",
        "SELECT * FROM inventory.seat_holds",
        "SELECT * FROM inventory.hold_seats('x', 'TRP-AAAAAA', gen_random_uuid(), current_date, 1, now())",
    ] {
        let error = sqlx::query(sql).execute(&as_catalog).await.unwrap_err();
        let code = error.as_database_error().and_then(|e| e.code()).map(|c| c.to_string());
        assert_eq!(code.as_deref(), Some("42501"), "{sql}: {error}");
    }
    as_inventory.close().await;
    as_catalog.close().await;
    db.drop_database().await.unwrap();
}
