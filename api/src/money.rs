//! Money as the API shows it: minor units and a currency code, never a float.

use contracts::Money;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An amount in minor units (paise) with its currency.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MoneyDto {
    /// Minor units: 1234500 is ₹12,345.00.
    #[schema(example = 472500)]
    pub amount: i64,
    #[schema(example = "INR")]
    pub currency: String,
}

impl From<Money> for MoneyDto {
    fn from(m: Money) -> Self {
        MoneyDto { amount: m.amount, currency: m.currency.code().to_string() }
    }
}

impl MoneyDto {
    pub(crate) fn new(amount: i64, currency: &str) -> Self {
        MoneyDto { amount, currency: currency.to_string() }
    }
}
