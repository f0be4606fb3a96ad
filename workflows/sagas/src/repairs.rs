//! Operators' repairs of a step that keeps failing while a saga gives back or cancels: the
//! `retry_step_now` and `hand_refund_over` updates.
//!
//! A compensation or cancellation step is retried until it succeeds, with a backoff that
//! grows to half a minute: a gateway back after an outage, or a fixed bank account, would
//! otherwise wait out the backoff. `retry_step_now` cancels the attempt waiting on its backoff
//! and schedules the step again at once (attempt 1; every step is idempotent under its key).
//! `hand_refund_over` stops a refund the gateway keeps refusing: the payment context sets its
//! amount aside as owed, under the charge's lock, and the saga goes on without it.
//!
//! Each is an Update whose validator refuses, before anything enters the history, a saga
//! with no such step running. Histories recorded before these updates hold none of them, so
//! the wait on them never fires on replay and the commands are the same.

use crate::options::on_queue;
use contracts::{
    BookingRef, Money,
    activities::{HandoverOutcome, PaymentActivities, RefundHandover},
    saga::{StepRepair, StepRepaired},
    temporal::task_queue,
};
use std::time::Duration;
use temporalio_common::ActivityDefinition;
use temporalio_sdk::{
    ActivityExecutionError, ActivityOptions, CancellableFuture, WaitConditionOptions, WorkflowCancellationToken,
    WorkflowContext,
};

/// What operators asked of a saga's running step, as workflow state.
#[derive(Debug, Clone, Default)]
pub(crate) struct StepRepairs {
    running: Option<RunningStep>,
    /// How many times an operator asked for the running step to be tried again now.
    retries_asked: u32,
    /// The operator who took the running refund over.
    handover: Option<StepRepair>,
}

#[derive(Debug, Clone, Copy)]
struct RunningStep {
    name: &'static str,
    refund: bool,
}

/// A saga whose give-back or cancellation steps operators can repair.
pub(crate) trait Repairable: 'static {
    fn repairs(&self) -> &StepRepairs;
    fn repairs_mut(&mut self) -> &mut StepRepairs;
}

/// How a repairable step ended.
pub(crate) enum StepEnd<T> {
    Done(T),
    /// An operator took the refund over: the payment context must be told, and the saga
    /// goes on without it.
    HandedOver(StepRepair),
}

/// A step operators may retry now (and, for a refund, take over).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Step {
    pub name: &'static str,
    pub refund: bool,
}

/// Runs `activity` as a repairable step: until it ends, `retry_step_now` cancels the waiting
/// attempt and schedules it again at once, and (for a refund) `hand_refund_over` cancels it
/// and answers [`StepEnd::HandedOver`]. `activity` makes the activity's marker, which is not
/// `Clone`.
pub(crate) async fn repairable<W, AD>(
    ctx: &mut WorkflowContext<W>,
    step: Step,
    activity: fn() -> AD,
    input: AD::Input,
    options: impl Fn() -> ActivityOptions,
) -> Result<StepEnd<AD::Output>, ActivityExecutionError>
where
    W: Repairable,
    AD: ActivityDefinition,
    AD::Input: Clone,
{
    ctx.state_mut(|s| s.repairs_mut().running = Some(RunningStep { name: step.name, refund: step.refund }));
    let ended = loop {
        let retries_seen = ctx.state(|s| s.repairs().retries_asked);
        let asked = |s: &W| {
            let repairs = s.repairs();
            repairs.retries_asked > retries_seen || (step.refund && repairs.handover.is_some())
        };
        let attempt = {
            let run = ctx.execute_activity(activity(), input.clone(), options());
            futures::pin_mut!(run);
            // Detached from the workflow's cancellation, as the step itself is: a saga asked
            // to cancel still finishes the step it gives back with.
            let detached = WaitConditionOptions::builder().cancellation_token(WorkflowCancellationToken::new()).build();
            let interrupted = temporalio_sdk::workflows::select! {
                done = run.as_mut() => Some(done),
                _ = ctx.wait_condition_with_options(asked, detached) => None,
            };
            match interrupted {
                Some(done) => done,
                None => {
                    // Cancelling answers at once (the attempt waiting on its backoff is
                    // dropped by the server); one that was running may still finish, which
                    // its idempotency key makes harmless.
                    run.cancel();
                    run.await
                }
            }
        };
        match attempt {
            Err(e) if e.as_cancelled().is_some() => {}
            done => break done.map(StepEnd::Done),
        }
        if let Some(handover) = ctx.state(|s| s.repairs().handover.clone()).filter(|_| step.refund) {
            break Ok(StepEnd::HandedOver(handover));
        }
        if !ctx.is_replaying() {
            tracing::info!(step = step.name, "step retried now, as an operator asked");
        }
    };
    ctx.state_mut(|s| s.repairs_mut().running = None);
    ended
}

/// The refund an operator took over, as the payment context is told of it.
pub(crate) struct HandedOverRefund {
    pub booking_ref: BookingRef,
    pub charge_idempotency_key: String,
    pub refund_key: String,
    /// `None` for all that is left of the charge.
    pub amount: Option<Money>,
}

/// Tells the payment context that `repair` took `refund` over; answers what it found: the
/// refund made after all, or owed.
pub(crate) async fn hand_over<W: Repairable>(
    ctx: &mut WorkflowContext<W>,
    refund: HandedOverRefund,
    repair: StepRepair,
    start_to_close: Duration,
) -> Result<HandoverOutcome, ActivityExecutionError> {
    let handover = RefundHandover {
        booking_ref: refund.booking_ref,
        charge_idempotency_key: refund.charge_idempotency_key,
        refund_key: refund.refund_key,
        amount: refund.amount,
        reason: repair.reason,
        handed_over_by: repair.requested_by,
    };
    ctx.execute_activity(PaymentActivities::hand_refund_over, handover, on_queue(task_queue::PAYMENT, start_to_close))
        .await
}

type Refusal = Box<dyn std::error::Error + Send + Sync>;

fn has_reason(repair: &StepRepair) -> Result<(), Refusal> {
    if repair.reason.trim().is_empty() { Err("a repair needs a reason".into()) } else { Ok(()) }
}

/// Lets `retry_step_now` in only while a repairable step runs.
pub(crate) fn validate_retry(repairs: &StepRepairs, repair: &StepRepair) -> Result<(), Refusal> {
    has_reason(repair)?;
    match repairs.running {
        Some(_) => Ok(()),
        None => Err("no compensation or cancellation step is being retried".into()),
    }
}

/// Lets `hand_refund_over` in only while a refund runs, and only once.
pub(crate) fn validate_handover(repairs: &StepRepairs, repair: &StepRepair) -> Result<(), Refusal> {
    has_reason(repair)?;
    if repairs.handover.is_some() {
        return Err("the refund was already handed over".into());
    }
    match repairs.running {
        Some(RunningStep { refund: true, .. }) => Ok(()),
        Some(RunningStep { name, .. }) => Err(format!("the step being retried is not a refund ({name})").into()),
        None => Err("no refund is being retried".into()),
    }
}

/// Applies a validated `retry_step_now`.
pub(crate) fn ask_retry(repairs: &mut StepRepairs) -> StepRepaired {
    repairs.retries_asked += 1;
    StepRepaired { step: running_name(repairs) }
}

/// Applies a validated `hand_refund_over`.
pub(crate) fn ask_handover(repairs: &mut StepRepairs, repair: StepRepair) -> StepRepaired {
    repairs.handover = Some(repair);
    StepRepaired { step: running_name(repairs) }
}

fn running_name(repairs: &StepRepairs) -> String {
    repairs.running.map_or("none", |r| r.name).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repair(reason: &str) -> StepRepair {
        StepRepair { reason: reason.into(), requested_by: "user:1".into() }
    }

    fn running(name: &'static str, refund: bool) -> StepRepairs {
        StepRepairs { running: Some(RunningStep { name, refund }), ..StepRepairs::default() }
    }

    #[test]
    fn a_retry_needs_a_running_step_and_a_reason() {
        assert!(validate_retry(&StepRepairs::default(), &repair("gateway back")).is_err());
        assert!(validate_retry(&running("release the hold", false), &repair("  ")).is_err());
        let mut repairs = running("release the hold", false);
        assert!(validate_retry(&repairs, &repair("database back")).is_ok());
        assert_eq!(ask_retry(&mut repairs).step, "release the hold");
        assert_eq!(repairs.retries_asked, 1);
    }

    #[test]
    fn only_a_running_refund_is_handed_over_and_only_once() {
        assert!(validate_handover(&running("release the hold", false), &repair("bank closed")).is_err());
        assert!(validate_handover(&StepRepairs::default(), &repair("bank closed")).is_err());
        let mut repairs = running("refund", true);
        assert!(validate_handover(&repairs, &repair("")).is_err());
        assert!(validate_handover(&repairs, &repair("bank account closed")).is_ok());
        assert_eq!(ask_handover(&mut repairs, repair("bank account closed")).step, "refund");
        assert!(validate_handover(&repairs, &repair("again")).is_err());
    }
}
