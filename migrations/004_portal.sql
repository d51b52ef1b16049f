-- The client portal (seed 001): read models of portal users and of who sees
-- which contract, and the lookup the company-change process manager keeps.

-- Portal users per organization ("Settings → Client portal → Manage
-- clients"). email and name are personal data owned by email_ref.
-- company_key is the company as the same-company rule compares it
-- (trimmed, spaces collapsed, lower-cased): what ?company= filters on.
CREATE TABLE rm_portal_users (
    id              uuid        PRIMARY KEY,
    organization_id uuid        NOT NULL,
    email           text        NOT NULL,
    email_ref       text        NOT NULL,
    name            text        NOT NULL,
    company         text        NOT NULL DEFAULT '',
    company_key     text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    version         integer     NOT NULL
);
CREATE INDEX rm_portal_users_org ON rm_portal_users (organization_id, created_at, id);
CREATE INDEX rm_portal_users_company ON rm_portal_users (organization_id, company_key, created_at, id);
CREATE INDEX rm_portal_users_email_ref ON rm_portal_users (email_ref);

-- Contracts shown in an organization's portal. A withdrawn contract keeps
-- its row (shown = false) so that its version still guards against an
-- older event applied again.
CREATE TABLE rm_portal_contracts (
    organization_id     uuid        NOT NULL,
    contract_id         text        NOT NULL,
    title               text        NOT NULL,
    requester_id        uuid,
    attachments_visible boolean     NOT NULL DEFAULT false,
    shown               boolean     NOT NULL,
    shared_at           timestamptz,
    version             integer     NOT NULL,
    PRIMARY KEY (organization_id, contract_id)
);

-- Who sees a shown contract, and as what (requester or watcher): a
-- contract's portal access and, read by portal user, their Contracts page.
-- Watchers are listed in the order they were given access: the position of
-- that event, then their place in it.
CREATE TABLE rm_portal_access (
    organization_id uuid    NOT NULL,
    contract_id     text    NOT NULL,
    portal_user_id  uuid    NOT NULL,
    role            text    NOT NULL CHECK (role IN ('requester', 'watcher')),
    position        bigint  NOT NULL,
    ord             integer NOT NULL,
    PRIMARY KEY (organization_id, contract_id, portal_user_id)
);
CREATE INDEX rm_portal_access_user ON rm_portal_access (organization_id, portal_user_id, contract_id);

-- The company-change process manager's own lookup: which contracts each
-- portal user is requester or watcher of. Written by its Watermill handler
-- in the transaction that acknowledges each event, so when it handles a
-- company change it knows every share the log orders before that change.
-- Not a read model: no projection owns or rebuilds it.
CREATE TABLE portal_access_lookup (
    organization_id uuid NOT NULL,
    portal_user_id  uuid NOT NULL,
    contract_id     text NOT NULL,
    PRIMARY KEY (organization_id, portal_user_id, contract_id)
);
CREATE INDEX portal_access_lookup_contract ON portal_access_lookup (organization_id, contract_id);

---- create above / drop below ----
DROP TABLE portal_access_lookup, rm_portal_access, rm_portal_contracts, rm_portal_users;
