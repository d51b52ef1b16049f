-- Which streams ever touched each organization. An answer about the past
-- (as of an instant) replays these streams whole; finding them through this
-- index instead of event_organizations -> events made the planner scan the
-- whole events table twice per answer (seconds on a million events).
-- Written in the append's transaction, like event_organizations.
CREATE TABLE organization_streams (
    organization_id uuid NOT NULL,
    stream_id       text NOT NULL,
    PRIMARY KEY (organization_id, stream_id)
);

INSERT INTO organization_streams (organization_id, stream_id)
SELECT DISTINCT o, stream_id FROM events, unnest(organization_ids) AS o
ON CONFLICT DO NOTHING;

CREATE TRIGGER organization_streams_no_update BEFORE UPDATE OR DELETE ON organization_streams
    FOR EACH ROW EXECUTE FUNCTION events_are_immutable();

---- create above / drop below ----

DROP TABLE organization_streams;
