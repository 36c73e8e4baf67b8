import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MitigationRegistry } from '../../../lib/registry/registry';
import { entryId } from '../../../lib/registry/entry';
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
