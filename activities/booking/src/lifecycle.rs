//! The booking record's state machine. The saga moves a booking along it; the database
//! refuses any other move (migration 0006's trigger), so no code path can skip a step.
//!
//! ```text
//! pending_payment ──▶ confirmed ──▶ cancelled
//!        └──────────▶ failed
//! ```

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

/// Why a change was refused, in words an operator reads in the Temporal UI.
pub fn refusal(booking_ref: &str, current: &str, wanted: RecordStatus) -> String {
    match RecordStatus::parse(current) {
        Some(from) if !from.can_move_to(wanted) => {
            format!("booking {booking_ref} is {from}; a booking never moves from {from} to {wanted}")
        }
        _ => format!("booking {booking_ref} is {current}; it cannot become {wanted}"),
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
