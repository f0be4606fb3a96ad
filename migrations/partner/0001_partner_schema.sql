-- Partner context: B2B partners, their API keys, access logs and settlements.
-- Runs with search_path = partner.

CREATE TABLE api_partners (
    partner_id       uuid PRIMARY KEY,
    code             text NOT NULL,
    name             text NOT NULL,
    contact_email    text NOT NULL,
    commission_bp    integer NOT NULL,
    settlement_cycle text NOT NULL DEFAULT 'weekly',
    status           text NOT NULL DEFAULT 'active',
    rate_limit_per_minute integer NOT NULL DEFAULT 600,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT api_partners_code_key UNIQUE (code),
    CONSTRAINT api_partners_commission_range CHECK (commission_bp BETWEEN 0 AND 10000),
    CONSTRAINT api_partners_cycle_known CHECK (settlement_cycle IN ('weekly', 'fortnightly', 'monthly')),
    CONSTRAINT api_partners_status_known CHECK (status IN ('active', 'suspended', 'closed')),
    CONSTRAINT api_partners_rate_limit_positive CHECK (rate_limit_per_minute > 0)
);

CREATE TABLE api_credentials (
    api_credential_id uuid PRIMARY KEY,
    partner_id   uuid NOT NULL REFERENCES api_partners (partner_id) ON DELETE CASCADE,
    -- The visible start of the key, for lookup; the key itself is stored only as a hash.
    key_prefix   text NOT NULL,
    key_hash     bytea NOT NULL,
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT api_credentials_key_prefix_key UNIQUE (key_prefix),
    CONSTRAINT api_credentials_key_hash_key UNIQUE (key_hash)
);

CREATE TABLE api_access_logs (
    api_access_log_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    partner_id   uuid REFERENCES api_partners (partner_id) ON DELETE SET NULL,
    key_prefix   text,
    method       text NOT NULL,
    route        text NOT NULL,
    status       integer NOT NULL,
    latency_ms   integer NOT NULL,
    client_addr  inet,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT api_access_logs_status_range CHECK (status BETWEEN 100 AND 599),
    CONSTRAINT api_access_logs_latency_non_negative CHECK (latency_ms >= 0)
);
CREATE INDEX api_access_logs_partner_time_idx ON api_access_logs (partner_id, created_at DESC);

CREATE TABLE partner_settlements (
    partner_settlement_id uuid PRIMARY KEY,
    partner_id        uuid NOT NULL REFERENCES api_partners (partner_id),
    period_start      date NOT NULL,
    period_end        date NOT NULL,
    collected_paise   bigint NOT NULL,
    refunded_paise    bigint NOT NULL,
    commission_paise  bigint NOT NULL,
    tds_paise         bigint NOT NULL,
    payout_paise      bigint NOT NULL,
    currency          text NOT NULL DEFAULT 'INR',
    status            text NOT NULL DEFAULT 'computed',
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT partner_settlements_period_key UNIQUE (partner_id, period_start, period_end),
    CONSTRAINT partner_settlements_period_ordered CHECK (period_end > period_start),
    CONSTRAINT partner_settlements_refunds_within_collected CHECK (refunded_paise BETWEEN 0 AND collected_paise),
    CONSTRAINT partner_settlements_payout_balances CHECK (payout_paise = commission_paise - tds_paise),
    CONSTRAINT partner_settlements_status_known CHECK (status IN ('computed', 'approved', 'paid'))
);
