//! Random sequences of hold / confirm / release / unbook / expiry / sweep against the real
//! inventory store, checked after every step against a model of what the counters must be,
//! and against the invariant held + booked <= allotment.

use chrono::{Duration as Days, NaiveDate, Utc};
use contracts::{BookingRef, StayDates, activities::HoldRequest};
use inventory::store::{self, ConfirmOutcome, HoldOutcome};
use proptest::prelude::*;
use std::collections::HashMap;
use tests::TestDatabase;
use uuid::Uuid;

const NIGHTS: i64 = 4;
const ALLOTMENT: i32 = 3;
const ROOM_TYPE: &str = "property_room";

#[derive(Debug, Clone)]
enum Op {
    Hold { id: u8, start: i64, len: i64, rooms: u32, expired: bool },
    Confirm { id: u8 },
    Release { id: u8 },
    Unbook { id: u8 },
    Sweep,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..8, 0..NIGHTS, 1i64..=2, 1u32..=3, any::<bool>())
            .prop_map(|(id, start, len, rooms, expired)| Op::Hold { id, start, len: len.min(NIGHTS - start), rooms, expired }),
        2 => (0u8..8).prop_map(|id| Op::Confirm { id }),
        2 => (0u8..8).prop_map(|id| Op::Release { id }),
        1 => (0u8..8).prop_map(|id| Op::Unbook { id }),
        1 => Just(Op::Sweep),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Held,
    Confirmed,
    Released,
}

#[derive(Debug, Clone)]
struct ModelHold {
    start: i64,
    len: i64,
    rooms: i32,
    expired: bool,
    status: Status,
}

impl ModelHold {
    fn covers(&self, night: i64) -> bool {
        self.start <= night && night < self.start + self.len
    }
}

/// What the store must do, in plain code.
#[derive(Default)]
struct Model {
    holds: HashMap<u8, ModelHold>,
}

impl Model {
    /// (held, booked) per night, as the raw counters keep them.
    fn counters(&self) -> Vec<(i32, i32)> {
        (0..NIGHTS)
            .map(|n| {
                let of = |s: Status| {
                    self.holds.values().filter(|h| h.status == s && h.covers(n)).map(|h| h.rooms).sum::<i32>()
                };
                (of(Status::Held), of(Status::Confirmed))
            })
            .collect()
    }

    /// Rooms a reader may still book per night: expired holds do not count.
    fn available(&self) -> Vec<i32> {
        (0..NIGHTS)
            .map(|n| {
                let taken: i32 = self
                    .holds
                    .values()
                    .filter(|h| {
                        h.covers(n) && (h.status == Status::Confirmed || (h.status == Status::Held && !h.expired))
                    })
                    .map(|h| h.rooms)
                    .sum();
                ALLOTMENT - taken
            })
            .collect()
    }

    fn release_expired(&mut self, within: Option<(i64, i64)>) {
        for h in self.holds.values_mut() {
            let overlaps = within.is_none_or(|(start, len)| h.start < start + len && start < h.start + h.len);
            if h.status == Status::Held && h.expired && overlaps {
                h.status = Status::Released;
            }
        }
    }

    /// Moves hold `id` from `from` to `to`; false when it is not in `from` (or not at all).
    fn transition(&mut self, id: u8, from: Status, to: Status) -> bool {
        match self.holds.get_mut(&id) {
            Some(h) if h.status == from => {
                h.status = to;
                true
            }
            _ => false,
        }
    }

    fn hold(&mut self, id: u8, start: i64, len: i64, rooms: u32, expired: bool) -> HoldOutcome {
        // Expired holds on these nights go first, a retry's own expired hold included.
        self.release_expired(Some((start, len)));
        if let Some(existing) = self.holds.get(&id) {
            return if existing.status == Status::Released {
                HoldOutcome::Released
            } else {
                HoldOutcome::AlreadyPlaced
            };
        }
        let rooms = i32::try_from(rooms).unwrap();
        let counters = self.counters();
        let short: Vec<i64> = (start..start + len)
            .filter(|n| {
                let (held, booked) = counters[*n as usize];
                ALLOTMENT - held - booked < rooms
            })
            .collect();
        if !short.is_empty() {
            return HoldOutcome::SoldOut { nights: short.iter().map(|n| night(*n)).collect() };
        }
        self.holds.insert(id, ModelHold { start, len, rooms, expired, status: Status::Held });
        HoldOutcome::Placed
    }
}

fn first_night() -> NaiveDate {
    contracts::india::today() + Days::days(30)
}

fn night(n: i64) -> NaiveDate {
    first_night() + Days::days(n)
}

fn hold_id(case: Uuid, id: u8) -> String {
    format!("property-{case}/{id}")
}

async fn run_case(db: &TestDatabase, ops: Vec<Op>) -> Result<(), TestCaseError> {
    // A room type of its own per case: cases share the database, never their rows.
    let accommodation = Uuid::new_v4();
    store::set_allotment(&db.inventory, accommodation, ROOM_TYPE, night(0), night(NIGHTS), ALLOTMENT).await.unwrap();
    let mut model = Model::default();
    for op in ops {
        match op.clone() {
            Op::Hold { id, start, len, rooms, expired } => {
                let request = HoldRequest {
                    hold_id: hold_id(accommodation, id),
                    booking_ref: BookingRef::from_random(u64::from(id)),
                    accommodation_id: accommodation,
                    room_type: ROOM_TYPE.into(),
                    dates: StayDates { check_in: night(start), check_out: night(start + len) },
                    rooms,
                };
                let expires_at = if expired { Utc::now() - Days::minutes(1) } else { Utc::now() + Days::hours(1) };
                let got = store::hold_rooms(&db.inventory, &request, expires_at).await.unwrap();
                prop_assert_eq!(got, model.hold(id, start, len, rooms, expired), "{:?}", op);
            }
            Op::Confirm { id } => {
                let got = store::confirm_hold(&db.inventory, &hold_id(accommodation, id)).await.unwrap();
                let was_confirmed = model.holds.get(&id).is_some_and(|h| h.status == Status::Confirmed);
                let want = if model.transition(id, Status::Held, Status::Confirmed) {
                    ConfirmOutcome::Confirmed
                } else if was_confirmed {
                    ConfirmOutcome::AlreadyConfirmed
                } else {
                    ConfirmOutcome::NotHeld
                };
                prop_assert_eq!(got, want, "{:?}", op);
            }
            Op::Release { id } => {
                let got = store::release_hold(&db.inventory, &hold_id(accommodation, id)).await.unwrap();
                prop_assert_eq!(got, model.transition(id, Status::Held, Status::Released), "{:?}", op);
            }
            Op::Unbook { id } => {
                let got = store::unbook_hold(&db.inventory, &hold_id(accommodation, id)).await.unwrap();
                prop_assert_eq!(got, model.transition(id, Status::Confirmed, Status::Released), "{:?}", op);
            }
            Op::Sweep => {
                // Other cases' expired holds are swept too; only this case's count is modelled.
                store::release_expired_holds(&db.inventory, 10_000).await.unwrap();
                model.release_expired(None);
            }
        }
        let raw: Vec<(i32, i32, i32)> = sqlx::query_as(
            "SELECT held, booked, allotment FROM accommodation_availability WHERE accommodation_id = $1 ORDER BY night",
        )
        .bind(accommodation)
        .fetch_all(&db.inventory)
        .await
        .unwrap();
        for (held, booked, allotment) in &raw {
            prop_assert!(held + booked <= *allotment && *held >= 0 && *booked >= 0, "invariant broken: {:?}", raw);
        }
        let counters: Vec<(i32, i32)> = raw.iter().map(|(h, b, _)| (*h, *b)).collect();
        prop_assert_eq!(counters, model.counters(), "after {:?}", op);
        let available: Vec<i32> = store::availability(&db.inventory, accommodation, ROOM_TYPE, night(0), night(NIGHTS))
            .await
            .unwrap()
            .iter()
            .map(|n| n.available())
            .collect();
        prop_assert_eq!(available, model.available(), "after {:?}", op);
    }
    Ok(())
}

#[test]
fn any_sequence_of_hold_operations_keeps_the_counters_exact_and_never_overbooks() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let db = runtime.block_on(TestDatabase::create(1)).unwrap();
    let config = ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() };
    proptest!(config, |(ops in proptest::collection::vec(op(), 1..40))| {
        runtime.block_on(run_case(&db, ops))?;
    });
    runtime.block_on(db.drop_database()).unwrap();
}
