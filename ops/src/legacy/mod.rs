//! The monolith this platform replaces, rebuilt: its database schema (`legacy/schema_v3.sql`)
//! and a generator that fills it at any scale, deterministic by seed, with the dirty rows a
//! monolith of its age holds. The import into the six contexts is written against this
//! (docs/legacy-import.md); the generator's [`Manifest`] says exactly which rows it must
//! reject and which it must clean.

pub mod content;
mod copy;
mod generate;

use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use std::collections::BTreeMap;

pub use generate::{CUTOVER, DEMO_PASSWORD, Options};

/// `legacy/schema_v3.sql`.
pub const SCHEMA_V3: &str = include_str!("../../../legacy/schema_v3.sql");

/// The 35 tables of schema_v3, in the order the generator loads them.
pub const TABLES: [&str; 35] = [
    "roles",
    "permissions",
    "users",
    "user_credentials",
    "user_roles",
    "user_sessions",
    "user_activity_logs",
    "destinations",
    "destination_images",
    "accommodations",
    "experiences",
    "experience_destinations",
    "packages",
    "package_destinations",
    "package_experiences",
    "amenities",
    "package_amenities",
    "package_pricing",
    "cancellation_policies",
    "asset_manager_assignments",
    "api_partners",
    "api_credentials",
    "api_access_logs",
    "partner_settlements",
    "bookings",
    "booking_customers",
    "booking_customer_contacts",
    "booking_items",
    "booking_overrides",
    "booking_versions",
    "booking_audit_logs",
    "booking_access_policies",
    "payments",
    "booking_payments",
    "accommodation_availability",
];

/// What the generator planted: the rows the import must reject (`bad`), the rows it must
/// clean on the way (`dirty`), and the nights sold past their rooms (`oversold`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub seed: u64,
    pub scale: u32,
    /// The instant the monolith stopped, local time (Asia/Kolkata).
    pub cutover: String,
    /// Rows per table.
    pub rows: BTreeMap<String, u64>,
    pub bad: Vec<Planted>,
    pub dirty: Vec<Planted>,
    pub oversold: Vec<Oversold>,
    /// Accounts whose legacy password is [`DEMO_PASSWORD`] (bcrypt `$2b$`).
    pub demo_users: Vec<String>,
}

/// One planted row: its legacy table, its legacy id and which case it is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Planted {
    pub table: String,
    pub id: i64,
    pub case: String,
}

/// A night of a room type whose confirmed rooms exceed its rooms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Oversold {
    /// `accommodation_availability.id`.
    pub availability_id: i64,
    pub accommodation_id: i64,
    pub room_type: String,
    pub night: String,
    pub total_rooms: i64,
    pub booked_rooms: i64,
    /// The confirmed bookings (legacy ids) holding rooms that night.
    pub bookings: Vec<i64>,
}

/// Every planted case: legacy table, case, whether the import rejects it (`true`) or
/// cleans it, and the SQL condition on the row (aliased `t`) that makes it that case.
/// docs/legacy-import.md says what the import does with each.
pub const CASES: &[(&str, &str, bool, &str)] = &[
    // Rejected: nothing in the row can be trusted to map.
    ("users", "invalid_email", true, r"btrim(t.email) !~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'"),
    ("user_credentials", "unsupported_password_hash", true, r"t.password_hash !~ '^\$2[aby]\$[0-9]{2}\$'"),
    (
        "asset_manager_assignments",
        "orphan_accommodation",
        true,
        "NOT EXISTS (SELECT 1 FROM accommodations a WHERE a.id = t.accommodation_id)",
    ),
    (
        "accommodations",
        "orphan_destination",
        true,
        "NOT EXISTS (SELECT 1 FROM destinations d WHERE d.id = t.destination_id)",
    ),
    (
        "package_pricing",
        "overlapping_season",
        true,
        "EXISTS (SELECT 1 FROM package_pricing o WHERE o.package_id = t.package_id AND o.id < t.id \
         AND o.valid_from <= t.valid_to AND t.valid_from <= o.valid_to)",
    ),
    ("api_partners", "commission_out_of_range", true, "t.commission_pct NOT BETWEEN 0 AND 100"),
    ("partner_settlements", "payout_does_not_balance", true, "t.payout_amount <> t.commission_amount - t.tds_amount"),
    ("api_access_logs", "status_out_of_range", true, "t.status_code NOT BETWEEN 100 AND 599"),
    (
        "bookings",
        "orphan_user",
        true,
        "t.user_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = t.user_id)",
    ),
    (
        "bookings",
        "dates_reversed",
        true,
        "t.check_out < t.check_in OR (t.check_out = t.check_in AND t.package_id IS NULL)",
    ),
    ("bookings", "amounts_do_not_add_up", true, "t.total_amount <> t.base_amount + t.gst_amount"),
    ("bookings", "unknown_status", true, BOOKING_STATUS_UNKNOWN_SQL),
    ("bookings", "confirmed_without_payment", true, BOOKING_CONFIRMED_UNPAID_SQL),
    ("booking_customers", "orphan_booking", true, "NOT EXISTS (SELECT 1 FROM bookings b WHERE b.id = t.booking_id)"),
    ("booking_items", "orphan_booking", true, "NOT EXISTS (SELECT 1 FROM bookings b WHERE b.id = t.booking_id)"),
    ("booking_items", "unknown_gst_rate", true, "t.gst_rate NOT IN (0, 5, 12, 18, 28)"),
    ("payments", "orphan_booking", true, "NOT EXISTS (SELECT 1 FROM bookings b WHERE b.id = t.booking_id)"),
    (
        "payments",
        "foreign_currency",
        true,
        "t.currency IS NOT NULL AND upper(btrim(t.currency)) NOT IN ('INR', 'RS', 'RS.', 'RUPEES')",
    ),
    ("payments", "refund_exceeds_capture", true, "coalesce(t.refunded_amount, 0) > coalesce(t.captured_amount, 0)"),
    (
        "payments",
        "duplicate_gateway_payment_id",
        true,
        "EXISTS (SELECT 1 FROM payments o WHERE o.gateway_payment_id = t.gateway_payment_id AND o.id < t.id)",
    ),
    ("booking_payments", "orphan_payment", true, "NOT EXISTS (SELECT 1 FROM payments p WHERE p.id = t.payment_id)"),
    ("booking_payments", "non_positive_amount", true, "t.amount <= 0"),
    // Cleaned: the import maps these to valid rows (docs/legacy-import.md says how).
    (
        "users",
        "email_case_duplicate",
        false,
        "EXISTS (SELECT 1 FROM users o WHERE lower(btrim(o.email)) = lower(btrim(t.email)) AND o.id < t.id)",
    ),
    ("users", "status_spelling", false, "t.status IS DISTINCT FROM 'ACTIVE' AND t.status IS DISTINCT FROM 'DISABLED'"),
    ("users", "full_name_missing", false, "t.full_name IS NULL OR btrim(t.full_name) = ''"),
    ("user_credentials", "failed_attempts_missing", false, "t.failed_attempts IS NULL"),
    (
        "user_activity_logs",
        "orphan_user",
        false,
        "t.user_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = t.user_id)",
    ),
    ("destinations", "slug_missing", false, "t.slug IS NULL OR btrim(t.slug) = ''"),
    ("accommodations", "slug_missing", false, "t.slug IS NULL OR btrim(t.slug) = ''"),
    (
        "accommodations",
        "kind_spelling",
        false,
        "t.type NOT IN ('Hotel', 'Homestay', 'Resort', 'Guest House', 'Eco Lodge')",
    ),
    ("experiences", "slug_missing", false, "t.slug IS NULL OR btrim(t.slug) = ''"),
    ("packages", "slug_missing", false, "t.slug IS NULL OR btrim(t.slug) = ''"),
    ("packages", "group_size_missing", false, "t.max_group_size IS NULL"),
    ("amenities", "code_missing", false, "t.code IS NULL OR btrim(t.code) = ''"),
    ("api_partners", "code_missing", false, "t.code IS NULL OR btrim(t.code) = ''"),
    (
        "api_access_logs",
        "orphan_partner",
        false,
        "t.partner_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM api_partners p WHERE p.id = t.partner_id)",
    ),
    ("bookings", "status_spelling", false, "t.status NOT IN ('CONFIRMED', 'PENDING', 'CANCELLED', 'FAILED')"),
    ("bookings", "in_flight_at_cutover", false, BOOKING_PENDING_SQL),
    ("bookings", "guests_missing", false, "t.num_guests IS NULL"),
    (
        "bookings",
        "room_type_spelling",
        false,
        "t.accommodation_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM accommodation_availability a \
         WHERE a.accommodation_id = t.accommodation_id AND a.room_type = t.room_type)",
    ),
    ("bookings", "cancelled_before_payment", false, BOOKING_CANCELLED_UNPAID_SQL),
    ("booking_customers", "name_missing", false, "t.full_name IS NULL OR btrim(t.full_name) = ''"),
    (
        "booking_customer_contacts",
        "phone_format",
        false,
        "upper(t.contact_type) IN ('PHONE', 'MOBILE') AND t.contact_value !~ '^\\+91[6-9][0-9]{9}$'",
    ),
    ("booking_overrides", "reason_missing", false, "t.reason IS NULL OR btrim(t.reason) = ''"),
    (
        "payments",
        "currency_missing",
        false,
        "t.currency IS NULL OR upper(btrim(t.currency)) IN ('RS', 'RS.', 'RUPEES')",
    ),
    (
        "payments",
        "status_spelling",
        false,
        "t.status NOT IN ('SUCCESS', 'FAILED', 'PENDING', 'REFUNDED', 'PARTIAL_REFUND')",
    ),
    ("accommodation_availability", "oversold", false, "t.booked_rooms > t.total_rooms"),
];

/// A legacy status as the import compares it: trimmed, lower-cased, runs of blanks and
/// hyphens as one underscore (SQL).
pub const STATUS_KEY_SQL: &str = r"regexp_replace(lower(btrim(t.status)), '[\s-]+', '_', 'g')";

/// Legacy booking statuses and the new status each maps to (before the cutover policy:
/// `pending_payment` bookings are released and expired, see docs/legacy-import.md).
pub const BOOKING_STATUSES: &[(&str, &str)] = &[
    ("confirmed", "confirmed"),
    ("confirmd", "confirmed"),
    ("confirm", "confirmed"),
    ("completed", "confirmed"),
    ("checked_out", "confirmed"),
    ("pending", "pending_payment"),
    ("pending_payment", "pending_payment"),
    ("payment_pending", "pending_payment"),
    ("awaiting_payment", "pending_payment"),
    ("unpaid", "pending_payment"),
    ("cancelled", "cancelled"),
    ("canceled", "cancelled"),
    ("cancelled_by_user", "cancelled"),
    ("failed", "failed"),
    ("payment_failed", "failed"),
];

/// Legacy payment statuses and the payment context's status each maps to.
pub const PAYMENT_STATUSES: &[(&str, &str)] = &[
    ("success", "captured"),
    ("captured", "captured"),
    ("paid", "captured"),
    ("authorized", "authorized"),
    ("pending", "created"),
    ("created", "created"),
    ("initiated", "created"),
    ("failed", "declined"),
    ("failure", "declined"),
    ("declined", "declined"),
    ("refunded", "refunded"),
    ("partial_refund", "partially_refunded"),
    ("partially_refunded", "partially_refunded"),
];

/// Legacy account statuses and the auth context's status each maps to.
pub const USER_STATUSES: &[(&str, &str)] = &[
    ("active", "active"),
    ("disabled", "disabled"),
    ("inactive", "disabled"),
    ("blocked", "disabled"),
    ("locked", "disabled"),
];

const BOOKING_STATUS_UNKNOWN_SQL: &str = "regexp_replace(lower(btrim(t.status)), '[\\s-]+', '_', 'g') NOT IN (\
     'confirmed', 'confirmd', 'confirm', 'completed', 'checked_out', 'pending', 'pending_payment', 'payment_pending', \
     'awaiting_payment', 'unpaid', 'cancelled', 'canceled', 'cancelled_by_user', 'failed', 'payment_failed')";
const BOOKING_PENDING_SQL: &str = "regexp_replace(lower(btrim(t.status)), '[\\s-]+', '_', 'g') IN (\
     'pending', 'pending_payment', 'payment_pending', 'awaiting_payment', 'unpaid')";
const BOOKING_CONFIRMED_UNPAID_SQL: &str = "regexp_replace(lower(btrim(t.status)), '[\\s-]+', '_', 'g') IN (\
     'confirmed', 'confirmd', 'confirm', 'completed', 'checked_out') AND NOT EXISTS (SELECT 1 FROM payments p \
     WHERE p.booking_id = t.id AND lower(p.status) IN ('success', 'captured', 'paid', 'refunded', 'partial_refund', \
     'partially refunded', 'partially_refunded'))";
const BOOKING_CANCELLED_UNPAID_SQL: &str = "regexp_replace(lower(btrim(t.status)), '[\\s-]+', '_', 'g') IN (\
     'cancelled', 'canceled', 'cancelled_by_user') AND NOT EXISTS (SELECT 1 FROM payments p \
     WHERE p.booking_id = t.id AND lower(p.status) IN ('success', 'captured', 'paid', 'refunded', 'partial_refund', \
     'partially refunded', 'partially_refunded'))";

/// The SQL condition (on a row aliased `t`) of a planted case, if it is one.
pub fn case_condition(table: &str, case: &str) -> Option<&'static str> {
    CASES.iter().find(|(t, c, _, _)| *t == table && *c == case).map(|(_, _, _, sql)| *sql)
}

/// Creates schema_v3's 35 tables in an empty database.
pub async fn apply_schema(pool: &PgPool) -> anyhow::Result<()> {
    sqlx::raw_sql(SCHEMA_V3).execute(pool).await?;
    Ok(())
}

/// Applies the schema to the (empty) database of `pool` and fills it: see [`Options`].
/// Needs a pool of at least 12 connections: the busiest phase streams 10 tables at once.
pub async fn generate(pool: &PgPool, options: Options) -> anyhow::Result<Manifest> {
    apply_schema(pool).await?;
    generate::fill(pool, options).await
}
