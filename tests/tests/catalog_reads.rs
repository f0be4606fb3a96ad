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

/// The name of the accommodation `code` as the API at `base` answers, and the answer's ETag.
async fn name_at(http: &reqwest::Client, base: &str, code: &str) -> (String, String) {
    let response = http.get(format!("{base}/api/catalog/accommodations/{code}")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let etag = response.headers()["etag"].to_str().unwrap().to_string();
    let body: Value = response.json().await.unwrap();
    (body["name"].as_str().unwrap().to_string(), etag)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catalog_change_is_seen_by_every_replica_that_kept_the_page() {
    let db = tests::TestDatabase::create(4).await.unwrap();
    let (mut one, mut two) =
        (tests::spawn_catalog_api(&db.url).await.unwrap(), tests::spawn_catalog_api(&db.url).await.unwrap());
    let http = reqwest::Client::new();
    let code = "ujjayanta-heritage-hotel";
    let path = format!("/api/catalog/accommodations/{code}");
    // Each replica keeps the page once it hears the catalog's version (its listener starts
    // with the process): the page's ETag then names the version (`"c<version>-…"`).
    let mut kept = Vec::new();
    for replica in [&one.url, &two.url] {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let (_, etag) = name_at(&http, replica, code).await;
            if etag.starts_with("\"c") {
                kept.push(etag);
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{replica} never kept {path}: ETag {etag}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    assert_eq!(kept[0], kept[1], "both replicas tag the page by the same catalog version");
    // Asked with its ETag, the kept page is a 304.
    let revalidated = http.get(format!("{}{path}", one.url)).header("if-none-match", &kept[0]).send().await.unwrap();
    assert_eq!(revalidated.status(), 304);

    // A change committed anywhere (here straight in the catalog's tables, as a replica's
    // write ends up) reaches both replicas' next reads.
    let changed_at = std::time::Instant::now();
    sqlx::query("UPDATE accommodations SET name = 'Ujjayanta Heritage Hotel & Gardens' WHERE code = $1")
        .bind(code)
        .execute(&db.catalog)
        .await
        .unwrap();
    for replica in [&one.url, &two.url] {
        let deadline = changed_at + std::time::Duration::from_secs(2);
        loop {
            let (name, etag) = name_at(&http, replica, code).await;
            if name == "Ujjayanta Heritage Hotel & Gardens" {
                assert!(!kept.contains(&etag), "a new version is a new tag");
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{replica} still serves the old page after 2 s");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }
    let stale = http.get(format!("{}{path}", two.url)).header("if-none-match", &kept[1]).send().await.unwrap();
    assert_eq!(stale.status(), 200, "the old tag no longer matches");
    // A search by dates depends on rooms free: never kept.
    let check_in = contracts::india::today() + Days::days(30);
    let dated = http
        .get(format!(
            "{}/api/catalog/accommodations?check_in={check_in}&check_out={}",
            one.url,
            check_in + Days::days(1)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(dated.status(), 200);
    assert!(!dated.headers()["etag"].to_str().unwrap().starts_with("\"c"), "a dated search is not kept");
    one.stop();
    two.stop();
    db.drop_database().await.unwrap();
}
