// Attack 8: hundreds of megabytes streamed without the secret. The intake answers 401 before reading the body (or
// closes the connection early), Node-RED's memory hardly grows, and it keeps serving.
import assert = require('node:assert/strict');
import { body, eventLine, sourceAddress } from '../faults/support/events';
import { repeatBytes, streamPost } from './support/stream';
import { figure, mb, measureMemory, sharedStack, type SecureStack } from './support/stack';

const MIB = 1 << 20;
const EARLY_BYTES = 64 * MIB;
const MAX_GROWTH_KB = 24 * 1024;

describe('attack 8: a huge body without the secret', function () {
  this.timeout(180000);
  let s: SecureStack;

  before(async () => {
    s = await sharedStack();
  });

  const cases: Array<[string, number, boolean]> = [
    ['300 MB with Content-Length', 300 * MIB, true],
    ['600 MB chunked', 600 * MIB, false],
  ];
  for (const [name, total, contentLength] of cases) {
    it(`${name}: 401 before the body is read, memory hardly grows, Node-RED stays up`, async () => {
      const { result, growthKb } = await measureMemory(s.nr, () =>
        streamPost({
          url: s.adsUrl,
          headers: { 'Content-Type': 'text/plain' },
          chunks: () => repeatBytes('SSHDICT\t192.0.2.1\tHigh\n', total),
          totalBytes: total,
          contentLength,
          timeoutMs: 90000,
        }),
      );
      const alive = await s.post(body([eventLine(`s8-alive-${Date.now()}`, sourceAddress(241))]));
      const answer = result.status ? String(result.status) : `no answer (${result.error})`;
      figure(8, `${name}: ${answer} after ${result.ms.toFixed(0)} ms with ${mb(result.sentBytes / 1024)} of ${mb(total / 1024)} sent, RSS +${mb(growthKb)}; next good request ${alive.status}`);
      assert.ok(result.status === 401 || (result.closed && result.sentBytes <= EARLY_BYTES), `answer ${answer}`);
      assert.ok(result.sentBytes <= EARLY_BYTES, `the body was read: ${mb(result.sentBytes / 1024)} sent before the answer`);
      assert.ok(growthKb <= MAX_GROWTH_KB, `RSS grew by ${mb(growthKb)}`);
      assert.equal(alive.status, 202, 'Node-RED no longer accepts a good request');
    });
  }
});
