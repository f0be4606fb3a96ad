-- Catalog context: what Tripura Tourism sells. Read-heavy; prices in paise.
-- Runs with search_path = catalog.

CREATE TABLE destinations (
    destination_id uuid PRIMARY KEY,
    code           text NOT NULL,
    name           text NOT NULL,
    district       text NOT NULL,
    summary        text NOT NULL DEFAULT '',
    latitude       numeric(9, 6),
    longitude      numeric(9, 6),
    published      boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT destinations_code_key UNIQUE (code),
    CONSTRAINT destinations_code_shape CHECK (code ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    CONSTRAINT destinations_latitude_range CHECK (latitude BETWEEN -90 AND 90),
    CONSTRAINT destinations_longitude_range CHECK (longitude BETWEEN -180 AND 180)
);

CREATE TABLE destination_images (
    destination_image_id uuid PRIMARY KEY,
    destination_id uuid NOT NULL REFERENCES destinations (destination_id) ON DELETE CASCADE,
    url            text NOT NULL,
    caption        text NOT NULL DEFAULT '',
    position       integer NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT destination_images_position_key UNIQUE (destination_id, position)
);

CREATE TABLE accommodations (
    accommodation_id uuid PRIMARY KEY,
    code             text NOT NULL,
    destination_id   uuid NOT NULL REFERENCES destinations (destination_id),
    name             text NOT NULL,
    kind             text NOT NULL,
    summary          text NOT NULL DEFAULT '',
    address          text NOT NULL DEFAULT '',
    published        boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT accommodations_code_key UNIQUE (code),
    CONSTRAINT accommodations_code_shape CHECK (code ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    CONSTRAINT accommodations_kind_known CHECK (kind IN ('hotel', 'homestay', 'resort', 'guest_house', 'eco_lodge'))
);
CREATE INDEX accommodations_destination_idx ON accommodations (destination_id) WHERE published;

-- Room types and their base nightly tariff. Not a legacy table: the legacy schema kept room
-- types as free text on availability rows; a table lets the API validate and quote them.
CREATE TABLE accommodation_room_types (
    accommodation_id uuid NOT NULL REFERENCES accommodations (accommodation_id) ON DELETE CASCADE,
    room_type        text NOT NULL,
    name             text NOT NULL,
    max_occupancy    integer NOT NULL,
    base_tariff_paise bigint NOT NULL,
    currency         text NOT NULL DEFAULT 'INR',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT accommodation_room_types_pkey PRIMARY KEY (accommodation_id, room_type),
    CONSTRAINT accommodation_room_types_code_shape CHECK (room_type ~ '^[a-z0-9]+(_[a-z0-9]+)*$'),
    CONSTRAINT accommodation_room_types_occupancy_range CHECK (max_occupancy BETWEEN 1 AND 12),
    CONSTRAINT accommodation_room_types_tariff_positive CHECK (base_tariff_paise > 0),
    CONSTRAINT accommodation_room_types_currency_known CHECK (currency IN ('INR'))
);

CREATE TABLE experiences (
    experience_id uuid PRIMARY KEY,
    code          text NOT NULL,
    name          text NOT NULL,
    summary       text NOT NULL DEFAULT '',
    duration_minutes integer NOT NULL,
    price_paise   bigint NOT NULL,
    currency      text NOT NULL DEFAULT 'INR',
    published     boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT experiences_code_key UNIQUE (code),
    CONSTRAINT experiences_duration_positive CHECK (duration_minutes > 0),
    CONSTRAINT experiences_price_non_negative CHECK (price_paise >= 0),
    CONSTRAINT experiences_currency_known CHECK (currency IN ('INR'))
);

CREATE TABLE experience_destinations (
    experience_id  uuid NOT NULL REFERENCES experiences (experience_id) ON DELETE CASCADE,
    destination_id uuid NOT NULL REFERENCES destinations (destination_id) ON DELETE CASCADE,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT experience_destinations_pkey PRIMARY KEY (experience_id, destination_id)
);

CREATE TABLE packages (
    package_id  uuid PRIMARY KEY,
    code        text NOT NULL,
    name        text NOT NULL,
    summary     text NOT NULL DEFAULT '',
    nights      integer NOT NULL,
    max_group_size integer NOT NULL DEFAULT 10,
    published   boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT packages_code_key UNIQUE (code),
    CONSTRAINT packages_nights_range CHECK (nights BETWEEN 0 AND 30),
    CONSTRAINT packages_group_size_positive CHECK (max_group_size > 0)
);

CREATE TABLE package_destinations (
    package_id     uuid NOT NULL REFERENCES packages (package_id) ON DELETE CASCADE,
    destination_id uuid NOT NULL REFERENCES destinations (destination_id),
    day_number     integer NOT NULL DEFAULT 1,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT package_destinations_pkey PRIMARY KEY (package_id, destination_id),
    CONSTRAINT package_destinations_day_positive CHECK (day_number > 0)
);

CREATE TABLE package_experiences (
    package_id    uuid NOT NULL REFERENCES packages (package_id) ON DELETE CASCADE,
    experience_id uuid NOT NULL REFERENCES experiences (experience_id),
    day_number    integer NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT package_experiences_pkey PRIMARY KEY (package_id, experience_id),
    CONSTRAINT package_experiences_day_positive CHECK (day_number > 0)
);

CREATE TABLE amenities (
    amenity_id uuid PRIMARY KEY,
    code       text NOT NULL,
    name       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT amenities_code_key UNIQUE (code)
);

CREATE TABLE package_amenities (
    package_id uuid NOT NULL REFERENCES packages (package_id) ON DELETE CASCADE,
    amenity_id uuid NOT NULL REFERENCES amenities (amenity_id),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT package_amenities_pkey PRIMARY KEY (package_id, amenity_id)
);

CREATE TABLE package_pricing (
    package_pricing_id uuid PRIMARY KEY,
    package_id   uuid NOT NULL REFERENCES packages (package_id) ON DELETE CASCADE,
    pricing_basis text NOT NULL,
    valid_from   date NOT NULL,
    valid_to     date NOT NULL,
    price_paise  bigint NOT NULL,
    currency     text NOT NULL DEFAULT 'INR',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT package_pricing_basis_known CHECK (pricing_basis IN ('per_person', 'per_room', 'per_group')),
    CONSTRAINT package_pricing_validity_ordered CHECK (valid_to >= valid_from),
    CONSTRAINT package_pricing_price_positive CHECK (price_paise > 0),
    CONSTRAINT package_pricing_currency_known CHECK (currency IN ('INR'))
);
CREATE INDEX package_pricing_package_validity_idx ON package_pricing (package_id, valid_from, valid_to);
