import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HISTORY_ACTIONS, HistoryRecord } from '../../../lib/history/record';
import { HistoryStore } from '../../../lib/history/store';
import { signalMitigation } from '../../../lib/metrics/signals';
import type { MitigationAppliance } from '../../../lib/mitigation/types';
import { holdRequest } from '../decisions/support';
import { adsEvent, NamedAppliance, recorded, tempDir } from './support';

const key = (target: string, configId = 'lm1') => ({ configId, scope: 'global:block', target });
const kind = 'loadmaster' as const;

describe('history recorder: every decision from real registry transitions', () => {
  it('records blocked, extended, released (expiry, person, flow), release-failed, orphaned, forgotten, held, approved, discarded, failed, simulated and refused', async () => {
    const lm = new NamedAppliance('edge LM');
    const broken = new NamedAppliance('broken LM');
    broken.releaseError = new Error('LoadMaster answered 500');
    const appliances = new Map<string, MitigationAppliance>([['lm1', lm], ['lm2', broken]]);
    const dir = tempDir();
    const h = recorded(appliances, { file: path.join(dir, 'history.jsonl') });
    const { registry } = h;
    try {
      const a = (await registry.arm({ key: key('10.0.0.1/32'), kind, ttlSeconds: 60, eventId: '42' })).entry;
      await registry.arm({ key: key('10.0.0.1/32'), kind, ttlSeconds: 120, eventId: '43' });
      await registry.releaseNow(a.id, 'carol');
      const b = (await registry.arm({ key: key('10.0.0.2/32'), kind, ttlSeconds: 60 })).entry;
      await registry.scheduler.releaseNow(b.id, 'expiry');
      const c = (await registry.arm({ key: key('10.0.0.3/32'), kind, ttlSeconds: 60, owner: 'ttl-node' })).entry;
      await registry.scheduler.releaseNow(c.id, 'flow');
      const d = (await registry.arm({ key: key('10.0.0.4/32', 'lm2'), kind, ttlSeconds: 60 })).entry;
      await registry.releaseNow(d.id);
      const gone = (await registry.arm({ key: key('10.0.0.5/32', 'deleted-node'), kind, ttlSeconds: 60 })).entry;
      await registry.releaseNow(gone.id);
      await registry.forget(gone.id);
      await registry.arm({ key: key('10.0.0.6/32'), kind, ttlSeconds: 60, simulated: true });

      const approved = (await registry.hold({ key: key('10.0.0.7/32'), kind, hold: holdRequest(), ttlSeconds: 600, eventId: '5101' })).entry;
      await registry.decisions.decide(approved.id, { action: 'approve', by: { kind: 'user', name: 'alice' } });
      await registry.decisions.idle();
      const discarded = (await registry.hold({ key: key('10.0.0.8/32'), kind, hold: holdRequest(), ttlSeconds: 600 })).entry;
      await registry.decisions.decide(discarded.id, { action: 'discard', by: { kind: 'flow', node: 'n7' } });
      lm.failures = 1;
      const failing = (await registry.hold({ key: key('10.0.0.9/32'), kind, hold: holdRequest(), ttlSeconds: 600 })).entry;
      await registry.decisions.decide(failing.id, { action: 'approve', by: { kind: 'user', name: 'bob' } });
      await registry.decisions.idle();

      const event = adsEvent({ description: 'port scan of the DMZ' });
      signalMitigation(
        { appliance: 'loadmaster', config: 'lm1', action: 'add', list: 'block', scope: 'global', address: '127.0.0.1/32',
          result: 'refused', reason: '127.0.0.1/32 is protected (loopback)', at: new Date().toISOString() },
        event,
      );
      signalMitigation(
        { appliance: 'cryptospike', config: 'cs1', action: 'block', user: { userId: 'S-1-5-21-1', username: 'jdoe' },
          userIdType: 'WINDOWS', result: 'failed', reason: 'CryptoSpike answered 503', at: new Date().toISOString() },
        event,
      );
      // Results that are not refusals or failures come to the history through the registry only.
      signalMitigation(
        { appliance: 'loadmaster', config: 'lm1', action: 'add', list: 'block', scope: 'global', address: '10.1.1.1/32',
          result: 'added', at: new Date().toISOString() },
        event,
      );
      await h.recorder.idle();

      const all = h.store.query({ limit: 1000 }).records.reverse();
      assert.deepEqual(new Set(all.map((r) => r.action)), new Set(HISTORY_ACTIONS));
      const of = (target: string) => all.filter((r) => r.target === target).map((r) => `${r.action}/${r.actorKind}:${r.actor}/${r.cause ?? ''}`);

      assert.deepEqual(of('10.0.0.1/32'), ['blocked/package:flowmon-response/', 'extended/package:flowmon-response/', 'released/user:carol/person']);
      assert.deepEqual(of('10.0.0.2/32'), ['blocked/package:flowmon-response/', 'released/package:flowmon-response/expiry']);
      assert.deepEqual(of('10.0.0.3/32'), ['blocked/package:flowmon-response/', 'released/flow:ttl-node/flow']);
      assert.deepEqual(of('10.0.0.4/32'), ['blocked/package:flowmon-response/', 'release-failed/package:flowmon-response/']);
      assert.deepEqual(of('10.0.0.5/32'), ['blocked/package:flowmon-response/', 'orphaned/package:flowmon-response/', 'forgotten/user:/person']);
      assert.deepEqual(of('10.0.0.6/32'), ['simulated/package:flowmon-response/']);
      assert.deepEqual(of('10.0.0.7/32'), ['held/package:flowmon-response/storm', 'approved/user:alice/person', 'blocked/user:alice/decision']);
      assert.deepEqual(of('10.0.0.8/32'), ['held/package:flowmon-response/storm', 'discarded/flow:n7/flow']);
      assert.deepEqual(of('10.0.0.9/32'), ['held/package:flowmon-response/storm', 'approved/user:bob/person', 'failed/user:bob/decision']);
      assert.deepEqual(of('127.0.0.1/32'), ['refused/package:flowmon-response/']);
      assert.deepEqual(of('S-1-5-21-1'), ['failed/package:flowmon-response/']);
      assert.equal(of('10.1.1.1/32').length, 0);

      const blocked = all.find((r) => r.target === '10.0.0.1/32' && r.action === 'blocked') as HistoryRecord;
      assert.equal(blocked.appliance, 'edge LM');
      assert.equal(blocked.configId, 'lm1');
      assert.equal(blocked.kind, 'loadmaster');
      assert.equal(blocked.scope, 'global:block');
      assert.equal(blocked.ttlSeconds, 60);
      assert.equal(blocked.eventId, '42');
      assert.equal(blocked.expiresAt, a.expiresAt);
      const extended = all.find((r) => r.action === 'extended') as HistoryRecord;
      assert.equal(extended.ttlSeconds, 120);
      assert.equal(extended.eventId, '43');
      assert.match(all.find((r) => r.action === 'release-failed')?.detail ?? '', /answered 500/);
      assert.equal(all.find((r) => r.action === 'release-failed')?.appliance, 'broken LM');
      assert.equal(all.find((r) => r.action === 'orphaned')?.appliance, 'deleted-node', 'an appliance without a node is named by its id');

      const held = all.find((r) => r.target === '10.0.0.7/32' && r.action === 'held') as HistoryRecord;
      assert.deepEqual(
        [held.eventId, held.method, held.priority, held.perspective, held.description, held.detail, held.ttlSeconds],
        ['5101', 'SCANS', 'high', 'Security issues', 'port scan', 'storm gate: at most 60 new blocks per 60 s', 600],
      );
      const afterDecision = all.find((r) => r.target === '10.0.0.7/32' && r.action === 'blocked') as HistoryRecord;
      assert.equal(afterDecision.method, 'SCANS', 'the applied block keeps the held event');
      assert.match(all.find((r) => r.target === '10.0.0.9/32' && r.action === 'failed')?.detail ?? '', /503/);

      const refused = all.find((r) => r.action === 'refused') as HistoryRecord;
      assert.deepEqual(
        [refused.eventId, refused.method, refused.priority, refused.perspective, refused.description, refused.detail],
        ['777', 'SSHDICT', 'critical', 'Security issues', 'port scan of the DMZ', '127.0.0.1/32 is protected (loopback)'],
      );
      const csFailed = all.find((r) => r.target === 'S-1-5-21-1') as HistoryRecord;
      assert.deepEqual([csFailed.kind, csFailed.scope, csFailed.label, csFailed.configId], ['cryptospike', 'user:WINDOWS', 'jdoe', 'cs1']);
      assert.ok(all.every((r, i) => i === 0 || r.at >= all[i - 1].at), 'in time order');
    } finally {
      await h.close();
    }
  });

  it('a restart keeps the history: the same records are read back from the private journal (0600 in 0700)', async function () {
    if (process.platform === 'win32') this.skip();
    const dir = path.join(tempDir(), 'flowmon-response');
    const file = path.join(dir, 'history.jsonl');
    const appliances = new Map<string, MitigationAppliance>([['lm1', new NamedAppliance('edge LM')]]);
    const h = recorded(appliances, { file, ownsDir: true }, path.join(dir, 'registry.jsonl'));
    const e = (await h.registry.arm({ key: key('192.0.2.1/32'), kind, ttlSeconds: 30, eventId: '1' })).entry;
    await h.registry.releaseNow(e.id);
    await h.registry.hold({ key: key('192.0.2.2/32'), kind, hold: holdRequest(), ttlSeconds: 30 });
    await h.recorder.idle();
    const before = h.store.query({ limit: 100 }).records;
    assert.equal(before.length, 3);
    await h.close();

    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
    const again = new HistoryStore({ file, ownsDir: true });
    try {
      assert.deepEqual(again.query({ limit: 100 }).records, before);
      assert.equal(again.bytes, fs.statSync(file).size, 'the byte bound counts the journal lines');
    } finally {
      await again.close();
    }
  });
});
