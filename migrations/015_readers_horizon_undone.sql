-- Migration 012 narrowed the readers' horizon to "the oldest running
-- transaction that appends" (an append declared itself with a shared
-- advisory lock before its transaction had an id, and readers passed every
-- running transaction without that lock). It skipped events: the peers'
-- tail probe (../shared/peers, -tail: a reader polling while 8 writers
-- append) missed 1 event of 20,000 in two runs of three, and the database
-- restart fault test once found a decline the live read models never
-- applied. Readers are back on pg_snapshot_xmin (a running transaction of
-- any kind holds them back, late but never lost), and what 012 added is
-- dropped here.
DROP TRIGGER events_appenders_only ON events;
DROP TRIGGER watermill_events_appenders_only ON watermill_events;
DROP FUNCTION partners_appenders_only();
DROP FUNCTION partners_begin_append();
DROP FUNCTION partners_log_horizon();
