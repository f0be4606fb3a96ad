//! Typed settings from environment variables, all prefixed `TT_`.

use std::{fmt, str::FromStr};

pub const PREFIX: &str = "TT_";

#[derive(Debug, thiserror::Error)]
#[error("environment variable {name}: {problem}")]
pub struct EnvError {
    pub name: String,
    pub problem: String,
}

/// Reads `TT_<name>`, falling back to `default` when unset or empty.
pub fn var_or<T: FromStr>(name: &str, default: T) -> Result<T, EnvError>
where
    T::Err: fmt::Display,
{
    match optional::<T>(name)? {
        Some(v) => Ok(v),
        None => Ok(default),
    }
}

/// Reads `TT_<name>` if set and non-empty.
pub fn optional<T: FromStr>(name: &str) -> Result<Option<T>, EnvError>
where
    T::Err: fmt::Display,
{
    let key = format!("{PREFIX}{name}");
    match std::env::var(&key) {
        Ok(raw) if !raw.trim().is_empty() => {
            raw.trim().parse().map(Some).map_err(|e: T::Err| EnvError { name: key, problem: e.to_string() })
        }
        _ => Ok(None),
    }
}

/// A value that must never reach a log line: `Debug` and `Display` print a placeholder.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_prints_its_value() {
        assert_eq!(format!("{:?}", Secret::new("hunter2")), "Secret(***)");
    }
}
