//! Stay and tour-package quotes with GST, line by line. The API quotes with these functions
//! and the saga charges exactly what they returned, so the price a traveller saw is the price
//! they pay.

use crate::money::{Currency, Money};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Room-night tariffs up to this amount (₹7,500) attract the lower GST slab.
pub const GST_LOWER_SLAB_LIMIT_PAISE: i64 = 750_000;
/// 5 % in basis points.
pub const GST_LOWER_RATE_BP: i64 = 500;
/// 18 % in basis points.
pub const GST_UPPER_RATE_BP: i64 = 1_800;

/// GST rate for one room-night at `tariff` (the slab follows the per-night tariff).
pub fn gst_rate_bp(tariff_paise: i64) -> i64 {
    if tariff_paise <= GST_LOWER_SLAB_LIMIT_PAISE { GST_LOWER_RATE_BP } else { GST_UPPER_RATE_BP }
}

/// `amount × bp / 10 000`, rounded half up to the paisa. Applied once per quote line.
pub fn apply_bp(amount_paise: i64, bp: i64) -> i64 {
    (amount_paise * bp + 5_000).div_euclid(10_000)
}

/// [`apply_bp`], or `None` where the product would overflow.
pub fn checked_apply_bp(amount_paise: i64, bp: i64) -> Option<i64> {
    Some(amount_paise.checked_mul(bp)?.checked_add(5_000)?.div_euclid(10_000))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteLine {
    pub night: NaiveDate,
    pub rooms: u32,
    /// Tariff for one room for this night, before tax.
    pub tariff: Money,
    /// `tariff × rooms`.
    pub base: Money,
    pub gst_rate_bp: i64,
    pub gst: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StayQuote {
    pub lines: Vec<QuoteLine>,
    pub base_total: Money,
    pub gst_total: Money,
    pub total: Money,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum QuoteError {
    #[error("a stay needs at least one night")]
    NoNights,
    #[error("tariffs must be positive")]
    NonPositiveTariff,
    #[error("the amount is too large to quote")]
    Overflow,
}

/// Quotes `rooms` rooms for the given nights, each with its per-room tariff in paise.
pub fn quote_stay(
    nightly_tariffs: &[(NaiveDate, i64)],
    rooms: u32,
    currency: Currency,
) -> Result<StayQuote, QuoteError> {
    if nightly_tariffs.is_empty() {
        return Err(QuoteError::NoNights);
    }
    let mut lines = Vec::with_capacity(nightly_tariffs.len());
    let mut totals = Totals::default();
    let money = |amount| Money { amount, currency };
    for &(night, tariff) in nightly_tariffs {
        if tariff <= 0 {
            return Err(QuoteError::NonPositiveTariff);
        }
        let base = tariff.checked_mul(i64::from(rooms)).ok_or(QuoteError::Overflow)?;
        let rate = gst_rate_bp(tariff);
        let gst = apply_bp(base, rate);
        totals.add(base, gst).ok_or(QuoteError::Overflow)?;
        lines.push(QuoteLine {
            night,
            rooms,
            tariff: money(tariff),
            base: money(base),
            gst_rate_bp: rate,
            gst: money(gst),
        });
    }
    let [base_total, gst_total, total] = totals.in_currency(currency).ok_or(QuoteError::Overflow)?;
    Ok(StayQuote { lines, base_total, gst_total, total })
}

/// The running totals of a quote's lines, in paise.
#[derive(Default)]
struct Totals {
    base: i64,
    gst: i64,
}

impl Totals {
    /// Adds one line's base and GST; `None` when a total would overflow.
    fn add(&mut self, base: i64, gst: i64) -> Option<()> {
        self.base = self.base.checked_add(base)?;
        self.gst = self.gst.checked_add(gst)?;
        Some(())
    }

    /// The base total, the GST total and their sum; `None` when the sum would overflow.
    fn in_currency(&self, currency: Currency) -> Option<[Money; 3]> {
        let total = self.base.checked_add(self.gst)?;
        Some([self.base, self.gst, total].map(|amount| Money { amount, currency }))
    }
}

/// GST on a tour package, in basis points: 5 %. A package sold by a tour operator is a
/// bundled supply (stay, transport, guide, entries) taxed as "tour operator services" (SAC
/// 998552) at 5 % *without* input tax credit, on the gross package price. So the stay slabs
/// above do not apply inside a package: one rate covers every line, whatever a room costs.
pub const PACKAGE_GST_RATE_BP: i64 = 500;

/// What one `package_pricing` price is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PricingBasis {
    /// Each traveller pays the price; a child pays the child price where one is set.
    PerPerson,
    /// Each room (twin sharing, children in their parents' room) pays the price.
    PerRoom,
    /// The whole group, up to the package's group size, pays the price once.
    PerGroup,
}

impl PricingBasis {
    pub fn code(self) -> &'static str {
        match self {
            PricingBasis::PerPerson => "per_person",
            PricingBasis::PerRoom => "per_room",
            PricingBasis::PerGroup => "per_group",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "per_person" => Some(PricingBasis::PerPerson),
            "per_room" => Some(PricingBasis::PerRoom),
            "per_group" => Some(PricingBasis::PerGroup),
            _ => None,
        }
    }
}

/// One priced season of a package: the price applies to departures from `valid_from` to
/// `valid_to`, both days included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageRate {
    pub basis: PricingBasis,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    /// Per person, room or group, before tax.
    pub price: Money,
    /// Per child, before tax; only on a per-person rate. `None`: a child pays `price`.
    pub child_price: Option<Money>,
}

impl PackageRate {
    /// Whether a departure on `start` is priced by this rate.
    pub fn covers(&self, start: NaiveDate) -> bool {
        self.valid_from <= start && start <= self.valid_to
    }
}

/// Who travels. `rooms` is used only by a per-room rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageParty {
    pub adults: u32,
    pub children: u32,
    pub rooms: u32,
}

/// What a package quote line charges for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PackageLineKind {
    Adult,
    Child,
    Room,
    Group,
}

impl PackageLineKind {
    pub fn code(self) -> &'static str {
        match self {
            PackageLineKind::Adult => "adult",
            PackageLineKind::Child => "child",
            PackageLineKind::Room => "room",
            PackageLineKind::Group => "group",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageQuoteLine {
    pub kind: PackageLineKind,
    pub quantity: u32,
    /// Per adult, child, room or group, before tax.
    pub unit_price: Money,
    /// `unit_price × quantity`.
    pub base: Money,
    pub gst_rate_bp: i64,
    pub gst: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageQuote {
    pub start: NaiveDate,
    /// The rate that priced the departure.
    pub rate: PackageRate,
    pub lines: Vec<PackageQuoteLine>,
    pub base_total: Money,
    pub gst_total: Money,
    pub total: Money,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PackageQuoteError {
    #[error("no price is published for a departure on {start}")]
    NoRateOn { start: NaiveDate },
    #[error("more than one price covers a departure on {start}")]
    AmbiguousRates { start: NaiveDate },
    #[error("a package needs at least one adult")]
    NoAdults,
    #[error("a per-room price needs at least one room")]
    NoRooms,
    #[error("prices must be positive, child prices non-negative, in one currency")]
    BadPrice,
    #[error("the amount is too large to quote")]
    Overflow,
}

/// Quotes a package departing on `start` for `party`, from the package's rates.
///
/// Exactly one rate must cover `start` (the catalog's exclusion constraint keeps seasons of
/// one package from overlapping; two covering rates are refused rather than guessed
/// between). The departure day alone picks the rate, even when the trip runs into the next
/// season. One line per thing charged — adults and children on a per-person rate, rooms on
/// a per-room rate, the group on a per-group rate — each with [`PACKAGE_GST_RATE_BP`]
/// rounded half up by [`apply_bp`] on that line, as stay quotes do per night.
pub fn quote_package(
    rates: &[PackageRate],
    start: NaiveDate,
    party: PackageParty,
) -> Result<PackageQuote, PackageQuoteError> {
    let mut covering = rates.iter().filter(|r| r.covers(start));
    let rate = covering.next().ok_or(PackageQuoteError::NoRateOn { start })?;
    if covering.next().is_some() {
        return Err(PackageQuoteError::AmbiguousRates { start });
    }
    if party.adults == 0 {
        return Err(PackageQuoteError::NoAdults);
    }
    let currency = rate.price.currency;
    let child_price = rate.child_price.unwrap_or(rate.price);
    if rate.price.amount <= 0 || child_price.amount < 0 || child_price.currency != currency {
        return Err(PackageQuoteError::BadPrice);
    }
    let charged: Vec<(PackageLineKind, u32, i64)> = match rate.basis {
        PricingBasis::PerPerson => {
            let mut charged = vec![(PackageLineKind::Adult, party.adults, rate.price.amount)];
            if party.children > 0 {
                charged.push((PackageLineKind::Child, party.children, child_price.amount));
            }
            charged
        }
        PricingBasis::PerRoom if party.rooms == 0 => return Err(PackageQuoteError::NoRooms),
        PricingBasis::PerRoom => vec![(PackageLineKind::Room, party.rooms, rate.price.amount)],
        PricingBasis::PerGroup => vec![(PackageLineKind::Group, 1, rate.price.amount)],
    };
    let mut lines = Vec::with_capacity(charged.len());
    let mut totals = Totals::default();
    let money = |amount| Money { amount, currency };
    // One rate for every line, whatever it charges for.
    let gst_rate_bp = PACKAGE_GST_RATE_BP;
    for (kind, quantity, unit) in charged {
        let base = unit.checked_mul(i64::from(quantity)).ok_or(PackageQuoteError::Overflow)?;
        let gst = checked_apply_bp(base, gst_rate_bp).ok_or(PackageQuoteError::Overflow)?;
        totals.add(base, gst).ok_or(PackageQuoteError::Overflow)?;
        lines.push(PackageQuoteLine {
            kind,
            quantity,
            unit_price: money(unit),
            base: money(base),
            gst_rate_bp,
            gst: money(gst),
        });
    }
    let [base_total, gst_total, total] = totals.in_currency(currency).ok_or(PackageQuoteError::Overflow)?;
    Ok(PackageQuote { start, rate: rate.clone(), lines, base_total, gst_total, total })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn night(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, day).unwrap()
    }

    #[test]
    fn the_slab_boundary_is_inclusive_at_7500_rupees() {
        assert_eq!(gst_rate_bp(750_000), 500);
        assert_eq!(gst_rate_bp(750_001), 1_800);
    }

    #[test]
    fn a_two_night_two_room_quote_adds_gst_per_line() {
        let q = quote_stay(&[(night(24), 450_000), (night(25), 900_000)], 2, Currency::Inr).unwrap();
        assert_eq!(q.lines[0].base, Money::inr(900_000));
        assert_eq!(q.lines[0].gst, Money::inr(45_000));
        assert_eq!(q.lines[1].gst_rate_bp, 1_800);
        assert_eq!(q.lines[1].gst, Money::inr(324_000));
        assert_eq!(q.base_total, Money::inr(2_700_000));
        assert_eq!(q.gst_total, Money::inr(369_000));
        assert_eq!(q.total, Money::inr(3_069_000));
    }

    #[test]
    fn gst_rounds_half_up_to_the_paisa() {
        // 5 % of 10 paise is 0.5 paise: rounds up to 1.
        assert_eq!(apply_bp(10, 500), 1);
        assert_eq!(apply_bp(9, 500), 0);
    }

    #[test]
    fn bad_tariffs_are_refused() {
        assert_eq!(quote_stay(&[], 1, Currency::Inr), Err(QuoteError::NoNights));
        assert_eq!(quote_stay(&[(night(1), 0)], 1, Currency::Inr), Err(QuoteError::NonPositiveTariff));
        assert_eq!(quote_stay(&[(night(1), i64::MAX)], 2, Currency::Inr), Err(QuoteError::Overflow));
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn rate(basis: PricingBasis, from: &str, to: &str, price: i64, child: Option<i64>) -> PackageRate {
        PackageRate {
            basis,
            valid_from: day(from),
            valid_to: day(to),
            price: Money::inr(price),
            child_price: child.map(Money::inr),
        }
    }

    fn party(adults: u32, children: u32, rooms: u32) -> PackageParty {
        PackageParty { adults, children, rooms }
    }

    /// A peak season and the regular season after it, as the demo packages have them.
    fn seasons() -> Vec<PackageRate> {
        vec![
            rate(PricingBasis::PerPerson, "2026-10-01", "2027-03-31", 980_000, Some(490_000)),
            rate(PricingBasis::PerPerson, "2027-04-01", "2027-09-30", 820_000, Some(410_000)),
        ]
    }

    #[test]
    fn the_departure_day_picks_the_season_with_both_ends_included() {
        let price_on =
            |start: &str| quote_package(&seasons(), day(start), party(1, 0, 0)).map(|q| q.lines[0].unit_price);
        assert_eq!(price_on("2026-10-01"), Ok(Money::inr(980_000)));
        assert_eq!(price_on("2027-03-31"), Ok(Money::inr(980_000)));
        assert_eq!(price_on("2027-04-01"), Ok(Money::inr(820_000)));
        assert_eq!(price_on("2027-09-30"), Ok(Money::inr(820_000)));
        assert_eq!(price_on("2026-09-30"), Err(PackageQuoteError::NoRateOn { start: day("2026-09-30") }));
        assert_eq!(price_on("2027-10-01"), Err(PackageQuoteError::NoRateOn { start: day("2027-10-01") }));
    }

    #[test]
    fn a_per_person_quote_charges_adults_and_children_on_their_own_lines() {
        let q = quote_package(&seasons(), day("2026-12-24"), party(2, 1, 1)).unwrap();
        let kinds: Vec<_> = q.lines.iter().map(|l| (l.kind, l.quantity)).collect();
        assert_eq!(kinds, vec![(PackageLineKind::Adult, 2), (PackageLineKind::Child, 1)]);
        assert_eq!((q.lines[0].base, q.lines[0].gst), (Money::inr(1_960_000), Money::inr(98_000)));
        assert_eq!((q.lines[1].base, q.lines[1].gst), (Money::inr(490_000), Money::inr(24_500)));
        assert!(q.lines.iter().all(|l| l.gst_rate_bp == PACKAGE_GST_RATE_BP));
        assert_eq!(q.base_total, Money::inr(2_450_000));
        assert_eq!(q.gst_total, Money::inr(122_500));
        assert_eq!(q.total, Money::inr(2_572_500));
        assert_eq!(q.rate, seasons()[0]);
    }

    #[test]
    fn without_a_child_price_a_child_pays_the_adult_price_and_no_children_means_no_line() {
        let rates = [rate(PricingBasis::PerPerson, "2026-10-01", "2027-03-31", 650_000, None)];
        let q = quote_package(&rates, day("2026-11-02"), party(1, 2, 1)).unwrap();
        assert_eq!(q.lines[1].unit_price, Money::inr(650_000));
        assert_eq!(q.total, Money::inr(3 * 650_000 * 105 / 100));
        let adults_only = quote_package(&rates, day("2026-11-02"), party(3, 0, 1)).unwrap();
        assert_eq!(adults_only.lines.len(), 1);
    }

    #[test]
    fn a_per_room_quote_charges_rooms_whoever_sleeps_in_them() {
        let rates = [rate(PricingBasis::PerRoom, "2026-10-01", "2027-03-31", 3_200_000, None)];
        let q = quote_package(&rates, day("2027-01-10"), party(5, 2, 3)).unwrap();
        assert_eq!(q.lines.len(), 1);
        assert_eq!((q.lines[0].kind, q.lines[0].quantity), (PackageLineKind::Room, 3));
        assert_eq!(q.lines[0].gst, Money::inr(480_000));
        assert_eq!(q.total, Money::inr(10_080_000));
        assert_eq!(quote_package(&rates, day("2027-01-10"), party(2, 0, 0)), Err(PackageQuoteError::NoRooms));
    }

    #[test]
    fn a_per_group_quote_is_one_line_for_any_group() {
        let rates = [rate(PricingBasis::PerGroup, "2026-10-01", "2027-03-31", 750_000, None)];
        for travellers in [party(1, 0, 1), party(4, 2, 3)] {
            let q = quote_package(&rates, day("2026-10-01"), travellers).unwrap();
            assert_eq!((q.lines.len(), q.lines[0].kind, q.lines[0].quantity), (1, PackageLineKind::Group, 1));
            assert_eq!(q.total, Money::inr(787_500));
        }
    }

    #[test]
    fn package_gst_rounds_half_up_once_per_line() {
        // 5 % of ₹123.45 is 617.25 paise, of ₹123.50 exactly 617.5: down, then up.
        let one = |price| {
            quote_package(
                &[rate(PricingBasis::PerGroup, "2026-01-01", "2026-12-31", price, None)],
                day("2026-06-01"),
                party(1, 0, 0),
            )
        };
        assert_eq!(one(12_345).unwrap().gst_total, Money::inr(617));
        assert_eq!(one(12_350).unwrap().gst_total, Money::inr(618));
        // Three adults at 10 paise: 5 % of the line's 30 paise is 1.5, so 2 — not 3 × 1.
        let rates = [rate(PricingBasis::PerPerson, "2026-01-01", "2026-12-31", 10, Some(10))];
        let q = quote_package(&rates, day("2026-06-01"), party(3, 1, 0)).unwrap();
        assert_eq!((q.lines[0].gst, q.lines[1].gst), (Money::inr(2), Money::inr(1)));
        assert_eq!(q.total, Money::inr(43));
        assert_eq!(checked_apply_bp(12_350, 500), Some(apply_bp(12_350, 500)));
    }

    #[test]
    fn a_free_child_gets_a_line_at_zero() {
        let rates = [rate(PricingBasis::PerPerson, "2026-01-01", "2026-12-31", 500_000, Some(0))];
        let q = quote_package(&rates, day("2026-06-01"), party(2, 1, 1)).unwrap();
        assert_eq!((q.lines[1].base, q.lines[1].gst), (Money::inr(0), Money::inr(0)));
        assert_eq!(q.total, Money::inr(1_050_000));
    }

    #[test]
    fn bad_rates_and_parties_are_refused() {
        let start = day("2027-01-01");
        let overlapping = [seasons()[0].clone(), rate(PricingBasis::PerGroup, "2026-12-25", "2027-01-05", 1, None)];
        assert_eq!(
            quote_package(&overlapping, start, party(1, 0, 0)),
            Err(PackageQuoteError::AmbiguousRates { start })
        );
        assert_eq!(quote_package(&seasons(), start, party(0, 2, 1)), Err(PackageQuoteError::NoAdults));
        let free = [rate(PricingBasis::PerPerson, "2027-01-01", "2027-01-01", 0, None)];
        assert_eq!(quote_package(&free, start, party(1, 0, 0)), Err(PackageQuoteError::BadPrice));
        let negative_child = [rate(PricingBasis::PerPerson, "2027-01-01", "2027-01-01", 100, Some(-1))];
        assert_eq!(quote_package(&negative_child, start, party(1, 1, 0)), Err(PackageQuoteError::BadPrice));
        let huge = [rate(PricingBasis::PerPerson, "2027-01-01", "2027-01-01", i64::MAX / 2, None)];
        assert_eq!(quote_package(&huge, start, party(1, 0, 0)), Err(PackageQuoteError::Overflow));
        assert_eq!(quote_package(&huge, start, party(3, 0, 0)), Err(PackageQuoteError::Overflow));
    }

    #[test]
    fn pricing_bases_and_line_kinds_serialise_as_their_codes() {
        for basis in [PricingBasis::PerPerson, PricingBasis::PerRoom, PricingBasis::PerGroup] {
            assert_eq!(PricingBasis::parse(basis.code()), Some(basis));
            assert_eq!(serde_json::to_value(basis).unwrap(), basis.code());
        }
        for kind in [PackageLineKind::Adult, PackageLineKind::Child, PackageLineKind::Room, PackageLineKind::Group] {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.code());
        }
        assert_eq!(PricingBasis::parse("per_night"), None);
    }
}
