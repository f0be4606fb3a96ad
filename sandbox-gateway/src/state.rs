//! The sandbox's books: orders, payments and refunds in memory, plus the fault switches and
//! the webhook dispatcher every handler reaches through [`Sandbox`]. It only holds the
//! lower modules' pieces; the handlers that change the books live above it.

use crate::{
    faults::FaultSwitch,
    settings::SandboxSettings,
    webhooks::{Event, Webhooks},
};
use serde::Serialize;
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

#[derive(Default)]
pub(crate) struct Books {
    pub(crate) orders: HashMap<String, Order>,
    /// Order ids in creation order: `created_at` has one-second resolution, too coarse to
    /// list a test's orders in the order it made them.
    pub(crate) order_sequence: Vec<String>,
    pub(crate) payments: HashMap<String, Payment>,
    pub(crate) refunds: HashMap<String, Refund>,
    pub(crate) refund_keys: HashMap<String, RefundKey>,
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
