-- Package departures: seats per departure of a package (a multi-day tour), and the holds on
-- them. Runs with search_path = inventory. The same guarantees as room-nights: the counters
-- are guarded by CHECKs, so no bug in code (and no race between replicas) can oversell a
-- departure.

CREATE TABLE package_availability (
    -- A package of the catalog context: referenced by id, never joined.
    package_id       uuid NOT NULL,
    departure_date   date NOT NULL,
    seats_allotted   integer NOT NULL,
    seats_held       integer NOT NULL DEFAULT 0,
    seats_sold       integer NOT NULL DEFAULT 0,
    stop_sell        boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT package_availability_pkey PRIMARY KEY (package_id, departure_date),
    CONSTRAINT package_availability_seats_allotted_non_negative CHECK (seats_allotted >= 0),
    CONSTRAINT package_availability_seats_held_non_negative CHECK (seats_held >= 0),
    CONSTRAINT package_availability_seats_sold_non_negative CHECK (seats_sold >= 0),
    CONSTRAINT package_availability_no_overbooking CHECK (seats_held + seats_sold <= seats_allotted)
);
-- The package search asks which packages depart with seats free over a range of dates,
-- across every package at once: that reads by date, which the primary key (led by the
-- package) cannot serve. Holds and sales change only the counters, never `departure_date`,
-- so their updates stay heap-only despite this index.
CREATE INDEX package_availability_departure_date_idx ON package_availability (departure_date);

-- One row per seat hold: the idempotency record of hold / release / confirm, as
-- `inventory_holds` is for rooms. Seat hold ids (`<workflow id>/seats`) never collide with
-- room hold ids (`<workflow id>/hold`, `<workflow id>/stay-<n>`), so a hold id names one
-- row of one of the two tables.
CREATE TABLE seat_holds (
    hold_id          text NOT NULL,
    booking_ref      text NOT NULL,
    package_id       uuid NOT NULL,
    departure_date   date NOT NULL,
    seats            integer NOT NULL,
    status           text NOT NULL DEFAULT 'held',
    expires_at       timestamptz NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT seat_holds_pkey PRIMARY KEY (hold_id),
    CONSTRAINT seat_holds_seats_positive CHECK (seats > 0),
    CONSTRAINT seat_holds_status_known CHECK (status IN ('held', 'confirmed', 'released'))
);
-- The expiry sweep and every seat hold look for live holds past their expiry: few rows, as
-- the sweep keeps them few, and only live ones are indexed.
CREATE INDEX seat_holds_live_expiry_idx ON seat_holds (expires_at) WHERE status = 'held';

-- A seat hold in one round trip, as `hold_rooms` (migration 0003) is for rooms: on a popular
-- departure every party queues on one row, so the idempotency row, the release of expired
-- holds, the count and the counter are one call, and the departure row's lock is taken by
-- the one statement that moves its counter.
--
-- Locks are taken in the order every writer takes them: seat hold rows first (this hold's,
-- then expired ones in expiry order), the departure row last. Releases, confirmations and
-- the sweep lock the hold row, then the departure row, so none of them deadlock with this.
--
-- Answers one row: `outcome` is `placed`, `already_placed`, `released` (this hold id was
-- given back before, or expired before this retry: it is spent, and a late retry must not
-- take seats nobody would release) or `short`, with the seats still free in `seats_left`
-- (and nothing kept: asking again may place it). A departure without a row, or on stop
-- sell, has no seats free.
CREATE FUNCTION hold_seats(
    p_hold_id text,
    p_booking_ref text,
    p_package_id uuid,
    p_departure_date date,
    p_seats integer,
    p_expires_at timestamptz
) RETURNS TABLE (outcome text, seats_left integer)
LANGUAGE plpgsql
SET search_path FROM CURRENT
-- Expired holds are locked in the order of the expiry index, never by a scan whose order the
-- planner picks, so two holds releasing the same expired holds queue instead of deadlocking.
SET enable_seqscan = off
SET enable_bitmapscan = off
AS $$
DECLARE
    v_inserted boolean;
    v_status text;
    v_released integer;
    v_left integer;
BEGIN
    -- The hold row goes first: a concurrent retry of the same hold id waits on its primary
    -- key here and then finds the hold placed.
    INSERT INTO seat_holds (hold_id, booking_ref, package_id, departure_date, seats, expires_at)
    VALUES (p_hold_id, p_booking_ref, p_package_id, p_departure_date, p_seats, p_expires_at)
    ON CONFLICT (hold_id) DO NOTHING;
    v_inserted := FOUND;

    -- Expired holds of this departure stop counting first (a retry's own expired hold
    -- included; a hold placed just now, even one that expires at once, is not theirs).
    WITH released AS (
        UPDATE seat_holds h SET status = 'released', updated_at = now()
        WHERE h.status = 'held' AND h.expires_at < now()
          AND h.package_id = p_package_id AND h.departure_date = p_departure_date
          AND (NOT v_inserted OR h.hold_id <> p_hold_id)
        RETURNING h.seats
    )
    SELECT sum(seats)::integer INTO v_released FROM released;

    IF v_released IS NOT NULL THEN
        UPDATE package_availability
        SET seats_held = seats_held - v_released, updated_at = now()
        WHERE package_id = p_package_id AND departure_date = p_departure_date;
    END IF;

    IF NOT v_inserted THEN
        SELECT h.status INTO v_status FROM seat_holds h WHERE h.hold_id = p_hold_id;
        RETURN QUERY SELECT CASE WHEN v_status = 'released' THEN 'released' ELSE 'already_placed' END, NULL::integer;
        RETURN;
    END IF;

    -- The counter moves only if the departure has the seats, the row locked as it is
    -- updated: one statement is all a popular departure's lock waits for.
    UPDATE package_availability
    SET seats_held = seats_held + p_seats, updated_at = now()
    WHERE package_id = p_package_id AND departure_date = p_departure_date
      AND NOT stop_sell AND seats_allotted - seats_held - seats_sold >= p_seats;

    IF NOT FOUND THEN
        -- Too few seats, stop sell, or no such departure: keep nothing.
        DELETE FROM seat_holds WHERE hold_id = p_hold_id;
        SELECT CASE WHEN a.stop_sell THEN 0 ELSE greatest(a.seats_allotted - a.seats_held - a.seats_sold, 0) END
        INTO v_left
        FROM package_availability a
        WHERE a.package_id = p_package_id AND a.departure_date = p_departure_date;
        RETURN QUERY SELECT 'short'::text, coalesce(v_left, 0);
        RETURN;
    END IF;
    RETURN QUERY SELECT 'placed'::text, NULL::integer;
END;
$$;
