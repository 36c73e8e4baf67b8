// LoadMasterService on two instances sharing one store: one appliance add per block, whichever instance sees it.
import assert from 'node:assert/strict';
import sinon from 'sinon';
import { ApplianceResponseError } from '../../../lib/http/errors';
import type { LoadMasterClient } from '../../../lib/loadmaster/client';
import { AclOutcome, AclRequest, LoadMasterService } from '../../../lib/loadmaster/service';
import type { MitigationKey } from '../../../lib/mitigation/types';
import { entryId } from '../../../lib/registry/entry';
import { readApprovalPolicy } from '../../../lib/safety/approval';
import { HoldGate } from '../../../lib/safety/hold-gate';
import { ProtectedNetworks } from '../../../lib/safety/protected-networks';
import { StormCap } from '../../../lib/safety/storm-cap';
import { FakeAddClaims } from '../lib/fake-add-claims';

const KEY: MitigationKey = { configId: 'lm1', scope: 'global:block', target: '192.0.2.7/32' };
const BLOCK: AclRequest = { action: 'add', list: 'block', scope: 'global', address: '192.0.2.7', comment: 'ADS 1' };

/** A LoadMaster client that counts adds; each add takes `addMs` and fails while `failing` is set. */
class CountingClient {
  adds = 0;
  removes = 0;
  failing = false;
  constructor(private readonly addMs = 50) {}
  readonly queueDepth = 0;
  async add(): Promise<'added'> {
    this.adds++;
    await new Promise((r) => setTimeout(r, this.addMs));
    if (this.failing) throw new ApplianceResponseError('LoadMaster answered 500', 500);
    return 'added';
  }
  async remove(): Promise<'removed'> {
    this.removes++;
    return 'removed';
  }
}

describe('LoadMaster: one add per block across instances (add claims)', () => {
  let claims: FakeAddClaims;
  beforeEach(() => (claims = new FakeAddClaims()));
  afterEach(() => sinon.restore());

  /** One instance's service on the shared claims, with its own client and registry view. */
  function instance(name: string, options: { approval?: string; simulate?: boolean; active?: () => boolean } = {}) {
    const client = new CountingClient();
    const service = new LoadMasterService({
      configId: 'lm1',
      client: client as unknown as LoadMasterClient,
      protection: Promise.resolve({ networks: new ProtectedNetworks(), warnings: [] }),
      holdGate: new HoldGate(new StormCap(100), readApprovalPolicy({ approval: options.approval ?? 'never' })),
      simulate: options.simulate ?? false,
      ipv6Prefix: 128,
      isActive: options.active,
      claims: claims.forInstance(name),
    });
    return { client, service };
  }

  const results = (outcomes: AclOutcome[]) => outcomes.map((o) => o.result).sort();

  it('the same source on both instances at the same moment: exactly one appliance add', async () => {
    const [a, b] = [instance('a'), instance('b')];
    const outcomes = await Promise.all([a.service.apply(BLOCK), b.service.apply(BLOCK)]);
    assert.equal(a.client.adds + b.client.adds, 1);
    assert.deepEqual(results(outcomes), ['added', 'already-present']);
    assert.deepEqual(claims.calls.filter((c) => c.call === 'end').map((c) => [c.id, c.added]), [[entryId(KEY), true]]);
  });

  it('a burst of 20 events on each of two instances: still one add', async () => {
    const [a, b] = [instance('a'), instance('b')];
    const outcomes = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).service.apply(BLOCK)));
    assert.equal(a.client.adds + b.client.adds, 1);
    assert.equal(outcomes.filter((o) => o.result === 'added').length, 1);
    assert.equal(outcomes.filter((o) => o.result === 'already-present').length, 39);
  });

  it('a failed add on the claimant lets the other instance add at once', async () => {
    const [a, b] = [instance('a'), instance('b')];
    a.client.failing = true;
    const first = a.service.apply(BLOCK);
    await new Promise((r) => setTimeout(r, 10));
    const second = b.service.apply(BLOCK);
    const [failed, added] = await Promise.all([first, second]);
    assert.equal(failed.result, 'failed');
    assert.equal(added.result, 'added');
    assert.deepEqual([a.client.adds, b.client.adds], [1, 1]);
    assert.deepEqual(claims.calls.filter((c) => c.call === 'end').map((c) => [c.instance, c.added]), [['a', false], ['b', true]]);
  });

  it("'busy', then the registry shows the block active: already-present without a call", async () => {
    let active = false;
    const b = instance('b', { active: () => active });
    claims.claimBy('a', entryId(KEY));
    const waiting = b.service.apply(BLOCK);
    await new Promise((r) => setTimeout(r, 300));
    active = true;
    const outcome = await waiting;
    assert.equal(outcome.result, 'already-present');
    assert.equal(b.client.adds, 0);
    assert.ok(claims.count('claim') >= 2, 'asked again while waiting');
  });

  it("'busy' for 30 s: failed, retryable, another instance is adding this block", async () => {
    const clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const b = instance('b');
    claims.claimBy('a', entryId(KEY));
    const waiting = b.service.apply(BLOCK);
    await clock.tickAsync(29_000);
    const early = claims.count('claim');
    await clock.tickAsync(2_000);
    const outcome = await waiting;
    assert.equal(outcome.result, 'failed');
    assert.equal(outcome.retryable, true);
    assert.equal(outcome.reason, 'another instance is adding this block');
    assert.equal(b.client.adds, 0);
    assert.ok(early >= 140 && early <= 150, `polled every 200 ms (${early} claims in 29 s)`);
  });

  it('the store unreachable: failed with its error, retryable, no appliance call', async () => {
    const a = instance('a');
    claims.failing = true;
    const outcome = await a.service.apply(BLOCK);
    assert.deepEqual([outcome.result, outcome.retryable, outcome.error?.name], ['failed', true, 'StoreUnavailableError']);
    assert.equal(a.client.adds, 0);
  });

  it('a held block ends its claim unadded; simulated and decided adds take a claim too; removals and reapplies none', async () => {
    const held = instance('a', { approval: 'always' });
    assert.equal((await held.service.apply({ ...BLOCK, event: null })).result, 'held');
    assert.deepEqual(claims.calls.map((c) => [c.call, c.added]), [['claim', undefined], ['end', false]]);
    const simulated = instance('b', { simulate: true });
    assert.equal((await simulated.service.apply(BLOCK)).result, 'simulated');
    assert.equal((await held.service.applyHeld(KEY, { comment: 'ADS 1', priority: 3 })).result, 'already-present');
    const before = claims.calls.length;
    assert.equal((await held.service.apply({ ...BLOCK, action: 'remove' })).result, 'removed');
    await held.service.reapplyMitigation(KEY, 'ADS 1');
    assert.equal(claims.calls.length, before);
    assert.equal(held.client.adds, 1);
  });
});
