//! The steps every booking saga takes to be paid, whatever it sells (a stay, a package):
//! charge a card, or open a checkout and wait for its payment or for the window to close,
//! and give back payments that arrive after the saga gave up. Generic over the saga's state
//! through [`PayingSaga`], so the stay and package sagas issue the same commands in the same
//! order for the same events.

use crate::{
    failures::{application_failure, is_failure_type, timed_out},
    options::{on_queue, on_queue_bounded},
};
use contracts::{
    BookingRef, Money,
    activities::{
        Charge, ChargeRequest, CheckoutRequest, ExtendHolds, InventoryActivities, PaymentActivities, RefundRequest,
        SettleRequest, failure_type,
    },
    saga::{
        BookingStatus, CheckoutState, DEFAULT_PAYMENT_WINDOW_SECS, FailureReason, MAX_PAYMENT_WINDOW_EXTENSION_MINUTES,
        PaymentMethod, PaymentNotice, PaymentWindowExtension,
    },
    temporal::task_queue,
};
use std::time::Duration;
use temporalio_sdk::{ActivityExecutionError, TimerOptions, WorkflowContext};

/// Checkout waits that keep their count of handled payment notices across passes, and read
/// the gateway once more before expiring.
const CHECKOUT_HANDLED_NOTICES_PATCH: &str = "checkout-handled-notices";
/// A gateway call may be slow; the charge activity resolves unknown outcomes itself.
pub(crate) const PAYMENT_STEP: Duration = Duration::from_secs(60);
/// Steps after the payment (book the rooms, confirm) need this much of the hold's life.
const AFTER_PAYMENT_MARGIN_MS: i64 = 60_000;
/// An extended checkout's holds outlive it by this much, as workers require of every hold
/// and its checkout window: a payment at the window's last second still finds its rooms.
const EXTENDED_HOLD_MARGIN_MS: i64 = 5 * 60_000;

/// The state a saga that takes payment keeps for these steps.
pub(crate) trait PayingSaga: crate::repairs::Repairable {
    /// Every payment notice the gateway's webhooks brought, in arrival order.
    fn payment_notices(&self) -> &[PaymentNotice];
    /// Until when an operator asked the checkout to stay open (Unix milliseconds).
    fn window_extended_to(&self) -> Option<i64>;
    /// Shows (or clears) the open checkout in the saga's progress.
    fn set_checkout(&mut self, checkout: Option<CheckoutState>);
    /// Adds to what the saga's progress shows as given back.
    fn add_refunded(&mut self, refunded: Money);
    /// Sets what the saga's progress shows as given back by its compensation.
    fn set_refunded(&mut self, refunded: Money);
    /// Shows the compensation's refund an operator took over, owed to the traveller.
    fn set_owed(&mut self, owed: Money);
    /// Shows why the saga stopped, with no checkout open any more.
    fn record_stop(&mut self, reason: FailureReason);
    /// Moves the saga's status (and the search attribute, where the saga rests).
    fn set_status(ctx: &mut WorkflowContext<Self>, next: contracts::saga::BookingStatus)
    where
        Self: Sized;
}

/// What a booking saga charges: whom, how much, how, and for how long a checkout stays open.
pub(crate) struct Payment<'a> {
    pub booking_ref: &'a BookingRef,
    pub total: Money,
    pub method: &'a PaymentMethod,
    pub window_secs: Option<u64>,
    /// The charge's idempotency key, derived from the workflow id.
    pub charge_key: String,
    /// When the saga's holds stop counting; the payment must be done with time to spare.
    pub hold_expires_at_ms: Option<i64>,
    /// Every hold the saga placed: an extended checkout keeps them as long.
    pub hold_ids: Vec<String>,
}

/// Why the forward path stopped.
pub(crate) enum Stop {
    Business(FailureReason),
    Cancelled,
    /// The checkout was not paid within the payment window.
    Expired,
}

/// Charges the card, or takes the payment on the gateway's hosted checkout.
pub(crate) async fn take_payment<W: PayingSaga>(
    ctx: &mut WorkflowContext<W>,
    payment: Payment<'_>,
) -> Result<Charge, Stop> {
    match &payment.method.card_token {
        Some(card_token) => {
            let charge = ChargeRequest {
                booking_ref: payment.booking_ref.clone(),
                idempotency_key: payment.charge_key.clone(),
                amount: payment.total,
                card_token: card_token.clone(),
            };
            let within = before_hold_expires(ctx, payment.hold_expires_at_ms);
            let options = on_queue_bounded(task_queue::PAYMENT, PAYMENT_STEP, within);
            ctx.execute_activity(PaymentActivities::charge, charge, options).await.map_err(business_stop)
        }
        None => pay_on_checkout(ctx, &payment).await,
    }
}

/// Opens the gateway order, then waits for its payment or for the payment window to
/// close. A notice only wakes the saga: the capture is read back from the gateway.
async fn pay_on_checkout<W: PayingSaga>(ctx: &mut WorkflowContext<W>, payment: &Payment<'_>) -> Result<Charge, Stop> {
    let request = CheckoutRequest {
        booking_ref: payment.booking_ref.clone(),
        idempotency_key: payment.charge_key.clone(),
        amount: payment.total,
    };
    let within = before_hold_expires(ctx, payment.hold_expires_at_ms);
    let opened = ctx
        .execute_activity(
            PaymentActivities::open_checkout,
            request,
            on_queue_bounded(task_queue::PAYMENT, PAYMENT_STEP, within),
        )
        .await
        .map_err(business_stop)?;
    let now_ms = workflow_now_ms(ctx);
    let window = payment.window_secs.unwrap_or(DEFAULT_PAYMENT_WINDOW_SECS);
    let mut expires_at_ms = now_ms + i64::try_from(window.saturating_mul(1000)).unwrap_or(i64::MAX / 2);
    // The checkout closes while the rooms are still held, with time left to book them:
    // a payment made in time never finds its rooms gone. (Workers refuse a hold shorter
    // than the window; this covers the time the steps before the checkout took.)
    if let Some(hold_expires_at_ms) = payment.hold_expires_at_ms {
        expires_at_ms = expires_at_ms.min(hold_expires_at_ms - AFTER_PAYMENT_MARGIN_MS);
    }
    let checkout =
        CheckoutState { gateway_order_id: opened.gateway_order_id.clone(), amount: payment.total, expires_at_ms };
    ctx.state_mut(|s| s.set_checkout(Some(checkout)));
    // Sagas started before this change counted the notices afresh on every pass (a notice
    // that came in while a settlement ran was taken as handled) and expired without a last
    // look at the gateway; their histories replay that way.
    let counts_handled_notices = ctx.patched(CHECKOUT_HANDLED_NOTICES_PATCH);
    let mut handled = ctx.state(|s| s.payment_notices().len());
    loop {
        let seen = if counts_handled_notices { handled } else { ctx.state(|s| s.payment_notices().len()) };
        // An operator's extension asked for since the last pass is applied before the window
        // is looked at, even one asked at its last moment: the saga answered it already.
        if let Some(until) = pending_extension(ctx, expires_at_ms) {
            // The holds first, with the steps after the payment's margin: the checkout never
            // stays open on rooms or seats that could be swept.
            let holds = ExtendHolds { hold_ids: payment.hold_ids.clone(), until_ms: until + EXTENDED_HOLD_MARGIN_MS };
            ctx.execute_activity(
                InventoryActivities::extend_holds,
                holds,
                on_queue(task_queue::INVENTORY, PAYMENT_STEP),
            )
            .await
            .map_err(business_stop)?;
            expires_at_ms = until;
            let checkout = CheckoutState {
                gateway_order_id: opened.gateway_order_id.clone(),
                amount: payment.total,
                expires_at_ms,
            };
            ctx.state_mut(|s| s.set_checkout(Some(checkout)));
            if !ctx.is_replaying() {
                tracing::info!(booking_ref = %payment.booking_ref, expires_at_ms, "payment window extended");
            }
        }
        let left = u64::try_from(expires_at_ms - workflow_now_ms(ctx)).unwrap_or(0);
        if left == 0 {
            return last_look_before_expiring(ctx, payment, counts_handled_notices).await;
        }
        // The timer borrows the context until it is dropped, at the end of this block.
        let expired = {
            let timer_token = ctx.cancellation_token().child_token();
            let mut timer = ctx.timer(
                TimerOptions::builder(Duration::from_millis(left)).cancellation_token(timer_token.clone()).build(),
            );
            // An operator's extension wakes the wait too; sagas without one wait as before.
            let extended = |s: &W| s.window_extended_to().is_some_and(|until| until > expires_at_ms);
            let expired = temporalio_sdk::workflows::select! {
                woke = ctx.wait_condition(|s: &W| s.payment_notices().len() > seen || extended(s)) => {
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
        // An extension (woken by it, or asked as the window closed) is applied by the next
        // pass; a payment notice that came with it is settled first.
        let extension_pending = pending_extension(ctx, expires_at_ms).is_some();
        if extension_pending && ctx.state(|s| s.payment_notices().len()) <= seen {
            continue;
        }
        if expired && !extension_pending {
            return last_look_before_expiring(ctx, payment, counts_handled_notices).await;
        }
        // Every notice up to here is answered by the settlement below; one that arrives
        // while it runs is not, and wakes the next pass at once.
        handled = ctx.state(|s| s.payment_notices().len());
        let settle = SettleRequest {
            booking_ref: payment.booking_ref.clone(),
            idempotency_key: payment.charge_key.clone(),
            amount: payment.total,
        };
        match ctx
            .execute_activity(PaymentActivities::settle_checkout, settle, on_queue(task_queue::PAYMENT, PAYMENT_STEP))
            .await
        {
            Ok(charge) => {
                ctx.state_mut(|s| s.set_checkout(None));
                return Ok(charge);
            }
            // The notice did not hold up (no capture at the gateway for this order):
            // keep waiting for a real payment until the window closes.
            Err(e) if is_failure_type(&e, failure_type::PAYMENT_NOT_FOUND) => {
                if !ctx.is_replaying() {
                    tracing::warn!(booking_ref = %payment.booking_ref, "payment notice without a capture; waiting on");
                }
            }
            Err(e) => return Err(business_stop(e)),
        }
    }
}

/// The payment window has closed: one last read of the gateway's order, so a payment
/// whose webhook was lost or late still confirms the booking instead of being refunded.
async fn last_look_before_expiring<W: PayingSaga>(
    ctx: &mut WorkflowContext<W>,
    payment: &Payment<'_>,
    looks: bool,
) -> Result<Charge, Stop> {
    if !looks {
        return Err(Stop::Expired);
    }
    let settle = SettleRequest {
        booking_ref: payment.booking_ref.clone(),
        idempotency_key: payment.charge_key.clone(),
        amount: payment.total,
    };
    match ctx
        .execute_activity(PaymentActivities::settle_checkout, settle, on_queue(task_queue::PAYMENT, PAYMENT_STEP))
        .await
    {
        Ok(charge) => {
            ctx.state_mut(|s| s.set_checkout(None));
            Ok(charge)
        }
        Err(e) if is_failure_type(&e, failure_type::PAYMENT_NOT_FOUND) => Err(Stop::Expired),
        Err(e) => Err(business_stop(e)),
    }
}

/// Payments that arrived while or after the saga gave up are given back too: the
/// refund reads the gateway's order, so running it again only refunds what is new.
pub(crate) async fn refund_late_payments<W: PayingSaga>(
    ctx: &mut WorkflowContext<W>,
    booking_ref: &BookingRef,
    reason: &FailureReason,
    mut handled: usize,
) -> Result<(), ActivityExecutionError> {
    let charge_key = format!("{}/charge", ctx.workflow_id());
    while ctx.state(|s| s.payment_notices().len()) > handled {
        handled = ctx.state(|s| s.payment_notices().len());
        let refund = RefundRequest {
            booking_ref: booking_ref.clone(),
            charge_idempotency_key: charge_key.clone(),
            reason: reason.code.clone(),
        };
        let outcome = ctx
            .execute_activity(PaymentActivities::refund_charge, refund, on_queue(task_queue::PAYMENT, PAYMENT_STEP))
            .await?;
        if outcome.refunded.amount > 0 {
            ctx.state_mut(|s| s.add_refunded(outcome.refunded));
        }
    }
    Ok(())
}

/// The reason a stopped saga shows, for the ways it can stop.
pub(crate) fn stop_reason(stop: &Stop, released: &str) -> FailureReason {
    match stop {
        Stop::Business(reason) => reason.clone(),
        Stop::Cancelled => FailureReason {
            code: "cancelled".into(),
            message: "The booking was cancelled before it was confirmed".into(),
        },
        Stop::Expired => FailureReason {
            code: "expired".into(),
            message: format!("The payment did not arrive in time; the {released} released"),
        },
    }
}

pub(crate) fn stop_if_cancelled<W>(ctx: &WorkflowContext<W>) -> Result<(), Stop> {
    if ctx.cancellation_token().is_cancelled() { Err(Stop::Cancelled) } else { Ok(()) }
}

/// Maps a failed step to the reason a traveller sees. Activities retry infrastructure errors
/// forever, so what reaches here is a business rejection (or a bug that made a step
/// non-retryable, which is compensated like one rather than left half-done).
pub(crate) fn business_stop(err: ActivityExecutionError) -> Stop {
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

/// What is left of the hold's life for a step before the payment, less what the steps
/// after it need; `None` for a hold whose expiry the history does not hold.
pub(crate) fn before_hold_expires<W>(ctx: &WorkflowContext<W>, hold_expires_at_ms: Option<i64>) -> Option<Duration> {
    let left = hold_expires_at_ms? - workflow_now_ms(ctx) - AFTER_PAYMENT_MARGIN_MS;
    Some(Duration::from_millis(u64::try_from(left).unwrap_or(0).max(1_000)))
}

/// Workflow time in Unix milliseconds (deterministic: the time of the current task).
fn workflow_now_ms<W>(ctx: &WorkflowContext<W>) -> i64 {
    ctx.workflow_time()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The end an operator asked the checkout to move to, when it is later than `expires_at_ms`.
fn pending_extension<W: PayingSaga>(ctx: &WorkflowContext<W>, expires_at_ms: i64) -> Option<i64> {
    ctx.state(|s| s.window_extended_to()).filter(|until| *until > expires_at_ms)
}

/// Refuses an extension before it enters the history: only a saga waiting on its checkout
/// takes one, for 1 minute to a day, with a reason.
pub(crate) fn validate_extension(
    status: BookingStatus,
    checkout: Option<&CheckoutState>,
    extension: &PaymentWindowExtension,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    if !(1..=MAX_PAYMENT_WINDOW_EXTENSION_MINUTES).contains(&extension.minutes) {
        return Err(format!("minutes must be 1 to {MAX_PAYMENT_WINDOW_EXTENSION_MINUTES}").into());
    }
    if extension.reason.trim().is_empty() {
        return Err("an extension needs a reason".into());
    }
    if checkout.is_none() || status != BookingStatus::AwaitingPayment {
        return Err(format!("not awaiting a payment on its checkout (it is {})", status.as_str()).into());
    }
    Ok(())
}

/// Applies a validated extension to a saga's state: the window then ends `minutes` from now,
/// or later where an earlier extension or the current window already does; answers the
/// checkout with that end (the wait applies it once the holds are extended).
pub(crate) fn extend_window(
    extended_to: &mut Option<i64>,
    checkout: Option<&CheckoutState>,
    now: Option<std::time::SystemTime>,
    minutes: u32,
) -> CheckoutState {
    let now_ms = now
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    // The validator let the update in only with a checkout open.
    let checkout = checkout.cloned().unwrap_or(CheckoutState {
        gateway_order_id: String::new(),
        amount: Money::inr(0),
        expires_at_ms: now_ms,
    });
    let until = (now_ms + i64::from(minutes) * 60_000).max(checkout.expires_at_ms).max(extended_to.unwrap_or(0));
    *extended_to = Some(until);
    CheckoutState { expires_at_ms: until, ..checkout }
}
