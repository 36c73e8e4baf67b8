// Attacks 3 and 4: deeply nested bodies with the right secret. The intake answers 4xx with a reason within seconds,
// and Node-RED keeps serving.
import assert = require('node:assert/strict');
import { eventLine, body as batch, sourceAddress } from '../faults/support/events';
import { figure, sharedStack, type Answer, type SecureStack } from './support/stack';

/** A reason in the answer: an `error`, `reason` or `message` text in a JSON answer, or a plain-text answer. */
function hasReason(text: string): boolean {
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed === null || typeof parsed !== 'object') return false;
    return ['error', 'reason', 'message'].some((k) => {
      const v = (parsed as Record<string, unknown>)[k];
      return typeof v === 'string' && v.trim() !== '';
    });
  } catch {
    return text.trim() !== '';
  }
}

async function stillServes(s: SecureStack, tag: string): Promise<Answer> {
  return s.post(batch([eventLine(`sec-alive-${tag}-${Date.now()}`, sourceAddress(240))]));
}

describe('attacks 3 and 4: deeply nested bodies', function () {
  let s: SecureStack;

  // Each case on a running Node-RED: a case that crashed it must not decide the next one.
  beforeEach(async () => {
    s = await sharedStack();
  });

  const JSON_BODIES: Array<[string, string]> = [
    ['[[[…]]] 10,000 deep', `${'['.repeat(10000)}${']'.repeat(10000)}`],
    ['{"a":{"a":…}} 4,000 deep', `${'{"a":'.repeat(4000)}1${'}'.repeat(4000)}`],
  ];

  for (const [name, text] of JSON_BODIES) {
    for (const contentType of ['application/json', 'text/plain']) {
      it(`attack 3: ${name} (${(text.length / 1024).toFixed(0)} KB, ${contentType}) → 4xx with a reason, then 202`, async () => {
        const answer = await s.post(text, { contentType, timeoutMs: 10000 });
        const alive = await stillServes(s, 'a3');
        figure(3, `${name} as ${contentType}: ${answer.status || answer.error} after ${answer.ms.toFixed(0)} ms (${answer.text.slice(0, 100)}); next good request ${alive.status}`);
        assert.ok(answer.status >= 400 && answer.status < 500, `answer ${answer.status} ${answer.error ?? answer.text}`);
        assert.ok(hasReason(answer.text), `the answer gives no reason: ${answer.text}`);
        assert.equal(alive.status, 202, 'Node-RED no longer accepts a good request');
      });
    }
  }

  // A pretty-printed document: every line is short, so the body passes the line limit and reaches the JSON reader
  // whole (the old code parsed it, then overflowed the stack turning it back into text, and never answered).
  const PRETTY: Array<[string, string]> = [
    ['[ … ] 20,000 deep over 40,000 lines', `${'[\n'.repeat(20000)}${']\n'.repeat(20000)}`],
    ['{"a": … } 20,000 deep over 40,000 lines', `${'{"a":\n'.repeat(20000)}1\n${'}\n'.repeat(20000)}`],
  ];
  for (const [name, text] of PRETTY) {
    it(`attack 4: ${name} as text/plain → 4xx within a few seconds, then 202`, async () => {
      const answer = await s.post(text, { contentType: 'text/plain', timeoutMs: 15000 });
      const alive = await stillServes(s, 'a4');
      figure(4, `${name} as text/plain: ${answer.status || answer.error} after ${answer.ms.toFixed(0)} ms (${answer.text.slice(0, 100)}); next good request ${alive.status}`);
      assert.ok(answer.status >= 400 && answer.status < 500, `answer ${answer.status} ${answer.error ?? answer.text}`);
      assert.ok(answer.ms < 5000, `answered after ${answer.ms.toFixed(0)} ms`);
      assert.ok(hasReason(answer.text), `the answer gives no reason: ${answer.text}`);
      assert.equal(alive.status, 202, 'Node-RED no longer accepts a good request');
    });
  }
});
