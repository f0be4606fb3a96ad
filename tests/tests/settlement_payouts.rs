//! Settlements paid for real on the real dev server: adjusted by one admin, approved by
//! another (never by the one who adjusted), paid by `SettlementPayout` through the sandbox
//! gateway's payouts, exactly once when an answer is lost, again after the bank turns a
//! payout back, and left visible to operators after the last try.

use chrono::{Duration as Span, NaiveDate};
use contracts::settlement::{NewSettlement, SettlementCycle, SettlementPeriod, payout_workflow_id, settle};
use serde_json::{Value, json};
use tests::{Session, TestPlatform, TestPlatformOptions, body_of, error_code, eventually_within, json_of};
use uuid::Uuid;
use workers::WorkerContext;

const PARTNER: &str = "agartala-travels";

struct Admin<'a> {
    platform: &'a TestPlatform,
    session: Session,
}

impl Admin<'_> {
    fn url(&self, path: &str) -> String {
        format!("{}/api/partners{path}", self.platform.api_url)
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        body_of(self.platform.http_as(&self.session).post(self.url(path)).json(&body).send().await.unwrap()).await
    }

    async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        body_of(self.platform.http_as(&self.session).put(self.url(path)).json(&body).send().await.unwrap()).await
    }

    async fn settlement(&self, period_start: NaiveDate) -> Value {
        let list =
            json_of(self.platform.http_as(&self.session).get(self.url(&format!("/{PARTNER}/settlements")))).await;
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["period_start"] == period_start.to_string())
            .cloned()
            .unwrap_or_else(|| panic!("no settlement from {period_start}: {list}"))
    }
}

async fn admin(platform: &TestPlatform) -> Admin<'_> {
    Admin { platform, session: platform.user_with_role(auth::roles::ADMIN).await.unwrap() }
}

/// Onboards the partner and writes its settlement of the week `weeks_ago` weeks back, as
/// the settlement workflow would; returns the period's first day and its payout.
async fn settled_week(platform: &TestPlatform, partner_id: Uuid, weeks_ago: i64) -> (NaiveDate, i64) {
    let last = SettlementCycle::Weekly.last_completed_period(contracts::india::today());
    let start = last.start - Span::weeks(weeks_ago);
    let period = SettlementPeriod { start, end: start + Span::weeks(1) };
    let figures = settle(3_780_000, 123_457, 1_250).unwrap();
    let new = NewSettlement { partner_id, period, bookings: 3, refunds: 2, commission_bp: 1_250, figures };
    partner::store::record_settlement(&platform.partner_db, &new).await.unwrap();
    (start, figures.payout)
}

async fn onboard(admin: &Admin<'_>) -> Uuid {
    let body = json!({ "code": PARTNER, "name": "Agartala Travels", "contact_email": "accounts@agartala-travels.in",
                       "commission_bp": 1_250 });
    let (status, partner) = admin.post("", body).await;
    assert_eq!(status, 201, "{partner}");
    partner["partner_id"].as_str().unwrap().parse().unwrap()
}

async fn paid(admin: &Admin<'_>, period_start: NaiveDate) -> Value {
    eventually_within(std::time::Duration::from_secs(60), "the settlement paid", async || {
        let s = admin.settlement(period_start).await;
        if s["status"] == "paid" { Ok(s) } else { Err(s) }
    })
    .await
}

/// The sandbox gateway's own account of every payout.
async fn payout_ledger(platform: &TestPlatform) -> Value {
    let url = format!("{}/v1/sandbox/payouts", platform.gateway_url().trim_end_matches('/'));
    json_of(platform.http.get(url)).await
}

fn bank() -> Value {
    json!({ "name": "Agartala Travels Pvt Ltd", "ifsc": "SBIN0001234", "account_number": "30218476510" })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_settlement_adjusted_by_one_admin_is_approved_by_another_and_paid_once() {
    let options = TestPlatformOptions::with_workers(&[WorkerContext::Payment, WorkerContext::Partner]);
    let platform = TestPlatform::spawn_with(options).await.unwrap();
    let (first, second) = (admin(&platform).await, admin(&platform).await);
    let partner_id = onboard(&first).await;
    let (week, payout) = settled_week(&platform, partner_id, 0).await;
    let settlement = format!("/{PARTNER}/settlements/{week}");

    // Not approved yet: not paid. One admin adjusts it and cannot approve it; another can.
    let (status, body) = first.post(&format!("{settlement}/pay"), json!({})).await;
    assert_eq!((status, error_code(&body)), (409, "not_approved"), "{body}");
    let adjust = json!({ "adjustment": { "amount": 5_000, "currency": "INR" }, "reason": "missed booking TRP-7K3M9Q" });
    let (status, adjusted) = first.post(&format!("{settlement}/adjust"), adjust.clone()).await;
    assert_eq!(status, 200, "{adjusted}");
    assert_eq!(adjusted["payout"]["amount"], payout + 5_000);
    let (status, body) = first
        .post(
            &format!("{settlement}/adjust"),
            json!({ "adjustment": { "amount": -payout - 5_001, "currency": "INR" }, "reason": "x" }),
        )
        .await;
    assert_eq!((status, body["error"]["details"]["field"].as_str()), (422, Some("adjustment.amount")), "{body}");
    let (status, body) = first.post(&format!("{settlement}/approve"), json!({})).await;
    assert_eq!((status, error_code(&body)), (403, "approver_changed_it"), "{body}");
    let traveller = platform.traveller.clone();
    let url = first.url(&format!("{settlement}/approve"));
    let (status, _) = body_of(platform.http_as(&traveller).post(url).send().await.unwrap()).await;
    assert_eq!(status, 403, "a traveller approves nothing");
    let (status, approved) = second.post(&format!("{settlement}/approve"), json!({})).await;
    assert_eq!((status, approved["status"].as_str()), (200, Some("approved")), "{approved}");
    assert_eq!(approved["approved_by"].as_str(), Some(second.session.user_id.as_str()));
    let (status, body) = second.post(&format!("{settlement}/approve"), json!({})).await;
    assert_eq!((status, error_code(&body)), (409, "not_computed"), "approved once: {body}");
    let (status, body) = first.post(&format!("{settlement}/adjust"), adjust).await;
    assert_eq!((status, error_code(&body)), (409, "not_computed"), "an approved settlement is not adjusted: {body}");

    // No bank account: nothing to pay to. A bad IFSC is named.
    let (status, body) = second.post(&format!("{settlement}/pay"), json!({})).await;
    assert_eq!((status, error_code(&body)), (409, "no_payout_account"), "{body}");
    let mut wrong = bank();
    wrong["ifsc"] = json!("SBIN1234");
    let (status, body) = first.put(&format!("/{PARTNER}/payout-account"), wrong).await;
    assert_eq!((status, body["error"]["details"]["field"].as_str()), (422, Some("ifsc")), "{body}");
    let (status, account) = first.put(&format!("/{PARTNER}/payout-account"), bank()).await;
    assert_eq!((status, account["account_number"].as_str()), (200, Some("•••• 6510")), "{account}");

    // The gateway pays the first call and its answer is lost: the retry under the same key
    // finds the same payout, and the partner is paid once.
    platform.set_gateway_faults(json!({ "lose_response_rate": 1.0, "only_paths": ["/payouts"] })).await;
    let (status, body) = second.post(&format!("{settlement}/pay"), json!({})).await;
    assert_eq!(status, 202, "{body}");
    tests::eventually("a lost payout answer", async || {
        let injected = platform.gateway_faults_injected().await;
        if injected["lost_responses"].as_u64() >= Some(1) { Ok(()) } else { Err(injected) }
    })
    .await;
    platform.set_gateway_faults(json!({})).await;
    let done = paid(&first, week).await;
    let ledger = payout_ledger(&platform).await;
    assert_eq!(
        (ledger["totals"]["payouts"].as_i64(), ledger["totals"]["processed"].as_i64()),
        (Some(1), Some(1)),
        "{ledger}"
    );
    assert_eq!(ledger["totals"]["processed_amount"], payout + 5_000);
    assert_eq!(ledger["payouts"][0]["id"], done["payout_reference"], "{done}");
    assert_eq!(ledger["payouts"][0]["bank_account"]["ifsc"], "SBIN0001234");
    assert!(done["payout_utr"].is_string(), "{done}");

    // The partner sees it paid, with the reference; paying again pays nothing more.
    let (status, issued) = first.post(&format!("/{PARTNER}/keys"), json!({})).await;
    assert_eq!(status, 201, "{issued}");
    let key = issued["key"].as_str().unwrap();
    let url = format!("{}/api/partners/v1/settlements", platform.api_url);
    let mine = json_of(platform.http.get(url).bearer_auth(key)).await;
    let seen = &mine["items"][0];
    assert_eq!(
        (seen["status"].as_str(), &seen["payout_reference"]),
        (Some("paid"), &done["payout_reference"]),
        "{mine}"
    );
    assert!(seen.get("approved_by").is_none() && seen.get("payout_failure").is_none(), "admins' fields: {seen}");
    let (status, _) = second.post(&format!("{settlement}/pay"), json!({})).await;
    assert_eq!(status, 202);
    let workflow = payout_workflow_id(PARTNER, week);
    tests::eventually("the second run to end", async || {
        let ended =
            platform.find_workflows(&format!("WorkflowId = '{workflow}' AND ExecutionStatus = 'Completed'")).await;
        if ended.len() == 2 { Ok(()) } else { Err(format!("{ended:?}")) }
    })
    .await;
    let ledger = payout_ledger(&platform).await;
    assert_eq!(ledger["totals"]["payouts"], 1, "{ledger}");
    // The latest run found the settlement paid and paid nothing.
    platform.replay_workflow_history(&workflow, "settlement_payout_found_paid").await.unwrap();
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payout_the_bank_turns_back_is_paid_again_or_left_visible_after_the_last_try() {
    let options = TestPlatformOptions::with_workers(&[WorkerContext::Payment, WorkerContext::Partner]);
    let platform = TestPlatform::spawn_with(options).await.unwrap();
    let (first, second) = (admin(&platform).await, admin(&platform).await);
    let partner_id = onboard(&first).await;
    let (status, _) = first.put(&format!("/{PARTNER}/payout-account"), bank()).await;
    assert_eq!(status, 200);
    let (week, payout) = settled_week(&platform, partner_id, 1).await;
    let (later, _) = settled_week(&platform, partner_id, 0).await;
    for start in [week, later] {
        let (status, body) = second.post(&format!("/{PARTNER}/settlements/{start}/approve"), json!({})).await;
        assert_eq!(status, 200, "{body}");
    }

    // Turned back once, paid on the second payout.
    platform.set_gateway_faults(json!({ "fail_payouts": 1 })).await;
    let (status, _) = second.post(&format!("/{PARTNER}/settlements/{week}/pay"), json!({})).await;
    assert_eq!(status, 202);
    let done = paid(&first, week).await;
    assert_eq!((done["payout_attempts"].as_i64(), &done["payout_failure"]), (Some(2), &Value::Null), "{done}");
    let ledger = payout_ledger(&platform).await;
    assert_eq!(
        (
            ledger["totals"]["failed"].as_i64(),
            ledger["totals"]["processed"].as_i64(),
            ledger["totals"]["processed_amount"].as_i64()
        ),
        (Some(1), Some(1), Some(payout)),
        "{ledger}"
    );

    // Its run: a payout turned back, a pause, a payout processed.
    platform.replay_workflow_history(&payout_workflow_id(PARTNER, week), "settlement_payout").await.unwrap();

    // Turned back three times: the run ends, the settlement stays approved with the reason.
    platform.set_gateway_faults(json!({ "fail_payouts": 3 })).await;
    let (status, _) = second.post(&format!("/{PARTNER}/settlements/{later}/pay"), json!({})).await;
    assert_eq!(status, 202);
    let workflow = payout_workflow_id(PARTNER, later);
    eventually_within(std::time::Duration::from_secs(60), "the run to end after three payouts", async || {
        let ended =
            platform.find_workflows(&format!("WorkflowId = '{workflow}' AND ExecutionStatus = 'Completed'")).await;
        if ended.len() == 1 { Ok(()) } else { Err(format!("{ended:?}")) }
    })
    .await;
    let left = first.settlement(later).await;
    assert_eq!((left["status"].as_str(), left["payout_attempts"].as_i64()), (Some("approved"), Some(3)), "{left}");
    assert!(left["payout_failure"].as_str().unwrap().contains("beneficiary bank"), "{left}");

    // An operator asks again once the bank is back: the fourth payout pays it.
    platform.set_gateway_faults(json!({})).await;
    let (status, _) = second.post(&format!("/{PARTNER}/settlements/{later}/pay"), json!({})).await;
    assert_eq!(status, 202);
    let done = paid(&first, later).await;
    assert_eq!(done["payout_attempts"], 4, "{done}");
    let ledger = payout_ledger(&platform).await;
    assert_eq!(
        (ledger["totals"]["failed"].as_i64(), ledger["totals"]["processed"].as_i64()),
        (Some(4), Some(2)),
        "{ledger}"
    );
    platform.stop().await.unwrap();
}
