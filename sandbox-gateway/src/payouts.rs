//! The payouts API, shaped like the real gateway's (RazorpayX) composite payout: one call
//! names the beneficiary (`contact`), their bank account (`fund_account`) and the amount,
//! and pays it. The `X-Payout-Idempotency` key is mandatory, as on the real gateway: the same
//! key and request answer the payout the first call made, so a caller whose answer was lost
//! retries without paying twice. The sandbox pays bank accounts only, at once, from an
//! account that never runs low; the `fail_payouts` switch plays the bank refusing.

use crate::{
    api::Merchant,
    errors::{Answer, Body, GatewayError},
    faults::PayoutFailure,
    ids::{new_id, new_utr, now},
    state::{BankAccount, Books, Contact, FundAccount, Payout, PayoutKey, Sandbox, StatusDetails},
};
use axum::{
    Json, Router,
    extract::{Path, Query, State, rejection::QueryRejection},
    http::HeaderMap,
    routing::get,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

pub(crate) fn routes() -> Router<Sandbox> {
    Router::new().route("/v1/payouts", get(list_payouts).post(create_payout)).route("/v1/payouts/{id}", get(get_payout))
}

const IDEMPOTENCY_HEADER: &str = "X-Payout-Idempotency";
/// Upper case only: the real gateway's modes are case-sensitive.
const MODES: &[&str] = &["NEFT", "RTGS", "IMPS", "UPI"];
/// The purposes every account has. The real gateway takes others once they are created on
/// its dashboard, which the sandbox has none of.
const PURPOSES: &[&str] = &["refund", "cashback", "payout", "salary", "utility bill", "vendor bill"];
/// The contact types every account has, for the same reason.
const CONTACT_TYPES: &[&str] = &["vendor", "customer", "employee", "self"];

const PROCESSED: StatusDetails = StatusDetails {
    description: "Payout is processed and the money has been credited into the beneficiary's account.",
    source: "beneficiary_bank",
    reason: "payout_processed",
};
const BANK_REFUSED: StatusDetails = StatusDetails {
    description: "Payout rejected by the beneficiary bank. Please contact the beneficiary bank.",
    source: "beneficiary_bank",
    reason: "beneficiary_bank_rejected",
};

/// The composite payout request. Unknown fields are refused by name (a misspelt optional
/// field would otherwise be dropped without a word), which also keeps the non-composite
/// form (`fund_account_id`) out: the sandbox does not take it.
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct NewPayout {
    /// The merchant's own account the money leaves, not the beneficiary's.
    account_number: String,
    amount: i64,
    currency: String,
    mode: String,
    purpose: String,
    fund_account: NewFundAccount,
    /// Taken for the real API's sake: the sandbox's account never runs low.
    queue_if_low_balance: Option<bool>,
    reference_id: Option<String>,
    narration: Option<String>,
    notes: Option<Map<String, Value>>,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct NewFundAccount {
    account_type: String,
    bank_account: NewBankAccount,
    contact: NewContact,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct NewBankAccount {
    name: String,
    ifsc: String,
    account_number: String,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct NewContact {
    name: String,
    email: Option<String>,
    /// The phone number.
    contact: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    reference_id: Option<String>,
    notes: Option<Map<String, Value>>,
}

async fn create_payout(
    merchant: Merchant,
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Body(request): Body<NewPayout>,
) -> Answer<Payout> {
    let key = idempotency_key(&headers)?;
    validate(&request)?;
    // The request as read, not as sent: a retry that only spaces or orders its fields
    // differently is the same request.
    let read = serde_json::to_value(&request).map_err(|error| GatewayError::invalid(error.to_string()))?;
    let mut books = sandbox.books();
    let book_key = (merchant.key_id, key);
    if let Some(earlier) = books.payout_keys.get(&book_key) {
        if earlier.request != read {
            return Err(GatewayError::invalid_field(
                IDEMPOTENCY_HEADER,
                "Different request with the same idempotency key has already been processed: \
                 a key stands for one payout request.",
            ));
        }
        return books
            .payouts
            .get(&earlier.payout_id)
            .cloned()
            .map(Json)
            .ok_or_else(|| GatewayError::not_found(&earlier.payout_id));
    }
    // Drawn only for a payout about to be made, so a replay does not use up the switch.
    let failure = sandbox.faults.fail_payout();
    let payout = make_payout(&mut books, request, &book_key.1, failure);
    if failure.is_some() {
        tracing::info!(payout = %payout.id, status = %payout.status, "fault: the beneficiary's bank refuses it");
    }
    books.payout_keys.insert(book_key, PayoutKey { request: read, payout_id: payout.id.clone() });
    Ok(Json(payout))
}

/// The header is mandatory, 4 to 36 letters, digits, hyphens, underscores or spaces, as on
/// the real gateway; a v4 UUID fits.
fn idempotency_key(headers: &HeaderMap) -> Result<String, GatewayError> {
    let Some(value) = headers.get(IDEMPOTENCY_HEADER) else {
        return Err(GatewayError::invalid_field(
            IDEMPOTENCY_HEADER,
            "Idempotency key is missing. Include idempotency header and key in the request.",
        ));
    };
    let key = value.to_str().unwrap_or_default();
    let valid = (4..=36).contains(&key.chars().count())
        && key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ' '));
    if !valid {
        return Err(GatewayError::invalid_field(
            IDEMPOTENCY_HEADER,
            "The idempotency key must be 4 to 36 letters, digits, hyphens, underscores or spaces.",
        ));
    }
    Ok(key.to_owned())
}

/// The real gateway's rules for each field, each refusal naming its field.
fn validate(request: &NewPayout) -> Result<(), GatewayError> {
    let refuse = |field: &'static str, description: &str| Err(GatewayError::invalid_field(field, description));
    if !(1..=35).contains(&request.account_number.len()) || !alphanumeric(&request.account_number) {
        return refuse(
            "account_number",
            "The account_number must be the letters and digits of the merchant's own account to pay from.",
        );
    }
    if request.amount < 100 {
        return refuse("amount", "The amount must be at least INR 1.00 (100 paise).");
    }
    if request.currency != "INR" {
        return refuse("currency", "Payouts are made in INR only.");
    }
    if !MODES.contains(&request.mode.as_str()) {
        return refuse("mode", "The mode must be NEFT, RTGS, IMPS or UPI, in upper case.");
    }
    if !PURPOSES.contains(&request.purpose.as_str()) {
        return refuse("purpose", "The purpose must be refund, cashback, payout, salary, utility bill or vendor bill.");
    }
    if request.reference_id.as_ref().is_some_and(|r| r.chars().count() > 40) {
        return refuse("reference_id", "The reference_id must be at most 40 characters.");
    }
    let narration_ok = |n: &String| n.chars().count() <= 30 && n.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ');
    if !request.narration.as_ref().is_none_or(narration_ok) {
        return refuse("narration", "The narration must be at most 30 letters, digits and spaces.");
    }
    check_notes("notes", request.notes.as_ref())?;

    let fund_account = &request.fund_account;
    if fund_account.account_type != "bank_account" {
        return refuse("fund_account.account_type", "The sandbox pays bank accounts only: bank_account.");
    }
    let bank_account = &fund_account.bank_account;
    let holder = &bank_account.name;
    if !holder_name(holder, 4, 120) || !holder.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '.') {
        return refuse(
            "fund_account.bank_account.name",
            "The account holder's name must be 4 to 120 letters, digits, spaces and ’ - _ / ( ) . \
             and end with a letter, a digit or a full stop.",
        );
    }
    if !ifsc(&bank_account.ifsc) {
        return refuse(
            "fund_account.bank_account.ifsc",
            "The IFSC must be 11 characters: four capital letters, a 0, \
             and six capital letters or digits (HDFC0001234).",
        );
    }
    let number = &bank_account.account_number;
    if !(5..=35).contains(&number.len()) || !alphanumeric(number) {
        return refuse(
            "fund_account.bank_account.account_number",
            "The beneficiary's account number must be 5 to 35 letters and digits.",
        );
    }
    let contact = &fund_account.contact;
    if !holder_name(&contact.name, 3, 50) {
        return refuse(
            "fund_account.contact.name",
            "The contact's name must be 3 to 50 letters, digits, spaces and ’ - _ / ( ) .",
        );
    }
    if !contact.kind.as_ref().is_none_or(|kind| CONTACT_TYPES.contains(&kind.as_str())) {
        return refuse("fund_account.contact.type", "The contact's type must be vendor, customer, employee or self.");
    }
    if !contact.email.as_ref().is_none_or(|email| email_like(email)) {
        return refuse("fund_account.contact.email", "The contact's email is invalid.");
    }
    if !contact.contact.as_ref().is_none_or(|phone| phone_like(phone)) {
        return refuse(
            "fund_account.contact.contact",
            "The contact's phone number must be 8 to 15 digits, with an optional leading +.",
        );
    }
    if contact.reference_id.as_ref().is_some_and(|r| r.chars().count() > 40) {
        return refuse(
            "fund_account.contact.reference_id",
            "The contact's reference_id must be at most 40 characters.",
        );
    }
    check_notes("fund_account.contact.notes", contact.notes.as_ref())
}

fn alphanumeric(text: &str) -> bool {
    text.chars().all(|c| c.is_ascii_alphanumeric())
}

fn holder_name(name: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&name.chars().count())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || " ’'-_/().".contains(c))
}

/// `^[A-Z]{4}0[A-Z0-9]{6}$`: the bank, a zero, the branch.
fn ifsc(code: &str) -> bool {
    let bytes = code.as_bytes();
    bytes.len() == 11
        && bytes[..4].iter().all(u8::is_ascii_uppercase)
        && bytes[4] == b'0'
        && bytes[5..].iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

fn email_like(email: &str) -> bool {
    email.split_once('@').is_some_and(|(user, domain)| {
        !user.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
    }) && !email.contains(char::is_whitespace)
}

fn phone_like(phone: &str) -> bool {
    let digits = phone.strip_prefix('+').unwrap_or(phone);
    (8..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit())
}

/// At most 15 notes, each a string, number or flag of at most 256 characters.
fn check_notes(field: &'static str, notes: Option<&Map<String, Value>>) -> Result<(), GatewayError> {
    let Some(notes) = notes else { return Ok(()) };
    let note_ok = |value: &Value| match value {
        Value::String(text) => text.chars().count() <= 256,
        Value::Number(_) | Value::Bool(_) | Value::Null => true,
        Value::Array(_) | Value::Object(_) => false,
    };
    if notes.len() > 15 || !notes.iter().all(|(key, value)| key.chars().count() <= 256 && note_ok(value)) {
        return Err(GatewayError::invalid_field(
            field,
            "Notes are at most 15 pairs of a key and a value of 256 characters at most.",
        ));
    }
    Ok(())
}

/// The notes as the real gateway answers them: the object sent, or `[]` when there were none.
fn notes_value(notes: Option<Map<String, Value>>) -> Value {
    match notes {
        Some(notes) if !notes.is_empty() => Value::Object(notes),
        _ => json!([]),
    }
}

/// Makes the payout: the contact and fund account are reused when their details match ones
/// already recorded (as the real gateway does, so paying a partner twice does not make two
/// contacts), and the payout is processed at once unless the bank refuses it.
fn make_payout(books: &mut Books, request: NewPayout, key: &str, failure: Option<PayoutFailure>) -> Payout {
    let NewPayout {
        account_number, amount, currency, mode, purpose, fund_account, reference_id, narration, notes, ..
    } = request;
    let contact = contact_for(books, fund_account.contact);
    let fund_account = fund_account_for(books, contact, fund_account.bank_account);
    let (status, utr, details) = match failure {
        None => ("processed", Some(new_utr(&mode)), PROCESSED),
        // No money reaches the beneficiary, so there is no transfer to reference.
        Some(failure) => (failure.status(), None, BANK_REFUSED),
    };
    let payout = Payout {
        id: new_id("pout"),
        entity: "payout",
        fund_account_id: fund_account.id.clone(),
        fund_account: Some(fund_account),
        amount,
        currency,
        notes: notes_value(notes),
        fees: 0,
        tax: 0,
        status: status.into(),
        purpose,
        utr,
        mode,
        reference_id,
        narration,
        batch_id: None,
        failure_reason: failure.map(|_| details.description.to_owned()),
        status_details: Some(details),
        created_at: now(),
        account_number,
        idempotency_key: key.to_owned(),
    };
    books.payouts.insert(payout.id.clone(), payout.clone());
    books.payout_sequence.push(payout.id.clone());
    payout
}

fn contact_for(books: &mut Books, contact: NewContact) -> Contact {
    let NewContact { name, email, contact: phone, kind, reference_id, notes } = contact;
    let key = (name.clone(), email.clone(), phone.clone(), kind.clone(), reference_id.clone());
    books
        .contacts
        .entry(key)
        .or_insert_with(|| Contact {
            id: new_id("cont"),
            entity: "contact",
            name,
            contact: phone,
            email,
            kind,
            reference_id,
            batch_id: None,
            active: true,
            notes: notes_value(notes),
            created_at: now(),
        })
        .clone()
}

fn fund_account_for(books: &mut Books, contact: Contact, bank_account: NewBankAccount) -> FundAccount {
    let NewBankAccount { name, ifsc, account_number } = bank_account;
    let key = (contact.id.clone(), name.clone(), ifsc.clone(), account_number.clone());
    books
        .fund_accounts
        .entry(key)
        .or_insert_with(|| FundAccount {
            id: new_id("fa"),
            entity: "fund_account",
            contact_id: contact.id.clone(),
            contact,
            account_type: "bank_account",
            bank_account: BankAccount { bank_name: bank_name(&ifsc), ifsc, name, notes: json!([]), account_number },
            batch_id: None,
            active: true,
            created_at: now(),
        })
        .clone()
}

/// The bank an IFSC's first four letters name, for the few banks the sandbox knows.
fn bank_name(ifsc: &str) -> Option<&'static str> {
    Some(match ifsc.get(..4)? {
        "HDFC" => "HDFC Bank",
        "SBIN" => "State Bank of India",
        "ICIC" => "ICICI Bank",
        "UTIB" => "Axis Bank",
        "PUNB" => "Punjab National Bank",
        "BARB" => "Bank of Baroda",
        "CNRB" => "Canara Bank",
        "UBIN" => "Union Bank of India",
        "KKBK" => "Kotak Mahindra Bank",
        _ => return None,
    })
}

/// A payout as a fetch answers it: the fund account by id only, as on the real gateway, so
/// a client written against the sandbox does not come to rely on more.
fn fetched(payout: &Payout) -> Payout {
    Payout { fund_account: None, ..payout.clone() }
}

async fn get_payout(_: Merchant, State(sandbox): State<Sandbox>, Path(id): Path<String>) -> Answer<Payout> {
    sandbox.books().payouts.get(&id).map(fetched).map(Json).ok_or_else(|| GatewayError::not_found(&id))
}

/// `GET /v1/payouts`: `account_number` is mandatory, as on the real gateway; the numbers
/// are read here rather than by the extractor so that a bad one is refused by name.
#[derive(Deserialize)]
struct PayoutQuery {
    account_number: Option<String>,
    contact_id: Option<String>,
    fund_account_id: Option<String>,
    mode: Option<String>,
    reference_id: Option<String>,
    status: Option<String>,
    count: Option<String>,
    skip: Option<String>,
}

/// The merchant's payouts from one account, newest first as the real gateway lists them,
/// filtered by whichever of the query's fields are given, `count` (1–100, default 10) at a
/// time after `skip`. A caller whose create answer was lost finds its payout here by its
/// `reference_id`.
async fn list_payouts(
    _: Merchant,
    State(sandbox): State<Sandbox>,
    query: Result<Query<PayoutQuery>, QueryRejection>,
) -> Answer<Value> {
    let Query(query) = query.map_err(|rejection| GatewayError::invalid(rejection.body_text()))?;
    let Some(account_number) = query.account_number.filter(|a| !a.is_empty()) else {
        return Err(GatewayError::invalid_field("account_number", "The account_number field is required."));
    };
    let number = |field: &'static str, given: Option<&str>, default: usize, range: std::ops::RangeInclusive<usize>| {
        let Some(given) = given else { return Ok(default) };
        given.parse::<usize>().ok().filter(|n| range.contains(n)).ok_or_else(|| {
            GatewayError::invalid_field(
                field,
                format!("{field} must be a whole number from {} to {}", range.start(), range.end()),
            )
        })
    };
    let count = number("count", query.count.as_deref(), 10, 1..=100)?;
    let skip = number("skip", query.skip.as_deref(), 0, 0..=usize::MAX)?;
    let matches = |given: &Option<String>, actual: Option<&str>| given.as_deref().is_none_or(|g| Some(g) == actual);
    let books = sandbox.books();
    let items: Vec<Payout> = books
        .payout_sequence
        .iter()
        .rev()
        .filter_map(|id| books.payouts.get(id))
        .filter(|p| p.account_number == account_number)
        .filter(|p| matches(&query.contact_id, p.fund_account.as_ref().map(|f| f.contact_id.as_str())))
        .filter(|p| matches(&query.fund_account_id, Some(&p.fund_account_id)))
        .filter(|p| matches(&query.mode, Some(&p.mode)))
        .filter(|p| matches(&query.reference_id, p.reference_id.as_deref()))
        .filter(|p| matches(&query.status, Some(&p.status)))
        .skip(skip)
        .take(count)
        .map(fetched)
        .collect();
    Ok(Json(json!({ "entity": "collection", "count": items.len(), "items": items })))
}
