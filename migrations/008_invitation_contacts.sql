-- The partner's contact details from the invite form (seed 004), shown in
-- "Invitations sent". They are the invited person's data: contact_ref
-- names them, so that forgetting them scrubs these copies; it is empty
-- when the invitation has no contact details (all three columns null).

ALTER TABLE rm_invitations_sent
    ADD COLUMN contact_name    text,
    ADD COLUMN contact_company text,
    ADD COLUMN contact_phone   text,
    ADD COLUMN contact_ref     text NOT NULL DEFAULT '';

---- create above / drop below ----

ALTER TABLE rm_invitations_sent DROP COLUMN contact_name, DROP COLUMN contact_company, DROP COLUMN contact_phone, DROP COLUMN contact_ref;
