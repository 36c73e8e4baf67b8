// Attack 12: the forwarder run without a spool-dir, where another user has planted a batch (and a symlink to a
// file) in the spool a shared temp dir would hold. Neither is ever delivered to Node-RED, and the forwarder's
// default spool is not in the shared temp dir.
import assert = require('node:assert/strict');
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { body, eventLine } from '../faults/support/events';
import { freshDir } from '../e2e/support/node-red';
import { packageDir } from './support/secure-node-red';
import { figure, SHARED_SECRET, sharedStack, sleep, waitFor, type SecureStack } from './support/stack';

const NOBODY = 65534;

function listTree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

describe('attack 12: batches planted in the forwarder default spool', function () {
  let s: SecureStack;
  let dir: string;

  before(async function () {
    if (process.getuid?.() !== 0) {
      console.log('      (skipped: planting files as another user needs root)');
      this.skip();
    }
    s = await sharedStack();
    dir = freshDir('security-forwarder');
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('delivers its own batch, never the planted ones, and keeps its spool out of the shared temp dir', async () => {
    const sharedTmp = join(dir, 'tmp');
    const home = join(dir, 'home');
    const own = join(dir, 'own');
    mkdirSync(sharedTmp);
    chmodSync(sharedTmp, 0o1777);
    mkdirSync(home, { mode: 0o700 });
    mkdirSync(own, { mode: 0o700 });
    // Another user's spool where the old default put it, with one batch of theirs and a symlink to a file.
    const spool = join(sharedTmp, 'flowmon-forward-spool');
    for (const sub of ['', 'pending', 'rejected', 'tmp']) mkdirSync(join(spool, sub), { recursive: true, mode: 0o777 });
    writeFileSync(join(spool, 'pending', '0000000001-1.batch'), body([eventLine('s12-planted', '198.51.100.245')]));
    const elsewhere = join(dir, 'elsewhere.batch');
    writeFileSync(elsewhere, body([eventLine('s12-linked', '198.51.100.246')]));
    symlinkSync(elsewhere, join(spool, 'pending', '0000000002-2.batch'));
    for (const p of ['', 'pending', 'rejected', 'tmp', 'pending/0000000001-1.batch']) chownSync(join(spool, p), NOBODY, NOBODY);
    const tmpBefore = listTree(sharedTmp);

    writeFileSync(join(own, 'secret'), `${SHARED_SECRET}\n`, { mode: 0o600 });
    const legitId = `s12-own-${Date.now()}`;
    const args = ['url', s.adsUrl, 'secret-file', join(own, 'secret'), 'log-file', join(own, 'forward.log'), 'retries', '0', 'timeout', '10'];
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', TMPDIR: sharedTmp, HOME: home };
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn('bash', [join(packageDir, 'forwarder', 'flowmon-forward.sh'), ...args], { env, stdio: ['pipe', 'ignore', 'inherit'] });
      child.once('error', reject);
      child.once('exit', (c) => resolve(c ?? -1));
      child.stdin.end(body([eventLine(legitId, '198.51.100.247')]));
    });
    const ids = () => s.taps('event').map((t) => String(t.payload.id));
    await waitFor(() => ids().includes(legitId), 15000, 'the forwarded batch to arrive').catch(() => undefined);
    await sleep(1000);
    const delivered = ['s12-planted', 's12-linked'].filter((id) => ids().includes(id));
    const tmpAfter = listTree(sharedTmp);
    const newInTmp = tmpAfter.filter((p) => !tmpBefore.includes(p));
    const goneFromTmp = tmpBefore.filter((p) => !tmpAfter.includes(p));
    figure(12, `forwarder exit ${code}; own batch delivered: ${ids().includes(legitId) ? 'yes' : 'no'}; planted batches delivered: ${delivered.join(', ') || 'none'}; shared temp dir: ${newInTmp.length} new, ${goneFromTmp.length} removed entries`);
    assert.deepEqual(delivered, [], 'a planted batch reached Node-RED');
    assert.ok(!s.lmBlocked().includes('198.51.100.245') && !s.lmBlocked().includes('198.51.100.246'), 'a planted source is blocked');
    assert.deepEqual({ newInTmp, goneFromTmp }, { newInTmp: [], goneFromTmp: [] }, 'the forwarder used the shared temp dir');
    assert.equal(code, 0, `the forwarder exited with ${code}`);
    assert.ok(ids().includes(legitId), 'the own batch never arrived');
  });
});
