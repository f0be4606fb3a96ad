-- Failed logins per (e-mail, client address) pair, replacing the per-email and per-client
-- locks of `login_throttles`: an attacker's failures slow down the attacker's own pair,
-- never the real user signing in from their own address. An attempt is reserved here,
-- in one statement, before its password is checked. Shared by every API replica.
-- Runs with search_path = auth.

CREATE TABLE login_attempts (
    -- As typed, trimmed and lower-cased (an address that cannot be an account's counts too,
    -- so throttling says nothing about which accounts exist).
    email           text NOT NULL,
    -- The client's address as the API resolved it (see TT_TRUSTED_PROXIES).
    client_addr     inet NOT NULL,
    -- Attempts reserved (and not yet cleared by a success) since the window started.
    failures        integer NOT NULL DEFAULT 0,
    last_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- The next attempt of this pair is refused (429) before this instant.
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT login_attempts_pkey PRIMARY KEY (email, client_addr),
    CONSTRAINT login_attempts_failures_non_negative CHECK (failures >= 0)
);
-- The per-email ceiling sums an e-mail's recent pairs; stale rows are pruned by age.
CREATE INDEX login_attempts_last_attempt_idx ON login_attempts (last_attempt_at);

-- `login_throttles` is no longer written; it stays while API pods of the previous release
-- still read it during a rolling update, and a later migration drops it.
