//! Access tokens: short-lived EdDSA JWTs naming the user (`sub`) and the login they belong
//! to (`sid`, the refresh-token family), so logging out ends them at once.

use crate::keys::KeyRing;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};
use std::{sync::Arc, time::Duration};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: Uuid,
    /// The session family (one login) the token belongs to.
    pub sid: Uuid,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: Uuid,
}

#[derive(Debug, Clone)]
pub struct TokenSettings {
    pub issuer: String,
    pub audience: String,
    pub access_ttl: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is malformed")]
    Malformed,
    #[error("the token's algorithm is not accepted")]
    WrongAlgorithm,
    #[error("the token names no key, or a key that is no longer trusted")]
    UnknownKey,
    #[error("the token's signature does not verify")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token was issued for someone else")]
    WrongIssuerOrAudience,
    #[error("this service holds no signing key")]
    CannotSign,
}

/// An issued access token.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub expires_in: Duration,
    pub expires_at: DateTime<Utc>,
}

/// Issues and verifies access tokens with one key ring.
#[derive(Debug, Clone)]
pub struct Tokens {
    ring: Arc<KeyRing>,
    settings: TokenSettings,
}

/// Appended to the access tokens' audience to make the codec tokens'.
const CODEC_AUDIENCE_SUFFIX: &str = "/codec";

/// Clock skew tolerated between replicas.
const LEEWAY_SECS: u64 = 30;

impl Tokens {
    pub fn new(ring: KeyRing, settings: TokenSettings) -> Self {
        Tokens { ring: Arc::new(ring), settings }
    }

    pub fn ring(&self) -> &KeyRing {
        &self.ring
    }

    pub fn settings(&self) -> &TokenSettings {
        &self.settings
    }

    pub fn issue(&self, user_id: Uuid, session_family: Uuid, now: DateTime<Utc>) -> Result<IssuedToken, TokenError> {
        self.issue_for(&self.settings.audience, self.settings.access_ttl, user_id, session_family, now)
    }

    /// The audience of codec tokens: the Web UI's codec cookie holds one, which only the
    /// codec routes accept and every other route refuses ([`Tokens::verify`]).
    pub fn codec_audience(&self) -> String {
        format!("{}{CODEC_AUDIENCE_SUFFIX}", self.settings.audience)
    }

    /// A codec token (see [`Tokens::codec_audience`]) living `ttl`.
    pub fn issue_codec(
        &self,
        user_id: Uuid,
        session_family: Uuid,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Result<IssuedToken, TokenError> {
        self.issue_for(&self.codec_audience(), ttl, user_id, session_family, now)
    }

    fn issue_for(
        &self,
        audience: &str,
        access_ttl: Duration,
        user_id: Uuid,
        session_family: Uuid,
        now: DateTime<Utc>,
    ) -> Result<IssuedToken, TokenError> {
        let (kid, key) = self.ring.signing_key().ok_or(TokenError::CannotSign)?;
        let ttl = chrono::Duration::from_std(access_ttl).map_err(|_| TokenError::CannotSign)?;
        let expires_at = now + ttl;
        let claims = AccessClaims {
            iss: self.settings.issuer.clone(),
            aud: audience.to_string(),
            sub: user_id,
            sid: session_family,
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: expires_at.timestamp(),
            jti: Uuid::new_v4(),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(kid.to_string());
        let token = jsonwebtoken::encode(&header, &claims, key).map_err(|_| TokenError::CannotSign)?;
        Ok(IssuedToken { token, expires_in: access_ttl, expires_at })
    }

    /// Verifies `token`: the algorithm is pinned to EdDSA, the key must be one of the ring's
    /// live keys, and `exp`, `nbf`, `iss`, `aud` and `sub` must all be present and right.
    /// A codec token is refused here: its audience is another.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<AccessClaims, TokenError> {
        self.verify_for(&self.settings.audience, token, now)
    }

    /// Verifies a codec token (see [`Tokens::codec_audience`]) as [`Tokens::verify`] does an
    /// access token; an access token is refused here.
    pub fn verify_codec(&self, token: &str, now: DateTime<Utc>) -> Result<AccessClaims, TokenError> {
        self.verify_for(&self.codec_audience(), token, now)
    }

    fn verify_for(&self, audience: &str, token: &str, now: DateTime<Utc>) -> Result<AccessClaims, TokenError> {
        // `alg: none` and unknown algorithms fail here, before any key is looked at.
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if header.alg != Algorithm::EdDSA {
            return Err(TokenError::WrongAlgorithm);
        }
        let kid = header.kid.ok_or(TokenError::UnknownKey)?;
        let key = self.ring.verifying_key(&kid, now).ok_or(TokenError::UnknownKey)?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.algorithms = vec![Algorithm::EdDSA];
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.set_issuer(&[&self.settings.issuer]);
        validation.set_audience(&[audience]);
        use jsonwebtoken::errors::ErrorKind;
        jsonwebtoken::decode::<AccessClaims>(token, &key.decoding, &validation).map(|data| data.claims).map_err(|e| {
            match e.kind() {
                ErrorKind::InvalidSignature | ErrorKind::InvalidEcdsaKey | ErrorKind::InvalidKeyFormat => {
                    TokenError::BadSignature
                }
                ErrorKind::ExpiredSignature => TokenError::Expired,
                ErrorKind::ImmatureSignature => TokenError::NotYetValid,
                ErrorKind::InvalidIssuer | ErrorKind::InvalidAudience => TokenError::WrongIssuerOrAudience,
                ErrorKind::InvalidAlgorithm => TokenError::WrongAlgorithm,
                _ => TokenError::Malformed,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{KeyRing, new_ring_file, rotate};

    fn tokens() -> Tokens {
        let ring = KeyRing::from_file(&new_ring_file(Utc::now()).unwrap()).unwrap();
        Tokens::new(
            ring,
            TokenSettings { issuer: "iss".into(), audience: "aud".into(), access_ttl: Duration::from_secs(600) },
        )
    }

    #[test]
    fn an_issued_token_verifies_and_carries_its_user_and_session() {
        let tokens = tokens();
        let (user, sid) = (Uuid::new_v4(), Uuid::new_v4());
        let issued = tokens.issue(user, sid, Utc::now()).unwrap();
        let claims = tokens.verify(&issued.token, Utc::now()).unwrap();
        assert_eq!((claims.sub, claims.sid), (user, sid));
        assert_eq!(claims.exp - claims.iat, 600);
    }

    #[test]
    fn codec_tokens_and_access_tokens_are_not_interchangeable() {
        let tokens = tokens();
        let (user, sid) = (Uuid::new_v4(), Uuid::new_v4());
        let codec = tokens.issue_codec(user, sid, Duration::from_secs(60), Utc::now()).unwrap();
        let access = tokens.issue(user, sid, Utc::now()).unwrap();
        assert_eq!(tokens.verify(&codec.token, Utc::now()), Err(TokenError::WrongIssuerOrAudience));
        assert_eq!(tokens.verify_codec(&access.token, Utc::now()), Err(TokenError::WrongIssuerOrAudience));
        let claims = tokens.verify_codec(&codec.token, Utc::now()).unwrap();
        assert_eq!((claims.sub, claims.aud.as_str(), claims.exp - claims.iat), (user, "aud/codec", 60));
    }

    #[test]
    fn a_token_of_another_ring_or_after_expiry_is_refused() {
        let (a, b) = (tokens(), tokens());
        let issued = a.issue(Uuid::new_v4(), Uuid::new_v4(), Utc::now()).unwrap();
        // Another ring has other key ids: the key is unknown.
        assert_eq!(b.verify(&issued.token, Utc::now()), Err(TokenError::UnknownKey));
        let stale = a.issue(Uuid::new_v4(), Uuid::new_v4(), Utc::now() - chrono::Duration::hours(1)).unwrap();
        assert_eq!(a.verify(&stale.token, Utc::now()), Err(TokenError::Expired));
        let future = a.issue(Uuid::new_v4(), Uuid::new_v4(), Utc::now() + chrono::Duration::hours(1)).unwrap();
        assert_eq!(a.verify(&future.token, Utc::now()), Err(TokenError::NotYetValid));
    }

    #[test]
    fn tokens_of_a_rotated_out_key_verify_only_during_the_grace_period() {
        let now = Utc::now();
        let file = new_ring_file(now - chrono::Duration::seconds(5)).unwrap();
        let settings =
            TokenSettings { issuer: "iss".into(), audience: "aud".into(), access_ttl: Duration::from_secs(600) };
        let before = Tokens::new(KeyRing::from_file(&file).unwrap(), settings.clone());
        let token = before.issue(Uuid::new_v4(), Uuid::new_v4(), now).unwrap().token;
        let after =
            Tokens::new(KeyRing::from_file(&rotate(&file, now, Duration::from_secs(60)).unwrap()).unwrap(), settings);
        assert!(after.verify(&token, now + chrono::Duration::seconds(30)).is_ok());
        assert_eq!(after.verify(&token, now + chrono::Duration::seconds(90)), Err(TokenError::UnknownKey));
    }
}
