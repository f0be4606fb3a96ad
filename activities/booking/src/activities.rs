//! The booking context's activities, polled on the `booking` task queue.

use crate::{
    lifecycle::{self, RecordStatus},
    store::{self, Transition},
};
use contracts::{
    BookingRef, Currency, Money,
    activities::{
        BookingConfirmation, BookingFailure, BookingOnRecord, CancellationCompletion, CancellationRequest,
        CancellationTerms, NewBookingRecord, NewPackageBookingRecord, RecordedStatus, RefundIssued, definitions,
        failure_type,
    },
};
use sqlx::PgPool;
use std::sync::Arc;
use temporalio_common::error::ApplicationFailure;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};

pub struct BookingActivitiesImpl {
    pool: PgPool,
}

impl BookingActivitiesImpl {
    pub fn new(pool: PgPool) -> Self {
        BookingActivitiesImpl { pool }
    }
}

/// The audit trail's actor for a saga step: the workflow that ran it.
fn actor(ctx: &ActivityContext) -> String {
    format!("system:{}", ctx.info().workflow_id.as_deref().unwrap_or("unknown"))
}

#[activities]
impl BookingActivitiesImpl {
    #[activity(definition = definitions::CreateBooking)]
    #[tracing::instrument(skip_all, fields(booking_ref = %record.booking_ref))]
    pub async fn create_booking(
        self: Arc<Self>,
        ctx: ActivityContext,
        record: NewBookingRecord,
    ) -> Result<(), ActivityError> {
        let recorded = store::create_booking(&self.pool, &record, &actor(&ctx)).await?;
        recorded_once(recorded, &record.booking_ref)
    }

    #[activity(definition = definitions::CreatePackageBooking)]
    #[tracing::instrument(skip_all, fields(booking_ref = %record.booking_ref))]
    pub async fn create_package_booking(
        self: Arc<Self>,
        ctx: ActivityContext,
        record: NewPackageBookingRecord,
    ) -> Result<(), ActivityError> {
        let recorded = store::create_package_booking(&self.pool, &record, &actor(&ctx)).await?;
        recorded_once(recorded, &record.booking_ref)
    }

    #[activity(definition = definitions::ConfirmBooking)]
    #[tracing::instrument(skip_all, fields(booking_ref = %confirmation.booking_ref))]
    pub async fn confirm_booking(
        self: Arc<Self>,
        ctx: ActivityContext,
        confirmation: BookingConfirmation,
    ) -> Result<(), ActivityError> {
        match store::confirm_booking(&self.pool, &confirmation, &actor(&ctx)).await? {
            Transition::Applied => {
                metrics::counter!("tt_bookings_confirmed_total").increment(1);
                Ok(())
            }
            Transition::AlreadyApplied => Ok(()),
            other => Err(invalid_transition(confirmation.booking_ref.as_str(), RecordStatus::Confirmed, &other)),
        }
    }

    #[activity(definition = definitions::BeginCancellation)]
    #[tracing::instrument(skip_all, fields(booking_ref = %request.cancellation.booking_ref))]
    pub async fn begin_cancellation(
        self: Arc<Self>,
        ctx: ActivityContext,
        request: CancellationRequest,
    ) -> Result<CancellationTerms, ActivityError> {
        match store::begin_cancellation(&self.pool, &request, &actor(&ctx)).await? {
            store::BeginCancellation::Terms(terms) => Ok(terms),
            store::BeginCancellation::NotCancellable { status } => Err(ApplicationFailure::builder(format!(
                "booking {} is {status}; only a confirmed booking can be cancelled",
                request.cancellation.booking_ref
            ))
            .type_name(failure_type::NOT_CANCELLABLE.to_string())
            .non_retryable(true)
            .build()
            .into()),
            store::BeginCancellation::NotFound => {
                Err(ApplicationFailure::builder(format!("no booking {}", request.cancellation.booking_ref))
                    .type_name(failure_type::NOT_CANCELLABLE.to_string())
                    .non_retryable(true)
                    .build()
                    .into())
            }
        }
    }

    #[activity(definition = definitions::CompleteCancellation)]
    #[tracing::instrument(skip_all, fields(booking_ref = %completion.booking_ref))]
    pub async fn complete_cancellation(
        self: Arc<Self>,
        ctx: ActivityContext,
        completion: CancellationCompletion,
    ) -> Result<(), ActivityError> {
        match store::complete_cancellation(&self.pool, &completion, &actor(&ctx)).await? {
            Transition::Applied | Transition::AlreadyApplied => Ok(()),
            other => Err(invalid_transition(completion.booking_ref.as_str(), RecordStatus::Cancelled, &other)),
        }
    }

    #[activity(definition = definitions::RecordRefund)]
    #[tracing::instrument(skip_all, fields(booking_ref = %refund.booking_ref))]
    pub async fn record_refund(
        self: Arc<Self>,
        _ctx: ActivityContext,
        refund: RefundIssued,
    ) -> Result<(), ActivityError> {
        if store::record_refund(&self.pool, &refund).await? {
            Ok(())
        } else {
            // The API reserved the refund only for a booking on record; records are never
            // deleted, so this is a bug to look at, not a state to wait out.
            Err(ApplicationFailure::builder(format!("no booking {} to record a refund on", refund.booking_ref))
                .type_name(failure_type::BOOKING_NOT_FOUND.to_string())
                .non_retryable(true)
                .build()
                .into())
        }
    }

    #[activity(definition = definitions::BookingOnRecord)]
    #[tracing::instrument(skip_all, fields(booking_ref = %booking_ref))]
    pub async fn booking_on_record(
        self: Arc<Self>,
        _ctx: ActivityContext,
        booking_ref: BookingRef,
    ) -> Result<Option<BookingOnRecord>, ActivityError> {
        let Some(record) = store::record_for_repair(&self.pool, &booking_ref).await? else { return Ok(None) };
        let status = match record.status {
            RecordStatus::PendingPayment => RecordedStatus::PendingPayment,
            RecordStatus::Confirmed => RecordedStatus::Confirmed,
            RecordStatus::Failed => RecordedStatus::Failed,
            RecordStatus::Cancelled => RecordedStatus::Cancelled,
        };
        let currency = Currency::parse(&record.currency).unwrap_or(Currency::Inr);
        let total = Money { amount: record.total_amount_paise, currency };
        Ok(Some(BookingOnRecord { status, total, hold_ids: record.hold_ids }))
    }

    #[activity(definition = definitions::FailBooking)]
    #[tracing::instrument(skip_all, fields(booking_ref = %failure.booking_ref))]
    pub async fn fail_booking(
        self: Arc<Self>,
        ctx: ActivityContext,
        failure: BookingFailure,
    ) -> Result<(), ActivityError> {
        match store::fail_booking(&self.pool, &failure, &actor(&ctx)).await? {
            Transition::Applied => {
                count_failure(&failure.code);
                Ok(())
            }
            // A saga that failed before writing the record has nothing to mark.
            Transition::AlreadyApplied | Transition::NotFound => Ok(()),
            other => Err(invalid_transition(failure.booking_ref.as_str(), RecordStatus::Failed, &other)),
        }
    }
}

/// A booking that ended without a stay: `expired` when its checkout ran out, otherwise
/// compensated, by the failure's code (`card_declined`, `cancelled`, `hold_lost`, …).
/// Counted by the activity that writes the outcome, once: a retried attempt finds it applied.
fn count_failure(code: &str) {
    if code == "expired" {
        metrics::counter!("tt_bookings_expired_total").increment(1);
    } else {
        metrics::counter!("tt_bookings_compensated_total", "code" => code.to_string()).increment(1);
    }
}

/// A transition the saga should never ask for: non-retryable, so it surfaces to operators
/// instead of looping.
fn invalid_transition(booking_ref: &str, wanted: RecordStatus, transition: &Transition) -> ActivityError {
    let message = match transition {
        Transition::Conflict { current } => lifecycle::refusal(booking_ref, *current, wanted),
        Transition::NotFound => format!("no booking {booking_ref} to make {wanted}"),
        other => format!("booking {booking_ref} cannot become {wanted}: {other:?}"),
    };
    ApplicationFailure::builder(message)
        .type_name("InvalidBookingTransition".to_string())
        .non_retryable(true)
        .build()
        .into()
}

/// A booking written now or by an earlier attempt is recorded; one whose request is bound to
/// another reference must not go on to take payment.
fn recorded_once(recorded: store::Recorded, booking_ref: &BookingRef) -> Result<(), ActivityError> {
    match recorded {
        store::Recorded::New | store::Recorded::AlreadyRecorded => Ok(()),
        store::Recorded::DuplicateOf(other) => Err(ApplicationFailure::builder(format!(
            "the request of booking {booking_ref} is bound to booking {other}: a retry started this saga twice"
        ))
        .type_name(failure_type::DUPLICATE_REQUEST.to_string())
        .non_retryable(true)
        .build()
        .into()),
    }
}
