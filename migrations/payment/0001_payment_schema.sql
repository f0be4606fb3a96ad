-- Payment context: every attempt, capture and refund with the gateway's ids.
-- Runs with search_path = payment.

CREATE TABLE payments (
    payment_id          uuid PRIMARY KEY,
    booking_ref         text NOT NULL,
    -- Derived from the workflow id and step: a retried charge finds its own row.
    idempotency_key     text NOT NULL,
    amount_paise        bigint NOT NULL,
    currency            text NOT NULL DEFAULT 'INR',
    status              text NOT NULL DEFAULT 'created',
    gateway_order_id    text,
    gateway_payment_id  text,
    captured_paise      bigint NOT NULL DEFAULT 0,
    refunded_paise      bigint NOT NULL DEFAULT 0,
    failure_code        text,
    failure_message     text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT payments_idempotency_key_key UNIQUE (idempotency_key),
    CONSTRAINT payments_gateway_order_id_key UNIQUE (gateway_order_id),
    CONSTRAINT payments_gateway_payment_id_key UNIQUE (gateway_payment_id),
    CONSTRAINT payments_amount_positive CHECK (amount_paise > 0),
    CONSTRAINT payments_status_known CHECK (status IN ('created', 'authorized', 'captured', 'declined', 'voided', 'refunded', 'partially_refunded')),
    CONSTRAINT payments_capture_within_amount CHECK (captured_paise BETWEEN 0 AND amount_paise),
    CONSTRAINT payments_refunds_within_capture CHECK (refunded_paise BETWEEN 0 AND captured_paise),
    CONSTRAINT payments_currency_known CHECK (currency IN ('INR'))
);
CREATE INDEX payments_booking_ref_idx ON payments (booking_ref);

-- The money movements of a booking: one row per capture and per refund.
CREATE TABLE booking_payments (
    booking_payment_id uuid PRIMARY KEY,
    booking_ref     text NOT NULL,
    payment_id      uuid NOT NULL REFERENCES payments (payment_id),
    kind            text NOT NULL,
    amount_paise    bigint NOT NULL,
    currency        text NOT NULL DEFAULT 'INR',
    gateway_ref     text NOT NULL,
    idempotency_key text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT booking_payments_idempotency_key_key UNIQUE (idempotency_key),
    CONSTRAINT booking_payments_gateway_ref_key UNIQUE (kind, gateway_ref),
    CONSTRAINT booking_payments_kind_known CHECK (kind IN ('capture', 'refund')),
    CONSTRAINT booking_payments_amount_positive CHECK (amount_paise > 0)
);
CREATE INDEX booking_payments_booking_ref_idx ON booking_payments (booking_ref);
