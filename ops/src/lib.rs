//! Operations on the platform's data: apply every context's migrations, load demo data.
//!
//! Architecture invariant: each context's data is changed only through that context's
//! crate (its `MIGRATOR`, its store and seed functions); this crate only sequences them.

use chrono::{Duration, NaiveDate};
use sqlx::migrate::Migrator;

/// Every context with its schema and migrations, in the order they are applied.
pub const CONTEXTS: [(&str, &Migrator); 6] = [
    (auth::SCHEMA, &auth::MIGRATOR),
    (catalog::SCHEMA, &catalog::MIGRATOR),
    (inventory::SCHEMA, &inventory::MIGRATOR),
    (booking::SCHEMA, &booking::MIGRATOR),
    (payment::SCHEMA, &payment::MIGRATOR),
    (partner::SCHEMA, &partner::MIGRATOR),
];

/// Applies every context's pending migrations, each in its own schema and with its own
/// database URL (`TT_<CONTEXT>_DATABASE_URL`, else `database_url`). Running it again
/// changes nothing. Creates the databases when `create_databases` is set (development).
pub async fn migrate_all(
    url_of: impl Fn(&str) -> anyhow::Result<String>,
    create_databases: bool,
) -> anyhow::Result<()> {
    for (schema, migrator) in CONTEXTS {
        let url = url_of(schema)?;
        if create_databases {
            platform::db::ensure_database(&url).await?;
        }
        platform::db::migrate_context(&url, schema, migrator).await?;
        tracing::info!(schema, "migrations applied");
    }
    Ok(())
}

/// Loads the demo catalog (package seasons around `first_night`) and gives every demo room
/// type `rooms_per_night` rooms for `days` nights from `first_night`. Safe to run again:
/// allotments are set, not added.
pub async fn seed_demo(
    catalog_db: &sqlx::PgPool,
    inventory_db: &sqlx::PgPool,
    first_night: NaiveDate,
    days: i64,
    rooms_per_night: i32,
) -> anyhow::Result<()> {
    catalog::seed::load_demo_catalog(catalog_db, first_night).await?;
    let last = first_night + Duration::days(days);
    for accommodation in catalog::seed::ACCOMMODATIONS {
        for room in accommodation.room_types {
            inventory::store::set_allotment(
                inventory_db,
                accommodation.id,
                room.room_type,
                first_night,
                last,
                rooms_per_night,
            )
            .await?;
        }
    }
    Ok(())
}
