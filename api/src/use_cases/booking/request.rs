//! The booking request as clients send it, and its validation into domain values.

use crate::error::ApiError;
use chrono::NaiveDate;
use contracts::{
    StayDates,
    saga::{LeadTraveller, PaymentMethod},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The most rooms one booking may take.
pub(crate) const MAX_ROOMS: u32 = 9;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateBookingRequest {
    /// Public code of the accommodation (see `GET /api/catalog/accommodations`).
    #[schema(example = "ujjayanta-heritage-hotel", format = "non-blank")]
    pub accommodation: String,
    #[schema(example = "deluxe_double", format = "non-blank")]
    pub room_type: String,
    #[schema(value_type = String, format = Date, example = "2026-12-24")]
    pub check_in: NaiveDate,
    /// Exclusive: the morning the traveller leaves.
    #[schema(value_type = String, format = Date, example = "2026-12-26")]
    pub check_out: NaiveDate,
    /// Rooms of this type, 1 to 9. Defaults to 1.
    #[serde(default = "one_room")]
    #[schema(example = 1, minimum = 1, maximum = 9)]
    pub rooms: u32,
    /// Everyone staying, at least 1 and at most the rooms' total occupancy.
    #[schema(example = 2, minimum = 1)]
    pub guests: u32,
    pub lead_traveller: TravellerDto,
    pub payment: PaymentDto,
}

fn one_room() -> u32 {
    1
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TravellerDto {
    /// 1 to 100 characters, not only spaces.
    #[schema(example = "Ananya Debbarma", max_length = 100, format = "non-blank")]
    pub name: String,
    #[schema(example = "ananya@example.in", format = Email, max_length = 254)]
    pub email: String,
    /// 7 to 15 digits, optionally after a `+`; spaces, dashes and brackets are ignored.
    #[schema(example = "+919876543210", pattern = "^[ ()-]*\\+?(?:[ ()-]*[0-9]){7,15}[ ()-]*$")]
    pub phone: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PaymentDto {
    /// `checkout`: the traveller pays on the gateway's hosted checkout (the booking shows
    /// its `checkout` while it waits); `card`: a card token charged server to server.
    #[schema(example = "checkout", pattern = "^(checkout|card)$")]
    pub method: String,
    /// For `card` only: a gateway token. In the sandbox, `tok_success` pays and
    /// `tok_decline` is declined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "tok_success", max_length = 64, pattern = "^tok_[A-Za-z0-9_]+$")]
    pub card_token: Option<String>,
}

/// A request whose fields are each valid on their own; catalog checks come next.
#[derive(Debug, Clone)]
pub(crate) struct ValidRequest {
    pub dates: StayDates,
    pub rooms: u32,
    pub guests: u32,
    pub lead_traveller: LeadTraveller,
    pub payment_method: PaymentMethod,
}

/// Validates everything that needs no database, with `today` the date in Tripura.
pub(crate) fn validate(req: &CreateBookingRequest, today: NaiveDate) -> Result<ValidRequest, ApiError> {
    if req.accommodation.trim().is_empty() {
        return Err(ApiError::invalid_field(
            "missing_accommodation",
            "accommodation",
            "Name the accommodation to book",
        ));
    }
    if req.room_type.trim().is_empty() {
        return Err(ApiError::invalid_field("missing_room_type", "room_type", "Name the room type to book"));
    }
    let dates = StayDates::parse(req.check_in, req.check_out, today)
        .map_err(|e| ApiError::invalid_field(e.code(), "check_in", e.to_string()))?;
    if req.rooms == 0 || req.rooms > MAX_ROOMS {
        return Err(ApiError::invalid_field("invalid_rooms", "rooms", format!("Book between 1 and {MAX_ROOMS} rooms")));
    }
    if req.guests == 0 {
        return Err(ApiError::invalid_field("invalid_guests", "guests", "At least one guest must stay"));
    }
    Ok(ValidRequest {
        dates,
        rooms: req.rooms,
        guests: req.guests,
        lead_traveller: validate_traveller(&req.lead_traveller)?,
        payment_method: validate_payment(&req.payment)?,
    })
}

pub(super) fn validate_traveller(t: &TravellerDto) -> Result<LeadTraveller, ApiError> {
    let name = t.name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid_field(
            "invalid_traveller_name",
            "lead_traveller.name",
            "Give the lead traveller's name (1 to 100 characters)",
        ));
    }
    let email = contracts::EmailAddress::parse(&t.email).map_err(|_| {
        ApiError::invalid_field(
            "invalid_traveller_email",
            "lead_traveller.email",
            "Give a valid email address for the lead traveller",
        )
    })?;
    let phone: String = t.phone.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')')).collect();
    let digits = phone.strip_prefix('+').unwrap_or(&phone);
    if !(7..=15).contains(&digits.len()) || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(ApiError::invalid_field(
            "invalid_traveller_phone",
            "lead_traveller.phone",
            "Give a phone number of 7 to 15 digits, optionally starting with +",
        ));
    }
    Ok(LeadTraveller { name, email: email.into_string(), phone })
}

pub(super) fn validate_payment(p: &PaymentDto) -> Result<PaymentMethod, ApiError> {
    match (p.method.as_str(), &p.card_token) {
        ("checkout", None) => return Ok(PaymentMethod::checkout()),
        ("checkout", Some(_)) => {
            return Err(ApiError::invalid_field(
                "unexpected_card_token",
                "payment.card_token",
                "A checkout payment takes no card token: the traveller enters the card on the gateway's page",
            ));
        }
        ("card", _) => {}
        _ => {
            return Err(ApiError::invalid_field(
                "unsupported_payment_method",
                "payment.method",
                "Pay with `checkout` (the gateway's page) or `card` (a card token)",
            ));
        }
    }
    let token = p.card_token.clone().unwrap_or_default();
    let token_ok = token.len() <= 64
        && token
            .strip_prefix("tok_")
            .is_some_and(|t| !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    if !token_ok {
        return Err(ApiError::invalid_field(
            "invalid_card_token",
            "payment.card_token",
            "The card token must be a gateway token such as tok_…",
        ));
    }
    Ok(PaymentMethod::card(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> CreateBookingRequest {
        serde_json::from_value(serde_json::json!({
            "accommodation": "ujjayanta-heritage-hotel", "room_type": "deluxe_double",
            "check_in": "2026-12-24", "check_out": "2026-12-26", "guests": 2,
            "lead_traveller": { "name": "  Ananya   Debbarma ", "email": "Ananya@Example.in", "phone": "+91 98765-43210" },
            "payment": { "method": "card", "card_token": "tok_success" }
        }))
        .unwrap()
    }

    fn today() -> NaiveDate {
        "2026-12-01".parse().unwrap()
    }

    fn code(r: Result<ValidRequest, ApiError>) -> &'static str {
        match r {
            Err(ApiError::Invalid { code, .. }) => code,
            other => panic!("expected a 422, got {other:?}"),
        }
    }

    #[test]
    fn a_good_request_is_normalised() {
        let valid = validate(&request(), today()).unwrap();
        assert_eq!(valid.rooms, 1);
        assert_eq!(valid.lead_traveller.name, "Ananya Debbarma");
        assert_eq!(valid.lead_traveller.email, "ananya@example.in");
        assert_eq!(valid.lead_traveller.phone, "+919876543210");
    }

    #[test]
    fn each_bad_field_gets_its_own_code() {
        type Change = Box<dyn Fn(&mut CreateBookingRequest)>;
        let cases: Vec<(&str, Change)> = vec![
            ("check_in_in_past", Box::new(|r| r.check_in = "2026-11-30".parse().unwrap())),
            ("check_out_not_after_check_in", Box::new(|r| r.check_out = r.check_in)),
            ("invalid_rooms", Box::new(|r| r.rooms = 0)),
            ("invalid_rooms", Box::new(|r| r.rooms = 10)),
            ("invalid_guests", Box::new(|r| r.guests = 0)),
            ("invalid_traveller_name", Box::new(|r| r.lead_traveller.name = "   ".into())),
            ("invalid_traveller_email", Box::new(|r| r.lead_traveller.email = "ananya@localhost".into())),
            ("invalid_traveller_phone", Box::new(|r| r.lead_traveller.phone = "call me".into())),
            ("unsupported_payment_method", Box::new(|r| r.payment.method = "cash".into())),
            ("invalid_card_token", Box::new(|r| r.payment.card_token = Some("4111111111111111".into()))),
            ("missing_accommodation", Box::new(|r| r.accommodation = " ".into())),
        ];
        for (expected, change) in cases {
            let mut r = request();
            change(&mut r);
            assert_eq!(code(validate(&r, today())), expected);
        }
    }

    #[test]
    fn unknown_fields_are_refused_by_the_parser() {
        let mut json = serde_json::to_value(request()).unwrap();
        json["coupon"] = serde_json::json!("FREE");
        assert!(serde_json::from_value::<CreateBookingRequest>(json).is_err());
    }
}
