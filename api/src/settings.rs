//! API settings from `TT_*` environment variables, with development defaults.

use platform::{EnvError, env::var_or, temporal::TemporalSettings};
use std::{net::SocketAddr, str::FromStr};

/// The route families one API process can serve. Production runs one deployment per service
/// behind the Ingress (`TT_API_SERVICES=bookings`); development runs them all in one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiService {
    Auth,
    Catalog,
    Inventory,
    Bookings,
    Payments,
    Partners,
}

impl ApiService {
    pub const ALL: [ApiService; 6] = [
        ApiService::Auth,
        ApiService::Catalog,
        ApiService::Inventory,
        ApiService::Bookings,
        ApiService::Payments,
        ApiService::Partners,
    ];
}

impl FromStr for ApiService {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // Context names and route prefixes both work: `booking` and `bookings` are the same.
        Ok(match s.trim() {
            "auth" => ApiService::Auth,
            "catalog" => ApiService::Catalog,
            "inventory" => ApiService::Inventory,
            "booking" | "bookings" => ApiService::Bookings,
            "payment" | "payments" => ApiService::Payments,
            "partner" | "partners" => ApiService::Partners,
            other => {
                return Err(format!(
                    "unknown API service `{other}` (auth, catalog, inventory, booking, payment, partner)"
                ));
            }
        })
    }
}

/// A comma-separated list of services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiServices(pub(crate) Vec<ApiService>);

impl FromStr for ApiServices {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let services = s.split(',').filter(|p| !p.trim().is_empty()).map(str::parse).collect::<Result<Vec<_>, _>>()?;
        if services.is_empty() { Err("name at least one API service".into()) } else { Ok(ApiServices(services)) }
    }
}

#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// `TT_API_ADDR`, default `127.0.0.1:8080`.
    pub addr: SocketAddr,
    /// `TT_API_SERVICES`, default every service.
    pub services: Vec<ApiService>,
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
            services: var_or("API_SERVICES", ApiServices(ApiService::ALL.to_vec()))?.0,
            temporal: TemporalSettings::from_env()?,
            catalog_database_url: platform::db::database_url("catalog")?,
            booking_database_url: platform::db::database_url("booking")?,
            inventory_database_url: platform::db::database_url("inventory")?,
            db_pool_size: var_or("DB_POOL_SIZE", 10)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_parse_from_context_names_or_prefixes() {
        assert_eq!("booking, catalog".parse(), Ok(ApiServices(vec![ApiService::Bookings, ApiService::Catalog])));
        assert_eq!("partners".parse::<ApiServices>().map(|s| s.0), Ok(vec![ApiService::Partners]));
        assert!("billing".parse::<ApiServices>().is_err());
        assert!(" , ".parse::<ApiServices>().is_err());
    }
}
