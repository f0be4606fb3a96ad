-- When the saga of a booking request was started. A repeated request (same
-- Idempotency-Key and body) starts the saga only while this is NULL, so a retry long
-- after the workflow left Temporal's retention can never start a second one.
ALTER TABLE booking_requests ADD COLUMN saga_started_at timestamptz;
