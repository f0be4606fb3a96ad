//! The payment context's activities, polled on the `payment` task queue.

use crate::{
    gateway::{GatewayClient, GatewayError, Payment, gateway_idempotency_key},
    store::{self, PaymentRow},
};
use contracts::{
    Money,
    activities::{Charge, ChargeRequest, RefundOutcome, RefundRequest, definitions, failure_type},
};
use sqlx::PgPool;
use std::sync::Arc;
use temporalio_common::error::ApplicationFailure;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};

pub struct PaymentActivitiesImpl {
    pool: PgPool,
    gateway: GatewayClient,
}

impl PaymentActivitiesImpl {
    pub fn new(pool: PgPool, gateway: GatewayClient) -> Self {
        PaymentActivitiesImpl { pool, gateway }
    }
}

#[activities]
impl PaymentActivitiesImpl {
    #[activity(definition = definitions::Charge)]
    #[tracing::instrument(skip_all, fields(booking_ref = %request.booking_ref, key = %request.idempotency_key))]
    pub async fn charge(self: Arc<Self>, _ctx: ActivityContext, request: ChargeRequest) -> Result<Charge, ActivityError> {
        let row = store::begin_charge(&self.pool, &request.idempotency_key, &request.booking_ref, request.amount).await?;
        match row.status.as_str() {
            "captured" => return Ok(charge_of(&row, request.amount)),
            "declined" => return Err(declined(row.failure_message.as_deref().unwrap_or("payment declined"))),
            _ => {}
        }
        let currency = request.amount.currency.code();
        let order_id = match &row.gateway_order_id {
            Some(id) => id.clone(),
            None => {
                let order = self.gateway.create_order(request.amount.amount, currency, request.booking_ref.as_str()).await?;
                store::set_order(&self.pool, row.payment_id, &order.id).await?;
                order.id
            }
        };

        // A previous attempt may have paid this order and then lost its answer: ask first.
        let existing = self.gateway.order_payments(&order_id).await?;
        let mut payment = match existing.into_iter().find(|p| p.status == "captured" || p.status == "authorized") {
            Some(p) => p,
            None => match self.gateway.pay_with_card(&order_id, request.amount.amount, currency, &request.card_token).await {
                Ok(p) => p,
                Err(GatewayError::Declined { code, description }) => {
                    store::mark_declined(&self.pool, row.payment_id, &code, &description).await?;
                    tracing::info!(%description, "card declined");
                    return Err(declined(&description));
                }
                // The gateway refused this payment request outright: asking again cannot
                // succeed, so the booking is given up instead of retried forever.
                Err(GatewayError::Rejected { code, description, .. }) => {
                    store::mark_declined(&self.pool, row.payment_id, &code, &description).await?;
                    tracing::warn!(%code, %description, "payment rejected by the gateway");
                    return Err(business_failure(failure_type::PAYMENT_REJECTED, &description));
                }
                Err(other) => return Err(other.into()),
            },
        };
        if payment.status == "authorized" {
            payment = self.capture_once(&payment, request.amount).await?;
        }
        store::mark_captured(&self.pool, &row, &payment.id, payment.amount).await?;
        Ok(Charge {
            payment_id: row.payment_id,
            gateway_order_id: order_id,
            gateway_payment_id: payment.id,
            captured: Money { amount: payment.amount, currency: request.amount.currency },
        })
    }

    #[activity(definition = definitions::RefundCharge)]
    #[tracing::instrument(skip_all, fields(booking_ref = %request.booking_ref, key = %request.charge_idempotency_key))]
    pub async fn refund_charge(self: Arc<Self>, _ctx: ActivityContext, request: RefundRequest) -> Result<RefundOutcome, ActivityError> {
        let Some(row) = store::find_by_key(&self.pool, &request.charge_idempotency_key).await? else {
            // The charge never started: nothing to give back.
            return Ok(RefundOutcome { refunded: Money::inr(0) });
        };
        let currency = contracts::Currency::parse(&row.currency).unwrap_or(contracts::Currency::Inr);
        let Some(order_id) = row.gateway_order_id.clone() else {
            store::mark_voided(&self.pool, row.payment_id).await?;
            return Ok(RefundOutcome { refunded: Money::zero(currency) });
        };
        // The gateway, not our row, says what was captured: the charge may have timed out
        // after the gateway acted.
        let mut refunded_now = 0;
        for payment in self.gateway.order_payments(&order_id).await? {
            let outstanding = payment.amount - payment.amount_refunded;
            if payment.status != "captured" || outstanding <= 0 {
                continue;
            }
            let key = format!("{}/refund/{}", row.idempotency_key, payment.id);
            let refund = self.gateway.refund(&payment.id, outstanding, &key).await?;
            if row.gateway_payment_id.is_none() {
                // The capture happened but was never recorded: record it before its refund.
                store::mark_captured(&self.pool, &row, &payment.id, payment.amount).await?;
            }
            let row = store::find_by_key(&self.pool, &row.idempotency_key).await?.unwrap_or_else(|| row.clone());
            store::record_refund(&self.pool, &row, &refund.id, refund.amount, &gateway_idempotency_key(&key)).await?;
            refunded_now += refund.amount;
            tracing::info!(payment = %payment.id, amount = refund.amount, reason = %request.reason, "refunded");
        }
        store::mark_voided(&self.pool, row.payment_id).await?;
        Ok(RefundOutcome { refunded: Money { amount: refunded_now, currency } })
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
                if current.status == "captured" { Ok(current) } else { Err(GatewayError::Unexpected { status: 409, body: format!("payment {} is {}", current.id, current.status) }) }
            }
            Err(e) => Err(e),
        }
    }
}

fn charge_of(row: &PaymentRow, requested: Money) -> Charge {
    Charge {
        payment_id: row.payment_id,
        gateway_order_id: row.gateway_order_id.clone().unwrap_or_default(),
        gateway_payment_id: row.gateway_payment_id.clone().unwrap_or_default(),
        captured: Money { amount: row.captured_paise, currency: requested.currency },
    }
}

fn declined(message: &str) -> ActivityError {
    business_failure(failure_type::CARD_DECLINED, message)
}

/// A non-retryable failure with a type name the saga matches on.
fn business_failure(type_name: &str, message: &str) -> ActivityError {
    ApplicationFailure::builder(message.to_string()).type_name(type_name.to_string()).non_retryable(true).build().into()
}
