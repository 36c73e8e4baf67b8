import assert from 'node:assert/strict';
import { blockCidrFor, parseCidr } from '../../../lib/net/address';
import { ProtectedNetworks } from '../../../lib/safety/protected-networks';
import { StormCap } from '../../../lib/safety/storm-cap';

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

  it('storm cap allows max per window, then refuses until the window slides', () => {
    let now = 0;
    const cap = new StormCap(3, 60_000, () => now);
    assert.deepEqual([cap.tryTake(), cap.tryTake(), cap.tryTake(), cap.tryTake()], [true, true, true, false]);
    now = 59_999;
    assert.equal(cap.tryTake(), false);
    now = 60_000;
    assert.equal(cap.tryTake(), true);
    assert.match(cap.describe(), /at most 3 new blocks per 60 s/);
  });
});
