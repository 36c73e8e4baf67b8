import type { PgConnection, Queryable } from './connection';
import { MIGRATIONS } from './migrations';

/** The schema this package writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** The advisory lock that serialises migrations of instances starting together ("flowmon" in ASCII). */
export const SCHEMA_LOCK_KEY = '28829673625317230';

/**
 * Creates or updates the schema: one transaction under an advisory lock, so instances starting together do not
 * race; the migrations above the stored version are applied in order. A database a newer package already migrated
 * is left as it is.
 */
export async function migrate(conn: PgConnection): Promise<void> {
  await conn.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [SCHEMA_LOCK_KEY]);
    await tx.query('CREATE TABLE IF NOT EXISTS flowmon_schema_version (version int NOT NULL)');
    const stored = await storedVersion(tx);
    if (stored >= SCHEMA_VERSION) return;
    for (const migration of MIGRATIONS.slice(stored)) {
      for (const statement of migration) await tx.query(statement);
    }
    if (stored === 0) await tx.query('INSERT INTO flowmon_schema_version (version) VALUES ($1)', [SCHEMA_VERSION]);
    else await tx.query('UPDATE flowmon_schema_version SET version = $1', [SCHEMA_VERSION]);
  });
}

async function storedVersion(tx: Queryable): Promise<number> {
  const { rows } = await tx.query<{ version: number }>('SELECT max(version) AS version FROM flowmon_schema_version');
  return rows[0]?.version ?? 0;
}
