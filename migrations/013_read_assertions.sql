-- A command on a warm replica decides on the state the replica already
-- folds and reads nothing first: its append asserts, in the same batch and
-- before any insert, that what the decision read still holds. These
-- functions raise the two refusals of such an assertion (so the implicit
-- transaction of the batch rolls back), in the style of migration 011.

-- partners_stream_at refuses an append whose decision read a stream at a
-- version the stream has moved past (SQLSTATE PA001, as an expected-version
-- conflict, DETAIL the stream id). Versions have no gaps, so "moved" is
-- "holds version + 1", answered by the (stream_id, stream_version) index.
CREATE FUNCTION partners_stream_at(stream text, version integer) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM events WHERE stream_id = stream AND stream_version = version + 1) THEN
        RAISE EXCEPTION 'stream % has moved past version %', stream, version
            USING ERRCODE = 'PA001', DETAIL = stream;
    END IF;
END;
$$;

-- partners_keys_alive refuses an append whose decision read state opened
-- with a data key destroyed since (a person forgotten): SQLSTATE PA004,
-- the state is stale and must be rebuilt from the stream's start.
CREATE FUNCTION partners_keys_alive(keys uuid[]) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM person_keys WHERE key_id = ANY(keys) AND wrapped_key IS NULL) THEN
        RAISE EXCEPTION 'a data key the decision read with is destroyed'
            USING ERRCODE = 'PA004';
    END IF;
END;
$$;
