-- Every gateway webhook event received, by the gateway's event id: a redelivered or replayed
-- event finds its row and changes nothing. Events that could not be applied stay here with
-- their reason for an operator.
CREATE TABLE webhook_events (
    event_id           text PRIMARY KEY,
    event              text NOT NULL,
    gateway_order_id   text,
    gateway_payment_id text,
    amount_paise       bigint,
    -- received: not applied yet (a crash or an outage in between: the redelivery applies it)
    outcome            text NOT NULL DEFAULT 'received',
    detail             text,
    received_at        timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT webhook_events_outcome_known CHECK (outcome IN (
        'received', 'signalled', 'refund_started', 'settled', 'ignored', 'amount_mismatch', 'unknown_order'))
);
-- What operators look at: events that were refused.
CREATE INDEX webhook_events_flagged_idx ON webhook_events (received_at DESC)
    WHERE outcome IN ('amount_mismatch', 'unknown_order');
