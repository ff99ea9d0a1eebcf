-- What the application role may do, table by table. Run in the clinic's database,
-- as the owner or a superuser, AFTER the migrations (they create the tables):
--   psql "$OWNER_URL" -v ON_ERROR_STOP=1 -c "SET clinic.app_role = 'clinic_app'" -f deploy/postgres/grants.sql
-- Safe to run again; run it after every migration.
--
-- Every table: read and write. Append-only tables (audit events, verification runs,
-- any table whose migration installed a "<table>_no_change" trigger): SELECT and
-- INSERT only, never UPDATE, DELETE or TRUNCATE. Not being the owner, the
-- application role cannot drop or disable the triggers, and it is no superuser, so
-- it cannot switch triggers off with session_replication_role either.
DO $grants$
DECLARE
    app text := current_setting('clinic.app_role');
    append_only record;
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA public TO %I', app);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO %I', app);
    EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO %I', app);
    EXECUTE format('REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM %I', app);
    FOR append_only IN
        SELECT DISTINCT c.relname
        FROM pg_trigger t
        JOIN pg_class c ON c.oid = t.tgrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND NOT t.tgisinternal AND t.tgname = c.relname || '_no_change'
    LOOP
        EXECUTE format('REVOKE UPDATE, DELETE ON %I FROM %I', append_only.relname, app);
    END LOOP;
    -- The migration history belongs to the owner.
    IF to_regclass('public.django_migrations') IS NOT NULL THEN
        EXECUTE format('REVOKE INSERT, UPDATE, DELETE ON django_migrations FROM %I', app);
    END IF;
END
$grants$;
