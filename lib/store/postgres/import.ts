/**
 * Moving a single instance's journals into PostgreSQL, in one transaction: the registry's entries (so the blocks it
 * made are still released on time), the history, and the events it accepted and had not finished (owned by no live
 * instance, so the releasing instance takes them over and finishes them). What the database has already is kept.
 */
import type { HistoryRecord } from '../../history/record';
import type { IntakeRecord } from '../../intake/ledger';
import type { RegistryEntry } from '../../registry/entry';
import type { PgConnection, Queryable } from './connection';
import { ENTRIES_CHANNEL } from './entry-statements';
import { HISTORY_CHANNEL } from './history';

export interface JournalContents {
  entries: RegistryEntry[];
  history: HistoryRecord[];
  intake: IntakeRecord[];
}

export type ImportCounts = { [K in keyof JournalContents]: number };

/** The owner of imported events: never a live instance's id (those are UUIDs). */
export const IMPORTED = 'imported';
const CHUNK = 1_000;

const ENTRIES = `WITH written AS (
    INSERT INTO flowmon_entries (id, version, state, expires_at, simulated, entry)
    SELECT r.id, nextval('flowmon_entries_version'), r.state, r.expires_at, r.simulated, r.entry
    FROM jsonb_to_recordset($1::jsonb) AS r(id text, state text, expires_at bigint, simulated boolean, entry jsonb)
    ON CONFLICT (id) DO NOTHING
    RETURNING id, version
  )
  SELECT pg_notify('${ENTRIES_CHANNEL}', json_build_object('i', id, 'v', version, 't', 'imported', 'o', '${IMPORTED}')::text) FROM written`;
const HISTORY = `WITH added AS (
    INSERT INTO flowmon_history (id, at, origin, record)
    SELECT r.id, r.at, '${IMPORTED}', r.record FROM jsonb_to_recordset($1::jsonb) AS r(id text, at bigint, record jsonb)
    ORDER BY r.at
    ON CONFLICT (id) DO NOTHING
    RETURNING seq
  )
  SELECT count(*) AS added, pg_notify('${HISTORY_CHANNEL}', json_build_object('s', max(seq), 'o', '${IMPORTED}')::text) FROM added`;
const INTAKE = `INSERT INTO flowmon_intake (id, node, at, owner, event)
  SELECT r.id, r.node, r.at, '${IMPORTED}', r.event FROM jsonb_to_recordset($1::jsonb) AS r(id text, node text, at bigint, event jsonb)
  ON CONFLICT (id) DO NOTHING`;

export async function importJournalContents(conn: PgConnection, contents: JournalContents): Promise<ImportCounts> {
  return conn.transaction(async (tx) => {
    const entries = await inChunks(tx, ENTRIES, contents.entries, (e) => ({
      id: e.id,
      state: e.state,
      expires_at: Math.round(e.expiresAt),
      simulated: e.simulated,
      entry: e,
    }));
    let history = 0;
    for (let i = 0; i < contents.history.length; i += CHUNK) {
      const rows = contents.history.slice(i, i + CHUNK).map((r) => ({ id: r.id, at: r.at, record: r }));
      const { rows: result } = await tx.query<{ added: string }>(HISTORY, [JSON.stringify(rows)]);
      history += Number(result[0]?.added ?? 0);
    }
    const intake = await inChunks(tx, INTAKE, contents.intake, (r) => ({ id: r.id, node: r.node, at: r.at, event: r.event }));
    return { entries, history, intake };
  });
}

async function inChunks<T>(tx: Queryable, statement: string, items: T[], row: (item: T) => object): Promise<number> {
  let written = 0;
  for (let i = 0; i < items.length; i += CHUNK) {
    const result = await tx.query(statement, [JSON.stringify(items.slice(i, i + CHUNK).map(row))]);
    written += result.rowCount ?? 0;
  }
  return written;
}
