//! The operators' view of bookings on the real dev server: every booking searched by its
//! filters and paged, and one booking whole, with its money as the gateway recorded it and
//! its saga's live state.

use chrono::Duration as Span;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use tests::{Session, TestPlatform, body_of, booking_body, error_code, json_of};

async fn search(platform: &TestPlatform, operator: &Session, query: &str) -> Vec<String> {
    let url = format!("{}/api/bookings/search?{query}", platform.api_url);
    let found = json_of(platform.http_as(operator).get(url)).await;
    found["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{query}: {found}"))
        .iter()
        .map(|b| b["booking_ref"].as_str().unwrap().to_string())
        .collect()
}

async fn dossier(platform: &TestPlatform, session: &Session, booking_ref: &str) -> (u16, Value) {
    let url = format!("{}/api/bookings/{booking_ref}/dossier", platform.api_url);
    body_of(platform.http_as(session).get(url).send().await.unwrap()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_search_every_booking_and_read_one_whole() {
    let platform = TestPlatform::spawn().await.unwrap();
    let operator = platform.user_with_role(auth::roles::OPERATOR).await.unwrap();

    // Three bookings: one confirmed and then cancelled, one declined, one by another
    // traveller with another e-mail, later in the year.
    let cancelled = platform.book(&booking_body(30, 2, 1, "tok_success")).await;
    platform.wait_for_status(&cancelled, &["confirmed"]).await.unwrap();
    let url = format!("{}/api/bookings/{cancelled}/cancel", platform.api_url);
    let (status, _) =
        body_of(platform.http_as(&platform.traveller).post(url).json(&json!({})).send().await.unwrap()).await;
    assert_eq!(status, 202);
    platform.wait_for_status(&cancelled, &["cancelled"]).await.unwrap();
    let declined = platform.book(&booking_body(31, 1, 1, "tok_decline")).await;
    platform.wait_for_status(&declined, &["failed"]).await.unwrap();
    let mut other = booking_body(60, 1, 1, "tok_success");
    other["lead_traveller"]["email"] = json!("bijoy@example.in");
    other["lead_traveller"]["phone"] = json!("+91 94361 00000");
    let second = platform.book(&other).await;
    platform.wait_for_status(&second, &["confirmed"]).await.unwrap();

    let all: BTreeSet<String> = [&cancelled, &declined, &second].into_iter().cloned().collect();
    let found: BTreeSet<String> = search(&platform, &operator, "").await.into_iter().collect();
    assert_eq!(found, all, "an operator sees every traveller's bookings");
    assert_eq!(search(&platform, &operator, "status=failed").await, vec![declined.clone()]);
    assert_eq!(search(&platform, &operator, "status=cancelled").await, vec![cancelled.clone()]);
    assert_eq!(search(&platform, &operator, "email=BIJOY@example.in").await, vec![second.clone()]);
    assert_eq!(search(&platform, &operator, "phone=%2B919436100000").await, vec![second.clone()]);
    let by_prefix = search(&platform, &operator, &format!("reference={}", second[..6].to_lowercase())).await;
    assert!(by_prefix.contains(&second), "a reference's beginning, in any case, finds it: {by_prefix:?}");
    assert_eq!(search(&platform, &operator, &format!("reference={second}")).await, vec![second.clone()]);
    let late = contracts::india::today() + Span::days(45);
    assert_eq!(search(&platform, &operator, &format!("check_in_from={late}")).await, vec![second.clone()]);
    assert_eq!(search(&platform, &operator, "property=ujjayanta-heritage-hotel&kind=stay").await.len(), 3);
    assert!(search(&platform, &operator, "kind=package").await.is_empty());
    let soonest_first = search(&platform, &operator, "sort=check_in").await;
    assert_eq!(soonest_first, vec![cancelled.clone(), declined.clone(), second.clone()]);

    // Pages of one walk the list once, in order.
    let mut walked = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(c) => format!("limit=1&sort=check_in&cursor={c}"),
            None => "limit=1&sort=check_in".to_string(),
        };
        let page =
            json_of(platform.http_as(&operator).get(format!("{}/api/bookings/search?{query}", platform.api_url))).await;
        walked.extend(page["items"].as_array().unwrap().iter().map(|b| b["booking_ref"].as_str().unwrap().to_string()));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(walked, soonest_first);

    for (query, code, field) in [
        ("status=lost", "invalid_status", "status"),
        ("property=no-such-hotel", "unknown_accommodation", "property"),
        ("sort=price", "invalid_sort", "sort"),
        ("reference=TRP-7K3M9Q0", "invalid_reference", "reference"),
        ("phone=00000000000000000", "invalid_contact", "phone"),
        ("check_in_from=2027-02-01&check_in_to=2027-01-01", "invalid_date_range", "check_in_to"),
    ] {
        let url = format!("{}/api/bookings/search?{query}", platform.api_url);
        let (status, refused) = body_of(platform.http_as(&operator).get(url).send().await.unwrap()).await;
        assert_eq!(
            (status, error_code(&refused), refused["error"]["details"]["field"].as_str()),
            (422, code, Some(field))
        );
    }
    let url = format!("{}/api/bookings/search", platform.api_url);
    let (status, _) = body_of(platform.http_as(&platform.traveller).get(url).send().await.unwrap()).await;
    assert_eq!(status, 403, "a traveller sees only their own bookings");

    // One booking whole: what it was, who, the money with the gateway's ids, every version,
    // the audit trail, the cancellation, and its saga.
    let (status, whole) = dossier(&platform, &operator, &cancelled).await;
    assert_eq!(status, 200, "{whole}");
    assert_eq!(
        (whole["booking"]["status"].as_str(), whole["booking"]["kind"].as_str()),
        (Some("cancelled"), Some("stay"))
    );
    assert_eq!(whole["items"].as_array().unwrap().len(), 2, "two nights: {whole}");
    assert_eq!(
        whole["customers"],
        json!([{ "name": "Ananya Debbarma", "is_lead": true, "email": "ananya@example.in", "phone": "+919876543210" }])
    );
    let total = whole["booking"]["total"]["amount"].as_i64().unwrap();
    let payment = &whole["payments"][0];
    assert_eq!((payment["method"].as_str(), payment["status"].as_str()), (Some("card"), Some("refunded")), "{whole}");
    assert!(payment["gateway_payment_id"].as_str().unwrap().starts_with("pay_"), "{payment}");
    let movements: Vec<(&str, i64)> = whole["movements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["kind"].as_str().unwrap(), m["amount"]["amount"].as_i64().unwrap()))
        .collect();
    assert_eq!(movements, vec![("capture", total), ("refund", total)]);
    let versions: Vec<&str> =
        whole["versions"].as_array().unwrap().iter().map(|v| v["status"].as_str().unwrap()).collect();
    assert_eq!(versions, vec!["pending_payment", "confirmed", "cancelled"]);
    let actions: Vec<&str> = whole["audit"].as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"cancellation_requested"), "{actions:?}");
    assert_eq!(whole["cancellation"]["refunded"]["amount"], total);
    assert_eq!(
        whole["saga"]["status"], "confirmed",
        "the booking saga ended confirmed; the cancellation is its own: {whole}"
    );
    let workflow = format!("booking-{cancelled}");
    assert_eq!(whole["saga"]["workflow_id"], workflow.as_str());
    assert_eq!(whole["saga"]["ui_url"], format!("http://127.0.0.1:8233/namespaces/default/workflows/{workflow}"));

    let (status, failed) = dossier(&platform, &operator, &declined).await;
    assert_eq!((status, failed["booking"]["failure_code"].as_str()), (200, Some("card_declined")));
    assert_eq!(failed["saga"]["status"], "failed");
    assert!(failed["movements"].as_array().unwrap().is_empty(), "nothing was taken: {failed}");
    let (status, _) = dossier(&platform, &operator, "TRP-000000").await;
    assert_eq!(status, 404);
    let (status, _) = dossier(&platform, &platform.traveller, &cancelled).await;
    assert_eq!(status, 403, "the dossier is for operators, even of one's own booking");
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_force_cancels_a_booking_stuck_before_confirmation_once() {
    let platform = TestPlatform::spawn().await.unwrap();
    let operator = platform.user_with_role(auth::roles::OPERATOR).await.unwrap();
    let asset_manager = platform.user_with_role(auth::roles::ASSET_MANAGER).await.unwrap();
    // A traveller who never pays: the saga waits on its checkout, the rooms held.
    let (stuck, _) = platform.start_checkout_booking(33).await;
    let force = |session: &tests::Session, booking_ref: &str, body: Value| {
        let url = format!("{}/api/bookings/{booking_ref}/force-cancel", platform.api_url);
        let request = platform.http_as(session).post(url).json(&body);
        async move { body_of(request.send().await.unwrap()).await }
    };
    let reason = json!({ "reason": "traveller asked by phone to drop it" });
    let traveller = platform.traveller.clone();
    for session in [&traveller, &asset_manager] {
        let (status, body) = force(session, &stuck, reason.clone()).await;
        assert_eq!(status, 403, "{body}");
    }
    let (status, body) = force(&operator, &stuck, json!({ "reason": " " })).await;
    assert_eq!((status, body["error"]["details"]["field"].as_str()), (422, Some("reason")), "{body}");
    let (status, body) = force(&operator, "TRP-000000", reason.clone()).await;
    assert_eq!((status, error_code(&body)), (404, "no_saga_in_flight"), "{body}");

    // Asked twice at once: one cancellation, compensated once.
    let (first, second) =
        tokio::join!(force(&operator, &stuck, reason.clone()), force(&operator, &stuck, reason.clone()));
    assert_eq!((first.0, second.0), (202, 202), "{first:?} {second:?}");
    let failed = platform.wait_for_status(&stuck, &["failed"]).await.unwrap();
    assert_eq!(failed["failure"]["code"], "cancelled", "{failed}");
    let (status, body) = force(&operator, &stuck, reason.clone()).await;
    assert_eq!((status, error_code(&body)), (409, "not_in_flight"), "{body}");
    let (_, whole) = dossier(&platform, &operator, &stuck).await;
    let audit = whole["audit"].as_array().unwrap();
    let asked: Vec<&Value> = audit.iter().filter(|a| a["action"] == "force_cancel_requested").collect();
    assert!(!asked.is_empty(), "{whole}");
    assert!(asked.iter().all(|a| a["actor"] == format!("user:{}", operator.user_id)), "{asked:?}");
    let versions = whole["versions"].as_array().unwrap();
    assert_eq!(versions.iter().filter(|v| v["status"] == "failed").count(), 1, "failed once: {whole}");
    let held: i64 = sqlx::query_scalar("SELECT count(*) FROM inventory_holds WHERE status = 'held'")
        .fetch_one(&platform.inventory_db)
        .await
        .unwrap();
    assert_eq!(held, 0, "the rooms are back on sale");

    // A confirmed booking is cancelled by its policy, not forced.
    let confirmed = platform.book(&booking_body(34, 1, 1, "tok_success")).await;
    platform.wait_for_status(&confirmed, &["confirmed"]).await.unwrap();
    let (status, body) = force(&operator, &confirmed, reason).await;
    assert_eq!((status, error_code(&body)), (409, "already_confirmed"), "{body}");
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_gives_a_traveller_more_time_to_pay_and_the_rooms_stay_held() {
    let platform = TestPlatform::spawn().await.unwrap();
    let operator = platform.user_with_role(auth::roles::OPERATOR).await.unwrap();
    let (booking_ref, waiting) = platform.start_checkout_booking(37).await;
    let first_end: chrono::DateTime<chrono::Utc> = waiting["checkout"]["expires_at"].as_str().unwrap().parse().unwrap();
    let extend = |session: &tests::Session, body: Value, key: &str| {
        let url = format!("{}/api/bookings/{booking_ref}/payment-window", platform.api_url);
        let request = platform.http_as(session).post(url).header("Idempotency-Key", key).json(&body);
        async move { body_of(request.send().await.unwrap()).await }
    };
    let hour = json!({ "minutes": 60, "reason": "bank OTP outage, traveller will retry" });
    let traveller = platform.traveller.clone();
    let (status, _) = extend(&traveller, hour.clone(), "t-1").await;
    assert_eq!(status, 403);
    for (body, field) in
        [(json!({ "minutes": 0, "reason": "x" }), "minutes"), (json!({ "minutes": 30, "reason": "" }), "reason")]
    {
        let (status, refused) = extend(&operator, body, "bad").await;
        assert_eq!((status, refused["error"]["details"]["field"].as_str()), (422, Some(field)), "{refused}");
    }

    // An hour from now; the same key again is the same extension.
    let (status, extended) = extend(&operator, hour.clone(), "more-time-1").await;
    assert_eq!(status, 200, "{extended}");
    let new_end: chrono::DateTime<chrono::Utc> = extended["expires_at"].as_str().unwrap().parse().unwrap();
    assert!(new_end > first_end + chrono::Duration::minutes(30), "{first_end} -> {new_end}");
    assert!(extended["pay_url"].as_str().unwrap().ends_with(extended["gateway_order_id"].as_str().unwrap()));
    let (status, again) = extend(&operator, hour.clone(), "more-time-1").await;
    assert_eq!((status, &again["expires_at"]), (200, &extended["expires_at"]), "{again}");
    // The traveller's page shows the new end once the saga kept the rooms as long.
    tests::eventually("the saga to apply the extension", async || {
        let (_, view) = platform.get_booking(&booking_ref, 0).await.unwrap();
        if view["checkout"]["expires_at"] == extended["expires_at"] { Ok(()) } else { Err(view) }
    })
    .await;
    let hold_ends: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT expires_at FROM inventory_holds WHERE booking_ref = $1")
            .bind(&booking_ref)
            .fetch_one(&platform.inventory_db)
            .await
            .unwrap();
    assert!(hold_ends >= new_end + chrono::Duration::minutes(5), "hold {hold_ends}, window {new_end}");
    let (_, whole) = dossier(&platform, &operator, &booking_ref).await;
    let noted = whole["audit"].as_array().unwrap().iter().filter(|a| a["action"] == "payment_window_extended").count();
    assert!(noted >= 1, "{whole}");

    // Paid on the same page: confirmed. Then there is no window to extend.
    let (status, _) = platform.pay_checkout(extended["pay_url"].as_str().unwrap(), "tok_visa").await;
    assert_eq!(status, 200);
    platform.wait_for_status(&booking_ref, &["confirmed"]).await.unwrap();
    let (status, refused) = extend(&operator, hour, "more-time-2").await;
    assert_eq!((status, error_code(&refused)), (409, "not_awaiting_payment"), "{refused}");
    platform.replay_history(&booking_ref, "booking_saga_window_extended").await.unwrap();
    platform.stop().await.unwrap();
}
