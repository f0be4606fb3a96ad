-- Who asked for a booking: the signed-in user behind the request. Known from the moment the
-- request is accepted (before the saga writes the booking), so "my bookings" and the API's
-- ownership check work while the saga is still running.
ALTER TABLE booking_requests ADD COLUMN user_id uuid;
CREATE INDEX booking_requests_user_idx ON booking_requests (user_id, created_at DESC, booking_ref)
    WHERE user_id IS NOT NULL;
