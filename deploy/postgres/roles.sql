-- Roles and database for the clinic on PostgreSQL. Run as a superuser with psql:
--   psql "$ADMIN_URL" -v ON_ERROR_STOP=1 -v owner=clinic_owner -v app=clinic_app -v db=clinic \
--        -v owner_password=... -v app_password=... -f deploy/postgres/roles.sql
-- Safe to run again. The owner owns the database and every table (it runs the
-- migrations); the application role only gets what grants.sql gives it.
\set ON_ERROR_STOP on

SELECT format('CREATE ROLE %I LOGIN', :'owner')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'owner') \gexec
SELECT format('CREATE ROLE %I LOGIN', :'app')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'app') \gexec

-- Neither role may step around the permissions or the triggers.
SELECT format('ALTER ROLE %I NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS', name)
FROM unnest(ARRAY[:'owner', :'app']) AS name \gexec
SELECT format('ALTER ROLE %I PASSWORD %L', :'owner', :'owner_password') WHERE :'owner_password' <> '' \gexec
SELECT format('ALTER ROLE %I PASSWORD %L', :'app', :'app_password') WHERE :'app_password' <> '' \gexec

SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L', :'db', :'owner', 'UTF8')
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'db') \gexec
SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', :'db', :'app') \gexec

\connect :db
-- Only the owner creates objects; the application uses them.
SELECT format('ALTER SCHEMA public OWNER TO %I', :'owner') \gexec
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
