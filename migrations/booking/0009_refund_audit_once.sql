-- An operator's refund is written to the audit trail once, by its refund key, however
-- often the step that writes it runs.
CREATE UNIQUE INDEX booking_audit_logs_refund_issued_once
    ON booking_audit_logs ((details ->> 'refund_key')) WHERE action = 'refund_issued';
