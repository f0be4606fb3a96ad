-- The stays a package includes: which room type of which accommodation the party sleeps in,
-- on which nights of the itinerary. A package booking holds seats on its departure and the
-- rooms of every one of these stays, dated from the departure. Runs with search_path = catalog.
--
-- Nights are counted like the itinerary's days: night 1 is the night of the departure date,
-- so a stay from `first_night` for `nights` checks in on departure + first_night - 1 and
-- checks out `nights` days later. A package's nights need not all be covered (a night on a
-- train, or in the traveller's own arrangements).
CREATE TABLE package_stays (
    package_id       uuid NOT NULL REFERENCES packages (package_id) ON DELETE CASCADE,
    first_night      integer NOT NULL,
    nights           integer NOT NULL,
    accommodation_id uuid NOT NULL,
    room_type        text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT package_stays_pkey PRIMARY KEY (package_id, first_night),
    -- No cascade: a room type a package sells cannot disappear from under the package; it is
    -- taken out of the package's stays first.
    CONSTRAINT package_stays_room_type_fkey FOREIGN KEY (accommodation_id, room_type)
        REFERENCES accommodation_room_types (accommodation_id, room_type),
    CONSTRAINT package_stays_first_night_positive CHECK (first_night >= 1),
    CONSTRAINT package_stays_nights_positive CHECK (nights >= 1),
    -- No package runs more than 30 nights (packages_nights_range), so no stay ends after the
    -- 30th: a bound the row can check alone, which also keeps the range below from
    -- overflowing.
    CONSTRAINT package_stays_within_longest_package CHECK (first_night + nights <= 31),
    -- One bed a night: two stays of a package never cover the same night. The range is the
    -- stay's nights, [first_night, first_night + nights). btree_gist (0002) gives GiST the
    -- uuid equality.
    CONSTRAINT package_stays_no_overlap
        EXCLUDE USING gist (package_id WITH =, int4range(first_night, first_night + nights) WITH &&)
);
-- That a stay ends by the package's last night (first_night + nights - 1 <= packages.nights)
-- is checked by the code that sets a package's stays (Catalog::put_package_stays), not by a
-- trigger: a CHECK cannot read the package, and a trigger would have to watch packages.nights
-- as well as these rows, and would refuse with an exception the code must decode to say which
-- stay is at fault. The code sets a package's stays only with the package's row locked
-- (FOR UPDATE), and names the stay it refuses. No operation changes a package's nights once
-- it is created; one that does must check the package's stays still fit.

-- Which packages include a room type: the foreign key's check when a room type is deleted,
-- and the booking side's question of what a stay's rooms are sold in.
CREATE INDEX package_stays_room_type_idx ON package_stays (accommodation_id, room_type);

-- A change to a package's stays is a change to the catalog (0003): it moves the version and
-- announces it, so no replica serves a package page kept from before.
CREATE TRIGGER package_stays_changed AFTER INSERT OR UPDATE OR DELETE ON package_stays
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_changed();
CREATE TRIGGER package_stays_truncated AFTER TRUNCATE ON package_stays
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_changed();
