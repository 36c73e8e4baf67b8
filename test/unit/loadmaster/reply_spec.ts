import assert from 'node:assert/strict';
import { parseAclEntries, parseVirtualServices } from '../../../lib/loadmaster/reply';
import { LoadMasterError, describeFailure } from '../../../lib/loadmaster/errors';
import { targetCidr, taggedComment } from '../../../lib/loadmaster/service';
import { LOADMASTER_COMMENT_TAG } from '../../../lib/mitigation/types';

describe('LoadMaster reply parsing', () => {
  const expected = [
    { cidr: '10.1.1.1/32', comment: 'ADS ID 42 - SCANS' },
    { cidr: '2001:db8::/64', comment: '' },
  ];

  it('reads the K7 shape IP:[{addr,comment}] and a single IP object', () => {
    const reply = { code: 200, list: 'block', IP: [{ addr: '10.1.1.1/32', comment: 'ADS ID 42 - SCANS' }, { addr: '2001:DB8:0::/64' }], status: 'ok' };
    assert.deepEqual(parseAclEntries(reply), expected);
    assert.deepEqual(parseAclEntries({ IP: { addr: '10.1.1.1', comment: 'x' }, status: 'ok' }), [{ cidr: '10.1.1.1/32', comment: 'x' }]);
  });

  it('reads the K8 shape Acl:["…"]', () => {
    assert.deepEqual(parseAclEntries({ Acl: ['10.1.1.1/32', '2001:db8::/64'], status: 'ok' }), [
      { cidr: '10.1.1.1/32', comment: '' },
      { cidr: '2001:db8::/64', comment: '' },
    ]);
  });

  it('reads the flattened Blocklist:{IP:…} shape, legacy Blacklist addr lists and lists inside VS', () => {
    assert.deepEqual(
      parseAclEntries({ Blocklist: { IP: [{ addr: '10.1.1.1/32', comment: 'ADS ID 42 - SCANS' }, { addr: '2001:db8::/64', comment: '' }] } }),
      expected,
    );
    assert.deepEqual(parseAclEntries({ Blacklist: { addr: ['10.0.0.0/8'] } }), [{ cidr: '10.0.0.0/8', comment: '' }]);
    assert.deepEqual(parseAclEntries({ VS: { VS_IP: '10.0.0.10', Allowlist: { IP: { addr: '10.2.0.0/16' } } } }), [
      { cidr: '10.2.0.0/16', comment: '' },
    ]);
  });

  it('treats an empty list and a reply without any list as empty, skipping unreadable entries', () => {
    assert.deepEqual(parseAclEntries({ Blocklist: '' }), []);
    assert.deepEqual(parseAclEntries({ code: 200, status: 'ok' }), []);
    assert.deepEqual(parseAclEntries({ IP: [{ addr: 'nonsense' }, { addr: '10.0.0.1' }] }), [{ cidr: '10.0.0.1/32', comment: '' }]);
  });

  it('reads the virtual services of listvs', () => {
    const reply = { VS: [{ Index: 3, VSAddress: '10.0.0.10', VSPort: '443', Protocol: 'tcp', NickName: 'web', Enable: true }] };
    assert.deepEqual(parseVirtualServices(reply), [
      { index: '3', address: '10.0.0.10', port: '443', protocol: 'tcp', name: 'web', enabled: true },
    ]);
    assert.equal(parseVirtualServices({ VS: { Index: 1, VSAddress: 'a' } }).length, 1);
  });

  it('maps statuses to messages a person understands', () => {
    assert.match(describeFailure(404, '', 'apikey'), /API interface disabled/);
    assert.match(describeFailure(401, '', 'apikey'), /API key rejected/);
    assert.match(describeFailure(401, '', 'user'), /user name or password rejected/);
    assert.match(describeFailure(403, '', 'apikey'), /permission/);
    assert.match(describeFailure(405, '', 'apikey'), /unknown command/);
    assert.match(describeFailure(400, 'addr missing', 'apikey'), /mandatory parameter.*addr missing/);
    assert.match(describeFailure(422, 'Invalid address', 'apikey'), /refused.*Invalid address/);
    assert.equal(new LoadMasterError(503, '', 'apikey').retryable, true);
    assert.equal(new LoadMasterError(422, '', 'apikey').retryable, false);
  });

  it('tags comments and keeps them within 127 characters', () => {
    assert.equal(taggedComment('ADS ID 1 - SCANS'), `ADS ID 1 - SCANS ${LOADMASTER_COMMENT_TAG}`);
    const long = taggedComment('x'.repeat(300));
    assert.equal(long.length, 127);
    assert.ok(long.endsWith(LOADMASTER_COMMENT_TAG));
    assert.equal(taggedComment(`again ${LOADMASTER_COMMENT_TAG}`), `again ${LOADMASTER_COMMENT_TAG}`);
  });

  it('turns addresses into explicit CIDRs (IPv6 prefix option) and refuses host bits', () => {
    const cidr = (text: string, prefix = 128) => {
      const c = targetCidr(text, prefix);
      return c ? `${c.network}/${c.prefix}` : null;
    };
    assert.equal(cidr('10.0.0.5'), '10.0.0.5/32');
    assert.equal(cidr('2001:db8::1:2:3:4'), '2001:db8::1:2:3:4/128');
    assert.equal(cidr('2001:db8::1:2:3:4', 64), '2001:db8::/64');
    assert.equal(cidr('::ffff:10.0.0.5'), '10.0.0.5/32');
    assert.equal(cidr('10.0.0.0/24'), '10.0.0.0/24');
    assert.equal(cidr('10.0.0.1/24'), null);
    assert.equal(cidr('not-an-ip'), null);
  });
});
