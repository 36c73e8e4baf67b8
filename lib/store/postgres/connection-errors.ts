import { StoreUnavailableError } from '../types';

/** SQLSTATEs that mean the server, not the statement, is the problem. */
const SERVER_GONE: Record<string, string> = {
  '57P01': 'PostgreSQL is shutting down',
  '57P02': 'PostgreSQL restarted after a crash',
  '57P03': 'PostgreSQL is starting or recovering',
  '57014': 'PostgreSQL did not finish a statement in time',
  '53300': 'PostgreSQL has no connection left',
  '3D000': 'the database does not exist',
  '28P01': 'PostgreSQL refused the login',
  '28000': 'PostgreSQL refused the login',
};

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
  'ECONNABORTED', 'EHOSTDOWN', 'ENETDOWN',
]);

/** Errors of the pg client itself that carry no code. */
const CLIENT_MESSAGES: [RegExp, string][] = [
  [/connection terminated|not queryable|connection ended/i, 'the connection to PostgreSQL was lost'],
  [/timeout/i, 'PostgreSQL did not answer in time'],
];

/**
 * Why PostgreSQL cannot be used, when the error says so; undefined for an error of the statement itself. The reason is
 * written here, never copied from the error: messages of the network layer name the host and port.
 */
export function unavailableReason(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const code = codeOf(err);
  if (code && NETWORK_CODES.has(code)) return `PostgreSQL cannot be reached (${code})`;
  if (code && SERVER_GONE[code]) return `${SERVER_GONE[code]} (${code})`;
  if (code?.startsWith('08')) return `the connection to PostgreSQL failed (${code})`;
  if (code) return undefined;
  return CLIENT_MESSAGES.find(([pattern]) => pattern.test(err.message))?.[1];
}

export function toUnavailable(err: unknown): unknown {
  const reason = unavailableReason(err);
  return reason === undefined ? err : new StoreUnavailableError(`the shared store is unavailable: ${reason}`);
}

function codeOf(err: Error): string | undefined {
  const own = (err as { code?: unknown }).code;
  if (typeof own === 'string') return own;
  // Node reports a failed connection to each address of a name as one AggregateError.
  const inner = (err as { errors?: unknown }).errors;
  if (Array.isArray(inner)) return inner.map((e) => (e instanceof Error ? codeOf(e) : undefined)).find(Boolean);
  return undefined;
}
