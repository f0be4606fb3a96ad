//! Names the Temporal server knows us by: task queues, search attributes.
//! Changing any of these strands workflows in flight, so they are pinned here once.

use temporalio_common::search_attributes::SearchAttributeKey;

/// One task queue per bounded context; a context's worker deployment polls only its own.
pub mod task_queue {
    pub const BOOKING: &str = "booking";
    pub const INVENTORY: &str = "inventory";
    pub const PAYMENT: &str = "payment";
    pub const CATALOG: &str = "catalog";
    pub const AUTH: &str = "auth";
    pub const PARTNER: &str = "partner";
}

/// Custom search attributes operators use in the Web UI to find a booking's workflow.
pub const BOOKING_REF: SearchAttributeKey<String> = SearchAttributeKey::keyword("BookingRef");
pub const BOOKING_STATUS: SearchAttributeKey<String> = SearchAttributeKey::keyword("BookingStatus");
/// The booking user's id (search attributes are stored unencrypted: no personal data here).
pub const BOOKING_CUSTOMER: SearchAttributeKey<String> = SearchAttributeKey::keyword("BookingCustomer");
pub const BOOKING_PARTNER: SearchAttributeKey<String> = SearchAttributeKey::keyword("BookingPartner");
pub const BOOKING_CHECK_IN: SearchAttributeKey<temporalio_common::search_attributes::Timestamp> =
    SearchAttributeKey::datetime("BookingCheckIn");

/// Every custom search attribute with its server type, as `--search-attribute` takes them.
/// The dev server registers these at start; the production cluster's setup uses the same list.
pub const SEARCH_ATTRIBUTES: &[(&str, &str)] = &[
    ("BookingRef", "Keyword"),
    ("BookingStatus", "Keyword"),
    ("BookingCustomer", "Keyword"),
    ("BookingPartner", "Keyword"),
    ("BookingCheckIn", "Datetime"),
];

/// The safety net for holds no saga will release: a Temporal Schedule starts the
/// `HoldSweep` workflow (id [`HOLD_SWEEP_WORKFLOW_ID`]) on the booking queue.
pub const HOLD_SWEEP_SCHEDULE_ID: &str = "inventory-hold-sweep";
pub const HOLD_SWEEP_WORKFLOW_ID: &str = "inventory-hold-sweep";

/// The Temporal Schedule that starts the `ReconcilePayments` workflow (id
/// [`RECONCILE_WORKFLOW_ID`]) on the booking queue.
pub const RECONCILE_SCHEDULE_ID: &str = "payment-reconciliation";
pub const RECONCILE_WORKFLOW_ID: &str = "payment-reconciliation";

/// The Temporal Schedule that starts the `RepairSweep` workflow (id
/// [`REPAIR_SWEEP_WORKFLOW_ID`]) on the booking queue: it finds booking sagas that stopped
/// without finishing and starts a `RepairBooking` workflow (`repair-<ref>`) for each.
pub const REPAIR_SWEEP_SCHEDULE_ID: &str = "booking-repair-sweep";
pub const REPAIR_SWEEP_WORKFLOW_ID: &str = "booking-repair-sweep";
/// Workflow type names the repair sweep searches visibility by.
pub const BOOKING_SAGA_TYPE: &str = "BookingSaga";
pub const PACKAGE_BOOKING_SAGA_TYPE: &str = "PackageBookingSaga";
pub const REPAIR_BOOKING_TYPE: &str = "RepairBooking";
