-- Booking context: the booking record, its versions and audit trail, and policies.
-- Runs with search_path = booking.

CREATE TABLE cancellation_policies (
    cancellation_policy_id uuid PRIMARY KEY,
    code        text NOT NULL,
    name        text NOT NULL,
    -- Tiers: [{"min_days_before_check_in": 7, "refund_bp": 10000}, ...], highest first.
    tiers       jsonb NOT NULL,
    refund_gst  boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT cancellation_policies_code_key UNIQUE (code),
    CONSTRAINT cancellation_policies_tiers_array CHECK (jsonb_typeof(tiers) = 'array')
);

CREATE TABLE bookings (
    booking_id       uuid PRIMARY KEY,
    booking_ref      text NOT NULL,
    status           text NOT NULL,
    channel          text NOT NULL DEFAULT 'direct',
    -- Who booked: a user of the auth context or a partner of the partner context (ids only).
    user_id          uuid,
    partner_id       uuid,
    accommodation_id uuid NOT NULL,
    room_type        text NOT NULL,
    check_in         date NOT NULL,
    check_out        date NOT NULL,
    rooms            integer NOT NULL,
    guests           integer NOT NULL,
    hold_id          text NOT NULL,
    base_amount_paise bigint NOT NULL,
    gst_amount_paise bigint NOT NULL,
    total_amount_paise bigint NOT NULL,
    amount_charged_paise bigint,
    currency         text NOT NULL DEFAULT 'INR',
    payment_id       uuid,
    failure_code     text,
    failure_message  text,
    cancellation_policy_id uuid REFERENCES cancellation_policies (cancellation_policy_id),
    version          integer NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT bookings_booking_ref_key UNIQUE (booking_ref),
    CONSTRAINT bookings_booking_ref_shape CHECK (booking_ref ~ '^TRP-[0-9A-HJKMNP-TV-Z]{6}$'),
    CONSTRAINT bookings_status_known CHECK (status IN ('pending_payment', 'confirmed', 'failed', 'cancelled')),
    CONSTRAINT bookings_channel_known CHECK (channel IN ('direct', 'partner')),
    CONSTRAINT bookings_dates_ordered CHECK (check_out > check_in),
    CONSTRAINT bookings_rooms_positive CHECK (rooms > 0),
    CONSTRAINT bookings_guests_positive CHECK (guests > 0),
    CONSTRAINT bookings_amounts_add_up CHECK (total_amount_paise = base_amount_paise + gst_amount_paise),
    CONSTRAINT bookings_amounts_non_negative CHECK (base_amount_paise >= 0 AND gst_amount_paise >= 0),
    CONSTRAINT bookings_confirmed_is_paid CHECK (status <> 'confirmed' OR (amount_charged_paise IS NOT NULL AND payment_id IS NOT NULL)),
    CONSTRAINT bookings_failed_has_reason CHECK (status <> 'failed' OR failure_code IS NOT NULL),
    CONSTRAINT bookings_currency_known CHECK (currency IN ('INR'))
);
CREATE INDEX bookings_user_idx ON bookings (user_id, created_at DESC) WHERE user_id IS NOT NULL;
CREATE INDEX bookings_partner_idx ON bookings (partner_id, created_at DESC) WHERE partner_id IS NOT NULL;

CREATE TABLE booking_customers (
    booking_customer_id uuid PRIMARY KEY,
    booking_id  uuid NOT NULL REFERENCES bookings (booking_id) ON DELETE CASCADE,
    full_name   text NOT NULL,
    is_lead     boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT booking_customers_name_present CHECK (length(btrim(full_name)) > 0)
);
CREATE UNIQUE INDEX booking_customers_one_lead_idx ON booking_customers (booking_id) WHERE is_lead;

CREATE TABLE booking_customer_contacts (
    booking_customer_contact_id uuid PRIMARY KEY,
    booking_customer_id uuid NOT NULL REFERENCES booking_customers (booking_customer_id) ON DELETE CASCADE,
    kind        text NOT NULL,
    value       text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT booking_customer_contacts_kind_known CHECK (kind IN ('email', 'phone')),
    CONSTRAINT booking_customer_contacts_kind_key UNIQUE (booking_customer_id, kind)
);

CREATE TABLE booking_items (
    booking_item_id uuid PRIMARY KEY,
    booking_id   uuid NOT NULL REFERENCES bookings (booking_id) ON DELETE CASCADE,
    night        date NOT NULL,
    rooms        integer NOT NULL,
    tariff_paise bigint NOT NULL,
    base_paise   bigint NOT NULL,
    gst_rate_bp  integer NOT NULL,
    gst_paise    bigint NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT booking_items_night_key UNIQUE (booking_id, night),
    CONSTRAINT booking_items_base_is_tariff_times_rooms CHECK (base_paise = tariff_paise * rooms),
    CONSTRAINT booking_items_gst_rate_known CHECK (gst_rate_bp IN (0, 500, 1200, 1800, 2800))
);

CREATE TABLE booking_overrides (
    booking_override_id uuid PRIMARY KEY,
    booking_id  uuid NOT NULL REFERENCES bookings (booking_id) ON DELETE CASCADE,
    kind        text NOT NULL,
    value       jsonb NOT NULL,
    reason      text NOT NULL,
    created_by  uuid NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT booking_overrides_reason_present CHECK (length(btrim(reason)) > 0)
);

CREATE TABLE booking_versions (
    booking_id  uuid NOT NULL REFERENCES bookings (booking_id) ON DELETE CASCADE,
    version     integer NOT NULL,
    status      text NOT NULL,
    snapshot    jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT booking_versions_pkey PRIMARY KEY (booking_id, version),
    CONSTRAINT booking_versions_version_positive CHECK (version > 0)
);

CREATE TABLE booking_audit_logs (
    booking_audit_log_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    booking_id  uuid NOT NULL REFERENCES bookings (booking_id) ON DELETE CASCADE,
    action      text NOT NULL,
    -- 'system:<workflow id>' for saga steps, 'user:<id>' or 'partner:<id>' for people.
    actor       text NOT NULL,
    client_addr inet,
    details     jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX booking_audit_logs_booking_idx ON booking_audit_logs (booking_id, created_at);

CREATE TABLE booking_access_policies (
    booking_access_policy_id uuid PRIMARY KEY,
    booking_id  uuid NOT NULL REFERENCES bookings (booking_id) ON DELETE CASCADE,
    principal   text NOT NULL,
    can_view    boolean NOT NULL DEFAULT true,
    can_change  boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT booking_access_policies_principal_key UNIQUE (booking_id, principal)
);

-- The answer to a client's Idempotency-Key: the same key and body find the same booking.
-- Not a legacy table.
CREATE TABLE booking_requests (
    idempotency_key text PRIMARY KEY,
    request_hash    bytea NOT NULL,
    booking_ref     text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT booking_requests_booking_ref_key UNIQUE (booking_ref),
    CONSTRAINT booking_requests_key_length CHECK (length(idempotency_key) BETWEEN 1 AND 255)
);
