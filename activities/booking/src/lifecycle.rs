//! The booking record's state machine. The saga moves a booking along it; the database
//! refuses any other move (migration 0006's trigger), so no code path can skip a step.
//!
//! ```text
//! pending_payment ──▶ confirmed ──▶ cancelled
//!        └──────────▶ failed
//! ```

use sqlx::{
    Postgres,
    encode::IsNull,
    error::BoxDynError,
    postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef},
};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordStatus {
    PendingPayment,
    Confirmed,
    Failed,
    Cancelled,
}

impl RecordStatus {
    pub const ALL: [RecordStatus; 4] =
        [RecordStatus::PendingPayment, RecordStatus::Confirmed, RecordStatus::Failed, RecordStatus::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            RecordStatus::PendingPayment => "pending_payment",
            RecordStatus::Confirmed => "confirmed",
            RecordStatus::Failed => "failed",
            RecordStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        RecordStatus::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn can_move_to(self, next: RecordStatus) -> bool {
        use RecordStatus::*;
        matches!((self, next), (PendingPayment, Confirmed | Failed) | (Confirmed, Cancelled))
    }
}

impl fmt::Display for RecordStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Stored as its `as_str` text (the `bookings_status_known` constraint lists the values);
/// reading an unknown value is an error, never a silent default.
impl sqlx::Type<Postgres> for RecordStatus {
    fn type_info() -> PgTypeInfo {
        <&str as sqlx::Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <&str as sqlx::Type<Postgres>>::compatible(ty)
    }
}

impl<'r> sqlx::Decode<'r, Postgres> for RecordStatus {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&str as sqlx::Decode<Postgres>>::decode(value)?;
        RecordStatus::parse(text).ok_or_else(|| format!("unknown booking status {text:?}").into())
    }
}

impl sqlx::Encode<'_, Postgres> for RecordStatus {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <&str as sqlx::Encode<Postgres>>::encode(self.as_str(), buf)
    }
}

/// Why a change was refused, in words an operator reads in the Temporal UI.
pub fn refusal(booking_ref: &str, current: RecordStatus, wanted: RecordStatus) -> String {
    if current.can_move_to(wanted) {
        format!("booking {booking_ref} is {current}; it cannot become {wanted}")
    } else {
        format!("booking {booking_ref} is {current}; a booking never moves from {current} to {wanted}")
    }
}

#[cfg(test)]
mod tests {
    use super::RecordStatus::{self, *};

    #[test]
    fn only_the_saga_s_moves_are_allowed() {
        let allowed: Vec<(RecordStatus, RecordStatus)> = RecordStatus::ALL
            .into_iter()
            .flat_map(|a| RecordStatus::ALL.into_iter().map(move |b| (a, b)))
            .filter(|(a, b)| a.can_move_to(*b))
            .collect();
        assert_eq!(allowed, vec![(PendingPayment, Confirmed), (PendingPayment, Failed), (Confirmed, Cancelled)]);
        assert_eq!(RecordStatus::parse("cancelled"), Some(Cancelled));
        assert_eq!(RecordStatus::parse("expired"), None);
    }
}
