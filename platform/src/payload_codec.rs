//! Encryption of Temporal payloads: travellers' names, emails and phones travel through
//! workflow inputs and activity arguments, and the Temporal server must store them only as
//! ciphertext.
//!
//! Each payload is sealed whole (its metadata and data, protobuf-encoded) with AES-256-GCM
//! under the active key of a [`PayloadKeys`] ring. The sealed payload says which key sealed it
//! (`encryption-key-id`), so a rotation adds a new active key in front and keeps the old ones
//! for reading what they sealed.
//!
//! In production the SDK's codec ([`EncryptionCodec::refusing_unsealed`]) refuses a payload
//! that is not sealed: a worker never takes plaintext from the server as if it were the
//! platform's own (the one exception is the trace context the SDK puts in headers, which
//! carries no personal data). In development ([`EncryptionCodec::accepting_unsealed`])
//! unsealed payloads (histories recorded before encryption) pass through unchanged.
//!
//! An all-zero key, or the placeholder of the Secret template (`change-me`), is refused in
//! every environment: a key anyone can read seals nothing.

use aes_gcm::{
    Aes256Gcm, KeyInit, Nonce,
    aead::{Aead, OsRng, Payload as Sealed, rand_core::RngCore},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use futures::{FutureExt, future::BoxFuture};
use prost::Message;
use std::{fmt, path::Path, str::FromStr, sync::Arc};
use temporalio_common::{
    data_converters::{PayloadCodec, PayloadConversionError, SerializationContextData},
    protos::temporal::api::common::v1::Payload,
};

/// The `encoding` of a sealed payload.
pub const ENCODING: &str = "binary/encrypted";
/// The metadata key naming the key that sealed a payload.
pub const KEY_ID: &str = "encryption-key-id";
const NONCE_LEN: usize = 12;
/// The key id of the placeholder entry of `k8s/secrets.template.yaml`.
pub const TEMPLATE_KEY_ID: &str = "change-me";

#[derive(Debug, thiserror::Error)]
pub enum PayloadKeyError {
    #[error("payload keys: {0}")]
    Invalid(String),
    #[error("payload keys file {path}: {source}")]
    File { path: String, source: std::io::Error },
}

/// The key ring: the first key seals, every key opens what it sealed.
#[derive(Clone)]
pub struct PayloadKeys {
    keys: Arc<Vec<(String, Aes256Gcm)>>,
}

impl fmt::Debug for PayloadKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Key ids only: the keys themselves never reach a log line.
        f.debug_struct("PayloadKeys").field("key_ids", &self.key_ids().collect::<Vec<_>>()).finish()
    }
}

impl FromStr for PayloadKeys {
    type Err = PayloadKeyError;

    /// `kid:base64key,kid2:base64key` (commas or line breaks between entries), the active
    /// key first; each key is 32 bytes, standard base64.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = |m: String| PayloadKeyError::Invalid(m);
        let mut keys: Vec<(String, Aes256Gcm)> = Vec::new();
        for entry in s.split([',', '\n']).map(str::trim).filter(|e| !e.is_empty() && !e.starts_with('#')) {
            let (kid, key) = entry.split_once(':').ok_or_else(|| invalid("each entry is `kid:base64key`".into()))?;
            let kid = kid.trim();
            if kid.is_empty() || !kid.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
                return Err(invalid(format!("key id `{kid}` must be letters, digits, `-`, `_` or `.`")));
            }
            if keys.iter().any(|(k, _)| k == kid) {
                return Err(invalid(format!("key id `{kid}` appears twice")));
            }
            if kid == TEMPLATE_KEY_ID {
                return Err(invalid(format!(
                    "key `{kid}` is the Secret template's placeholder: make a real key \
                     (`head -c 32 /dev/urandom | base64`) under a key id of your own"
                )));
            }
            let bytes = STANDARD.decode(key.trim()).map_err(|_| invalid(format!("key `{kid}` is not base64")))?;
            if !bytes.is_empty() && bytes.iter().all(|b| *b == 0) {
                return Err(invalid(format!(
                    "key `{kid}` is all zeros, a placeholder rather than a key: make a real one \
                     (`head -c 32 /dev/urandom | base64`)"
                )));
            }
            let cipher = Aes256Gcm::new_from_slice(&bytes)
                .map_err(|_| invalid(format!("key `{kid}` must be 32 bytes, not {}", bytes.len())))?;
            keys.push((kid.to_string(), cipher));
        }
        if keys.is_empty() {
            return Err(invalid("no key given".into()));
        }
        Ok(PayloadKeys { keys: Arc::new(keys) })
    }
}

impl PayloadKeys {
    /// Reads a key ring file in the same format as `TT_PAYLOAD_KEYS`.
    pub fn load(path: &Path) -> Result<Self, PayloadKeyError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| PayloadKeyError::File { path: path.display().to_string(), source })?;
        text.parse()
    }

    /// The id of the key that seals new payloads.
    pub fn active_key_id(&self) -> &str {
        &self.keys[0].0
    }

    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|(kid, _)| kid.as_str())
    }

    /// Seals `payload` under the active key; a sealed payload is left as it is.
    pub fn encrypt(&self, payload: Payload) -> Result<Payload, PayloadConversionError> {
        if is_encrypted(&payload) {
            return Ok(payload);
        }
        let (kid, cipher) = &self.keys[0];
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let plain = payload.encode_to_vec();
        let sealed = cipher
            .encrypt(Nonce::from_slice(&nonce), Sealed { msg: &plain, aad: kid.as_bytes() })
            .map_err(|_| codec_error("encrypting a payload failed".into()))?;
        let mut data = nonce.to_vec();
        data.extend_from_slice(&sealed);
        Ok(Payload {
            metadata: [
                ("encoding".to_string(), ENCODING.as_bytes().to_vec()),
                (KEY_ID.to_string(), kid.as_bytes().to_vec()),
            ]
            .into_iter()
            .collect(),
            data,
            ..Default::default()
        })
    }

    /// Opens a sealed payload with the key it names; any other payload passes through.
    pub fn decrypt(&self, payload: Payload) -> Result<Payload, PayloadConversionError> {
        if !is_encrypted(&payload) {
            return Ok(payload);
        }
        let kid = payload.metadata.get(KEY_ID).map(|k| String::from_utf8_lossy(k).into_owned()).unwrap_or_default();
        let (kid, cipher) = self
            .keys
            .iter()
            .find(|(k, _)| *k == kid)
            .ok_or_else(|| codec_error(format!("no payload key `{kid}` in the key ring")))?;
        if payload.data.len() < NONCE_LEN {
            return Err(codec_error("a sealed payload is too short".into()));
        }
        let (nonce, sealed) = payload.data.split_at(NONCE_LEN);
        let plain = cipher
            .decrypt(Nonce::from_slice(nonce), Sealed { msg: sealed, aad: kid.as_bytes() })
            .map_err(|_| codec_error(format!("payload sealed under `{kid}` does not open: altered or another key")))?;
        Payload::decode(plain.as_slice()).map_err(|e| codec_error(format!("an opened payload is not a payload: {e}")))
    }
}

/// Whether the payload was sealed by a [`PayloadKeys`] ring.
pub fn is_encrypted(payload: &Payload) -> bool {
    payload.metadata.get("encoding").is_some_and(|e| e == ENCODING.as_bytes())
}

fn codec_error(message: String) -> PayloadConversionError {
    PayloadConversionError::EncodingError(message.into())
}

/// Whether `payload` is the trace context the SDK's OpenTelemetry plugin puts in a header
/// (`{"traceparent": "…", "tracestate": "…"}` as plain JSON): clients put it in workflow
/// start headers after encoding, so it arrives unsealed, and it holds no personal data.
pub fn is_trace_context(payload: &Payload) -> bool {
    if payload.metadata.get("encoding").is_none_or(|e| e != b"json/plain") {
        return false;
    }
    let Ok(serde_json::Value::Object(fields)) = serde_json::from_slice::<serde_json::Value>(&payload.data) else {
        return false;
    };
    !fields.is_empty()
        && fields.iter().all(|(k, v)| matches!(k.as_str(), "traceparent" | "tracestate") && v.is_string())
}

/// The SDK's codec around a key ring: used by every client and worker of the platform.
#[derive(Clone, Debug)]
pub struct EncryptionCodec {
    keys: PayloadKeys,
    accept_unsealed: bool,
}

impl EncryptionCodec {
    /// Production's codec: decoding refuses a payload that is not sealed (but for a trace
    /// context header, see [`is_trace_context`]).
    pub fn refusing_unsealed(keys: PayloadKeys) -> Self {
        EncryptionCodec { keys, accept_unsealed: false }
    }

    /// Development's codec: unsealed payloads (older histories) are read as they are.
    pub fn accepting_unsealed(keys: PayloadKeys) -> Self {
        EncryptionCodec { keys, accept_unsealed: true }
    }

    /// The codec of `environment`.
    pub fn for_environment(keys: PayloadKeys, environment: crate::Environment) -> Self {
        if environment.is_development() { Self::accepting_unsealed(keys) } else { Self::refusing_unsealed(keys) }
    }

    /// Opens a sealed payload; an unsealed one passes only where this codec accepts it.
    pub fn open(&self, payload: Payload) -> Result<Payload, PayloadConversionError> {
        if !self.accept_unsealed && !is_encrypted(&payload) && !is_trace_context(&payload) {
            return Err(codec_error(
                "a payload is not sealed: refused in production (TT_ENVIRONMENT); \
                 every payload the platform writes is sealed with the payload keys"
                    .into(),
            ));
        }
        self.keys.decrypt(payload)
    }
}

/// What the SDK's codec answers: every payload converted, or the first error.
type Converted = BoxFuture<'static, Result<Vec<Payload>, PayloadConversionError>>;

impl PayloadCodec for EncryptionCodec {
    fn encode(&self, _context: &SerializationContextData, payloads: Vec<Payload>) -> Converted {
        convert_each(payloads, |p| self.keys.encrypt(p))
    }

    fn decode(&self, _context: &SerializationContextData, payloads: Vec<Payload>) -> Converted {
        convert_each(payloads, |p| self.open(p))
    }
}

/// Converts the payloads one by one, at once: sealing and opening need no I/O.
fn convert_each(
    payloads: Vec<Payload>,
    convert: impl Fn(Payload) -> Result<Payload, PayloadConversionError>,
) -> Converted {
    futures::future::ready(payloads.into_iter().map(convert).collect()).boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = "old:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";
    const NEW: &str = "new:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";

    fn plain(text: &str) -> Payload {
        Payload {
            metadata: [("encoding".to_string(), b"json/plain".to_vec())].into_iter().collect(),
            data: text.as_bytes().to_vec(),
            ..Default::default()
        }
    }

    #[test]
    fn a_sealed_payload_hides_its_data_and_opens_to_the_same_payload() {
        let keys: PayloadKeys = OLD.parse().unwrap();
        let sealed = keys.encrypt(plain("\"Ananya Debbarma\"")).unwrap();
        assert!(!String::from_utf8_lossy(&sealed.data).contains("Ananya"));
        assert!(!sealed.metadata.values().any(|v| v == b"json/plain"));
        assert_eq!(sealed.metadata[KEY_ID], b"old");
        assert_eq!(keys.decrypt(sealed).unwrap(), plain("\"Ananya Debbarma\""));
    }

    #[test]
    fn after_a_rotation_old_payloads_still_open_and_new_ones_use_the_new_key() {
        let before: PayloadKeys = OLD.parse().unwrap();
        let sealed_before = before.encrypt(plain("1")).unwrap();
        let after: PayloadKeys = format!("{NEW},{OLD}").parse().unwrap();
        assert_eq!(after.decrypt(sealed_before.clone()).unwrap(), plain("1"));
        assert_eq!(after.encrypt(plain("2")).unwrap().metadata[KEY_ID], b"new");
        // Retiring the old key for good makes its payloads unreadable, loudly.
        let retired: PayloadKeys = NEW.parse().unwrap();
        assert!(retired.decrypt(sealed_before).is_err());
    }

    #[test]
    fn plaintext_payloads_pass_through_decoding() {
        let keys: PayloadKeys = OLD.parse().unwrap();
        assert_eq!(keys.decrypt(plain("x")).unwrap(), plain("x"));
    }

    #[test]
    fn production_decoding_refuses_unsealed_payloads_but_for_trace_context() {
        let keys: PayloadKeys = OLD.parse().unwrap();
        let strict = EncryptionCodec::refusing_unsealed(keys.clone());
        let refused = strict.open(plain("\"ananya@example.in\"")).unwrap_err();
        assert!(refused.to_string().contains("not sealed"), "{refused}");
        assert!(strict.open(Payload::default()).is_err());
        assert!(strict.open(plain(r#"{"traceparent":"x","email":"ananya@example.in"}"#)).is_err());
        assert_eq!(strict.open(keys.encrypt(plain("1")).unwrap()).unwrap(), plain("1"));
        let trace = plain(r#"{"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}"#);
        assert_eq!(strict.open(trace.clone()).unwrap(), trace);
        let development = EncryptionCodec::accepting_unsealed(keys);
        assert_eq!(development.open(plain("x")).unwrap(), plain("x"));
    }

    #[test]
    fn all_zero_and_template_keys_are_refused() {
        let template = format!("{TEMPLATE_KEY_ID}:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
        let refused = template.parse::<PayloadKeys>().unwrap_err().to_string();
        assert!(refused.contains("template"), "{refused}");
        let zeros =
            "prod-1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".parse::<PayloadKeys>().unwrap_err().to_string();
        assert!(zeros.contains("all zeros"), "{zeros}");
        // A real key behind a placeholder does not make the ring acceptable either.
        assert!(format!("{NEW}\n{template}").parse::<PayloadKeys>().is_err());
        assert!(
            format!("{TEMPLATE_KEY_ID}:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=").parse::<PayloadKeys>().is_err()
        );
    }

    #[test]
    fn an_altered_payload_does_not_open() {
        let keys: PayloadKeys = OLD.parse().unwrap();
        let mut sealed = keys.encrypt(plain("x")).unwrap();
        let last = sealed.data.len() - 1;
        sealed.data[last] ^= 1;
        assert!(keys.decrypt(sealed).is_err());
    }

    #[test]
    fn bad_key_rings_are_refused_and_keys_never_print() {
        for bad in ["", "nokey", "a:notbase64!", "a:AAAA", &format!("{OLD},{OLD}"), "a b:AAAA"] {
            assert!(bad.parse::<PayloadKeys>().is_err(), "{bad}");
        }
        let keys: PayloadKeys = format!("{NEW}\n{OLD}\n").parse().unwrap();
        assert_eq!(format!("{keys:?}"), r#"PayloadKeys { key_ids: ["new", "old"] }"#);
        assert_eq!(keys.active_key_id(), "new");
    }
}
