/**
 * The admin API and live updates behind the "Flowmon blocks" sidebar tab. Handlers are plain functions over the
 * registry so they can be tested without the editor.
 */
import type { RegistryEntry, RuntimeRegistry } from '../../lib/registry';
import { endedAt, errorText } from '../../lib/registry/entry';

export const BLOCKS_TOPIC = 'flowmon-response/blocks';
export const BLOCKS_ROUTE = '/flowmon-response/blocks';
/** Node-RED permissions of the routes: a user with the `read` scope may list, releasing needs `write`. */
export const READ_PERMISSION = 'flowmon-response.read';
export const WRITE_PERMISSION = 'flowmon-response.write';
/** Rows sent over comms; the full list is always available through GET. */
export const SNAPSHOT_LIMIT = 1000;

export interface ApiRequest {
  params: Record<string, string>;
  query: Record<string, unknown>;
  /** Set by Node-RED's needsPermission with adminAuth: a named user, or the default (anonymous) user. */
  user?: { username?: unknown } | null;
}

/** The name recorded for a request without a named adminAuth user. */
export const ANONYMOUS = 'anonymous';

/** Who asks: the adminAuth user's name; "anonymous" without adminAuth or for the default user. */
export function requesterName(req: ApiRequest): string {
  const name = req.user?.username;
  return typeof name === 'string' && name.trim() !== '' ? name : ANONYMOUS;
}

export interface ApiResponse {
  status(code: number): ApiResponse;
  json(body: unknown): unknown;
}

export interface BlocksSnapshot {
  /** Server time, so the editor can show "expires in" without trusting the browser clock. */
  now: number;
  total: number;
  /** Entries waiting for a decision (all of them, also beyond the rows sent). */
  held: number;
  entries: RegistryEntry[];
}

/**
 * The fields of an entry the editor receives, named one by one: a field added to entries later is not sent until it
 * is listed here (entries hold no secret; this keeps it so).
 */
const PUBLIC_FIELDS = [
  'id', 'kind', 'configId', 'scope', 'target', 'label', 'state', 'simulated', 'firstSeen', 'lastSeen', 'hits',
  'eventIds', 'expiresAt', 'armedAt', 'ttlSeconds', 'blocks', 'owner', 'attempts', 'nextAttemptAt', 'lastError',
  'releasedAt', 'releasedBy', 'releaseRequestedBy', 'hold', 'decision',
] as const satisfies ReadonlyArray<keyof RegistryEntry>;
type Undecided = Exclude<keyof RegistryEntry, (typeof PUBLIC_FIELDS)[number]>;
/**
 * Does not compile while an entry field is not listed: whoever adds one decides whether editors see it (list it
 * above) or not (exclude it here by name), and bounds its text in the registry.
 */
const _everyFieldDecided: [Undecided] extends [never] ? true : Undecided = true;

export function publicEntry(e: RegistryEntry): RegistryEntry;
export function publicEntry(e: RegistryEntry | undefined): RegistryEntry | undefined;
export function publicEntry(e: RegistryEntry | undefined): RegistryEntry | undefined {
  if (!e) return undefined;
  const out: Partial<Record<keyof RegistryEntry, unknown>> = {};
  for (const field of PUBLIC_FIELDS) if (e[field] !== undefined) out[field] = e[field];
  return out as unknown as RegistryEntry;
}

/** Held first (they wait for a person), then being applied, pending and orphaned, active, and finished last. */
const STATE_ORDER: Record<string, number> = {
  held: 0,
  approving: 1,
  'release-pending': 2,
  orphaned: 3,
  active: 4,
  released: 5,
  discarded: 5,
  approved: 5,
};

/**
 * Held entries by decide-by (the most urgent first), then being applied, pending and orphaned (they need
 * attention), active by expiry, and the finished ones (released, discarded, approved) most recent first.
 */
export function sortEntries(entries: RegistryEntry[]): RegistryEntry[] {
  const rank = (e: RegistryEntry) => STATE_ORDER[e.state] ?? 6;
  const time = (e: RegistryEntry) => {
    if (e.state === 'held') return e.hold?.decideBy ?? 0;
    const ended = endedAt(e);
    return ended !== undefined ? -ended : e.expiresAt;
  };
  return entries.sort((a, b) => rank(a) - rank(b) || time(a) - time(b));
}

export function snapshot(registry: RuntimeRegistry, limit = SNAPSHOT_LIMIT): BlocksSnapshot {
  const all = sortEntries(registry.list());
  const held = all.filter((e) => e.state === 'held').length;
  return { now: Date.now(), total: all.length, held, entries: all.slice(0, limit).map((e) => publicEntry(e)) };
}

export function listBlocks(registry: RuntimeRegistry) {
  return async (_req: ApiRequest, res: ApiResponse): Promise<void> => {
    // On PostgreSQL the entries arrive asynchronously at start: answer from all of them.
    await registry.ready;
    res.json(sortEntries(registry.list()).map((e) => publicEntry(e)));
  };
}

/**
 * DELETE: release now through the same path as expiry. 200 with the entry once released, 404 unknown id, 409 when
 * the config node is gone (entry orphaned; `?forget=true` then drops it) or the entry is a held block (or a decided
 * one) that was never applied, 502 with the appliance error when the
 * release fails (the entry stays release-pending and is retried), 503 while flows are starting.
 */
export function releaseBlock(registry: RuntimeRegistry) {
  return async (req: ApiRequest, res: ApiResponse): Promise<void> => {
    try {
      const id = req.params.id;
      const entry = publicEntry(registry.get(id));
      if (!entry) {
        res.status(404).json({ error: errorText(`no block with id ${id}`) });
        return;
      }
      if (entry.state === 'orphaned') {
        if (req.query.forget === 'true') {
          await registry.forget(id);
          res.status(200).json({ forgotten: true, entry });
          return;
        }
        res.status(409).json({ error: entry.lastError ?? 'the appliance config node no longer exists', entry });
        return;
      }
      const result = await registry.releaseNow(id, requesterName(req));
      const released = publicEntry(result.entry);
      switch (result.status) {
        case 'released':
          res.status(200).json(released);
          return;
        case 'orphaned':
          res.status(409).json({ error: released?.lastError ?? 'appliance config node is gone', entry: released });
          return;
        case 'failed':
          res.status(502).json({ error: errorText(result.error), entry: released });
          return;
        case 'deferred':
          res.status(503).json({ error: 'flows are starting; try again in a few seconds', entry: released });
          return;
        case 'not-a-block':
          res.status(409).json({ error: `the entry is ${released?.state ?? 'not a block'}: it was never applied, approve or discard it`, entry: released });
          return;
        default:
          res.status(404).json({ error: errorText(`no block with id ${id}`) });
      }
    } catch (err) {
      res.status(500).json({ error: errorText(err instanceof Error ? err.message : String(err)) });
    }
  };
}

const publishers = new WeakMap<RuntimeRegistry, () => void>();

/**
 * Publishes a snapshot (retained) after changes, at most every `intervalMs`. Replaces an earlier publisher of the
 * same registry. Returns a function that stops publishing.
 */
export function publishSnapshots(
  registry: RuntimeRegistry,
  publish: (topic: string, data: BlocksSnapshot, retain: boolean) => void,
  intervalMs = 500,
): () => void {
  publishers.get(registry)?.();
  let timer: NodeJS.Timeout | undefined;
  const onChange = () => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      publish(BLOCKS_TOPIC, snapshot(registry), true);
    }, intervalMs);
    timer.unref?.();
  };
  registry.on('change', onChange);
  publish(BLOCKS_TOPIC, snapshot(registry), true);
  void registry.ready.then(onChange);
  const stop = () => {
    registry.off('change', onChange);
    if (timer) clearTimeout(timer);
    publishers.delete(registry);
  };
  publishers.set(registry, stop);
  return stop;
}
