-- How a charge takes its money. 'card': the saga's charge step pays the order server to
-- server and records the outcome itself, so the gateway's webhooks about it need no action
-- while that step runs. 'checkout': the traveller pays on the gateway's page, and the
-- webhook is what wakes the waiting saga. NULL for charges recorded before this column;
-- they are treated as 'checkout', which was the behaviour for every charge then.
ALTER TABLE payments ADD COLUMN method text
    CONSTRAINT payments_method_known CHECK (method IN ('card', 'checkout'));

-- charge_in_progress: a webhook about a card charge whose step is still running; the step
-- reads the payment from the gateway itself.
ALTER TABLE webhook_events DROP CONSTRAINT webhook_events_outcome_known;
ALTER TABLE webhook_events ADD CONSTRAINT webhook_events_outcome_known CHECK (outcome IN (
    'received', 'signalled', 'refund_started', 'settled', 'ignored', 'amount_mismatch', 'unknown_order',
    'charge_in_progress'));
