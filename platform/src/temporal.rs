//! The Temporal client, configured from `TT_TEMPORAL_ADDRESS` and `TT_TEMPORAL_NAMESPACE`.

use crate::env::{self, EnvError};
use std::str::FromStr;
use temporalio_client::{Client, ClientOptions, Connection, ConnectionOptions};
use url::Url;

pub const DEFAULT_ADDRESS: &str = "http://127.0.0.1:7233";
pub const DEFAULT_NAMESPACE: &str = "default";

#[derive(Debug, Clone)]
pub struct TemporalSettings {
    pub address: Url,
    pub namespace: String,
}

impl TemporalSettings {
    pub fn from_env() -> Result<Self, EnvError> {
        Ok(TemporalSettings {
            address: env::var_or("TEMPORAL_ADDRESS", Url::from_str(DEFAULT_ADDRESS).expect("valid default"))?,
            namespace: env::var_or("TEMPORAL_NAMESPACE", DEFAULT_NAMESPACE.to_string())?,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot reach Temporal at {address}: {source}")]
    Connect { address: Url, source: Box<dyn std::error::Error + Send + Sync> },
}

pub async fn connect(settings: &TemporalSettings) -> Result<Client, ConnectError> {
    let fail = |e: Box<dyn std::error::Error + Send + Sync>| ConnectError::Connect {
        address: settings.address.clone(),
        source: e,
    };
    let connection = Connection::connect(ConnectionOptions::new(settings.address.clone()).build())
        .await
        .map_err(|e| fail(e.into()))?;
    Client::new(connection, ClientOptions::new(settings.namespace.clone()).build()).map_err(|e| fail(e.into()))
}
