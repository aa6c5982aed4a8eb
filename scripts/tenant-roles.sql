-- Per-tenant login roles for the SQL assistant, and EXECUTE revoked from PUBLIC on built-in
-- functions no tenant query needs. Run with psql, as a superuser, once per database (again after
-- adding tenants: it is idempotent):
--
--   psql "host=db dbname=app user=postgres" -v ON_ERROR_STOP=1 \
--        -v tenants='tenant_acme tenant_globex' [-v role_suffix=_reader] [-v server_role=inference_catalog] \
--        -f scripts/tenant-roles.sql > tenants.pgpass
--
-- For each schema S in `tenants` it
--   * creates the login role S || role_suffix (default "_reader") with a random password, or, when
--     the role exists, keeps its password and strips what it must not have (superuser, CREATEROLE,
--     CREATEDB, REPLICATION, BYPASSRLS, membership in other roles: no SET ROLE into another tenant);
--   * lets it CONNECT to this database, USAGE on S and SELECT on S's tables (now and, through
--     default privileges, those the schema's owner creates later), and nothing else;
--   * revokes PUBLIC's privileges on S and its tables, so no other role reads S through PUBLIC.
-- With server_role it also creates (or strips) that login role for the server's own
-- Platform:Database:ConnectionString: CONNECT only, which is enough to read the catalog.
-- Then it revokes EXECUTE from PUBLIC on the built-in functions listed below, in this database.
--
-- Output: one pgpass line (*:*:database:role:password) per role it created, for Npgsql's Passfile
-- (Platform:Database:TenantConnectionString = "...;Username={schema}_reader;Passfile=tenants.pgpass").
-- Existing roles keep their passwords and print nothing. Keep the file readable by the server only.

\set QUIET on
\pset format unaligned
\pset tuples_only on
\if :{?role_suffix}
\else
\set role_suffix '_reader'
\endif
\if :{?server_role}
\else
\set server_role ''
\endif

SELECT set_config('tenant_roles.tenants', :'tenants', false),
       set_config('tenant_roles.suffix', :'role_suffix', false),
       set_config('tenant_roles.server_role', :'server_role', false) \g /dev/null

CREATE TEMPORARY TABLE tenant_roles_pgpass (line text NOT NULL);

DO $roles$
DECLARE
    tenants text[] := regexp_split_to_array(btrim(current_setting('tenant_roles.tenants')), '\s+');
    suffix text := current_setting('tenant_roles.suffix');
    server_role text := current_setting('tenant_roles.server_role');
    schema_name text;
    login text;
    owner_name text;
    membership record;
    password text;

BEGIN
    IF NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
        RAISE EXCEPTION 'run tenant-roles.sql as a superuser (revoking EXECUTE on built-in functions needs one)';
    END IF;

    FOREACH login IN ARRAY array_remove(ARRAY(SELECT t || suffix FROM unnest(tenants) t) || server_role, '') LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = login) THEN
            -- Two random UUIDs: 244 random bits, from PostgreSQL's strong random source.
            password := replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '');
            EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L', login, password);
            INSERT INTO tenant_roles_pgpass
            VALUES (format('*:*:%s:%s:%s', replace(replace(current_database(), '\', '\\'), ':', '\:'),
                           replace(replace(login, '\', '\\'), ':', '\:'), password));
        END IF;
        EXECUTE format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS', login);
        -- A member of another role may SET ROLE to it (and read what it reads): no memberships.
        FOR membership IN
            SELECT g.rolname FROM pg_catalog.pg_auth_members m
            JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
            JOIN pg_catalog.pg_roles r ON r.oid = m.member
            WHERE r.rolname = login
        LOOP
            EXECUTE format('REVOKE %I FROM %I', membership.rolname, login);
        END LOOP;
        EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), login);
    END LOOP;

    FOREACH schema_name IN ARRAY tenants LOOP
        SELECT pg_catalog.pg_get_userbyid(nspowner) INTO owner_name FROM pg_catalog.pg_namespace WHERE nspname = schema_name;
        IF owner_name IS NULL THEN
            RAISE EXCEPTION 'schema % does not exist', schema_name;
        END IF;
        login := schema_name || suffix;
        EXECUTE format('REVOKE ALL ON SCHEMA %I FROM PUBLIC', schema_name);
        EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM PUBLIC', schema_name);
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', schema_name, login);
        EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO %I', schema_name, login);
        EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I GRANT SELECT ON TABLES TO %I', owner_name, schema_name, login);
    END LOOP;
END
$roles$;

-- Built-in functions that run SQL given as text, read or list server files, signal or inspect other
-- sessions, change or show server settings, take advisory locks that outlive a transaction, write
-- WAL, manage replication, reset statistics, read large objects, or reach other databases. Most are
-- superuser-only already; revoking them from PUBLIC makes sure no tenant login (or the roles of a
-- hand-made setup) can call them, whatever the SQL checks let through. set_config stays callable:
-- the server sets search_path and statement_timeout with it, and a login that is a member of no
-- other role has no role to switch to.
DO $revoke$
DECLARE
    fn record;
BEGIN
    FOR fn IN
        SELECT p.oid::regprocedure AS signature
        FROM pg_catalog.pg_proc p
        WHERE p.proname LIKE 'dblink%'  -- the extension's functions, in whichever schema it was installed
           OR p.pronamespace = 'pg_catalog'::regnamespace AND (p.proname = ANY (ARRAY[
                  -- SQL text
                  'ts_rewrite', 'ts_stat', 'query_to_xml', 'query_to_xmlschema', 'query_to_xml_and_xmlschema',
                  'cursor_to_xml', 'cursor_to_xmlschema', 'table_to_xml', 'table_to_xmlschema', 'table_to_xml_and_xmlschema',
                  'schema_to_xml', 'schema_to_xmlschema', 'schema_to_xml_and_xmlschema',
                  'database_to_xml', 'database_to_xmlschema', 'database_to_xml_and_xmlschema',
                  -- files
                  'pg_read_file', 'pg_read_binary_file', 'pg_stat_file', 'pg_current_logfile',
                  -- sessions, settings and server state
                  'pg_terminate_backend', 'pg_cancel_backend', 'pg_reload_conf', 'pg_rotate_logfile', 'pg_stat_get_activity',
                  'pg_show_all_settings', 'pg_hba_file_rules', 'pg_ident_file_mappings', 'pg_show_all_file_settings',
                  'pg_notify', 'pg_sleep', 'pg_sleep_for', 'pg_sleep_until', 'setseed',
                  -- transaction ids, WAL and replication
                  'txid_current', 'pg_current_xact_id', 'pg_switch_wal', 'pg_logical_emit_message', 'pg_create_restore_point',
                  'pg_create_physical_replication_slot', 'pg_create_logical_replication_slot', 'pg_drop_replication_slot',
                  'pg_copy_physical_replication_slot', 'pg_copy_logical_replication_slot', 'pg_replication_slot_advance',
                  'pg_logical_slot_get_changes', 'pg_logical_slot_peek_changes', 'pg_logical_slot_get_binary_changes',
                  'pg_logical_slot_peek_binary_changes', 'pg_backup_start', 'pg_backup_stop', 'pg_promote', 'pg_wal_replay_pause',
                  'pg_wal_replay_resume',
                  -- large objects
                  'lo_import', 'lo_export', 'lo_get', 'lo_put', 'lo_from_bytea', 'lo_open', 'lo_create', 'lo_creat', 'lo_unlink',
                  'loread', 'lowrite', 'lo_truncate', 'lo_truncate64'
              ])
               OR p.proname LIKE 'pg\_ls\_%'
               OR p.proname LIKE 'pg\_stat\_reset%'
               OR p.proname LIKE 'pg\_advisory%'
               OR p.proname LIKE 'pg\_try\_advisory%')
    LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', fn.signature);
    END LOOP;
END
$revoke$;

SELECT line FROM tenant_roles_pgpass ORDER BY line;
