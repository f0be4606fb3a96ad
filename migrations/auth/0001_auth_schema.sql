-- Auth context: identities, credentials, RBAC, sessions, activity logs.
-- Runs with search_path = auth.

CREATE TABLE users (
    user_id      uuid PRIMARY KEY,
    email        text NOT NULL,
    full_name    text NOT NULL,
    phone        text,
    status       text NOT NULL DEFAULT 'active',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_email_lowercase CHECK (email = lower(email)),
    CONSTRAINT users_email_shape CHECK (email LIKE '_%@_%'),
    CONSTRAINT users_status_known CHECK (status IN ('active', 'locked', 'disabled'))
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE user_credentials (
    user_id         uuid PRIMARY KEY REFERENCES users (user_id) ON DELETE CASCADE,
    -- PHC string (algorithm, cost and salt travel with the hash so the cost can be raised).
    password_hash   text NOT NULL,
    failed_attempts integer NOT NULL DEFAULT 0,
    locked_until    timestamptz,
    password_changed_at timestamptz NOT NULL DEFAULT now(),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_credentials_phc CHECK (password_hash LIKE '$%'),
    CONSTRAINT user_credentials_failed_attempts_non_negative CHECK (failed_attempts >= 0)
);

CREATE TABLE roles (
    role_id     uuid PRIMARY KEY,
    code        text NOT NULL,
    description text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT roles_code_key UNIQUE (code),
    CONSTRAINT roles_code_shape CHECK (code ~ '^[a-z][a-z_]*$')
);

CREATE TABLE permissions (
    permission_id uuid PRIMARY KEY,
    role_id       uuid NOT NULL REFERENCES roles (role_id) ON DELETE CASCADE,
    code          text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT permissions_role_code_key UNIQUE (role_id, code),
    CONSTRAINT permissions_code_shape CHECK (code ~ '^[a-z_]+:[a-z_]+$')
);

CREATE TABLE user_roles (
    user_id    uuid NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    role_id    uuid NOT NULL REFERENCES roles (role_id) ON DELETE RESTRICT,
    granted_by uuid REFERENCES users (user_id),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_roles_pkey PRIMARY KEY (user_id, role_id)
);

CREATE TABLE user_sessions (
    session_id          uuid PRIMARY KEY,
    user_id             uuid NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    -- All refresh tokens rotated from one login share a family; reuse revokes the family.
    family_id           uuid NOT NULL,
    refresh_token_hash  bytea NOT NULL,
    user_agent          text,
    client_addr         inet,
    expires_at          timestamptz NOT NULL,
    revoked_at          timestamptz,
    replaced_by         uuid REFERENCES user_sessions (session_id),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_sessions_refresh_token_hash_key UNIQUE (refresh_token_hash),
    CONSTRAINT user_sessions_expiry_after_creation CHECK (expires_at > created_at)
);
CREATE INDEX user_sessions_family_idx ON user_sessions (family_id);
CREATE INDEX user_sessions_user_idx ON user_sessions (user_id);

CREATE TABLE user_activity_logs (
    user_activity_log_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      uuid REFERENCES users (user_id) ON DELETE SET NULL,
    action       text NOT NULL,
    outcome      text NOT NULL,
    client_addr  inet,
    details      jsonb NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_activity_logs_outcome_known CHECK (outcome IN ('success', 'failure', 'denied'))
);
CREATE INDEX user_activity_logs_user_time_idx ON user_activity_logs (user_id, created_at DESC);

CREATE TABLE asset_manager_assignments (
    user_id          uuid NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    -- An accommodation of the catalog context: referenced by id, never joined.
    accommodation_id uuid NOT NULL,
    assigned_by      uuid REFERENCES users (user_id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT asset_manager_assignments_pkey PRIMARY KEY (user_id, accommodation_id)
);
CREATE INDEX asset_manager_assignments_accommodation_idx ON asset_manager_assignments (accommodation_id);
