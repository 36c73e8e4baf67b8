// Attack 6: ADS_SHARED_SECRET set but empty (or only spaces) must not open the intake: every request gets 401,
// also with an empty X-ADS-Secret header, and the log says why, once.
import assert = require('node:assert/strict');
import { body, eventLine, sourceAddress } from '../faults/support/events';
import { figure, SecureStack } from './support/stack';

describe('attack 6: an empty shared secret', function () {
  this.timeout(180000);
  const cases: Array<[string, string]> = [
    ['empty', ''],
    ['spaces', '   '],
  ];
  const stacks = new Map<string, Promise<SecureStack>>();

  before(() => {
    // Both start at once (each its own Node-RED).
    for (const [name, secret] of cases) stacks.set(name, SecureStack.start({ secret }));
  });

  after(async () => {
    await Promise.all([...stacks.values()].map(async (p) => (await p.catch(() => undefined))?.close()));
  });

  for (const [name, secret] of cases) {
    it(`ADS_SHARED_SECRET ${name}: every request is refused with 401, and the log says so once`, async () => {
      const s = await stacks.get(name)!;
      const batch = body([eventLine(`s6-${name}`, sourceAddress(220))]);
      const answers = [
        await s.post(batch, { secret: null }),
        await s.post(batch, { secret: '' }),
        await s.post(batch, { secret: secret }),
        await s.post(batch, { secret: 'anything' }),
        await s.post(batch, { secret: null }),
      ];
      const statuses = answers.map((a) => a.status || a.error);
      const lines = s.nr.log.split('\n').filter((l) => /secret/i.test(l) && !l.includes('FAULTS-TAP'));
      figure(6, `ADS_SHARED_SECRET ${name}: answers ${statuses.join(', ')}; events emitted ${s.taps('event').length}; log lines about the secret ${lines.length}`);
      assert.deepEqual(statuses, [401, 401, 401, 401, 401]);
      assert.equal(s.taps('event').length, 0, 'events were emitted');
      assert.equal(lines.length, 1, `log lines about the secret:\n${lines.join('\n')}`);
    });
  }
});
