-- Claims never lock out the invited email (SECURITY.md): "Invitations sent"
-- names the organization that claimed an invitation, and "My invitations"
-- finds an invitation by its email whether or not it was claimed.

ALTER TABLE rm_invitations_sent ADD COLUMN claimed_by_id uuid, ADD COLUMN claimed_by_name text;

-- Claims made before this migration, named as their organization is named
-- today (the read model of received invitations kept who claimed).
UPDATE rm_invitations_sent s SET claimed_by_id = r.claimed_by, claimed_by_name = o.name
  FROM rm_received_invitations r JOIN rm_organizations o ON o.id = r.claimed_by
 WHERE r.id = s.id;

DROP INDEX rm_received_invitations_email;
CREATE INDEX rm_received_invitations_email ON rm_received_invitations (email_ref);

---- create above / drop below ----

DROP INDEX rm_received_invitations_email;
CREATE INDEX rm_received_invitations_email ON rm_received_invitations (email_ref) WHERE claimed_by IS NULL;
ALTER TABLE rm_invitations_sent DROP COLUMN claimed_by_id, DROP COLUMN claimed_by_name;
