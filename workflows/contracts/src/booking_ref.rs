//! Booking references: the opaque business key travellers, operators and workflow ids use.

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// Crockford's base32 alphabet: no I, L, O or U, so a reference read over the phone survives.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const PREFIX: &str = "TRP-";
const CODE_LEN: usize = 6;

/// A booking reference such as `TRP-7K3M9Q`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct BookingRef(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("a booking reference looks like TRP-7K3M9Q (TRP- then six letters or digits)")]
pub struct InvalidBookingRef;

impl BookingRef {
    /// Parses a reference, accepting lower case and the look-alike letters a human may type.
    pub fn parse(raw: &str) -> Result<Self, InvalidBookingRef> {
        let upper = raw.trim().to_ascii_uppercase();
        let code = upper.strip_prefix(PREFIX).ok_or(InvalidBookingRef)?;
        if code.len() != CODE_LEN {
            return Err(InvalidBookingRef);
        }
        let normalised: String = code
            .chars()
            .map(|c| match c {
                'O' => '0',
                'I' | 'L' => '1',
                other => other,
            })
            .collect();
        if !normalised.bytes().all(|b| ALPHABET.contains(&b)) {
            return Err(InvalidBookingRef);
        }
        Ok(BookingRef(format!("{PREFIX}{normalised}")))
    }

    /// Builds a reference from random bits. The caller supplies the randomness so that this
    /// crate stays free of I/O and workflows could use their deterministic random source.
    pub fn from_random(bits: u64) -> Self {
        let mut code = String::with_capacity(CODE_LEN);
        for i in 0..CODE_LEN {
            code.push(ALPHABET[((bits >> (i * 5)) & 31) as usize] as char);
        }
        BookingRef(format!("{PREFIX}{code}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id of this booking's saga workflow: one workflow per booking, ever.
    pub fn workflow_id(&self) -> String {
        format!("booking-{}", self.0)
    }

    /// The booking reference of a booking saga's workflow id.
    pub fn from_workflow_id(workflow_id: &str) -> Option<Self> {
        workflow_id.strip_prefix("booking-").and_then(|raw| Self::parse(raw).ok())
    }

    /// The id of the workflow that repairs what this booking's stopped saga left behind.
    pub fn repair_workflow_id(&self) -> String {
        format!("repair-{}", self.0)
    }
}

impl fmt::Display for BookingRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a stored reference is read back (a database row's `TEXT` column): through `parse`,
/// so a malformed value fails the read instead of travelling on.
impl TryFrom<String> for BookingRef {
    type Error = InvalidBookingRef;
    fn try_from(raw: String) -> Result<Self, InvalidBookingRef> {
        BookingRef::parse(&raw)
    }
}

impl<'de> Deserialize<'de> for BookingRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        BookingRef::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_reference_parses_back_to_itself() {
        for bits in [0u64, 1, u64::MAX, 0xDEAD_BEEF_CAFE] {
            let r = BookingRef::from_random(bits);
            assert_eq!(BookingRef::parse(r.as_str()), Ok(r));
        }
    }

    #[test]
    fn parsing_accepts_lower_case_and_look_alike_letters() {
        assert_eq!(BookingRef::parse(" trp-7k3m9o ").unwrap().as_str(), "TRP-7K3M90");
        assert_eq!(BookingRef::parse("TRP-IL0000").unwrap().as_str(), "TRP-110000");
    }

    #[test]
    fn parsing_rejects_other_shapes() {
        for bad in ["", "TRP-", "TRP-12345", "TRP-1234567", "XYZ-123456", "TRP-12345U", "TRP-12 456"] {
            assert_eq!(BookingRef::parse(bad), Err(InvalidBookingRef), "{bad:?}");
        }
    }

    #[test]
    fn deserialising_goes_through_parse() {
        assert!(serde_json::from_str::<BookingRef>("\"TRP-ABCDEF\"").is_ok());
        assert!(serde_json::from_str::<BookingRef>("\"booking-1\"").is_err());
    }

    #[test]
    fn the_workflow_id_is_the_business_key() {
        let booking_ref = BookingRef::parse("TRP-ABCDEF").unwrap();
        assert_eq!(booking_ref.workflow_id(), "booking-TRP-ABCDEF");
        assert_eq!(BookingRef::from_workflow_id("booking-TRP-ABCDEF"), Some(booking_ref.clone()));
        assert_eq!(booking_ref.repair_workflow_id(), "repair-TRP-ABCDEF");
        assert_eq!(BookingRef::from_workflow_id("cancel-TRP-ABCDEF"), None);
    }
}
