//! The payment context's activities, polled on the `payment` task queue.

use crate::{
    gateway::{GatewayClient, GatewayError, GatewayStatus, Payment, gateway_idempotency_key},
    store::{self, ChargeLock, ChargeMethod, PaymentRow, PaymentStatus},
};
use contracts::{
    BookingRef, Currency, Money,
    activities::{
        Charge, ChargeRequest, CheckoutOpened, CheckoutRequest, HandoverOutcome, ReconcileReport, ReconcileRequest,
        RefundAmountRequest, RefundHandover, RefundOutcome, RefundPaymentRequest, RefundRequest, SettleRequest,
        definitions, failure_type,
    },
    saga::{WebhookAction, WebhookResolutionInput, WebhookResolved},
};
use sqlx::PgPool;
use std::{
    future::Future,
    sync::{Arc, Mutex},
    time::Duration,
};
use temporalio_common::error::ApplicationFailure;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};

pub struct PaymentActivitiesImpl {
    pool: PgPool,
    gateway: GatewayClient,
}

impl PaymentActivitiesImpl {
    /// Gives back whatever of a captured `payment` is not refunded yet, and records every
    /// refund the gateway made for it, including one whose answer an earlier attempt lost
    /// (recording is idempotent by the gateway's refund id). The refund's key is the same
    /// for every path that gives this payment back (a saga's compensation, an automatic
    /// refund, the reconciliation), so the gateway refunds it once.
    ///
    /// A payment of the order other than the charge's own capture (the order paid twice) is
    /// an extra capture: recorded and refunded as movements of its own, leaving the charge's
    /// totals alone.
    async fn give_back(
        &self,
        db: &mut sqlx::PgConnection,
        row: &PaymentRow,
        payment: &Payment,
    ) -> Result<GivenBack, ActivityError> {
        // Read again: another payment of this order may have become the charge's capture
        // since `row` was read (earlier in the same refund, say).
        let row = store::find_by_key(&mut *db, &row.idempotency_key).await?.unwrap_or_else(|| row.clone());
        let extra = row.captured_paise > 0 && row.gateway_payment_id.as_deref() != Some(payment.id.as_str());
        if extra {
            store::record_extra_capture(db, &row, &payment.id, payment.amount).await?;
        } else {
            store::mark_captured(db, &row, &payment.id, payment.amount).await?;
        }
        let outstanding = payment.amount - payment.amount_refunded;
        if outstanding > 0 {
            let key = format!("{}/refund/{}", row.idempotency_key, payment.id);
            self.gateway.refund(&payment.id, outstanding, &key).await?;
        }
        let row = store::find_by_key(&mut *db, &row.idempotency_key).await?.unwrap_or(row);
        for refund in self.gateway.payment_refunds(&payment.id).await? {
            let key = gateway_idempotency_key(&format!("{}/refund/{}", row.idempotency_key, refund.id));
            if extra {
                store::record_extra_refund(db, &row, &refund.id, refund.amount, &key).await?;
            } else {
                store::record_refund(db, &row, &refund.id, refund.amount, &key).await?;
            }
        }
        Ok(GivenBack { now: outstanding.max(0), extra })
    }

    /// Takes the lock of the charge `key` (waiting for any attempt of it still running, so
    /// that its outcome is known) and reads the charge's row under it.
    async fn locked_charge(&self, key: &str) -> Result<(ChargeLock, Option<PaymentRow>), ActivityError> {
        let Some(mut db) = store::lock_charge(&self.pool, key, store::CHARGE_LOCK_WAIT).await? else {
            // Retryable: the attempt holding the lock finishes (or its connection dies and
            // the lock with it), and a later attempt of this activity finds its outcome.
            return Err(ApplicationFailure::builder(format!("charge {key} is busy with another attempt"))
                .type_name("ChargeBusy".to_string())
                .build()
                .into());
        };
        let row = store::find_by_key(&mut *db, key).await?;
        Ok((db, row))
    }

    /// The locked payment row of the charge `key` with its gateway order, and whether this
    /// call opened that order (so no payment can have been made on it yet).
    ///
    /// A new charge's order is opened before its row is written, so that both are recorded
    /// in one commit. Money moves only when an order on record is paid (a card here, or the
    /// traveller on the checkout page of the order this step returns), so an order opened
    /// by an attempt that crashed before the commit is never paid, and lapses at the gateway.
    async fn charge_with_order(
        &self,
        key: &str,
        booking_ref: &BookingRef,
        amount: Money,
        method: ChargeMethod,
    ) -> Result<(ChargeLock, PaymentRow, bool), ActivityError> {
        let open_order = || {
            let capture_on_payment = method == ChargeMethod::Checkout;
            self.gateway.create_order(amount.amount, amount.currency.code(), booking_ref.as_str(), capture_on_payment)
        };
        let (mut db, row) = self.locked_charge(key).await?;
        match row {
            // A row written before its order (by an earlier version of this step, which
            // recorded the two apart) gets one now, unless the charge is over.
            Some(mut row) if row.gateway_order_id.is_none() && row.status == PaymentStatus::Created => {
                let order = open_order().await?;
                store::set_order(&mut *db, row.payment_id, &order.id).await?;
                row.gateway_order_id = Some(order.id);
                Ok((db, row, true))
            }
            Some(row) => Ok((db, row, false)),
            None => {
                let order = open_order().await?;
                let row = store::begin_charge(&mut db, key, booking_ref, amount, method, &order.id).await?;
                // Under the charge's lock nobody else writes its row; should one exist all
                // the same, its own order is the one that may have been paid.
                let opened_now = row.gateway_order_id.as_deref() == Some(order.id.as_str());
                Ok((db, row, opened_now))
            }
        }
    }

    /// Gives back every payment of `row`'s gateway order that was captured (see
    /// [`Self::give_back`]); returns the gateway id and the amount of each refunded now.
    async fn give_back_order(
        &self,
        db: &mut sqlx::PgConnection,
        row: &PaymentRow,
        order_id: &str,
    ) -> Result<Vec<(String, i64)>, ActivityError> {
        let mut refunded = Vec::new();
        for payment in self.gateway.order_payments(order_id).await? {
            if !payment.gateway_status().was_captured() {
                // Failed attempts took nothing; an authorisation never captured lapses.
                continue;
            }
            let given = self.give_back(db, row, &payment).await?;
            if given.now > 0 {
                refunded.push((payment.id, given.now));
            }
        }
        Ok(refunded)
    }

    /// Captures `payment` if it is only authorised, and records the capture on `row`.
    async fn capture_and_record(
        &self,
        db: &mut sqlx::PgConnection,
        row: &PaymentRow,
        payment: Payment,
        amount: Money,
    ) -> Result<Payment, ActivityError> {
        let payment = if payment.gateway_status() == GatewayStatus::Authorized {
            self.capture_once(&payment, amount).await?
        } else {
            payment
        };
        store::mark_captured(db, row, &payment.id, payment.amount).await?;
        Ok(payment)
    }

    pub fn new(pool: PgPool, gateway: GatewayClient) -> Self {
        PaymentActivitiesImpl { pool, gateway }
    }
}

#[activities]
impl PaymentActivitiesImpl {
    #[activity(definition = definitions::Charge)]
    #[tracing::instrument(skip_all, fields(booking_ref = %request.booking_ref, key = %request.idempotency_key))]
    pub async fn charge(
        self: Arc<Self>,
        ctx: ActivityContext,
        request: ChargeRequest,
    ) -> Result<Charge, ActivityError> {
        while_alive(&ctx, &Progress::none(), self.charge_attempt(request)).await
    }

    #[activity(definition = definitions::RefundCharge)]
    #[tracing::instrument(skip_all, fields(booking_ref = %request.booking_ref, key = %request.charge_idempotency_key))]
    pub async fn refund_charge(
        self: Arc<Self>,
        ctx: ActivityContext,
        request: RefundRequest,
    ) -> Result<RefundOutcome, ActivityError> {
        while_alive(&ctx, &Progress::none(), self.refund_charge_attempt(request)).await
    }

    #[activity(definition = definitions::OpenCheckout)]
    #[tracing::instrument(skip_all, fields(booking_ref = %request.booking_ref, key = %request.idempotency_key))]
    pub async fn open_checkout(
        self: Arc<Self>,
        ctx: ActivityContext,
        request: CheckoutRequest,
    ) -> Result<CheckoutOpened, ActivityError> {
        while_alive(&ctx, &Progress::none(), self.open_checkout_attempt(request)).await
    }

    #[activity(definition = definitions::SettleCheckout)]
    #[tracing::instrument(skip_all, fields(booking_ref = %request.booking_ref, key = %request.idempotency_key))]
    pub async fn settle_checkout(
        self: Arc<Self>,
        ctx: ActivityContext,
        request: SettleRequest,
    ) -> Result<Charge, ActivityError> {
        while_alive(&ctx, &Progress::none(), self.settle_checkout_attempt(request)).await
    }

    #[activity(definition = definitions::RefundAmount)]
    #[tracing::instrument(skip_all, fields(booking_ref = %request.booking_ref, key = %request.refund_key))]
    pub async fn refund_amount(
        self: Arc<Self>,
        ctx: ActivityContext,
        request: RefundAmountRequest,
    ) -> Result<RefundOutcome, ActivityError> {
        while_alive(&ctx, &Progress::none(), self.refund_amount_attempt(request)).await
    }

    #[activity(definition = definitions::ReconcileStale)]
    #[tracing::instrument(skip_all)]
    pub async fn reconcile_stale(
        self: Arc<Self>,
        ctx: ActivityContext,
        request: ReconcileRequest,
    ) -> Result<ReconcileReport, ActivityError> {
        let progress = Progress::resumed(&ctx);
        while_alive(&ctx, &progress, self.reconcile_stale_attempt(request, &progress)).await
    }

    #[activity(definition = definitions::ResolveWebhook)]
    #[tracing::instrument(skip_all, fields(event_id = %request.event_id, action = ?request.action))]
    pub async fn resolve_webhook(
        self: Arc<Self>,
        ctx: ActivityContext,
        request: WebhookResolutionInput,
    ) -> Result<WebhookResolved, ActivityError> {
        while_alive(&ctx, &Progress::none(), self.resolve_webhook_attempt(request)).await
    }

    #[activity(definition = definitions::RefundPayment)]
    #[tracing::instrument(skip_all, fields(booking_ref = %request.booking_ref, payment = %request.gateway_payment_id))]
    pub async fn refund_payment(
        self: Arc<Self>,
        ctx: ActivityContext,
        request: RefundPaymentRequest,
    ) -> Result<RefundOutcome, ActivityError> {
        while_alive(&ctx, &Progress::none(), self.refund_payment_attempt(request)).await
    }

    #[activity(definition = definitions::HandRefundOver)]
    #[tracing::instrument(skip_all, fields(booking_ref = %request.booking_ref, key = %request.refund_key))]
    pub async fn hand_refund_over(
        self: Arc<Self>,
        ctx: ActivityContext,
        request: RefundHandover,
    ) -> Result<HandoverOutcome, ActivityError> {
        while_alive(&ctx, &Progress::none(), self.hand_refund_over_attempt(request)).await
    }
}

/// A refund's reason as kept on its request: never empty, at most 500 characters.
fn kept_reason(reason: &str) -> String {
    let reason = reason.trim();
    if reason.is_empty() { "refund".to_string() } else { reason.chars().take(500).collect() }
}

/// One attempt of each activity, run under [`while_alive`].
impl PaymentActivitiesImpl {
    async fn charge_attempt(&self, request: ChargeRequest) -> Result<Charge, ActivityError> {
        let (mut db, row, opened_now) = self
            .charge_with_order(&request.idempotency_key, &request.booking_ref, request.amount, ChargeMethod::Card)
            .await?;
        match row.status {
            PaymentStatus::Captured => return Ok(recorded_charge(&row, request.amount.currency)),
            PaymentStatus::Declined => return Err(refused(&row)),
            // The charge's refund already ran: this is a late attempt whose result nobody
            // waits for, and it must not take money that would never be given back.
            PaymentStatus::Voided | PaymentStatus::Refunded | PaymentStatus::PartiallyRefunded => {
                return Err(business_failure(failure_type::CHARGE_CLOSED, "this charge was already compensated"));
            }
            PaymentStatus::Created | PaymentStatus::Authorized => {}
        }
        let currency = request.amount.currency.code();
        let order_id = row.gateway_order_id.clone().ok_or_else(|| without_order(&row))?;
        let earlier_payment = if opened_now {
            // An order opened by this attempt has no payments yet: no need to ask.
            None
        } else {
            // A previous attempt opened the order and may have paid it, then lost its
            // answer: ask the gateway first.
            let existing = self.gateway.order_payments(&order_id).await?;
            existing
                .into_iter()
                .find(|p| matches!(p.gateway_status(), GatewayStatus::Captured | GatewayStatus::Authorized))
        };

        let payment = match earlier_payment {
            Some(p) => p,
            None => {
                match self.gateway.pay_with_card(&order_id, request.amount.amount, currency, &request.card_token).await
                {
                    Ok(p) => p,
                    Err(GatewayError::Declined { description, .. }) => {
                        store::mark_declined(&mut *db, row.payment_id, store::DECLINED_BY_BANK, &description).await?;
                        tracing::info!(%description, "card declined");
                        return Err(business_failure(failure_type::CARD_DECLINED, &description));
                    }
                    // The gateway refused this payment request outright: asking again cannot
                    // succeed, so the booking is given up instead of retried forever.
                    Err(e @ GatewayError::Rejected { .. }) if e.is_final_rejection() => {
                        store::mark_declined(&mut *db, row.payment_id, store::REJECTED_BY_GATEWAY, &e.to_string())
                            .await?;
                        tracing::warn!(error = %e, "payment rejected by the gateway");
                        return Err(business_failure(failure_type::PAYMENT_REJECTED, &e.to_string()));
                    }
                    Err(other) => return Err(other.into()),
                }
            }
        };
        let payment = self.capture_and_record(&mut db, &row, payment, request.amount).await?;
        db.release().await?;
        Ok(charge_of(&row, payment.id, Money { amount: payment.amount, currency: request.amount.currency }))
    }

    async fn refund_charge_attempt(&self, request: RefundRequest) -> Result<RefundOutcome, ActivityError> {
        let (mut db, Some(row)) = self.locked_charge(&request.charge_idempotency_key).await? else {
            // The charge never started: nothing to give back.
            return Ok(RefundOutcome { refunded: Money::inr(0) });
        };
        if handed_over(&mut db, &whole_charge_refund_key(&request.charge_idempotency_key)).await? {
            return Err(business_failure(failure_type::REFUND_HANDED_OVER, "an operator took this refund over"));
        }
        if let Some(order_id) = &row.gateway_order_id {
            // The gateway, not our row, says what was captured and refunded: an attempt may
            // have timed out after the gateway acted.
            for (payment, amount) in self.give_back_order(&mut db, &row, order_id).await? {
                tracing::info!(%payment, amount, reason = %request.reason, "refunded");
            }
        }
        store::mark_voided(&mut *db, row.payment_id).await?;
        refunded_since(db, &row).await
    }

    async fn open_checkout_attempt(&self, request: CheckoutRequest) -> Result<CheckoutOpened, ActivityError> {
        let (db, row, _) = self
            .charge_with_order(&request.idempotency_key, &request.booking_ref, request.amount, ChargeMethod::Checkout)
            .await?;
        let gateway_order_id = row.gateway_order_id.clone().ok_or_else(|| without_order(&row))?;
        db.release().await?;
        Ok(CheckoutOpened { payment_id: row.payment_id, gateway_order_id })
    }

    async fn settle_checkout_attempt(&self, request: SettleRequest) -> Result<Charge, ActivityError> {
        let (mut db, Some(row)) = self.locked_charge(&request.idempotency_key).await? else {
            return Err(business_failure(failure_type::PAYMENT_NOT_FOUND, "no checkout was opened for this booking"));
        };
        if row.status == PaymentStatus::Captured {
            return Ok(recorded_charge(&row, request.amount.currency));
        }
        // A decline recorded by an earlier attempt (or for an earlier notice) answers the
        // same failure again, without asking the gateway.
        if row.status == PaymentStatus::Declined {
            return Err(refused(&row));
        }
        if row.status.is_closed() {
            return Err(business_failure(failure_type::CHARGE_CLOSED, "this checkout was already closed"));
        }
        let Some(order_id) = row.gateway_order_id.clone() else {
            return Err(business_failure(failure_type::PAYMENT_NOT_FOUND, "the checkout has no gateway order"));
        };
        // The gateway's record decides, not the notice that woke the saga.
        let payments = self.gateway.order_payments(&order_id).await?;
        let Some(payment) = payments
            .iter()
            .find(|p| p.gateway_status() == GatewayStatus::Captured)
            .or_else(|| payments.iter().find(|p| p.gateway_status() == GatewayStatus::Authorized))
            .cloned()
        else {
            if let Some(failed) = declined_by(&payments) {
                // Nothing was taken: the booking ends with the decline, as a declined card
                // does, and its compensation gives the rooms back. A payment made on the
                // order after this (a second tab) finds the charge declined and no saga
                // waiting: the saga's refund, or the webhook's automatic one, gives it back.
                let description = failed
                    .error_description
                    .as_deref()
                    .filter(|d| !d.trim().is_empty())
                    .unwrap_or(DECLINED_AT_CHECKOUT)
                    .to_string();
                store::mark_declined(&mut *db, row.payment_id, store::DECLINED_BY_BANK, &description).await?;
                db.release().await?;
                tracing::info!(%description, payment = %failed.id, "checkout payment declined");
                return Err(business_failure(failure_type::CARD_DECLINED, &description));
            }
            return Err(business_failure(
                failure_type::PAYMENT_NOT_FOUND,
                "the gateway shows no payment for the order",
            ));
        };
        let payment = self.capture_and_record(&mut db, &row, payment, request.amount).await?;
        if payment.amount != request.amount.amount {
            // Recorded as captured so the saga's refund gives it back in full.
            tracing::error!(paid = payment.amount, expected = request.amount.amount, "checkout paid the wrong amount");
            return Err(business_failure(
                failure_type::PAYMENT_REJECTED,
                &format!("the gateway captured {} paise, not {}", payment.amount, request.amount.amount),
            ));
        }
        db.release().await?;
        Ok(charge_of(&row, payment.id, Money { amount: payment.amount, currency: request.amount.currency }))
    }

    async fn refund_amount_attempt(&self, request: RefundAmountRequest) -> Result<RefundOutcome, ActivityError> {
        let currency = request.amount.currency;
        let zero = Money { amount: 0, currency };
        let (mut db, Some(row)) = self.locked_charge(&request.charge_idempotency_key).await? else {
            return Ok(RefundOutcome { refunded: zero });
        };
        let Some(payment_id) = row.gateway_payment_id.clone().filter(|_| row.captured_paise > 0) else {
            db.release().await?;
            return Ok(RefundOutcome { refunded: zero });
        };
        // The first attempt reserves the amount under the key (an operator's refund arrives
        // reserved already), capped by what is left to refund; every later attempt finds it
        // and sends the gateway the same body under the same key: one refund, however often
        // this runs, and never more than was captured less what was refunded.
        let reserved = match store::find_refund_request(&mut *db, &request.refund_key).await? {
            Some(reserved) if reserved.status == store::RefundRequestStatus::Owed => {
                return Err(business_failure(failure_type::REFUND_HANDED_OVER, "an operator took this refund over"));
            }
            Some(reserved) => reserved,
            None => {
                let amount = request.amount.amount.min(store::refundable_paise(&mut db, &row).await?);
                if amount <= 0 {
                    db.release().await?;
                    return Ok(RefundOutcome { refunded: zero });
                }
                let requested_by = format!("saga:{}", request.refund_key.split('/').next().unwrap_or_default());
                let reason = kept_reason(&request.reason);
                let new = store::NewRefundRequest {
                    refund_key: &request.refund_key,
                    payment: &row,
                    amount_paise: amount,
                    reason: &reason,
                    requested_by: &requested_by,
                };
                store::insert_refund_request(&mut db, &new, None).await?
            }
        };
        let refund = self.gateway.refund(&payment_id, reserved.amount_paise, &request.refund_key).await?;
        let movement_key = gateway_idempotency_key(&request.refund_key);
        store::record_requested_refund(&mut db, &row, &reserved, &refund.id, refund.amount, &movement_key).await?;
        tracing::info!(amount = refund.amount, reason = %reserved.reason, by = %reserved.requested_by, "refunded");
        db.release().await?;
        Ok(RefundOutcome { refunded: Money { amount: refund.amount, currency } })
    }

    async fn hand_refund_over_attempt(&self, request: RefundHandover) -> Result<HandoverOutcome, ActivityError> {
        let currency = request.amount.map_or(Currency::Inr, |a| a.currency);
        let money = |amount| Money { amount, currency };
        let (mut db, Some(row)) = self.locked_charge(&request.charge_idempotency_key).await? else {
            return Ok(HandoverOutcome { refunded: money(0), owed: money(0) });
        };
        let Some(payment_id) = row.gateway_payment_id.clone().filter(|_| row.captured_paise > 0) else {
            db.release().await?;
            return Ok(HandoverOutcome { refunded: money(0), owed: money(0) });
        };
        let reason = kept_reason(&request.reason);
        let handover = store::Handover { by: &request.handed_over_by, reason: &reason };
        let existing = store::find_refund_request(&mut *db, &request.refund_key).await?;
        if let Some(found) = &existing {
            match found.status {
                store::RefundRequestStatus::Refunded => {
                    db.release().await?;
                    return Ok(HandoverOutcome { refunded: money(found.amount_paise), owed: money(0) });
                }
                store::RefundRequestStatus::Owed => {
                    db.release().await?;
                    return Ok(HandoverOutcome { refunded: money(0), owed: money(found.amount_paise) });
                }
                store::RefundRequestStatus::Requested => {}
            }
        }
        // The gateway, not our books, says what was refunded: an attempt may have timed out
        // after the gateway acted.
        let on_books: std::collections::HashSet<String> = store::movements_of_booking(&mut *db, &row.booking_ref)
            .await?
            .into_iter()
            .filter(|m| m.kind == "refund")
            .map(|m| m.gateway_ref)
            .collect();
        let gateway_refunds = self.gateway.payment_refunds(&payment_id).await?;
        let unrecorded = gateway_refunds.iter().any(|r| !on_books.contains(&r.id));
        match existing {
            // A refund of a fixed amount, reserved: when the gateway made a refund our books
            // lack, it may be this one, whose answer was lost. Asking again under its key
            // answers that refund if so, and nothing is owed.
            Some(reserved) => {
                if unrecorded
                    && let Ok(refund) =
                        self.gateway.refund(&payment_id, reserved.amount_paise, &request.refund_key).await
                {
                    let movement_key = gateway_idempotency_key(&request.refund_key);
                    store::record_requested_refund(&mut db, &row, &reserved, &refund.id, refund.amount, &movement_key)
                        .await?;
                    db.release().await?;
                    return Ok(HandoverOutcome { refunded: money(refund.amount), owed: money(0) });
                }
                store::mark_refund_owed(&mut db, &request.refund_key, &handover).await?;
                tracing::warn!(amount = reserved.amount_paise, by = %request.handed_over_by, "refund handed over, owed");
                db.release().await?;
                Ok(HandoverOutcome { refunded: money(0), owed: money(reserved.amount_paise) })
            }
            // Never reserved (a compensation's refund of the whole charge, or one whose every
            // attempt failed before reserving): what is left of the capture is owed, after the
            // gateway's refunds are on the books.
            None => {
                for refund in gateway_refunds {
                    let key = gateway_idempotency_key(&format!("{}/refund/{}", row.idempotency_key, refund.id));
                    store::record_refund(&mut db, &row, &refund.id, refund.amount, &key).await?;
                }
                let left = store::refundable_paise(&mut db, &row).await?;
                let owed = request.amount.map_or(left, |a| a.amount.min(left));
                if owed <= 0 {
                    db.release().await?;
                    return Ok(HandoverOutcome { refunded: money(0), owed: money(0) });
                }
                let requested_by = format!("saga:{}", request.refund_key.split('/').next().unwrap_or_default());
                let new = store::NewRefundRequest {
                    refund_key: &request.refund_key,
                    payment: &row,
                    amount_paise: owed,
                    reason: handover.reason,
                    requested_by: &requested_by,
                };
                store::insert_refund_request(&mut db, &new, Some(&handover)).await?;
                tracing::warn!(amount = owed, by = %request.handed_over_by, "refund handed over, owed");
                db.release().await?;
                Ok(HandoverOutcome { refunded: money(0), owed: money(owed) })
            }
        }
    }

    async fn reconcile_stale_attempt(
        &self,
        request: ReconcileRequest,
        progress: &Progress,
    ) -> Result<ReconcileReport, ActivityError> {
        let stale_after = std::time::Duration::from_secs(request.stale_after_secs);
        // A retried attempt goes on from its predecessor's count: the payments that one
        // settled are no longer stale, so this one does not see them again.
        let mut report = progress.current().unwrap_or_default();
        for stale in store::stale_charges(&self.pool, stale_after, i64::from(request.limit)).await? {
            // Read again under the lock: a saga may have settled it meanwhile.
            let (mut db, Some(row)) = self.locked_charge(&stale.idempotency_key).await? else { continue };
            if !row.status.is_open() {
                continue;
            }
            report.checked += 1;
            let order_id = row.gateway_order_id.clone().unwrap_or_default();
            for (_, amount) in self.give_back_order(&mut db, &row, &order_id).await? {
                report.refunded += 1;
                report.refunded_paise += amount;
                tracing::warn!(booking_ref = %row.booking_ref, amount, "refunded a payment no saga recorded");
            }
            // Nothing captured: an authorisation lapses at the gateway; the charge is closed.
            store::mark_voided(&mut *db, row.payment_id).await?;
            report.closed += 1;
            db.release().await?;
            progress.set(report);
        }
        Ok(report)
    }

    async fn resolve_webhook_attempt(&self, request: WebhookResolutionInput) -> Result<WebhookResolved, ActivityError> {
        let event = store::inbox_event(&self.pool, &request.event_id)
            .await?
            .ok_or_else(|| business_failure("EventNotInInbox", "the event is not one the inbox holds"))?;
        let nothing = WebhookResolved { resolution: "nothing_to_refund".into(), refunded: Money::inr(0) };
        if matches!(event.resolution.as_deref(), Some("refunded" | "attached" | "nothing_to_refund")) {
            // Done by an earlier attempt: answer what it did.
            return Ok(WebhookResolved { resolution: event.resolution.unwrap_or_default(), ..nothing });
        }
        let Some(payment_id) = event.gateway_payment_id.clone() else {
            store::finish_resolution(&self.pool, &event.event_id, "nothing_to_refund", None).await?;
            return Ok(nothing);
        };
        let charge = match &event.gateway_order_id {
            Some(order_id) => store::find_by_order(&self.pool, order_id).await?,
            None => None,
        };
        let payment = match self.gateway.payment(&payment_id).await {
            Ok(payment) if payment.gateway_status().was_captured() => payment,
            // No such payment at the gateway (the event named one it never made), or one that
            // took nothing: there is nothing to give back or keep.
            Ok(_) => {
                store::finish_resolution(&self.pool, &event.event_id, "nothing_to_refund", None).await?;
                return Ok(nothing);
            }
            Err(e) if e.is_final_rejection() => {
                store::finish_resolution(&self.pool, &event.event_id, "nothing_to_refund", None).await?;
                return Ok(nothing);
            }
            Err(e) => return Err(e.into()),
        };
        if charge.as_ref().is_some_and(|row| row.stands_on(&payment.id)) {
            return Err(business_failure(
                failure_type::PAYMENT_IN_USE,
                "the payment is the capture its booking stands on; cancel the booking instead",
            ));
        }
        match (request.action, charge) {
            (WebhookAction::Attach, None) => {
                Err(business_failure(failure_type::NO_BOOKING_FOR_ORDER, "no booking opened the payment's order"))
            }
            (WebhookAction::Attach, Some(row)) => {
                let (mut db, _) = self.locked_charge(&row.idempotency_key).await?;
                store::record_extra_capture(&mut db, &row, &payment.id, payment.amount).await?;
                store::finish_resolution(&mut *db, &event.event_id, "attached", None).await?;
                db.release().await?;
                tracing::info!(payment = %payment.id, booking_ref = %row.booking_ref, "payment kept on its booking");
                Ok(WebhookResolved { resolution: "attached".into(), refunded: Money::inr(0) })
            }
            (WebhookAction::Refund, Some(row)) => {
                // The order is a booking's: the refund goes on its ledger, as a second
                // payment's does.
                let (mut db, _) = self.locked_charge(&row.idempotency_key).await?;
                let given = self.give_back(&mut db, &row, &payment).await?;
                let refund_id = self.gateway.payment_refunds(&payment.id).await?.into_iter().last().map(|r| r.id);
                store::finish_resolution(&mut *db, &event.event_id, "refunded", refund_id.as_deref()).await?;
                db.release().await?;
                Ok(WebhookResolved { resolution: "refunded".into(), refunded: Money::inr(given.now) })
            }
            (WebhookAction::Refund, None) => {
                // No booking's order: nothing of ours to record it on; the gateway's key makes
                // it once.
                let outstanding = payment.amount - payment.amount_refunded;
                if outstanding <= 0 {
                    store::finish_resolution(&self.pool, &event.event_id, "nothing_to_refund", None).await?;
                    return Ok(nothing);
                }
                let key = format!("webhook-{}/refund", event.event_id);
                let refund_id = self.gateway.refund(&payment.id, outstanding, &key).await?.id;
                store::finish_resolution(&self.pool, &event.event_id, "refunded", Some(&refund_id)).await?;
                tracing::warn!(payment = %payment.id, amount = outstanding, "refunded a payment no booking opened");
                Ok(WebhookResolved { resolution: "refunded".into(), refunded: Money::inr(outstanding) })
            }
        }
    }

    async fn refund_payment_attempt(&self, request: RefundPaymentRequest) -> Result<RefundOutcome, ActivityError> {
        let (mut db, Some(row)) = self.locked_charge(&request.charge_idempotency_key).await? else {
            return Ok(RefundOutcome { refunded: Money::inr(0) });
        };
        let currency = currency_of(&row);
        if row.stands_on(&request.gateway_payment_id) {
            // A confirmed booking stands on this capture; giving it back is a cancellation.
            tracing::info!("payment is the booking's capture; not refunded automatically");
            return Ok(RefundOutcome { refunded: Money { amount: 0, currency } });
        }
        let payment = self.gateway.payment(&request.gateway_payment_id).await?;
        if row.gateway_order_id.as_deref() != Some(payment.order_id.as_str()) {
            return Err(business_failure("PaymentMismatch", "the payment belongs to another order"));
        }
        if !payment.gateway_status().was_captured() {
            db.release().await?;
            return Ok(RefundOutcome { refunded: Money { amount: 0, currency } });
        }
        let given = self.give_back(&mut db, &row, &payment).await?;
        if given.now > 0 {
            tracing::info!(amount = given.now, reason = %request.reason, "refunded a payment no booking uses");
        }
        if given.extra {
            // Not part of the charge's totals: what this call refunded is the answer.
            db.release().await?;
            return Ok(RefundOutcome { refunded: Money { amount: given.now, currency } });
        }
        refunded_since(db, &row).await
    }
}

impl PaymentActivitiesImpl {
    /// Captures an authorised payment; if the gateway says it is no longer capturable,
    /// reads it back (a lost answer to an earlier capture looks exactly like that).
    async fn capture_once(&self, payment: &Payment, amount: Money) -> Result<Payment, GatewayError> {
        match self.gateway.capture(&payment.id, amount.amount, amount.currency.code()).await {
            Ok(p) => Ok(p),
            Err(GatewayError::Rejected { .. }) => {
                let current = self.gateway.payment(&payment.id).await?;
                if current.gateway_status() == GatewayStatus::Captured {
                    Ok(current)
                } else {
                    Err(GatewayError::Unexpected {
                        status: 409,
                        body: format!("payment {} is {}", current.id, current.status),
                    })
                }
            }
            Err(e) => Err(e),
        }
    }
}

/// What a declined checkout payment says when the gateway gives no description.
const DECLINED_AT_CHECKOUT: &str = "The card was declined on the checkout page";

/// The payment that declined a checkout: a failed payment of the order, when none of its
/// payments was captured or authorised (the caller looked) and none is still under way.
fn declined_by(payments: &[Payment]) -> Option<&Payment> {
    let under_way =
        payments.iter().any(|p| matches!(p.gateway_status(), GatewayStatus::Created | GatewayStatus::Unknown));
    if under_way {
        return None;
    }
    payments.iter().find(|p| p.gateway_status() == GatewayStatus::Failed)
}

/// What [`PaymentActivitiesImpl::give_back`] did with one gateway payment.
struct GivenBack {
    /// Paise refunded by this call.
    now: i64,
    /// The payment was an extra capture of the order, not the charge's own.
    extra: bool,
}

/// How often a payment activity tells Temporal it is alive: well within the heartbeat
/// timeout the workflows give payment steps.
const HEARTBEAT_EVERY: Duration = Duration::from_secs(5);

/// What a payment activity's heartbeats carry: the reconciliation's running count, so a
/// retried attempt goes on where the last one stopped. Other activities carry nothing.
struct Progress(Mutex<Option<ReconcileReport>>);

impl Progress {
    fn none() -> Self {
        Progress(Mutex::new(None))
    }

    /// The count the previous attempt's last heartbeat carried, if any.
    fn resumed(ctx: &ActivityContext) -> Self {
        Progress(Mutex::new(ctx.heartbeat_details().deserialize::<ReconcileReport>().ok().flatten()))
    }

    fn current(&self) -> Option<ReconcileReport> {
        *self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn set(&self, report: ReconcileReport) {
        *self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(report);
    }
}

/// Runs one attempt while heartbeating. Payment attempts hold a charge's lock and a pooled
/// connection across gateway calls: when Temporal says the attempt is over (it timed out,
/// or its workflow no longer wants it), the attempt is dropped, and its lock and connection
/// with it, so the retry that follows does not queue behind it. Dropping an attempt midway
/// is a crash the charge steps are built to survive: each reads the gateway before acting.
async fn while_alive<T>(
    ctx: &ActivityContext,
    progress: &Progress,
    attempt: impl Future<Output = Result<T, ActivityError>>,
) -> Result<T, ActivityError> {
    let heartbeats = async {
        let mut tick = tokio::time::interval(HEARTBEAT_EVERY);
        loop {
            tick.tick().await;
            let sent = match progress.current() {
                Some(report) => ctx.record_heartbeat(report).await,
                None => ctx.record_heartbeat(()).await,
            };
            if let Err(e) = sent {
                tracing::warn!(error = %e, "could not record a heartbeat");
            }
        }
    };
    tokio::select! {
        result = attempt => result,
        () = heartbeats => unreachable!("heartbeats go on until the attempt ends"),
        () = ctx.cancelled() => {
            tracing::warn!("attempt stopped: Temporal no longer waits for it (timed out or cancelled)");
            Err(ActivityError::cancelled())
        }
    }
}

/// The charge step's answer: the gateway payment `gateway_payment_id` on `row`'s order
/// captured `captured`.
fn charge_of(row: &PaymentRow, gateway_payment_id: String, captured: Money) -> Charge {
    Charge {
        payment_id: row.payment_id,
        gateway_order_id: row.gateway_order_id.clone().unwrap_or_default(),
        gateway_payment_id,
        captured,
    }
}

/// The charge step's answer for a capture `row` recorded before.
fn recorded_charge(row: &PaymentRow, currency: Currency) -> Charge {
    charge_of(row, row.gateway_payment_id.clone().unwrap_or_default(), Money { amount: row.captured_paise, currency })
}

fn currency_of(row: &PaymentRow) -> Currency {
    Currency::parse(&row.currency).unwrap_or(Currency::Inr)
}

/// What was refunded of `row`'s charge since `row` was read; releases the charge's lock.
async fn refunded_since(mut db: ChargeLock, row: &PaymentRow) -> Result<RefundOutcome, ActivityError> {
    let now =
        store::find_by_key(&mut *db, &row.idempotency_key).await?.map_or(row.refunded_paise, |r| r.refunded_paise);
    db.release().await?;
    Ok(RefundOutcome { refunded: Money { amount: now - row.refunded_paise, currency: currency_of(row) } })
}

/// The same answer for a refused charge on every retry, by how it was refused.
fn refused(row: &PaymentRow) -> ActivityError {
    let message = row.failure_message.as_deref().unwrap_or("payment refused");
    match row.failure_code.as_deref() {
        Some(store::REJECTED_BY_GATEWAY) => business_failure(failure_type::PAYMENT_REJECTED, message),
        _ => business_failure(failure_type::CARD_DECLINED, message),
    }
}

/// A charge in progress always has its gateway order (see `charge_with_order`). A closed
/// one without (compensated before its order was opened) is over for good; an open one
/// without is a broken row, retried until someone repairs it, never charged blindly.
fn without_order(row: &PaymentRow) -> ActivityError {
    if row.status.is_closed() {
        return business_failure(
            failure_type::CHARGE_CLOSED,
            "this charge was closed before its gateway order was opened",
        );
    }
    let message = format!("payment {} ({}) has no gateway order", row.payment_id, row.status.as_str());
    ApplicationFailure::builder(message).build().into()
}

/// A non-retryable failure with a type name the saga matches on.
/// The key a compensation's refund of the whole charge is taken over under.
fn whole_charge_refund_key(charge_key: &str) -> String {
    format!("{charge_key}/refund")
}

/// Whether an operator took the refund under `key` over.
async fn handed_over(db: &mut sqlx::PgConnection, key: &str) -> Result<bool, sqlx::Error> {
    Ok(store::find_refund_request(db, key).await?.is_some_and(|r| r.status == store::RefundRequestStatus::Owed))
}

fn business_failure(type_name: &str, message: &str) -> ActivityError {
    ApplicationFailure::builder(message.to_string()).type_name(type_name.to_string()).non_retryable(true).build().into()
}
