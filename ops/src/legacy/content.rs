//! What the monolith sold and who bought it: Tripura's destinations, lodges, experiences and
//! packages, and the names the generated travellers and partners carry.

// Amounts in paise are written rupees_paise (4_999_00 is ₹4,999.00).
#![allow(clippy::inconsistent_digit_grouping)]

/// Destinations: name, district, latitude, longitude.
pub const DESTINATIONS: [(&str, &str, f64, f64); 20] = [
    ("Agartala", "West Tripura", 23.831_457, 91.286_778),
    ("Udaipur", "Gomati", 23.533_300, 91.483_300),
    ("Unakoti", "Unakoti", 24.316_700, 92.066_700),
    ("Neermahal", "Sepahijala", 23.466_700, 91.300_000),
    ("Jampui Hills", "North Tripura", 23.970_000, 92.270_000),
    ("Sepahijala Wildlife Sanctuary", "Sepahijala", 23.650_000, 91.320_000),
    ("Dumboor Lake", "Dhalai", 23.700_000, 91.770_000),
    ("Pilak", "South Tripura", 23.233_300, 91.616_700),
    ("Chabimura", "Gomati", 23.490_000, 91.640_000),
    ("Matabari", "Gomati", 23.510_000, 91.500_000),
    ("Kailashahar", "Unakoti", 24.330_000, 92.000_000),
    ("Dharmanagar", "North Tripura", 24.370_000, 92.170_000),
    ("Ambassa", "Dhalai", 23.930_000, 91.850_000),
    ("Belonia", "South Tripura", 23.250_000, 91.450_000),
    ("Melaghar", "Sepahijala", 23.490_000, 91.320_000),
    ("Trishna Wildlife Sanctuary", "South Tripura", 23.230_000, 91.470_000),
    ("Rudrasagar Lake", "Sepahijala", 23.470_000, 91.300_000),
    ("Khowai", "Khowai", 24.060_000, 91.600_000),
    ("Baramura Eco Park", "Khowai", 23.860_000, 91.550_000),
    ("Kamalasagar", "Sepahijala", 23.770_000, 91.170_000),
];

/// The lodges the monolith started with, by destination index; more are made from
/// [`LODGE_WORDS`] at larger scales.
pub const LODGES: [(&str, usize, &str); 12] = [
    ("Gitanjali Tourist Guest House", 0, "Guest House"),
    ("Hotel Rajarshi", 0, "Hotel"),
    ("Gunabati Yatri Niwas", 1, "Guest House"),
    ("Unakoti Tourist Lodge", 2, "Guest House"),
    ("Sagarmahal Tourist Lodge", 3, "Guest House"),
    ("Eden Tourist Lodge", 4, "Guest House"),
    ("Jampui Orange Homestay", 4, "Homestay"),
    ("Sepahijala Eco Cottages", 5, "Eco Lodge"),
    ("Dumboor Tourist Lodge", 6, "Guest House"),
    ("Pilak Heritage Resort", 7, "Resort"),
    ("Chabimura Riverside Camp", 8, "Eco Lodge"),
    ("Hotel Tripura Sundari", 9, "Hotel"),
];

pub const LODGE_WORDS: [&str; 16] = [
    "Bamboo",
    "Orange Valley",
    "Hill View",
    "Lakeside",
    "Rubber Garden",
    "Palace View",
    "Green Leaf",
    "Sunrise",
    "Riverbank",
    "Tea Garden",
    "Royal",
    "Heritage",
    "Pineapple",
    "Kokborok",
    "Rose Valley",
    "Blue Hills",
];

/// The monolith's usual spelling of each accommodation kind.
pub const KINDS: [&str; 5] = ["Hotel", "Homestay", "Resort", "Guest House", "Eco Lodge"];
/// Spellings written by older releases and the back office (each importable).
pub const KIND_VARIANTS: [&str; 6] =
    ["Home Stay", "hotel ", "TOURIST LODGE", "eco-lodge", "guesthouse", "Resort & Spa"];

/// Room types: name, usual guests, tariff in rupees (paise allowed).
pub const ROOM_TYPES: [(&str, i16, i64); 7] = [
    ("Standard Double", 2, 1_800_00),
    ("Deluxe Double", 2, 2_750_00),
    ("AC Double", 2, 2_249_50),
    ("Family Suite", 4, 4_999_00),
    ("Dormitory Bed", 1, 450_00),
    ("Cottage", 3, 3_600_00),
    ("Tent", 2, 1_250_00),
];

/// Experiences: name, hours, price in paise.
pub const EXPERIENCES: [(&str, &str, i64); 12] = [
    ("Boat ride to Neermahal", "2.5", 450_00),
    ("Unakoti rock carvings guided walk", "3.0", 600_00),
    ("Jampui orange festival day", "8.0", 1_200_00),
    ("Sepahijala wildlife safari", "4.0", 900_00),
    ("Ujjayanta Palace heritage walk", "2.0", 300_00),
    ("Chabimura boat trip on the Gomati", "3.5", 750_00),
    ("Tripura Sundari temple visit", "1.5", 150_00),
    ("Bamboo craft workshop", "3.0", 800_00),
    ("Tribal cuisine evening", "2.5", 1_100_00),
    ("Dumboor lake sunrise", "2.0", 500_00),
    ("Pilak archaeological trail", "4.0", 650_00),
    ("Rudrasagar birdwatching", "3.0", 550_00),
];

/// Packages: name, nights, price per person in paise, destinations, experiences.
/// A package: name, nights, price per person in paise, destinations and experiences (indices).
pub type Package = (&'static str, i32, i64, &'static [usize], &'static [usize]);

pub const PACKAGES: [Package; 8] = [
    ("Tripura Heritage Circuit", 4, 18_500_00, &[0, 1, 3, 9], &[0, 4, 6]),
    ("Unakoti and Jampui Hills", 3, 14_200_00, &[2, 4, 10], &[1, 2]),
    ("Lakes of Tripura", 2, 9_800_00, &[6, 16, 3], &[0, 9, 11]),
    ("Neermahal Weekend", 1, 5_400_00, &[3, 14], &[0]),
    ("Temple Trail: Tripura Sundari and Bhubaneswari", 2, 7_900_00, &[1, 9], &[6]),
    ("Wild Tripura", 3, 12_600_00, &[5, 15, 18], &[3, 11]),
    ("Agartala Day Out", 0, 1_950_00, &[0], &[4, 8]),
    ("Grand Tripura", 7, 32_000_00, &[0, 1, 2, 3, 4, 6, 7], &[0, 1, 2, 4, 9, 10]),
];

pub const AMENITIES: [&str; 12] = [
    "Wi-Fi",
    "Breakfast",
    "Airport pickup",
    "Air conditioning",
    "Parking",
    "Local guide",
    "Boat tickets",
    "Entry tickets",
    "Hot water",
    "Bonfire",
    "Travel insurance",
    "All meals",
];

pub const FIRST_NAMES: [&str; 40] = [
    "Ananya",
    "Bikram",
    "Chandana",
    "Debashish",
    "Rahul",
    "Priya",
    "Sourav",
    "Moumita",
    "Arindam",
    "Rupa",
    "Joydeep",
    "Tanusree",
    "Subrata",
    "Payel",
    "Anirban",
    "Sutapa",
    "Kaushik",
    "Rimpa",
    "Biplab",
    "Mithu",
    "Amit",
    "Sneha",
    "Rohan",
    "Pooja",
    "Vikram",
    "Neha",
    "Arjun",
    "Kavya",
    "Sanjay",
    "Lakshmi",
    "Manik",
    "Jishnu",
    "Sudip",
    "Ratna",
    "Hemanta",
    "Lalit",
    "Bijoy",
    "Kamala",
    "Nandita",
    "Pradyot",
];

pub const SURNAMES: [&str; 28] = [
    "Debbarma",
    "Reang",
    "Jamatia",
    "Tripura",
    "Das",
    "Saha",
    "Deb",
    "Chakraborty",
    "Bhattacharjee",
    "Sen",
    "Roy",
    "Datta",
    "Paul",
    "Nath",
    "Majumder",
    "Sinha",
    "Ghosh",
    "Banik",
    "Acharjee",
    "Kalai",
    "Noatia",
    "Halam",
    "Sharma",
    "Singh",
    "Iyer",
    "Nair",
    "Reddy",
    "Gupta",
];

pub const MAIL_DOMAINS: [&str; 6] =
    ["gmail.com", "yahoo.co.in", "rediffmail.com", "outlook.com", "hotmail.com", "tripuranet.in"];

pub const PARTNERS: [&str; 12] = [
    "Agartala Tour and Travels",
    "Eastern Routes Holidays",
    "Hill Tracks Holidays",
    "Seven Sisters Journeys",
    "Brahmaputra Trails",
    "Kolkata Getaways",
    "Bengal Bay Tours",
    "Purbasha Travels",
    "Neer Holidays",
    "Rangamati Trips",
    "Blue Hills Expeditions",
    "Tripureswari Travels",
];

pub const IFSC_BANKS: [&str; 5] = ["SBIN", "UTIB", "HDFC", "PUNB", "TGBK"];

pub const USER_AGENTS: [&str; 4] = [
    "Mozilla/5.0 (Linux; Android 11; Redmi Note 9) AppleWebKit/537.36 Chrome/96.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/109.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 15_4 like Mac OS X) AppleWebKit/605.1.15 Version/15.4 Mobile Safari/604.1",
    "TripuraTourismApp/2.3.1 (Android 10)",
];

/// Lower-case words joined by hyphens: the slug the monolith's newer releases wrote, and the
/// one the import derives when a row has none.
pub fn slugify(name: &str) -> String {
    let mut slug = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    while slug.ends_with('-') {
        slug.pop();
    }
    slug
}

#[cfg(test)]
mod tests {
    #[test]
    fn slugs_are_lower_case_words_joined_by_hyphens() {
        assert_eq!(
            super::slugify("Temple Trail: Tripura Sundari and Bhubaneswari"),
            "temple-trail-tripura-sundari-and-bhubaneswari"
        );
        assert_eq!(super::slugify("  Hotel Rajarshi!"), "hotel-rajarshi");
    }
}
