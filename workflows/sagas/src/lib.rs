//! Workflow definitions: the booking saga, the cancellation saga, the automatic refund of
//! payments no booking uses, operators' refunds, the repair of stopped booking sagas, the
//! hold sweep and partner settlements.
//!
//! Architecture invariants:
//! - Deterministic code only. No I/O, no clocks, no randomness, no threads: time comes from
//!   `ctx.workflow_time()`, and every side effect is an activity named in `contracts`.
//! - Depends on `contracts` and the Temporal workflow crates only; never on a context crate,
//!   a database driver, an HTTP client or the worker runtime (a test checks this).
//! - Changing the order or kind of commands a workflow issues breaks replay of workflows in
//!   flight: guard such changes with `ctx.patched(..)`, or with a condition the history
//!   itself fixes (the start's input or search attributes), and keep the recorded histories
//!   under `tests/histories/` replaying.

mod booking;
mod cancellation;
mod compensation;
mod failures;
mod hold_sweep;
mod manual_refund;
mod options;
mod package_booking;
mod payment_steps;
mod reconcile;
mod refund;
mod repair;
mod repairs;
mod settlement;

pub use booking::{BookingWorkflow, initial_search_attributes};
pub use cancellation::CancellationWorkflow;
pub use hold_sweep::HoldSweepWorkflow;
pub use manual_refund::ManualRefundWorkflow;
pub use package_booking::{PackageBookingWorkflow, package_search_attributes};
pub use reconcile::ReconcilePaymentsWorkflow;
pub use refund::{AutoRefundWorkflow, WebhookResolutionWorkflow};
pub use repair::{RepairBookingWorkflow, RepairSweepWorkflow};
pub use settlement::{PartnerSettlementCycleWorkflow, PartnerSettlementWorkflow, SettlementPayoutWorkflow};
