//! Development or production: `TT_ENVIRONMENT`.
//!
//! Production is the default. Only `TT_ENVIRONMENT=development` (set by `make up` and the
//! tests) lets a process start without its secrets: payload keys, the webhook secret, the
//! gateway key, the token keys. In production each is required, a missing one stops the
//! process at start-up with an error naming it, and Temporal payloads that are not sealed
//! are refused when read.

use crate::env::{self, EnvError};
use std::{fmt, str::FromStr};

/// Where a process runs, from `TT_ENVIRONMENT` (`production` by default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Environment {
    /// `make up` and the tests: secrets may be missing (development stand-ins are used, with
    /// a warning), and unsealed Temporal payloads are still read.
    Development,
    /// Everything else: every secret is required, unsealed payloads are refused.
    #[default]
    Production,
}

/// The variable that names the environment.
pub const VARIABLE: &str = "TT_ENVIRONMENT";

impl FromStr for Environment {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "development" => Ok(Environment::Development),
            "production" => Ok(Environment::Production),
            other => Err(format!("`{other}` is neither `development` nor `production`")),
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Environment::Development => "development",
            Environment::Production => "production",
        })
    }
}

impl Environment {
    /// `TT_ENVIRONMENT`, `production` when unset.
    pub fn from_env() -> Result<Self, EnvError> {
        env::var_or("ENVIRONMENT", Environment::Production)
    }

    pub fn is_development(self) -> bool {
        self == Environment::Development
    }

    /// The secret `TT_<name>` (or `TT_<name>_FILE`), required in production. In development
    /// a missing one is replaced by `development_value`, with a warning.
    pub fn secret(self, name: &str, development_value: &str, what: &str) -> Result<crate::Secret, EnvError> {
        match env::optional::<crate::Secret>(name)? {
            Some(secret) => Ok(secret),
            None if self.is_development() => {
                tracing::warn!("TT_{name} is not set: using the development value ({what})");
                Ok(crate::Secret::new(development_value))
            }
            None => Err(self.missing(&format!("TT_{name}"), what)),
        }
    }

    /// The error of a secret missing in production: it names the variable, what the secret
    /// is for, and the development switch.
    pub fn missing(self, name: &str, what: &str) -> EnvError {
        EnvError {
            name: name.to_string(),
            problem: format!(
                "not set, and required in production ({what}); set it (or {name}_FILE), \
                 or set {VARIABLE}=development on a development machine"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_two_names_parse_and_production_is_the_default() {
        assert_eq!("development".parse(), Ok(Environment::Development));
        assert_eq!(" production ".parse(), Ok(Environment::Production));
        assert!("dev".parse::<Environment>().is_err());
        assert_eq!(Environment::default(), Environment::Production);
    }

    #[test]
    fn a_missing_secret_names_the_variable_and_the_switch() {
        let e = Environment::Production.missing("TT_PAYLOAD_KEYS", "seals Temporal payloads");
        assert_eq!(e.name, "TT_PAYLOAD_KEYS");
        assert!(e.problem.contains("TT_ENVIRONMENT=development"), "{}", e.problem);
        assert!(e.problem.contains("TT_PAYLOAD_KEYS_FILE"), "{}", e.problem);
    }
}
