//! The partner context's activities, polled on the `partner` task queue: what a settlement
//! needs from the partner's own tables.

use crate::store::{self, SettlementRow, SettlementWrite};
use contracts::{
    Money,
    settlement::{NewSettlement, PartnerTerms, SettlementPeriod, SettlementRecord, definitions, failure_type},
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
