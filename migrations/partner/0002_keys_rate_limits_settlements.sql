-- Partner keys, shared rate-limit counters and settlement details.
-- Runs with search_path = partner.

-- A key may have its own limit (else its partner's), a label for people, and the key that
-- replaced it when it was rotated.
ALTER TABLE api_credentials
    ADD COLUMN label text,
    ADD COLUMN rate_limit_per_minute integer,
    ADD COLUMN replaced_by uuid REFERENCES api_credentials (api_credential_id),
    ADD CONSTRAINT api_credentials_rate_limit_positive CHECK (rate_limit_per_minute IS NULL OR rate_limit_per_minute > 0),
    ADD CONSTRAINT api_credentials_key_prefix_shape CHECK (key_prefix ~ '^[a-z0-9]{10}$'),
    ADD CONSTRAINT api_credentials_key_hash_length CHECK (octet_length(key_hash) = 32);
CREATE INDEX api_credentials_partner_idx ON api_credentials (partner_id, created_at DESC);

ALTER TABLE api_partners
    ADD CONSTRAINT api_partners_code_shape CHECK (code ~ '^[a-z][a-z0-9-]{1,38}[a-z0-9]$');

-- Requests per subject ('key:<credential id>' or 'partner:<partner id>') per minute, shared
-- by every API replica: each request adds one with a single upsert, and the limit is checked
-- against a sliding window made of this minute and the one before. Rows older than two
-- minutes are deleted in the background.
CREATE TABLE api_rate_windows (
    subject      text NOT NULL,
    window_start timestamptz NOT NULL,
    hits         integer NOT NULL,
    CONSTRAINT api_rate_windows_pkey PRIMARY KEY (subject, window_start),
    CONSTRAINT api_rate_windows_hits_positive CHECK (hits > 0)
);

CREATE INDEX api_access_logs_time_idx ON api_access_logs (created_at);

-- What a settlement counted and at which rate. A period whose refunds exceed its
-- collections settles negative (commission earned earlier is clawed back), so refunds are
-- no longer bounded by the period's collections.
ALTER TABLE partner_settlements
    ADD COLUMN bookings_count integer NOT NULL DEFAULT 0,
    ADD COLUMN refunds_count integer NOT NULL DEFAULT 0,
    ADD COLUMN commission_bp integer NOT NULL DEFAULT 0,
    DROP CONSTRAINT partner_settlements_refunds_within_collected,
    ADD CONSTRAINT partner_settlements_amounts_non_negative CHECK (collected_paise >= 0 AND refunded_paise >= 0),
    ADD CONSTRAINT partner_settlements_counts_non_negative CHECK (bookings_count >= 0 AND refunds_count >= 0),
    ADD CONSTRAINT partner_settlements_commission_range CHECK (commission_bp BETWEEN 0 AND 10000);
CREATE INDEX partner_settlements_partner_period_idx ON partner_settlements (partner_id, period_start DESC);
