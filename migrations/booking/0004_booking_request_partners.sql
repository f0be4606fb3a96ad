-- Bookings made by partners through the partner API.
-- Runs with search_path = booking.

-- The partner behind a request (partner context id), known from the moment the request is
-- accepted: the partner API's ownership check and its booking list work while the saga runs.
-- A partner's Idempotency-Key is scoped to the partner in `idempotency_key` itself.
ALTER TABLE booking_requests ADD COLUMN partner_id uuid;
CREATE INDEX booking_requests_partner_idx ON booking_requests (partner_id, created_at DESC, booking_ref)
    WHERE partner_id IS NOT NULL;
