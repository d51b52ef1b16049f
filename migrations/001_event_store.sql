-- The event store: the only source of truth. Rows are appended, never
-- changed: a trigger refuses UPDATE, DELETE and TRUNCATE.
CREATE TABLE events (
    position         bigserial   PRIMARY KEY,
    transaction_id   xid8        NOT NULL DEFAULT pg_current_xact_id(),
    event_id         uuid        NOT NULL,
    stream_id        text        NOT NULL,
    stream_type      text        NOT NULL,
    stream_version   integer     NOT NULL CHECK (stream_version > 0),
    event_type       text        NOT NULL,
    schema_version   integer     NOT NULL CHECK (schema_version > 0),
    data             jsonb       NOT NULL,
    metadata         jsonb       NOT NULL,
    organization_ids uuid[]      NOT NULL DEFAULT '{}',
    -- keyed hashes of the persons whose sealed data the event holds, for
    -- access exports (GDPR article 15); never the data itself
    person_refs      text[]      NOT NULL DEFAULT '{}',
    recorded_at      timestamptz NOT NULL,
    CONSTRAINT events_event_id_unique UNIQUE (event_id),
    CONSTRAINT events_stream_version_unique UNIQUE (stream_id, stream_version)
);

-- Readers apply the log in (transaction_id, position) order: a transaction
-- that took its positions early but committed late is still read.
CREATE INDEX events_log_order ON events (transaction_id, position);
CREATE INDEX events_organizations ON events USING gin (organization_ids);
CREATE INDEX events_recorded_at ON events (recorded_at);
CREATE INDEX events_person_refs ON events USING gin (person_refs);

-- Which organizations each event touched, in the log's order: the audit log
-- of an organization reads this index, written in the append's transaction.
CREATE TABLE event_organizations (
    organization_id uuid   NOT NULL,
    transaction_id  xid8   NOT NULL,
    position        bigint NOT NULL,
    PRIMARY KEY (organization_id, transaction_id, position)
);

CREATE FUNCTION events_are_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER events_no_update BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_are_immutable();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_are_immutable();
CREATE TRIGGER event_organizations_no_update BEFORE UPDATE OR DELETE ON event_organizations
    FOR EACH ROW EXECUTE FUNCTION events_are_immutable();

-- The transactional outbox, in watermill-sql v3's default PostgreSQL schema
-- for the topic "events" (DefaultPostgreSQLSchema + DefaultPostgreSQLOffsetsAdapter).
-- Rows are written in the same transaction as the events they carry.
CREATE TABLE watermill_events (
    "offset"       bigserial,
    "uuid"         varchar(36) NOT NULL,
    "created_at"   timestamp   NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "payload"      json        DEFAULT NULL,
    "metadata"     json        DEFAULT NULL,
    "transaction_id" xid8      NOT NULL,
    PRIMARY KEY ("transaction_id", "offset")
);

CREATE TABLE watermill_offsets_events (
    consumer_group                varchar(255) NOT NULL,
    offset_acked                  bigint,
    last_processed_transaction_id xid8 NOT NULL,
    PRIMARY KEY (consumer_group)
);

-- Per-person data keys for crypto-shredding: personal fields in events are
-- sealed with their owner's key; forgetting a person destroys the key.
CREATE TABLE person_keys (
    key_id       uuid        PRIMARY KEY,
    person_ref   text        NOT NULL,
    wrapped_key  bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    forgotten_at timestamptz,
    CHECK ((wrapped_key IS NULL) = (forgotten_at IS NOT NULL))
);
CREATE UNIQUE INDEX person_keys_active ON person_keys (person_ref) WHERE forgotten_at IS NULL;

-- Uniqueness rules that must hold under concurrency (one organization per
-- SIRET, one pending invitation per organization and email...). Written in
-- the same transaction as the events that take or release them; derived from
-- the events, so they could be rebuilt, but never a read model.
CREATE TABLE reservations (
    key        text        PRIMARY KEY,
    holder     text        NOT NULL,
    taken_at   timestamptz NOT NULL DEFAULT now()
);

-- Secrets that an email must carry (invitation tokens). Sealed with the
-- key-encryption key, written with the event, deleted once the email is out.
CREATE TABLE pending_secrets (
    event_id   uuid        PRIMARY KEY,
    sealed     bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Idempotency-Key records: the first answer to a command, replayed to a retry.
CREATE TABLE idempotency_keys (
    user_id      text        NOT NULL,
    key          text        NOT NULL,
    request_hash bytea       NOT NULL,
    status       integer     NOT NULL,
    position     bigint      NOT NULL,
    body         bytea       NOT NULL,
    person_refs  text[]      NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
CREATE INDEX idempotency_keys_person_refs ON idempotency_keys USING gin (person_refs);

-- Where each projection stands in the outbox, in the readers' order.
CREATE TABLE projection_checkpoints (
    name              text        PRIMARY KEY,
    transaction_id    xid8        NOT NULL DEFAULT '0',
    outbox_offset     bigint      NOT NULL DEFAULT 0,
    position          bigint      NOT NULL DEFAULT 0,
    last_recorded_at  timestamptz,
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- Fixed-window counters of rate limits, shared by every replica.
CREATE TABLE rate_limits (
    key        text        NOT NULL,
    window_end timestamptz NOT NULL,
    count      integer     NOT NULL,
    PRIMARY KEY (key, window_end)
);

-- Progress of read-model rebuilds, for the admin API whichever replica runs
-- them.
CREATE TABLE projection_rebuilds (
    name        text        PRIMARY KEY,
    state       text        NOT NULL,
    applied     bigint      NOT NULL DEFAULT 0,
    total       bigint      NOT NULL DEFAULT 0,
    rate        float8      NOT NULL DEFAULT 0,
    started_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    error       text
);

---- create above / drop below ----

DROP TABLE rate_limits, projection_rebuilds, projection_checkpoints, idempotency_keys, pending_secrets, reservations,
    person_keys, watermill_offsets_events, watermill_events, event_organizations, events;
DROP FUNCTION events_are_immutable();
