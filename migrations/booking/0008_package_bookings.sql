-- Package bookings: a booking is a stay (rooms at one accommodation) or a package (seats on
-- a departure plus the room-nights of every stay the package includes). A package booking
-- keeps the trip's dates in check_in (the departure) and check_out (the return), its party
-- in guests and the rooms each included stay takes in rooms, so reads that only need dates,
-- party and money (lists, settlements, cancellation terms) serve both kinds unchanged.
ALTER TABLE bookings
    ADD COLUMN kind text NOT NULL DEFAULT 'stay',
    -- A package of the catalog context: referenced by id, never joined.
    ADD COLUMN package_id uuid,
    ALTER COLUMN accommodation_id DROP NOT NULL,
    ALTER COLUMN room_type DROP NOT NULL,
    ADD CONSTRAINT bookings_kind_known CHECK (kind IN ('stay', 'package')),
    ADD CONSTRAINT bookings_kind_has_its_subject CHECK (
        (kind = 'stay' AND accommodation_id IS NOT NULL AND room_type IS NOT NULL AND package_id IS NULL)
        OR (kind = 'package' AND package_id IS NOT NULL AND accommodation_id IS NULL AND room_type IS NULL));

-- A day trip returns on the day it departs; a stay is at least one night.
ALTER TABLE bookings DROP CONSTRAINT bookings_dates_ordered;
ALTER TABLE bookings ADD CONSTRAINT bookings_dates_ordered
    CHECK (check_out > check_in OR (kind = 'package' AND check_out = check_in));
-- A package without included stays takes no rooms.
ALTER TABLE bookings DROP CONSTRAINT bookings_rooms_positive;
ALTER TABLE bookings ADD CONSTRAINT bookings_rooms_positive
    CHECK (rooms > 0 OR (kind = 'package' AND rooms = 0));

-- Items: a stay's nights as before, and for a package one item for the party's seats (it
-- carries the package's price) and one per room-night of each included stay (priced at
-- nothing: the package price covers it), each under the hold that keeps it.
ALTER TABLE booking_items
    ADD COLUMN kind text NOT NULL DEFAULT 'room_night',
    ADD COLUMN seats integer,
    ADD COLUMN accommodation_id uuid,
    ADD COLUMN room_type text,
    ADD COLUMN hold_id text,
    ADD CONSTRAINT booking_items_kind_known CHECK (kind IN ('room_night', 'package_seats')),
    ADD CONSTRAINT booking_items_seats_are_for_packages CHECK (
        (kind = 'package_seats' AND seats > 0 AND rooms = 0 AND tariff_paise = 0 AND hold_id IS NOT NULL)
        OR (kind = 'room_night' AND seats IS NULL));
-- The seats item and the first night of an included stay share a date.
ALTER TABLE booking_items DROP CONSTRAINT booking_items_night_key;
ALTER TABLE booking_items ADD CONSTRAINT booking_items_night_key UNIQUE (booking_id, kind, night);
ALTER TABLE booking_items DROP CONSTRAINT booking_items_base_is_tariff_times_rooms;
ALTER TABLE booking_items ADD CONSTRAINT booking_items_base_is_tariff_times_rooms
    CHECK (kind <> 'room_night' OR base_paise = tariff_paise * rooms);

-- Packages are cancelled on stricter terms than stays: the operator has bought the trip's
-- transport and guides by then.
INSERT INTO cancellation_policies (cancellation_policy_id, code, name, tiers, refund_gst) VALUES
    ('c0000000-0000-4000-8000-000000000002', 'package_standard',
     'Full refund 30 or more days before departure, half 15 to 29 days, nothing later',
     '[{"min_days_before_check_in": 30, "refund_bp": 10000},
       {"min_days_before_check_in": 15, "refund_bp": 5000},
       {"min_days_before_check_in": 0, "refund_bp": 0}]', true)
ON CONFLICT (code) DO NOTHING;

-- What a request books, known from the moment its key is bound: each kind has its own list,
-- even before its saga records the booking.
ALTER TABLE booking_requests
    ADD COLUMN kind text NOT NULL DEFAULT 'stay',
    ADD CONSTRAINT booking_requests_kind_known CHECK (kind IN ('stay', 'package'));
