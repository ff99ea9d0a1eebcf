-- What the application role may do, table by table. Run in the clinic's database,
-- as the owner or a superuser, AFTER the migrations (they create the tables):
--   psql "$OWNER_URL" -v ON_ERROR_STOP=1 -c "SET clinic.app_role = 'clinic_app'" -f deploy/postgres/grants.sql
-- Safe to run again; run it after every migration (`make pg-roles` does both).
--
-- Each table gets what the application's actions need and nothing more; the database's
-- triggers (records/migrations) then refuse, row by row, what the grants must allow in
-- general: UPDATE on a clinical table is granted for the columns an action sets once (an
-- entered-in-error mark, a stop, a resolution, a co-signature), and the triggers refuse the
-- rest. So the lists below follow the actions, not the triggers: an intake assessment is
-- revised (UPDATE) though never deleted, and its trigger refuses only the DELETE.
--
--   read only     the owner's migrations and their bookkeeping: never written by the application
--   append only   written once, never changed or deleted: SELECT and INSERT
--   sign-in state accounts' groups, authenticator devices, recovery codes, login sessions,
--                 log-in records, the API's rate-limit counters, the default cache and the
--                 background-task queue: rows are replaced and removed (SELECT, INSERT, UPDATE, DELETE)
--   every other records_ table (patients, sessions and their clinical rows, accounts, settings):
--                 SELECT, INSERT, UPDATE; never DELETE, as nothing clinical is ever deleted
--   any other table (one this file does not know yet): read only, with a notice to classify it
--
-- Never TRUNCATE, REFERENCES or TRIGGER. Not being the owner, the application role cannot
-- drop or disable the triggers, and it is no superuser, so it cannot switch triggers off
-- with session_replication_role either. CI runs the action tests as a role made by
-- roles.sql with these grants (.ci/test-databases), so a grant an action needs and lacks
-- fails the build.
DO $grants$
DECLARE
    app text := current_setting('clinic.app_role');
    read_only text[] := ARRAY[
        'django_migrations', 'django_content_type', 'auth_permission', 'auth_group', 'auth_group_permissions',
        'records_user_user_permissions'
    ];
    append_only text[] := ARRAY[
        'records_auditevent', 'records_auditverification', 'records_intakerevision', 'records_outcomereport',
        'records_addendum', 'records_administrationevent', 'records_discharge', 'records_dischargeoverride',
        -- monitoring protocols: versions, the version a session took, missed-checkpoint reasons
        'records_protocolversion', 'records_sessionprotocol', 'records_checkpointmiss'
    ];
    sign_in_state text[] := ARRAY[
        'records_user_groups', 'records_recoverycode', 'otp_totp_totpdevice', 'django_session',
        'axes_accessattempt', 'axes_accessattemptexpiration', 'axes_accesslog', 'axes_accessfailurelog',
        -- the API's rate-limit counters: a cache, whose expired rows are removed
        'records_ratelimit_cache',
        -- the default cache (settings.CACHES, made by createcachetable): the progress of
        -- background tasks and the heartbeat of the worker; rows expire and are removed
        'clinic_cache',
        -- the background-task queue (django-tasks-db): the web process adds tasks, the worker
        -- claims and finishes them; `manage.py prune_db_task_results` removes old ones
        'django_tasks_database_dbtaskresult'
    ];
    tbl record;
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA public TO %I', app);
    -- From nothing, so that running this again after a table moves between lists takes the old grant away.
    EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA public FROM %I', app);
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA public TO %I', app);
    EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO %I', app);
    FOR tbl IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename LOOP
        IF tbl.tablename = ANY (read_only) THEN
            CONTINUE;
        ELSIF tbl.tablename = ANY (append_only) THEN
            EXECUTE format('GRANT INSERT ON %I TO %I', tbl.tablename, app);
        ELSIF tbl.tablename = ANY (sign_in_state) THEN
            EXECUTE format('GRANT INSERT, UPDATE, DELETE ON %I TO %I', tbl.tablename, app);
        ELSIF tbl.tablename LIKE 'records\_%' THEN
            EXECUTE format('GRANT INSERT, UPDATE ON %I TO %I', tbl.tablename, app);
        ELSE
            RAISE NOTICE 'grants.sql: table % is in none of its lists; the application may only read it.',
                tbl.tablename;
        END IF;
    END LOOP;
END
$grants$;
