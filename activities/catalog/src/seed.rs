//! A small demo catalog of real Tripura places, for development and tests. Loading it twice
//! changes nothing.

use sqlx::PgPool;
use uuid::Uuid;

pub struct DemoDestination {
    pub id: Uuid,
    pub code: &'static str,
    pub name: &'static str,
    pub district: &'static str,
    pub summary: &'static str,
}

pub struct DemoRoomType {
    pub room_type: &'static str,
    pub name: &'static str,
    pub max_occupancy: i32,
    pub base_tariff_paise: i64,
}

pub struct DemoAccommodation {
    pub id: Uuid,
    pub code: &'static str,
    pub destination: &'static str,
    pub name: &'static str,
    pub kind: &'static str,
    pub summary: &'static str,
    pub room_types: &'static [DemoRoomType],
}

const fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x7419_0000_0000_4000_8000_0000_0000_0000 | n)
}

pub const DESTINATIONS: &[DemoDestination] = &[
    DemoDestination {
        id: id(1),
        code: "agartala",
        name: "Agartala",
        district: "West Tripura",
        summary: "The capital, around Ujjayanta Palace and Heritage Park.",
    },
    DemoDestination {
        id: id(2),
        code: "neermahal",
        name: "Neermahal",
        district: "Sepahijala",
        summary: "The water palace on Rudrasagar Lake at Melaghar.",
    },
    DemoDestination {
        id: id(3),
        code: "unakoti",
        name: "Unakoti",
        district: "Unakoti",
        summary: "Rock-cut reliefs of Shiva in the forest near Kailashahar.",
    },
    DemoDestination {
        id: id(4),
        code: "jampui-hills",
        name: "Jampui Hills",
        district: "North Tripura",
        summary: "Orange orchards and Mizo villages along the ridge at Vanghmun.",
    },
    DemoDestination {
        id: id(5),
        code: "udaipur",
        name: "Udaipur",
        district: "Gomati",
        summary: "Tripura Sundari Temple, one of the 51 Shakti Peethas.",
    },
    DemoDestination {
        id: id(6),
        code: "dumboor-lake",
        name: "Dumboor Lake",
        district: "Dhalai",
        summary: "A lake of islands where the Raima and Sarma rivers meet.",
    },
];

pub const ACCOMMODATIONS: &[DemoAccommodation] = &[
    DemoAccommodation {
        id: id(101),
        code: "ujjayanta-heritage-hotel",
        destination: "agartala",
        name: "Ujjayanta Heritage Hotel",
        kind: "hotel",
        summary: "A short walk from Ujjayanta Palace and the state museum.",
        room_types: &[
            DemoRoomType {
                room_type: "deluxe_double",
                name: "Deluxe double",
                max_occupancy: 2,
                base_tariff_paise: 450_000,
            },
            DemoRoomType {
                room_type: "palace_view_suite",
                name: "Palace-view suite",
                max_occupancy: 3,
                base_tariff_paise: 950_000,
            },
        ],
    },
    DemoAccommodation {
        id: id(102),
        code: "rudrasagar-lakeside-resort",
        destination: "neermahal",
        name: "Rudrasagar Lakeside Resort",
        kind: "resort",
        summary: "Cottages on the shore of Rudrasagar Lake, facing Neermahal.",
        room_types: &[DemoRoomType {
            room_type: "lake_view_cottage",
            name: "Lake-view cottage",
            max_occupancy: 3,
            base_tariff_paise: 600_000,
        }],
    },
    DemoAccommodation {
        id: id(103),
        code: "vanghmun-orange-homestay",
        destination: "jampui-hills",
        name: "Vanghmun Orange Homestay",
        kind: "homestay",
        summary: "A family home among the orange orchards of the Jampui ridge.",
        room_types: &[DemoRoomType {
            room_type: "family_room",
            name: "Family room",
            max_occupancy: 4,
            base_tariff_paise: 220_000,
        }],
    },
    DemoAccommodation {
        id: id(104),
        code: "unakoti-forest-eco-lodge",
        destination: "unakoti",
        name: "Unakoti Forest Eco Lodge",
        kind: "eco_lodge",
        summary: "Bamboo cottages a few minutes from the Unakoti reliefs.",
        room_types: &[DemoRoomType {
            room_type: "bamboo_cottage",
            name: "Bamboo cottage",
            max_occupancy: 2,
            base_tariff_paise: 300_000,
        }],
    },
    DemoAccommodation {
        id: id(105),
        code: "matabari-pilgrim-guest-house",
        destination: "udaipur",
        name: "Matabari Pilgrim Guest House",
        kind: "guest_house",
        summary: "Simple rooms beside Tripura Sundari Temple and Kalyan Sagar.",
        room_types: &[DemoRoomType {
            room_type: "standard_double",
            name: "Standard double",
            max_occupancy: 2,
            base_tariff_paise: 180_000,
        }],
    },
];

/// Loads the demo destinations, accommodations and room types.
pub async fn load_demo_catalog(pool: &PgPool) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    for d in DESTINATIONS {
        sqlx::query(
            "INSERT INTO destinations (destination_id, code, name, district, summary, published)
             VALUES ($1, $2, $3, $4, $5, true) ON CONFLICT (code) DO NOTHING",
        )
        .bind(d.id)
        .bind(d.code)
        .bind(d.name)
        .bind(d.district)
        .bind(d.summary)
        .execute(&mut *tx)
        .await?;
    }
    for a in ACCOMMODATIONS {
        sqlx::query(
            "INSERT INTO accommodations (accommodation_id, code, destination_id, name, kind, summary, published)
             SELECT $1, $2, destination_id, $4, $5, $6, true FROM destinations WHERE code = $3
             ON CONFLICT (code) DO NOTHING",
        )
        .bind(a.id)
        .bind(a.code)
        .bind(a.destination)
        .bind(a.name)
        .bind(a.kind)
        .bind(a.summary)
        .execute(&mut *tx)
        .await?;
        for r in a.room_types {
            sqlx::query(
                "INSERT INTO accommodation_room_types (accommodation_id, room_type, name, max_occupancy, base_tariff_paise)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (accommodation_id, room_type) DO NOTHING",
            )
            .bind(a.id)
            .bind(r.room_type)
            .bind(r.name)
            .bind(r.max_occupancy)
            .bind(r.base_tariff_paise)
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await
}
