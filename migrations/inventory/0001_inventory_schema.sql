-- Inventory context: room-nights per accommodation and room type, and the holds on them.
-- Runs with search_path = inventory. High concurrency: the counters are guarded by CHECKs,
-- so no bug in code (and no race between replicas) can overbook.

CREATE TABLE accommodation_availability (
    -- An accommodation of the catalog context: referenced by id, never joined.
    accommodation_id uuid NOT NULL,
    room_type        text NOT NULL,
    night            date NOT NULL,
    allotment        integer NOT NULL,
    held             integer NOT NULL DEFAULT 0,
    booked           integer NOT NULL DEFAULT 0,
    stop_sell        boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT accommodation_availability_pkey PRIMARY KEY (accommodation_id, room_type, night),
    CONSTRAINT accommodation_availability_allotment_non_negative CHECK (allotment >= 0),
    CONSTRAINT accommodation_availability_held_non_negative CHECK (held >= 0),
    CONSTRAINT accommodation_availability_booked_non_negative CHECK (booked >= 0),
    CONSTRAINT accommodation_availability_no_overbooking CHECK (held + booked <= allotment)
);

-- One row per hold: the idempotency record of hold / release / confirm. Not a legacy table.
CREATE TABLE inventory_holds (
    hold_id          text PRIMARY KEY,
    booking_ref      text NOT NULL,
    accommodation_id uuid NOT NULL,
    room_type        text NOT NULL,
    check_in         date NOT NULL,
    check_out        date NOT NULL,
    rooms            integer NOT NULL,
    status           text NOT NULL DEFAULT 'held',
    expires_at       timestamptz NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT inventory_holds_dates_ordered CHECK (check_out > check_in),
    CONSTRAINT inventory_holds_rooms_positive CHECK (rooms > 0),
    CONSTRAINT inventory_holds_status_known CHECK (status IN ('held', 'confirmed', 'released'))
);
CREATE INDEX inventory_holds_live_expiry_idx ON inventory_holds (expires_at) WHERE status = 'held';
