-- The booking record's state machine, enforced where every writer must pass: a status only
-- moves pending_payment → confirmed | failed, or confirmed → cancelled (see the booking
-- crate's `lifecycle`). Anything else is refused, whatever code or operator tries it.
CREATE FUNCTION bookings_status_transition_allowed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status IS DISTINCT FROM OLD.status AND NOT (
        (OLD.status = 'pending_payment' AND NEW.status IN ('confirmed', 'failed'))
        OR (OLD.status = 'confirmed' AND NEW.status = 'cancelled')
    ) THEN
        RAISE EXCEPTION 'booking % cannot move from % to %', OLD.booking_ref, OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'bookings_status_transition';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER bookings_status_transition
    BEFORE UPDATE OF status ON bookings
    FOR EACH ROW EXECUTE FUNCTION bookings_status_transition_allowed();
