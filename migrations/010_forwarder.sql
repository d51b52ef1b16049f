-- Where the forwarder to NATS JetStream stands (integration/). Apart from
-- projection_checkpoints on purpose: it is no read model, the projector and
-- the benchmark never wait for it, and it exists only while
-- PARTNERS_NATS_URL is set (serve deletes the row when it is not, so that it
-- never holds back the outbox's pruning).
--
-- (transaction_id, outbox_offset) is its place in the outbox, in the
-- readers' order; position is the last event it forwarded. While it
-- backfills from the events table (first turned on after the outbox was
-- pruned), backfill_* is its place there, and it forwards up to
-- (transaction_id, position) before it follows the outbox from there.
CREATE TABLE forwarder_checkpoints (
    name                    text        PRIMARY KEY,
    transaction_id          xid8        NOT NULL DEFAULT '0',
    outbox_offset           bigint      NOT NULL DEFAULT 0,
    position                bigint      NOT NULL DEFAULT 0,
    backfill_transaction_id xid8,
    backfill_position       bigint,
    last_recorded_at        timestamptz,
    updated_at              timestamptz NOT NULL DEFAULT now()
);

---- create above / drop below ----

DROP TABLE forwarder_checkpoints;
