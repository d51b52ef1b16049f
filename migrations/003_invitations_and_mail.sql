-- Read models of partner invitations and partnerships, and the mail queue.

-- "Invitations sent", per inviting organization. status is the stored
-- status (sent, accepted, declined, revoked); "expired" is derived from
-- expires_at when read.
CREATE TABLE rm_invitations_sent (
    id              uuid        PRIMARY KEY,
    organization_id uuid        NOT NULL,
    email           text        NOT NULL,
    email_ref       text        NOT NULL,
    status          text        NOT NULL,
    message         text        NOT NULL DEFAULT '',
    message_ref     text        NOT NULL DEFAULT '',
    sent_at         timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    answered_at     timestamptz,
    partner_id      uuid,
    partner_name    text,
    version         integer     NOT NULL
);
CREATE INDEX rm_invitations_sent_org ON rm_invitations_sent (organization_id, sent_at DESC, id DESC);
CREATE INDEX rm_invitations_sent_email_ref ON rm_invitations_sent (email_ref);

-- "My invitations": invitations, and the owners and admins whose verified
-- email addresses one to their organization. Both tables belong to the
-- received-invitations read model.
CREATE TABLE rm_received_invitations (
    id            uuid        PRIMARY KEY,
    inviter_id    uuid        NOT NULL,
    inviter_name  text        NOT NULL,
    inviter_side  text        NOT NULL,
    invitee_side  text        NOT NULL,
    email_ref     text        NOT NULL,
    claimed_by    uuid,
    answered_by   uuid,
    status        text        NOT NULL,
    message       text        NOT NULL DEFAULT '',
    message_ref   text        NOT NULL DEFAULT '',
    sent_at       timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    answered_at   timestamptz,
    version       integer     NOT NULL
);
CREATE INDEX rm_received_invitations_email ON rm_received_invitations (email_ref) WHERE claimed_by IS NULL;
CREATE INDEX rm_received_invitations_claimed ON rm_received_invitations (claimed_by);
CREATE INDEX rm_received_invitations_answered ON rm_received_invitations (answered_by);

-- One row per member ever seen; active when they are an owner or admin
-- with a verified email. Rows are kept (inactive) after a removal so that
-- the organization stream's version still guards against an older event
-- applied again.
CREATE TABLE rm_received_addressees (
    organization_id uuid    NOT NULL,
    user_id         text    NOT NULL,
    email_ref       text    NOT NULL,
    active          boolean NOT NULL,
    version         integer NOT NULL,
    PRIMARY KEY (organization_id, user_id)
);
CREATE INDEX rm_received_addressees_email ON rm_received_addressees (email_ref);

-- The partner panel: one row per organization and partner.
CREATE TABLE rm_partners (
    organization_id uuid        NOT NULL,
    partner_id      uuid        NOT NULL,
    name            text        NOT NULL,
    side            text        NOT NULL,
    siret           text,
    since           timestamptz NOT NULL,
    invitation_id   uuid        NOT NULL,
    PRIMARY KEY (organization_id, partner_id)
);
CREATE INDEX rm_partners_name ON rm_partners (organization_id, lower(name), partner_id);

-- Emails due, one row per event and recipient (the Message-ID), queued by a
-- Watermill handler and sent outside any transaction. No personal data:
-- the sender reopens the event to build the email.
CREATE TABLE mail_queue (
    message_id      text        PRIMARY KEY,
    event_id        uuid        NOT NULL,
    recipient       text        NOT NULL,
    -- the recipient's person ref (never the address), so forgetting them
    -- can find their emails
    person_ref      text        NOT NULL DEFAULT '',
    queued_at       timestamptz NOT NULL DEFAULT now(),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    leased_until    timestamptz,
    sent_at         timestamptz,
    dropped_at      timestamptz,
    last_error      text
);
CREATE INDEX mail_queue_due ON mail_queue (next_attempt_at) WHERE sent_at IS NULL AND dropped_at IS NULL;
CREATE INDEX mail_queue_event ON mail_queue (event_id);
CREATE INDEX mail_queue_person ON mail_queue (person_ref);

---- create above / drop below ----
DROP TABLE mail_queue, rm_partners, rm_received_addressees, rm_received_invitations, rm_invitations_sent;
