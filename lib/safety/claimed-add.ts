/**
 * One appliance add per target across instances: before an add, this instance claims the target at the shared store.
 * Another instance adding the same target makes this one wait until the block is there (or the other gave up), so a
 * burst seen by two instances costs one appliance call.
 */
import { sleep as wait } from '../http/retry';
import type { MitigationKey } from '../mitigation/types';
import { entryId } from '../registry/entry';
import type { AddClaims } from '../store/types';

/** How often a waiting instance asks again whether the other one finished. */
export const CLAIM_POLL_MS = 200;
/** How long an instance waits for another one's add before it gives up (for now: the request may be retried). */
export const CLAIM_WAIT_MS = 30_000;

/** Another instance kept adding the same block for longer than CLAIM_WAIT_MS. Retryable. */
export class AddClaimBusyError extends Error {
  readonly retryable = true;

  constructor() {
    super('another instance is adding this block');
    this.name = 'AddClaimBusyError';
  }
}

export interface ClaimedAdd<T> {
  claims: AddClaims;
  key: MitigationKey;
  /** The registry's view: true once the block is active (another instance added it). */
  isActive?: (key: MitigationKey) => boolean;
  /** The add itself (the hold gate, then the appliance call). */
  add: () => Promise<T>;
  /** Whether the add's value means the block is on the appliance (or simulated): otherwise another may try. */
  added: (value: T) => boolean;
  /** The value when the block is on the appliance already: no call is made. */
  alreadyThere: () => T;
  pollMs?: number;
  waitMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/**
 * Runs `add` once this instance holds the claim on the key, and ends the claim after it. Rejects with
 * AddClaimBusyError when another instance holds it too long, or with the store's error when the store cannot be asked.
 */
export async function claimedAdd<T>(options: ClaimedAdd<T>): Promise<T> {
  const id = entryId(options.key);
  const turn = await awaitTurn(options, id);
  if (turn === 'active') return options.alreadyThere();
  let added = false;
  try {
    const value = await options.add();
    added = options.added(value);
    return value;
  } finally {
    // A claim that cannot be ended lapses at the store; the add's own outcome stands.
    await options.claims.end(id, added).catch(() => undefined);
  }
}

async function awaitTurn<T>(options: ClaimedAdd<T>, id: string): Promise<'claimed' | 'active'> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? wait;
  const deadline = now() + (options.waitMs ?? CLAIM_WAIT_MS);
  let claim = await options.claims.claim(id);
  while (claim === 'busy') {
    if (now() >= deadline) throw new AddClaimBusyError();
    await sleep(options.pollMs ?? CLAIM_POLL_MS);
    if (options.isActive?.(options.key)) return 'active';
    claim = await options.claims.claim(id);
  }
  return claim;
}
