//! Payouts to partners through the gateway (the `payment.pay_out` activity). The payment
//! context holds the gateway's credentials; the partner context owns the settlement and
//! records how the payout ended.

use crate::gateway::{GatewayClient, GatewayError, NewPayout};
use contracts::settlement::{PayoutRequest, PayoutResult, definitions, failure_type};
use std::{sync::Arc, time::Duration};
use temporalio_common::error::ApplicationFailure;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};

/// How often a payout the gateway is still processing is read again.
const POLL_EVERY: Duration = Duration::from_secs(2);

pub struct PayoutActivitiesImpl {
    gateway: GatewayClient,
}

impl PayoutActivitiesImpl {
    pub fn new(gateway: GatewayClient) -> Self {
        PayoutActivitiesImpl { gateway }
    }
}

#[activities]
impl PayoutActivitiesImpl {
    #[activity(definition = definitions::PayOut)]
    #[tracing::instrument(skip_all, fields(reference = %request.reference_id, key = %request.idempotency_key))]
    pub async fn pay_out(
        self: Arc<Self>,
        ctx: ActivityContext,
        request: PayoutRequest,
    ) -> Result<PayoutResult, ActivityError> {
        let attempt = async {
            let new = NewPayout {
                amount: request.amount.amount,
                currency: request.amount.currency.code(),
                account_name: &request.account.name,
                ifsc: &request.account.ifsc,
                account_number: &request.account.account_number,
                contact_name: &request.contact_name,
                reference_id: &request.reference_id,
                narration: &request.narration,
            };
            // A lost answer (a timeout, a 5xx) fails this attempt; the retry sends the same
            // key and body, and the gateway answers the payout it made.
            let mut payout = self.gateway.create_payout(&new, &request.idempotency_key).await.map_err(refused)?;
            while !payout.is_final() {
                ctx.record_heartbeat(()).await.ok();
                tokio::time::sleep(POLL_EVERY).await;
                payout = self.gateway.payout(&payout.id).await.map_err(refused)?;
            }
            tracing::info!(payout = %payout.id, status = %payout.status, "payout ended");
            Ok(PayoutResult {
                payout_id: payout.id,
                status: payout.status,
                utr: payout.utr,
                failure_reason: payout.failure_reason,
            })
        };
        tokio::select! {
            result = attempt => result,
            () = ctx.cancelled() => Err(ActivityError::cancelled()),
        }
    }
}

/// A request the gateway refuses as invalid will never succeed (a bad account on record):
/// a business failure for the workflow to show. Anything else is retried.
fn refused(e: GatewayError) -> ActivityError {
    if e.is_final_rejection() {
        ApplicationFailure::builder(e.to_string())
            .type_name(failure_type::NOT_PAYABLE.to_string())
            .non_retryable(true)
            .build()
            .into()
    } else {
        e.into()
    }
}
