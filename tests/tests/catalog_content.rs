//! The catalog's content through the public API, on the demo data: destinations with their
//! images, experiences, and packages — filters, three sort orders, cursor paging, detail
//! pages and quotes with GST — each with its cache validators.

use chrono::{Datelike, Duration as Days, Months, NaiveDate};
use serde_json::Value;
use tests::{CatalogUnderTest, catalog_codes as codes};

/// Today's date at the start of the test; two days later is in the future anywhere in India.
fn today() -> NaiveDate {
    contracts::india::today()
}

/// The next `month`-`day` at least two days from now.
fn next(month: u32, day: u32) -> NaiveDate {
    let earliest = today() + Days::days(2);
    let this_year = NaiveDate::from_ymd_opt(earliest.year(), month, day).unwrap();
    if this_year >= earliest { this_year } else { NaiveDate::from_ymd_opt(earliest.year() + 1, month, day).unwrap() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destinations_are_listed_by_name_page_by_page_and_shown_with_their_images() {
    let catalog = CatalogUnderTest::start(8).await.unwrap();

    let (items, pages) = catalog.all_pages("destinations", "limit=5").await;
    assert_eq!(pages, 3);
    let names: Vec<&str> = items.iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "Agartala",
            "Chabimura",
            "Dumboor Lake",
            "Heritage Park",
            "Jampui Hills",
            "Kamalasagar",
            "Neermahal",
            "Pilak",
            "Sepahijala Wildlife Sanctuary",
            "Tripura Sundari Temple",
            "Udaipur",
            "Ujjayanta Palace",
            "Unakoti",
        ]
    );
    assert_eq!(codes(&items), catalog.codes("destinations", "limit=100").await);
    assert!(items.iter().all(|d| d["cover_image"].as_str().is_some_and(|u| u.starts_with("/static/destinations/"))));
    assert_eq!(
        catalog.codes("destinations", "district=gomati").await,
        ["chabimura", "tripura-sundari-temple", "udaipur"]
    );

    let palace = catalog.get_revalidated("/api/catalog/destinations/ujjayanta-palace").await;
    assert_eq!(
        (palace["name"].as_str(), palace["district"].as_str()),
        (Some("Ujjayanta Palace"), Some("West Tripura"))
    );
    assert_eq!((palace["latitude"].as_f64(), palace["longitude"].as_f64()), (Some(23.84), Some(91.28)));
    let images: Vec<(&str, &str)> = palace["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["url"].as_str().unwrap(), i["caption"].as_str().unwrap()))
        .collect();
    assert_eq!(
        images,
        [
            ("/static/destinations/ujjayanta-palace/palace-facade.jpg", "The palace's white facade"),
            ("/static/destinations/ujjayanta-palace/state-museum-gallery.jpg", "A gallery of the Tripura State Museum"),
            ("/static/destinations/ujjayanta-palace/palace-at-night.jpg", "The palace lit at night"),
        ]
    );
    assert_eq!(palace["cover_image"], palace["images"][0]["url"]);
    let list = catalog.get_revalidated("/api/catalog/destinations?district=Gomati").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 3);

    let (_, first_page) = catalog.get("/api/catalog/experiences?limit=1").await;
    let experience_cursor = first_page["next_cursor"].as_str().unwrap().to_string();
    catalog
        .assert_errors([
            ("/api/catalog/destinations/atlantis".to_string(), (404, "destination_not_found", None)),
            (format!("/api/catalog/destinations?cursor={experience_cursor}"), (400, "invalid_cursor", None)),
            ("/api/catalog/destinations?limit=0".to_string(), (422, "invalid_limit", Some("limit"))),
            ("/api/catalog/destinations?state=tripura".to_string(), (400, "invalid_query", None)),
        ])
        .await;
    catalog.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn experiences_are_listed_with_their_destinations_and_filtered_by_one() {
    let catalog = CatalogUnderTest::start(8).await.unwrap();

    let (all, pages) = catalog.all_pages("experiences", "limit=5").await;
    assert_eq!((all.len(), pages), (12, 3), "every published experience, and only those");
    assert!(!codes(&all).contains(&"kharchi-puja-procession".to_string()), "not on sale");
    assert_eq!(codes(&all), catalog.codes("experiences", "").await);

    let neermahal = catalog.all_pages("experiences", "destination=neermahal").await.0;
    assert_eq!(codes(&neermahal), ["neermahal-boat-ride", "neermahal-light-and-sound"]);
    assert_eq!(neermahal[0]["name"], "Boat ride to Neermahal");
    assert_eq!(
        (neermahal[0]["price"]["amount"].as_i64(), neermahal[0]["price"]["currency"].as_str()),
        (Some(40_000), Some("INR"))
    );
    assert_eq!(neermahal[0]["duration_minutes"], 90);

    let agartala = catalog.get_revalidated("/api/catalog/experiences?destination=agartala").await;
    let agartala = agartala["items"].as_array().unwrap();
    assert_eq!(codes(agartala), ["heritage-park-evening-walk", "ujjayanta-palace-museum-tour"]);
    let places: Vec<&str> =
        agartala[1]["destinations"].as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert_eq!(places, ["agartala", "ujjayanta-palace"]);
    assert!(catalog.codes("experiences", "destination=atlantis").await.is_empty());
    catalog.stop().await.unwrap();
}

/// The packages on sale in each sort order.
const BY_NAME: [&str; 6] = [
    "agartala-heritage-weekend",
    "dumboor-lake-retreat",
    "neermahal-sepahijala-day-trip",
    "tripura-grand-circuit",
    "udaipur-temples-and-chabimura",
    "unakoti-jampui-hills-escape",
];
const BY_PRICE: [&str; 6] = [
    "udaipur-temples-and-chabimura",
    "neermahal-sepahijala-day-trip",
    "agartala-heritage-weekend",
    "dumboor-lake-retreat",
    "unakoti-jampui-hills-escape",
    "tripura-grand-circuit",
];
const BY_NIGHTS: [&str; 6] = [
    "neermahal-sepahijala-day-trip",
    "udaipur-temples-and-chabimura",
    "agartala-heritage-weekend",
    "dumboor-lake-retreat",
    "unakoti-jampui-hills-escape",
    "tripura-grand-circuit",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn packages_filter_sort_and_page_without_repeats() {
    let catalog = CatalogUnderTest::start(8).await.unwrap();

    for (sort, expected) in [("name", BY_NAME), ("price", BY_PRICE), ("nights", BY_NIGHTS)] {
        for limit in [1, 2, 4, 100] {
            let (items, pages) = catalog.all_pages("packages", &format!("sort={sort}&limit={limit}")).await;
            assert_eq!(codes(&items), expected, "sort={sort}&limit={limit}");
            assert_eq!(pages, 6usize.div_ceil(limit), "sort={sort}&limit={limit}");
        }
    }
    let (items, _) = catalog.all_pages("packages", "").await;
    let from = |code: &str| {
        let p = items.iter().find(|p| p["code"] == code).unwrap();
        (p["from_price"]["amount"].as_i64().unwrap(), p["from_price_basis"].as_str().unwrap().to_string())
    };
    assert_eq!(from("agartala-heritage-weekend"), (820_000, "per_person".into()), "the regular season's price");
    assert_eq!(from("neermahal-sepahijala-day-trip"), (650_000, "per_group".into()));
    assert_eq!(from("unakoti-jampui-hills-escape"), (2_750_000, "per_room".into()));
    let circuit = items.iter().find(|p| p["code"] == "tripura-grand-circuit").unwrap();
    let stops: Vec<(i64, &str)> = circuit["destinations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["day"].as_i64().unwrap(), s["code"].as_str().unwrap()))
        .collect();
    assert_eq!(stops.first(), Some(&(1, "agartala")));
    assert_eq!(stops.last(), Some(&(6, "unakoti")));
    assert_eq!(stops.len(), 9);
    assert_eq!(circuit["amenities"].as_array().unwrap().len(), 6);

    let cases: [(&str, &[&str]); 13] = [
        ("destination=unakoti", &["tripura-grand-circuit", "unakoti-jampui-hills-escape"]),
        ("destination=neermahal", &["neermahal-sepahijala-day-trip", "tripura-grand-circuit"]),
        (
            "amenities=boat-ride",
            &[
                "dumboor-lake-retreat",
                "neermahal-sepahijala-day-trip",
                "tripura-grand-circuit",
                "udaipur-temples-and-chabimura",
            ],
        ),
        ("amenities=boat-ride,all-meals", &["dumboor-lake-retreat"]),
        ("amenities=all-meals,%20boat-ride,boat-ride", &["dumboor-lake-retreat"]),
        ("amenities=jacuzzi", &[]),
        ("max_price=700000", &["neermahal-sepahijala-day-trip", "udaipur-temples-and-chabimura"]),
        ("min_price=2000000", &["tripura-grand-circuit", "unakoti-jampui-hills-escape"]),
        ("min_price=600000&max_price=900000", &["agartala-heritage-weekend", "neermahal-sepahijala-day-trip"]),
        (
            "min_nights=2&max_nights=3",
            &["agartala-heritage-weekend", "dumboor-lake-retreat", "unakoti-jampui-hills-escape"],
        ),
        ("max_nights=0", &["neermahal-sepahijala-day-trip"]),
        ("guests=10", &["agartala-heritage-weekend", "tripura-grand-circuit", "udaipur-temples-and-chabimura"]),
        ("destination=agartala&amenities=all-meals", &[]),
    ];
    for (query, expected) in cases {
        assert_eq!(catalog.codes("packages", query).await, expected, "{query}");
        assert_eq!(catalog.codes("packages", &format!("{query}&limit=1")).await, expected, "{query}, paged");
    }
    assert_eq!(
        catalog.codes("packages", "destination=unakoti&sort=price&limit=1").await,
        ["unakoti-jampui-hills-escape", "tripura-grand-circuit"]
    );
    let list = catalog.get_revalidated("/api/catalog/packages?amenities=boat-ride&sort=price").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 4);

    let (_, first) = catalog.get("/api/catalog/packages?limit=1").await;
    let name_cursor = first["next_cursor"].as_str().unwrap().to_string();
    catalog
        .assert_errors([
            ("/api/catalog/packages?limit=0".to_string(), (422, "invalid_limit", Some("limit"))),
            ("/api/catalog/packages?limit=101".to_string(), (422, "invalid_limit", Some("limit"))),
            ("/api/catalog/packages?sort=stars".to_string(), (422, "invalid_sort", Some("sort"))),
            ("/api/catalog/packages?min_nights=31".to_string(), (422, "invalid_nights", Some("min_nights"))),
            ("/api/catalog/packages?guests=0".to_string(), (422, "invalid_guests", Some("guests"))),
            ("/api/catalog/packages?max_price=-1".to_string(), (422, "invalid_price", Some("max_price"))),
            (format!("/api/catalog/packages?sort=price&cursor={name_cursor}"), (400, "invalid_cursor", None)),
            ("/api/catalog/packages?cursor=bm9wZQ".to_string(), (400, "invalid_cursor", None)),
            ("/api/catalog/packages?colour=blue".to_string(), (400, "invalid_query", None)),
        ])
        .await;
    catalog.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_package_detail_shows_its_trip_day_by_day_and_its_seasons() {
    let catalog = CatalogUnderTest::start(8).await.unwrap();

    let weekend = catalog.get_revalidated("/api/catalog/packages/agartala-heritage-weekend").await;
    assert_eq!((weekend["nights"].as_i64(), weekend["max_group_size"].as_i64()), (Some(2), Some(12)));
    let day_by_day = |field: &str| -> Vec<(i64, String)> {
        weekend[field]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["day"].as_i64().unwrap(), s["code"].as_str().unwrap().to_string()))
            .collect()
    };
    let expect =
        |pairs: &[(i64, &str)]| -> Vec<(i64, String)> { pairs.iter().map(|(d, c)| (*d, c.to_string())).collect() };
    assert_eq!(
        day_by_day("destinations"),
        expect(&[(1, "agartala"), (1, "ujjayanta-palace"), (2, "heritage-park"), (3, "kamalasagar")])
    );
    assert_eq!(
        day_by_day("experiences"),
        expect(&[(1, "ujjayanta-palace-museum-tour"), (2, "heritage-park-evening-walk"), (3, "kasba-kali-bari-visit")])
    );
    let amenities: Vec<&str> =
        weekend["amenities"].as_array().unwrap().iter().map(|a| a["code"].as_str().unwrap()).collect();
    assert_eq!(amenities, ["ac-transport", "airport-transfer", "breakfast", "entry-tickets", "guide"]);

    // Seasons from today on, back to back: October to March at the peak price, April to
    // September at the regular one.
    let prices = weekend["prices"].as_array().unwrap();
    assert!(prices.len() >= 2, "{prices:?}");
    let day = |v: &Value| v.as_str().unwrap().parse::<NaiveDate>().unwrap();
    assert!(day(&prices[0]["valid_to"]) >= today());
    for pair in prices.windows(2) {
        assert_eq!(day(&pair[1]["valid_from"]), day(&pair[0]["valid_to"]) + Days::days(1));
    }
    for price in prices {
        let peak = day(&price["valid_from"]).month() == 10;
        let (adult, child) = if peak { (980_000, 490_000) } else { (820_000, 410_000) };
        assert_eq!(price["basis"], "per_person");
        assert_eq!(
            (price["price"]["amount"].as_i64(), price["child_price"]["amount"].as_i64()),
            (Some(adult), Some(child))
        );
    }

    let day_trip = catalog.get_revalidated("/api/catalog/packages/neermahal-sepahijala-day-trip").await;
    assert!(
        day_trip["prices"].as_array().unwrap().iter().all(|p| p["basis"] == "per_group" && p["child_price"].is_null())
    );
    for path in ["/api/catalog/packages/kharchi-puja-festival-week", "/api/catalog/packages/taj-mahal-tour"] {
        assert_eq!(catalog.error(path).await, (404, "package_not_found".into(), None), "{path}");
    }
    catalog.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn package_quotes_price_each_line_with_five_percent_gst_by_the_departure_season() {
    let catalog = CatalogUnderTest::start(8).await.unwrap();
    let quote = |code: &str, query: String| format!("/api/catalog/packages/{code}/quote?{query}");

    // Per person, in the peak season: adults and children on their own lines.
    let january = next(1, 15);
    let q = catalog
        .get_revalidated(&quote("agartala-heritage-weekend", format!("start={january}&adults=2&children=1")))
        .await;
    let lines: Vec<(&str, i64, i64, i64, i64, i64)> = q["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let amount = |f: &str| l[f]["amount"].as_i64().unwrap();
            let kind = l["kind"].as_str().unwrap();
            (
                kind,
                l["quantity"].as_i64().unwrap(),
                amount("unit_price"),
                amount("base"),
                l["gst_rate_bp"].as_i64().unwrap(),
                amount("gst"),
            )
        })
        .collect();
    assert_eq!(lines, [("adult", 2, 980_000, 1_960_000, 500, 98_000), ("child", 1, 490_000, 490_000, 500, 24_500)]);
    let totals = |q: &Value| {
        (q["base_total"]["amount"].as_i64(), q["gst_total"]["amount"].as_i64(), q["total"]["amount"].as_i64())
    };
    assert_eq!(totals(&q), (Some(2_450_000), Some(122_500), Some(2_572_500)));
    assert_eq!(day(&q["end"]), january + Days::days(2));
    assert_eq!((day(&q["season"]["valid_from"]).month(), day(&q["season"]["valid_to"]).month()), (10, 3));
    assert!(q["rooms"].is_null(), "rooms are not charged on a per-person price");

    // The last day of the peak season and the first of the regular one.
    let last_peak_day = next(3, 31);
    for (start, total) in [(last_peak_day, 1_029_000), (last_peak_day + Days::days(1), 861_000)] {
        let (status, q) = catalog.get(&quote("agartala-heritage-weekend", format!("start={start}&adults=1"))).await;
        assert_eq!((status, q["total"]["amount"].as_i64()), (200, Some(total)), "{start}: {q}");
    }

    // Per room: one room for every two adults unless asked, children sharing.
    let q = catalog
        .get_revalidated(&quote("unakoti-jampui-hills-escape", format!("start={january}&adults=3&children=1")))
        .await;
    assert_eq!((q["lines"][0]["kind"].as_str(), q["lines"][0]["quantity"].as_i64()), (Some("room"), Some(2)));
    assert_eq!(q["rooms"], 2);
    assert_eq!(totals(&q), (Some(6_400_000), Some(320_000), Some(6_720_000)));
    let (_, q) = catalog.get(&quote("unakoti-jampui-hills-escape", format!("start={january}&adults=3&rooms=3"))).await;
    assert_eq!(totals(&q), (Some(9_600_000), Some(480_000), Some(10_080_000)));

    // Per group: one line whoever comes.
    let (_, q) =
        catalog.get(&quote("neermahal-sepahijala-day-trip", format!("start={january}&adults=4&children=2"))).await;
    assert_eq!(q["lines"].as_array().unwrap().len(), 1);
    assert_eq!((q["lines"][0]["kind"].as_str(), q["lines"][0]["quantity"].as_i64()), (Some("group"), Some(1)));
    assert_eq!(totals(&q), (Some(750_000), Some(37_500), Some(787_500)));
    assert_eq!(q["end"], q["start"], "a day trip ends the day it starts");

    let far = today() + Days::days(4 * 366);
    let past = today() - Days::days(2);
    catalog
        .assert_errors([
            // The ridge road is closed in the monsoon: no price from June to September.
            (
                quote("unakoti-jampui-hills-escape", format!("start={}&adults=2", next(7, 15))),
                (422, "no_price_for_date", Some("start")),
            ),
            (quote("agartala-heritage-weekend", format!("start={far}")), (422, "no_price_for_date", Some("start"))),
            (quote("agartala-heritage-weekend", format!("start={past}")), (422, "start_in_past", Some("start"))),
            (quote("agartala-heritage-weekend", "start=2027-02-30".into()), (422, "invalid_date", Some("start"))),
            (
                quote("neermahal-sepahijala-day-trip", format!("start={january}&adults=5&children=2")),
                (422, "group_too_large", Some("children")),
            ),
            (
                quote("neermahal-sepahijala-day-trip", format!("start={january}&adults=7")),
                (422, "group_too_large", Some("adults")),
            ),
            (
                quote("agartala-heritage-weekend", format!("start={january}&adults=0")),
                (422, "invalid_adults", Some("adults")),
            ),
            (
                quote("unakoti-jampui-hills-escape", format!("start={january}&adults=2&rooms=3")),
                (422, "invalid_rooms", Some("rooms")),
            ),
            (quote("agartala-heritage-weekend", "adults=2".into()), (400, "invalid_query", None)),
            (quote("kharchi-puja-festival-week", format!("start={january}")), (404, "package_not_found", None)),
        ])
        .await;
    catalog.stop().await.unwrap();
}

fn day(v: &Value) -> NaiveDate {
    v.as_str().unwrap().parse().unwrap()
}

/// Rows in every catalog table, in a fixed order.
async fn row_counts(db: &tests::TestDatabase) -> Vec<i64> {
    let tables = [
        "destinations",
        "destination_images",
        "accommodations",
        "accommodation_room_types",
        "amenities",
        "experiences",
        "experience_destinations",
        "packages",
        "package_destinations",
        "package_experiences",
        "package_amenities",
        "package_pricing",
    ];
    let mut counts = Vec::new();
    for table in tables {
        let count: i64 =
            sqlx::query_scalar(&format!("SELECT count(*) FROM {table}")).fetch_one(&db.catalog).await.unwrap();
        assert!(count > 0, "{table} is empty");
        counts.push(count);
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loading_the_demo_catalog_again_changes_nothing_and_seasons_never_overlap() {
    let catalog = CatalogUnderTest::start(8).await.unwrap();
    let db = &catalog.db;
    // The test database was loaded as of yesterday.
    let loaded_on = today() - Days::days(1);
    let before = row_counts(db).await;
    catalog::seed::load_demo_catalog(&db.catalog, loaded_on).await.unwrap();
    assert_eq!(row_counts(db).await, before);

    // A year on, the next tourist year's seasons are added and nothing else.
    let a_year_on = loaded_on.checked_add_months(Months::new(12)).unwrap();
    catalog::seed::load_demo_catalog(&db.catalog, a_year_on).await.unwrap();
    let seasons: i64 = catalog::seed::PACKAGES.iter().map(|p| p.seasons.len() as i64).sum();
    let mut expected = before.clone();
    *expected.last_mut().unwrap() += seasons;
    assert_eq!(row_counts(db).await, expected);

    // The database itself refuses a second price for a departure day, and a child price
    // where children are not priced.
    for (sql, constraint) in [
        (
            "INSERT INTO package_pricing (package_pricing_id, package_id, pricing_basis, valid_from, valid_to, price_paise)
             SELECT gen_random_uuid(), package_id, 'per_group', valid_to, valid_to + 10, 100 FROM package_pricing LIMIT 1",
            "package_pricing_no_overlap",
        ),
        (
            "INSERT INTO package_pricing
                 (package_pricing_id, package_id, pricing_basis, valid_from, valid_to, price_paise, child_price_paise)
             SELECT gen_random_uuid(), package_id, 'per_group', '2040-01-01', '2040-01-31', 100, 50 FROM packages LIMIT 1",
            "package_pricing_child_price_per_person",
        ),
    ] {
        let err = sqlx::query(sql).execute(&db.catalog).await.unwrap_err();
        assert_eq!(err.as_database_error().and_then(|e| e.constraint()), Some(constraint));
    }
    catalog.stop().await.unwrap();
}
