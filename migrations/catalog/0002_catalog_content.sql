-- Catalog content: what the public reads of destinations, experiences and packages need from
-- the schema of 0001. Runs with search_path = catalog.

-- A child's price on a per-person season (children on a per-room or per-group price travel
-- in the room or group). NULL: a child pays the adult price. Never above the adult price.
ALTER TABLE package_pricing
    ADD COLUMN child_price_paise bigint,
    ADD CONSTRAINT package_pricing_child_price_per_person
        CHECK (child_price_paise IS NULL OR (pricing_basis = 'per_person' AND child_price_paise >= 0
                                             AND child_price_paise <= price_paise));

-- Exactly one price applies to a departure: the seasons of one package never overlap, so a
-- quote never has to guess between two rows. Validity is inclusive at both ends, as the
-- validity_ordered CHECK of 0001 (valid_to >= valid_from) already implies. btree_gist gives
-- GiST the uuid equality the constraint needs; it is a trusted extension, so the schema's
-- owner may create it.
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE package_pricing
    ADD CONSTRAINT package_pricing_no_overlap
        EXCLUDE USING gist (package_id WITH =, daterange(valid_from, valid_to, '[]') WITH &&);

-- The reads filter and fetch by the second column of these keys: the experiences of a
-- destination, the packages visiting a destination, the packages offering an amenity.
CREATE INDEX experience_destinations_destination_idx ON experience_destinations (destination_id);
CREATE INDEX package_destinations_destination_idx ON package_destinations (destination_id);
CREATE INDEX package_amenities_amenity_idx ON package_amenities (amenity_id);

-- Public codes, like those of destinations and accommodations: they appear in URLs.
ALTER TABLE experiences
    ADD CONSTRAINT experiences_code_shape CHECK (code ~ '^[a-z0-9]+(-[a-z0-9]+)*$');
ALTER TABLE packages
    ADD CONSTRAINT packages_code_shape CHECK (code ~ '^[a-z0-9]+(-[a-z0-9]+)*$');
ALTER TABLE amenities
    ADD CONSTRAINT amenities_code_shape CHECK (code ~ '^[a-z0-9]+(-[a-z0-9]+)*$');
