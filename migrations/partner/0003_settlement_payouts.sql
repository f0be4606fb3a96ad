-- Settlements are approved and paid for real: the partner's bank account, who adjusted and
-- who approved a settlement (never the same admin), and the gateway's payout reference.

ALTER TABLE api_partners
    ADD COLUMN payout_account_name   text,
    ADD COLUMN payout_ifsc           text,
    ADD COLUMN payout_account_number text,
    ADD CONSTRAINT api_partners_payout_account_whole CHECK (
        (payout_account_name IS NULL) = (payout_ifsc IS NULL)
        AND (payout_ifsc IS NULL) = (payout_account_number IS NULL)),
    ADD CONSTRAINT api_partners_payout_ifsc_shape CHECK (payout_ifsc ~ '^[A-Z]{4}0[A-Z0-9]{6}$'),
    ADD CONSTRAINT api_partners_payout_account_number_shape CHECK (payout_account_number ~ '^[A-Za-z0-9]{5,35}$'),
    ADD CONSTRAINT api_partners_payout_account_name_shape CHECK (length(payout_account_name) BETWEEN 4 AND 120);

ALTER TABLE partner_settlements
    -- An admin's correction of the computed payout (signed), with its reason.
    ADD COLUMN adjustment_paise  bigint NOT NULL DEFAULT 0,
    ADD COLUMN adjustment_reason text,
    ADD COLUMN changed_by        uuid,
    ADD COLUMN approved_by       uuid,
    ADD COLUMN approved_at       timestamptz,
    ADD COLUMN payout_id         text,
    ADD COLUMN payout_utr        text,
    ADD COLUMN paid_at           timestamptz,
    -- Payouts tried (each under its own idempotency key) and the last one turned back.
    ADD COLUMN payout_attempts   integer NOT NULL DEFAULT 0,
    ADD COLUMN payout_failure    text,
    DROP CONSTRAINT partner_settlements_payout_balances,
    ADD CONSTRAINT partner_settlements_payout_balances CHECK (payout_paise = commission_paise - tds_paise + adjustment_paise),
    ADD CONSTRAINT partner_settlements_adjustment_explained CHECK (
        (adjustment_paise = 0 AND adjustment_reason IS NULL AND changed_by IS NULL)
        OR (adjustment_reason IS NOT NULL AND changed_by IS NOT NULL)),
    ADD CONSTRAINT partner_settlements_approved_by_another CHECK (approved_by IS NULL OR approved_by IS DISTINCT FROM changed_by),
    ADD CONSTRAINT partner_settlements_approval_recorded CHECK (
        (status = 'computed') = (approved_by IS NULL) AND (approved_by IS NULL) = (approved_at IS NULL)),
    ADD CONSTRAINT partner_settlements_paid_has_payout CHECK (
        (status = 'paid') = (paid_at IS NOT NULL) AND (status <> 'paid' OR payout_id IS NOT NULL)),
    ADD CONSTRAINT partner_settlements_payout_attempts_non_negative CHECK (payout_attempts >= 0);
CREATE UNIQUE INDEX partner_settlements_payout_id_key ON partner_settlements (payout_id) WHERE payout_id IS NOT NULL;
