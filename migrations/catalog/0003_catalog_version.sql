-- The catalog's version: every change to a catalog table moves it, and announces the new
-- version on the channel `catalog_changed`. API processes keep published pages in memory
-- under the version they were read at, and hear of every change at once, on every replica:
-- a page is served from memory only while its version is the catalog's.
CREATE TABLE catalog_version (
    singleton boolean PRIMARY KEY DEFAULT true,
    version   bigint NOT NULL DEFAULT 1,
    CONSTRAINT catalog_version_one_row CHECK (singleton),
    CONSTRAINT catalog_version_positive CHECK (version > 0)
);
INSERT INTO catalog_version DEFAULT VALUES;

-- Once per statement, not per row: a change of many rows is one version. The notification
-- is sent when the change commits, and never for a change that rolls back.
CREATE FUNCTION catalog_changed() RETURNS trigger
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
    v_version bigint;
BEGIN
    UPDATE catalog_version SET version = version + 1 RETURNING version INTO v_version;
    PERFORM pg_notify('catalog_changed', v_version::text);
    RETURN NULL;
END;
$$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['destinations', 'destination_images', 'accommodations', 'accommodation_room_types',
                             'experiences', 'experience_destinations', 'packages', 'package_destinations',
                             'package_experiences', 'amenities', 'package_amenities', 'package_pricing'] LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %I
                        FOR EACH STATEMENT EXECUTE FUNCTION catalog_changed()', t || '_changed', t);
        EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %I
                        FOR EACH STATEMENT EXECUTE FUNCTION catalog_changed()', t || '_truncated', t);
    END LOOP;
END;
$$;
