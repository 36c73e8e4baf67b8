/**
 * Which store a runtime uses: `flowmonResponse.store` in settings.js, else the environment variable
 * FLOWMON_RESPONSE_STORE, else the embedded journal. A PostgreSQL store is a `postgres://` or `postgresql://` URL
 * (the password may also come from PGPASSWORD or ~/.pgpass, as with every libpq client).
 */
export const STORE_ENV = 'FLOWMON_RESPONSE_STORE';

export interface StoreSettingsRuntime {
  settings: { userDir?: string; flowmonResponse?: { store?: unknown } };
}

export type StoreChoice = { kind: 'journal' } | { kind: 'postgres'; url: string } | { kind: 'invalid'; problem: string };

export function storeChoice(red: StoreSettingsRuntime, env: NodeJS.ProcessEnv = process.env): StoreChoice {
  const fromSettings = red.settings?.flowmonResponse?.store;
  const value = fromSettings !== undefined ? fromSettings : env[STORE_ENV];
  const origin = fromSettings !== undefined ? 'flowmonResponse.store in settings.js' : STORE_ENV;
  if (value === undefined || value === '' || value === 'journal') return { kind: 'journal' };
  if (typeof value !== 'string') return { kind: 'invalid', problem: `${origin} must be "journal" or a postgres:// URL` };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { kind: 'invalid', problem: `${origin} is neither "journal" nor a URL` };
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    return { kind: 'invalid', problem: `${origin} must be "journal" or a postgres:// URL (it is a ${url.protocol.replace(':', '')}: URL)` };
  }
  return { kind: 'postgres', url: value };
}

/** The URL without its password or query (for logs, status and the admin API). */
export function describePostgres(value: string): string {
  const url = new URL(value);
  const user = url.username ? `${decodeURIComponent(url.username)}@` : '';
  return `postgres://${user}${url.host}${url.pathname}`;
}
