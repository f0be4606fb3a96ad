//! The sandbox's payouts API over HTTP, as a platform paying its partners sees it: composite
//! payouts to bank accounts, the mandatory idempotency key, fetching a payout back, the
//! faults that fail or lose payouts, and the sandbox's own account of what it paid.

use sandbox_gateway::{DEFAULT_KEY_ID, DEFAULT_KEY_SECRET, SandboxSettings};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The merchant's own account, which payouts leave and are listed by.
const ACCOUNT: &str = "7878780080316316";

struct Gateway {
    base: String,
    http: reqwest::Client,
}

async fn start() -> Gateway {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(sandbox_gateway::run(listener, SandboxSettings::default(), std::future::pending()));
    Gateway { base, http: reqwest::Client::new() }
}

async fn answer(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// A payout of `amount` paise to one partner's bank account, settling `reference`.
fn settlement(reference: &str, amount: i64) -> Value {
    json!({
        "account_number": ACCOUNT,
        "amount": amount,
        "currency": "INR",
        "mode": "NEFT",
        "purpose": "vendor bill",
        "fund_account": {
            "account_type": "bank_account",
            "bank_account": { "name": "Neermahal Homestay", "ifsc": "HDFC0001234", "account_number": "50100123456789" },
            "contact": { "name": "Neermahal Homestay", "type": "vendor", "reference_id": "partner-17",
                         "email": "accounts@neermahal.example", "contact": "+919876543210" },
        },
        "queue_if_low_balance": false,
        "reference_id": reference,
        "narration": "Tripura Tourism settlement",
        "notes": { "period": "2025-06" },
    })
}

impl Gateway {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `POST /v1/payouts` as the merchant, with `key` as the idempotency key when given.
    async fn payout(&self, key: Option<&str>, body: &Value) -> (u16, Value) {
        let mut request = self.http.post(self.url("/v1/payouts")).basic_auth(DEFAULT_KEY_ID, Some(DEFAULT_KEY_SECRET));
        if let Some(key) = key {
            request = request.header("X-Payout-Idempotency", key);
        }
        answer(request.json(body).send().await.unwrap()).await
    }

    /// A payout that must succeed: its entity.
    async fn paid(&self, key: &str, body: &Value) -> Value {
        let (status, payout) = self.payout(Some(key), body).await;
        assert_eq!(status, 200, "{payout}");
        payout
    }

    async fn merchant_get(&self, path: &str) -> (u16, Value) {
        answer(self.http.get(self.url(path)).basic_auth(DEFAULT_KEY_ID, Some(DEFAULT_KEY_SECRET)).send().await.unwrap())
            .await
    }

    async fn public_get(&self, path: &str) -> Value {
        let (status, body) = answer(self.http.get(self.url(path)).send().await.unwrap()).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    async fn set_faults(&self, faults: Value) -> (u16, Value) {
        answer(self.http.post(self.url("/v1/sandbox/faults")).json(&faults).send().await.unwrap()).await
    }

    /// The sandbox's own account of its payouts.
    async fn paid_out(&self) -> Value {
        self.public_get("/v1/sandbox/payouts").await
    }

    /// The payouts listed under the merchant's account with this `reference_id`.
    async fn by_reference(&self, reference: &str) -> Vec<Value> {
        let (status, list) =
            self.merchant_get(&format!("/v1/payouts?account_number={ACCOUNT}&reference_id={reference}")).await;
        assert_eq!((status, list["entity"].as_str()), (200, Some("collection")), "{list}");
        list["items"].as_array().unwrap().clone()
    }
}

fn assert_refused(status: u16, body: &Value, field: &str) {
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "BAD_REQUEST_ERROR", "{body}");
    assert_eq!(body["error"]["field"], field, "{body}");
}

#[tokio::test]
async fn a_payout_to_a_bank_account_is_processed_at_once() {
    let gateway = start().await;
    let payout = gateway.paid("settle-TRP-P17-2025-06", &settlement("TRP-P17-2025-06", 9_261_000)).await;

    assert!(payout["id"].as_str().unwrap().starts_with("pout_"), "{payout}");
    assert_eq!(payout["entity"], "payout");
    assert_eq!((payout["amount"].as_i64(), payout["currency"].as_str()), (Some(9_261_000), Some("INR")));
    assert_eq!((payout["status"].as_str(), payout["mode"].as_str()), (Some("processed"), Some("NEFT")));
    assert_eq!((payout["fees"].as_i64(), payout["tax"].as_i64()), (Some(0), Some(0)));
    assert_eq!(payout["purpose"], "vendor bill");
    assert_eq!(payout["reference_id"], "TRP-P17-2025-06");
    assert_eq!(payout["narration"], "Tripura Tourism settlement");
    assert_eq!(payout["notes"], json!({ "period": "2025-06" }));
    let utr = payout["utr"].as_str().unwrap();
    assert!(utr.starts_with("SBOXN") && utr.len() == 16, "an NEFT reference: {utr}");
    assert_eq!(payout["failure_reason"], Value::Null);
    assert_eq!(payout["status_details"]["reason"], "payout_processed");
    assert!(payout["created_at"].as_i64().unwrap() > 1_600_000_000);

    let fund_account = &payout["fund_account"];
    assert!(payout["fund_account_id"].as_str().unwrap().starts_with("fa_"));
    assert_eq!(fund_account["id"], payout["fund_account_id"]);
    assert_eq!(
        (fund_account["entity"].as_str(), fund_account["account_type"].as_str()),
        (Some("fund_account"), Some("bank_account"))
    );
    assert_eq!(
        fund_account["bank_account"],
        json!({ "ifsc": "HDFC0001234", "bank_name": "HDFC Bank", "name": "Neermahal Homestay",
                "notes": [], "account_number": "50100123456789" })
    );
    let contact = &fund_account["contact"];
    assert!(contact["id"].as_str().unwrap().starts_with("cont_"));
    assert_eq!(fund_account["contact_id"], contact["id"]);
    assert_eq!((contact["type"].as_str(), contact["reference_id"].as_str()), (Some("vendor"), Some("partner-17")));
    assert_eq!(contact["notes"], json!([]), "no notes read back as the real gateway's empty list");

    // The same partner paid again, by IMPS and without notes: the same contact and fund
    // account, a new payout.
    let mut next = settlement("TRP-P17-2025-07", 150_000);
    next["mode"] = json!("IMPS");
    next.as_object_mut().unwrap().remove("notes");
    let again = gateway.paid("settle-TRP-P17-2025-07", &next).await;
    assert_ne!(again["id"], payout["id"]);
    assert_eq!(again["fund_account_id"], payout["fund_account_id"]);
    assert_eq!(again["fund_account"]["contact_id"], contact["id"]);
    assert_eq!(again["notes"], json!([]));
    let utr = again["utr"].as_str().unwrap();
    assert!(utr.len() == 12 && utr.chars().all(|c| c.is_ascii_digit()), "an IMPS reference: {utr}");

    let paid_out = gateway.paid_out().await;
    assert_eq!(paid_out["totals"], json!({ "payouts": 2, "processed": 2, "processed_amount": 9_411_000, "failed": 0 }));
    let first = &paid_out["payouts"][0];
    assert_eq!(
        (first["id"].as_str(), first["idempotency_key"].as_str()),
        (payout["id"].as_str(), Some("settle-TRP-P17-2025-06"))
    );
    assert_eq!(
        (first["reference_id"].as_str(), first["utr"].as_str()),
        (Some("TRP-P17-2025-06"), payout["utr"].as_str())
    );
    assert_eq!(first["bank_account"]["account_number"], "50100123456789");
    assert_eq!(paid_out["payouts"][1]["id"], again["id"], "in the order they were made");
}

#[tokio::test]
async fn a_payout_is_found_again_by_id_and_by_reference() {
    let gateway = start().await;
    let june = gateway.paid("settle-june", &settlement("TRP-P2-2025-06", 50_000)).await;
    let july = gateway.paid("settle-july", &settlement("TRP-P2-2025-07", 70_000)).await;

    let (status, fetched) = gateway.merchant_get(&format!("/v1/payouts/{}", june["id"].as_str().unwrap())).await;
    assert_eq!(status, 200, "{fetched}");
    for field in ["id", "fund_account_id", "amount", "status", "utr", "reference_id", "status_details", "created_at"] {
        assert_eq!(fetched[field], june[field], "{field}");
    }
    assert!(fetched.get("fund_account").is_none(), "a fetch names the fund account by id only: {fetched}");

    let found = gateway.by_reference("TRP-P2-2025-07").await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((found[0]["id"].as_str(), found[0]["status"].as_str()), (july["id"].as_str(), Some("processed")));
    assert!(gateway.by_reference("TRP-P2-2025-08").await.is_empty());

    let (_, all) = gateway.merchant_get(&format!("/v1/payouts?account_number={ACCOUNT}")).await;
    assert_eq!(all["count"], 2);
    assert_eq!([&all["items"][0]["id"], &all["items"][1]["id"]], [&july["id"], &june["id"]], "newest first");
    let (_, page) = gateway.merchant_get(&format!("/v1/payouts?account_number={ACCOUNT}&count=1&skip=1")).await;
    assert_eq!((page["count"].as_u64(), &page["items"][0]["id"]), (Some(1), &june["id"]));
    let (_, none) = gateway.merchant_get(&format!("/v1/payouts?account_number={ACCOUNT}&status=reversed")).await;
    assert_eq!(none["count"], 0);
    let (_, elsewhere) = gateway.merchant_get("/v1/payouts?account_number=2323230000000000").await;
    assert_eq!(elsewhere["count"], 0, "payouts are listed under the account they left");

    let (status, body) = gateway.merchant_get("/v1/payouts?reference_id=TRP-P2-2025-07").await;
    assert_refused(status, &body, "account_number");
    let (status, body) = gateway.merchant_get(&format!("/v1/payouts?account_number={ACCOUNT}&count=101")).await;
    assert_refused(status, &body, "count");
    let (status, body) = gateway.merchant_get("/v1/payouts/pout_missing").await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("BAD_REQUEST_ERROR")), "{body}");
}

#[tokio::test]
async fn an_idempotency_key_is_one_payout() {
    let gateway = start().await;
    let body = settlement("TRP-P5-2025-06", 123_456);
    let first = gateway.paid("6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f", &body).await;

    // The same request, its fields in another order: the payout the first call made.
    let mut fields: Vec<(String, Value)> = body.as_object().unwrap().clone().into_iter().collect();
    fields.reverse();
    let reordered =
        format!("{{{}}}", fields.iter().map(|(k, v)| format!("{}: {v}", json!(k))).collect::<Vec<_>>().join(", "));
    let request = gateway
        .http
        .post(gateway.url("/v1/payouts"))
        .basic_auth(DEFAULT_KEY_ID, Some(DEFAULT_KEY_SECRET))
        .header("X-Payout-Idempotency", "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f")
        .header("content-type", "application/json")
        .body(reordered);
    let (status, replay) = answer(request.send().await.unwrap()).await;
    assert_eq!(status, 200, "{replay}");
    assert_eq!(replay, first, "the same payout, answered the same way");

    let mut other = body.clone();
    other["amount"] = json!(123_457);
    let (status, refused) = gateway.payout(Some("6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f"), &other).await;
    assert_refused(status, &refused, "X-Payout-Idempotency");
    assert!(refused["error"]["description"].as_str().unwrap().contains("idempotency key"), "{refused}");

    let paid_out = gateway.paid_out().await;
    assert_eq!(paid_out["totals"]["payouts"], 1, "{paid_out}");
    assert_eq!(paid_out["totals"]["processed_amount"], 123_456);
    assert_eq!(gateway.by_reference("TRP-P5-2025-06").await.len(), 1);

    // The key, not the body, is what makes a request the same one: a fresh key pays again.
    let second = gateway.paid("another-key-for-the-same-body", &body).await;
    assert_ne!(second["id"], first["id"]);
    assert_eq!(gateway.paid_out().await["totals"]["payouts"], 2);
}

#[tokio::test]
async fn a_payout_needs_an_idempotency_key() {
    let gateway = start().await;
    let body = settlement("TRP-P6-2025-06", 10_000);

    let (status, refused) = gateway.payout(None, &body).await;
    assert_refused(status, &refused, "X-Payout-Idempotency");
    assert!(refused["error"]["description"].as_str().unwrap().contains("Idempotency key is missing"), "{refused}");
    for bad in ["abc", "a-key-that-is-much-longer-than-thirty-six", "settle/june"] {
        let (status, refused) = gateway.payout(Some(bad), &body).await;
        assert_refused(status, &refused, "X-Payout-Idempotency");
    }
    assert_eq!(gateway.paid_out().await["totals"]["payouts"], 0, "nothing was paid");
    gateway.paid("a key with spaces_and-dashes", &body).await;
}

#[tokio::test]
async fn a_bad_request_is_refused_by_field_and_pays_nothing() {
    let gateway = start().await;
    let cases: Vec<(&str, Value, &str)> = vec![
        ("/fund_account/bank_account/ifsc", json!("HDFC1234567"), "fund_account.bank_account.ifsc"),
        ("/fund_account/bank_account/ifsc", json!("hdfc0001234"), "fund_account.bank_account.ifsc"),
        ("/fund_account/bank_account/ifsc", json!("HDFC000123"), "fund_account.bank_account.ifsc"),
        ("/fund_account/bank_account/account_number", json!("1234"), "fund_account.bank_account.account_number"),
        (
            "/fund_account/bank_account/account_number",
            json!("5010-0123-4567"),
            "fund_account.bank_account.account_number",
        ),
        ("/fund_account/bank_account/name", json!("Neermahal Homestay!"), "fund_account.bank_account.name"),
        ("/fund_account/account_type", json!("vpa"), "fund_account.account_type"),
        ("/fund_account/contact/type", json!("partner"), "fund_account.contact.type"),
        ("/fund_account/contact/email", json!("accounts"), "fund_account.contact.email"),
        ("/amount", json!(99), "amount"),
        ("/currency", json!("USD"), "currency"),
        ("/mode", json!("neft"), "mode"),
        ("/mode", json!("card"), "mode"),
        ("/purpose", json!("settlement"), "purpose"),
        ("/reference_id", json!("x".repeat(41)), "reference_id"),
        ("/narration", json!("Settlement #17"), "narration"),
        ("/account_number", json!(""), "account_number"),
    ];
    for (index, (pointer, value, field)) in cases.iter().enumerate() {
        let mut body = settlement("TRP-BAD", 10_000);
        *body.pointer_mut(pointer).unwrap() = value.clone();
        let (status, refused) = gateway.payout(Some(&format!("bad-request-{index}")), &body).await;
        assert_refused(status, &refused, field);
    }

    // Shape errors name the field in the description.
    let mut body = settlement("TRP-BAD", 10_000);
    body["amount"] = json!("lots");
    let (status, refused) = gateway.payout(Some("bad-shape-1"), &body).await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused["error"]["description"].as_str().unwrap().contains("amount"), "{refused}");
    let mut body = settlement("TRP-BAD", 10_000);
    body["fund_account_id"] = json!("fa_00000000000001");
    let (status, refused) = gateway.payout(Some("bad-shape-2"), &body).await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused["error"]["description"].as_str().unwrap().contains("fund_account_id"), "{refused}");
    let mut body = settlement("TRP-BAD", 10_000);
    body["fund_account"]["bank_account"].as_object_mut().unwrap().remove("ifsc");
    let (status, refused) = gateway.payout(Some("bad-shape-3"), &body).await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused["error"]["description"].as_str().unwrap().contains("ifsc"), "{refused}");

    assert_eq!(gateway.paid_out().await["totals"]["payouts"], 0, "nothing was paid");
    // A refused request does not use up its key: corrected, it pays.
    let payout = gateway.paid("bad-request-0", &settlement("TRP-BAD", 10_000)).await;
    assert_eq!(payout["status"], "processed");
}

#[tokio::test]
async fn payouts_need_the_merchants_credentials() {
    let gateway = start().await;
    let body = settlement("TRP-P9-2025-06", 10_000);
    let anonymous = gateway.http.post(gateway.url("/v1/payouts")).header("X-Payout-Idempotency", "no-credentials");
    let (status, refused) = answer(anonymous.json(&body).send().await.unwrap()).await;
    assert_eq!((status, refused["error"]["reason"].as_str()), (401, Some("authentication_failed")), "{refused}");
    let wrong = gateway
        .http
        .post(gateway.url("/v1/payouts"))
        .basic_auth(DEFAULT_KEY_ID, Some("not-the-secret"))
        .header("X-Payout-Idempotency", "wrong-credentials");
    assert_eq!(answer(wrong.json(&body).send().await.unwrap()).await.0, 401);
    assert_eq!(gateway.paid_out().await["totals"]["payouts"], 0, "nothing was paid");

    let payout = gateway.paid("with-credentials", &body).await;
    let id = payout["id"].as_str().unwrap();
    for path in [format!("/v1/payouts/{id}"), format!("/v1/payouts?account_number={ACCOUNT}")] {
        let (status, _) = answer(gateway.http.get(gateway.url(&path)).send().await.unwrap()).await;
        assert_eq!(status, 401, "{path}");
    }
}

#[tokio::test]
async fn fail_payouts_has_the_bank_refuse_the_next_payouts() {
    let gateway = start().await;
    let (status, _) = gateway.set_faults(json!({ "fail_payouts": 1 })).await;
    assert_eq!(status, 200);

    let refused = gateway.paid("settle-refused", &settlement("TRP-P3-2025-06", 40_000)).await;
    assert_eq!(refused["status"], "reversed", "accepted, then refused by the bank: {refused}");
    assert_eq!(refused["utr"], Value::Null, "no transfer reached the beneficiary");
    assert_eq!(refused["status_details"]["source"], "beneficiary_bank");
    assert_eq!(refused["status_details"]["reason"], "beneficiary_bank_rejected");
    assert!(refused["failure_reason"].as_str().unwrap().contains("rejected by the beneficiary bank"), "{refused}");
    let (_, fetched) = gateway.merchant_get(&format!("/v1/payouts/{}", refused["id"].as_str().unwrap())).await;
    assert_eq!(fetched["status"], "reversed");
    // A replay is the same payout: it neither uses up the switch nor pays.
    let replay = gateway.paid("settle-refused", &settlement("TRP-P3-2025-06", 40_000)).await;
    assert_eq!((&replay["id"], replay["status"].as_str()), (&refused["id"], Some("reversed")));

    let paid = gateway.paid("settle-retried", &settlement("TRP-P3-2025-06", 40_000)).await;
    assert_eq!(paid["status"], "processed", "later payouts are paid: {paid}");
    let paid_out = gateway.paid_out().await;
    assert_eq!(paid_out["totals"], json!({ "payouts": 2, "processed": 1, "processed_amount": 40_000, "failed": 1 }));
    assert_eq!(gateway.public_get("/v1/sandbox/faults/injected").await["failed_payouts"], 1);

    // The other way a bank-side failure ends on the real gateway.
    gateway.set_faults(json!({ "fail_payouts": 1, "payout_failure": "failed" })).await;
    let failed = gateway.paid("settle-failed", &settlement("TRP-P4-2025-06", 20_000)).await;
    assert_eq!((failed["status"].as_str(), &failed["utr"]), (Some("failed"), &Value::Null));
    let (status, _) = gateway.set_faults(json!({ "fail_payouts": 1, "payout_failure": "lost" })).await;
    assert_eq!(status, 400, "an unknown ending is refused");
    let totals = gateway.paid_out().await["totals"].clone();
    assert_eq!((totals["processed"].as_u64(), totals["failed"].as_u64()), (Some(1), Some(2)));
}

#[tokio::test]
async fn a_lost_answer_is_retried_under_the_same_key_and_pays_once() {
    let gateway = start().await;
    let (status, _) = gateway.set_faults(json!({ "lose_response_rate": 1.0, "only_paths": ["/payouts"] })).await;
    assert_eq!(status, 200);
    let body = settlement("TRP-P8-2025-06", 880_000);

    let (status, lost) = gateway.payout(Some("settle-TRP-P8-2025-06"), &body).await;
    assert!([500, 504].contains(&status), "{status}: {lost}");
    let paid_out = gateway.paid_out().await;
    assert_eq!(paid_out["totals"]["processed"], 1, "the gateway paid though its answer was lost: {paid_out}");
    let paid_id = paid_out["payouts"][0]["id"].clone();
    // Reads are not state-changing: the caller finds its payout by reference.
    let found = gateway.by_reference("TRP-P8-2025-06").await;
    assert_eq!((&found[0]["id"], found[0]["status"].as_str()), (&paid_id, Some("processed")));

    let (status, _) = gateway.payout(Some("settle-TRP-P8-2025-06"), &body).await;
    assert!([500, 504].contains(&status), "the retry's answer is lost too: {status}");
    assert_eq!(gateway.paid_out().await["totals"]["payouts"], 1, "and it paid nothing more");
    assert_eq!(gateway.public_get("/v1/sandbox/faults/injected").await["lost_responses"], 2);

    gateway.set_faults(json!({})).await;
    let answered = gateway.paid("settle-TRP-P8-2025-06", &body).await;
    assert_eq!((&answered["id"], answered["status"].as_str()), (&paid_id, Some("processed")));
    let totals = gateway.paid_out().await["totals"].clone();
    assert_eq!(totals, json!({ "payouts": 1, "processed": 1, "processed_amount": 880_000, "failed": 0 }));
}

#[tokio::test]
async fn failed_calls_pay_nothing_and_latency_slows_payouts() {
    let gateway = start().await;
    gateway.set_faults(json!({ "error_rate": 1.0, "only_paths": ["/payouts"], "seed": 11 })).await;
    let body = settlement("TRP-P10-2025-06", 30_000);

    let (status, _) = gateway.payout(Some("settle-TRP-P10-2025-06"), &body).await;
    assert!([500, 502, 503].contains(&status), "{status}");
    let (status, _) = gateway.merchant_get(&format!("/v1/payouts?account_number={ACCOUNT}")).await;
    assert!([500, 502, 503].contains(&status), "reads fail too: {status}");
    assert_eq!(gateway.paid_out().await["totals"]["payouts"], 0, "a failed call acts on nothing");
    assert_eq!(gateway.public_get("/v1/sandbox/faults/injected").await["errors"], 2);

    gateway.set_faults(json!({ "latency_ms": 400 })).await;
    let started = Instant::now();
    let payout = gateway.paid("settle-TRP-P10-2025-06", &body).await;
    assert!(started.elapsed() >= Duration::from_millis(400), "{:?}", started.elapsed());
    assert_eq!(payout["status"], "processed", "the key was not used up by the call that failed");
    assert_eq!(gateway.paid_out().await["totals"]["payouts"], 1);
}
