//! Operations on the platform's data: apply every context's migrations, load demo data,
//! rebuild the monolith's database to import from ([`legacy`]);
//! and the local stack's proxy that serves the Temporal Web UI with the payload codec
//! ([`web_ui_proxy`]).
//!
//! Architecture invariant: each context's data is changed only through that context's
//! crate (its `MIGRATOR`, its store and seed functions); this crate only sequences them.

pub mod legacy;
pub mod roles;
pub mod schema_version;
pub mod web_ui_proxy;

use chrono::{Datelike, Duration, NaiveDate};
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

/// Applies every context's pending migrations, each in its own schema, connecting with
/// `url_of(context)`: the DDL role's URL of that context's database (`migrate` reads
/// `TT_<CONTEXT>_MIGRATE_DATABASE_URL`, `TT_MIGRATE_DATABASE_URL`, then the context's own
/// URL). Running it again changes nothing. Creates the databases when `create_databases`
/// is set (development). The contexts' login roles are [`roles::apply`]'s.
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
    // Every published package departs each Saturday, with seats for two full groups.
    let saturdays = (0..days).map(|d| first_night + Duration::days(d)).filter(|d| d.weekday() == chrono::Weekday::Sat);
    for night in saturdays {
        for package in catalog::seed::PACKAGES.iter().filter(|p| p.published) {
            let seats = package.max_group_size * 2;
            inventory::store::set_departure(inventory_db, package.id, night, seats).await?;
        }
    }
    Ok(())
}

/// The password of every demo user (development only; README lists the users).
pub const DEMO_PASSWORD: &str = "Tripura-demo-2026";

/// One demo user per role, by email. The asset manager manages the first demo property.
pub const DEMO_USERS: [(&str, &str, &str); 4] = [
    ("traveller@demo.tripura.travel", "Ananya Debbarma", auth::roles::TRAVELLER),
    ("manager@demo.tripura.travel", "Bikram Reang", auth::roles::ASSET_MANAGER),
    ("operator@demo.tripura.travel", "Chandana Jamatia", auth::roles::OPERATOR),
    ("admin@demo.tripura.travel", "Debashish Tripura", auth::roles::ADMIN),
];

/// Creates the demo users with [`DEMO_PASSWORD`] (existing ones are left as they are).
pub async fn seed_demo_users(auth_db: &sqlx::PgPool) -> anyhow::Result<()> {
    let passwords = auth::password::Passwords::default();
    for (email, name, role) in DEMO_USERS {
        let (user_id, _) = auth::accounts::ensure_user(auth_db, &passwords, email, name, DEMO_PASSWORD, role).await?;
        if role == auth::roles::ASSET_MANAGER {
            auth::store::assign(auth_db, user_id, catalog::seed::ACCOMMODATIONS[0].id, None).await?;
        }
    }
    Ok(())
}

/// Creates the first admin from configuration, as a new account, if no admin exists yet:
/// production never starts with a default password. An existing account with that e-mail
/// is never made admin (registration is public: whoever registered the address first would
/// hold the role); it is an error that names what to do. Running it again once the admin
/// exists changes nothing. Returns whether an admin was created.
pub async fn bootstrap_admin(auth_db: &sqlx::PgPool, email: &str, password: &str) -> anyhow::Result<bool> {
    if auth::store::role_is_held(auth_db, auth::roles::ADMIN).await? {
        return Ok(false);
    }
    let taken = || {
        anyhow::anyhow!(
            "an account with the e-mail of TT_BOOTSTRAP_ADMIN_EMAIL already exists and is not an admin; \
             it is not made admin, since whoever registered it would hold the role. Name an address \
             nobody has registered, or delete that account first"
        )
    };
    let normalized =
        auth::accounts::normalize_email(email).map_err(|e| anyhow::anyhow!("TT_BOOTSTRAP_ADMIN_EMAIL: {e}"))?;
    if auth::store::find_user_by_email(auth_db, &normalized).await?.is_some() {
        return Err(taken());
    }
    let passwords = auth::password::Passwords::default();
    match auth::accounts::create_user(auth_db, &passwords, email, "Administrator", password, auth::roles::ADMIN).await {
        Ok(_) => Ok(true),
        // Registered meanwhile.
        Err(auth::AuthError::EmailTaken) => Err(taken()),
        Err(e) => Err(anyhow::anyhow!("creating the first admin: {e}")),
    }
}
