//! The operators' inbox of gateway events the payment webhook could not apply — a payment
//! of the wrong amount, on an order no booking opened, or left unrecorded — with the count
//! of webhooks refused for their signature; and the resolution of each event, once, through
//! the `WebhookResolution` workflow: its payment refunded, or kept on its booking's ledger.

use crate::{
    access::{BookingsReadAny, BookingsRefund, ClientInfo, Require},
    error::ApiError,
    extract::{ApiJson, ApiPath, ApiQuery},
    paging::{self, Page, PageSize},
    state::AppState,
    use_cases::started_or_running,
};
use axum::{
    Json,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use contracts::{
    saga::{WebhookAction, WebhookResolutionInput},
    temporal::task_queue,
};
use payment::InboxEvent;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use temporalio_client::{WorkflowIdConflictPolicy, WorkflowIdReusePolicy, WorkflowStartOptions};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(payment_inbox)).routes(routes!(resolve_payment_event))
}

/// The list tag of the inbox's cursors.
const INBOX: &str = "payments:inbox";
/// The window of the signature failures count.
const BAD_SIGNATURE_WINDOW: Duration = Duration::from_secs(24 * 3600);

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct InboxQuery {
    /// `open` (default): waiting for an operator; `resolved`: done.
    #[param(pattern = "^(open|resolved)$")]
    state: Option<String>,
    /// Page size, at most 100 (default 20).
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// One gateway event the webhook could not apply.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct InboxEventDto {
    event_id: String,
    /// The gateway's event name (`payment.captured`, …).
    event: String,
    gateway_order_id: Option<String>,
    gateway_payment_id: Option<String>,
    /// Paise, as the event stated it.
    amount: Option<i64>,
    /// Why it was not applied: `amount_mismatch`, `unknown_order`, `charge_in_progress` or
    /// `received` (the last two only once left so for 15 minutes).
    outcome: String,
    detail: Option<String>,
    received_at: DateTime<Utc>,
    /// The booking whose order it names, when one does.
    booking_ref: Option<String>,
    /// `refunding`, `refunded`, `attaching`, `attached` or `nothing_to_refund`; absent while open.
    resolution: Option<String>,
    resolved_by: Option<String>,
    resolution_reason: Option<String>,
    resolved_at: Option<DateTime<Utc>>,
    /// The gateway's refund id of a refunded payment.
    resolution_refund: Option<String>,
    /// The resolution's workflow, and its page in the Temporal Web UI.
    workflow_id: String,
    ui_url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct InboxPage {
    items: Vec<InboxEventDto>,
    next_cursor: Option<String>,
    /// Webhooks refused for their signature in the last 24 hours: nothing of them is kept.
    bad_signatures_24h: i64,
}

fn dto(state: &AppState, e: InboxEvent) -> InboxEventDto {
    let workflow_id = format!("resolve-webhook-{}", e.event_id);
    InboxEventDto {
        ui_url: state.temporal_ui.workflow_url(&workflow_id),
        workflow_id,
        event_id: e.event_id,
        event: e.event,
        gateway_order_id: e.gateway_order_id,
        gateway_payment_id: e.gateway_payment_id,
        amount: e.amount_paise,
        outcome: e.outcome.as_str().to_string(),
        detail: e.detail,
        received_at: e.received_at,
        booking_ref: e.booking_ref,
        resolution: e.resolution,
        resolved_by: e.resolved_by,
        resolution_reason: e.resolution_reason,
        resolved_at: e.resolved_at,
        resolution_refund: e.resolution_refund,
    }
}

/// The gateway events waiting for an operator (or resolved), newest first, in pages, with
/// the count of webhooks refused for their signature.
#[utoipa::path(get, path = "/payment-inbox", tag = "bookings", params(InboxQuery),
    security(("bearer" = ["bookings:read_any"])),
    responses((status = 200, body = InboxPage), (status = 401, description = "Not signed in"),
        (status = 403, description = "Not an operator")))]
pub(crate) async fn payment_inbox(
    _: Require<BookingsReadAny>,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<InboxQuery>,
) -> Result<Json<InboxPage>, ApiError> {
    let open = match query.state.as_deref() {
        None | Some("open") => true,
        Some("resolved") => false,
        Some(_) => return Err(ApiError::invalid_field("invalid_state", "state", "state is open or resolved")),
    };
    let size = PageSize::or_default(query.limit)?;
    let after: Option<(DateTime<Utc>, String)> = paging::after(INBOX, query.cursor.as_deref())?;
    let rows = state.payments.inbox(open, after, size.fetch()).await?;
    let page = Page::cut(rows, size, INBOX, |e: &InboxEvent| (e.received_at, e.event_id.clone()));
    let bad_signatures_24h = state.payments.bad_signatures_within(BAD_SIGNATURE_WINDOW).await?;
    Ok(Json(InboxPage {
        items: page.items.into_iter().map(|e| dto(&state, e)).collect(),
        next_cursor: page.next_cursor,
        bad_signatures_24h,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResolveRequest {
    /// `refund`: give the payment back; `attach`: keep it on its booking's ledger.
    #[schema(pattern = "^(refund|attach)$")]
    action: String,
    /// Why, for the record (1 to 500 characters).
    #[schema(min_length = 1, max_length = 500, format = "non-blank")]
    reason: String,
}

/// Resolve an inbox event through the `WebhookResolution` workflow
/// (`resolve-webhook-<event id>`): `refund` gives its payment back (whatever the gateway
/// captured and did not give back, once), `attach` keeps it on its booking's ledger. Asking
/// again with the same action answers the same resolution; another action is a 409.
#[utoipa::path(post, path = "/payment-inbox/{event_id}/resolve", tag = "bookings", request_body = ResolveRequest,
    security(("bearer" = ["bookings:refund"])),
    params(("event_id" = String, Path, example = "evt_OyQ2Lw8uT1x0Zr")),
    responses((status = 202, body = InboxEventDto, description = "The resolution runs; read the inbox for its end"),
        (status = 401, description = "Not signed in"), (status = 403, description = "Not an operator"),
        (status = 404, description = "No such event in the inbox"),
        (status = 409, description = "Resolved already, another way"),
        (status = 422, description = "An unknown action, or no reason"),
        (status = 503, description = "Temporal is unreachable; ask again")))]
pub(crate) async fn resolve_payment_event(
    caller: Require<BookingsRefund>,
    ClientInfo(requester): ClientInfo,
    State(state): State<AppState>,
    ApiPath(event_id): ApiPath<String>,
    ApiJson(body): ApiJson<ResolveRequest>,
) -> Result<Response, ApiError> {
    let (action, claim) = match body.action.as_str() {
        "refund" => (WebhookAction::Refund, "refunding"),
        "attach" => (WebhookAction::Attach, "attaching"),
        _ => return Err(ApiError::invalid_field("invalid_action", "action", "action is refund or attach")),
    };
    let reason = super::operator_reason(&body.reason, "A resolution")?;
    let reason = reason.as_str();
    let not_found = || ApiError::not_found("event_not_in_inbox", format!("No event {event_id} waits in the inbox"));
    if state.payments.inbox_event(&event_id).await?.is_none() {
        return Err(not_found());
    }
    let requested_by = format!("user:{}", caller.user_id);
    let event =
        state.payments.claim_resolution(&event_id, claim, &requested_by, reason).await?.ok_or_else(not_found)?;
    let same_action = match event.resolution.as_deref() {
        Some("refunding" | "refunded" | "nothing_to_refund") => action == WebhookAction::Refund,
        Some("attaching" | "attached") => action == WebhookAction::Attach,
        _ => false,
    };
    if !same_action {
        return Err(ApiError::conflict(
            "resolved_otherwise",
            format!("Event {event_id} is resolved already ({})", event.resolution.as_deref().unwrap_or("?")),
        ));
    }
    let input = WebhookResolutionInput { event_id: event_id.clone(), action, reason: reason.to_string(), requested_by };
    let client = state.temporal.client().await?;
    let options = WorkflowStartOptions::new(task_queue::BOOKING, input.workflow_id())
        .id_conflict_policy(WorkflowIdConflictPolicy::UseExisting)
        .id_reuse_policy(WorkflowIdReusePolicy::AllowDuplicateFailedOnly)
        .build();
    let started = client.start_workflow(sagas::WebhookResolutionWorkflow::run, input, options).await.map(drop);
    started_or_running(started, "Resolutions")?;
    let details = serde_json::json!({ "event_id": event_id, "action": body.action });
    state.accounts.log(Some(caller.user_id), "payment_event_resolve", "success", &requester, details).await;
    Ok((StatusCode::ACCEPTED, Json(dto(&state, event))).into_response())
}
