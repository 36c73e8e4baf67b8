import assert from 'node:assert/strict';
import type { NodeAPI } from 'node-red';
import sidebarPlugin = require('../../../plugins/flowmon-blocks-sidebar/flowmon-blocks-sidebar');
import {
  BlocksSnapshot,
  publicEntry,
  publishSnapshots,
  READ_PERMISSION,
  WRITE_PERMISSION,
} from '../../../plugins/flowmon-blocks-sidebar/blocks-api';
import { MAX_ERROR_LENGTH } from '../../../lib/registry/entry';
import { closeRegistries } from '../../../lib/registry';
import { control, until } from '../ttl/fake-appliance';
import { helper, sidebarRuntime } from './support';

describe('flowmon-blocks-sidebar admin API', function () {
  const rt = sidebarRuntime('flowmon-sidebar');
  const key = (target: string, configId = 'lm') => ({ configId, scope: 'global:block', target });
  const registry = () => rt.registry();

  it('GET lists the entries as a JSON array', async () => {
    await registry().arm({ key: key('10.0.0.5/32'), kind: 'loadmaster', ttlSeconds: 3600, eventId: 'ads-5' });
    const res = await helper.request().get('/flowmon-response/blocks').expect(200);
    assert.ok(Array.isArray(res.body));
    assert.equal(res.body.length, 1);
    assert.equal(res.body[0].target, '10.0.0.5/32');
    assert.equal(res.body[0].state, 'active');
    assert.match(res.body[0].id, /^[A-Za-z0-9_-]{16}$/);
  });

  it('DELETE releases through the appliance now and updates the registry', async () => {
    const { entry } = await registry().arm({ key: key('10.0.0.6/32'), kind: 'loadmaster', ttlSeconds: 3600 });
    const res = await helper.request().delete(`/flowmon-response/blocks/${entry.id}`).expect(200);
    assert.equal(res.body.state, 'released');
    assert.equal(res.body.releasedBy, 'manual');
    assert.equal(res.body.releaseRequestedBy, 'anonymous', 'who asked is recorded (the adminAuth name; anonymous without it)');
    assert.deepEqual(control('lm').releases.map((r) => r.key), [key('10.0.0.6/32')]);
    assert.equal(registry().isActive(key('10.0.0.6/32')), false, 'not re-blocked by stale state');
    await helper.request().delete(`/flowmon-response/blocks/${entry.id}`).expect(200);
    assert.equal(control('lm').releases.length, 1, 'a second release is a no-op');
  });

  it('DELETE answers 404 for an unknown id', async () => {
    const res = await helper.request().delete('/flowmon-response/blocks/nope').expect(404);
    assert.match(res.body.error, /no block/);
  });

  it('DELETE answers 502 with the appliance error; the entry stays release-pending for retry', async () => {
    control('lm').failures = 1;
    const { entry } = await registry().arm({ key: key('10.0.0.7/32'), kind: 'loadmaster', ttlSeconds: 3600 });
    const res = await helper.request().delete(`/flowmon-response/blocks/${entry.id}`).expect(502);
    assert.match(res.body.error, /503/);
    assert.equal(res.body.entry.state, 'release-pending');
    assert.ok(res.body.entry.nextAttemptAt > Date.now());
    await helper.request().delete(`/flowmon-response/blocks/${entry.id}`).expect(200);
  });

  it('answers carry only the entry fields named for the editor, and bounded errors', async () => {
    const { entry } = await registry().arm({ key: key('10.0.0.10/32'), kind: 'loadmaster', ttlSeconds: 3600, label: 'L' });
    // A field that is not meant for the editor (as a later change might add one) stays on the server.
    const live = [...registry().values()].find((e) => e.id === entry.id) as unknown as Record<string, unknown>;
    live.credentials = { apiKey: 'very-secret-key' };
    const list = await helper.request().get('/flowmon-response/blocks').expect(200);
    assert.equal(list.body[0].label, 'L');
    assert.doesNotMatch(JSON.stringify(list.body), /very-secret-key|credentials/);
    const { credentials: _dropped, ...fields } = live;
    assert.deepEqual(publicEntry(live as never), fields, 'every other field is sent');
    control('lm').failures = 1;
    control('lm').error = `refused\u0000\n${'e'.repeat(10_000)}`;
    const failed = await helper.request().delete(`/flowmon-response/blocks/${entry.id}`).expect(502);
    assert.doesNotMatch(JSON.stringify(failed.body), /very-secret-key|credentials/);
    assert.ok(failed.body.error.length <= MAX_ERROR_LENGTH, String(failed.body.error.length));
    assert.match(failed.body.error, /^refused e+/);
    const released = await helper.request().delete(`/flowmon-response/blocks/${entry.id}`).expect(200);
    assert.equal(released.body.state, 'released');
    assert.doesNotMatch(JSON.stringify(released.body), /very-secret-key|credentials/);
  });

  it('DELETE answers 409 when the config node is gone; ?forget=true then drops the orphan', async () => {
    const { entry } = await registry().arm({ key: key('10.0.0.8/32', 'gone'), kind: 'loadmaster', ttlSeconds: 3600 });
    const res = await helper.request().delete(`/flowmon-response/blocks/${entry.id}`).expect(409);
    assert.equal(res.body.entry.state, 'orphaned');
    await helper.request().delete(`/flowmon-response/blocks/${entry.id}`).expect(409);
    await helper.request().delete(`/flowmon-response/blocks/${entry.id}?forget=true`).expect(200);
    const list = await helper.request().get('/flowmon-response/blocks').expect(200);
    assert.equal(list.body.length, 0);
  });

  it('publishes a retained snapshot after changes', async () => {
    const got: Array<{ topic: string; data: BlocksSnapshot; retain: boolean }> = [];
    const stop = publishSnapshots(registry(), (topic, data, retain) => got.push({ topic, data, retain }), 5);
    assert.equal(got[0].data.total, 0, 'an initial snapshot for editors that open later');
    await registry().arm({ key: key('10.0.0.9/32'), kind: 'loadmaster', ttlSeconds: 60 });
    await until(() => got.length === 2, 'snapshot after the change');
    stop();
    assert.equal(got[1].topic, 'flowmon-response/blocks');
    assert.equal(got[1].retain, true);
    assert.equal(got[1].data.total, 1);
    assert.equal(got[1].data.entries[0].target, '10.0.0.9/32');
  });
});

describe('flowmon-blocks-sidebar plugin', function () {
  it('registers as a plugin whose onadd adds the admin routes with their permissions, bulk routes before /:id ones', () => {
    const routes: string[] = [];
    const perms: string[] = [];
    let def: { type?: string; onadd?: () => void } = {};
    /** Each route with the permission of the middleware it was registered with. */
    const guarded: string[] = [];
    const needsPermission = (p: string) => {
      perms.push(p);
      return Object.assign(() => undefined, { permission: p });
    };
    const route = (method: string) => (path: string, guard: { permission?: string }) => {
      routes.push(`${method} ${path}`);
      guarded.push(`${method} ${path} ${guard.permission}`);
    };
    const fakeRed = {
      settings: {},
      log: { warn: () => undefined },
      plugins: { registerPlugin: (_id: string, d: typeof def) => (def = d) },
      auth: { needsPermission },
      httpAdmin: { get: route('GET'), post: route('POST'), delete: route('DELETE') },
      comms: { publish: () => undefined },
    };
    sidebarPlugin(fakeRed as unknown as NodeAPI);
    assert.equal(def.type, 'flowmon-response-sidebar');
    def.onadd!();
    assert.deepEqual(guarded, [
      'GET /flowmon-response/blocks flowmon-response.read',
      'POST /flowmon-response/blocks/approve flowmon-response.write',
      'POST /flowmon-response/blocks/discard flowmon-response.write',
      'POST /flowmon-response/blocks/:id/approve flowmon-response.write',
      'POST /flowmon-response/blocks/:id/discard flowmon-response.write',
      'DELETE /flowmon-response/blocks/:id flowmon-response.write',
    ]);
    assert.deepEqual([...new Set(perms)], [READ_PERMISSION, WRITE_PERMISSION]);
    assert.equal(routes.length, 6);
    return closeRegistries();
  });

  it("Node-RED's permission check lets a read-only user list but not release", () => {
    const { hasPermission } = require('@node-red/editor-api/lib/auth/permissions') as {
      hasPermission(scope: string | string[], permission: string): boolean;
    };
    assert.equal(hasPermission('read', READ_PERMISSION), true);
    assert.equal(hasPermission('read', WRITE_PERMISSION), false);
    assert.equal(hasPermission('write', WRITE_PERMISSION), true);
    assert.equal(hasPermission(['flows.read', 'nodes.read'], READ_PERMISSION), false, 'another area does not grant it');
    assert.equal(hasPermission('*', WRITE_PERMISSION), true);
  });
});
