//! Payload compatibility. The contexts deploy one at a time, so while a release rolls out a
//! worker of the new release reads workflow inputs, activity arguments, results, signals and
//! query answers that a worker of the old one wrote, and the other way round.
//!
//! Every payload that crosses Temporal has golden JSON fixtures under `tests/payloads/`: the
//! plain JSON the payload converter writes (before the codec seals it). Today's types must
//! decode each fixture and encode it back to exactly the same JSON, so a renamed or removed
//! field, a changed enum spelling, a new required field or a new field written as `null`
//! fails here, naming the fixture and the first path that differs.
//!
//! [`table`] is the one list of fixtures. Each entry is bound to the activity, workflow,
//! signal or query definition that carries it, so its Rust type is the one the code really
//! sends. A fixture file without an entry, an entry without its file, an activity declared in
//! `contracts` or a workflow (with its signals, queries and updates) defined here without
//! entries all fail.
//!
//! A fixture records what a deployed worker may have written: it is never rewritten. For a
//! new payload (or a new variant of one), add its entry with a sample value and run
//! `TT_WRITE_PAYLOAD_FIXTURES=1 cargo test -p sagas --test payloads`, which writes the
//! fixtures that are missing from today's types and leaves every existing file alone.

use chrono::NaiveDate;
use contracts::{
    BookingRef, Currency, Money, StayDates,
    activities::{
        BookingActivities, BookingConfirmation, BookingFailure, BookingOnRecord, CancellationCompletion,
        CancellationRequest, CancellationTerms, Charge, ChargeRequest, CheckoutOpened, CheckoutRequest, ExtendHolds,
        HandoverOutcome, HoldPlaced, HoldRequest, InventoryActivities, NewBookingRecord, NewPackageBookingRecord,
        PaymentActivities, ReconcileReport, ReconcileRequest, RecordedStatus, RefundAmountRequest, RefundHandover,
        RefundIssued, RefundOutcome, RefundPaymentRequest, RefundRequest, SeatHoldRequest, SettleRequest,
        StoppedSagasRequest,
    },
    cancellation::{CancellationInput, CancellationOutcome, RefundOverride},
    package::{IncludedStay, PackageBookingInput, PackageBookingProgress, PackageOrder, seat_hold_id, stay_hold_id},
    pricing::{PackageParty, PackageRate, PricingBasis, StayQuote, quote_package, quote_stay},
    saga::{
        AutoRefundInput, BookingProgress, BookingRequestKey, BookingSagaInput, BookingStatus, CheckoutState,
        FailureReason, LeadTraveller, ManualRefundInput, PaymentMethod, PaymentNotice, PaymentWindowExtension,
        RepairOutcome, RepairReport, RepairSweepReport, StayRequest, StepRepair, StepRepaired, WebhookAction,
        WebhookResolutionInput, WebhookResolved,
    },
    settlement::{
        BankAccount, NewSettlement, PaidPayout, PartnerActivities, PartnerSales, PartnerSalesActivities,
        PartnerSalesRequest, PartnerTerms, PayoutActivities, PayoutInput, PayoutInstruction, PayoutOutcome,
        PayoutRecord, PayoutRequest, PayoutResult, SettlementCycle, SettlementCycleInput, SettlementFigures,
        SettlementInput, SettlementPeriod, SettlementRecord, payout_idempotency_key,
    },
    temporal,
};
use sagas::{
    AutoRefundWorkflow, BookingWorkflow, CancellationWorkflow, HoldSweepWorkflow, ManualRefundWorkflow,
    PackageBookingWorkflow, PartnerSettlementCycleWorkflow, PartnerSettlementWorkflow, ReconcilePaymentsWorkflow,
    RepairBookingWorkflow, RepairSweepWorkflow, SettlementPayoutWorkflow, WebhookResolutionWorkflow,
};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;
use std::{
    any::{TypeId, type_name},
    collections::BTreeSet,
    fs,
    io::Write,
    marker::PhantomData,
    path::{Path, PathBuf},
};
use temporalio_common::{ActivityDefinition, QueryDefinition, SignalDefinition, UpdateDefinition, WorkflowDefinition};
use temporalio_sdk::workflows::{WorkflowDefinitionDescriptor, WorkflowImplementation};
use uuid::Uuid;

/// Set to `1` to write the fixtures the table lists and the disk lacks. Existing files are
/// never touched.
const WRITE_FIXTURES: &str = "TT_WRITE_PAYLOAD_FIXTURES";

// ---------------------------------------------------------------- the table

/// Every payload that crosses Temporal, with the sample each fixture was (or will be)
/// written from.
///
/// Fixtures live at `activities/<activity>/{input,output}[.<variant>].json` and
/// `workflows/<workflow type>/{input,output}[.<variant>].json`, a workflow's handlers under
/// `workflows/<workflow type>/{signals,queries,updates}/<name>/`. An empty variant is the
/// plain `input`/`output`. Variants cover the shapes a payload takes: each optional field
/// present somewhere, each enum spelling somewhere.
fn table() -> Table {
    let mut t = Table::default();

    // -------------------------------------------------------- inventory
    let card = card_booking();
    let checkout = checkout_booking();
    let partner = partner_booking();
    t.activity(InventoryActivities::hold_rooms)
        .input("", hold_request(&card))
        .output("", HoldPlaced { hold_id: card.hold_id(), expires_at_ms: Some(1_796_618_690_164) })
        // Written before holds said when they expire.
        .output("without_expiry", HoldPlaced { hold_id: card.hold_id(), expires_at_ms: None });
    t.activity(InventoryActivities::release_hold).input("", card.hold_id());
    t.activity(InventoryActivities::confirm_hold).input("", card.hold_id());
    t.activity(InventoryActivities::unbook_hold).input("", card.hold_id());
    t.activity(InventoryActivities::extend_holds)
        .input("", ExtendHolds { hold_ids: vec![checkout.hold_id()], until_ms: 1_796_115_145_000 });
    t.activity(InventoryActivities::release_expired_holds).input("", 200).output("", 1);
    let package = package_input();
    t.activity(InventoryActivities::hold_seats)
        .input(
            "",
            SeatHoldRequest {
                hold_id: seat_hold_id(&package.booking_ref.workflow_id()),
                booking_ref: package.booking_ref.clone(),
                package_id: package.order.package_id,
                departure: package.order.departure,
                seats: package.order.seats(),
            },
        )
        .output(
            "seats",
            HoldPlaced {
                hold_id: seat_hold_id(&package.booking_ref.workflow_id()),
                expires_at_ms: Some(1_796_618_690_164),
            },
        );

    // -------------------------------------------------------- booking
    t.activity(BookingActivities::create_booking)
        // As the first sagas wrote it: no user, partner or request.
        .input("", new_booking_record(&card))
        .input(
            "signed_in",
            NewBookingRecord {
                user_id: Some(id(USER)),
                request: Some(user_request()),
                ..new_booking_record(&checkout)
            },
        )
        .input(
            "partner",
            NewBookingRecord {
                partner_id: Some(id(PARTNER)),
                request: Some(partner_request()),
                ..new_booking_record(&partner)
            },
        );
    t.activity(BookingActivities::create_package_booking).input(
        "",
        NewPackageBookingRecord {
            booking_ref: package.booking_ref.clone(),
            order: package.order.clone(),
            lead_traveller: traveller(),
            quote: package.quote.clone(),
            seat_hold_id: seat_hold_id(&package.booking_ref.workflow_id()),
            stay_hold_ids: (0..2).map(|i| stay_hold_id(&package.booking_ref.workflow_id(), i)).collect(),
            user_id: Some(id(USER)),
            partner_id: None,
            request: Some(user_request()),
        },
    );
    t.activity(BookingActivities::confirm_booking).input("", confirmation(&card));
    t.activity(BookingActivities::fail_booking).input(
        "",
        BookingFailure {
            booking_ref: card.reference.clone(),
            code: "card_declined".into(),
            message: "Your payment has been declined by the bank".into(),
        },
    );
    t.activity(BookingActivities::begin_cancellation)
        .input("", CancellationRequest { cancellation: cancellation_input(&card), today: day("2026-11-30") })
        .input("override", CancellationRequest { cancellation: cancellation_override(&card), today: day("2026-12-09") })
        .output(
            "",
            CancellationTerms {
                policy: "standard".into(),
                days_before_check_in: 10,
                refund_bp: 10_000,
                refund: card.quote.total,
                hold_id: card.hold_id(),
                other_holds: Vec::new(),
            },
        )
        .output(
            "package",
            CancellationTerms {
                policy: "package_standard".into(),
                days_before_check_in: 20,
                refund_bp: 5_000,
                refund: Money { amount: package.quote.total.amount / 2, ..package.quote.total },
                hold_id: seat_hold_id(&package.booking_ref.workflow_id()),
                other_holds: (0..2).map(|i| stay_hold_id(&package.booking_ref.workflow_id(), i)).collect(),
            },
        );
    t.activity(BookingActivities::complete_cancellation)
        .input(
            "",
            CancellationCompletion { booking_ref: card.reference.clone(), refunded: card.quote.total, owed: None },
        )
        .input(
            "refund_owed",
            CancellationCompletion {
                booking_ref: card.reference.clone(),
                refunded: Money::inr(0),
                owed: Some(card.quote.total),
            },
        );
    let on_record = |status| Some(BookingOnRecord { status, total: checkout.quote.total, hold_ids: Vec::new() });
    let package_saga_id = package.booking_ref.workflow_id();
    t.activity(BookingActivities::booking_on_record)
        .input("", checkout.reference.clone())
        .output("pending_payment", on_record(RecordedStatus::PendingPayment))
        .output(
            "package_pending_payment",
            Some(BookingOnRecord {
                status: RecordedStatus::PendingPayment,
                total: package.quote.total,
                hold_ids: std::iter::once(seat_hold_id(&package_saga_id))
                    .chain((0..2).map(|i| stay_hold_id(&package_saga_id, i)))
                    .collect(),
            }),
        )
        .output("confirmed", on_record(RecordedStatus::Confirmed))
        .output("failed", on_record(RecordedStatus::Failed))
        .output("cancelled", on_record(RecordedStatus::Cancelled))
        // No record: the converter sends `None` as its binary null, which reads back as `null`.
        .output("none", None);
    t.activity(BookingActivities::record_refund).input(
        "",
        RefundIssued {
            booking_ref: card.reference.clone(),
            refund_key: format!("manual-refund-{}/goodwill-1/refund", card.reference),
            amount: Money::inr(150_000),
            reason: "room not as described".into(),
            requested_by: "user:3f9b2c4e-8a41-4d7e-9b0a-5c1d2e3f4a5b".into(),
        },
    );
    t.activity(BookingActivities::stopped_sagas)
        .input("", StoppedSagasRequest { closed_within_secs: 7 * 86_400, limit: 100 })
        .output("", vec![booking("TRP-BYW7V0"), booking("TRP-RAFFV2")])
        .output("none", Vec::new());
    t.activity(PartnerSalesActivities::total_partner_sales)
        .input("", PartnerSalesRequest { partner_id: id(AGARTALA_TRAVELS), period: last_week() })
        .output(
            "",
            PartnerSales { bookings: 3, collected: Money::inr(3_780_000), refunds: 2, refunded: Money::inr(123_457) },
        );

    // -------------------------------------------------------- payment
    t.activity(PaymentActivities::charge)
        .input(
            "",
            ChargeRequest {
                booking_ref: card.reference.clone(),
                idempotency_key: card.charge_key(),
                amount: card.quote.total,
                card_token: "tok_success".into(),
            },
        )
        .output("", card_charge(&card));
    t.activity(PaymentActivities::refund_charge)
        .input(
            "",
            RefundRequest {
                booking_ref: card.reference.clone(),
                charge_idempotency_key: card.charge_key(),
                reason: "cancelled".into(),
            },
        )
        .output("", RefundOutcome { refunded: card.quote.total })
        .output("nothing_captured", RefundOutcome { refunded: Money::inr(0) });
    t.activity(PaymentActivities::open_checkout)
        .input(
            "",
            CheckoutRequest {
                booking_ref: checkout.reference.clone(),
                idempotency_key: checkout.charge_key(),
                amount: checkout.quote.total,
            },
        )
        .output("", CheckoutOpened { payment_id: id(CHECKOUT_PAYMENT), gateway_order_id: CHECKOUT_ORDER.into() });
    t.activity(PaymentActivities::settle_checkout)
        .input(
            "",
            SettleRequest {
                booking_ref: checkout.reference.clone(),
                idempotency_key: checkout.charge_key(),
                amount: checkout.quote.total,
            },
        )
        .output("", checkout_charge(&checkout));
    t.activity(PaymentActivities::refund_amount)
        .input(
            "",
            RefundAmountRequest {
                booking_ref: card.reference.clone(),
                charge_idempotency_key: card.charge_key(),
                amount: Money::inr(945_000),
                refund_key: format!("cancel-{}/refund", card.reference),
                reason: "plans changed".into(),
            },
        )
        .output("", RefundOutcome { refunded: Money::inr(945_000) });
    t.activity(PaymentActivities::reconcile_stale)
        .input("", reconcile_request())
        .output("", ReconcileReport { checked: 4, refunded: 1, refunded_paise: 945_000, closed: 2 })
        // A retried attempt goes on from the count its previous attempt's heartbeat carried.
        .heartbeat("", ReconcileReport { checked: 2, refunded: 1, refunded_paise: 945_000, closed: 0 });
    t.activity(PaymentActivities::resolve_webhook)
        .input("refund", webhook_resolution(WebhookAction::Refund))
        .input("attach", webhook_resolution(WebhookAction::Attach))
        .output("refunded", WebhookResolved { resolution: "refunded".into(), refunded: Money::inr(50_000) })
        .output("attached", WebhookResolved { resolution: "attached".into(), refunded: Money::inr(0) });
    t.activity(PaymentActivities::refund_payment)
        .input("", auto_refund_request(&checkout))
        .output("", RefundOutcome { refunded: checkout.quote.total });
    t.activity(PaymentActivities::hand_refund_over)
        .input(
            "cancellation",
            RefundHandover {
                booking_ref: card.reference.clone(),
                charge_idempotency_key: card.charge_key(),
                refund_key: format!("cancel-{}/refund", card.reference),
                amount: Some(Money::inr(945_000)),
                reason: "beneficiary account closed".into(),
                handed_over_by: "user:0b9e7f54-2d0c-4a8e-9d55-3b1f1b7c2a10".into(),
            },
        )
        .input(
            "compensation",
            RefundHandover {
                booking_ref: card.reference.clone(),
                charge_idempotency_key: card.charge_key(),
                refund_key: format!("{}/refund", card.charge_key()),
                amount: None,
                reason: "payment under review at the gateway".into(),
                handed_over_by: "user:0b9e7f54-2d0c-4a8e-9d55-3b1f1b7c2a10".into(),
            },
        )
        .output("owed", HandoverOutcome { refunded: Money::inr(0), owed: Money::inr(945_000) })
        .output("refunded", HandoverOutcome { refunded: Money::inr(945_000), owed: Money::inr(0) });

    // -------------------------------------------------------- partner
    t.activity(PartnerActivities::settlement_terms).input("", id(AGARTALA_TRAVELS)).output(
        "",
        PartnerTerms {
            partner_id: id(AGARTALA_TRAVELS),
            partner_code: "agartala-travels".into(),
            commission_bp: 1_250,
        },
    );
    t.activity(PartnerActivities::record_settlement).input("", new_settlement()).output("", settlement_record());
    let settlement_id = settlement_record().settlement_id;
    t.activity(PartnerActivities::settlement_to_pay)
        .input("", settlement_id)
        .output("approved", payout_instruction(None))
        .output(
            "paid",
            payout_instruction(Some(PaidPayout {
                payout_id: "pout_OyQ2Lw8uT1x0Zr".into(),
                utr: Some("SBOXN26120700017".into()),
            })),
        );
    t.activity(PartnerActivities::record_payout)
        .input("processed", PayoutRecord { settlement_id, attempt: 1, result: processed_payout() })
        .input("reversed", PayoutRecord { settlement_id, attempt: 2, result: reversed_payout() });
    t.activity(PayoutActivities::pay_out)
        .input(
            "",
            PayoutRequest {
                idempotency_key: payout_idempotency_key(settlement_id, 1),
                reference_id: settlement_id.to_string(),
                amount: Money::inr(447_927),
                account: bank_account(),
                contact_name: "Agartala Travels".into(),
                narration: "Tripura Tourism commission".into(),
            },
        )
        .output("processed", processed_payout())
        .output("reversed", reversed_payout());

    // -------------------------------------------------------- workflows
    let mut saga = t.workflow::<BookingWorkflow>();
    saga.run()
        // As the first sagas were started: a card, nothing optional.
        .input("card", saga_input(&card, PaymentMethod::card("tok_success")))
        .input(
            "checkout",
            BookingSagaInput {
                user_id: Some(id(USER)),
                payment_window_secs: Some(900),
                request: Some(user_request()),
                local_booking_steps: true,
                ..saga_input(&checkout, PaymentMethod::checkout())
            },
        )
        .input(
            "partner",
            BookingSagaInput {
                payment_window_secs: Some(900),
                partner_id: Some(id(PARTNER)),
                request: Some(partner_request()),
                local_booking_steps: true,
                ..saga_input(&partner, PaymentMethod::card("tok_success"))
            },
        )
        .output("confirmed", confirmed(&card))
        .output("failed", failed_after_refund(&card))
        .output("expired", expired(&checkout));
    saga.signal(BookingWorkflow::payment_received).input(
        "",
        PaymentNotice {
            gateway_order_id: CHECKOUT_ORDER.into(),
            gateway_payment_id: CHECKOUT_GATEWAY_PAYMENT.into(),
            amount: checkout.quote.total.amount,
        },
    );
    saga.update(BookingWorkflow::extend_payment_window).input("", window_extension()).output(
        "",
        CheckoutState {
            gateway_order_id: CHECKOUT_ORDER.into(),
            amount: checkout.quote.total,
            expires_at_ms: 1_796_114_845_000,
        },
    );
    saga.update(BookingWorkflow::retry_step_now).input("", step_repair()).output("", repaired("release the hold"));
    saga.update(BookingWorkflow::hand_refund_over).input("", step_repair()).output("", repaired("refund the charge"));
    saga.query(BookingWorkflow::status)
        .output("pending", progress(&card, BookingStatus::Pending))
        .output("held", progress(&card, BookingStatus::Held))
        .output("awaiting_payment", awaiting_checkout(&checkout))
        .output("compensating", compensating(&card))
        .output("refund_owed", BookingProgress { amount_owed: Some(card.quote.total), ..compensating(&card) })
        .output("confirmed", confirmed(&card));

    let mut package_saga = t.workflow::<PackageBookingWorkflow>();
    package_saga
        .run()
        .input("", package.clone())
        .output(
            "confirmed",
            PackageBookingProgress {
                status: BookingStatus::Confirmed,
                amount_charged: Some(package.quote.total),
                ..PackageBookingProgress::accepted(&package)
            },
        )
        .output(
            "failed",
            PackageBookingProgress {
                status: BookingStatus::Failed,
                failure: Some(FailureReason { code: "sold_out".into(), message: "Only 3 seats are left".into() }),
                ..PackageBookingProgress::accepted(&package)
            },
        );
    package_saga.signal(PackageBookingWorkflow::payment_received).input(
        "",
        PaymentNotice {
            gateway_order_id: CHECKOUT_ORDER.into(),
            gateway_payment_id: CHECKOUT_GATEWAY_PAYMENT.into(),
            amount: package.quote.total.amount,
        },
    );
    package_saga.update(PackageBookingWorkflow::extend_payment_window).input("", window_extension()).output(
        "",
        CheckoutState {
            gateway_order_id: CHECKOUT_ORDER.into(),
            amount: package.quote.total,
            expires_at_ms: 1_796_114_845_000,
        },
    );
    package_saga
        .update(PackageBookingWorkflow::retry_step_now)
        .input("", step_repair())
        .output("", repaired("release the hold"));
    package_saga
        .update(PackageBookingWorkflow::hand_refund_over)
        .input("", step_repair())
        .output("", repaired("refund the charge"));
    package_saga
        .query(PackageBookingWorkflow::status)
        .output("pending", PackageBookingProgress::accepted(&package))
        .output(
            "awaiting_payment",
            PackageBookingProgress {
                status: BookingStatus::AwaitingPayment,
                checkout: Some(CheckoutState {
                    gateway_order_id: CHECKOUT_ORDER.into(),
                    amount: package.quote.total,
                    expires_at_ms: 1_796_617_790_164,
                }),
                ..PackageBookingProgress::accepted(&package)
            },
        );

    let mut cancellation = t.workflow::<CancellationWorkflow>();
    cancellation
        .run()
        .input("", cancellation_input(&card))
        .input("override", cancellation_override(&card))
        .output(
            "",
            CancellationOutcome {
                booking_ref: card.reference.clone(),
                policy: "standard".into(),
                days_before_check_in: 10,
                refund_bp: 10_000,
                refunded: card.quote.total,
                owed: None,
            },
        )
        .output(
            "refund_owed",
            CancellationOutcome {
                booking_ref: card.reference.clone(),
                policy: "standard".into(),
                days_before_check_in: 10,
                refund_bp: 10_000,
                refunded: Money::inr(0),
                owed: Some(card.quote.total),
            },
        );
    cancellation.update(CancellationWorkflow::retry_step_now).input("", step_repair()).output("", repaired("refund"));
    cancellation.update(CancellationWorkflow::hand_refund_over).input("", step_repair()).output("", repaired("refund"));
    t.workflow::<HoldSweepWorkflow>().run().output("", 1);
    t.workflow::<ReconcilePaymentsWorkflow>()
        .run()
        .input("", reconcile_request())
        .output("", ReconcileReport { checked: 4, refunded: 1, refunded_paise: 945_000, closed: 2 });
    t.workflow::<AutoRefundWorkflow>()
        .run()
        .input(
            "",
            AutoRefundInput {
                booking_ref: checkout.reference.clone(),
                charge_idempotency_key: checkout.charge_key(),
                gateway_payment_id: "pay_czg808FhtFS0YJ".into(),
                reason: "no_booking_waiting".into(),
            },
        )
        .output("", checkout.quote.total.amount);
    t.workflow::<ManualRefundWorkflow>()
        .run()
        .input(
            "",
            ManualRefundInput {
                booking_ref: card.reference.clone(),
                client_key: "goodwill-1".into(),
                amount: Money::inr(150_000),
                reason: "room not as described".into(),
                requested_by: "user:3f9b2c4e-8a41-4d7e-9b0a-5c1d2e3f4a5b".into(),
            },
        )
        .output("", Money::inr(150_000));
    t.workflow::<WebhookResolutionWorkflow>()
        .run()
        .input("", webhook_resolution(WebhookAction::Refund))
        .output("", WebhookResolved { resolution: "nothing_to_refund".into(), refunded: Money::inr(0) });
    t.workflow::<RepairBookingWorkflow>()
        .run()
        .input("", checkout.reference.clone())
        .output(
            "confirmed",
            RepairReport {
                booking_ref: checkout.reference.clone(),
                found: Some(RecordedStatus::PendingPayment),
                outcome: RepairOutcome::Confirmed,
                refunded: Money::inr(0),
            },
        )
        .output(
            "compensated",
            RepairReport {
                booking_ref: checkout.reference.clone(),
                found: None,
                outcome: RepairOutcome::Compensated,
                refunded: checkout.quote.total,
            },
        )
        .output(
            "left_cancelled",
            RepairReport {
                booking_ref: checkout.reference.clone(),
                found: Some(RecordedStatus::Cancelled),
                outcome: RepairOutcome::LeftCancelled,
                refunded: Money::inr(0),
            },
        );
    t.workflow::<RepairSweepWorkflow>().run().output("", RepairSweepReport { found: 2, started: 1 });
    t.workflow::<PartnerSettlementWorkflow>()
        .run()
        .input(
            "",
            SettlementInput {
                partner_id: id(AGARTALA_TRAVELS),
                partner_code: "agartala-travels".into(),
                period: last_week(),
            },
        )
        .output("", settlement_record());
    t.workflow::<SettlementPayoutWorkflow>()
        .run()
        .input(
            "",
            PayoutInput {
                settlement_id: settlement_record().settlement_id,
                partner_code: "agartala-travels".into(),
                period_start: last_week().start,
                retry_after_secs: 900,
                attempts: 3,
            },
        )
        .output(
            "paid",
            PayoutOutcome::Paid { payout_id: "pout_OyQ2Lw8uT1x0Zr".into(), utr: Some("SBOXN26120700017".into()) },
        )
        .output(
            "left_to_operator",
            PayoutOutcome::LeftToOperator {
                attempts: 3,
                reason: "Payout rejected by the beneficiary bank. Please contact the beneficiary bank.".into(),
            },
        );
    let cycle = |cycle, period_start: Option<&str>| SettlementCycleInput {
        partner_id: id(UDAIPUR_YATRA),
        partner_code: "udaipur-yatra".into(),
        cycle,
        period_start: period_start.map(day),
    };
    t.workflow::<PartnerSettlementCycleWorkflow>()
        .run()
        // As its schedule starts it: the last period completed.
        .input("", cycle(SettlementCycle::Weekly, None))
        .input("fortnightly", cycle(SettlementCycle::Fortnightly, None))
        // An operator settling a chosen period by hand.
        .input("monthly_by_hand", cycle(SettlementCycle::Monthly, Some("2026-10-01")))
        .output(
            "",
            SettlementRecord {
                settlement_id: id("257dff0e-8e68-4366-a453-c03b55a3cbd6"),
                partner_id: id(UDAIPUR_YATRA),
                period: last_week(),
                bookings: 1,
                refunds: 0,
                commission_bp: 1_000,
                collected: Money::inr(945_000),
                refunded: Money::inr(0),
                commission: Money::inr(94_500),
                tds: Money::inr(1_890),
                payout: Money::inr(92_610),
            },
        );

    t
}

// ---------------------------------------------------------------- samples

/// The demo heritage hotel of the recorded histories.
const HOTEL: &str = "74190000-0000-4000-8000-000000000065";
const USER: &str = "bba9f931-3e1e-444e-acdf-fa416de65587";
const OPERATOR: &str = "5d0c36a2-8f1e-4b7a-9c3d-2e6f41a8b907";
const PARTNER: &str = "0e770666-74a7-4d91-ad1d-37911d4f7916";
const AGARTALA_TRAVELS: &str = "1ee9ee4c-3515-4def-a776-02fcb7afd8e7";
const UDAIPUR_YATRA: &str = "edacab6e-5d10-4eef-af45-5680df8181af";
const CHECKOUT_PAYMENT: &str = "90c78dcf-dd8e-433c-9057-26661eb9ee45";
const CHECKOUT_ORDER: &str = "order_UYj3pcNJP3BFmY";
const CHECKOUT_GATEWAY_PAYMENT: &str = "pay_hLY2wDTeOwq5AS";

fn id(text: &str) -> Uuid {
    text.parse().expect("a uuid")
}

fn day(text: &str) -> NaiveDate {
    text.parse().expect("a date")
}

fn booking(text: &str) -> BookingRef {
    BookingRef::parse(text).expect("a booking reference")
}

/// One booking the samples follow through the saga.
struct Scenario {
    reference: BookingRef,
    stay: StayRequest,
    quote: StayQuote,
}

impl Scenario {
    fn new(reference: &str, check_in: &str, check_out: &str, rooms: u32, guests: u32, tariffs: &[i64]) -> Self {
        let dates = StayDates { check_in: day(check_in), check_out: day(check_out) };
        let nights: Vec<_> = dates.each_night().zip(tariffs.iter().copied()).collect();
        Scenario {
            reference: booking(reference),
            stay: StayRequest {
                accommodation_id: id(HOTEL),
                accommodation_code: "ujjayanta-heritage-hotel".into(),
                room_type: "deluxe_double".into(),
                dates,
                rooms,
                guests,
            },
            quote: quote_stay(&nights, rooms, Currency::Inr).expect("a quote"),
        }
    }

    fn hold_id(&self) -> String {
        format!("{}/hold", self.reference.workflow_id())
    }

    fn charge_key(&self) -> String {
        format!("{}/charge", self.reference.workflow_id())
    }
}

/// Two adults and a child on the grand circuit, with two included stays, paid on the
/// checkout by a signed-in traveller.
fn package_input() -> PackageBookingInput {
    let party = PackageParty { adults: 2, children: 1, rooms: 1 };
    let rate = PackageRate {
        basis: PricingBasis::PerPerson,
        valid_from: day("2026-10-01"),
        valid_to: day("2027-03-31"),
        price: Money { amount: 2_450_000, currency: Currency::Inr },
        child_price: Some(Money { amount: 1_650_000, currency: Currency::Inr }),
    };
    let departure = day("2027-01-15");
    let stay = |code: &str, room_type: &str, check_in: &str, check_out: &str| IncludedStay {
        accommodation_id: id(HOTEL),
        accommodation_code: code.into(),
        room_type: room_type.into(),
        dates: StayDates { check_in: day(check_in), check_out: day(check_out) },
        rooms: 1,
    };
    PackageBookingInput {
        booking_ref: BookingRef::parse("TRP-H7PK2W").unwrap(),
        order: PackageOrder {
            package_id: id("5a0c0000-0000-4000-8000-00000000c1c1"),
            package_code: "tripura-grand-circuit".into(),
            departure,
            returns: day("2027-01-20"),
            party,
            stays: vec![
                stay("ujjayanta-heritage-hotel", "deluxe_double", "2027-01-15", "2027-01-17"),
                stay("neermahal-lake-resort", "lake_view", "2027-01-17", "2027-01-18"),
            ],
        },
        lead_traveller: traveller(),
        quote: quote_package(&[rate], departure, party).unwrap(),
        payment_method: PaymentMethod::checkout(),
        user_id: Some(id(USER)),
        partner_id: None,
        payment_window_secs: Some(900),
        request: Some(user_request()),
    }
}

/// Two rooms for two nights, paid by card.
fn card_booking() -> Scenario {
    Scenario::new("TRP-PGBK5Q", "2026-12-10", "2026-12-12", 2, 2, &[450_000, 450_000])
}

/// One room, paid on the gateway's checkout by a signed-in traveller.
fn checkout_booking() -> Scenario {
    Scenario::new("TRP-5JVB0C", "2026-12-20", "2026-12-22", 1, 1, &[450_000, 450_000])
}

/// A partner's booking whose second night's tariff is in the upper GST slab.
fn partner_booking() -> Scenario {
    Scenario::new("TRP-QHAZ5E", "2027-01-09", "2027-01-11", 1, 2, &[450_000, 820_000])
}

fn traveller() -> LeadTraveller {
    LeadTraveller { name: "Ananya Debbarma".into(), email: "ananya@example.in".into(), phone: "+919876543210".into() }
}

fn user_request() -> BookingRequestKey {
    BookingRequestKey {
        idempotency_key: format!("client:{USER}:checkout-7f3a91"),
        request_hash: "18e5caf29301e6f0b92b74739c714a64c52a0221a5a2129668ccd6e14266fee1".into(),
    }
}

fn partner_request() -> BookingRequestKey {
    BookingRequestKey {
        idempotency_key: format!("partner:{PARTNER}:PO-2026-0412"),
        request_hash: "475ea0ce96ef5353a996dbd14eb904cf591ad64b25d2900edc2c809705b1a927".into(),
    }
}

fn saga_input(s: &Scenario, payment_method: PaymentMethod) -> BookingSagaInput {
    BookingSagaInput {
        booking_ref: s.reference.clone(),
        stay: s.stay.clone(),
        lead_traveller: traveller(),
        quote: s.quote.clone(),
        payment_method,
        user_id: None,
        payment_window_secs: None,
        partner_id: None,
        request: None,
        local_booking_steps: false,
    }
}

fn hold_request(s: &Scenario) -> HoldRequest {
    HoldRequest {
        hold_id: s.hold_id(),
        booking_ref: s.reference.clone(),
        accommodation_id: s.stay.accommodation_id,
        room_type: s.stay.room_type.clone(),
        dates: s.stay.dates,
        rooms: s.stay.rooms,
    }
}

fn new_booking_record(s: &Scenario) -> NewBookingRecord {
    NewBookingRecord {
        booking_ref: s.reference.clone(),
        accommodation_id: s.stay.accommodation_id,
        room_type: s.stay.room_type.clone(),
        dates: s.stay.dates,
        rooms: s.stay.rooms,
        guests: s.stay.guests,
        lead_traveller: traveller(),
        quote: s.quote.clone(),
        hold_id: s.hold_id(),
        user_id: None,
        partner_id: None,
        request: None,
    }
}

fn card_charge(s: &Scenario) -> Charge {
    Charge {
        payment_id: id("ff5a0c7c-eb85-457b-9c49-a112d6e27e74"),
        gateway_order_id: "order_71sJ7oesxOeaVJ".into(),
        gateway_payment_id: "pay_6wMcaCIn1CKWOF".into(),
        captured: s.quote.total,
    }
}

fn checkout_charge(s: &Scenario) -> Charge {
    Charge {
        payment_id: id(CHECKOUT_PAYMENT),
        gateway_order_id: CHECKOUT_ORDER.into(),
        gateway_payment_id: CHECKOUT_GATEWAY_PAYMENT.into(),
        captured: s.quote.total,
    }
}

fn confirmation(s: &Scenario) -> BookingConfirmation {
    let charge = card_charge(s);
    BookingConfirmation {
        booking_ref: s.reference.clone(),
        amount_charged: charge.captured,
        payment_id: charge.payment_id,
    }
}

fn cancellation_input(s: &Scenario) -> CancellationInput {
    CancellationInput {
        booking_ref: s.reference.clone(),
        requested_by: format!("user:{USER}"),
        reason: "plans changed".into(),
        override_refund: None,
    }
}

/// An operator's cancellation, refunding in full against the policy.
fn cancellation_override(s: &Scenario) -> CancellationInput {
    CancellationInput {
        requested_by: format!("user:{OPERATOR}"),
        reason: "road to Agartala closed by landslide".into(),
        override_refund: Some(RefundOverride {
            refund_bp: 10_000,
            reason: "guest could not travel: landslide on NH-8".into(),
            by: id(OPERATOR),
        }),
        ..cancellation_input(s)
    }
}

fn auto_refund_request(s: &Scenario) -> RefundPaymentRequest {
    RefundPaymentRequest {
        booking_ref: s.reference.clone(),
        charge_idempotency_key: s.charge_key(),
        gateway_payment_id: "pay_czg808FhtFS0YJ".into(),
        reason: "no_booking_waiting".into(),
    }
}

fn reconcile_request() -> ReconcileRequest {
    ReconcileRequest { stale_after_secs: 3_600, limit: 100 }
}

fn step_repair() -> StepRepair {
    StepRepair {
        reason: "gateway support ticket 4411".into(),
        requested_by: "user:0b9e7f54-2d0c-4a8e-9d55-3b1f1b7c2a10".into(),
    }
}

fn repaired(step: &str) -> StepRepaired {
    StepRepaired { step: step.into() }
}

fn progress(s: &Scenario, status: BookingStatus) -> BookingProgress {
    BookingProgress {
        booking_ref: s.reference.clone(),
        status,
        stay: s.stay.clone(),
        total: s.quote.total,
        amount_charged: None,
        amount_refunded: None,
        failure: None,
        checkout: None,
        amount_owed: None,
    }
}

fn confirmed(s: &Scenario) -> BookingProgress {
    BookingProgress { amount_charged: Some(s.quote.total), ..progress(s, BookingStatus::Confirmed) }
}

fn cancelled_before_confirmation() -> FailureReason {
    FailureReason { code: "cancelled".into(), message: "The booking was cancelled before it was confirmed".into() }
}

/// Charged, then cancelled before the rooms were booked: everything given back.
fn failed_after_refund(s: &Scenario) -> BookingProgress {
    BookingProgress {
        amount_charged: Some(s.quote.total),
        amount_refunded: Some(s.quote.total),
        failure: Some(cancelled_before_confirmation()),
        ..progress(s, BookingStatus::Failed)
    }
}

fn compensating(s: &Scenario) -> BookingProgress {
    BookingProgress {
        amount_charged: Some(s.quote.total),
        failure: Some(cancelled_before_confirmation()),
        ..progress(s, BookingStatus::Compensating)
    }
}

fn webhook_resolution(action: WebhookAction) -> WebhookResolutionInput {
    WebhookResolutionInput {
        event_id: "evt_KvIG3V0eEoH68B".into(),
        action,
        reason: "no booking behind this order".into(),
        requested_by: "user:3f9b2c4e-8a41-4d7e-9b0a-5c1d2e3f4a5b".into(),
    }
}

fn window_extension() -> PaymentWindowExtension {
    PaymentWindowExtension {
        minutes: 60,
        reason: "bank OTP outage, traveller will retry".into(),
        requested_by: "user:3f9b2c4e-8a41-4d7e-9b0a-5c1d2e3f4a5b".into(),
    }
}

fn awaiting_checkout(s: &Scenario) -> BookingProgress {
    BookingProgress {
        checkout: Some(CheckoutState {
            gateway_order_id: CHECKOUT_ORDER.into(),
            amount: s.quote.total,
            expires_at_ms: 1_796_111_245_000,
        }),
        ..progress(s, BookingStatus::AwaitingPayment)
    }
}

fn expired(s: &Scenario) -> BookingProgress {
    BookingProgress {
        failure: Some(FailureReason {
            code: "expired".into(),
            message: "The payment did not arrive in time; the rooms were released".into(),
        }),
        ..progress(s, BookingStatus::Expired)
    }
}

/// Monday to Monday, the week the recorded settlements settled.
fn last_week() -> SettlementPeriod {
    SettlementPeriod { start: day("2026-11-23"), end: day("2026-11-30") }
}

fn new_settlement() -> NewSettlement {
    NewSettlement {
        partner_id: id(AGARTALA_TRAVELS),
        period: last_week(),
        bookings: 3,
        refunds: 2,
        commission_bp: 1_250,
        figures: SettlementFigures {
            collected: 3_780_000,
            refunded: 123_457,
            commission: 457_068,
            tds: 9_141,
            payout: 447_927,
        },
    }
}

fn bank_account() -> BankAccount {
    BankAccount {
        name: "Agartala Travels Pvt Ltd".into(),
        ifsc: "SBIN0001234".into(),
        account_number: "30218476510".into(),
    }
}

fn payout_instruction(paid: Option<PaidPayout>) -> PayoutInstruction {
    PayoutInstruction {
        settlement_id: settlement_record().settlement_id,
        partner_code: "agartala-travels".into(),
        partner_name: "Agartala Travels".into(),
        amount: Money::inr(447_927),
        account: bank_account(),
        paid,
        attempts_before: 0,
    }
}

fn processed_payout() -> PayoutResult {
    PayoutResult {
        payout_id: "pout_OyQ2Lw8uT1x0Zr".into(),
        status: "processed".into(),
        utr: Some("SBOXN26120700017".into()),
        failure_reason: None,
    }
}

fn reversed_payout() -> PayoutResult {
    PayoutResult {
        payout_id: "pout_OyQ1Kv7tS0w9Yq".into(),
        status: "reversed".into(),
        utr: None,
        failure_reason: Some("Payout rejected by the beneficiary bank. Please contact the beneficiary bank.".into()),
    }
}

fn settlement_record() -> SettlementRecord {
    SettlementRecord {
        settlement_id: id("7ee2ea33-c062-4b78-a878-f3f8b930299a"),
        partner_id: id(AGARTALA_TRAVELS),
        period: last_week(),
        bookings: 3,
        refunds: 2,
        commission_bp: 1_250,
        collected: Money::inr(3_780_000),
        refunded: Money::inr(123_457),
        commission: Money::inr(457_068),
        tds: Money::inr(9_141),
        payout: Money::inr(447_927),
    }
}

// ---------------------------------------------------------------- the checks

#[test]
fn every_payload_fixture_decodes_and_encodes_back_unchanged() {
    let table = table();
    let root = fixtures_dir();
    let mut problems = table.problems.clone();
    let listed: BTreeSet<&str> = table.fixtures.iter().map(|f| f.name.as_str()).collect();

    for file in files_under(&root) {
        let relative = file.strip_prefix(&root).expect("under the fixtures").to_string_lossy().replace('\\', "/");
        match relative.strip_suffix(".json") {
            Some(name) if listed.contains(name) => {}
            Some(_) => problems.push(format!(
                "{relative}: no entry in the table, so nothing checks it; add the payload it records to `table()`"
            )),
            None => problems.push(format!("{relative}: not a fixture (fixtures are `.json` files)")),
        }
    }

    let writing = std::env::var(WRITE_FIXTURES).is_ok_and(|v| v == "1");
    for fixture in &table.fixtures {
        let path = root.join(format!("{}.json", fixture.name));
        if !path.exists() {
            if !writing {
                problems.push(format!(
                    "{}.json ({}): listed but missing; write it from today's types with \
                     {WRITE_FIXTURES}=1 cargo test -p sagas --test payloads",
                    fixture.name, fixture.type_name
                ));
                continue;
            }
            match write_new(&path, &fixture.sample) {
                Ok(()) => eprintln!("wrote {}", path.display()),
                Err(e) => {
                    problems.push(format!("{}.json: could not write it: {e}", fixture.name));
                    continue;
                }
            }
        }
        if let Err(problem) = check(fixture, &path) {
            problems.push(format!("{}.json ({}): {problem}", fixture.name, fixture.type_name));
        }
    }

    for (slot, type_name) in &table.required {
        let covered = listed
            .iter()
            .any(|name| name.strip_prefix(slot.as_str()).is_some_and(|rest| rest.is_empty() || rest.starts_with('.')));
        if !covered {
            problems.push(format!("{slot} ({type_name}): crosses Temporal but has no fixture in the table"));
        }
    }

    assert!(
        problems.is_empty(),
        "{} payload fixture problem(s); a fixture is what a deployed worker may send, so change the code \
         (or add a new payload type and a workflow patch), never the fixture:\n- {}",
        problems.len(),
        problems.join("\n- ")
    );
}

#[test]
fn every_activity_declared_in_the_contracts_has_fixtures() {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let workspace = manifest.join("../..");
    let mut problems = Vec::new();
    let mut declared = BTreeSet::new();
    for (place, args) in attributes(&workspace.join("workflows/contracts/src"), "activity") {
        match quoted_name(&args) {
            Some(name) => {
                declared.insert(name);
            }
            None => problems.push(format!("{place}: an activity must pin its name (`#[activity(name = \"...\")]`)")),
        }
    }
    // Contexts implement the declarations; one that declared an activity of its own would
    // send payloads no contract (and no fixture) describes.
    for context in fs::read_dir(workspace.join("activities")).expect("the activities directory") {
        let src = context.expect("a readable entry").path().join("src");
        for (place, args) in attributes(&src, "activity") {
            if !args.contains("definition") {
                problems.push(format!(
                    "{place}: implements an activity no contract declares; declare it in `contracts` first"
                ));
            }
        }
    }
    let listed: BTreeSet<String> = table().activities.into_iter().collect();
    for name in declared.difference(&listed) {
        problems.push(format!("activity {name}: declared, but has no entry in `table()`"));
    }
    for name in listed.difference(&declared) {
        problems.push(format!("activity {name}: in `table()`, but no `#[activity(name = ...)]` declares it"));
    }
    assert!(problems.is_empty(), "activities without payload fixtures:\n- {}", problems.join("\n- "));
}

#[test]
fn every_workflow_and_each_of_its_handlers_has_fixtures() {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut problems = Vec::new();
    let mut defined = BTreeSet::new();
    for (place, args) in attributes(&manifest.join("src"), "run") {
        match quoted_name(&args) {
            Some(name) => {
                defined.insert(name);
            }
            None => problems.push(format!("{place}: a workflow must pin its type name (`#[run(name = \"...\")]`)")),
        }
    }
    let table = table();
    let listed: BTreeSet<String> = table.workflows.iter().map(|w| w.name.clone()).collect();
    for name in defined.difference(&listed) {
        problems.push(format!("workflow {name}: defined, but has no entry in `table()`"));
    }
    for name in listed.difference(&defined) {
        problems.push(format!("workflow {name}: in `table()`, but no `#[run(name = ...)]` defines it"));
    }
    for name in [temporal::BOOKING_SAGA_TYPE, temporal::REPAIR_BOOKING_TYPE] {
        if !listed.contains(name) {
            problems.push(format!("workflow {name}: named in `contracts::temporal`, but has no entry in `table()`"));
        }
    }
    // The handlers a workflow registers, as the worker sees them, against the table's.
    for workflow in &table.workflows {
        let registered = &workflow.descriptor;
        let updates: Vec<String> = registered.updates.iter().map(|u| u.name.clone()).collect();
        for (kind, registered, listed) in [
            ("signal", &registered.signals, &workflow.signals),
            ("query", &registered.queries, &workflow.queries),
            ("update", &updates, &workflow.updates),
        ] {
            let registered: BTreeSet<&String> = registered.iter().collect();
            let listed: BTreeSet<&String> = listed.iter().collect();
            for name in registered.difference(&listed) {
                problems.push(format!("{} {kind} `{name}`: handled, but has no entry in `table()`", workflow.name));
            }
            for name in listed.difference(&registered) {
                problems.push(format!(
                    "{} {kind} `{name}`: in `table()`, but the workflow has no such handler",
                    workflow.name
                ));
            }
        }
    }
    assert!(problems.is_empty(), "workflows without payload fixtures:\n- {}", problems.join("\n- "));
}

/// Decodes the fixture as its type, encodes it back, and names the first difference.
fn check(fixture: &Fixture, path: &Path) -> Result<(), String> {
    let text = fs::read_to_string(path).map_err(|e| format!("unreadable: {e}"))?;
    let recorded: Value = serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))?;
    let encoded = (fixture.round_trip)(recorded.clone())?;
    match first_difference("$", &recorded, &encoded) {
        None => Ok(()),
        Some(difference) => Err(format!("encodes back differently at {difference}")),
    }
}

/// Decodes `json` as `T` the way a worker reads a payload, and encodes the value again.
fn round_trip<T: Sample>(json: Value) -> Result<Value, String> {
    let value: T = serde_path_to_error::deserialize(json).map_err(|e| {
        let at = match e.path().to_string().as_str() {
            "." => "$".to_string(),
            path => format!("$.{path}"),
        };
        format!("no longer decodes, at {at}: {}", e.inner())
    })?;
    serde_json::to_value(&value).map_err(|e| format!("no longer encodes: {e}"))
}

/// The first path at which what today's type writes differs from the fixture.
fn first_difference(path: &str, recorded: &Value, encoded: &Value) -> Option<String> {
    match (recorded, encoded) {
        (Value::Object(recorded), Value::Object(encoded)) => {
            let keys = recorded.keys().chain(encoded.keys().filter(|k| !recorded.contains_key(*k)));
            for key in keys {
                let at = format!("{path}.{key}");
                match (recorded.get(key), encoded.get(key)) {
                    (Some(r), Some(e)) => {
                        if let Some(difference) = first_difference(&at, r, e) {
                            return Some(difference);
                        }
                    }
                    (Some(r), None) => {
                        return Some(format!("{at}: the fixture has {r}, today's type no longer writes the field"));
                    }
                    (None, Some(e)) => {
                        return Some(format!("{at}: today's type writes {e}, which the fixture does not have"));
                    }
                    (None, None) => {}
                }
            }
            None
        }
        (Value::Array(recorded), Value::Array(encoded)) => {
            for (i, (r, e)) in recorded.iter().zip(encoded).enumerate() {
                if let Some(difference) = first_difference(&format!("{path}[{i}]"), r, e) {
                    return Some(difference);
                }
            }
            (recorded.len() != encoded.len()).then(|| {
                format!("{path}: the fixture has {} items, today's type writes {}", recorded.len(), encoded.len())
            })
        }
        (r, e) if r == e => None,
        (r, e) => Some(format!("{path}: the fixture has {r}, today's type writes {e}")),
    }
}

/// Writes a new fixture; refuses to replace a file that exists.
fn write_new(path: &Path, contents: &Result<String, String>) -> Result<(), String> {
    let contents = contents.as_ref().map_err(|e| format!("the sample does not encode: {e}"))?;
    fs::create_dir_all(path.parent().expect("a fixture has a directory")).map_err(|e| e.to_string())?;
    let mut file = fs::OpenOptions::new().write(true).create_new(true).open(path).map_err(|e| e.to_string())?;
    file.write_all(format!("{contents}\n").as_bytes()).map_err(|e| e.to_string())
}

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/payloads")
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else { return Vec::new() };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.expect("a readable entry").path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// Every `#[<attribute>(...)]` or bare `#[<attribute>]` in the Rust sources under `dir`, with
/// where it is and its arguments. Comments are skipped.
fn attributes(dir: &Path, attribute: &str) -> Vec<(String, String)> {
    let open = format!("#[{attribute}(");
    let bare = format!("#[{attribute}]");
    let mut found = Vec::new();
    for file in files_under(dir).into_iter().filter(|f| f.extension().is_some_and(|e| e == "rs")) {
        let source = fs::read_to_string(&file).expect("a readable source file");
        for (n, line) in source.lines().enumerate() {
            let line = line.trim();
            let place = || format!("{}:{}", file.display(), n + 1);
            if let Some(args) = line.strip_prefix(&open) {
                found.push((place(), args.split(")]").next().unwrap_or_default().to_string()));
            } else if line.starts_with(&bare) {
                found.push((place(), String::new()));
            }
        }
    }
    found
}

/// The `name = "..."` of an attribute's arguments.
fn quoted_name(args: &str) -> Option<String> {
    let rest = args.split_once("name")?.1.trim_start().strip_prefix('=')?.trim_start().strip_prefix('"')?;
    Some(rest.split_once('"')?.0.to_string())
}

// ---------------------------------------------------------------- the table's machinery

/// What a payload type must do: be read and written by the serde JSON converter.
trait Sample: Serialize + DeserializeOwned + 'static {}
impl<T: Serialize + DeserializeOwned + 'static> Sample for T {}

/// One golden payload.
struct Fixture {
    /// Its path under `tests/payloads/`, without `.json`.
    name: String,
    type_name: &'static str,
    round_trip: fn(Value) -> Result<Value, String>,
    /// What today's type writes for the sample: the contents of a new fixture.
    sample: Result<String, String>,
}

/// A workflow of the table, with the handlers the table has fixtures for.
struct ListedWorkflow {
    name: String,
    descriptor: WorkflowDefinitionDescriptor,
    signals: Vec<String>,
    queries: Vec<String>,
    updates: Vec<String>,
}

#[derive(Default)]
struct Table {
    fixtures: Vec<Fixture>,
    /// Payload slots whose type carries data: each needs a fixture (`()` is sent as no data).
    required: Vec<(String, &'static str)>,
    activities: Vec<String>,
    workflows: Vec<ListedWorkflow>,
    problems: Vec<String>,
}

impl Table {
    fn activity<A>(&mut self, activity: A) -> Payload<'_, A::Input, A::Output>
    where
        A: ActivityDefinition,
        A::Input: Sample,
        A::Output: Sample,
    {
        let name = activity.name().to_string();
        if self.activities.contains(&name) {
            self.problems.push(format!("activity {name}: listed twice in the table"));
        }
        self.activities.push(name.clone());
        Payload::new(self, format!("activities/{name}"))
    }

    fn workflow<W>(&mut self) -> WorkflowPayloads<'_, W>
    where
        W: WorkflowImplementation,
    {
        let descriptor = W::definition();
        let name = descriptor.workflow_type.clone();
        if self.workflows.iter().any(|w| w.name == name) {
            self.problems.push(format!("workflow {name}: listed twice in the table"));
        }
        self.workflows.push(ListedWorkflow {
            name,
            descriptor,
            signals: Vec::new(),
            queries: Vec::new(),
            updates: Vec::new(),
        });
        let index = self.workflows.len() - 1;
        WorkflowPayloads { table: self, index, workflow: PhantomData }
    }

    fn add<T: Sample>(&mut self, dir: &str, role: &str, variant: &str, sample: T) {
        if !variant.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
            self.problems.push(format!("{dir}/{role}.{variant}: a variant is lower case, digits and `_`"));
        }
        let name = if variant.is_empty() { format!("{dir}/{role}") } else { format!("{dir}/{role}.{variant}") };
        if self.fixtures.iter().any(|f| f.name == name) {
            self.problems.push(format!("{name}: listed twice in the table"));
        }
        let sample = serde_json::to_string_pretty(&sample).map_err(|e| e.to_string());
        self.fixtures.push(Fixture { name, type_name: type_name::<T>(), round_trip: round_trip::<T>, sample });
    }

    fn require<T: 'static>(&mut self, slot: String) {
        if TypeId::of::<T>() != TypeId::of::<()>() {
            self.required.push((slot, type_name::<T>()));
        }
    }
}

/// The fixtures of one payload carrier: an activity, a workflow run or one of its handlers.
struct Payload<'t, I, O> {
    table: &'t mut Table,
    dir: String,
    types: PhantomData<fn(I) -> O>,
}

impl<'t, I: Sample, O: Sample> Payload<'t, I, O> {
    fn new(table: &'t mut Table, dir: String) -> Self {
        table.require::<I>(format!("{dir}/input"));
        table.require::<O>(format!("{dir}/output"));
        Payload { table, dir, types: PhantomData }
    }

    fn input(self, variant: &str, sample: I) -> Self {
        self.table.add(&self.dir, "input", variant, sample);
        self
    }

    fn output(self, variant: &str, sample: O) -> Self {
        self.table.add(&self.dir, "output", variant, sample);
        self
    }

    /// What an activity's heartbeats carry for its next attempt.
    fn heartbeat<H: Sample>(self, variant: &str, sample: H) -> Self {
        self.table.add(&self.dir, "heartbeat", variant, sample);
        self
    }
}

struct WorkflowPayloads<'t, W> {
    table: &'t mut Table,
    index: usize,
    workflow: PhantomData<W>,
}

type RunInput<W> = <<W as WorkflowImplementation>::Run as WorkflowDefinition>::Input;
type RunOutput<W> = <<W as WorkflowImplementation>::Run as WorkflowDefinition>::Output;

impl<W> WorkflowPayloads<'_, W>
where
    W: WorkflowImplementation,
    W::Run: 'static,
    RunInput<W>: Sample,
    RunOutput<W>: Sample,
{
    fn dir(&self) -> String {
        format!("workflows/{}", self.table.workflows[self.index].name)
    }

    /// The workflow's input (its start and child-start argument) and result.
    fn run(&mut self) -> Payload<'_, RunInput<W>, RunOutput<W>> {
        let dir = self.dir();
        Payload::new(self.table, dir)
    }

    fn signal<S>(&mut self, signal: S) -> Payload<'_, S::Input, ()>
    where
        S: SignalDefinition,
        S::Input: Sample,
        S::Workflow: 'static,
    {
        let dir = self.handler::<S::Workflow>("signals", signal.name());
        Payload::new(self.table, dir)
    }

    fn query<Q>(&mut self, query: Q) -> Payload<'_, Q::Input, Q::Output>
    where
        Q: QueryDefinition,
        Q::Input: Sample,
        Q::Output: Sample,
        Q::Workflow: 'static,
    {
        let dir = self.handler::<Q::Workflow>("queries", query.name());
        Payload::new(self.table, dir)
    }

    // No workflow takes an update yet; the handler check asks for its fixtures, here, as
    // soon as one does.
    #[allow(dead_code)]
    fn update<U>(&mut self, update: U) -> Payload<'_, U::Input, U::Output>
    where
        U: UpdateDefinition,
        U::Input: Sample,
        U::Output: Sample,
        U::Workflow: 'static,
    {
        let dir = self.handler::<U::Workflow>("updates", update.name());
        Payload::new(self.table, dir)
    }

    /// Records a handler of this workflow and returns the directory of its fixtures.
    fn handler<H: 'static>(&mut self, kind: &str, name: &str) -> String {
        let dir = self.dir();
        if TypeId::of::<H>() != TypeId::of::<W::Run>() {
            self.table.problems.push(format!("{dir}/{kind}/{name}: a handler of another workflow"));
        }
        let workflow = &mut self.table.workflows[self.index];
        let listed = match kind {
            "signals" => &mut workflow.signals,
            "queries" => &mut workflow.queries,
            _ => &mut workflow.updates,
        };
        if listed.iter().any(|n| n == name) {
            self.table.problems.push(format!("{dir}/{kind}/{name}: listed twice in the table"));
        } else {
            listed.push(name.to_string());
        }
        format!("{dir}/{kind}/{name}")
    }
}

#[test]
fn the_first_difference_names_its_path() {
    let recorded = serde_json::json!({"stay": {"dates": {"check_in": "2026-12-10"}}, "lines": [1, 2]});
    let renamed = serde_json::json!({"stay": {"dates": {"arrival": "2026-12-10"}}, "lines": [1, 2]});
    assert_eq!(
        first_difference("$", &recorded, &renamed).as_deref(),
        Some("$.stay.dates.check_in: the fixture has \"2026-12-10\", today's type no longer writes the field")
    );
    let longer = serde_json::json!({"stay": {"dates": {"check_in": "2026-12-10"}}, "lines": [1, 2, 3]});
    assert_eq!(
        first_difference("$", &recorded, &longer).as_deref(),
        Some("$.lines: the fixture has 2 items, today's type writes 3")
    );
    assert_eq!(first_difference("$", &recorded, &recorded), None);
    assert_eq!(
        round_trip::<StayDates>(serde_json::json!({"check_in": "2026-12-10"})),
        Err("no longer decodes, at $: missing field `check_out`".to_string())
    );
}
