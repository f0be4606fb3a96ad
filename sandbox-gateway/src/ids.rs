//! Identifiers and timestamps in the gateway's formats: a type prefix and 14 random
//! alphanumerics (`pay_…`, `evt_…`), and whole Unix seconds. Entities and webhook events
//! both carry them, so they live below both.

use rand::{Rng, distributions::Alphanumeric};

pub(crate) fn new_id(prefix: &str) -> String {
    let suffix: String = rand::thread_rng().sample_iter(&Alphanumeric).take(14).map(char::from).collect();
    format!("{prefix}_{suffix}")
}

pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}
