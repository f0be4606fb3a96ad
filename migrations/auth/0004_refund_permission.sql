-- Operators and admins refund paid bookings by hand (the back office's manual refunds).
-- Runs with search_path = auth.
INSERT INTO permissions (permission_id, role_id, code)
SELECT gen_random_uuid(), r.role_id, 'bookings:refund'
FROM roles r WHERE r.code IN ('operator', 'admin')
ON CONFLICT (role_id, code) DO NOTHING;
