-- A refund the gateway keeps refusing can be taken over by an operator: it is then owed to
-- the traveller (paid by hand, outside the saga) instead of retried. An owed refund keeps its
-- amount set aside, as a requested one does, so no other refund can give the same money back,
-- and the refund's own attempts stop asking the gateway once they find it owed.
ALTER TABLE refund_requests
    DROP CONSTRAINT refund_requests_status_known,
    ADD CONSTRAINT refund_requests_status_known CHECK (status IN ('requested', 'refunded', 'owed')),
    ADD COLUMN handed_over_by text,
    ADD COLUMN handed_over_reason text,
    -- Who took it over and why are known exactly when it is owed.
    ADD CONSTRAINT refund_requests_owed_has_operator CHECK (
        (status = 'owed') = (handed_over_by IS NOT NULL AND handed_over_reason IS NOT NULL)
    ),
    ADD CONSTRAINT refund_requests_handover_reason_present CHECK (
        handed_over_reason IS NULL OR length(handed_over_reason) BETWEEN 1 AND 500
    );

DROP INDEX refund_requests_open_idx;
-- What is still set aside on a capture: the requests in flight and the refunds owed.
CREATE INDEX refund_requests_open_idx ON refund_requests (payment_id) WHERE status IN ('requested', 'owed');
