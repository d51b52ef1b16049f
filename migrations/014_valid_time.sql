-- Valid-time read models (issue 19): each read-model row keeps the instant
-- it became true (valid_from), and each version it replaced or deleted goes
-- to a history table beside it (rm_x_history: the same columns, then
-- valid_to). "As of T" is then an indexed read of the views in schema
-- asof, not a replay of the events.
--
-- The instant is the recorded_at of the event that made the change (the
-- projector passes it in the transaction's setting partners.valid_at
-- before each event's statements). A row's versions never go back in time:
-- an event recorded before the version it changes (appends racing, clocks
-- apart) rewrites that version in place. While recorded_at grows with the
-- log's order, the rows true at T are those the events recorded at or
-- before T made, applied in the log's order: a replay's answer.
--
-- An empty or absent partners.valid_at is a rewrite, not a change in time:
-- the row keeps its valid_from and nothing goes to history (forgetting a
-- person scrubs every copy in place, the history's included).
--
-- A column added to a read-model table later is added to its history table
-- too (rows are copied by column name), and its asof view is made again
-- with rm_asof_view. rm_member_streams keeps no history: it is the members
-- handlers' version guard, read by no query, and bumped by every event of an
-- organization's stream.

CREATE SCHEMA asof;

-- BEFORE INSERT OR UPDATE: stamps valid_from; an update that changes
-- nothing is skipped (a redelivered event leaves no trace, in history
-- neither).
CREATE FUNCTION rm_valid_from() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    at timestamptz := nullif(current_setting('partners.valid_at', true), '')::timestamptz;
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.valid_from := coalesce(at, '-infinity');
        RETURN NEW;
    END IF;
    NEW.valid_from := OLD.valid_from;
    IF NEW IS NOT DISTINCT FROM OLD THEN
        RETURN NULL;
    END IF;
    IF at > OLD.valid_from THEN
        NEW.valid_from := at;
    END IF;
    RETURN NEW;
END;
$$;

-- rm_keep_history puts the two triggers on a read-model table (the live one
-- here, a rebuild's shadow copy from projections.Projector.shadow). The
-- AFTER UPDATE OR DELETE trigger copies the version replaced into the
-- history table, unless it was true for no time at all (made and replaced
-- at the same instant) or the change is a rewrite. Its function is made per
-- table, with the columns named (a generic one built the statement for
-- every row: 0.5 ms a row), and names the history table unqualified: it is
-- found on the search_path, as the handlers' own unqualified tables are, so
-- a rebuild's writes into its shadow schema keep the shadow history. A
-- column added to a read-model table later is added to its history table,
-- and the function made again (drop the table's two triggers, run
-- rm_keep_history again).
CREATE FUNCTION rm_keep_history(sch text, tbl text) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
    cols text;
    vals text;
BEGIN
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum), string_agg('OLD.' || quote_ident(attname), ', ' ORDER BY attnum)
      INTO cols, vals
      FROM pg_attribute
     WHERE attrelid = format('%I.%I', sch, tbl)::regclass AND attnum > 0 AND NOT attisdropped;
    EXECUTE format($f$CREATE OR REPLACE FUNCTION public.%1$I() RETURNS trigger LANGUAGE plpgsql AS $b$
DECLARE
    at timestamptz;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.valid_from = OLD.valid_from THEN
            RETURN NULL;
        END IF;
        at := NEW.valid_from;
    ELSE
        at := nullif(current_setting('partners.valid_at', true), '')::timestamptz;
        IF at IS NULL OR at <= OLD.valid_from THEN
            RETURN NULL;
        END IF;
    END IF;
    INSERT INTO %2$I (%3$s, valid_to) VALUES (%4$s, at);
    RETURN NULL;
END;
$b$$f$, 'rm_history_' || tbl, tbl || '_history', cols, vals);
    EXECUTE format('CREATE TRIGGER rm_valid_from BEFORE INSERT OR UPDATE ON %I.%I FOR EACH ROW EXECUTE FUNCTION rm_valid_from()', sch, tbl);
    EXECUTE format('CREATE TRIGGER rm_history AFTER UPDATE OR DELETE ON %I.%I FOR EACH ROW EXECUTE FUNCTION public.%I()',
        sch, tbl, 'rm_history_' || tbl);
END;
$fn$;

-- rm_asof_view (re)makes the view asof.<tbl>: the rows of public.<tbl> and
-- of its history true at the instant in the transaction's setting
-- partners.as_of. Views bind to tables, not names: a rebuild that swaps the
-- tables in makes the views again.
CREATE FUNCTION rm_asof_view(tbl text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    cols text;
BEGIN
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols
      FROM pg_attribute
     WHERE attrelid = format('public.%I', tbl)::regclass AND attnum > 0 AND NOT attisdropped;
    EXECUTE format('DROP VIEW IF EXISTS asof.%I', tbl);
    -- The instant as a scalar subquery: read once per statement (an init
    -- plan), not cast again for every row.
    EXECUTE format($v$CREATE VIEW asof.%1$I AS
        SELECT %2$s FROM public.%1$I
         WHERE valid_from <= (SELECT current_setting('partners.as_of')::timestamptz)
        UNION ALL
        SELECT %2$s FROM public.%3$I
         WHERE valid_from <= (SELECT current_setting('partners.as_of')::timestamptz)
           AND valid_to > (SELECT current_setting('partners.as_of')::timestamptz)$v$, tbl, cols, tbl || '_history');
END;
$$;

DO $$
DECLARE
    tbl text;
BEGIN
    FOREACH tbl IN ARRAY ARRAY['rm_organizations', 'rm_members', 'rm_invitations_sent', 'rm_received_invitations',
        'rm_received_addressees', 'rm_partners', 'rm_portal_users', 'rm_portal_contracts', 'rm_portal_access',
        'rm_team_invitations', 'rm_collaborator_invitations', 'rm_collaboration_requests', 'rm_collaboration_answers',
        'rm_collaboration_organizations', 'rm_collaboration_members']
    LOOP
        -- Rows already there have no known past: see history_since below.
        EXECUTE format($s$ALTER TABLE %I ADD COLUMN valid_from timestamptz NOT NULL DEFAULT '-infinity'$s$, tbl);
        EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS, valid_to timestamptz NOT NULL)', tbl || '_history', tbl);
        PERFORM rm_keep_history('public', tbl);
        PERFORM rm_asof_view(tbl);
    END LOOP;
END;
$$;

-- History indexes: the columns the as-of queries look rows up by (the
-- organization first), then valid_to; and the person refs forgetting
-- scrubs by.
CREATE INDEX rm_organizations_history_id ON rm_organizations_history (id, valid_to);
CREATE INDEX rm_members_history_org ON rm_members_history (organization_id, valid_to);
CREATE INDEX rm_members_history_email_ref ON rm_members_history (email_ref);
CREATE INDEX rm_invitations_sent_history_org ON rm_invitations_sent_history (organization_id, valid_to);
CREATE INDEX rm_invitations_sent_history_email_ref ON rm_invitations_sent_history (email_ref);
CREATE INDEX rm_invitations_sent_history_message_ref ON rm_invitations_sent_history (message_ref);
CREATE INDEX rm_invitations_sent_history_contact_ref ON rm_invitations_sent_history (contact_ref);
CREATE INDEX rm_received_invitations_history_email ON rm_received_invitations_history (email_ref, valid_to);
CREATE INDEX rm_received_invitations_history_claimed ON rm_received_invitations_history (claimed_by, valid_to);
CREATE INDEX rm_received_invitations_history_answered ON rm_received_invitations_history (answered_by, valid_to);
CREATE INDEX rm_received_invitations_history_message_ref ON rm_received_invitations_history (message_ref);
CREATE INDEX rm_received_addressees_history_org ON rm_received_addressees_history (organization_id, valid_to);
CREATE INDEX rm_received_addressees_history_email ON rm_received_addressees_history (email_ref);
CREATE INDEX rm_partners_history_org ON rm_partners_history (organization_id, valid_to);
CREATE INDEX rm_portal_users_history_org ON rm_portal_users_history (organization_id, valid_to);
CREATE INDEX rm_portal_users_history_id ON rm_portal_users_history (id, valid_to);
CREATE INDEX rm_portal_users_history_email_ref ON rm_portal_users_history (email_ref);
CREATE INDEX rm_portal_contracts_history_org ON rm_portal_contracts_history (organization_id, contract_id, valid_to);
CREATE INDEX rm_portal_access_history_contract ON rm_portal_access_history (organization_id, contract_id, valid_to);
CREATE INDEX rm_portal_access_history_user ON rm_portal_access_history (organization_id, portal_user_id, valid_to);
CREATE INDEX rm_team_invitations_history_org ON rm_team_invitations_history (organization_id, valid_to);
CREATE INDEX rm_team_invitations_history_email_ref ON rm_team_invitations_history (email_ref);
CREATE INDEX rm_collaborator_invitations_history_org ON rm_collaborator_invitations_history (organization_id, valid_to);
CREATE INDEX rm_collaborator_invitations_history_id ON rm_collaborator_invitations_history (id, valid_to);
CREATE INDEX rm_collaborator_invitations_history_email_ref ON rm_collaborator_invitations_history (email_ref);
CREATE INDEX rm_collaboration_requests_history_id ON rm_collaboration_requests_history (id, valid_to);
CREATE INDEX rm_collaboration_requests_history_siret ON rm_collaboration_requests_history (target_siret) WHERE target_siret IS NOT NULL;
CREATE INDEX rm_collaboration_requests_history_ref ON rm_collaboration_requests_history (target_ref) WHERE target_ref IS NOT NULL;
CREATE INDEX rm_collaboration_requests_history_requester_ref ON rm_collaboration_requests_history (requester_ref);
CREATE INDEX rm_collaboration_answers_history_org ON rm_collaboration_answers_history (organization_id, valid_to);
CREATE INDEX rm_collaboration_organizations_history_org ON rm_collaboration_organizations_history (organization_id, valid_to);
CREATE INDEX rm_collaboration_members_history_org ON rm_collaboration_members_history (organization_id, valid_to);
CREATE INDEX rm_collaboration_members_history_email_ref ON rm_collaboration_members_history (email_ref);

-- history_since is the instant from which a read model's history is
-- whole: read models that already hold rows have none before this
-- migration (an as-of answer before it is replayed, until a rebuild makes
-- the whole history); a read model filled from the first event has all of
-- it.
ALTER TABLE projection_checkpoints ADD COLUMN history_since timestamptz NOT NULL DEFAULT '-infinity';
UPDATE projection_checkpoints SET history_since = now();

---- create above / drop below ----

ALTER TABLE projection_checkpoints DROP COLUMN history_since;
DROP SCHEMA asof CASCADE;
DO $$
DECLARE
    tbl text;
BEGIN
    FOREACH tbl IN ARRAY ARRAY['rm_organizations', 'rm_members', 'rm_invitations_sent', 'rm_received_invitations',
        'rm_received_addressees', 'rm_partners', 'rm_portal_users', 'rm_portal_contracts', 'rm_portal_access',
        'rm_team_invitations', 'rm_collaborator_invitations', 'rm_collaboration_requests', 'rm_collaboration_answers',
        'rm_collaboration_organizations', 'rm_collaboration_members']
    LOOP
        EXECUTE format('DROP TABLE %I', tbl || '_history');
        EXECUTE format('DROP TRIGGER rm_valid_from ON %I', tbl);
        EXECUTE format('DROP TRIGGER rm_history ON %I', tbl);
        EXECUTE format('DROP FUNCTION %I()', 'rm_history_' || tbl);
        EXECUTE format('ALTER TABLE %I DROP COLUMN valid_from', tbl);
    END LOOP;
END;
$$;
DROP FUNCTION rm_asof_view(text), rm_keep_history(text, text), rm_valid_from();
