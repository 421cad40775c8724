-- Time limits the database enforces on every session of this database: a statement that runs,
-- or waits for a lock, longer than this is stopped by PostgreSQL itself, and the service answers
-- 503 database_timeout. They are database defaults (not startup parameters or SET) because
-- Hyperdrive hands out pooled sessions and resets them between clients: database and role
-- defaults are the one setting it keeps. Sessions already open (Hyperdrive's pool) take them
-- when they are next opened. The Worker's own deadline (DB_TIMEOUT_MS, 5 s by default) is
-- above these, for a database that stops answering altogether.
--   statement_timeout 4 s: every statement of the service takes milliseconds.
--   lock_timeout 2 s: per lock wait. A request waits for its session's row, held for the length
--     of one statement of another turn of the same session; queued behind another waiter it
--     waits for two locks, so statement_timeout is what bounds it.
--   idle_in_transaction_session_timeout 10 s: a transaction left open elsewhere cannot hold
--     a session's row for long.
-- Migrations and operators' sessions can lift them with SET for their own session.
DO $$
BEGIN
  EXECUTE format('ALTER DATABASE %I SET statement_timeout = %L', current_database(), '4s');
  EXECUTE format('ALTER DATABASE %I SET lock_timeout = %L', current_database(), '2s');
  EXECUTE format('ALTER DATABASE %I SET idle_in_transaction_session_timeout = %L', current_database(), '10s');
END
$$;
