-- What an accepted booking request asked for (the stay, the party and the quoted total),
-- written as its saga starts. Until the saga records the booking, this is how the API
-- still answers "received, in progress" for it while the saga cannot be asked (Temporal
-- briefly away, a slow query under load), instead of an error.
ALTER TABLE booking_requests ADD COLUMN accepted jsonb;
ALTER TABLE booking_requests ADD CONSTRAINT booking_requests_accepted_object
    CHECK (accepted IS NULL OR jsonb_typeof(accepted) = 'object');
