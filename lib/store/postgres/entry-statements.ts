/**
 * The statements of the registry's entries in PostgreSQL. Each write gives the row the next version of one sequence,
 * so that a version names one state of an entry even across its deletion and creation again. Each write notifies the other instances in the same statement
 * (channel flowmon_entries, payload {i: id, v: version (-1: deleted), t: change type, o: origin instance}).
 */
import type { RegistryEntry } from '../../registry/entry';

export const ENTRIES_CHANNEL = 'flowmon_entries';

const notify = (type: string, origin: string): string =>
  `pg_notify('${ENTRIES_CHANNEL}', json_build_object('i', id, 'v', version, 't', ${type}::text, 'o', ${origin}::text)::text)`;

/** A write on the version this instance last saw ($8): no row when another instance changed the entry since. */
export const UPDATE_ENTRY = `WITH written AS (
    UPDATE flowmon_entries
    SET version = nextval('flowmon_entries_version'), state = $2, expires_at = $3, simulated = $4, entry = $5::jsonb,
      updated_at = now()
    WHERE id = $1 AND version = $8
    RETURNING id, version
  )
  SELECT version, ${notify('$6', '$7')} FROM written`;

/** A new entry: no row when another instance created it first. */
export const INSERT_ENTRY = `WITH written AS (
    INSERT INTO flowmon_entries (id, version, state, expires_at, simulated, entry)
    VALUES ($1, nextval('flowmon_entries_version'), $2, $3, $4, $5::jsonb)
    ON CONFLICT (id) DO NOTHING
    RETURNING id, version
  )
  SELECT version, ${notify('$6', '$7')} FROM written`;

export const DELETE_ENTRY = `WITH gone AS (DELETE FROM flowmon_entries WHERE id = $1 RETURNING id, -1 AS version)
  SELECT ${notify('$2', '$3')} FROM gone`;

export const SELECT_ENTRIES = 'SELECT id, version, entry FROM flowmon_entries WHERE id = ANY($1)';
export const SELECT_ALL_ENTRIES = 'SELECT id, version, entry FROM flowmon_entries';

export interface EntryRow {
  id: string;
  /** bigint: a string from pg. */
  version: string;
  entry: unknown;
}

/** The parameters of INSERT_ENTRY, or of UPDATE_ENTRY with the version last seen. */
export function writeParameters(entry: RegistryEntry, type: string, origin: string, known?: number): unknown[] {
  const values = [entry.id, entry.state, Math.round(entry.expiresAt), entry.simulated, JSON.stringify(entry), type, origin];
  return known === undefined ? values : [...values, known];
}

export interface EntryNotice {
  id: string;
  /** -1: deleted. */
  version: number;
  type: string;
  origin: string;
}

const MAX_NOTICE_FIELD = 512;

export function parseNotice(payload: string): EntryNotice | undefined {
  if (payload.length > 4 * MAX_NOTICE_FIELD) return undefined;
  try {
    const { i, v, t, o } = JSON.parse(payload) as Record<string, unknown>;
    const text = (s: unknown): s is string => typeof s === 'string' && s.length <= MAX_NOTICE_FIELD;
    if (!text(i) || !text(t) || !text(o) || typeof v !== 'number' || !Number.isInteger(v)) return undefined;
    return { id: i, version: v, type: t, origin: o };
  } catch {
    return undefined;
  }
}
