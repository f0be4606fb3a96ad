-- A hold in one round trip. On a hot room-night every client queues on one row: the hold
-- used to pay for its expiry release, its idempotency row, the night locks, the count and
-- the update in separate statements, each a round trip, several of them while the lock was
-- held. This function does them all in one call, and the hot row's lock is taken by the
-- one statement that moves its counter, so the lock waits for nothing else.
--
-- Locks are taken in the order every writer takes them: a hold's own row first, then the
-- nights in date order. When expired holds are released on the way, the nights of the
-- stay and theirs are locked first as one range, so two holds never lock each other's
-- nights out of order.
--
-- Answers one row: `outcome` is `placed`, `already_placed`, `released` (this hold id was
-- given back before, or expired before this retry: it is spent, and a late retry must not
-- take rooms nobody would release) or `short`, with the nights lacking rooms in
-- `short_nights` (and nothing kept: asking again may place it).
CREATE FUNCTION hold_rooms(
    p_hold_id text,
    p_booking_ref text,
    p_accommodation_id uuid,
    p_room_type text,
    p_check_in date,
    p_check_out date,
    p_rooms integer,
    p_expires_at timestamptz
) RETURNS TABLE (outcome text, short_nights date[])
LANGUAGE plpgsql
SET search_path FROM CURRENT
-- Rows are locked in the order the statements read them: by the primary key's index, in
-- date order, never by a scan whose order the planner picks.
SET enable_seqscan = off
SET enable_bitmapscan = off
AS $$
DECLARE
    v_inserted boolean;
    v_status text;
    v_from date;
    v_to date;
    v_released_in date[];
    v_released_out date[];
    v_released_rooms integer[];
    v_taken date[];
    v_short date[];
BEGIN
    -- The hold row goes first: a concurrent retry of the same hold id waits on its primary
    -- key here and then finds the hold placed.
    INSERT INTO inventory_holds (hold_id, booking_ref, accommodation_id, room_type, check_in, check_out, rooms, expires_at)
    VALUES (p_hold_id, p_booking_ref, p_accommodation_id, p_room_type, p_check_in, p_check_out, p_rooms, p_expires_at)
    ON CONFLICT (hold_id) DO NOTHING;
    v_inserted := FOUND;

    -- Expired holds on these nights stop counting first (a retry's own expired hold
    -- included; a hold placed just now, even one that expires at once, is not theirs).
    WITH released AS (
        UPDATE inventory_holds h SET status = 'released', updated_at = now()
        WHERE h.status = 'held' AND h.expires_at < now()
          AND h.accommodation_id = p_accommodation_id AND h.room_type = p_room_type
          AND h.check_in < p_check_out AND h.check_out > p_check_in
          AND (NOT v_inserted OR h.hold_id <> p_hold_id)
        RETURNING h.check_in, h.check_out, h.rooms
    )
    SELECT array_agg(check_in), array_agg(check_out), array_agg(rooms),
           least(min(check_in), p_check_in), greatest(max(check_out), p_check_out)
    INTO v_released_in, v_released_out, v_released_rooms, v_from, v_to
    FROM released;

    IF v_released_in IS NOT NULL THEN
        PERFORM 1 FROM accommodation_availability a
        WHERE a.accommodation_id = p_accommodation_id AND a.room_type = p_room_type
          AND a.night >= v_from AND a.night < v_to
        ORDER BY a.night
        FOR UPDATE;
        UPDATE accommodation_availability a
        SET held = a.held - r.rooms, updated_at = now()
        FROM (SELECT e.check_in + i AS night, sum(e.rooms)::integer AS rooms
              FROM unnest(v_released_in, v_released_out, v_released_rooms) AS e(check_in, check_out, rooms),
                   generate_series(0, e.check_out - e.check_in - 1) AS i
              GROUP BY 1) r
        WHERE a.accommodation_id = p_accommodation_id AND a.room_type = p_room_type AND a.night = r.night;
    END IF;

    IF NOT v_inserted THEN
        SELECT h.status INTO v_status FROM inventory_holds h WHERE h.hold_id = p_hold_id;
        RETURN QUERY SELECT CASE WHEN v_status = 'released' THEN 'released' ELSE 'already_placed' END, NULL::date[];
        RETURN;
    END IF;

    -- The counters move only on the nights that have the rooms, each row locked as it is
    -- updated, in the primary key's order (the function forces that index scan): one
    -- statement is all a hot night's lock waits for.
    WITH taken AS (
        UPDATE accommodation_availability
        SET held = held + p_rooms, updated_at = now()
        WHERE accommodation_id = p_accommodation_id AND room_type = p_room_type
          AND night >= p_check_in AND night < p_check_out
          AND NOT stop_sell AND allotment - held - booked >= p_rooms
        RETURNING night
    )
    SELECT array_agg(night) INTO v_taken FROM taken;

    IF coalesce(cardinality(v_taken), 0) < p_check_out - p_check_in THEN
        -- Some night lacks the rooms (or has no allotment at all): give back what was
        -- taken, still under the same locks, and keep nothing.
        UPDATE accommodation_availability
        SET held = held - p_rooms, updated_at = now()
        WHERE accommodation_id = p_accommodation_id AND room_type = p_room_type AND night = ANY(v_taken);
        DELETE FROM inventory_holds WHERE hold_id = p_hold_id;
        SELECT array_agg(w.night ORDER BY w.night) INTO v_short
        FROM (SELECT p_check_in + i AS night FROM generate_series(0, p_check_out - p_check_in - 1) AS i) w
        WHERE NOT w.night = ANY(coalesce(v_taken, '{}'));
        RETURN QUERY SELECT 'short'::text, v_short;
        RETURN;
    END IF;
    RETURN QUERY SELECT 'placed'::text, NULL::date[];
END;
$$;
