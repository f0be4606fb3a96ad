//! Holds against the real database: all-or-nothing, never overbooked, idempotent by id.

use chrono::{Duration as Days, NaiveDate, Utc};
use contracts::{BookingRef, StayDates, activities::HoldRequest};
use inventory::store::{self, ConfirmOutcome, HoldOutcome, NightAvailability};
use tests::{TestDatabase, demo_room};
use uuid::Uuid;

/// The demo room type on a fresh database, its nights counted in days from the day the
/// test started (so a test running over midnight still means the same nights).
struct DemoRoom {
    db: TestDatabase,
    id: Uuid,
    today: NaiveDate,
}

impl DemoRoom {
    /// A fresh database whose demo room type has `rooms` rooms a night.
    async fn create(rooms: i32) -> Self {
        let db = TestDatabase::create(rooms).await.unwrap();
        let (accommodation, room_type) = demo_room();
        let offer = catalog::store::find_offer(&db.catalog, accommodation, room_type).await.unwrap().unwrap();
        DemoRoom { db, id: offer.accommodation_id, today: contracts::india::today() }
    }

    fn day(&self, days_ahead: i64) -> NaiveDate {
        self.today + Days::days(days_ahead)
    }

    /// A hold `id` of `rooms` rooms for `nights` nights from `days_ahead` days on.
    fn hold(&self, id: &str, days_ahead: i64, nights: i64, rooms: u32) -> HoldRequest {
        let check_in = self.day(days_ahead);
        HoldRequest {
            hold_id: id.to_string(),
            booking_ref: BookingRef::from_random(7),
            accommodation_id: self.id,
            room_type: demo_room().1.to_string(),
            dates: StayDates { check_in, check_out: check_in + Days::days(nights) },
            rooms,
        }
    }

    /// `nights` nights from `days_ahead` days on, as a reader of availability sees them.
    async fn nights(&self, days_ahead: i64, nights: i64) -> Vec<NightAvailability> {
        let from = self.day(days_ahead);
        store::availability(&self.db.inventory, self.id, demo_room().1, from, from + Days::days(nights)).await.unwrap()
    }

    /// Sets the allotment of `nights` nights from `days_ahead` days on.
    async fn set_allotment(&self, days_ahead: i64, nights: i64, rooms: i32) -> Result<u64, sqlx::Error> {
        let from = self.day(days_ahead);
        store::set_allotment(&self.db.inventory, self.id, demo_room().1, from, from + Days::days(nights), rooms).await
    }
}

fn expiry() -> chrono::DateTime<Utc> {
    Utc::now() + Days::minutes(15)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_holds_at_once_on_the_last_ten_rooms_hold_exactly_ten_every_time() {
    let room = DemoRoom::create(10).await;
    // Several rounds, each on other nights and with another mix of stays.
    for round in 0..4i64 {
        let first = 5 + round * 4;
        let attempts = (0..200).map(|i| {
            let pool = room.db.inventory.clone();
            // Overlapping one- and two-night stays around the contested middle night, so
            // row locks are taken on several nights at once in every order of arrival.
            let (start, nights) = match (i + round) % 3 {
                0 => (1, 1),
                1 => (0, 2),
                _ => (1, 2),
            };
            let request = room.hold(&format!("race/{round}/{i}"), first + start, nights, 1);
            tokio::spawn(async move { store::hold_rooms(&pool, &request, expiry()).await })
        });
        let outcomes: Vec<HoldOutcome> =
            futures::future::join_all(attempts).await.into_iter().map(|r| r.unwrap().unwrap()).collect();

        let placed = outcomes.iter().filter(|o| **o == HoldOutcome::Placed).count();
        let sold_out =
            outcomes.iter().filter(|o| matches!(o, HoldOutcome::SoldOut { nights } if !nights.is_empty())).count();
        assert_eq!((placed, sold_out), (10, 190), "round {round}");
        let nights = room.nights(first, 3).await;
        assert!(nights.iter().all(|n| n.held <= 10), "{nights:?}");
        // Every stay includes the middle night, so that is the one that sells out.
        assert_eq!(nights[1].held, 10, "round {round}");
        let live: Vec<(i32, i32, i32)> = sqlx::query_as(
            "SELECT (night - $1)::int, count(*)::int, sum(h.rooms)::int FROM inventory_holds h
             CROSS JOIN generate_series(h.check_in, h.check_out - 1, interval '1 day') AS g(night_ts)
             CROSS JOIN LATERAL (SELECT g.night_ts::date AS night) n
             WHERE h.status = 'held' AND h.hold_id LIKE $2 GROUP BY night ORDER BY night",
        )
        .bind(room.day(first))
        .bind(format!("race/{round}/%"))
        .fetch_all(&room.db.inventory)
        .await
        .unwrap();
        for (offset, _, rooms) in live {
            assert_eq!(nights[usize::try_from(offset).unwrap()].held, rooms, "counters match the holds, round {round}");
        }
    }
    room.db.drop_database().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_is_idempotent_and_confirm_and_release_apply_once() {
    let room = DemoRoom::create(5).await;
    let db = &room.db;
    let request = room.hold("booking-TRP-AAAAAA/hold", 9, 2, 3);
    let counts = || async { room.nights(9, 2).await.iter().map(|n| (n.held, n.booked)).collect::<Vec<_>>() };

    assert_eq!(store::hold_rooms(&db.inventory, &request, expiry()).await.unwrap(), HoldOutcome::Placed);
    assert_eq!(store::hold_rooms(&db.inventory, &request, expiry()).await.unwrap(), HoldOutcome::AlreadyPlaced);
    assert_eq!(counts().await, vec![(3, 0), (3, 0)]);

    assert_eq!(store::confirm_hold(&db.inventory, &request.hold_id).await.unwrap(), ConfirmOutcome::Confirmed);
    assert_eq!(store::confirm_hold(&db.inventory, &request.hold_id).await.unwrap(), ConfirmOutcome::AlreadyConfirmed);
    assert_eq!(counts().await, vec![(0, 3), (0, 3)]);

    // Releasing a booked hold (a late compensation) gives nothing back.
    assert!(!store::release_hold(&db.inventory, &request.hold_id).await.unwrap());
    assert_eq!(counts().await, vec![(0, 3), (0, 3)]);

    // Unbooking it (the booking could not be confirmed after all) gives the rooms back, once.
    assert!(store::unbook_hold(&db.inventory, &request.hold_id).await.unwrap());
    assert!(!store::unbook_hold(&db.inventory, &request.hold_id).await.unwrap());
    assert_eq!(counts().await, vec![(0, 0), (0, 0)]);
    assert_eq!(store::confirm_hold(&db.inventory, &request.hold_id).await.unwrap(), ConfirmOutcome::NotHeld);
    let request = room.hold("booking-TRP-AAAAAB/hold", 9, 2, 3);
    store::hold_rooms(&db.inventory, &request, expiry()).await.unwrap();
    store::confirm_hold(&db.inventory, &request.hold_id).await.unwrap();

    let other = room.hold("booking-TRP-BBBBBB/hold", 9, 1, 2);
    assert_eq!(store::hold_rooms(&db.inventory, &other, expiry()).await.unwrap(), HoldOutcome::Placed);
    assert!(store::release_hold(&db.inventory, &other.hold_id).await.unwrap());
    assert!(!store::release_hold(&db.inventory, &other.hold_id).await.unwrap());
    assert_eq!(
        store::hold_rooms(&db.inventory, &other, expiry()).await.unwrap(),
        HoldOutcome::Released,
        "a spent hold id holds nothing"
    );
    assert_eq!(store::confirm_hold(&db.inventory, &other.hold_id).await.unwrap(), ConfirmOutcome::NotHeld);
    assert!(!store::release_hold(&db.inventory, "never-placed").await.unwrap());
    assert_eq!(counts().await, vec![(0, 3), (0, 3)]);
    room.db.drop_database().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_refuses_an_allotment_below_what_is_held_and_booked() {
    let room = DemoRoom::create(5).await;
    store::hold_rooms(&room.db.inventory, &room.hold("booking-TRP-CCCCCC/hold", 3, 1, 4), expiry()).await.unwrap();

    let err = room.set_allotment(3, 1, 3).await.unwrap_err();
    let constraint = err.as_database_error().and_then(|e| e.constraint()).map(str::to_owned);
    assert_eq!(constraint.as_deref(), Some("accommodation_availability_no_overbooking"));
    assert_eq!(room.set_allotment(3, 1, 4).await.unwrap(), 1);
    room.db.drop_database().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_hold_stops_counting_and_is_released_exactly_once() {
    let room = DemoRoom::create(2).await;
    let db = &room.db;
    let past = Utc::now() - Days::minutes(1);

    // A saga that died holding both rooms of the night.
    let abandoned = room.hold("booking-TRP-DEAD00/hold", 6, 1, 2);
    assert_eq!(store::hold_rooms(&db.inventory, &abandoned, past).await.unwrap(), HoldOutcome::Placed);
    let night = room.nights(6, 1).await;
    assert_eq!((night[0].held, night[0].available()), (0, 2), "already free to anyone reading availability");
    // A new hold finds the rooms free: the expired hold no longer counts.
    let fresh = room.hold("booking-TRP-L1VE00/hold", 6, 1, 1);
    assert_eq!(store::hold_rooms(&db.inventory, &fresh, expiry()).await.unwrap(), HoldOutcome::Placed);
    let night = room.nights(6, 1).await;
    assert_eq!((night[0].held, night[0].booked), (1, 0));
    assert_eq!(
        store::confirm_hold(&db.inventory, &abandoned.hold_id).await.unwrap(),
        ConfirmOutcome::NotHeld,
        "an expired, released hold cannot be confirmed"
    );

    // Elsewhere, two expired holds nothing touched; two sweeps at once release each once.
    for (n, night) in [(1, 20), (2, 23)] {
        let stale = room.hold(&format!("booking-TRP-STALE{n}/hold"), 6 + night, 2, 1);
        store::hold_rooms(&db.inventory, &stale, past).await.unwrap();
    }
    let (a, b) = tokio::join!(
        store::release_expired_holds(&db.inventory, 100),
        store::release_expired_holds(&db.inventory, 100)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 2);
    assert_eq!(store::release_expired_holds(&db.inventory, 100).await.unwrap(), 0);
    let later = room.nights(6 + 20, 5).await;
    assert!(later.iter().all(|n| n.held == 0), "{later:?}");
    room.db.drop_database().await.unwrap();
}
