//! The partner context's activities, polled on the `partner` task queue: what a settlement
//! needs from the partner's own tables.

use crate::store::{self, SettlementRow, SettlementStatus, SettlementWrite};
use contracts::{
    Money,
    settlement::{
        BankAccount, NewSettlement, PaidPayout, PartnerTerms, PayoutInstruction, PayoutRecord, SettlementPeriod,
        SettlementRecord, definitions, failure_type,
    },
};
use sqlx::PgPool;
use std::sync::Arc;
use temporalio_common::error::ApplicationFailure;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use uuid::Uuid;

pub struct PartnerActivitiesImpl {
    pool: PgPool,
}

impl PartnerActivitiesImpl {
    pub fn new(pool: PgPool) -> Self {
        PartnerActivitiesImpl { pool }
    }
}

fn business_failure(type_name: &str, message: String) -> ActivityError {
    ApplicationFailure::builder(message).type_name(type_name.to_string()).non_retryable(true).build().into()
}

#[activities]
impl PartnerActivitiesImpl {
    #[activity(definition = definitions::SettlementTerms)]
    #[tracing::instrument(skip_all, fields(%partner_id))]
    pub async fn settlement_terms(
        self: Arc<Self>,
        _ctx: ActivityContext,
        partner_id: Uuid,
    ) -> Result<PartnerTerms, ActivityError> {
        let Some(partner) = store::find_partner(&self.pool, partner_id).await? else {
            return Err(business_failure(failure_type::UNKNOWN_PARTNER, format!("no partner {partner_id}")));
        };
        Ok(PartnerTerms { partner_id, partner_code: partner.code, commission_bp: i64::from(partner.commission_bp) })
    }

    /// Idempotent: the first run writes the row, every later run returns it unchanged.
    #[activity(definition = definitions::RecordSettlement)]
    #[tracing::instrument(skip_all, fields(partner_id = %settlement.partner_id, period_start = %settlement.period.start))]
    pub async fn record_settlement(
        self: Arc<Self>,
        _ctx: ActivityContext,
        settlement: NewSettlement,
    ) -> Result<SettlementRecord, ActivityError> {
        match store::record_settlement(&self.pool, &settlement).await? {
            SettlementWrite::Created(row) | SettlementWrite::Existing(row) => Ok(record_of(&row)),
            SettlementWrite::Overlaps(other) => Err(business_failure(
                failure_type::UNSETTLEABLE,
                format!(
                    "the period {}..{} overlaps the settled period {}..{} (the settlement cycle changed)",
                    settlement.period.start, settlement.period.end, other.period_start, other.period_end
                ),
            )),
            SettlementWrite::NoSuchPartner => {
                Err(business_failure(failure_type::UNKNOWN_PARTNER, format!("no partner {}", settlement.partner_id)))
            }
        }
    }

    #[activity(definition = definitions::SettlementToPay)]
    #[tracing::instrument(skip_all, fields(%settlement_id))]
    pub async fn settlement_to_pay(
        self: Arc<Self>,
        _ctx: ActivityContext,
        settlement_id: Uuid,
    ) -> Result<PayoutInstruction, ActivityError> {
        let not_payable = |why: String| business_failure(failure_type::NOT_PAYABLE, why);
        let row = store::settlement_by_id(&self.pool, settlement_id)
            .await?
            .ok_or_else(|| not_payable(format!("no settlement {settlement_id}")))?;
        let partner = store::find_partner(&self.pool, row.partner_id)
            .await?
            .ok_or_else(|| not_payable(format!("no partner {}", row.partner_id)))?;
        let paid = match (row.status, &row.payout_id) {
            (SettlementStatus::Paid, Some(payout_id)) => {
                Some(PaidPayout { payout_id: payout_id.clone(), utr: row.payout_utr.clone() })
            }
            (SettlementStatus::Approved, _) => None,
            _ => return Err(not_payable(format!("settlement {settlement_id} is {}", row.status.as_str()))),
        };
        if paid.is_none() && row.payout_paise <= 0 {
            return Err(not_payable(format!("settlement {settlement_id} has nothing to pay")));
        }
        let account = store::payout_account_of(&self.pool, row.partner_id)
            .await?
            .ok_or_else(|| not_payable(format!("partner {} has no bank account on record", partner.code)))?;
        Ok(PayoutInstruction {
            settlement_id,
            partner_code: partner.code,
            partner_name: partner.name,
            amount: Money::inr(row.payout_paise),
            account: BankAccount {
                name: account.payout_account_name,
                ifsc: account.payout_ifsc,
                account_number: account.payout_account_number,
            },
            paid,
            attempts_before: u32::try_from(row.payout_attempts).unwrap_or_default(),
        })
    }

    #[activity(definition = definitions::RecordPayout)]
    #[tracing::instrument(skip_all, fields(settlement_id = %record.settlement_id, payout = %record.result.payout_id))]
    pub async fn record_payout(
        self: Arc<Self>,
        _ctx: ActivityContext,
        record: PayoutRecord,
    ) -> Result<(), ActivityError> {
        let result = &record.result;
        let failure = (!result.is_processed()).then(|| {
            let reason = result.failure_reason.clone().unwrap_or_else(|| format!("payout {}", result.status));
            format!("{}: {reason}", result.payout_id)
        });
        let attempt = i32::try_from(record.attempt).unwrap_or(i32::MAX);
        store::record_payout(
            &self.pool,
            record.settlement_id,
            attempt,
            &result.payout_id,
            result.is_processed(),
            result.utr.as_deref(),
            failure.as_deref(),
        )
        .await?;
        Ok(())
    }
}

/// A stored settlement in the workflows' terms.
pub fn record_of(row: &SettlementRow) -> SettlementRecord {
    SettlementRecord {
        settlement_id: row.partner_settlement_id,
        partner_id: row.partner_id,
        period: SettlementPeriod { start: row.period_start, end: row.period_end },
        bookings: u32::try_from(row.bookings_count).unwrap_or_default(),
        refunds: u32::try_from(row.refunds_count).unwrap_or_default(),
        commission_bp: i64::from(row.commission_bp),
        collected: Money::inr(row.collected_paise),
        refunded: Money::inr(row.refunded_paise),
        commission: Money::inr(row.commission_paise),
        tds: Money::inr(row.tds_paise),
        payout: Money::inr(row.payout_paise),
    }
}
