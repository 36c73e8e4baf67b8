// Attack 10: TSV lines with 60 KB event ids for a source that is already blocked. Each would extend the block and
// be journaled with its id; the lines are rejected (field limit) and the journals hardly grow.
import assert = require('node:assert/strict');
import { body, eventLine } from '../faults/support/events';
import { figure, mb, sharedStack, sleep, waitFor, type SecureStack } from './support/stack';

const SOURCE = '198.51.100.242';
const MAX_GROWTH_BYTES = 1 << 20;

describe('attack 10: 60 KB event ids for an already-blocked source', function () {
  this.timeout(180000);
  let s: SecureStack;

  before(async () => {
    s = await sharedStack();
  });

  it('rejects the lines and the journal files grow by less than 1 MB', async () => {
    const first = await s.post(body([eventLine(`s10-first-${Date.now()}`, SOURCE)]));
    assert.equal(first.status, 202);
    await waitFor(() => s.lmBlocked().includes(SOURCE), 20000, `${SOURCE} to be blocked`);
    await waitFor(async () => (await s.nr.getJson<Array<{ target: string }>>('admin', '/flowmon-response/blocks')).some((e) => e.target.startsWith(SOURCE)), 20000, 'the block in the registry');
    await sleep(500);
    const before = s.journalBytes();
    const eventsBefore = s.taps('event').length;
    const rejectsBefore = s.taps('rejected').length;
    const lines = Array.from({ length: 100 }, (_, i) => eventLine(`${String(i).padStart(3, '0')}${'9'.repeat(60 * 1024)}`, SOURCE));
    const answer = await s.post(body(lines), { timeoutMs: 60000 });
    // Until the journals stop growing (2 s without a change), at most 60 s.
    let last = -1;
    let stableSince = Date.now();
    const started = Date.now();
    while (Date.now() - stableSince < 2000 && Date.now() - started < 60000) {
      const size = s.journalBytes();
      if (size !== last) {
        last = size;
        stableSince = Date.now();
      }
      await sleep(250);
    }
    const growth = s.journalBytes() - before;
    const emitted = s.taps('event').length - eventsBefore;
    const rejected = s.taps('rejected').length - rejectsBefore;
    figure(10, `100 lines with 60 KB ids (${mb(lines.join('\n').length / 1024)}): ${answer.status || answer.error}, ${rejected} rejected, ${emitted} emitted; journals +${mb(growth / 1024)} (${s.journals().map((j) => `${j.path.slice(s.nr.userDir.length + 1)} ${mb(j.size / 1024)}`).join(', ')})`);
    assert.ok(growth < MAX_GROWTH_BYTES, `the journals grew by ${mb(growth / 1024)}`);
    assert.equal(emitted, 0, 'events with 60 KB ids were emitted');
    assert.equal(rejected, 100, 'the lines were not rejected');
  });
});
