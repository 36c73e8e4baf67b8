import assert from 'node:assert/strict';
import { SharedCalls } from '../../../lib/pacing/shared-calls';

describe('lib/pacing SharedCalls', () => {
  it('makes one call for concurrent callers of one key, and tells the joiners apart', async () => {
    const shared = new SharedCalls<number>();
    let calls = 0;
    let finish!: (n: number) => void;
    const call = () => {
      calls++;
      return new Promise<number>((resolve) => (finish = resolve));
    };
    const first = shared.run('10.0.0.1', call);
    const second = shared.run('10.0.0.1', call);
    assert.equal(shared.has('10.0.0.1'), true);
    finish(7);
    assert.deepEqual(await first, { value: 7, joined: false });
    assert.deepEqual(await second, { value: 7, joined: true });
    assert.equal(calls, 1);
    assert.equal(shared.has('10.0.0.1'), false, 'a finished call is not shared with later callers');
  });

  it('passes a failure to every caller and forgets the call', async () => {
    const shared = new SharedCalls<number>();
    const call = () => Promise.reject(new Error('appliance down'));
    const both = [shared.run('k', call), shared.run('k', call)];
    for (const p of both) await assert.rejects(p, /appliance down/);
    assert.deepEqual(await shared.run('k', async () => 1), { value: 1, joined: false });
  });
});
