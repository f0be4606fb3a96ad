//! The package booking saga: hold the departure's seats, then the rooms of every included
//! stay → record the booking with its items → charge once for the whole → book every hold →
//! confirm; or give back everything it took, in reverse.
//!
//! Its workflow id is the booking's (`booking-<ref>`), like a stay's, so the payment webhook,
//! the cancellation saga and the Temporal UI's searches find it the same way. Its `status`
//! query answers a [`PackageBookingProgress`].

use crate::{
    compensation::{Compensation, give_back},
    options::{on_queue, own_step},
    payment_steps::{
        PayingSaga, Payment, Stop, before_hold_expires, business_stop, extend_window, stop_if_cancelled, take_payment,
        validate_extension,
    },
    repairs::{self, Repairable, StepRepairs},
};
use contracts::{
    Money,
    activities::{
        BookingActivities, BookingConfirmation, HoldRequest, InventoryActivities, NewPackageBookingRecord,
        SeatHoldRequest,
    },
    package::{PackageBookingInput, PackageBookingProgress, seat_hold_id, stay_hold_id},
    saga::{
        BookingStatus, CheckoutState, FailureReason, PaymentNotice, PaymentWindowExtension, StepRepair, StepRepaired,
    },
    temporal::{self, task_queue},
};
use std::time::Duration;
use temporalio_common::search_attributes::{SearchAttributeUpdate, Timestamp};
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{SyncWorkflowContext, WorkflowContext, WorkflowContextView, WorkflowResult};

const SHORT_STEP: Duration = Duration::from_secs(15);

#[workflow]
pub struct PackageBookingWorkflow {
    input: PackageBookingInput,
    progress: PackageBookingProgress,
    /// Every payment notice the gateway's webhooks brought, in arrival order.
    payment_notices: Vec<PaymentNotice>,
    /// Until when an operator asked the checkout to stay open (Unix milliseconds).
    window_extended_to: Option<i64>,
    /// What operators asked of a give-back step that keeps failing.
    repairs: StepRepairs,
}

impl Repairable for PackageBookingWorkflow {
    fn repairs(&self) -> &StepRepairs {
        &self.repairs
    }

    fn repairs_mut(&mut self) -> &mut StepRepairs {
        &mut self.repairs
    }
}

impl PayingSaga for PackageBookingWorkflow {
    fn payment_notices(&self) -> &[PaymentNotice] {
        &self.payment_notices
    }

    fn window_extended_to(&self) -> Option<i64> {
        self.window_extended_to
    }

    fn set_checkout(&mut self, checkout: Option<CheckoutState>) {
        self.progress.checkout = checkout;
    }

    fn add_refunded(&mut self, refunded: Money) {
        let before = self.progress.amount_refunded.map_or(0, |m| m.amount);
        self.progress.amount_refunded = Some(Money { amount: before + refunded.amount, ..refunded });
    }

    fn set_refunded(&mut self, refunded: Money) {
        self.progress.amount_refunded = Some(refunded);
    }

    fn set_owed(&mut self, owed: Money) {
        self.progress.amount_owed = Some(owed);
    }

    fn record_stop(&mut self, reason: FailureReason) {
        self.progress.failure = Some(reason);
        self.progress.checkout = None;
    }

    fn set_status(ctx: &mut WorkflowContext<Self>, next: BookingStatus) {
        set_status(ctx, next);
    }
}

#[workflow_methods]
impl PackageBookingWorkflow {
    #[init]
    pub fn new(_ctx: &WorkflowContextView, input: PackageBookingInput) -> Self {
        let progress = PackageBookingProgress::accepted(&input);
        PackageBookingWorkflow {
            input,
            progress,
            payment_notices: Vec::new(),
            window_extended_to: None,
            repairs: StepRepairs::default(),
        }
    }

    #[run(name = "PackageBookingSaga")]
    pub async fn run(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<PackageBookingProgress> {
        let input = ctx.state(|s| s.input.clone());
        let mut compensations = Vec::new();
        if let Err(stop) = Self::forward(ctx, &input, &mut compensations).await {
            give_back(ctx, &input.booking_ref, stop, compensations, "seats and rooms were").await?;
        }
        Ok(ctx.state(|s| s.progress.clone()))
    }

    /// The gateway says the checkout's order was paid (its webhook, through the API).
    #[signal(name = "payment_received")]
    pub fn payment_received(&mut self, _ctx: &mut SyncWorkflowContext<Self>, notice: PaymentNotice) {
        self.payment_notices.push(notice);
    }

    /// An operator gives the traveller more time to pay on the checkout; answers the
    /// checkout with its new end (the holds are kept as long before the wait resumes).
    #[update(name = "extend_payment_window")]
    pub fn extend_payment_window(
        &mut self,
        ctx: &mut SyncWorkflowContext<Self>,
        extension: PaymentWindowExtension,
    ) -> CheckoutState {
        extend_window(
            &mut self.window_extended_to,
            self.progress.checkout.as_ref(),
            ctx.workflow_time(),
            extension.minutes,
        )
    }

    #[update_validator(extend_payment_window)]
    pub fn validate_extend_payment_window(
        &self,
        _ctx: &WorkflowContextView,
        extension: &PaymentWindowExtension,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        validate_extension(self.progress.status, self.progress.checkout.as_ref(), extension)
    }

    /// An operator asks a give-back step that keeps failing to be tried again now.
    #[update(name = "retry_step_now")]
    pub fn retry_step_now(&mut self, _ctx: &mut SyncWorkflowContext<Self>, _repair: StepRepair) -> StepRepaired {
        repairs::ask_retry(&mut self.repairs)
    }

    #[update_validator(retry_step_now)]
    pub fn validate_retry_step_now(
        &self,
        _ctx: &WorkflowContextView,
        repair: &StepRepair,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        repairs::validate_retry(&self.repairs, repair)
    }

    /// An operator takes over the refund the gateway keeps refusing: it is owed, not retried.
    #[update(name = "hand_refund_over")]
    pub fn hand_refund_over(&mut self, _ctx: &mut SyncWorkflowContext<Self>, repair: StepRepair) -> StepRepaired {
        repairs::ask_handover(&mut self.repairs, repair)
    }

    #[update_validator(hand_refund_over)]
    pub fn validate_hand_refund_over(
        &self,
        _ctx: &WorkflowContextView,
        repair: &StepRepair,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        repairs::validate_handover(&self.repairs, repair)
    }

    /// The saga's live progress, for the API and for operators.
    #[query(name = "status")]
    pub fn status(&self, _ctx: &WorkflowContextView) -> PackageBookingProgress {
        self.progress.clone()
    }
}

impl PackageBookingWorkflow {
    async fn forward(
        ctx: &mut WorkflowContext<Self>,
        input: &PackageBookingInput,
        compensations: &mut Vec<Compensation>,
    ) -> Result<(), Stop> {
        let workflow_id = ctx.workflow_id().to_string();
        let order = &input.order;
        let seat_hold = seat_hold_id(&workflow_id);
        let stay_holds: Vec<String> = (0..order.stays.len()).map(|i| stay_hold_id(&workflow_id, i)).collect();

        // Seats first: they are what runs out. Each hold's release is registered before it
        // is asked for, so a crash or a refusal anywhere gives back every hold placed.
        stop_if_cancelled(ctx)?;
        compensations.push(Compensation::ReleaseHold { hold_id: seat_hold.clone() });
        let seats = SeatHoldRequest {
            hold_id: seat_hold.clone(),
            booking_ref: input.booking_ref.clone(),
            package_id: order.package_id,
            departure: order.departure,
            seats: order.seats(),
        };
        let held = ctx
            .execute_activity(InventoryActivities::hold_seats, seats, short_step(task_queue::INVENTORY))
            .await
            .map_err(business_stop)?;
        let mut hold_expires_at_ms = held.expires_at_ms;
        for (stay, hold_id) in order.stays.iter().zip(&stay_holds) {
            stop_if_cancelled(ctx)?;
            compensations.push(Compensation::ReleaseHold { hold_id: hold_id.clone() });
            let rooms = HoldRequest {
                hold_id: hold_id.clone(),
                booking_ref: input.booking_ref.clone(),
                accommodation_id: stay.accommodation_id,
                room_type: stay.room_type.clone(),
                dates: stay.dates,
                rooms: stay.rooms,
            };
            let held = ctx
                .execute_activity(InventoryActivities::hold_rooms, rooms, short_step(task_queue::INVENTORY))
                .await
                .map_err(business_stop)?;
            // The payment must be done while every hold still counts.
            hold_expires_at_ms = match (hold_expires_at_ms, held.expires_at_ms) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        set_status(ctx, BookingStatus::Held);

        stop_if_cancelled(ctx)?;
        compensations.push(Compensation::FailBookingRecord);
        let record = NewPackageBookingRecord {
            booking_ref: input.booking_ref.clone(),
            order: order.clone(),
            lead_traveller: input.lead_traveller.clone(),
            quote: input.quote.clone(),
            seat_hold_id: seat_hold.clone(),
            stay_hold_ids: stay_holds.clone(),
            user_id: input.user_id,
            partner_id: input.partner_id,
            request: input.request.clone(),
        };
        let within = before_hold_expires(ctx, hold_expires_at_ms);
        ctx.execute_local_activity(
            BookingActivities::create_package_booking,
            record,
            own_step(SHORT_STEP, within, "Record the package booking"),
        )
        .await
        .map_err(business_stop)?;
        set_status(ctx, BookingStatus::AwaitingPayment);

        stop_if_cancelled(ctx)?;
        let charge_key = format!("{workflow_id}/charge");
        compensations.push(Compensation::RefundCharge { charge_idempotency_key: charge_key.clone() });
        let payment = Payment {
            booking_ref: &input.booking_ref,
            total: input.quote.total,
            method: &input.payment_method,
            window_secs: input.payment_window_secs,
            charge_key,
            hold_expires_at_ms,
            hold_ids: std::iter::once(seat_hold.clone()).chain(stay_holds.iter().cloned()).collect(),
        };
        let charge = take_payment(ctx, payment).await?;
        ctx.state_mut(|s| s.progress.amount_charged = Some(charge.captured));

        // A cancellation that arrived while the card was being charged still wins, as for
        // stays. After this point the booking is confirmed.
        stop_if_cancelled(ctx)?;
        for hold_id in std::iter::once(&seat_hold).chain(&stay_holds) {
            compensations.push(Compensation::UnbookHold { hold_id: hold_id.clone() });
            ctx.execute_activity(InventoryActivities::confirm_hold, hold_id.clone(), short_step(task_queue::INVENTORY))
                .await
                .map_err(business_stop)?;
        }
        let confirmation = BookingConfirmation {
            booking_ref: input.booking_ref.clone(),
            amount_charged: charge.captured,
            payment_id: charge.payment_id,
        };
        // Seats and rooms booked and money taken: this step never gives up.
        ctx.execute_local_activity(
            BookingActivities::confirm_booking,
            confirmation,
            own_step(SHORT_STEP, None, "Confirm the booking"),
        )
        .await
        .map_err(business_stop)?;
        set_status(ctx, BookingStatus::Confirmed);
        Ok(())
    }
}

fn short_step(queue: &str) -> temporalio_sdk::ActivityOptions {
    on_queue(queue, SHORT_STEP)
}

/// What operators find a package booking's saga by, as it starts: the same attributes as a
/// stay's, with the departure as its check-in.
pub fn package_search_attributes(input: &PackageBookingInput) -> Vec<SearchAttributeUpdate> {
    let midnight = input.order.departure.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp());
    [
        temporal::BOOKING_REF.value_set(input.booking_ref.to_string()),
        temporal::BOOKING_STATUS.value_set(BookingStatus::Pending.as_str().to_string()),
        temporal::BOOKING_CUSTOMER.value_set(input.user_id.map(|id| id.to_string()).unwrap_or_default()),
        temporal::BOOKING_CHECK_IN.value_set(Timestamp::new(midnight.unwrap_or_default(), 0)),
    ]
    .into_iter()
    .chain(input.partner_id.map(|p| temporal::BOOKING_PARTNER.value_set(p.to_string())))
    .collect()
}

/// Moves the saga's status; the search attribute follows where the saga rests (pending,
/// awaiting a checkout payment, compensating, and the ends), as for stays.
fn set_status(ctx: &mut WorkflowContext<PackageBookingWorkflow>, next: BookingStatus) {
    let current = ctx.state(|s| s.progress.status);
    debug_assert!(current.can_move_to(next), "booking status cannot move from {current:?} to {next:?}");
    ctx.state_mut(|s| s.progress.status = next);
    let rests_here = match next {
        BookingStatus::Held => false,
        BookingStatus::AwaitingPayment => ctx.state(|s| s.input.payment_method.card_token.is_none()),
        _ => true,
    };
    if rests_here {
        ctx.upsert_search_attributes([temporal::BOOKING_STATUS.value_set(next.as_str().to_string())]);
    }
}
