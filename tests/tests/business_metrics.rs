//! Business counters: the API counts the sagas it starts, the workers count what their
//! activities did, each on its own `/metrics` page. One test in this binary, so nothing
//! else in the process moves the counters.

use chrono::{Duration as Days, NaiveDate};
use tests::{TestPlatform, TestPlatformOptions, booking_body, eventually};
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirmed_declined_and_sold_out_bookings_move_their_counters() {
    let mut platform = TestPlatform::spawn_with(TestPlatformOptions::without_workers()).await.unwrap();
    let addr = platform.start_workers_serving_metrics(&WorkerContext::ALL).unwrap();
    // The workers start on their own thread: their page answers once they are up.
    let worker_page = async || {
        let response = eventually("the worker metrics page", async || {
            platform.http.get(format!("http://{addr}/metrics")).send().await.map_err(|e| e.to_string())
        })
        .await;
        response.text().await.unwrap()
    };
    let api_page = || async {
        platform.http.get(format!("{}/metrics", platform.api_url)).send().await.unwrap().text().await.unwrap()
    };
    let before_worker = worker_page().await;
    let before_api = api_page().await;

    let confirmed = platform.book(&booking_body(30, 1, 1, "tok_success")).await;
    platform.wait_for_status(&confirmed, &["confirmed"]).await.unwrap();
    let declined = platform.book(&booking_body(31, 1, 1, "tok_decline")).await;
    platform.wait_for_status(&declined, &["failed"]).await.unwrap();
    let sold_out_body = booking_body(32, 1, 1, "tok_success");
    let check_in: NaiveDate = sold_out_body["check_in"].as_str().unwrap().parse().unwrap();
    platform.set_allotment(check_in, check_in + Days::days(1), 0).await.unwrap();
    let sold_out = platform.book(&sold_out_body).await;
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
