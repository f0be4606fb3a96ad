//! The booking saga: hold → record → charge → confirm, or compensate in reverse.

use crate::{
    failures::{application_failure, is_failure_type, timed_out},
    options::{on_queue, on_queue_bounded, own_step},
};
use contracts::{
    Money,
    activities::{
        BookingActivities, BookingConfirmation, BookingFailure, Charge, ChargeRequest, CheckoutRequest, HoldRequest,
        InventoryActivities, NewBookingRecord, PaymentActivities, RefundRequest, SettleRequest, failure_type,
    },
    saga::{
        BookingProgress, BookingSagaInput, BookingStatus, CheckoutState, DEFAULT_PAYMENT_WINDOW_SECS, FailureReason,
        PaymentNotice,
    },
    temporal::{self, task_queue},
};
use std::time::Duration;
use temporalio_common::search_attributes::{SearchAttributeUpdate, Timestamp};
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    ActivityExecutionError, SyncWorkflowContext, TimerOptions, WorkflowContext, WorkflowContextView, WorkflowResult,
    WorkflowTermination,
};

/// Checkout waits that keep their count of handled payment notices across passes, and read
/// the gateway once more before expiring.
const CHECKOUT_HANDLED_NOTICES_PATCH: &str = "checkout-handled-notices";
const SHORT_STEP: Duration = Duration::from_secs(15);
/// A gateway call may be slow; the charge activity resolves unknown outcomes itself.
const PAYMENT_STEP: Duration = Duration::from_secs(60);
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
    /// Whether every status, passing ones included, goes to the `BookingStatus` search
    /// attribute: so for sagas started without search attributes, as all were before the
    /// API set them at the start, whose histories hold an update per status.
    index_every_status: bool,
}

/// What must be undone, in the order it was registered. Registered *before* the step that
/// makes it necessary runs, because a timed-out step may have acted anyway; every
/// compensation is a no-op when its step never took effect.
#[derive(Debug, Clone)]
enum Compensation {
    ReleaseHold { hold_id: String },
    UnbookHold { hold_id: String },
    FailBookingRecord,
    RefundCharge { charge_idempotency_key: String },
}

/// Why the forward path stopped.
enum Stop {
    Business(FailureReason),
    Cancelled,
    /// The checkout was not paid within the payment window.
    Expired,
}

#[workflow_methods]
impl BookingWorkflow {
    #[init]
    pub fn new(_ctx: &WorkflowContextView, input: BookingSagaInput) -> Self {
        let progress = BookingProgress::accepted(&input);
        BookingWorkflow { input, progress, payment_notices: Vec::new(), index_every_status: false }
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
        match Self::forward(ctx, &input, &mut compensations).await {
            Ok(()) => Ok(ctx.state(|s| s.progress.clone())),
            Err(stop) => {
                let reason = match &stop {
                    Stop::Business(reason) => reason.clone(),
                    Stop::Cancelled => FailureReason {
                        code: "cancelled".into(),
                        message: "The booking was cancelled before it was confirmed".into(),
                    },
                    Stop::Expired => FailureReason {
                        code: "expired".into(),
                        message: "The payment did not arrive in time; the rooms were released".into(),
                    },
                };
                if !ctx.is_replaying() {
                    tracing::info!(booking_ref = %input.booking_ref, code = %reason.code, "compensating booking saga");
                }
                ctx.state_mut(|s| {
                    s.progress.failure = Some(reason.clone());
                    s.progress.checkout = None;
                });
                set_status(ctx, BookingStatus::Compensating);
                let notices_seen = ctx.state(|s| s.payment_notices.len());
                Self::compensate(ctx, &input, compensations, &reason).await?;
                Self::refund_late_payments(ctx, &input, &reason, notices_seen).await?;
                match stop {
                    Stop::Cancelled => {
                        set_status(ctx, BookingStatus::Failed);
                        Err(WorkflowTermination::cancelled())
                    }
                    Stop::Expired => {
                        set_status(ctx, BookingStatus::Expired);
                        Ok(ctx.state(|s| s.progress.clone()))
                    }
                    Stop::Business(_) => {
                        set_status(ctx, BookingStatus::Failed);
                        Ok(ctx.state(|s| s.progress.clone()))
                    }
                }
            }
        }
    }

    /// The gateway says the checkout's order was paid (its webhook, through the API).
    #[signal(name = "payment_received")]
    pub fn payment_received(&mut self, _ctx: &mut SyncWorkflowContext<Self>, notice: PaymentNotice) {
        self.payment_notices.push(notice);
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
        let charge = match &input.payment_method.card_token {
            Some(card_token) => {
                let charge = ChargeRequest {
                    booking_ref: input.booking_ref.clone(),
                    idempotency_key: charge_key,
                    amount: input.quote.total,
                    card_token: card_token.clone(),
                };
                let within = before_hold_expires(ctx, hold_expires_at_ms);
                let options = on_queue_bounded(task_queue::PAYMENT, PAYMENT_STEP, within);
                ctx.execute_activity(PaymentActivities::charge, charge, options).await.map_err(business_stop)?
            }
            None => Self::pay_on_checkout(ctx, input, charge_key, hold_expires_at_ms).await?,
        };
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

    /// Opens the gateway order, then waits for its payment or for the payment window to
    /// close. A notice only wakes the saga: the capture is read back from the gateway.
    async fn pay_on_checkout(
        ctx: &mut WorkflowContext<Self>,
        input: &BookingSagaInput,
        charge_key: String,
        hold_expires_at_ms: Option<i64>,
    ) -> Result<Charge, Stop> {
        let request = CheckoutRequest {
            booking_ref: input.booking_ref.clone(),
            idempotency_key: charge_key.clone(),
            amount: input.quote.total,
        };
        let within = before_hold_expires(ctx, hold_expires_at_ms);
        let opened = ctx
            .execute_activity(
                PaymentActivities::open_checkout,
                request,
                on_queue_bounded(task_queue::PAYMENT, PAYMENT_STEP, within),
            )
            .await
            .map_err(business_stop)?;
        let now_ms = workflow_now_ms(ctx);
        let window = input.payment_window_secs.unwrap_or(DEFAULT_PAYMENT_WINDOW_SECS);
        let mut expires_at_ms = now_ms + i64::try_from(window.saturating_mul(1000)).unwrap_or(i64::MAX / 2);
        // The checkout closes while the rooms are still held, with time left to book them:
        // a payment made in time never finds its rooms gone. (Workers refuse a hold shorter
        // than the window; this covers the time the steps before the checkout took.)
        if let Some(hold_expires_at_ms) = hold_expires_at_ms {
            expires_at_ms = expires_at_ms.min(hold_expires_at_ms - AFTER_PAYMENT_MARGIN_MS);
        }
        ctx.state_mut(|s| {
            s.progress.checkout = Some(CheckoutState {
                gateway_order_id: opened.gateway_order_id.clone(),
                amount: input.quote.total,
                expires_at_ms,
            })
        });
        // Sagas started before this change counted the notices afresh on every pass (a notice
        // that came in while a settlement ran was taken as handled) and expired without a last
        // look at the gateway; their histories replay that way.
        let counts_handled_notices = ctx.patched(CHECKOUT_HANDLED_NOTICES_PATCH);
        let mut handled = ctx.state(|s| s.payment_notices.len());
        loop {
            let seen = if counts_handled_notices { handled } else { ctx.state(|s| s.payment_notices.len()) };
            let left = u64::try_from(expires_at_ms - workflow_now_ms(ctx)).unwrap_or(0);
            if left == 0 {
                return Self::last_look_before_expiring(ctx, input, &charge_key, counts_handled_notices).await;
            }
            // The timer borrows the context until it is dropped, at the end of this block.
            let expired = {
                let timer_token = ctx.cancellation_token().child_token();
                let mut timer = ctx.timer(
                    TimerOptions::builder(Duration::from_millis(left)).cancellation_token(timer_token.clone()).build(),
                );
                let expired = temporalio_sdk::workflows::select! {
                    woke = ctx.wait_condition(|s: &Self| s.payment_notices.len() > seen) => {
                        woke.map_err(|_| Stop::Cancelled)?;
                        false
                    }
                    _ = timer => true,
                };
                if !expired {
                    timer_token.cancel();
                }
                expired
            };
            stop_if_cancelled(ctx)?;
            if expired {
                return Self::last_look_before_expiring(ctx, input, &charge_key, counts_handled_notices).await;
            }
            // Every notice up to here is answered by the settlement below; one that arrives
            // while it runs is not, and wakes the next pass at once.
            handled = ctx.state(|s| s.payment_notices.len());
            let settle = SettleRequest {
                booking_ref: input.booking_ref.clone(),
                idempotency_key: charge_key.clone(),
                amount: input.quote.total,
            };
            match ctx
                .execute_activity(
                    PaymentActivities::settle_checkout,
                    settle,
                    on_queue(task_queue::PAYMENT, PAYMENT_STEP),
                )
                .await
            {
                Ok(charge) => {
                    ctx.state_mut(|s| s.progress.checkout = None);
                    return Ok(charge);
                }
                // The notice did not hold up (no capture at the gateway for this order):
                // keep waiting for a real payment until the window closes.
                Err(e) if is_failure_type(&e, failure_type::PAYMENT_NOT_FOUND) => {
                    if !ctx.is_replaying() {
                        tracing::warn!(booking_ref = %input.booking_ref, "payment notice without a capture; waiting on");
                    }
                }
                Err(e) => return Err(business_stop(e)),
            }
        }
    }

    /// The payment window has closed: one last read of the gateway's order, so a payment
    /// whose webhook was lost or late still confirms the booking instead of being refunded.
    async fn last_look_before_expiring(
        ctx: &mut WorkflowContext<Self>,
        input: &BookingSagaInput,
        charge_key: &str,
        looks: bool,
    ) -> Result<Charge, Stop> {
        if !looks {
            return Err(Stop::Expired);
        }
        let settle = SettleRequest {
            booking_ref: input.booking_ref.clone(),
            idempotency_key: charge_key.to_string(),
            amount: input.quote.total,
        };
        match ctx
            .execute_activity(PaymentActivities::settle_checkout, settle, on_queue(task_queue::PAYMENT, PAYMENT_STEP))
            .await
        {
            Ok(charge) => {
                ctx.state_mut(|s| s.progress.checkout = None);
                Ok(charge)
            }
            Err(e) if is_failure_type(&e, failure_type::PAYMENT_NOT_FOUND) => Err(Stop::Expired),
            Err(e) => Err(business_stop(e)),
        }
    }

    /// Payments that arrived while or after the saga gave up are given back too: the
    /// refund reads the gateway's order, so running it again only refunds what is new.
    async fn refund_late_payments(
        ctx: &mut WorkflowContext<Self>,
        input: &BookingSagaInput,
        reason: &FailureReason,
        mut handled: usize,
    ) -> Result<(), ActivityExecutionError> {
        let charge_key = format!("{}/charge", ctx.workflow_id());
        while ctx.state(|s| s.payment_notices.len()) > handled {
            handled = ctx.state(|s| s.payment_notices.len());
            let refund = RefundRequest {
                booking_ref: input.booking_ref.clone(),
                charge_idempotency_key: charge_key.clone(),
                reason: reason.code.clone(),
            };
            let outcome = ctx
                .execute_activity(PaymentActivities::refund_charge, refund, on_queue(task_queue::PAYMENT, PAYMENT_STEP))
                .await?;
            if outcome.refunded.amount > 0 {
                ctx.state_mut(|s| {
                    let before = s.progress.amount_refunded.map_or(0, |m| m.amount);
                    s.progress.amount_refunded =
                        Some(Money { amount: before + outcome.refunded.amount, ..outcome.refunded });
                });
            }
        }
        Ok(())
    }

    /// Runs the compensations in reverse. Each is retried until it succeeds: a compensation
    /// that gave up would leave a room held or money taken, which is worse than a delay. One
    /// that fails for good (a bug) does not stop the others; the saga then fails, still
    /// marked compensating, for an operator to finish.
    async fn compensate(
        ctx: &mut WorkflowContext<Self>,
        input: &BookingSagaInput,
        compensations: Vec<Compensation>,
        reason: &FailureReason,
    ) -> Result<(), ActivityExecutionError> {
        let mut first_failure = None;
        for compensation in compensations.into_iter().rev() {
            if let Err(e) = Self::run_compensation(ctx, input, compensation, reason).await {
                if !ctx.is_replaying() {
                    tracing::error!(booking_ref = %input.booking_ref, error = %e, "compensation failed");
                }
                first_failure.get_or_insert(e);
            }
        }
        first_failure.map_or(Ok(()), Err)
    }

    async fn run_compensation(
        ctx: &mut WorkflowContext<Self>,
        input: &BookingSagaInput,
        compensation: Compensation,
        reason: &FailureReason,
    ) -> Result<(), ActivityExecutionError> {
        match compensation {
            Compensation::RefundCharge { charge_idempotency_key } => {
                let refund = RefundRequest {
                    booking_ref: input.booking_ref.clone(),
                    charge_idempotency_key,
                    reason: reason.code.clone(),
                };
                let outcome = ctx
                    .execute_activity(
                        PaymentActivities::refund_charge,
                        refund,
                        on_queue(task_queue::PAYMENT, PAYMENT_STEP),
                    )
                    .await?;
                if outcome.refunded.amount > 0 {
                    ctx.state_mut(|s| s.progress.amount_refunded = Some(outcome.refunded));
                }
            }
            Compensation::FailBookingRecord => {
                let failure = BookingFailure {
                    booking_ref: input.booking_ref.clone(),
                    code: reason.code.clone(),
                    message: reason.message.clone(),
                };
                ctx.execute_activity(BookingActivities::fail_booking, failure, short_step(task_queue::BOOKING)).await?;
            }
            Compensation::UnbookHold { hold_id } => {
                ctx.execute_activity(InventoryActivities::unbook_hold, hold_id, short_step(task_queue::INVENTORY))
                    .await?;
            }
            Compensation::ReleaseHold { hold_id } => {
                ctx.execute_activity(InventoryActivities::release_hold, hold_id, short_step(task_queue::INVENTORY))
                    .await?;
            }
        }
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

fn stop_if_cancelled(ctx: &WorkflowContext<BookingWorkflow>) -> Result<(), Stop> {
    if ctx.cancellation_token().is_cancelled() { Err(Stop::Cancelled) } else { Ok(()) }
}

/// Maps a failed step to the reason a traveller sees. Activities retry infrastructure errors
/// forever, so what reaches here is a business rejection (or a bug that made a step
/// non-retryable, which is compensated like one rather than left half-done).
fn business_stop(err: ActivityExecutionError) -> Stop {
    if err.as_cancelled().is_some() {
        return Stop::Cancelled;
    }
    if timed_out(&err) {
        return Stop::Business(FailureReason {
            code: "hold_expired".into(),
            message: "The rooms' hold ran out before the booking could be completed; nothing was kept".into(),
        });
    }
    let (type_name, message) = application_failure(&err).unwrap_or_else(|| (None, err.to_string()));
    let code = match type_name.as_deref() {
        Some(failure_type::SOLD_OUT) => "sold_out",
        Some(failure_type::CARD_DECLINED) => "card_declined",
        Some(failure_type::PAYMENT_REJECTED) => "payment_rejected",
        Some(failure_type::HOLD_NOT_FOUND) => "hold_lost",
        Some(failure_type::DUPLICATE_REQUEST) => "duplicate_request",
        _ => "booking_step_failed",
    };
    Stop::Business(FailureReason { code: code.into(), message })
}

/// Steps after the payment (book the rooms, confirm) need this much of the hold's life.
const AFTER_PAYMENT_MARGIN_MS: i64 = 60_000;

/// What is left of the hold's life for a step before the payment, less what the steps
/// after it need; `None` for a hold whose expiry the history does not hold.
fn before_hold_expires(ctx: &WorkflowContext<BookingWorkflow>, hold_expires_at_ms: Option<i64>) -> Option<Duration> {
    let left = hold_expires_at_ms? - workflow_now_ms(ctx) - AFTER_PAYMENT_MARGIN_MS;
    Some(Duration::from_millis(u64::try_from(left).unwrap_or(0).max(1_000)))
}

/// Workflow time in Unix milliseconds (deterministic: the time of the current task).
fn workflow_now_ms(ctx: &WorkflowContext<BookingWorkflow>) -> i64 {
    ctx.workflow_time()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn check_in_timestamp(input: &BookingSagaInput) -> Timestamp {
    let midnight = input.stay.dates.check_in.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp());
    Timestamp::new(midnight.unwrap_or_default(), 0)
}
