//! Shared state: one pool per context (a newtype each, so a handler cannot use the wrong
//! one) and the Temporal client.

use crate::settings::ApiSettings;
use axum::extract::FromRef;
use sqlx::PgPool;
use temporalio_client::Client;

#[derive(Clone)]
pub struct CatalogDb(pub PgPool);
#[derive(Clone)]
pub struct BookingDb(pub PgPool);
#[derive(Clone)]
pub struct InventoryDb(pub PgPool);
#[derive(Clone)]
pub struct Temporal(pub Client);

#[derive(Clone, FromRef)]
pub struct AppState {
    pub catalog: CatalogDb,
    pub booking: BookingDb,
    pub inventory: InventoryDb,
    pub temporal: Temporal,
}

impl AppState {
    pub async fn connect(settings: &ApiSettings) -> anyhow::Result<Self> {
        let temporal = platform::temporal::connect(&settings.temporal).await?;
        Self::new(settings, temporal)
    }

    pub fn new(settings: &ApiSettings, temporal: Client) -> anyhow::Result<Self> {
        let size = settings.db_pool_size;
        Ok(AppState {
            catalog: CatalogDb(platform::db::context_pool(&settings.catalog_database_url, catalog::SCHEMA, size)?),
            booking: BookingDb(platform::db::context_pool(&settings.booking_database_url, booking::SCHEMA, size)?),
            inventory: InventoryDb(platform::db::context_pool(&settings.inventory_database_url, inventory::SCHEMA, size)?),
            temporal: Temporal(temporal),
        })
    }
}
