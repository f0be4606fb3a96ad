//! The Temporal client, configured from `TT_TEMPORAL_ADDRESS` and `TT_TEMPORAL_NAMESPACE`,
//! sealing payloads with the key ring of `TT_PAYLOAD_KEYS` or `TT_PAYLOAD_KEYS_FILE`.
//!
//! Every process connects here, and workers inherit their client's data converter, so the
//! API, the workflows and the activities all see plaintext while the server stores ciphertext.
//! Failures are sealed too: their message and stack trace move into an encoded attribute
//! (the server keeps the message `Encoded failure`), and their details are sealed payloads.
//!
//! In production (`TT_ENVIRONMENT`, see [`crate::environment`]) a process without payload
//! keys does not start, and unsealed payloads are refused when read.

use crate::Environment;
use crate::env::{self, EnvError};
use crate::payload_codec::{EncryptionCodec, PayloadKeys};
use std::sync::Arc;
use std::{path::PathBuf, str::FromStr};
use temporalio_client::{Client, ClientOptions, Connection, ConnectionOptions, GrpcCompression};
use temporalio_common::data_converters::{DataConverter, DefaultFailureConverter, PayloadConverter};
use url::Url;

pub const DEFAULT_ADDRESS: &str = "http://127.0.0.1:7233";
pub const DEFAULT_NAMESPACE: &str = "default";

#[derive(Debug, Clone)]
pub struct TemporalSettings {
    pub address: Url,
    pub namespace: String,
    /// Seals every payload sent to the server; `None` sends plaintext (with a warning), which
    /// only development allows.
    pub payload_keys: Option<PayloadKeys>,
    /// `TT_ENVIRONMENT`: in production, payloads read from the server must be sealed.
    pub environment: Environment,
    /// Whether gRPC messages to and from the server are gzip-compressed (`TT_TEMPORAL_GRPC_GZIP`,
    /// off by default). The SDK compresses by default, which suits a server across a slow
    /// link; the platform runs next to its cluster, and most of what it sends is payloads
    /// the codec has sealed, which do not compress. Compressing them only costs CPU on both
    /// sides, and the server's CPU is what bounds a booking's pace.
    pub grpc_gzip: bool,
}

impl TemporalSettings {
    /// From `TT_TEMPORAL_*`, `TT_PAYLOAD_KEYS` (or its file) and `TT_ENVIRONMENT`: in
    /// production, missing payload keys are an error.
    pub fn from_env() -> Result<Self, EnvError> {
        Self::from_env_for(true)
    }

    /// As [`Self::from_env`]; a process that never sends a payload to Temporal (an API
    /// process whose routes only check that Temporal answers) may have no keys in production.
    pub fn from_env_for(sends_payloads: bool) -> Result<Self, EnvError> {
        let environment = Environment::from_env()?;
        let payload_keys = payload_keys_from_env()?;
        if payload_keys.is_none() && sends_payloads && !environment.is_development() {
            return Err(environment.missing(
                "TT_PAYLOAD_KEYS",
                "the key ring sealing Temporal payloads, which carry travellers' personal data",
            ));
        }
        Ok(TemporalSettings {
            address: env::var_or("TEMPORAL_ADDRESS", Url::from_str(DEFAULT_ADDRESS).expect("valid default"))?,
            namespace: env::var_or("TEMPORAL_NAMESPACE", DEFAULT_NAMESPACE.to_string())?,
            payload_keys,
            environment,
            grpc_gzip: grpc_gzip_from_env()?,
        })
    }

    /// The data converter of this process's client and workers.
    pub fn data_converter(&self) -> DataConverter {
        data_converter_for(self.payload_keys.as_ref(), self.environment)
    }
}

/// `TT_TEMPORAL_GRPC_GZIP` (`true` or `false`, default `false`).
pub fn grpc_gzip_from_env() -> Result<bool, EnvError> {
    env::var_or("TEMPORAL_GRPC_GZIP", false)
}

/// `TT_PAYLOAD_KEYS` (`kid:base64key,…`, the active key first), else the file named by
/// `TT_PAYLOAD_KEYS_FILE` in the same format. This pair predates the `_FILE` convention of
/// [`env::optional`] and keeps its own rule: `TT_PAYLOAD_KEYS`, when set, wins over the file
/// (development sets the file by default and lets the variable override it).
fn payload_keys_from_env() -> Result<Option<PayloadKeys>, EnvError> {
    let problem =
        |name: &str, e: &dyn std::fmt::Display| EnvError { name: format!("TT_{name}"), problem: e.to_string() };
    if let Some(keys) = env::variable_only::<crate::Secret>("PAYLOAD_KEYS")? {
        return keys.expose().parse().map(Some).map_err(|e| problem("PAYLOAD_KEYS", &e));
    }
    match env::optional::<PathBuf>("PAYLOAD_KEYS_FILE")? {
        Some(path) => PayloadKeys::load(&path).map(Some).map_err(|e| problem("PAYLOAD_KEYS_FILE", &e)),
        None => Ok(None),
    }
}

/// A data converter reading as development does (unsealed payloads accepted): JSON
/// payloads and failures, sealed when there are keys. For replaying recorded histories.
pub fn data_converter(keys: Option<&PayloadKeys>) -> DataConverter {
    data_converter_for(keys, Environment::Development)
}

/// The data converter of every client and worker: JSON payloads, sealed when there are keys,
/// failures' messages and stack traces sealed with them; in production, unsealed payloads
/// are refused when read.
pub fn data_converter_for(keys: Option<&PayloadKeys>, environment: Environment) -> DataConverter {
    match keys {
        Some(keys) => DataConverter::new(
            PayloadConverter::default(),
            // `true`: a failure's message and stack trace go into its `encoded_attributes`
            // payload, which the codec seals; the server sees the message `Encoded failure`.
            DefaultFailureConverter::new(true),
            EncryptionCodec::for_environment(keys.clone(), environment),
        ),
        None => DataConverter::default(),
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
    match &settings.payload_keys {
        Some(keys) => tracing::debug!(active_key = keys.active_key_id(), "Temporal payloads are encrypted"),
        None => {
            tracing::warn!("no TT_PAYLOAD_KEYS: Temporal payloads, personal data included, are stored in plaintext")
        }
    }
    let compression = if settings.grpc_gzip { GrpcCompression::Gzip } else { GrpcCompression::None };
    let connection =
        Connection::connect(ConnectionOptions::new(settings.address.clone()).grpc_compression(compression).build())
            .await
            .map_err(|e| fail(e.into()))?;
    let mut options = ClientOptions::new(settings.namespace.clone()).data_converter(settings.data_converter());
    if crate::telemetry::exporting_traces() {
        // Workflow starts carry the caller's trace in a header; workers continue it in the
        // workflow's and each activity's spans.
        options = options.plugin(temporalio_sdk::opentelemetry::OpenTelemetryPlugin::builder().build());
        // After the OpenTelemetry plugin, so it runs inside the activity's span.
        options = options.plugin(
            temporalio_sdk::SimplePlugin::builder("activity-log-span")
                .activity_inbound_interceptors(vec![
                    Arc::new(ActivityLogSpan) as Arc<dyn temporalio_sdk::interceptors::ActivityInboundInterceptor>
                ])
                .build(),
        );
    }
    let options = options.build();
    Client::new(connection, options).map_err(|e| fail(e.into()))
}

/// Puts every activity's log lines in a span that names the activity, its workflow and the
/// trace it continues. The SDK runs activities inside an OpenTelemetry context taken from the
/// workflow's headers, which `tracing` spans do not see by themselves: this span joins it, so
/// the activities' own spans and log lines carry the booking's trace id.
struct ActivityLogSpan;

impl temporalio_sdk::interceptors::ActivityInboundInterceptor for ActivityLogSpan {
    fn execute_activity<'a>(
        &'a self,
        input: temporalio_sdk::interceptors::ExecuteActivityInput,
        next: temporalio_sdk::interceptors::Next<
            'a,
            temporalio_sdk::interceptors::ExecuteActivityInput,
            temporalio_sdk::interceptors::ExecuteActivityOutput<'a>,
        >,
    ) -> temporalio_sdk::interceptors::ExecuteActivityOutput<'a> {
        use tracing::Instrument;
        use tracing_opentelemetry::OpenTelemetrySpanExt;
        let info = input.activity_info();
        let span = tracing::info_span!(
            "activity",
            activity = %info.activity_type,
            workflow_id = info.workflow_id.as_deref().unwrap_or_default(),
            trace_id = tracing::field::Empty,
        );
        Box::pin(async move {
            // Polled inside the OpenTelemetry interceptor's context, not when called.
            let _ = span.set_parent(opentelemetry::Context::current());
            if let Some(trace_id) = crate::telemetry::trace_id(&span) {
                span.record("trace_id", trace_id);
            }
            next.run(input).instrument(span).await
        })
    }
}
