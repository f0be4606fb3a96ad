//! The booking saga: hold → record → charge → confirm, or compensate in reverse.

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
    activities::{BookingActivities, BookingConfirmation, HoldRequest, InventoryActivities, NewBookingRecord},
    saga::{
        BookingProgress, BookingSagaInput, BookingStatus, CheckoutState, FailureReason, PaymentNotice,
        PaymentWindowExtension, StepRepair, StepRepaired,
    },
    temporal::{self, task_queue},
};
use std::time::Duration;
use temporalio_common::search_attributes::{SearchAttributeUpdate, Timestamp};
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{SyncWorkflowContext, WorkflowContext, WorkflowContextView, WorkflowResult};

const SHORT_STEP: Duration = Duration::from_secs(15);
/// Since this patch, the saga records and confirms its booking (steps of the booking
/// context, whose worker runs the saga) as local activities; sagas started before it replay
/// them as the activities on the booking task queue they ran as. Sagas started since
/// `BookingSagaInput::local_booking_steps` exists take the choice from their input and never
/// ask for the patch.
const LOCAL_BOOKING_STEPS: &str = "local-booking-steps";

#[workflow]
pub struct BookingWorkflow {
    input: BookingSagaInput,
    progress: BookingProgress,
    /// Every payment notice the gateway's webhooks brought, in arrival order.
    payment_notices: Vec<PaymentNotice>,
    /// Until when an operator asked the checkout to stay open (Unix milliseconds).
    window_extended_to: Option<i64>,
    /// Whether every status, passing ones included, goes to the `BookingStatus` search
    /// attribute: so for sagas started without search attributes, as all were before the
    /// API set them at the start, whose histories hold an update per status.
    index_every_status: bool,
    /// What operators asked of a give-back step that keeps failing.
    repairs: StepRepairs,
}

impl Repairable for BookingWorkflow {
    fn repairs(&self) -> &StepRepairs {
        &self.repairs
    }

    fn repairs_mut(&mut self) -> &mut StepRepairs {
        &mut self.repairs
    }
}

impl PayingSaga for BookingWorkflow {
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
impl BookingWorkflow {
    #[init]
    pub fn new(_ctx: &WorkflowContextView, input: BookingSagaInput) -> Self {
        let progress = BookingProgress::accepted(&input);
        BookingWorkflow {
            input,
            progress,
            payment_notices: Vec::new(),
            window_extended_to: None,
            index_every_status: false,
            repairs: StepRepairs::default(),
        }
    }

    #[run(name = "BookingSaga")]
    pub async fn run(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<BookingProgress> {
        let input = ctx.state(|s| s.input.clone());
        // The API starts the saga with these already set (the start writes them at no extra
        // cost); a saga started without them, as before, sets them in its first task. The
        // start's attributes are in the history, so replay takes the same branch.
        if ctx.search_attributes().get(&temporal::BOOKING_REF).is_none() {
            ctx.upsert_search_attributes(initial_search_attributes(&input));
            ctx.state_mut(|s| s.index_every_status = true);
        }

        let mut compensations = Vec::new();
        if let Err(stop) = Self::forward(ctx, &input, &mut compensations).await {
            give_back(ctx, &input.booking_ref, stop, compensations, "rooms were").await?;
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
    pub fn status(&self, _ctx: &WorkflowContextView) -> BookingProgress {
        self.progress.clone()
    }
}

impl BookingWorkflow {
    async fn forward(
        ctx: &mut WorkflowContext<Self>,
        input: &BookingSagaInput,
        compensations: &mut Vec<Compensation>,
    ) -> Result<(), Stop> {
        let workflow_id = ctx.workflow_id().to_string();
        let hold_id = format!("{workflow_id}/hold");
        let charge_key = format!("{workflow_id}/charge");

        stop_if_cancelled(ctx)?;
        compensations.push(Compensation::ReleaseHold { hold_id: hold_id.clone() });
        let hold = HoldRequest {
            hold_id: hold_id.clone(),
            booking_ref: input.booking_ref.clone(),
            accommodation_id: input.stay.accommodation_id,
            room_type: input.stay.room_type.clone(),
            dates: input.stay.dates,
            rooms: input.stay.rooms,
        };
        let held = ctx
            .execute_activity(InventoryActivities::hold_rooms, hold, short_step(task_queue::INVENTORY))
            .await
            .map_err(business_stop)?;
        set_status(ctx, BookingStatus::Held);
        // The steps up to the payment must be done while the hold counts: one still retrying
        // then gives up (`hold_expired`) rather than take money for rooms that are gone.
        let hold_expires_at_ms = held.expires_at_ms;

        stop_if_cancelled(ctx)?;
        compensations.push(Compensation::FailBookingRecord);
        let record = NewBookingRecord {
            booking_ref: input.booking_ref.clone(),
            accommodation_id: input.stay.accommodation_id,
            room_type: input.stay.room_type.clone(),
            dates: input.stay.dates,
            rooms: input.stay.rooms,
            guests: input.stay.guests,
            lead_traveller: input.lead_traveller.clone(),
            quote: input.quote.clone(),
            hold_id: hold_id.clone(),
            user_id: input.user_id,
            partner_id: input.partner_id,
            request: input.request.clone(),
        };
        let recorded = if local_booking_steps(ctx, input) {
            let within = before_hold_expires(ctx, hold_expires_at_ms);
            ctx.execute_local_activity(
                BookingActivities::create_booking,
                record,
                own_step(SHORT_STEP, within, "Record the booking"),
            )
            .await
        } else {
            ctx.execute_activity(BookingActivities::create_booking, record, short_step(task_queue::BOOKING)).await
        };
        recorded.map_err(business_stop)?;
        set_status(ctx, BookingStatus::AwaitingPayment);

        stop_if_cancelled(ctx)?;
        compensations.push(Compensation::RefundCharge { charge_idempotency_key: charge_key.clone() });
        let payment = Payment {
            booking_ref: &input.booking_ref,
            total: input.quote.total,
            method: &input.payment_method,
            window_secs: input.payment_window_secs,
            charge_key,
            hold_expires_at_ms,
            hold_ids: vec![hold_id.clone()],
        };
        let charge = take_payment(ctx, payment).await?;
        ctx.state_mut(|s| s.progress.amount_charged = Some(charge.captured));

        // A cancellation that arrived while the card was being charged still wins: the
        // refund registered above gives the money back. After this point the booking is
        // confirmed, and cancelling it is a cancellation with its own policy and saga.
        stop_if_cancelled(ctx)?;
        compensations.push(Compensation::UnbookHold { hold_id: hold_id.clone() });
        ctx.execute_activity(InventoryActivities::confirm_hold, hold_id, short_step(task_queue::INVENTORY))
            .await
            .map_err(business_stop)?;
        let confirmation = BookingConfirmation {
            booking_ref: input.booking_ref.clone(),
            amount_charged: charge.captured,
            payment_id: charge.payment_id,
        };
        let confirmed = if local_booking_steps(ctx, input) {
            // Rooms booked and money taken: this step never gives up.
            let options = own_step(SHORT_STEP, None, "Confirm the booking");
            ctx.execute_local_activity(BookingActivities::confirm_booking, confirmation, options).await
        } else {
            ctx.execute_activity(BookingActivities::confirm_booking, confirmation, short_step(task_queue::BOOKING))
                .await
        };
        confirmed.map_err(business_stop)?;
        set_status(ctx, BookingStatus::Confirmed);
        Ok(())
    }
}

/// A short step of another context's, with the saga's usual retries.
fn short_step(queue: &str) -> temporalio_sdk::ActivityOptions {
    on_queue(queue, SHORT_STEP)
}

/// What operators find a booking's saga by, as it starts.
pub fn initial_search_attributes(input: &BookingSagaInput) -> Vec<SearchAttributeUpdate> {
    [
        temporal::BOOKING_REF.value_set(input.booking_ref.to_string()),
        temporal::BOOKING_STATUS.value_set(BookingStatus::Pending.as_str().to_string()),
        // The booker's user id, not their email: the server indexes search attributes in the
        // clear, where the payload codec cannot seal them.
        temporal::BOOKING_CUSTOMER.value_set(input.user_id.map(|id| id.to_string()).unwrap_or_default()),
        temporal::BOOKING_CHECK_IN.value_set(check_in_timestamp(input)),
    ]
    .into_iter()
    // Partner bookings carry their partner, so operators can filter a partner's sagas.
    .chain(input.partner_id.map(|p| temporal::BOOKING_PARTNER.value_set(p.to_string())))
    .collect()
}

fn set_status(ctx: &mut WorkflowContext<BookingWorkflow>, next: BookingStatus) {
    let current = ctx.state(|s| s.progress.status);
    // Only a bug can ask for another move; tests run debug builds and catch it here.
    debug_assert!(current.can_move_to(next), "booking status cannot move from {current:?} to {next:?}");
    ctx.state_mut(|s| s.progress.status = next);
    // Operators search by where a saga rests, not by each step it passes: every search
    // attribute update is a write to the server's visibility store. A card booking goes from
    // pending to confirmed; a checkout shows awaiting_payment while the traveller pays. The
    // live step is in the `status` query.
    let rests_here = match next {
        BookingStatus::Held => false,
        BookingStatus::AwaitingPayment => ctx.state(|s| s.input.payment_method.card_token.is_none()),
        _ => true,
    };
    if rests_here || ctx.state(|s| s.index_every_status) {
        ctx.upsert_search_attributes([temporal::BOOKING_STATUS.value_set(next.as_str().to_string())]);
    }
}

/// Whether the booking's own steps run as local activities. The input says so for sagas
/// started since it can; older ones ask the patch, whose marker their history holds when
/// they took that path (the input is checked first, so newer sagas record no marker).
fn local_booking_steps(ctx: &mut WorkflowContext<BookingWorkflow>, input: &BookingSagaInput) -> bool {
    input.local_booking_steps || ctx.patched(LOCAL_BOOKING_STEPS)
}

fn check_in_timestamp(input: &BookingSagaInput) -> Timestamp {
    let midnight = input.stay.dates.check_in.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp());
    Timestamp::new(midnight.unwrap_or_default(), 0)
}
