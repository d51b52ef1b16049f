-- The team (DOMAIN.md sections 3 to 5): memberships that change and end,
-- colleague and accountant invitations, collaborator accounts and
-- collaboration requests. Read models only: disposable, rebuilt from the
-- events at any time.

-- How each member joined (creation, member_invitation,
-- accountant_invitation, collaborator_activation, collaboration_request)
-- and the invitation or request that brought them in.
ALTER TABLE rm_members
    ADD COLUMN joined_via    text NOT NULL DEFAULT '',
    ADD COLUMN invitation_id uuid;
CREATE INDEX rm_members_role ON rm_members (organization_id, role, user_id);

-- The version of each organization's stream the members read model has
-- applied. Members leave (their row is deleted), so a row's own version
-- cannot guard against an older event applied again: every statement is
-- guarded by this one instead.
CREATE TABLE rm_member_streams (
    organization_id uuid    PRIMARY KEY,
    version         integer NOT NULL
);
INSERT INTO rm_member_streams (organization_id, version)
SELECT organization_id, max(version) FROM rm_members GROUP BY organization_id;

-- Colleague (kind member) and accountant (kind accountant) invitations.
-- status is the stored status (sent, accepted, revoked); "expired" is
-- derived from expires_at when read. email and message are personal data
-- owned by email_ref.
CREATE TABLE rm_team_invitations (
    id              uuid        PRIMARY KEY,
    kind            text        NOT NULL CHECK (kind IN ('member', 'accountant')),
    organization_id uuid        NOT NULL,
    email           text        NOT NULL,
    email_ref       text        NOT NULL,
    role            text        NOT NULL,
    message         text        NOT NULL DEFAULT '',
    invited_by      text        NOT NULL,
    status          text        NOT NULL,
    sent_at         timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    answered_at     timestamptz,
    accepted_by     text,
    version         integer     NOT NULL
);
CREATE INDEX rm_team_invitations_org ON rm_team_invitations (organization_id, kind, sent_at DESC, id DESC);
CREATE INDEX rm_team_invitations_email_ref ON rm_team_invitations (email_ref);

-- Collaborator accounts created by an owner or admin, until and after
-- their activation. The profile typed at creation (names, email, phone) is
-- personal data owned by email_ref; the members read model joins it by
-- invitation id.
CREATE TABLE rm_collaborator_invitations (
    id                 uuid        PRIMARY KEY,
    organization_id    uuid        NOT NULL,
    first_name         text        NOT NULL,
    last_name          text        NOT NULL,
    email              text        NOT NULL,
    email_ref          text        NOT NULL,
    phone              text        NOT NULL,
    can_purchase       boolean     NOT NULL,
    can_see_all_orders boolean     NOT NULL,
    status             text        NOT NULL,
    invited_at         timestamptz NOT NULL,
    expires_at         timestamptz NOT NULL,
    activated_at       timestamptz,
    activated_by       text,
    version            integer     NOT NULL
);
CREATE INDEX rm_collaborator_invitations_org ON rm_collaborator_invitations (organization_id, invited_at, id);
CREATE INDEX rm_collaborator_invitations_email_ref ON rm_collaborator_invitations (email_ref);

-- Collaboration requests, recorded whatever their target, and what the
-- read model needs to match them to organizations afterwards: each
-- organization's SIRET and its members (owners' verified email refs),
-- kept from the events in tables of its own. Members who leave keep a row
-- with an empty role, so its version still guards against an older event.
CREATE TABLE rm_collaboration_requests (
    id              uuid        PRIMARY KEY,
    requester_id    text        NOT NULL,
    requester_email text        NOT NULL,
    requester_name  text        NOT NULL,
    requester_ref   text        NOT NULL,
    target_siret    text,
    target_ref      text,
    requested_at    timestamptz NOT NULL
);
CREATE INDEX rm_collaboration_requests_siret ON rm_collaboration_requests (target_siret) WHERE target_siret IS NOT NULL;
CREATE INDEX rm_collaboration_requests_ref ON rm_collaboration_requests (target_ref) WHERE target_ref IS NOT NULL;
CREATE INDEX rm_collaboration_requests_requester_ref ON rm_collaboration_requests (requester_ref);

CREATE TABLE rm_collaboration_answers (
    request_id         uuid        NOT NULL,
    organization_id    uuid        NOT NULL,
    status             text        NOT NULL CHECK (status IN ('approved', 'rejected')),
    can_purchase       boolean     NOT NULL DEFAULT false,
    can_see_all_orders boolean     NOT NULL DEFAULT false,
    answered_by        text        NOT NULL,
    answered_at        timestamptz NOT NULL,
    PRIMARY KEY (request_id, organization_id)
);
CREATE INDEX rm_collaboration_answers_org ON rm_collaboration_answers (organization_id);

CREATE TABLE rm_collaboration_organizations (
    organization_id uuid PRIMARY KEY,
    siret           text
);
CREATE INDEX rm_collaboration_organizations_siret ON rm_collaboration_organizations (siret) WHERE siret IS NOT NULL;

CREATE TABLE rm_collaboration_members (
    organization_id uuid    NOT NULL,
    user_id         text    NOT NULL,
    email_ref       text    NOT NULL,
    verified        boolean NOT NULL,
    role            text    NOT NULL,
    version         integer NOT NULL,
    PRIMARY KEY (organization_id, user_id)
);
CREATE INDEX rm_collaboration_members_owner_ref ON rm_collaboration_members (email_ref) WHERE role = 'owner' AND verified;

---- create above / drop below ----
DROP TABLE rm_collaboration_members, rm_collaboration_organizations, rm_collaboration_answers, rm_collaboration_requests,
    rm_collaborator_invitations, rm_team_invitations, rm_member_streams;
DROP INDEX rm_members_role;
ALTER TABLE rm_members DROP COLUMN invitation_id, DROP COLUMN joined_via;
