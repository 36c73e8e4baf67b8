import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { closeHistories } from '../../../lib/history';
import { closeMetrics } from '../../../lib/metrics/runtime';
import { closeRegistries } from '../../../lib/registry';
import plugin = require('../../../plugins/flowmon-observability/flowmon-observability');
import { tempDir } from '../history/support';

describe('observability plugin', () => {
  afterEach(async () => {
    closeMetrics();
    await closeHistories();
    await closeRegistries();
  });

  it('registers the history and metrics routes behind flowmon-response.read, and they answer', async () => {
    const routes = new Map<string, { permission: string; handler: (req: unknown, res: unknown) => unknown }>();
    let onadd: (() => void) | undefined;
    const red = {
      settings: { userDir: tempDir(), flowmonResponse: { historyRetentionDays: 30 } },
      events: new EventEmitter(),
      log: { warn: () => undefined },
      nodes: { getNode: () => null, eachNode: () => undefined },
      auth: { needsPermission: (permission: string) => ({ permission }) },
      httpAdmin: {
        get: (route: string, guard: { permission: string }, handler: (req: unknown, res: unknown) => unknown) =>
          routes.set(route, { permission: guard.permission, handler }),
      },
      plugins: { registerPlugin: (_id: string, def: { onadd(): void }) => (onadd = def.onadd) },
    };
    plugin(red as never);
    onadd?.();
    assert.deepEqual([...routes.keys()], ['/flowmon-response/history', '/flowmon-response/metrics']);
    for (const r of routes.values()) assert.equal(r.permission, 'flowmon-response.read');
    const answer = { code: 0, body: '' as unknown, headers: {} as Record<string, string> };
    const res = {
      status: (c: number) => ((answer.code = c), res),
      set: (k: string, v: string) => ((answer.headers[k] = v), res),
      send: (b: string) => (answer.body = b),
      json: (b: unknown) => (answer.body = b),
    };
    await routes.get('/flowmon-response/metrics')?.handler({ query: {} }, res);
    assert.equal(answer.code, 200);
    assert.match(answer.body as string, /^# HELP flowmon_blocks /m);
    await routes.get('/flowmon-response/history')?.handler({ query: { limit: '99999' } }, res);
    assert.equal(answer.code, 400);
  });
});
