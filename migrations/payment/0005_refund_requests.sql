-- Every refund of a fixed amount of a capture (a cancellation's, an operator's), reserved
-- under the charge's lock before the gateway is asked. The reservation fixes the amount
-- under its key, so every attempt sends the gateway the same body, and it counts against
-- what is left to refund while the gateway call is in flight: two refunds asked at once
-- can never give back more than was captured.
CREATE TABLE refund_requests (
    refund_key        text PRIMARY KEY,
    payment_id        uuid NOT NULL REFERENCES payments (payment_id),
    booking_ref       text NOT NULL,
    amount_paise      bigint NOT NULL,
    reason            text NOT NULL,
    -- `user:<id>` for an operator's refund, `saga:<workflow id>` for a cancellation's.
    requested_by      text NOT NULL,
    status            text NOT NULL DEFAULT 'requested',
    gateway_refund_id text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT refund_requests_amount_positive CHECK (amount_paise > 0),
    CONSTRAINT refund_requests_status_known CHECK (status IN ('requested', 'refunded')),
    CONSTRAINT refund_requests_refunded_has_gateway_id CHECK ((status = 'refunded') = (gateway_refund_id IS NOT NULL)),
    CONSTRAINT refund_requests_reason_present CHECK (length(reason) BETWEEN 1 AND 500)
);
CREATE INDEX refund_requests_booking_ref_idx ON refund_requests (booking_ref, created_at);
-- What is still reserved on a capture: the open requests only.
CREATE INDEX refund_requests_open_idx ON refund_requests (payment_id) WHERE status = 'requested';
