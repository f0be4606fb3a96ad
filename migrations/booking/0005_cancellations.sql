-- The default cancellation policy, and the terms of each cancellation (fixed once, when it
-- starts, so a retried or repeated cancellation refunds the same amount).
INSERT INTO cancellation_policies (cancellation_policy_id, code, name, tiers, refund_gst) VALUES
    ('c0000000-0000-4000-8000-000000000001', 'standard',
     'Full refund up to 7 days before check-in, half up to 2 days, nothing after',
     '[{"min_days_before_check_in": 7, "refund_bp": 10000},
       {"min_days_before_check_in": 2, "refund_bp": 5000},
       {"min_days_before_check_in": 0, "refund_bp": 0}]', true)
ON CONFLICT (code) DO NOTHING;

CREATE TABLE booking_cancellations (
    booking_id           uuid PRIMARY KEY REFERENCES bookings (booking_id) ON DELETE CASCADE,
    requested_by         text NOT NULL,
    reason               text NOT NULL,
    policy_code          text NOT NULL,
    days_before_check_in integer NOT NULL,
    refund_bp            integer NOT NULL,
    refund_paise         bigint NOT NULL,
    overridden           boolean NOT NULL DEFAULT false,
    refunded_paise       bigint,
    completed_at         timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT booking_cancellations_refund_bp_range CHECK (refund_bp BETWEEN 0 AND 10000),
    CONSTRAINT booking_cancellations_refund_non_negative CHECK (refund_paise >= 0),
    CONSTRAINT booking_cancellations_refunded_within_terms CHECK (refunded_paise IS NULL OR refunded_paise BETWEEN 0 AND refund_paise)
);
