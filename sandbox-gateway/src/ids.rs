//! Identifiers and timestamps in the gateway's formats: a type prefix and 14 random
//! alphanumerics (`pay_…`, `evt_…`), whole Unix seconds, and the banks' transfer references
//! (UTRs). Entities and webhook events both carry them, so they live below both.

use rand::{Rng, distributions::Alphanumeric};

pub(crate) fn new_id(prefix: &str) -> String {
    let suffix: String = rand::thread_rng().sample_iter(&Alphanumeric).take(14).map(char::from).collect();
    format!("{prefix}_{suffix}")
}

pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A bank reference for a processed transfer, shaped as its mode's are: twelve digits for
/// IMPS and UPI, `<bank>N` and eleven digits for NEFT, `<bank>R`, the date and nine digits
/// for RTGS. `SBOX` stands for the sandbox's partner bank.
pub(crate) fn new_utr(mode: &str) -> String {
    let mut rng = rand::thread_rng();
    let mut digits = |n: usize| -> String { (0..n).map(|_| char::from(b'0' + rng.gen_range(0..10u8))).collect() };
    match mode {
        "NEFT" => format!("SBOXN{}", digits(11)),
        "RTGS" => format!("SBOXR{}{}", chrono::Utc::now().format("%Y%m%d"), digits(9)),
        _ => digits(12),
    }
}
