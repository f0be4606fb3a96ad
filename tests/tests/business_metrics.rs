//! Business counters: the API counts the sagas it starts, the workers count what their
//! activities did, each on its own `/metrics` page. One test in this binary, so nothing
//! else in the process moves the counters.

use chrono::{Duration as Days, NaiveDate};
use serde_json::Value;
use tests::{TestPlatform, TestPlatformOptions, booking_body};
use workers::WorkerContext;

/// The sum of a counter's series on a Prometheus page whose labels contain `label`.
fn counter(page: &str, name: &str, label: &str) -> f64 {
    page.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.strip_prefix(name).is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' ')))
        .filter(|l| l.contains(label))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn booking_ref_of(response: reqwest::Response) -> String {
    assert_eq!(response.status(), 202);
    response.json::<Value>().await.unwrap()["booking_ref"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirmed_declined_and_sold_out_bookings_move_their_counters() {
    let options = TestPlatformOptions { worker_contexts: vec![], ..Default::default() };
    let mut platform = TestPlatform::spawn_with(options).await.unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    platform.start_workers_with_metrics(&WorkerContext::ALL, Some(addr)).unwrap();
    // The workers start on their own thread: their page answers once they are up.
    let worker_page = || async {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            match platform.http.get(format!("http://{addr}/metrics")).send().await {
                Ok(response) => return response.text().await.unwrap(),
                Err(e) if tokio::time::Instant::now() > deadline => panic!("no worker metrics: {e}"),
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
            }
        }
    };
    let api_page = || async {
        platform.http.get(format!("{}/metrics", platform.api_url)).send().await.unwrap().text().await.unwrap()
    };
    let before_worker = worker_page().await;
    let before_api = api_page().await;

    let confirmed =
        booking_ref_of(platform.post_booking(&booking_body(30, 1, 1, "tok_success"), None).await.unwrap()).await;
    platform.wait_for_status(&confirmed, &["confirmed"]).await.unwrap();
    let declined =
        booking_ref_of(platform.post_booking(&booking_body(31, 1, 1, "tok_decline"), None).await.unwrap()).await;
    platform.wait_for_status(&declined, &["failed"]).await.unwrap();
    let sold_out_body = booking_body(32, 1, 1, "tok_success");
    let check_in: NaiveDate = sold_out_body["check_in"].as_str().unwrap().parse().unwrap();
    platform.set_allotment(check_in, check_in + Days::days(1), 0).await.unwrap();
    let sold_out = booking_ref_of(platform.post_booking(&sold_out_body, None).await.unwrap()).await;
    platform.wait_for_status(&sold_out, &["failed"]).await.unwrap();

    let after_worker = worker_page().await;
    let after_api = api_page().await;
    let moved =
        |before: &str, after: &str, name: &str, label: &str| counter(after, name, label) - counter(before, name, label);
    assert_eq!(moved(&before_api, &after_api, "tt_bookings_started_total", ""), 3.0, "{after_api}");
    assert_eq!(moved(&before_worker, &after_worker, "tt_bookings_confirmed_total", ""), 1.0, "{after_worker}");
    assert_eq!(
        moved(&before_worker, &after_worker, "tt_bookings_compensated_total", "code=\"card_declined\""),
        1.0,
        "{after_worker}"
    );
    assert_eq!(moved(&before_worker, &after_worker, "tt_holds_sold_out_total", ""), 1.0, "{after_worker}");
    assert_eq!(moved(&before_worker, &after_worker, "tt_bookings_expired_total", ""), 0.0);
    platform.stop().await.unwrap();
}
