//! The sandbox's books: orders, payments, refunds and payouts in memory, plus the fault switches and
//! the webhook dispatcher every handler reaches through [`Sandbox`]. It only holds the
//! lower modules' pieces; the handlers that change the books live above it.

use crate::{
    faults::FaultSwitch,
    settings::SandboxSettings,
    webhooks::{Event, Webhooks},
};
use serde::Serialize;
use serde_json::Value;
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard},
};

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Order {
    pub id: String,
    pub entity: &'static str,
    pub amount: i64,
    pub amount_paid: i64,
    pub amount_due: i64,
    pub currency: String,
    pub receipt: Option<String>,
    pub status: String,
    /// Payments tried on the order, failed ones included.
    pub attempts: u32,
    /// The gateway takes this on order creation but does not echo it back.
    #[serde(skip)]
    pub payment_capture: bool,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Payment {
    pub id: String,
    pub entity: &'static str,
    pub order_id: String,
    pub amount: i64,
    pub currency: String,
    pub status: String,
    pub method: String,
    pub captured: bool,
    pub amount_refunded: i64,
    pub error_code: Option<String>,
    pub error_description: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Refund {
    pub id: String,
    pub entity: &'static str,
    pub payment_id: String,
    pub amount: i64,
    pub currency: String,
    pub status: String,
    pub created_at: i64,
}

/// What a refund idempotency key was first used for. The amount is the one the request
/// asked for (`None` for "the rest"), so a replay is compared with the request as sent and
/// not with whatever "the rest" has become since.
#[derive(Debug, Clone)]
pub(crate) struct RefundKey {
    pub payment_id: String,
    pub requested_amount: Option<i64>,
    pub refund_id: String,
}

/// A beneficiary, as the payouts API records one from a composite payout's `contact`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Contact {
    pub id: String,
    pub entity: &'static str,
    pub name: String,
    /// The phone number: the real API calls it `contact` too.
    pub contact: Option<String>,
    pub email: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub reference_id: Option<String>,
    pub batch_id: Option<String>,
    pub active: bool,
    /// The notes sent, or `[]` when none were, as the real gateway answers.
    pub notes: Value,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct BankAccount {
    pub ifsc: String,
    /// Known for the few banks the sandbox knows by their IFSC, `null` otherwise.
    pub bank_name: Option<&'static str>,
    pub name: String,
    pub notes: Value,
    pub account_number: String,
}

/// Where a payout goes: a contact's bank account.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct FundAccount {
    pub id: String,
    pub entity: &'static str,
    pub contact_id: String,
    pub contact: Contact,
    pub account_type: &'static str,
    pub bank_account: BankAccount,
    pub batch_id: Option<String>,
    pub active: bool,
    pub created_at: i64,
}

/// Why a payout is in its status, in the real gateway's words: `source` says whose side
/// (`beneficiary_bank`, `gateway`, `business`, `internal`), `reason` is a stable code.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct StatusDetails {
    pub description: &'static str,
    pub source: &'static str,
    pub reason: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Payout {
    pub id: String,
    pub entity: &'static str,
    pub fund_account_id: String,
    /// Only the answer to the composite call carries the fund account; a fetch names it by
    /// id alone, as the real gateway's does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fund_account: Option<FundAccount>,
    pub amount: i64,
    pub currency: String,
    pub notes: Value,
    /// The sandbox charges nothing: the amount is what the beneficiary gets either way.
    pub fees: i64,
    pub tax: i64,
    pub status: String,
    pub purpose: String,
    /// The bank's reference for the transfer, once it is processed.
    pub utr: Option<String>,
    pub mode: String,
    pub reference_id: Option<String>,
    pub narration: Option<String>,
    pub batch_id: Option<String>,
    /// Deprecated by the real gateway in favour of `status_details`, still sent by it.
    pub failure_reason: Option<String>,
    pub status_details: Option<StatusDetails>,
    pub created_at: i64,
    /// The merchant's account the payout was made from, which the list is filtered by.
    #[serde(skip)]
    pub account_number: String,
    #[serde(skip)]
    pub idempotency_key: String,
}

/// What a payout idempotency key was first used for: the request as the gateway read it
/// (so spacing and field order do not make a retry "different") and the payout it made.
#[derive(Debug, Clone)]
pub(crate) struct PayoutKey {
    pub request: Value,
    pub payout_id: String,
}

/// A contact is the same contact when its name, email, phone, type and reference all match.
pub(crate) type ContactKey = (String, Option<String>, Option<String>, Option<String>, Option<String>);
/// A fund account is the same when its contact and the account's holder, IFSC and number match.
pub(crate) type FundAccountKey = (String, String, String, String);

#[derive(Default)]
pub(crate) struct Books {
    pub(crate) orders: HashMap<String, Order>,
    /// Order ids in creation order: `created_at` has one-second resolution, too coarse to
    /// list a test's orders in the order it made them.
    pub(crate) order_sequence: Vec<String>,
    pub(crate) payments: HashMap<String, Payment>,
    pub(crate) refunds: HashMap<String, Refund>,
    pub(crate) refund_keys: HashMap<String, RefundKey>,
    pub(crate) contacts: HashMap<ContactKey, Contact>,
    pub(crate) fund_accounts: HashMap<FundAccountKey, FundAccount>,
    pub(crate) payouts: HashMap<String, Payout>,
    /// Payout ids in creation order, for the same reason as `order_sequence`.
    pub(crate) payout_sequence: Vec<String>,
    /// Idempotency keys by merchant (key id) and key: one merchant's key is not another's.
    pub(crate) payout_keys: HashMap<(String, String), PayoutKey>,
}

#[derive(Clone)]
pub struct Sandbox {
    pub(crate) settings: Arc<SandboxSettings>,
    books: Arc<Mutex<Books>>,
    pub(crate) faults: Arc<FaultSwitch>,
    pub(crate) webhooks: Webhooks,
}

impl Sandbox {
    pub fn new(settings: SandboxSettings) -> Self {
        let webhooks = Webhooks::new(&settings);
        Sandbox {
            settings: Arc::new(settings),
            books: Arc::default(),
            faults: Arc::new(FaultSwitch::default()),
            webhooks,
        }
    }

    /// The books are only touched in short, non-async sections, so a std mutex is right;
    /// a poisoned lock means a handler panicked mid-update and the data is still usable.
    pub(crate) fn books(&self) -> MutexGuard<'_, Books> {
        self.books.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Sends the webhooks one call raised, duplicated or reordered as the fault switches in
    /// force at that moment say.
    pub(crate) fn dispatch(&self, events: Vec<Event>) {
        self.webhooks.dispatch(events, &self.faults.current());
    }
}
