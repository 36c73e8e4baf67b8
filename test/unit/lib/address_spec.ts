import assert from 'node:assert/strict';
import { blockCidrFor, canonicalAddress, cidrsOverlap, formatCidr, networkAddress, parseCidr } from '../../../lib/net/address';

describe('lib/net/address', () => {
  it('canonicalises IPv4, IPv6 and IPv4-mapped IPv6', () => {
    assert.equal(canonicalAddress('10.0.0.1'), '10.0.0.1');
    assert.equal(canonicalAddress('2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
    assert.equal(canonicalAddress('2001:0db8:0000:0001:0000:0000:0000:0001'), '2001:db8:0:1::1');
    assert.equal(canonicalAddress('::ffff:192.0.2.7'), '192.0.2.7');
    assert.equal(canonicalAddress('::FFFF:c000:0207'), '192.0.2.7');
    assert.equal(canonicalAddress('::1'), '::1');
  });

  it('rejects what is not a bare address', () => {
    for (const bad of ['', ' 10.0.0.1', '10.0.0.256', '10.0.0', '[::1]', 'fe80::1%eth0', 'host.example', '1.2.3.4/32']) {
      assert.equal(canonicalAddress(bad), null, bad);
    }
  });

  it('parses CIDRs, refusing host bits unless asked to clear them', () => {
    assert.deepEqual(parseCidr('10.1.0.0/16'), { network: '10.1.0.0', prefix: 16, family: 'ipv4' });
    assert.equal(parseCidr('10.1.2.3/16'), null);
    assert.deepEqual(parseCidr('10.1.2.3/16', { clearHostBits: true }), { network: '10.1.0.0', prefix: 16, family: 'ipv4' });
    assert.deepEqual(parseCidr('2001:db8::5'), { network: '2001:db8::5', prefix: 128, family: 'ipv6' });
    assert.equal(parseCidr('10.0.0.1/33'), null);
    assert.equal(parseCidr('10.0.0.1/'), null);
    assert.equal(parseCidr('10.0.0.1/-1'), null);
  });

  it('computes block CIDRs with the IPv6 prefix option', () => {
    assert.equal(formatCidr(blockCidrFor('192.0.2.9')), '192.0.2.9/32');
    assert.equal(formatCidr(blockCidrFor('2001:db8:1:2:3:4:5:6')), '2001:db8:1:2:3:4:5:6/128');
    assert.equal(formatCidr(blockCidrFor('2001:db8:1:2:3:4:5:6', 64)), '2001:db8:1:2::/64');
    assert.equal(networkAddress('2001:db8:abcd:ffff::1', 52), '2001:db8:abcd:f000::');
    assert.equal(networkAddress('192.168.77.200', 20), '192.168.64.0');
  });

  it('detects overlapping networks in either direction', () => {
    const net = (t: string) => parseCidr(t, { clearHostBits: true })!;
    assert.equal(cidrsOverlap(net('10.0.0.0/8'), net('10.2.3.4/32')), true);
    assert.equal(cidrsOverlap(net('10.2.3.4/32'), net('10.0.0.0/8')), true);
    assert.equal(cidrsOverlap(net('10.0.0.0/8'), net('11.0.0.1/32')), false);
    assert.equal(cidrsOverlap(net('2001:db8::/64'), net('2001:db8::99/128')), true);
    assert.equal(cidrsOverlap(net('2001:db8::/64'), net('10.0.0.1/32')), false);
  });
});
