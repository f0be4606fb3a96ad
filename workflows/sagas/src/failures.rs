//! Reading why a step failed: the business failure it ended with, or that it ran out of time.

use temporalio_common::{
    error::IncomingError,
    protos::temporal::api::{enums::v1::RetryState, failure::v1::failure::FailureInfo},
};
use temporalio_sdk::ActivityExecutionError;

/// Whether the step ran out of time (its deadline, retries included), as opposed to failing:
/// a timeout failure, or an attempt's failure after which the server stopped retrying
/// because the next retry would have passed the deadline.
pub(crate) fn timed_out(err: &ActivityExecutionError) -> bool {
    let mut failure = err.failure();
    while let Some(f) = failure {
        match &f.failure_info {
            Some(FailureInfo::TimeoutFailureInfo(_)) => return true,
            Some(FailureInfo::ActivityFailureInfo(info)) if info.retry_state() == RetryState::Timeout => return true,
            _ => {}
        }
        failure = f.cause.as_deref();
    }
    false
}

pub(crate) fn is_failure_type(err: &ActivityExecutionError, type_name: &str) -> bool {
    application_failure(err).is_some_and(|(found, _)| found.as_deref() == Some(type_name))
}

/// The type and message of the application failure a step ended with. A task-queue
/// activity's failure carries it as its cause; a local activity's failure has no activity
/// wrapper, so it is the application failure itself.
pub(crate) fn application_failure(err: &ActivityExecutionError) -> Option<(Option<String>, String)> {
    if let Some(IncomingError::Application(app)) = err.cause() {
        return Some((app.type_name().map(str::to_owned), app.to_string()));
    }
    let failure = err.failure()?;
    match &failure.failure_info {
        Some(FailureInfo::ApplicationFailureInfo(info)) => {
            Some((Some(info.r#type.clone()).filter(|t| !t.is_empty()), failure.message.clone()))
        }
        _ => None,
    }
}
