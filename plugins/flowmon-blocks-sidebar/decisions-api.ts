/**
 * The admin routes that decide held blocks (approve, discard; one or many). Every decision goes through
 * `registry.decisions` (DecisionService), which journals it before it answers. Handlers are plain functions so they
 * can be tested without the editor; every input is bounded before any work is done.
 *
 * The editor API parses JSON bodies of every admin route before the route runs (body-parser, `apiMaxLength`, 5 MB by
 * default): these handlers refuse a declared body over their own limit (413) and check the shape, the number of ids
 * and every id's length before the registry is asked.
 */
import type { DecidedBy, DecideRequest, DecideResult, DecideStatus, DecisionAction } from '../../lib/decisions/types';
import type { RuntimeRegistry } from '../../lib/registry';
import { errorText } from '../../lib/registry/entry';
import { MAX_CANDIDATE_ID_LENGTH } from '../../lib/registry/hold-bounds';
import { ApiRequest, ApiResponse, BLOCKS_ROUTE, publicEntry, requesterName } from './blocks-api';
export { ANONYMOUS } from './blocks-api';

/** Ids per bulk request. */
export const MAX_BULK_IDS = 10_000;
/** Characters per id (entry ids are 16; anything much longer is not an id). */
export const MAX_ID_LENGTH = 64;
/** A bulk body: MAX_BULK_IDS ids of MAX_ID_LENGTH characters, quoted and separated, fit. */
export const MAX_BULK_BODY_BYTES = 1024 * 1024;
/** A single decision's body: at most `{"userId": "…"}`. */
export const MAX_ONE_BODY_BYTES = 4 * 1024;
/** Recorded as who decided when Node-RED runs without adminAuth (or for its anonymous default user). */

export const DECISION_ROUTES = {
  approveMany: `${BLOCKS_ROUTE}/approve`,
  discardMany: `${BLOCKS_ROUTE}/discard`,
  approveOne: `${BLOCKS_ROUTE}/:id/approve`,
  discardOne: `${BLOCKS_ROUTE}/:id/discard`,
} as const;

/** The HTTP status of a decision's result. */
export const STATUS_CODES: Record<DecideStatus, number> = {
  approved: 200,
  discarded: 200,
  unknown: 404,
  'not-held': 409,
  invalid: 400,
};

/** What a decision route reads of the request, beside the params. */
export interface DecisionRequest extends ApiRequest {
  body?: unknown;
  headers?: Record<string, string | string[] | undefined>;
}

/** Who decides: the adminAuth user's name; "anonymous" without adminAuth or for the default user. */
export function decidedBy(req: DecisionRequest): DecidedBy {
  return { kind: 'user', name: requesterName(req) };
}

/** Why the request's declared body is too large, or null. */
function tooLarge(req: DecisionRequest, max: number): string | null {
  const header = req.headers?.['content-length'];
  const length = Number(Array.isArray(header) ? header[0] : header);
  return Number.isFinite(length) && length > max ? `the body is larger than ${max} bytes` : null;
}

/** Why `id` cannot be an entry id, or null. */
export function idProblem(id: unknown): string | null {
  if (typeof id !== 'string' || id.length === 0) return 'an id must be a non-empty string';
  if (id.length > MAX_ID_LENGTH) return `an id must be at most ${MAX_ID_LENGTH} characters`;
  return null;
}

/** The body of a single decision: nothing, `{}` or `{ "userId": "…" }` (approve only). */
export function readOneBody(body: unknown, action: DecisionAction): { userId?: string } | { problem: string } {
  if (body === undefined || body === null || body === '') return {};
  if (typeof body !== 'object' || Array.isArray(body)) return { problem: 'the body must be a JSON object' };
  const userId = (body as { userId?: unknown }).userId;
  if (userId === undefined || userId === null) return {};
  if (action !== 'approve') return { problem: 'a user is chosen only when approving' };
  if (typeof userId !== 'string' || userId.length === 0 || userId.length > MAX_CANDIDATE_ID_LENGTH) {
    return { problem: `userId must be a string of 1 to ${MAX_CANDIDATE_ID_LENGTH} characters` };
  }
  return { userId };
}

/** The ids of a bulk body `{ "ids": [...] }`: 1 to MAX_BULK_IDS strings of at most MAX_ID_LENGTH characters. */
export function readIds(body: unknown): { ids: string[] } | { problem: string } {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return { problem: 'the body must be a JSON object with "ids"' };
  const ids = (body as { ids?: unknown }).ids;
  if (!Array.isArray(ids)) return { problem: '"ids" must be an array of entry ids' };
  // The count first: a long array is refused before any element is looked at.
  if (ids.length === 0) return { problem: '"ids" is empty' };
  if (ids.length > MAX_BULK_IDS) return { problem: `at most ${MAX_BULK_IDS} ids per request (got ${ids.length})` };
  for (let i = 0; i < ids.length; i++) {
    const problem = idProblem(ids[i]);
    if (problem) return { problem: `ids[${i}]: ${problem}` };
  }
  return { ids: ids as string[] };
}

function fail(res: ApiResponse, code: number, error: string): void {
  res.status(code).json({ error: errorText(error) });
}

function resultBody(result: DecideResult): DecideResult {
  const out: DecideResult = { id: result.id, status: result.status };
  if (result.error !== undefined) out.error = errorText(result.error);
  return out;
}

/**
 * POST /blocks/:id/approve and /blocks/:id/discard: 200 `{id, status, entry}` when approved or discarded, 404
 * unknown, 409 not held (decided already, or not a held block), 400 invalid (a bad id or body, an ambiguous entry
 * without one of its candidates' `userId`), 413 for a body over MAX_ONE_BODY_BYTES.
 */
export function decideOne(registry: RuntimeRegistry, action: DecisionAction) {
  return async (req: DecisionRequest, res: ApiResponse): Promise<void> => {
    try {
      const large = tooLarge(req, MAX_ONE_BODY_BYTES);
      if (large) return fail(res, 413, large);
      const id = req.params.id;
      const bad = idProblem(id);
      if (bad) return fail(res, 400, bad);
      const body = readOneBody(req.body, action);
      if ('problem' in body) return fail(res, 400, body.problem);
      const request: DecideRequest = { action, by: decidedBy(req) };
      if (body.userId !== undefined) request.userId = body.userId;
      const result = await registry.decisions.decide(id, request);
      const entry = publicEntry(registry.get(id));
      res.status(STATUS_CODES[result.status]).json({ ...resultBody(result), ...(entry ? { entry } : {}) });
    } catch (err) {
      fail(res, 500, err instanceof Error ? err.message : String(err));
    }
  };
}

export interface BulkAnswer {
  results: DecideResult[];
  /** How many results of each status. */
  counts: Record<DecideStatus, number>;
}

/**
 * POST /blocks/approve and /blocks/discard with `{ "ids": [...] }`: 200 with one result per id, in the order given
 * (each `approved`, `discarded`, `not-held`, `unknown` or `invalid` with its error); 400 for a body that is not
 * 1 to MAX_BULK_IDS ids of at most MAX_ID_LENGTH characters, 413 for a body over MAX_BULK_BODY_BYTES. Ambiguous
 * entries cannot be approved in bulk (each needs its user chosen): they answer `invalid`.
 */
export function decideMany(registry: RuntimeRegistry, action: DecisionAction) {
  return async (req: DecisionRequest, res: ApiResponse): Promise<void> => {
    try {
      const large = tooLarge(req, MAX_BULK_BODY_BYTES);
      if (large) return fail(res, 413, large);
      const read = readIds(req.body);
      if ('problem' in read) return fail(res, 400, read.problem);
      const results = (await registry.decisions.decideMany(read.ids, { action, by: decidedBy(req) })).map(resultBody);
      const counts: Record<DecideStatus, number> = { approved: 0, discarded: 0, 'not-held': 0, unknown: 0, invalid: 0 };
      for (const r of results) counts[r.status]++;
      const answer: BulkAnswer = { results, counts };
      res.status(200).json(answer);
    } catch (err) {
      fail(res, 500, err instanceof Error ? err.message : String(err));
    }
  };
}
