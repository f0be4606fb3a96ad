-- The operators' inbox of gateway events that were not applied: each is resolved once (its
-- payment refunded, or kept on its booking's ledger), by whom and why. Webhooks whose
-- signature does not verify are counted per hour: nothing of them can be trusted to keep.
ALTER TABLE webhook_events
    ADD COLUMN resolution        text,
    ADD COLUMN resolved_by       text,
    ADD COLUMN resolution_reason text,
    ADD COLUMN resolved_at       timestamptz,
    -- The gateway's refund id of a payment refunded by the resolution.
    ADD COLUMN resolution_refund text,
    ADD CONSTRAINT webhook_events_resolution_known CHECK (
        resolution IN ('refunding', 'refunded', 'attaching', 'attached', 'nothing_to_refund')),
    ADD CONSTRAINT webhook_events_resolution_explained CHECK (
        (resolution IS NULL) = (resolved_by IS NULL) AND (resolution IS NULL) = (resolution_reason IS NULL)
        AND (resolution IS NULL) = (resolved_at IS NULL));

CREATE TABLE webhook_signature_failures (
    hour     timestamptz PRIMARY KEY,
    failures integer NOT NULL,
    CONSTRAINT webhook_signature_failures_counted CHECK (failures > 0),
    CONSTRAINT webhook_signature_failures_on_the_hour CHECK (hour = date_trunc('hour', hour))
);
