//! Money as integer minor units plus a currency. Never a float.

use serde::{Deserialize, Serialize};
use std::fmt;

/// ISO 4217 currency. Only rupees are sold today; the enum keeps the code honest about that.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Currency {
    #[serde(rename = "INR")]
    Inr,
}

impl Currency {
    pub fn code(self) -> &'static str {
        match self {
            Currency::Inr => "INR",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "INR" => Some(Currency::Inr),
            _ => None,
        }
    }
}

/// An amount in minor units (paise for INR).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Money {
    pub amount: i64,
    pub currency: Currency,
}

impl Money {
    pub const fn inr(paise: i64) -> Self {
        Money { amount: paise, currency: Currency::Inr }
    }

    pub fn zero(currency: Currency) -> Self {
        Money { amount: 0, currency }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.amount < 0 { "-" } else { "" };
        let abs = self.amount.unsigned_abs();
        write!(f, "{sign}{} {}.{:02}", self.currency.code(), abs / 100, abs % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_displays_rupees_and_paise() {
        assert_eq!(Money::inr(1_234_505).to_string(), "INR 12345.05");
        assert_eq!(Money::inr(-50).to_string(), "-INR 0.50");
    }

    #[test]
    fn money_serialises_as_amount_and_currency_code() {
        let json = serde_json::to_value(Money::inr(100)).unwrap();
        assert_eq!(json, serde_json::json!({"amount": 100, "currency": "INR"}));
        assert!(serde_json::from_value::<Money>(serde_json::json!({"amount": 1, "currency": "USD"})).is_err());
    }
}
