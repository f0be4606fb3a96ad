//! Recorded histories of real runs must replay against today's workflow code: a change that
//! would break workflows in flight fails here. Record new fixtures with
//! `TT_RECORD_HISTORIES=1 cargo test -p tests --test booking_saga --test payments --test cancellation
//! --test partners` (the partners' tests record a partner's booking, a settlement, and a
//! settlement started by its schedule), `--test package_bookings` (package sagas) and
//! `--test step_repairs` (repaired cancellations).

use std::path::PathBuf;
use temporalio_client::WorkflowHistory;
use temporalio_sdk::workflow_replayer::{WorkflowReplayer, WorkflowReplayerOptions};

fn recorded_histories() -> Vec<(String, WorkflowHistory)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/histories");
    let mut histories: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/histories exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let bytes = std::fs::read(&p).expect("readable history");
            let history = WorkflowHistory::from_json(&bytes).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p.file_stem().unwrap().to_string_lossy().into_owned(), history)
        })
        .collect();
    histories.sort_by(|a, b| a.0.cmp(&b.0));
    histories
}

#[tokio::test]
async fn every_recorded_workflow_history_replays() {
    let histories = recorded_histories();
    let names: Vec<&str> = histories.iter().map(|(n, _)| n.as_str()).collect();
    for expected in [
        "confirmed",
        // Started with its search attributes, indexing only where it rests.
        "confirmed_indexed_at_start",
        // Records and confirms its booking as local activities, under a patch.
        "confirmed_local_booking_steps",
        // The same, chosen by its input: no patch marker.
        "confirmed_local_steps_by_input",
        "card_declined",
        "sold_out",
        "cancelled_during_payment",
        "hold_sweep",
        "checkout_confirmed",
        "checkout_expired",
        "auto_refund",
        "cancellation",
        "partner_booking_confirmed",
        "partner_settlement",
        "partner_settlement_cycle",
        "reconciliation",
        // The charge outlived its hold: compensated, refunded.
        "hold_lost",
        // The gateway down past the hold's life: the charge gave up, nothing taken.
        "hold_expired",
        // Repairs of stopped sagas, both ways.
        "repair_compensated",
        "repair_confirmed",
        // A package saga terminated at its checkout, every hold given back by its repair.
        "repair_package_compensated",
        // A package: seats and two stays held, paid once, confirmed; then cancelled; and one
        // whose card was declined, every item given back.
        "package_booking_confirmed",
        "package_cancellation",
        "package_booking_declined",
        // Cancellations whose refund an operator had tried again now, or took over.
        "cancellation_step_retried",
        "cancellation_refund_handed_over",
    ] {
        assert!(names.contains(&expected), "fixture {expected} missing from {names:?}");
    }
    let replayer = WorkflowReplayer::new(
        WorkflowReplayerOptions::new()
            .register_workflow::<sagas::BookingWorkflow>()
            .unwrap()
            .register_workflow::<sagas::PackageBookingWorkflow>()
            .unwrap()
            .register_workflow::<sagas::HoldSweepWorkflow>()
            .unwrap()
            .register_workflow::<sagas::AutoRefundWorkflow>()
            .unwrap()
            .register_workflow::<sagas::ManualRefundWorkflow>()
            .unwrap()
            .register_workflow::<sagas::WebhookResolutionWorkflow>()
            .unwrap()
            .register_workflow::<sagas::CancellationWorkflow>()
            .unwrap()
            .register_workflow::<sagas::ReconcilePaymentsWorkflow>()
            .unwrap()
            .register_workflow::<sagas::RepairBookingWorkflow>()
            .unwrap()
            .register_workflow::<sagas::PartnerSettlementWorkflow>()
            .unwrap()
            .register_workflow::<sagas::SettlementPayoutWorkflow>()
            .unwrap()
            .register_workflow::<sagas::PartnerSettlementCycleWorkflow>()
            .unwrap()
            .build(),
    )
    .unwrap();
    for (name, history) in histories {
        replayer.replay_workflow(history).await.unwrap_or_else(|e| panic!("history {name} no longer replays: {e}"));
    }
}
