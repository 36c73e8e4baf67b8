import assert from 'node:assert/strict';
import { blockCidrFor, parseCidr } from '../../../lib/net/address';
import { ProtectedNetworks } from '../../../lib/safety/protected-networks';
import { readApprovalPolicy } from '../../../lib/safety/approval';
import { HoldGate } from '../../../lib/safety/hold-gate';
import { StormCap } from '../../../lib/safety/storm-cap';
import { FakeSharedBudgets } from './fake-shared-budget';

describe('lib/safety', () => {
  it('protects the built-in special ranges', () => {
    const p = new ProtectedNetworks();
    for (const address of ['127.0.0.1', '::1', '0.0.0.0', '::', '224.0.0.5', 'ff02::1', '169.254.1.1', 'fe80::1', '255.255.255.255']) {
      assert.match(p.reasonFor(blockCidrFor(address)) ?? '', /is protected/, address);
    }
    assert.equal(p.reasonFor(blockCidrFor('192.0.2.10')), null);
    assert.equal(p.reasonFor(blockCidrFor('2001:db8::10')), null);
  });

  it('refuses a block that would cover a protected address, and names the reason', () => {
    const p = new ProtectedNetworks();
    p.add('2001:db8:0:0::77', 'admin host');
    p.addList('10.10.0.0/16, 192.0.2.1', 'never-block list');
    assert.match(p.reasonFor(blockCidrFor('2001:db8::1', 64))!, /admin host 2001:db8::77\/128/);
    assert.match(p.reasonFor(parseCidr('10.0.0.0/8')!)!, /never-block list 10\.10\.0\.0\/16/);
    assert.equal(p.reasonFor(blockCidrFor('2001:db8:1::1', 64)), null);
  });

  it('reports invalid list entries instead of ignoring them silently', () => {
    const p = new ProtectedNetworks(false);
    assert.deepEqual(p.addList('10.0.0.0/8\nnot-an-ip;300.1.1.1', 'list'), ['not-an-ip', '300.1.1.1']);
    assert.throws(() => p.add('10.0.0.0/40', 'x'), /not an IP address or CIDR/);
  });

  it('storm cap allows max per window, then refuses until the window slides', async () => {
    let now = 0;
    const cap = new StormCap(3, 60_000, { now: () => now });
    assert.deepEqual([await cap.tryTake(), await cap.tryTake(), await cap.tryTake(), await cap.tryTake()], [true, true, true, false]);
    now = 59_999;
    assert.equal(await cap.tryTake(), false);
    now = 60_000;
    assert.equal(await cap.tryTake(), true);
    assert.match(cap.describe(), /at most 3 new blocks per 60 s/);
  });

  describe('storm gate shared by two instances', () => {
    let now = 0;
    let budgets: FakeSharedBudgets;
    /** The gate of one instance: its own StormCap over the one shared budget. */
    const gate = (approval = 'never') =>
      new HoldGate(new StormCap(5, 60_000, { budget: budgets.budget('storm:cfg', 5, 60_000) }), readApprovalPolicy({ approval }));
    beforeEach(() => {
      now = 0;
      budgets = new FakeSharedBudgets(() => now);
    });

    it('lets 5 new blocks through per minute across both, and holds the rest on either', async () => {
      const [a, b] = [gate(), gate()];
      const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).check('high')));
      assert.equal(answers.filter((why) => why === null).length, 5);
      assert.deepEqual(new Set(answers.filter((why) => why !== null).map((why) => why?.reason)), new Set(['storm']));
      now = 59_999;
      assert.equal((await a.check('high'))?.reason, 'storm');
      now = 60_000;
      assert.equal(await b.check('high'), null);
    });

    it('a block waiting for approval does not use up the shared count', async () => {
      const [held, free] = [gate('always'), gate()];
      for (let i = 0; i < 10; i++) assert.equal((await held.check('high'))?.reason, 'approval');
      const answers = await Promise.all(Array.from({ length: 6 }, () => free.check('high')));
      assert.equal(answers.filter((why) => why === null).length, 5);
    });

    it('holds when the store cannot be asked (the safe side)', async () => {
      const a = gate();
      budgets.failing = true;
      assert.equal((await a.check('high'))?.reason, 'storm');
      budgets.failing = false;
      assert.equal(await a.check('high'), null);
    });
  });
});
