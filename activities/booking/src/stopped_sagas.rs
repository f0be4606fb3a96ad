//! Finds the booking sagas that stopped without finishing, for the repair sweep. Temporal's
//! visibility store is the one place that knows how a saga ended (terminated by an operator,
//! ended by the history limit, failed because a compensation gave up); the booking record
//! cannot tell a stopped saga from a slow one.

use chrono::{SecondsFormat, Utc};
use contracts::{
    BookingRef,
    activities::{StoppedSagasRequest, definitions},
    temporal::{BOOKING_SAGA_TYPE, PACKAGE_BOOKING_SAGA_TYPE, REPAIR_BOOKING_TYPE},
};
use futures::StreamExt;
use std::{collections::HashSet, sync::Arc};
use temporalio_client::{Client, WorkflowListOptions};
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};

pub struct StoppedSagasActivitiesImpl {
    client: Client,
}

impl StoppedSagasActivitiesImpl {
    pub fn new(client: Client) -> Self {
        StoppedSagasActivitiesImpl { client }
    }

    async fn workflow_ids(&self, query: String, limit: Option<usize>) -> Result<Vec<String>, ActivityError> {
        let options = WorkflowListOptions::builder().maybe_limit(limit).build();
        let mut executions = self.client.list_workflows(query, options);
        let mut ids = Vec::new();
        while let Some(execution) = executions.next().await {
            ids.push(execution?.id().to_string());
        }
        Ok(ids)
    }
}

#[activities]
impl StoppedSagasActivitiesImpl {
    #[activity(definition = definitions::StoppedSagas)]
    pub async fn stopped_sagas(
        self: Arc<Self>,
        _ctx: ActivityContext,
        request: StoppedSagasRequest,
    ) -> Result<Vec<BookingRef>, ActivityError> {
        let window = chrono::Duration::seconds(i64::try_from(request.closed_within_secs).unwrap_or(i64::MAX / 2));
        let since = (Utc::now() - window).to_rfc3339_opts(SecondsFormat::Secs, true);
        // A saga that completed finished its work (confirmed, or compensated in full); one
        // that was cancelled compensated first. The others may have left anything behind.
        let stopped = format!(
            "WorkflowType IN ('{BOOKING_SAGA_TYPE}', '{PACKAGE_BOOKING_SAGA_TYPE}') \
             AND ExecutionStatus IN ('Failed', 'Terminated', 'TimedOut') AND CloseTime > '{since}'"
        );
        let repaired = format!(
            "WorkflowType = '{REPAIR_BOOKING_TYPE}' AND ExecutionStatus IN ('Running', 'Completed') \
             AND StartTime > '{since}'"
        );
        let repaired: HashSet<String> = self.workflow_ids(repaired, None).await?.into_iter().collect();
        let limit = usize::try_from(request.limit).unwrap_or(usize::MAX);
        let mut found = Vec::new();
        let mut seen = HashSet::new();
        for id in self.workflow_ids(stopped, None).await? {
            let Some(booking_ref) = BookingRef::from_workflow_id(&id) else { continue };
            if repaired.contains(&booking_ref.repair_workflow_id()) || !seen.insert(booking_ref.clone()) {
                continue;
            }
            found.push(booking_ref);
            if found.len() >= limit {
                break;
            }
        }
        if !found.is_empty() {
            tracing::warn!(count = found.len(), "booking sagas stopped without finishing; starting repairs");
        }
        Ok(found)
    }
}
