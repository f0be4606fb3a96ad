//! The sandbox's books: orders, payments and refunds in memory.

use crate::SandboxSettings;
use rand::{Rng, distributions::Alphanumeric};
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

#[derive(Default)]
pub(crate) struct Books {
    pub(crate) orders: HashMap<String, Order>,
    pub(crate) payments: HashMap<String, Payment>,
    pub(crate) refunds: HashMap<String, Refund>,
    /// Idempotency key → (payment id, amount, refund id).
    pub(crate) refund_keys: HashMap<String, (String, i64, String)>,
}

#[derive(Clone)]
pub struct Sandbox {
    pub(crate) settings: Arc<SandboxSettings>,
    books: Arc<Mutex<Books>>,
}

impl Sandbox {
    pub fn new(settings: SandboxSettings) -> Self {
        Sandbox { settings: Arc::new(settings), books: Arc::default() }
    }

    /// The books are only touched in short, non-async sections, so a std mutex is right;
    /// a poisoned lock means a handler panicked mid-update and the data is still usable.
    pub(crate) fn books(&self) -> MutexGuard<'_, Books> {
        self.books.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

pub(crate) fn new_id(prefix: &str) -> String {
    let suffix: String = rand::thread_rng().sample_iter(&Alphanumeric).take(14).map(char::from).collect();
    format!("{prefix}_{suffix}")
}

pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}
