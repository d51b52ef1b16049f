-- An append is one pipelined round trip: its statements run in the implicit
-- transaction of one protocol Sync, so a refusal must be an error (it rolls
-- the whole append back), never an empty answer the next statement would
-- commit past. These two functions raise the append's two refusals with
-- their own SQLSTATEs; the event store maps them to its typed errors.

-- partners_version_conflict refuses an append whose stream is not at the
-- expected version (SQLSTATE PA001, DETAIL the stream id). It is only
-- called when the versions differ.
CREATE FUNCTION partners_version_conflict(stream text, actual integer, expected integer) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RAISE EXCEPTION 'stream % is at version %, not %', stream, actual, expected
        USING ERRCODE = 'PA001', DETAIL = stream;
END;
$$;

-- partners_reserve takes a unique key for holder, or takes it over from
-- replace; when someone else holds it, it refuses (SQLSTATE PA002, DETAIL
-- the holder, HINT the key).
CREATE FUNCTION partners_reserve(k text, h text, r text) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    got text;
BEGIN
    INSERT INTO reservations (key, holder) VALUES (k, h)
    ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, taken_at = now()
     WHERE reservations.holder = excluded.holder OR reservations.holder = r
    RETURNING holder INTO got;
    IF got IS NULL THEN
        SELECT holder INTO got FROM reservations WHERE key = k;
        RAISE EXCEPTION 'reservation % taken', k
            USING ERRCODE = 'PA002', DETAIL = coalesce(got, ''), HINT = k;
    END IF;
END;
$$;

-- Two indexes no reader uses any more, paid by every append: organizations'
-- events are found through event_organizations and organization_streams
-- (written by the append), and no query selects events by recorded_at
-- alone (the as-of read filters a stream's events by it).
DROP INDEX events_organizations;
DROP INDEX events_recorded_at;

-- Most events carry nobody's data: index only those that do. The readers by
-- person (PersonEvents, the as-of selection, the forwarder's forgetting)
-- repeat the predicate so that the planner can use the partial index.
DROP INDEX events_person_refs;
CREATE INDEX events_person_refs ON events USING gin (person_refs) WHERE person_refs <> '{}'::text[];
