/**
 * The SQL of the restore transaction around pg_restore's script (./restore-transaction.ts runs it):
 * what is kept aside before the tables are replaced, and what is put back and reported after.
 */
import type { RestoreTransactionParams } from './restore-contract';

const literal = (value: string) => `'${value.replace(/'/g, "''")}'`;

/**
 * Before pg_restore replaces the tables: the audit trail and the backup catalogue are locked
 * against writers and copied aside as JSON (no dependency on the types the restore drops), and the
 * objects present now are noted, so that those the archive does not have can be reported as left
 * alone.
 */
export function beforeRestore(params: RestoreTransactionParams): string {
  return `
BEGIN;
-- Object names in the report come out schema-qualified, as pg_restore's own script sets it.
SET LOCAL search_path = '';
CREATE TEMP TABLE edms_restore_params ON COMMIT DROP AS SELECT ${literal(JSON.stringify(params))}::jsonb AS params;
CREATE TEMP TABLE edms_kept_audit (row jsonb) ON COMMIT DROP;
CREATE TEMP TABLE edms_kept_runs (row jsonb) ON COMMIT DROP;
CREATE TEMP TABLE edms_session_generation (highest integer) ON COMMIT DROP;
DO $edms$
BEGIN
  IF EXISTS (SELECT 1 FROM information_schema.columns
             WHERE table_schema = 'public' AND table_name = 'users' AND column_name = 'session_generation') THEN
    INSERT INTO pg_temp.edms_session_generation SELECT coalesce(max(session_generation), 0) FROM public.users;
  END IF;
  IF to_regclass('public.audit_trail') IS NOT NULL THEN
    LOCK TABLE public.audit_trail IN EXCLUSIVE MODE;
    INSERT INTO pg_temp.edms_kept_audit SELECT to_jsonb(a) FROM public.audit_trail a;
  END IF;
  IF to_regclass('public.backup_runs') IS NOT NULL THEN
    LOCK TABLE public.backup_runs IN EXCLUSIVE MODE;
    INSERT INTO pg_temp.edms_kept_runs SELECT to_jsonb(r) FROM public.backup_runs r;
  END IF;
END
$edms$;
CREATE TEMP TABLE edms_objects_before ON COMMIT DROP AS
  SELECT 'pg_class'::regclass AS catalog, c.oid AS objid, pg_describe_object('pg_class'::regclass, c.oid, 0) AS object
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
  UNION ALL
  SELECT 'pg_proc'::regclass, p.oid, pg_describe_object('pg_proc'::regclass, p.oid, 0)
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
  WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
  UNION ALL
  SELECT 'pg_type'::regclass, t.oid, pg_describe_object('pg_type'::regclass, t.oid, 0)
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
  WHERE t.typtype IN ('e', 'd') AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema';
`;
}

/**
 * After pg_restore, in the same transaction: row counts as restored (before anything is added
 * back), the audit entries the archive does not have re-appended with their own ids and times,
 * every run of the catalogue brought back as it is now, archives on disk that no run lists added,
 * the archive's own run shown as the success it was, the identity sequence moved past every id,
 * every session from before the restore ended, and the restore itself audited with the point it returned to and what it superseded.
 */
export const AFTER_RESTORE = `
CREATE TEMP TABLE edms_restore_summary (summary jsonb) ON COMMIT DROP;
DO $edms$
DECLARE
  params jsonb := (SELECT params FROM pg_temp.edms_restore_params);
  tables jsonb := '{}'::jsonb;
  entry record;
  restored_count bigint;
  point_high bigint;
  diverging bigint;
  first_diverging bigint;
  kept_count bigint;
  kept_first bigint;
  kept_last bigint;
  runs_back jsonb;
  runs_updated jsonb;
  catalogued jsonb;
  extras jsonb;
  summary jsonb;
  restored_audit bigint;
  session_floor integer;
BEGIN
  FOR entry IN SELECT key, value::bigint AS expected FROM jsonb_each_text(params->'row_counts') LOOP
    IF to_regclass(format('public.%I', entry.key)) IS NULL THEN
      restored_count := 0;
    ELSE
      EXECUTE format('SELECT count(*) FROM public.%I', entry.key) INTO restored_count;
    END IF;
    tables := tables || jsonb_build_object(entry.key, jsonb_build_object('expected', entry.expected, 'restored', restored_count));
  END LOOP;

  SELECT coalesce(max(id), 0) INTO point_high FROM public.audit_trail;

  -- Equal ids must be the same entry: an archive whose trail differs comes from another database,
  -- and merging the two would misattribute evidence.
  SELECT count(*), min(a.id) INTO diverging, first_diverging
  FROM pg_temp.edms_kept_audit k
  JOIN public.audit_trail a ON a.id = (k.row->>'id')::bigint
  WHERE (a.action, a.actor, a.occurred_at) IS DISTINCT FROM (k.row->>'action', k.row->>'actor', (k.row->>'occurred_at')::timestamptz);
  IF diverging > 0 THEN
    RAISE EXCEPTION 'the archive''s audit trail differs from this database''s at % entries (first id %): it was made from another database; restore it into an empty database instead', diverging, first_diverging;
  END IF;

  WITH kept AS (
    INSERT INTO public.audit_trail OVERRIDING SYSTEM VALUE
    SELECT (jsonb_populate_record(NULL::public.audit_trail, k.row)).*
    FROM pg_temp.edms_kept_audit k
    ORDER BY (k.row->>'id')::bigint
    ON CONFLICT DO NOTHING
    RETURNING id
  )
  SELECT count(*), min(id), max(id) INTO kept_count, kept_first, kept_last FROM kept;

  -- A run whose configuration the point did not have yet stays in the catalogue, unlinked.
  UPDATE pg_temp.edms_kept_runs k SET row = jsonb_set(k.row, '{config_id}', 'null'::jsonb)
  WHERE k.row->>'config_id' IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM public.backup_configs c WHERE c.id = (k.row->>'config_id')::uuid);
  SELECT coalesce(jsonb_agg(k.row->>'id' ORDER BY k.row->>'started_at'), '[]') INTO runs_back
  FROM pg_temp.edms_kept_runs k
  WHERE NOT EXISTS (SELECT 1 FROM public.backup_runs r WHERE r.id = (k.row->>'id')::uuid);
  SELECT coalesce(jsonb_agg(k.row->>'id' ORDER BY k.row->>'started_at'), '[]') INTO runs_updated
  FROM pg_temp.edms_kept_runs k
  JOIN public.backup_runs r ON r.id = (k.row->>'id')::uuid
  WHERE to_jsonb(r) IS DISTINCT FROM k.row;
  DELETE FROM public.backup_runs r USING pg_temp.edms_kept_runs k WHERE r.id = (k.row->>'id')::uuid;
  INSERT INTO public.backup_runs SELECT (jsonb_populate_record(NULL::public.backup_runs, k.row)).* FROM pg_temp.edms_kept_runs k;

  -- The archive being restored was complete and verified when it was published, whatever its run
  -- said in the snapshot taken while it was being made.
  UPDATE public.backup_runs SET
    status = 'succeeded',
    path = params->'archive'->>'path',
    sha256 = params->'archive'->>'sha256',
    size_bytes = (params->'archive'->>'size_bytes')::bigint,
    finished_at = coalesce(finished_at, (params->'archive'->>'modified_at')::timestamptz),
    manifest = coalesce(manifest, params->'manifest_summary'),
    error = NULL
  WHERE id = (params->>'backup_run_id')::uuid AND status = 'running';

  WITH added AS (
    INSERT INTO public.backup_runs (id, config_id, backup_type, status, started_at, finished_at, size_bytes, path, sha256, manifest)
    SELECT
      CASE WHEN a->>'backup_run_id' IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM public.backup_runs r WHERE r.id = (a->>'backup_run_id')::uuid)
           THEN (a->>'backup_run_id')::uuid ELSE gen_random_uuid() END,
      (SELECT c.id FROM public.backup_configs c WHERE c.name = a->>'config'),
      (a->>'backup_type')::public.backup_type,
      'succeeded',
      (a->>'timestamp')::timestamptz,
      (a->>'modified_at')::timestamptz,
      (a->>'size_bytes')::bigint,
      a->>'path',
      a->>'sha256',
      a->'manifest'
    FROM jsonb_array_elements(params->'archives_on_disk') a
    WHERE NOT EXISTS (SELECT 1 FROM public.backup_runs r WHERE r.path = a->>'path')
    RETURNING path
  )
  SELECT coalesce(jsonb_agg(path ORDER BY path), '[]') INTO catalogued FROM added;

  SELECT coalesce(jsonb_agg(b.object ORDER BY b.object), '[]') INTO extras
  FROM pg_temp.edms_objects_before b
  WHERE (b.catalog = 'pg_class'::regclass AND EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = b.objid))
     OR (b.catalog = 'pg_proc'::regclass AND EXISTS (SELECT 1 FROM pg_proc p WHERE p.oid = b.objid))
     OR (b.catalog = 'pg_type'::regclass AND EXISTS (SELECT 1 FROM pg_type t WHERE t.oid = b.objid));

  PERFORM setval(pg_get_serial_sequence('public.audit_trail', 'id'), (SELECT coalesce(max(id), 0) + 1 FROM public.audit_trail), false);

  -- The restored users carry the session generations of the backup point, which tokens ended since
  -- (a password change, a logout) would match again: every user moves past every generation ever
  -- issued, so each token from before the restore ends and everyone logs in again.
  IF EXISTS (SELECT 1 FROM information_schema.columns
             WHERE table_schema = 'public' AND table_name = 'users' AND column_name = 'session_generation') THEN
    -- Earlier restores record the generation they moved to: users a restore dropped and this one
    -- brings back may hold tokens of generations no longer in any table.
    session_floor := 1 + greatest(
      (SELECT coalesce(max(highest), 0) FROM pg_temp.edms_session_generation),
      (SELECT coalesce(max(u.session_generation), 0) FROM public.users u),
      (SELECT coalesce(max((a.details->>'session_generation')::int), 0) FROM public.audit_trail a
       WHERE a.action = 'BACKUP_RESTORED' AND a.details ? 'session_generation'));
    UPDATE public.users SET session_generation = session_floor;
  END IF;

  summary := jsonb_build_object(
    'tables', tables,
    'point', jsonb_build_object(
      'backup_id', params->'backup_id',
      'backup_timestamp', params->'backup_timestamp',
      'highest_audit_id', point_high),
    'superseded', jsonb_build_object(
      'audit_entries', kept_count,
      'first_audit_id', kept_first,
      'last_audit_id', kept_last,
      'backup_runs_brought_back', runs_back,
      'backup_runs_updated', runs_updated,
      'archives_catalogued', catalogued),
    'extra_objects', extras);

  INSERT INTO public.audit_trail (action, actor, entity_type, entity_id, idempotency_key, details)
  VALUES (
    'BACKUP_RESTORED', params->>'actor', 'backup',
    coalesce(params->>'backup_id', params->>'backup_run_id', params->'archive'->>'path'),
    params->>'idempotency_key',
    jsonb_build_object(
      'archive', params->'archive'->>'path',
      'backup_type', params->'backup_type',
      'backup_timestamp', params->'backup_timestamp',
      'storage_entries', params->'storage_entries',
      'mismatched_tables', (SELECT coalesce(jsonb_agg(key ORDER BY key), '[]') FROM jsonb_each(tables) WHERE value->'expected' <> value->'restored'))
      || jsonb_build_object('point', summary->'point', 'superseded', summary->'superseded', 'extra_objects', extras)
      || jsonb_strip_nulls(jsonb_build_object('session_generation', session_floor)))
  ON CONFLICT DO NOTHING
  RETURNING id INTO restored_audit;

  INSERT INTO pg_temp.edms_restore_summary VALUES (summary || jsonb_build_object('restored_audit_id', restored_audit));
END
$edms$;
SELECT 'EDMS_RESTORE_SUMMARY ' || summary::text FROM pg_temp.edms_restore_summary;
`;
