-- The readers' horizon, narrowed to the transactions that append.
--
-- Readers of the log take it in (transaction id, position) order and stop
-- below the oldest transaction that may still commit rows with a smaller
-- transaction id than rows they already passed. pg_snapshot_xmin is that
-- bound for every transaction of the server: a reaction's or the projector's
-- own transaction (they hold a transaction id while they write their own
-- tables) held every reader back while it ran, although it never appends.
--
-- An appending transaction now says so before it has a transaction id: it
-- takes the appenders' advisory lock (shared, so appenders never wait for
-- each other) and keeps it to its end. So a transaction that is running and
-- holds a transaction id but not that lock cannot be an appender, and the
-- horizon may pass it. A trigger refuses events and outbox rows from a
-- transaction that did not say so first.

CREATE FUNCTION partners_begin_append() RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF current_setting('partners.appending', true) IS NOT DISTINCT FROM 'yes' THEN
        RETURN;
    END IF;
    IF pg_current_xact_id_if_assigned() IS NOT NULL THEN
        RAISE EXCEPTION 'an append must begin before its transaction writes anything'
            USING ERRCODE = 'PA003';
    END IF;
    PERFORM pg_advisory_xact_lock_shared(20261207, 19);
    PERFORM set_config('partners.appending', 'yes', true);
END;
$$;

CREATE FUNCTION partners_appenders_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('partners.appending', true) IS DISTINCT FROM 'yes' THEN
        RAISE EXCEPTION '% rows are written by appends only: call partners_begin_append() first', TG_TABLE_NAME
            USING ERRCODE = 'PA003';
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER events_appenders_only BEFORE INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION partners_appenders_only();
CREATE TRIGGER watermill_events_appenders_only BEFORE INSERT ON watermill_events
    FOR EACH STATEMENT EXECUTE FUNCTION partners_appenders_only();

-- partners_log_horizon is the smallest transaction id a reader may not pass
-- yet, for the calling statement's snapshot: the oldest transaction of the
-- snapshot that may append (it has ended since, or it holds the appenders'
-- lock), else the snapshot's xmax. The lock table is read once (one
-- pg_lock_status call, taken atomically), so a running transaction seen
-- there without the lock was never an appender.
CREATE FUNCTION partners_log_horizon() RETURNS xid8
LANGUAGE sql STABLE AS $$
    WITH locks AS MATERIALIZED (
        SELECT locktype, transactionid, virtualtransaction, classid, objid, objsubid, granted FROM pg_locks),
    bystanders AS (
        SELECT t.transactionid FROM locks t
         WHERE t.locktype = 'transactionid' AND t.granted
           AND NOT EXISTS (SELECT 1 FROM locks a
                            WHERE a.locktype = 'advisory' AND a.classid = 20261207 AND a.objid = 19 AND a.objsubid = 2
                              AND a.virtualtransaction = t.virtualtransaction))
    SELECT min(x) FROM (
        SELECT pg_snapshot_xmax(pg_current_snapshot()) AS x
        UNION ALL
        SELECT x FROM pg_snapshot_xip(pg_current_snapshot()) AS x
         WHERE xid(x) NOT IN (SELECT transactionid FROM bystanders)) h
$$;
