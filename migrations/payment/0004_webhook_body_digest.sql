-- The event id arrives in a header the signature does not cover: a signed body replayed
-- under a fresh id would look like a new event. The digest of the signed body identifies
-- the event too, so such a replay finds the row of the original and changes nothing.
-- (Rows received before this column existed have none.)
ALTER TABLE webhook_events ADD COLUMN body_sha256 bytea;
CREATE UNIQUE INDEX webhook_events_body_sha256_key ON webhook_events (body_sha256) WHERE body_sha256 IS NOT NULL;
