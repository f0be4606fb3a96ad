//! The public catalog: search with filters, both sort orders, cursor paging, detail pages,
//! quotes, and cache validators.

use chrono::Duration as Days;
use serde_json::Value;
use tests::{TestPlatform, TestPlatformOptions, get_revalidated};

async fn get(platform: &TestPlatform, path: &str) -> (u16, Value) {
    let response = platform.http.get(format!("{}{path}", platform.api_url)).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// Every page of a search, following `next_cursor`.
async fn all_pages(platform: &TestPlatform, query: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut path = format!("/api/catalog/accommodations?{query}");
    loop {
        let (status, page) = get(platform, &path).await;
        assert_eq!(status, 200, "{page}");
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/catalog/accommodations?{query}&cursor={cursor}"),
            None => return items,
        }
    }
}

fn codes(items: &[Value]) -> Vec<&str> {
    items.iter().map(|i| i["code"].as_str().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn searching_paging_and_quoting_the_catalog() {
    let platform = TestPlatform::spawn_with(TestPlatformOptions::without_workers()).await.unwrap();

    // Paging by name, two at a time, visits every stay once, in order.
    let by_name = all_pages(&platform, "limit=2").await;
    let names: Vec<&str> = by_name.iter().map(|i| i["name"].as_str().unwrap()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!((names.len(), &names), (5, &sorted));
    assert_eq!(codes(&by_name), codes(&all_pages(&platform, "limit=100").await));

    // By price, cheapest first, across pages too.
    let by_price = all_pages(&platform, "sort=price&limit=2").await;
    let prices: Vec<i64> = by_price.iter().map(|i| i["from_price"]["amount"].as_i64().unwrap()).collect();
    assert!(prices.windows(2).all(|w| w[0] <= w[1]), "{prices:?}");
    assert_eq!(prices.len(), 5);

    // Filters.
    let cases = [
        ("destination=agartala", vec!["ujjayanta-heritage-hotel"]),
        ("district=west%20tripura", vec!["ujjayanta-heritage-hotel"]),
        ("kind=homestay", vec!["vanghmun-orange-homestay"]),
        ("max_price=200000", vec!["matabari-pilgrim-guest-house"]),
        ("min_price=500000", vec!["rudrasagar-lakeside-resort"]),
        ("guests=4", vec!["vanghmun-orange-homestay"]),
        ("destination=agartala&kind=homestay", vec![]),
    ];
    for (query, expected) in cases {
        assert_eq!(codes(&all_pages(&platform, query).await), expected, "{query}");
    }

    // A detail page, with its room types and a validator.
    let url = format!("{}/api/catalog/accommodations/ujjayanta-heritage-hotel", platform.api_url);
    let detail = get_revalidated(&platform.http, &url).await;
    assert_eq!(detail["destination"]["code"], "agartala");
    let rooms: Vec<&str> =
        detail["room_types"].as_array().unwrap().iter().map(|r| r["room_type"].as_str().unwrap()).collect();
    assert_eq!(rooms, vec!["deluxe_double", "palace_view_suite"]);
    let (status, error) = get(&platform, "/api/catalog/accommodations/taj-agartala").await;
    assert_eq!((status, error["error"]["code"].as_str()), (404, Some("accommodation_not_found")));

    // A quote above the ₹7,500 slab: 18 % GST on every night.
    let check_in = contracts::india::today() + Days::days(12);
    let (status, quote) = get(
        &platform,
        &format!(
            "/api/catalog/quote?accommodation=ujjayanta-heritage-hotel&room_type=palace_view_suite&check_in={check_in}&check_out={}",
            check_in + Days::days(2)
        ),
    )
    .await;
    assert_eq!(status, 200, "{quote}");
    assert_eq!(quote["lines"].as_array().unwrap().len(), 2);
    assert_eq!(quote["lines"][0]["gst_rate_bp"], 1800);
    assert_eq!(quote["total"]["amount"], 2 * 950_000 * 118 / 100);

    // Bad queries.
    let unknown_room = format!(
        "/api/catalog/quote?accommodation=ujjayanta-heritage-hotel&room_type=penthouse&check_in={check_in}&check_out={}",
        check_in + Days::days(1)
    );
    for (path, status, code) in [
        ("/api/catalog/accommodations?limit=0", 422, "invalid_limit"),
        ("/api/catalog/accommodations?limit=101", 422, "invalid_limit"),
        ("/api/catalog/accommodations?sort=stars", 422, "invalid_sort"),
        ("/api/catalog/accommodations?cursor=bm9wZQ", 400, "invalid_cursor"),
        ("/api/catalog/accommodations?colour=blue", 400, "invalid_query"),
        (unknown_room.as_str(), 422, "unknown_room_type"),
    ] {
        let (got, body) = get(&platform, path).await;
        assert_eq!((got, body["error"]["code"].as_str()), (status, Some(code)), "{path}: {body}");
    }
    platform.stop().await.unwrap();
}
