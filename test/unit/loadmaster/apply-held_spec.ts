// LoadMasterService.applyHeld against the simulator: a person's approval goes through protection, the registry
// short-cut, the in-flight join and the paced queue at the hold's priority, but not the hold gate.
import assert from 'node:assert/strict';
import type { HoldInfo } from '../../../lib/decisions/types';
import type { LoadMasterConnection } from '../../../lib/loadmaster/create';
import { LoadMasterService } from '../../../lib/loadmaster/service';
import type { MitigationKey } from '../../../lib/mitigation/types';
import { readApprovalPolicy } from '../../../lib/safety/approval';
import { HoldGate } from '../../../lib/safety/hold-gate';
import { ProtectedNetworks } from '../../../lib/safety/protected-networks';
import { StormCap } from '../../../lib/safety/storm-cap';
import { connectTo, simulatorPerSuite } from './support';

const key = (target: string, scope = 'global:block'): MitigationKey => ({ configId: 'c1', scope, target });

function hold(priority: number, comment = 'ADS ID 9 - SCANS [flowmon-nr]'): HoldInfo {
  return {
    reason: 'storm',
    reasonText: 'storm gate: at most 1 new blocks per 60 s without a decision',
    event: null,
    onTimeout: 'discard',
    comment,
    priority,
    heldAt: 0,
    decideBy: 0,
  };
}

/** The n-th address of 10.20.0.0/16, as a /32. */
const address = (n: number) => `10.20.${Math.floor(n / 250)}.${(n % 250) + 1}/32`;

describe('LoadMaster: applying held blocks (applyHeld)', () => {
  const simulator = simulatorPerSuite((s) => (s.switches.rateLimit = false));
  let connection: LoadMasterConnection | undefined;

  afterEach(async () => {
    await connection?.close();
    connection = undefined;
  });

  /** A service whose gate would hold everything: one block a minute, and approval for every block. */
  function service(options: { neverBlock?: string; simulate?: boolean; active?: Set<string> } = {}): LoadMasterService {
    connection = connectTo(simulator(), { rateCalls: 2000, rateWindow: 1 });
    const networks = new ProtectedNetworks();
    networks.addList(options.neverBlock ?? '', 'never-block list');
    return new LoadMasterService({
      configId: 'c1',
      client: connection.client,
      protection: Promise.resolve({ networks, warnings: [] }),
      holdGate: new HoldGate(new StormCap(1), readApprovalPolicy({ approval: 'always' })),
      simulate: options.simulate ?? false,
      ipv6Prefix: 128,
      isActive: (k) => options.active?.has(`${k.configId}|${k.scope}|${k.target}`) ?? false,
    });
  }

  it('applies 1,000 held addresses with exactly 1,000 add calls, past the storm cap and approval mode', async () => {
    const svc = service();
    const results = await Promise.all(Array.from({ length: 1000 }, (_, n) => svc.applyHeld(key(address(n)), hold(3))));
    assert.ok(results.every((r) => r.result === 'applied'), JSON.stringify(results.find((r) => r.result !== 'applied')));
    assert.deepEqual(results[7].key, key(address(7)));
    assert.equal(simulator().calls.count('add'), 1000);
    assert.equal(new Set(simulator().state.lists.block.map((e) => e.addr)).size, 1000);
    assert.equal(simulator().state.lists.block[0].comment, 'ADS ID 9 - SCANS [flowmon-nr]', 'the comment of the hold, tagged once');
  });

  it('serves higher priorities first when approvals queue up', async () => {
    const svc = service();
    const low = Array.from({ length: 200 }, (_, n) => svc.applyHeld(key(address(n)), hold(1)));
    const high = Array.from({ length: 10 }, (_, n) => svc.applyHeld(key(address(500 + n)), hold(5)));
    await Promise.all([...low, ...high]);
    const order = simulator().calls.entries.filter((c) => c.verb === 'add').map((c) => c.addr);
    const highAt = Array.from({ length: 10 }, (_, n) => order.indexOf(address(500 + n)));
    assert.ok(highAt.every((i) => i >= 0 && i < 14), `the critical approvals ran at ${highAt.join(', ')} of 210`);
  });

  it('joins approvals of one address in flight: one add call', async () => {
    simulator().switches.latencyMs = 30;
    const svc = service();
    const results = await Promise.all(Array.from({ length: 5 }, () => svc.applyHeld(key('198.51.100.5/32'), hold(3))));
    assert.deepEqual(results.map((r) => r.result).sort(), ['already-present', 'already-present', 'already-present', 'already-present', 'applied']);
    assert.equal(simulator().calls.count('add'), 1);
  });

  it('answers already-present without a call while the registry holds the block as active', async () => {
    const svc = service({ active: new Set(['c1|vs:2:block|198.51.100.6/32']) });
    const applied = await svc.applyHeld(key('198.51.100.6/32', 'vs:2:block'), hold(3));
    assert.deepEqual(applied, { result: 'already-present', key: key('198.51.100.6/32', 'vs:2:block') });
    assert.equal(simulator().calls.entries.length, 0);
  });

  it('refuses an address protected now (the never-block list changed while it was held)', async () => {
    const svc = service({ neverBlock: '198.51.100.0/24' });
    const applied = await svc.applyHeld(key('198.51.100.7/32'), hold(3));
    assert.equal(applied.result, 'refused');
    assert.match(String(applied.reason), /198\.51\.100\.7\/32 is protected \(never-block list 198\.51\.100\.0\/24\)/);
    assert.equal(simulator().calls.entries.length, 0);
  });

  it('simulate mode answers simulated and writes nothing', async () => {
    const svc = service({ simulate: true });
    assert.equal((await svc.applyHeld(key('198.51.100.8/32'), hold(3))).result, 'simulated');
    assert.equal(simulator().calls.writes, 0);
  });

  it('rejects on an appliance failure, so the decision is retried', async () => {
    simulator().switches.permissions = 'vs';
    const svc = service();
    await assert.rejects(svc.applyHeld(key('198.51.100.9/32'), hold(3)), /permission/);
  });
});
