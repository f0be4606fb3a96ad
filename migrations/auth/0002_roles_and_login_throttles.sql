-- The four roles and what each may do, and the login throttle.
-- Runs with search_path = auth.

-- Fixed ids so every environment has the same roles; codes are what the code refers to.
INSERT INTO roles (role_id, code, description) VALUES
    ('a0000000-0000-4000-8000-000000000001', 'traveller', 'Books stays and sees and cancels their own bookings'),
    ('a0000000-0000-4000-8000-000000000002', 'asset_manager', 'Manages the details and allotments of assigned properties'),
    ('a0000000-0000-4000-8000-000000000003', 'operator', 'Sees and acts on every booking, property and allotment'),
    ('a0000000-0000-4000-8000-000000000004', 'admin', 'Everything an operator does, plus users, roles and partners')
ON CONFLICT (role_id) DO NOTHING;

-- `<resource>:<action>`; `_own` / `_assigned` permissions still pass the object-level check.
INSERT INTO permissions (permission_id, role_id, code)
SELECT gen_random_uuid(), r.role_id, p.code
FROM (VALUES
    ('traveller', 'profile:read'),
    ('traveller', 'bookings:create'),
    ('traveller', 'bookings:read_own'),
    ('traveller', 'bookings:cancel_own'),
    ('asset_manager', 'profile:read'),
    ('asset_manager', 'catalog:manage_assigned'),
    ('asset_manager', 'inventory:manage_assigned'),
    ('operator', 'profile:read'),
    ('operator', 'bookings:read_any'),
    ('operator', 'bookings:cancel_any'),
    ('operator', 'bookings:override'),
    ('operator', 'catalog:manage_any'),
    ('operator', 'inventory:manage_any'),
    ('operator', 'users:read'),
    ('admin', 'profile:read'),
    ('admin', 'bookings:read_any'),
    ('admin', 'bookings:cancel_any'),
    ('admin', 'bookings:override'),
    ('admin', 'catalog:manage_any'),
    ('admin', 'inventory:manage_any'),
    ('admin', 'users:read'),
    ('admin', 'users:manage'),
    ('admin', 'partners:manage')
) AS p (role_code, code)
JOIN roles r ON r.code = p.role_code
ON CONFLICT (role_id, code) DO NOTHING;

-- Failed logins per subject: 'email:<address>' (known or not, so a lockout says nothing
-- about whether an account exists) and 'client:<address>'. Shared by every API replica.
CREATE TABLE login_throttles (
    subject           text PRIMARY KEY,
    failures          integer NOT NULL DEFAULT 0,
    window_started_at timestamptz NOT NULL DEFAULT now(),
    locked_until      timestamptz,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT login_throttles_failures_non_negative CHECK (failures >= 0),
    CONSTRAINT login_throttles_subject_shape CHECK (subject ~ '^(email|client):.+$')
);

-- One login's refresh-token family is what an access token's `sid` names.
CREATE INDEX user_sessions_live_family_idx ON user_sessions (family_id) WHERE revoked_at IS NULL;

ALTER TABLE users DROP CONSTRAINT users_status_known;
ALTER TABLE users ADD CONSTRAINT users_status_known CHECK (status IN ('active', 'disabled'));
