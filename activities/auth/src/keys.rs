//! Token signing keys. One Ed25519 key signs; keys rotated out still verify until their
//! `verify_until` passes, so a rotation logs nobody out. The key ring is a JSON file mounted
//! from a Kubernetes Secret (`TT_AUTH_KEYS_FILE`); services that only verify tokens may be
//! given a file holding public keys only.
//!
//! ```json
//! { "signing_kid": "k-20261130",
//!   "keys": [ { "kid": "k-20261130", "private_key": "<base64 PKCS#8>" },
//!             { "kid": "k-20261030", "public_key": "<base64url raw>", "verify_until": "2026-11-30T12:20:00Z" } ] }
//! ```

use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use chrono::{DateTime, Utc};
use jsonwebtoken::{DecodingKey, EncodingKey};
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde::{Deserialize, Serialize};
use std::{path::Path, time::Duration};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("reading the key ring {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("the key ring is not valid: {0}")]
    Invalid(String),
}

/// The key ring's file form.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRingFile {
    /// The key that signs new tokens; absent in a verify-only file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_kid: Option<String>,
    pub keys: Vec<KeyEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyEntry {
    pub kid: String,
    /// Base64 PKCS#8 document of the Ed25519 key pair.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key: Option<String>,
    /// Base64url raw public key (derived from `private_key` when that is present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    /// After this instant tokens signed with the key are refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_until: Option<DateTime<Utc>>,
}

/// A public key tokens may be verified with.
#[derive(Clone)]
pub struct VerifyingKey {
    pub kid: String,
    /// Base64url raw Ed25519 public key, as a JWK's `x`.
    pub x: String,
    pub verify_until: Option<DateTime<Utc>>,
    pub(crate) decoding: DecodingKey,
}

impl VerifyingKey {
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.verify_until.is_none_or(|until| now < until)
    }
}

/// The loaded key ring.
#[derive(Clone)]
pub struct KeyRing {
    signing: Option<(String, EncodingKey)>,
    verifying: Vec<VerifyingKey>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self.verifying.iter().map(|k| k.kid.as_str()).collect();
        f.debug_struct("KeyRing").field("signing_kid", &self.signing_kid()).field("kids", &kids).finish()
    }
}

impl KeyRing {
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| KeyError::Io { path: path.display().to_string(), source })?;
        let file: KeyRingFile = serde_json::from_str(&text).map_err(|e| KeyError::Invalid(e.to_string()))?;
        Self::from_file(&file)
    }

    pub fn from_file(file: &KeyRingFile) -> Result<Self, KeyError> {
        let mut signing = None;
        let mut verifying = Vec::new();
        for entry in &file.keys {
            if entry.kid.trim().is_empty() || verifying.iter().any(|k: &VerifyingKey| k.kid == entry.kid) {
                return Err(KeyError::Invalid(format!("key ids must be present and unique (`{}`)", entry.kid)));
            }
            let x = match (&entry.private_key, &entry.public_key) {
                (Some(private), _) => {
                    let pkcs8 =
                        STANDARD.decode(private).map_err(|e| KeyError::Invalid(format!("{}: {e}", entry.kid)))?;
                    let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&pkcs8)
                        .map_err(|e| KeyError::Invalid(format!("{}: not an Ed25519 PKCS#8 key: {e}", entry.kid)))?;
                    if file.signing_kid.as_deref() == Some(entry.kid.as_str()) {
                        signing = Some((entry.kid.clone(), EncodingKey::from_ed_der(&pkcs8)));
                    }
                    URL_SAFE_NO_PAD.encode(pair.public_key().as_ref())
                }
                (None, Some(public)) => public.clone(),
                (None, None) => return Err(KeyError::Invalid(format!("{} has no key material", entry.kid))),
            };
            let decoding = DecodingKey::from_ed_components(&x)
                .map_err(|e| KeyError::Invalid(format!("{}: bad public key: {e}", entry.kid)))?;
            verifying.push(VerifyingKey { kid: entry.kid.clone(), x, verify_until: entry.verify_until, decoding });
        }
        if let Some(kid) = &file.signing_kid
            && signing.is_none()
        {
            return Err(KeyError::Invalid(format!("signing key `{kid}` has no private key in the ring")));
        }
        Ok(KeyRing { signing, verifying })
    }

    pub fn signing_kid(&self) -> Option<&str> {
        self.signing.as_ref().map(|(kid, _)| kid.as_str())
    }

    pub(crate) fn signing_key(&self) -> Option<(&str, &EncodingKey)> {
        self.signing.as_ref().map(|(kid, key)| (kid.as_str(), key))
    }

    /// The key `kid`, if it may still verify tokens at `now`.
    pub fn verifying_key(&self, kid: &str, now: DateTime<Utc>) -> Option<&VerifyingKey> {
        self.verifying.iter().find(|k| k.kid == kid && k.is_live(now))
    }

    /// The public keys still in use, as a JWKS document (RFC 7517 / RFC 8037).
    pub fn jwks(&self, now: DateTime<Utc>) -> serde_json::Value {
        let keys: Vec<_> = self
            .verifying
            .iter()
            .filter(|k| k.is_live(now))
            .map(|k| {
                serde_json::json!({ "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": k.kid, "x": k.x })
            })
            .collect();
        serde_json::json!({ "keys": keys })
    }
}

/// A new Ed25519 key entry named `kid`.
pub fn generate_key(kid: &str) -> Result<KeyEntry, KeyError> {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
        .map_err(|_| KeyError::Invalid("the system random source failed".into()))?;
    Ok(KeyEntry {
        kid: kid.to_string(),
        private_key: Some(STANDARD.encode(pkcs8.as_ref())),
        public_key: None,
        verify_until: None,
    })
}

/// A key id that sorts by creation date and never repeats between rings.
fn new_kid(now: DateTime<Utc>) -> String {
    format!("k-{}-{:08x}", now.format("%Y%m%d"), rand::random::<u32>())
}

/// A ring holding one fresh signing key.
pub fn new_ring_file(now: DateTime<Utc>) -> Result<KeyRingFile, KeyError> {
    let kid = new_kid(now);
    Ok(KeyRingFile { signing_kid: Some(kid.clone()), keys: vec![generate_key(&kid)?] })
}

/// Rotates `file`: a fresh key signs from now on; the previous signing key keeps verifying
/// for `grace` (at least the access-token lifetime, so no live token is orphaned) and loses
/// its private half; keys whose grace has passed are dropped.
pub fn rotate(file: &KeyRingFile, now: DateTime<Utc>, grace: Duration) -> Result<KeyRingFile, KeyError> {
    let ring = KeyRing::from_file(file)?;
    let grace = chrono::Duration::from_std(grace).map_err(|e| KeyError::Invalid(e.to_string()))?;
    let mut kid = new_kid(now);
    while file.keys.iter().any(|k| k.kid == kid) {
        kid = new_kid(now);
    }
    let mut keys = vec![generate_key(&kid)?];
    for old in &ring.verifying {
        if !old.is_live(now) {
            continue;
        }
        let verify_until = match old.verify_until {
            Some(until) => Some(until),
            None => Some(now + grace),
        };
        keys.push(KeyEntry { kid: old.kid.clone(), private_key: None, public_key: Some(old.x.clone()), verify_until });
    }
    Ok(KeyRingFile { signing_kid: Some(kid), keys })
}

/// The ring's live public keys only, signing nothing: for services that verify tokens.
pub fn public_only(file: &KeyRingFile) -> Result<KeyRingFile, KeyError> {
    let ring = KeyRing::from_file(file)?;
    let keys = ring
        .verifying
        .iter()
        .map(|k| KeyEntry {
            kid: k.kid.clone(),
            private_key: None,
            public_key: Some(k.x.clone()),
            verify_until: k.verify_until,
        })
        .collect();
    Ok(KeyRingFile { signing_kid: None, keys })
}

/// Writes `file` to `path` readable by its owner only.
pub fn write_ring_file(path: &Path, file: &KeyRingFile) -> Result<(), KeyError> {
    let io = |source| KeyError::Io { path: path.display().to_string(), source };
    let text = serde_json::to_string_pretty(file).map_err(|e| KeyError::Invalid(e.to_string()))?;
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    }
    std::fs::rename(&tmp, path).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rotated_ring_signs_with_the_new_key_and_verifies_the_old_one_for_the_grace_period() {
        let now = Utc::now();
        let first = new_ring_file(now).unwrap();
        let old_kid = first.signing_kid.clone().unwrap();
        let rotated = rotate(&first, now + chrono::Duration::seconds(1), Duration::from_secs(600)).unwrap();
        let ring = KeyRing::from_file(&rotated).unwrap();
        assert_ne!(ring.signing_kid(), Some(old_kid.as_str()));
        assert!(ring.verifying_key(&old_kid, now + chrono::Duration::seconds(500)).is_some());
        assert!(ring.verifying_key(&old_kid, now + chrono::Duration::seconds(700)).is_none());
        let old = rotated.keys.iter().find(|k| k.kid == old_kid).unwrap();
        assert!(old.private_key.is_none(), "a retired key keeps no private half");
        // Its grace passed: the next rotation drops it.
        let again = rotate(&rotated, now + chrono::Duration::seconds(700), Duration::from_secs(600)).unwrap();
        assert!(!again.keys.iter().any(|k| k.kid == old_kid));
        assert_eq!(ring.jwks(now)["keys"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn a_ring_naming_a_signing_key_without_its_private_half_is_refused() {
        let file = new_ring_file(Utc::now()).unwrap();
        let ring = KeyRing::from_file(&file).unwrap();
        let public_only = KeyRingFile {
            signing_kid: file.signing_kid.clone(),
            keys: vec![KeyEntry {
                kid: file.keys[0].kid.clone(),
                private_key: None,
                public_key: Some(ring.verifying[0].x.clone()),
                verify_until: None,
            }],
        };
        assert!(KeyRing::from_file(&public_only).is_err());
        let verify_only = KeyRingFile { signing_kid: None, ..public_only };
        assert!(KeyRing::from_file(&verify_only).unwrap().signing_kid().is_none());
        let derived = super::public_only(&file).unwrap();
        assert!(derived.signing_kid.is_none() && derived.keys.iter().all(|k| k.private_key.is_none()));
        assert_eq!(KeyRing::from_file(&derived).unwrap().verifying[0].x, ring.verifying[0].x);
    }
}
