// CryptoSpikeResponder on two instances sharing one store: one block call per user, whichever instance sees it, and
// one storm count.
import assert from 'node:assert/strict';
import type { CryptoSpikeClient } from '../../../lib/cryptospike/client';
import { ProtectedUsers } from '../../../lib/cryptospike/protected-users';
import { ActRequest, CryptoSpikeResponder } from '../../../lib/cryptospike/responder';
import type { MitigationKey } from '../../../lib/mitigation/types';
import { entryId } from '../../../lib/registry/entry';
import { readApprovalPolicy } from '../../../lib/safety/approval';
import { HoldGate } from '../../../lib/safety/hold-gate';
import { StormCap } from '../../../lib/safety/storm-cap';
import { FakeAddClaims } from '../lib/fake-add-claims';
import { FakeSharedBudgets } from '../lib/fake-shared-budget';

const JDOE = 'S-1-5-21-1000-1104';
const EVE = 'S-1-5-21-1000-1105';
const KEY: MitigationKey = { configId: 'cs', scope: 'user:WINDOWS', target: JDOE };
const block = (userId = JDOE): ActRequest => ({ action: 'block', event: null, explicit: { userId, username: 'jdoe' }, windowMinutes: 10 });

/** A CryptoSpike client that counts block calls; each takes `blockMs` and fails while `failing` is set. */
class CountingClient {
  blocks = 0;
  failing = false;
  readonly queueDepth = 0;
  async setAccess(_userId: string, _type: string, state: string): Promise<void> {
    if (state !== 'BLOCKED') return;
    this.blocks++;
    await new Promise((r) => setTimeout(r, 50));
    if (this.failing) throw new Error('CryptoSpike answered 500');
  }
}

describe('CryptoSpike: one block per user across instances (add claims)', () => {
  let claims: FakeAddClaims;
  let budgets: FakeSharedBudgets;
  beforeEach(() => {
    claims = new FakeAddClaims();
    budgets = new FakeSharedBudgets();
  });

  function instance(name: string, options: { active?: () => boolean; stormCap?: number } = {}) {
    const client = new CountingClient();
    const stormCap = options.stormCap ?? 100;
    const responder = new CryptoSpikeResponder({
      client: client as unknown as CryptoSpikeClient,
      configId: 'cs',
      userIdType: 'WINDOWS',
      unblockValue: 'READ_WRITE',
      simulate: false,
      protectedUsers: new ProtectedUsers([]),
      holdGate: new HoldGate(
        new StormCap(stormCap, 60_000, { budget: budgets.budget('cryptospike-storm:cs', stormCap, 60_000) }),
        readApprovalPolicy({ approval: 'never' }),
      ),
      memoryMs: 60_000,
      isActive: options.active,
      claims: claims.forInstance(name),
    });
    return { client, responder };
  }

  const results = (outcomes: Array<{ mitigation: { result: string } }>) => outcomes.map((o) => o.mitigation.result).sort();

  it('the same user on both instances at the same moment: exactly one block call', async () => {
    const [a, b] = [instance('a'), instance('b')];
    const outcomes = await Promise.all([a.responder.act(block()), b.responder.act(block())]);
    assert.equal(a.client.blocks + b.client.blocks, 1);
    assert.deepEqual(results(outcomes), ['already-blocked', 'blocked']);
    assert.ok(outcomes.every((o) => o.acted));
  });

  it('a burst of 10 events on each of two instances: still one block call', async () => {
    const [a, b] = [instance('a'), instance('b')];
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).responder.act(block())));
    assert.equal(a.client.blocks + b.client.blocks, 1);
    assert.equal(outcomes.filter((o) => o.mitigation.result === 'blocked').length, 1);
  });

  it('a failed block on the claimant lets the other instance block', async () => {
    const [a, b] = [instance('a'), instance('b')];
    a.client.failing = true;
    const first = a.responder.act(block());
    await new Promise((r) => setTimeout(r, 10));
    const [failed, blocked] = await Promise.all([first, b.responder.act(block())]);
    assert.deepEqual([failed.mitigation.result, blocked.mitigation.result], ['failed', 'blocked']);
    assert.deepEqual([a.client.blocks, b.client.blocks], [1, 1]);
  });

  it("'busy', then the registry shows the block active: already-blocked without a call", async () => {
    let active = false;
    const b = instance('b', { active: () => active });
    claims.claimBy('a', entryId(KEY));
    const waiting = b.responder.act(block());
    await new Promise((r) => setTimeout(r, 300));
    active = true;
    const outcome = await waiting;
    assert.equal(outcome.mitigation.result, 'already-blocked');
    assert.equal(b.client.blocks, 0);
  });

  it('the store unreachable: failed with its error, no block call', async () => {
    const a = instance('a');
    claims.failing = true;
    const outcome = await a.responder.act(block());
    assert.deepEqual([outcome.mitigation.result, outcome.error?.name], ['failed', 'StoreUnavailableError']);
    assert.equal(a.client.blocks, 0);
  });

  it('one storm count for both instances: with a cap of 1, the second user is held on the other instance', async () => {
    const [a, b] = [instance('a', { stormCap: 1 }), instance('b', { stormCap: 1 })];
    assert.equal((await a.responder.act(block(JDOE))).mitigation.result, 'blocked');
    const second = await b.responder.act({ ...block(EVE), explicit: { userId: EVE, username: 'eve' } });
    assert.equal(second.mitigation.result, 'held');
    assert.equal(second.mitigation.hold?.reason, 'storm');
    assert.deepEqual(claims.calls.filter((c) => c.call === 'end').map((c) => c.added), [true, false]);
    assert.equal(a.client.blocks + b.client.blocks, 1);
  });
});
