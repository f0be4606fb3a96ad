-- Bookings made by partners through the partner API, and refunds of confirmed bookings.
-- Runs with search_path = booking.

-- The partner behind a request (partner context id), known from the moment the request is
-- accepted: the partner API's ownership check and its booking list work while the saga runs.
-- A partner's Idempotency-Key is scoped to the partner in `idempotency_key` itself.
ALTER TABLE booking_requests ADD COLUMN partner_id uuid;
CREATE INDEX booking_requests_partner_idx ON booking_requests (partner_id, created_at DESC, booking_ref)
    WHERE partner_id IS NOT NULL;

-- Money given back on a confirmed booking (a cancellation, a goodwill refund), dated when it
-- was given back: partner settlements deduct the refunds of their period. A refund made by
-- the booking saga's own compensation is not here: that booking was never confirmed.
CREATE TABLE booking_refunds (
    booking_refund_id uuid PRIMARY KEY,
    booking_id      uuid NOT NULL REFERENCES bookings (booking_id) ON DELETE CASCADE,
    amount_paise    bigint NOT NULL,
    currency        text NOT NULL DEFAULT 'INR',
    reason          text NOT NULL,
    -- Derived from the process that refunded (workflow id and step): recorded once.
    idempotency_key text NOT NULL,
    refunded_at     timestamptz NOT NULL DEFAULT now(),
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT booking_refunds_idempotency_key_key UNIQUE (idempotency_key),
    CONSTRAINT booking_refunds_amount_positive CHECK (amount_paise > 0),
    CONSTRAINT booking_refunds_currency_known CHECK (currency IN ('INR'))
);
CREATE INDEX booking_refunds_booking_idx ON booking_refunds (booking_id);
CREATE INDEX booking_refunds_time_idx ON booking_refunds (refunded_at);
