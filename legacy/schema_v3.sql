-- schema_v3: the monolith's database, as it stood at cutover (a reconstruction; the original
-- file was never kept under version control). One `public` schema, 35 tables.
--
-- The habits of this schema, which docs/legacy-import.md maps one by one onto the contexts:
--   * serial integer ids, and foreign keys across what are now separate contexts (some
--     declared, some never declared or dropped over the years: the undeclared ones have orphans);
--   * rupee amounts as NUMERIC(12,2), percentages as NUMERIC(5,2);
--   * statuses, kinds and channels as free text in whatever spelling each release wrote;
--   * flags as CHAR(1) 'Y'/'N';
--   * local (Asia/Kolkata) timestamps WITHOUT TIME ZONE;
--   * bcrypt password hashes ($2b$), API keys stored in plain text;
--   * nullable columns the new schemas forbid, slugs missing on older rows, e-mail addresses
--     unique only as typed (so two accounts may differ only by case);
--   * room types as free text on availability rows, with no room-type table.
-- Applied to an empty database by `legacy generate` (ops) to rebuild a monolith to import from.

SET client_min_messages = warning;

-- ---------------------------------------------------------------------------------------
-- Users, credentials, roles (now: auth)
-- ---------------------------------------------------------------------------------------

CREATE TABLE users (
    id            serial PRIMARY KEY,
    email         varchar(255) NOT NULL,
    full_name     varchar(200),
    phone         varchar(20),
    status        varchar(20) DEFAULT 'ACTIVE',
    created_at    timestamp NOT NULL DEFAULT now(),
    updated_at    timestamp
);
-- Unique as typed: 'Rahul.Das@Gmail.com' and 'rahul.das@gmail.com' are two accounts.
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE user_credentials (
    id                  serial PRIMARY KEY,
    user_id             integer NOT NULL REFERENCES users (id),
    password_hash       varchar(100) NOT NULL,
    failed_attempts     integer,
    locked_until        timestamp,
    password_changed_at timestamp,
    created_at          timestamp NOT NULL DEFAULT now(),
    updated_at          timestamp
);
CREATE UNIQUE INDEX user_credentials_user_key ON user_credentials (user_id);

CREATE TABLE roles (
    id          serial PRIMARY KEY,
    name        varchar(50) NOT NULL UNIQUE,
    description text,
    created_at  timestamp NOT NULL DEFAULT now()
);

CREATE TABLE permissions (
    id          serial PRIMARY KEY,
    role_id     integer NOT NULL REFERENCES roles (id),
    code        varchar(100) NOT NULL,
    created_at  timestamp NOT NULL DEFAULT now()
);

CREATE TABLE user_roles (
    id          serial PRIMARY KEY,
    user_id     integer NOT NULL REFERENCES users (id),
    role_id     integer NOT NULL REFERENCES roles (id),
    granted_by  integer,
    created_at  timestamp NOT NULL DEFAULT now()
);

CREATE TABLE user_sessions (
    id            bigserial PRIMARY KEY,
    user_id       integer NOT NULL,
    session_token varchar(64) NOT NULL,
    user_agent    text,
    ip_address    varchar(45),
    expires_at    timestamp NOT NULL,
    revoked       char(1) NOT NULL DEFAULT 'N',
    created_at    timestamp NOT NULL DEFAULT now()
);

CREATE TABLE user_activity_logs (
    id          bigserial PRIMARY KEY,
    -- No foreign key: accounts were hard-deleted while their log lines were kept.
    user_id     integer,
    action      varchar(100) NOT NULL,
    outcome     varchar(20),
    ip_address  varchar(45),
    details     text,
    created_at  timestamp NOT NULL DEFAULT now()
);

CREATE TABLE asset_manager_assignments (
    id               serial PRIMARY KEY,
    user_id          integer NOT NULL REFERENCES users (id),
    -- No foreign key: properties were deleted without their managers' assignments.
    accommodation_id integer NOT NULL,
    assigned_by      integer,
    created_at       timestamp NOT NULL DEFAULT now()
);

-- ---------------------------------------------------------------------------------------
-- Content (now: catalog)
-- ---------------------------------------------------------------------------------------

CREATE TABLE destinations (
    id           serial PRIMARY KEY,
    name         varchar(150) NOT NULL,
    slug         varchar(150),
    district     varchar(100) NOT NULL,
    description  text,
    latitude     numeric(9, 6),
    longitude    numeric(9, 6),
    is_published char(1) NOT NULL DEFAULT 'N',
    created_at   timestamp NOT NULL DEFAULT now(),
    updated_at   timestamp
);

CREATE TABLE destination_images (
    id             serial PRIMARY KEY,
    destination_id integer NOT NULL REFERENCES destinations (id),
    url            varchar(500) NOT NULL,
    caption        varchar(300),
    sort_order     integer,
    created_at     timestamp NOT NULL DEFAULT now()
);

CREATE TABLE accommodations (
    id             serial PRIMARY KEY,
    -- No foreign key: destinations were merged and deleted by hand.
    destination_id integer NOT NULL,
    name           varchar(200) NOT NULL,
    slug           varchar(200),
    -- 'Hotel', 'Home Stay', 'resort', 'Guest House', 'Eco Lodge', 'Tourist Lodge', ...
    type           varchar(50) NOT NULL,
    description    text,
    address        text,
    is_published   char(1) NOT NULL DEFAULT 'N',
    created_at     timestamp NOT NULL DEFAULT now(),
    updated_at     timestamp
);

CREATE TABLE experiences (
    id             serial PRIMARY KEY,
    name           varchar(200) NOT NULL,
    slug           varchar(200),
    description    text,
    duration_hours numeric(4, 1) NOT NULL,
    price          numeric(12, 2) NOT NULL,
    is_published   char(1) NOT NULL DEFAULT 'N',
    created_at     timestamp NOT NULL DEFAULT now(),
    updated_at     timestamp
);

CREATE TABLE experience_destinations (
    id             serial PRIMARY KEY,
    experience_id  integer NOT NULL REFERENCES experiences (id),
    destination_id integer NOT NULL REFERENCES destinations (id)
);

CREATE TABLE packages (
    id             serial PRIMARY KEY,
    name           varchar(200) NOT NULL,
    slug           varchar(200),
    description    text,
    nights         integer NOT NULL,
    max_group_size integer,
    is_published   char(1) NOT NULL DEFAULT 'N',
    created_at     timestamp NOT NULL DEFAULT now(),
    updated_at     timestamp
);

CREATE TABLE package_destinations (
    id             serial PRIMARY KEY,
    package_id     integer NOT NULL REFERENCES packages (id),
    destination_id integer NOT NULL REFERENCES destinations (id),
    day_no         integer
);

CREATE TABLE package_experiences (
    id            serial PRIMARY KEY,
    package_id    integer NOT NULL REFERENCES packages (id),
    experience_id integer NOT NULL REFERENCES experiences (id),
    day_no        integer
);

CREATE TABLE amenities (
    id         serial PRIMARY KEY,
    name       varchar(100) NOT NULL,
    code       varchar(100),
    created_at timestamp NOT NULL DEFAULT now()
);

CREATE TABLE package_amenities (
    id         serial PRIMARY KEY,
    package_id integer NOT NULL REFERENCES packages (id),
    amenity_id integer NOT NULL REFERENCES amenities (id)
);

CREATE TABLE package_pricing (
    id           serial PRIMARY KEY,
    package_id   integer NOT NULL REFERENCES packages (id),
    -- 'PER_PERSON', 'per person', 'Per Room', 'group', ...
    pricing_type varchar(30) NOT NULL,
    valid_from   date NOT NULL,
    valid_to     date NOT NULL,
    price        numeric(12, 2) NOT NULL,
    child_price  numeric(12, 2),
    created_at   timestamp NOT NULL DEFAULT now()
);

-- ---------------------------------------------------------------------------------------
-- Availability (now: inventory, plus the catalog's room types)
-- ---------------------------------------------------------------------------------------

CREATE TABLE accommodation_availability (
    id               serial PRIMARY KEY,
    accommodation_id integer NOT NULL REFERENCES accommodations (id),
    -- Free text, as the front desk typed it: 'Deluxe Double', 'deluxe double', 'AC Double'.
    room_type        varchar(60) NOT NULL,
    stay_date        date NOT NULL,
    total_rooms      integer NOT NULL,
    -- Confirmed rooms; the monolith never refused a booking past total_rooms.
    booked_rooms     integer NOT NULL DEFAULT 0,
    -- Rooms blocked by bookings awaiting payment.
    blocked_rooms    integer,
    rate             numeric(12, 2) NOT NULL,
    max_occupancy    smallint,
    stop_sell        char(1),
    updated_at       timestamp
);
CREATE UNIQUE INDEX accommodation_availability_night_key ON accommodation_availability (accommodation_id, room_type, stay_date);

-- ---------------------------------------------------------------------------------------
-- Bookings (now: booking)
-- ---------------------------------------------------------------------------------------

CREATE TABLE cancellation_policies (
    id          serial PRIMARY KEY,
    name        varchar(200) NOT NULL,
    code        varchar(50),
    -- 'days:percent' pairs, highest first: '7:100,2:50,0:0'.
    rules       varchar(200) NOT NULL,
    refund_gst  char(1) NOT NULL DEFAULT 'Y',
    created_at  timestamp NOT NULL DEFAULT now()
);

CREATE TABLE bookings (
    id                     serial PRIMARY KEY,
    -- 'TT/2024/000123': the monolith's own reference.
    booking_ref            varchar(20) NOT NULL UNIQUE,
    -- No foreign keys on the people and things a booking names: the booking screens were a
    -- separate module that kept its rows when accounts or properties were removed.
    user_id                integer,
    partner_id             integer,
    -- 'WEB', 'web', 'API', 'Partner', 'phone'
    channel                varchar(20),
    accommodation_id       integer,
    package_id             integer,
    room_type              varchar(60),
    check_in               date NOT NULL,
    check_out              date NOT NULL,
    num_rooms              integer NOT NULL,
    num_guests             integer,
    base_amount            numeric(12, 2) NOT NULL,
    gst_amount             numeric(12, 2) NOT NULL,
    total_amount           numeric(12, 2) NOT NULL,
    amount_paid            numeric(12, 2),
    -- 'CONFIRMED', 'Confirmed', 'confirmd', 'PENDING', 'AWAITING_PAYMENT', 'CANCELLED', 'canceled', ...
    status                 varchar(30) NOT NULL,
    failure_reason         text,
    cancellation_policy_id integer REFERENCES cancellation_policies (id),
    cancelled_at           timestamp,
    cancel_reason          text,
    refund_amount          numeric(12, 2),
    version                integer NOT NULL DEFAULT 1,
    created_at             timestamp NOT NULL DEFAULT now(),
    updated_at             timestamp
);
CREATE INDEX bookings_user_idx ON bookings (user_id);

CREATE TABLE booking_customers (
    id          serial PRIMARY KEY,
    booking_id  integer NOT NULL,
    full_name   varchar(200),
    is_lead     char(1) NOT NULL DEFAULT 'N',
    created_at  timestamp NOT NULL DEFAULT now()
);
CREATE INDEX booking_customers_booking_idx ON booking_customers (booking_id);

CREATE TABLE booking_items (
    id          serial PRIMARY KEY,
    booking_id  integer NOT NULL,
    -- 'ROOM' for a night of a stay, 'PACKAGE' for a package's seats.
    item_type   varchar(20),
    stay_date   date NOT NULL,
    num_rooms   integer NOT NULL,
    seats       integer,
    rate        numeric(12, 2) NOT NULL,
    amount      numeric(12, 2) NOT NULL,
    gst_rate    numeric(5, 2) NOT NULL,
    gst_amount  numeric(12, 2) NOT NULL,
    created_at  timestamp NOT NULL DEFAULT now()
);
CREATE INDEX booking_items_booking_idx ON booking_items (booking_id);

CREATE TABLE booking_overrides (
    id            serial PRIMARY KEY,
    booking_id    integer NOT NULL REFERENCES bookings (id),
    override_type varchar(50) NOT NULL,
    old_value     text,
    new_value     text,
    reason        text,
    created_by    integer,
    created_at    timestamp NOT NULL DEFAULT now()
);

CREATE TABLE booking_versions (
    id          serial PRIMARY KEY,
    booking_id  integer NOT NULL REFERENCES bookings (id),
    version_no  integer NOT NULL,
    status      varchar(30) NOT NULL,
    -- JSON as text: the monolith's serializer of the day.
    snapshot    text NOT NULL,
    created_at  timestamp NOT NULL DEFAULT now()
);

CREATE TABLE booking_audit_logs (
    id            bigserial PRIMARY KEY,
    booking_id    integer NOT NULL REFERENCES bookings (id),
    action        varchar(100) NOT NULL,
    actor_user_id integer,
    actor         varchar(100),
    ip_address    varchar(45),
    details       text,
    created_at    timestamp NOT NULL DEFAULT now()
);

CREATE TABLE booking_access_policies (
    id          serial PRIMARY KEY,
    booking_id  integer NOT NULL REFERENCES bookings (id),
    -- 'user:<users.id>', 'partner:<api_partners.id>'
    principal   varchar(100) NOT NULL,
    can_view    char(1) NOT NULL DEFAULT 'Y',
    can_change  char(1) NOT NULL DEFAULT 'N'
);

CREATE TABLE booking_customer_contacts (
    id            serial PRIMARY KEY,
    customer_id   integer NOT NULL REFERENCES booking_customers (id),
    -- 'EMAIL', 'email', 'MOBILE', 'Phone'
    contact_type  varchar(20) NOT NULL,
    contact_value varchar(255) NOT NULL,
    created_at    timestamp NOT NULL DEFAULT now()
);

-- ---------------------------------------------------------------------------------------
-- Payments (now: payment)
-- ---------------------------------------------------------------------------------------

CREATE TABLE payments (
    id                 serial PRIMARY KEY,
    booking_id         integer NOT NULL,
    amount             numeric(12, 2) NOT NULL,
    -- 'INR', 'Rs', NULL (and, once, a partner's test in 'USD')
    currency           varchar(5),
    -- 'SUCCESS', 'success', 'FAILED', 'PENDING', 'REFUNDED', 'PARTIAL_REFUND', ...
    status             varchar(30) NOT NULL,
    gateway            varchar(30),
    method             varchar(30),
    gateway_order_id   varchar(100),
    gateway_payment_id varchar(100),
    captured_amount    numeric(12, 2),
    refunded_amount    numeric(12, 2),
    failure_reason     text,
    created_at         timestamp NOT NULL DEFAULT now(),
    updated_at         timestamp
);
CREATE INDEX payments_booking_idx ON payments (booking_id);

CREATE TABLE booking_payments (
    id          serial PRIMARY KEY,
    booking_id  integer NOT NULL,
    payment_id  integer NOT NULL,
    -- 'CAPTURE', 'capture', 'REFUND', 'Refund'
    txn_type    varchar(20) NOT NULL,
    amount      numeric(12, 2) NOT NULL,
    gateway_ref varchar(100),
    created_at  timestamp NOT NULL DEFAULT now()
);

-- ---------------------------------------------------------------------------------------
-- Partners (now: partner)
-- ---------------------------------------------------------------------------------------

CREATE TABLE api_partners (
    id                  serial PRIMARY KEY,
    name                varchar(200) NOT NULL,
    code                varchar(50),
    contact_email       varchar(255) NOT NULL,
    commission_pct      numeric(5, 2) NOT NULL,
    settlement_cycle    varchar(20),
    status              varchar(20),
    rate_limit          integer,
    bank_account_name   varchar(120),
    bank_ifsc           varchar(11),
    bank_account_number varchar(35),
    created_at          timestamp NOT NULL DEFAULT now(),
    updated_at          timestamp
);

CREATE TABLE api_credentials (
    id           serial PRIMARY KEY,
    partner_id   integer NOT NULL REFERENCES api_partners (id),
    api_key      varchar(64) NOT NULL UNIQUE,
    label        varchar(100),
    expires_at   timestamp,
    revoked      char(1) NOT NULL DEFAULT 'N',
    last_used_at timestamp,
    created_at   timestamp NOT NULL DEFAULT now()
);

CREATE TABLE api_access_logs (
    id          bigserial PRIMARY KEY,
    partner_id  integer,
    api_key     varchar(64),
    http_method varchar(10) NOT NULL,
    path        varchar(500) NOT NULL,
    -- 0 when the monolith timed out before answering.
    status_code integer NOT NULL,
    response_ms integer,
    ip_address  varchar(45),
    created_at  timestamp NOT NULL DEFAULT now()
);

CREATE TABLE partner_settlements (
    id                serial PRIMARY KEY,
    partner_id        integer NOT NULL REFERENCES api_partners (id),
    period_start      date NOT NULL,
    period_end        date NOT NULL,
    bookings_count    integer,
    gross_amount      numeric(12, 2) NOT NULL,
    refund_amount     numeric(12, 2) NOT NULL,
    commission_pct    numeric(5, 2) NOT NULL,
    commission_amount numeric(12, 2) NOT NULL,
    tds_amount        numeric(12, 2) NOT NULL,
    payout_amount     numeric(12, 2) NOT NULL,
    -- 'PENDING', 'Approved', 'PAID'
    status            varchar(20) NOT NULL,
    paid_on           timestamp,
    utr               varchar(30),
    created_at        timestamp NOT NULL DEFAULT now()
);
