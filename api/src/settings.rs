//! API settings from `TT_*` environment variables, with development defaults.

use platform::{EnvError, env::var_or, temporal::TemporalSettings};
use std::net::SocketAddr;

#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// `TT_API_ADDR`, default `127.0.0.1:8080`.
    pub addr: SocketAddr,
    pub temporal: TemporalSettings,
    /// Per context: `TT_<CONTEXT>_DATABASE_URL`, else `TT_DATABASE_URL`.
    pub catalog_database_url: String,
    pub booking_database_url: String,
    pub inventory_database_url: String,
    /// `TT_DB_POOL_SIZE`, per context pool.
    pub db_pool_size: u32,
}

impl ApiSettings {
    pub fn from_env() -> Result<Self, EnvError> {
        Ok(ApiSettings {
            addr: var_or("API_ADDR", SocketAddr::from(([127, 0, 0, 1], 8080)))?,
            temporal: TemporalSettings::from_env()?,
            catalog_database_url: platform::db::database_url("catalog")?,
            booking_database_url: platform::db::database_url("booking")?,
            inventory_database_url: platform::db::database_url("inventory")?,
            db_pool_size: var_or("DB_POOL_SIZE", 10)?,
        })
    }
}
