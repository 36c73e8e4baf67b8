import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MitigationRegistry } from '../../../lib/registry/registry';
import {
  entryId,
  MAX_ERROR_LENGTH,
  MAX_EVENT_ID_LENGTH,
  MAX_EVENT_IDS,
  MAX_KEY_FIELD_LENGTH,
  MAX_LABEL_LENGTH,
  MAX_RECORD_BYTES,
} from '../../../lib/registry/entry';
import type { MitigationKey } from '../../../lib/mitigation/types';

const key = (target: string, scope = 'global:block', configId = 'lm1'): MitigationKey => ({ configId, scope, target });

describe('registry: durable journal', function () {
  let dir: string;
  let file: string;
  let now: number;
  const warnings: string[] = [];
  const open = () => new MitigationRegistry({ file, now: () => now, log: { warn: (m) => warnings.push(m) } });

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowmon-reg-'));
    file = path.join(dir, 'registry.jsonl');
    now = Date.UTC(2026, 0, 1);
    warnings.length = 0;
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('has the change on disk when arm resolves, and reloads it', async () => {
    const reg = open();
    const res = await reg.arm({ key: key('10.0.0.5/32'), kind: 'loadmaster', ttlSeconds: 3600, eventId: 'e1' });
    assert.equal(res.type, 'armed');
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    assert.equal(lines.length, 1);
    assert.equal(JSON.parse(lines[0]).p.target, '10.0.0.5/32');
    await reg.close();
    const again = open();
    const e = again.getByKey(key('10.0.0.5/32'))!;
    assert.equal(e.state, 'active');
    assert.equal(e.expiresAt, now + 3_600_000);
    assert.deepEqual(e.eventIds, ['e1']);
    assert.ok(again.isActive(key('10.0.0.5/32')));
    await again.close();
  });

  it('keeps every one of many concurrent changes (group commit)', async () => {
    const reg = open();
    await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        reg.arm({ key: key(`10.1.${i >> 8}.${i & 255}/32`), kind: 'loadmaster', ttlSeconds: 60 }),
      ),
    );
    await reg.close();
    assert.equal(fs.readFileSync(file, 'utf8').trim().split('\n').length, 500);
    const again = open();
    assert.equal(again.size, 500);
    await again.close();
  });

  it('drops a torn last record and keeps everything older', async () => {
    const reg = open();
    await reg.arm({ key: key('10.0.0.1/32'), kind: 'loadmaster', ttlSeconds: 60 });
    await reg.arm({ key: key('10.0.0.2/32'), kind: 'loadmaster', ttlSeconds: 60 });
    await reg.close();
    const whole = fs.readFileSync(file, 'utf8');
    const third = JSON.stringify({ p: { ...JSON.parse(whole.split('\n')[0]).p, target: '10.0.0.3/32' } });
    fs.appendFileSync(file, third.slice(0, third.length >> 1)); // killed mid-write
    const again = open();
    assert.equal(again.size, 2);
    assert.ok(again.getByKey(key('10.0.0.1/32')) && again.getByKey(key('10.0.0.2/32')));
    assert.match(warnings.join('\n'), /torn last record/);
    await again.arm({ key: key('10.0.0.4/32'), kind: 'loadmaster', ttlSeconds: 60 });
    await again.close();
    const third2 = open();
    assert.equal(third2.size, 3, 'appends after recovery start on a clean line');
    await third2.close();
  });

  it('a record cut at every byte offset always loads, losing at most that record', async () => {
    const reg = open();
    await reg.arm({ key: key('10.0.0.1/32'), kind: 'loadmaster', ttlSeconds: 60 });
    await reg.close();
    const first = fs.readFileSync(file);
    const reg2 = open();
    await reg2.arm({ key: key('10.0.0.2/32'), kind: 'loadmaster', ttlSeconds: 60 });
    await reg2.close();
    const both = fs.readFileSync(file);
    for (let cut = first.length; cut <= both.length; cut++) {
      fs.writeFileSync(file, both.subarray(0, cut));
      const r = open();
      assert.ok(r.getByKey(key('10.0.0.1/32')), `older record lost at cut ${cut}`);
      assert.equal(r.size, cut >= both.length - 1 ? 2 : 1, `cut ${cut}`);
      await r.close();
    }
  });

  it('extends to the later expiry and never shortens', async () => {
    const reg = open();
    await reg.arm({ key: key('10.0.0.9/32'), kind: 'loadmaster', ttlSeconds: 7200 });
    now += 1000;
    const shorter = await reg.arm({ key: key('10.0.0.9/32'), kind: 'loadmaster', ttlSeconds: 60, eventId: 'e2' });
    assert.equal(shorter.type, 'extended');
    assert.equal(shorter.entry.expiresAt, now - 1000 + 7_200_000);
    const longer = await reg.arm({ key: key('10.0.0.9/32'), kind: 'loadmaster', ttlSeconds: 86_400 });
    assert.equal(longer.entry.expiresAt, now + 86_400_000);
    assert.equal(longer.entry.hits, 3);
    await reg.close();
  });

  it('keys include config and scope: the same target in two scopes is two entries', async () => {
    const reg = open();
    await reg.arm({ key: key('10.0.0.9/32', 'global:block'), kind: 'loadmaster', ttlSeconds: 60 });
    await reg.arm({ key: key('10.0.0.9/32', 'vs:3:block'), kind: 'loadmaster', ttlSeconds: 60 });
    await reg.arm({ key: key('10.0.0.9/32', 'global:block', 'lm2'), kind: 'loadmaster', ttlSeconds: 60 });
    assert.equal(reg.size, 3);
    assert.notEqual(entryId(key('a', 'b', 'c')), entryId(key('a', 'c', 'b')));
    assert.match(entryId(key('10.0.0.9/32')), /^[A-Za-z0-9_-]{16}$/);
    await reg.close();
  });

  it('simulated entries are not active for the appliance nodes', async () => {
    const reg = open();
    await reg.arm({ key: key('10.0.0.7/32'), kind: 'loadmaster', ttlSeconds: 60, simulated: true });
    assert.equal(reg.isActive(key('10.0.0.7/32')), false);
    await reg.arm({ key: key('10.0.0.7/32'), kind: 'loadmaster', ttlSeconds: 60 });
    assert.equal(reg.isActive(key('10.0.0.7/32')), true, 'a real block upgrades a simulated one');
    await reg.close();
  });

  it('compacts the journal when it grows past four times the live entries', async () => {
    const reg = open();
    for (let i = 0; i < 5000; i++) await reg.arm({ key: key('10.0.0.1/32'), kind: 'loadmaster', ttlSeconds: 60 + i });
    assert.ok(reg.journalLines < 4100, `journal holds ${reg.journalLines} lines`);
    await reg.close();
    assert.ok(fs.readFileSync(file, 'utf8').trim().split('\n').length < 4100);
    const again = open();
    assert.equal(again.getByKey(key('10.0.0.1/32'))!.ttlSeconds, 5059);
    await again.close();
  });

  it('prunes released entries after the retention period, keeping escalation history until then', async () => {
    const reg = new MitigationRegistry({ file, now: () => now, retentionMs: 10 * 86_400_000 });
    const res = await reg.arm({ key: key('10.0.0.3/32'), kind: 'loadmaster', ttlSeconds: 60 });
    await reg.markReleased(res.entry.id, 'expiry');
    now += 9 * 86_400_000;
    assert.equal(await reg.prune(), 0);
    assert.equal(reg.earlierBlocks(key('10.0.0.3/32'), 10 * 86_400_000), 1);
    now += 2 * 86_400_000;
    assert.equal(await reg.prune(), 1);
    await reg.close();
    const again = open();
    assert.equal(again.size, 0, 'the delete marker is durable');
    await again.close();
  });

  it('a manual release resets the escalation history', async () => {
    const reg = open();
    const a = await reg.arm({ key: key('10.0.0.4/32'), kind: 'loadmaster', ttlSeconds: 60 });
    await reg.markReleased(a.entry.id, 'expiry');
    const b = await reg.arm({ key: key('10.0.0.4/32'), kind: 'loadmaster', ttlSeconds: 60 });
    assert.equal(reg.earlierBlocks(key('10.0.0.4/32'), 86_400_000), 1);
    await reg.markReleased(b.entry.id, 'manual');
    assert.equal(reg.earlierBlocks(key('10.0.0.4/32'), 86_400_000), 0);
    await reg.close();
  });

  it('runs in memory without a file', async () => {
    const reg = new MitigationRegistry({ now: () => now });
    await reg.arm({ key: key('10.0.0.5/32'), kind: 'loadmaster', ttlSeconds: 60 });
    assert.equal(reg.durable, false);
    assert.ok(reg.isActive(key('10.0.0.5/32')));
  });

  describe('registry: bounded records', function () {
    /** Journal growth of 100 hits on one blocked source whose event ids are 60 KB each. */
    const GROWTH_LIMIT = 400 * 1024;

    it(`100 hits with 60 KB event ids on one entry grow the journal by less than ${GROWTH_LIMIT / 1024} KiB`, async () => {
      const reg = new MitigationRegistry({ file });
      await reg.arm({ key: key('198.51.100.7/32'), kind: 'loadmaster', ttlSeconds: 3600, eventId: 'first' });
      const before = fs.statSync(file).size;
      for (let i = 0; i < 100; i++) {
        const eventId = `${String(i).padStart(3, '0')}${'x'.repeat(60 * 1024)}`;
        await reg.arm({ key: key('198.51.100.7/32'), kind: 'loadmaster', ttlSeconds: 3600, eventId });
      }
      const growth = fs.statSync(file).size - before;
      console.log(`      journal growth for 100 hits with 60 KB ids: ${growth} bytes (${(growth / 100).toFixed(0)} per change)`);
      assert.ok(growth < GROWTH_LIMIT, `${growth} bytes`);
      const e = reg.getByKey(key('198.51.100.7/32'))!;
      assert.equal(e.hits, 101, 'every hit counted');
      assert.equal(e.eventIds.length, MAX_EVENT_IDS);
      assert.equal(e.eventIds[0], 'first', 'the first id stays');
      assert.ok(e.eventIds[MAX_EVENT_IDS - 1].startsWith('099'), 'the most recent id is last');
      assert.ok(e.eventIds[1].startsWith('081'), 'then the most recent ones');
      assert.ok(e.eventIds.every((id) => id.length <= MAX_EVENT_ID_LENGTH));
      await reg.close();
    });

    it('cuts labels, errors and event ids to their bounds and keeps control characters out', async () => {
      const reg = new MitigationRegistry({ file });
      const huge = `<b>\u0000\n${'y'.repeat(100_000)}`;
      const { entry } = await reg.arm({
        key: key('S-1-5-21-1-1104', 'user', 'cs1'),
        kind: 'cryptospike',
        ttlSeconds: 60,
        eventId: `<img src=x onerror="window.__pwned=1">\u0007${'9'.repeat(500)}`,
        label: huge,
        owner: 'o'.repeat(10_000),
      });
      assert.ok(entry.label!.length <= MAX_LABEL_LENGTH);
      assert.ok(entry.label!.startsWith('<b> yyy'), 'markup stays (shown as text); controls go');
      assert.equal(entry.owner, undefined, 'an overlong owner is not a node id');
      assert.match(entry.eventIds[0], /^img src=x onerror=window\.__pwned=1 9+…$/);
      assert.equal(entry.eventIds[0].length, MAX_EVENT_ID_LENGTH);
      await reg.markReleaseFailed(entry.id, `appliance said ${huge}`, Date.now() + 1000);
      const failed = reg.get(entry.id)!;
      assert.ok(failed.lastError!.length <= MAX_ERROR_LENGTH);
      assert.doesNotMatch(failed.lastError!, /\p{Cc}/u);
      await reg.close();
    });

    it('refuses a key field longer than its bound (a key cannot be cut)', async () => {
      const reg = new MitigationRegistry({ file });
      const target = 'S'.repeat(MAX_KEY_FIELD_LENGTH + 1);
      await assert.rejects(reg.arm({ key: key(target, 'user', 'cs1'), kind: 'cryptospike', ttlSeconds: 60 }), /target is longer than 512/);
      assert.equal(reg.size, 0);
      await reg.close();
    });

    it(`writes at most ${MAX_RECORD_BYTES} bytes per change whatever the input`, async () => {
      const reg = new MitigationRegistry({ file });
      // Every field at its bound, with the characters that cost most in UTF-8 and in JSON.
      const wide = (n: number) => '\u20ac\\'.repeat(n);
      const controls = (n: number) => '\u0001'.repeat(n); // key fields are kept as given: 6 bytes each in JSON
      const k = { configId: controls(MAX_KEY_FIELD_LENGTH), scope: controls(MAX_KEY_FIELD_LENGTH), target: controls(MAX_KEY_FIELD_LENGTH) };
      for (let i = 0; i < 40; i++) {
        await reg.arm({ key: k, kind: 'loadmaster', ttlSeconds: 60, eventId: `${i}${wide(5000)}`, label: wide(5000), owner: controls(128) });
      }
      const id = reg.getByKey(k)!.id;
      for (let i = 0; i < 40; i++) await reg.markReleaseFailed(id, wide(5000), 0);
      await reg.close();
      const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
      const longest = Math.max(...lines.map((l) => Buffer.byteLength(l) + 1));
      console.log(`      longest journal line with every field at its bound: ${longest} bytes`);
      assert.ok(longest <= MAX_RECORD_BYTES, `${longest} bytes`);
    });

    it('brings oversized records of an older journal within the bounds when it loads', async () => {
      const old = {
        id: entryId(key('10.0.0.1/32')), kind: 'loadmaster', configId: 'lm1', scope: 'global:block', target: '10.0.0.1/32',
        state: 'active', simulated: false, firstSeen: 1, lastSeen: 2, hits: 300, expiresAt: Date.now() + 60_000, armedAt: 1,
        ttlSeconds: 60, blocks: Array.from({ length: 100 }, (_, i) => i), attempts: 0, label: 'L'.repeat(5000),
        eventIds: Array.from({ length: 300 }, (_, i) => `${i}-${'z'.repeat(6 * 1024)}`),
      };
      fs.writeFileSync(file, JSON.stringify({ p: old }) + '\n');
      const reg = new MitigationRegistry({ file });
      const e = reg.getByKey(key('10.0.0.1/32'))!;
      assert.equal(e.eventIds.length, MAX_EVENT_IDS);
      assert.ok(e.eventIds[0].startsWith('0-') && e.eventIds[MAX_EVENT_IDS - 1].startsWith('299-'));
      assert.ok(e.eventIds.every((id) => id.length <= MAX_EVENT_ID_LENGTH));
      assert.ok(e.label!.length <= MAX_LABEL_LENGTH);
      assert.equal(e.blocks.length, 32);
      await reg.close();
    });
  });
});

describe('registry: kill -9 while writing', function () {
  it('every acknowledged change survives SIGKILL and the file loads', async function () {
    const { spawn } = await import('node:child_process');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowmon-kill-'));
    const file = path.join(dir, 'registry.jsonl');
    const registryModule = path.join(__dirname, '..', '..', '..', 'lib', 'registry', 'registry.ts');
    const code = `
      const { MitigationRegistry } = require(${JSON.stringify(registryModule)});
      const reg = new MitigationRegistry({ file: ${JSON.stringify(file)} });
      let i = 0;
      (async () => {
        for (;;) {
          const batch = [];
          for (let j = 0; j < 50; j++, i++) {
            batch.push(reg.arm({ key: { configId: 'lm', scope: 'global:block', target: 't' + i }, kind: 'loadmaster', ttlSeconds: 60 }));
          }
          await Promise.all(batch);
          process.stdout.write(i + '\\n');
        }
      })();
    `;
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    let acknowledged = 0;
    child.stdout.on('data', (d: Buffer) => {
      const last = d.toString().trim().split('\n').pop();
      if (last) acknowledged = Number(last);
    });
    await new Promise<void>((resolve) => {
      const wait = () => (acknowledged >= 2000 ? resolve() : setTimeout(wait, 5));
      wait();
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const reg = new MitigationRegistry({ file, log: { warn: () => undefined } });
    try {
      assert.ok(reg.size >= acknowledged, `${reg.size} entries loaded, ${acknowledged} acknowledged`);
      for (let i = 0; i < acknowledged; i++) assert.ok(reg.getByKey(key(`t${i}`, 'global:block', 'lm')), `t${i} lost`);
    } finally {
      await reg.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
