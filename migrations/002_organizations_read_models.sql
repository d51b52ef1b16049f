-- Read models of organizations and their members. Disposable: rebuilt from
-- the events at any time. "version" is the organization stream's version of
-- the last event applied to the row, so a redelivered event changes nothing.
CREATE TABLE rm_organizations (
    id          uuid        PRIMARY KEY,
    name        text        NOT NULL,
    side        text        NOT NULL,
    siret       text,
    created_at  timestamptz NOT NULL,
    version     integer     NOT NULL
);
CREATE INDEX rm_organizations_name ON rm_organizations (lower(name));

CREATE TABLE rm_members (
    organization_id    uuid        NOT NULL,
    user_id            text        NOT NULL,
    email              text        NOT NULL,
    email_ref          text        NOT NULL,
    name               text        NOT NULL,
    role               text        NOT NULL,
    can_purchase       boolean     NOT NULL DEFAULT false,
    can_see_all_orders boolean     NOT NULL DEFAULT false,
    since              timestamptz NOT NULL,
    version            integer     NOT NULL,
    PRIMARY KEY (organization_id, user_id)
);
CREATE INDEX rm_members_user ON rm_members (user_id);
CREATE INDEX rm_members_email_ref ON rm_members (email_ref);

---- create above / drop below ----
DROP TABLE rm_members, rm_organizations;
