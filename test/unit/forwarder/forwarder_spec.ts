import assert = require('node:assert/strict');
import { spawn } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import http = require('node:http');
import https = require('node:https');
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repoRoot = resolve(__dirname, '..', '..', '..');
const script = join(repoRoot, 'forwarder', 'flowmon-forward.sh');
const tlsDir = join(repoRoot, 'simulators', 'tls');

interface Received {
  body: Buffer;
  headers: http.IncomingHttpHeaders;
}

/** A receiver on 127.0.0.1 that answers with the queued statuses (then 200) and records every request. */
class Receiver {
  readonly requests: Received[] = [];
  readonly statuses: number[] = [];
  delayMs = 0;
  /** Called as each request arrives, before it is answered. */
  onRequest?: () => void;
  private server?: http.Server;
  url = '';

  async start(tls = false): Promise<this> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.requests.push({ body: Buffer.concat(chunks), headers: req.headers });
        this.onRequest?.();
        res.statusCode = this.statuses.shift() ?? 200;
        setTimeout(() => res.end(res.statusCode < 300 ? 'ok' : 'refused'), this.delayMs);
      });
    };
    this.server = tls
      ? https.createServer(
          { cert: readFileSync(join(tlsDir, 'localhost.crt')), key: readFileSync(join(tlsDir, 'localhost.key')) },
          handler,
        )
      : http.createServer(handler);
    await new Promise<void>((ok) => this.server!.listen(0, '127.0.0.1', ok));
    const { port } = this.server.address() as AddressInfo;
    this.url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}/flowmon/ads`;
    return this;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise((ok) => this.server!.close(ok));
    this.server = undefined;
  }
}

/** A URL on 127.0.0.1 where nothing listens. */
async function deadUrl(): Promise<string> {
  const r = await new Receiver().start();
  const url = r.url;
  await r.stop();
  return url;
}

interface RunResult {
  code: number | null;
  stderr: string;
}

function run(args: string[], stdin: Buffer | string, env: NodeJS.ProcessEnv = process.env): Promise<RunResult> {
  return new Promise((ok, fail) => {
    const child = spawn('bash', [script, ...args], { stdio: ['pipe', 'ignore', 'pipe'], env });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => ok({ code, stderr }));
    child.stdin.end(stdin);
  });
}

describe('forwarder/flowmon-forward.sh', function () {
  this.timeout(30000);
  let dir: string;
  let secretFile: string;
  let spool: string;
  let logFile: string;
  let receiver: Receiver;

  const pendingFiles = (): string[] => (existsSync(join(spool, 'pending')) ? readdirSync(join(spool, 'pending')) : []);
  const rejectedFiles = (): string[] => readdirSync(join(spool, 'rejected'));
  const log = (): string => readFileSync(logFile, 'utf8');
  const baseArgs = (url: string): string[] => [
    '--url', url, '--secret-file', secretFile, '--spool-dir', spool, '--log-file', logFile, '--backoff', '0',
  ];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fwd-test-'));
    secretFile = join(dir, 'secret');
    writeFileSync(secretFile, 's3cr3t "with" \\quotes\r\nsecond line ignored\n');
    spool = join(dir, 'spool');
    logFile = join(dir, 'forward.log');
    receiver = await new Receiver().start();
  });

  afterEach(async () => {
    await receiver.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers stdin byte for byte with the secret from the file as X-ADS-Secret', async () => {
    const batch = Buffer.concat([
      Buffer.from('1\t2024-01-01 10:00:00\tSCANS\t \t \n'),
      Buffer.from('2\tline with CRLF\r\n'),
      Buffer.from('3\tends in one space \n'),
      Buffer.from([0xff, 0x00, 0x09]),
      Buffer.from('\nlast line without newline '),
    ]);
    const result = await run(baseArgs(receiver.url), batch);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(receiver.requests.length, 1);
    const [req] = receiver.requests;
    assert.ok(req.body.equals(batch), 'body differs from stdin');
    assert.equal(req.headers['x-ads-secret'], 's3cr3t "with" \\quotes');
    assert.equal(req.headers['content-type'], 'text/plain');
    assert.match(String(req.headers['x-ads-batch']), /^\d+-\d+\.batch$/);
    assert.deepEqual(pendingFiles(), []);
    assert.ok(log().includes(`delivered (${batch.length} bytes, HTTP 200)`), log());
    assert.doesNotMatch(log(), /s3cr3t/);
  });

  it('accepts the parameters as ADS passes them: NAME VALUE pairs without dashes, any case, = form', async () => {
    const styles: string[][] = [
      ['url', receiver.url, 'secret_file', secretFile, 'SPOOL_DIR', spool, 'log-file', logFile],
      [`--url=${receiver.url}`, `-secret-file=${secretFile}`, '--spool-dir', spool, 'LOG_FILE', logFile],
    ];
    for (const args of styles) {
      const result = await run(args, 'event\n');
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    }
    assert.equal(receiver.requests.length, 2);
    assert.ok(receiver.requests.every((r) => r.body.toString() === 'event\n'));
  });

  it('retries a 503 with backoff and delivers the same batch', async () => {
    receiver.statuses.push(503, 503);
    const result = await run([...baseArgs(receiver.url), 'retries', '3'], 'retry me\n');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(receiver.requests.length, 3);
    assert.equal(new Set(receiver.requests.map((r) => r.headers['x-ads-batch'])).size, 1);
    assert.match(log(), /HTTP 503; retry 1 of 3/);
    assert.match(log(), /HTTP 503; retry 2 of 3/);
  });

  it('spools the batch on an outage (exit 1) and sends spooled batches first, oldest first, on the next run', async () => {
    const down = await deadUrl();
    const first = await run([...baseArgs(down), '--retries', '1'], 'first batch\n');
    assert.equal(first.code, 1);
    const second = await run([...baseArgs(down), '--retries', '0'], 'second batch \r\n');
    assert.equal(second.code, 1);
    const spooled = pendingFiles();
    assert.equal(spooled.length, 2);
    assert.equal(readFileSync(join(spool, 'pending', spooled.sort()[1]), 'utf8'), 'second batch \r\n');
    assert.match(log(), /retry 1 of 1/);
    assert.match(log(), /kept for the next run/);

    const third = await run(baseArgs(receiver.url), 'third batch\n');
    assert.equal(third.code, 0, third.stderr);
    assert.deepEqual(
      receiver.requests.map((r) => r.body.toString()),
      ['first batch\n', 'second batch \r\n', 'third batch\n'],
    );
    assert.deepEqual(pendingFiles(), []);
  });

  it('keeps a batch the receiver refuses as malformed in rejected/ (exit 3) without retrying or resending it', async () => {
    receiver.statuses.push(400);
    const result = await run([...baseArgs(receiver.url), '--retries', '3'], 'garbage\n');
    assert.equal(result.code, 3);
    assert.equal(receiver.requests.length, 1);
    assert.equal(rejectedFiles().length, 1);
    assert.equal(readFileSync(join(spool, 'rejected', rejectedFiles()[0]), 'utf8'), 'garbage\n');
    assert.match(log(), /REJECTED by the receiver \(HTTP 400\): refused/);

    const next = await run(baseArgs(receiver.url), 'good\n');
    assert.equal(next.code, 0);
    assert.deepEqual(receiver.requests.map((r) => r.body.toString()), ['garbage\n', 'good\n']);
  });

  it('does not retry a 401 in the same run but keeps the batch pending until the secret is fixed', async () => {
    receiver.statuses.push(401);
    const result = await run([...baseArgs(receiver.url), '--retries', '3'], 'held\n');
    assert.equal(result.code, 1);
    assert.equal(receiver.requests.length, 1);
    assert.equal(pendingFiles().length, 1);
    const flush = await run(baseArgs(receiver.url), '');
    assert.equal(flush.code, 0);
    assert.deepEqual(receiver.requests.map((r) => r.body.toString()), ['held\n', 'held\n']);
    assert.deepEqual(pendingFiles(), []);
  });

  it('delivers each batch exactly once when ADS starts several runs at the same time', async () => {
    receiver.delayMs = 150;
    const batches = ['a\n', 'b\n', 'c\n', 'd\n'];
    const results = await Promise.all(batches.map((b) => run(baseArgs(receiver.url), b)));
    assert.deepEqual(results.map((r) => r.code), [0, 0, 0, 0]);
    assert.deepEqual(receiver.requests.map((r) => r.body.toString()).sort(), batches);
    assert.deepEqual(pendingFiles(), []);
  });

  it('sends nothing for an empty stdin and exits 0', async () => {
    const result = await run(baseArgs(receiver.url), '');
    assert.equal(result.code, 0);
    assert.equal(receiver.requests.length, 0);
  });

  it('exits 2 on bad parameters, spooling the batch so that a corrected run delivers it', async () => {
    const bad = await run([...baseArgs(receiver.url), 'colour', 'blue'], 'keep me\n');
    assert.equal(bad.code, 2);
    assert.match(log(), /configuration error: unknown parameter 'colour'/);
    const noSecret = await run(['url', receiver.url, 'spool-dir', spool, 'log-file', logFile], 'keep me too\n');
    assert.equal(noSecret.code, 2);
    assert.match(log(), /secret-file is required/);
    assert.equal(receiver.requests.length, 0);
    assert.equal(pendingFiles().length, 2);

    const good = await run(baseArgs(receiver.url), '');
    assert.equal(good.code, 0);
    assert.deepEqual(receiver.requests.map((r) => r.body.toString()), ['keep me\n', 'keep me too\n']);
  });

  it('exits 4 when the batch can be neither delivered nor spooled', async () => {
    const notADir = join(dir, 'file');
    writeFileSync(notADir, '');
    const result = await run(
      ['url', await deadUrl(), 'secret-file', secretFile, 'spool-dir', join(notADir, 'spool'), 'log-file', logFile, 'retries', '0'],
      'lost\n',
    );
    assert.equal(result.code, 4);
    assert.match(log(), /LOST/);
  });

  describe('spool safety', () => {
    const NOBODY = 65534;
    const mode = (path: string): number => statSync(path).mode & 0o7777;
    let home: string;
    let tmp: string;
    /** The environment of a user whose home is `home` and whose TMPDIR is the shared, sticky `tmp`. */
    let env: NodeJS.ProcessEnv;

    beforeEach(function () {
      // Planting files of another user needs chown, so these run as root (as CI does).
      if (process.getuid?.() !== 0) this.skip();
      home = join(dir, 'home');
      mkdirSync(home, { mode: 0o700 });
      tmp = join(dir, 'tmp');
      mkdirSync(tmp);
      chmodSync(tmp, 0o1777);
      env = { ...process.env, HOME: home, TMPDIR: tmp };
      delete env.XDG_STATE_HOME;
    });

    /** Writes a file as another user would: owned by uid 65534. */
    const plant = (path: string, content: string): void => {
      writeFileSync(path, content);
      chownSync(path, NOBODY, NOBODY);
    };

    it('keeps the default spool and log in a 0700 folder of the user, never in the temporary folder', async function () {
      if (existsSync('/data/components/apps')) this.skip(); // on an appliance the app folder is the default
      let workDirs: { name: string; mode: number }[] = [];
      receiver.onRequest = () => {
        workDirs = readdirSync(tmp).map((name) => ({ name, mode: mode(join(tmp, name)) }));
      };
      const result = await run(['url', receiver.url, 'secret-file', secretFile], 'event\n', env);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(receiver.requests.map((r) => r.body.toString()), ['event\n']);

      const base = join(home, '.local', 'state', 'flowmon-forward');
      for (const folder of [base, join(base, 'spool'), join(base, 'spool', 'pending'), join(base, 'spool', 'rejected'), join(base, 'spool', 'tmp')]) {
        assert.equal(mode(folder), 0o700, folder);
      }
      assert.equal(mode(join(base, 'flowmon-forward.log')), 0o600);
      assert.match(readFileSync(join(base, 'flowmon-forward.log'), 'utf8'), /delivered \(6 bytes, HTTP 200\)/);
      // While it ran, the only thing in the temporary folder was its own mktemp -d work folder, 0700.
      assert.equal(workDirs.length, 1, JSON.stringify(workDirs));
      assert.match(workDirs[0].name, /^flowmon-forward\.[A-Za-z0-9]{6}$/);
      assert.equal(workDirs[0].mode, 0o700);
      assert.deepEqual(readdirSync(tmp), []);
    });

    it('uses $XDG_STATE_HOME for the defaults when it is set', async function () {
      if (existsSync('/data/components/apps')) this.skip();
      const state = join(dir, 'state');
      const result = await run(['url', receiver.url, 'secret-file', secretFile], 'event\n', { ...env, XDG_STATE_HOME: state });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(mode(join(state, 'flowmon-forward', 'spool', 'pending')), 0o700);
      assert.ok(existsSync(join(state, 'flowmon-forward', 'flowmon-forward.log')));
      assert.ok(!existsSync(join(home, '.local')));
      assert.deepEqual(readdirSync(tmp), []);
    });

    it('without a private folder for the defaults, sends the batch from memory and writes nothing to the temporary folder', async function () {
      if (existsSync('/data/components/apps')) this.skip();
      const noHome = { ...env };
      delete noHome.HOME;
      const result = await run(['url', receiver.url, 'secret-file', secretFile], 'event\n', noHome);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(receiver.requests.length, 1);
      assert.match(result.stderr, /no private folder for the defaults/);
      assert.match(result.stderr, /not spooled; it is only in memory/);
      assert.deepEqual(readdirSync(tmp), []);
    });

    it('does not deliver a batch another user planted where the default spool used to be (the shared temporary folder)', async function () {
      if (existsSync('/data/components/apps')) this.skip();
      const old = join(tmp, 'flowmon-forward-spool');
      for (const folder of [old, join(old, 'pending')]) {
        mkdirSync(folder);
        chmodSync(folder, 0o777);
        chownSync(folder, NOBODY, NOBODY);
      }
      plant(join(old, 'pending', '1-1.batch'), '1\t2024-01-01 10:00:00\tSCANS\t192.0.2.66\n');
      const result = await run(['url', receiver.url, 'secret-file', secretFile], 'real\n', env);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(receiver.requests.map((r) => r.body.toString()), ['real\n']);
    });

    it('never sends a pending batch owned by another user, a symbolic link or a folder: moves it to rejected/ and logs it', async () => {
      const pending = join(spool, 'pending');
      mkdirSync(pending, { recursive: true, mode: 0o700 });
      plant(join(pending, '1-1.batch'), 'planted\t192.0.2.66\n');
      const target = join(dir, 'target');
      writeFileSync(target, 'planted through a link\t192.0.2.67\n');
      symlinkSync(target, join(pending, '1-2.batch'));
      mkdirSync(join(pending, '1-3.batch'));

      const result = await run(baseArgs(receiver.url), 'real\n');
      assert.equal(result.code, 0, log());
      assert.deepEqual(receiver.requests.map((r) => r.body.toString()), ['real\n']);
      assert.deepEqual(pendingFiles(), []);
      const rejected = rejectedFiles().sort();
      assert.equal(rejected.length, 3, rejected.join());
      assert.ok(rejected.every((name, i) => name.startsWith(`1-${i + 1}.batch.`) && name.endsWith('.unsafe')), rejected.join());
      assert.equal(lstatSync(join(spool, 'rejected', rejected[0])).uid, NOBODY);
      assert.ok(lstatSync(join(spool, 'rejected', rejected[1])).isSymbolicLink());
      assert.match(log(), /batch 1-1\.batch NOT SENT: it is a file of uid 65534, not a regular file of uid 0/);
      assert.match(log(), /batch 1-2\.batch NOT SENT: it is a symbolic link of uid 0/);
      assert.match(log(), /batch 1-3\.batch NOT SENT: it is a folder of uid 0/);

      const again = await run(baseArgs(receiver.url), '');
      assert.equal(again.code, 0);
      assert.equal(receiver.requests.length, 1);
    });

    it('changes a spool of ours that group or others may write to into 0700 before using it', async () => {
      mkdirSync(join(spool, 'pending'), { recursive: true });
      chmodSync(spool, 0o770);
      chmodSync(join(spool, 'pending'), 0o777);
      const result = await run(baseArgs(receiver.url), 'event\n');
      assert.equal(result.code, 0, log());
      assert.equal(receiver.requests.length, 1);
      assert.equal(mode(spool), 0o700);
      assert.equal(mode(join(spool, 'pending')), 0o700);
      assert.match(log(), /'[^']*\/spool' was writable by group or others; changed to mode 0700/);
      assert.match(log(), /'[^']*\/spool\/pending' was writable by group or others; changed to mode 0700/);
    });

    it('refuses a spool that belongs to another user: reads nothing from it, sends the batch from memory (exit 5) or reports it lost (exit 4)', async () => {
      mkdirSync(join(spool, 'pending'), { recursive: true, mode: 0o700 });
      writeFileSync(join(spool, 'pending', '1-1.batch'), 'planted\t192.0.2.66\n');
      chownSync(spool, NOBODY, NOBODY);

      const result = await run(baseArgs(receiver.url), 'mine\n');
      assert.equal(result.code, 5, log());
      assert.deepEqual(receiver.requests.map((r) => r.body.toString()), ['mine\n']);
      assert.deepEqual(pendingFiles(), ['1-1.batch']);
      assert.match(log(), /spool REFUSED: '[^']*\/spool' belongs to uid 65534, not to uid 0 that runs this script/);
      assert.match(log(), /this batch \(5 bytes\) is not spooled; it is only in memory/);

      const down = await run([...baseArgs(await deadUrl()), 'retries', '0'], 'mine too\n');
      assert.equal(down.code, 4);
      assert.match(log(), /batch of 9 bytes LOST/);
      assert.deepEqual(pendingFiles(), ['1-1.batch']);
      assert.equal(receiver.requests.length, 1);
    });

    it('refuses an explicit spool-dir that is a symbolic link of another user', async () => {
      const real = join(dir, 'real-spool');
      mkdirSync(join(real, 'pending'), { recursive: true, mode: 0o700 });
      writeFileSync(join(real, 'pending', '1-1.batch'), 'planted\t192.0.2.66\n');
      symlinkSync(real, spool);
      lchownSync(spool, NOBODY, NOBODY);
      const result = await run(baseArgs(receiver.url), 'mine\n');
      assert.equal(result.code, 5, log());
      assert.deepEqual(receiver.requests.map((r) => r.body.toString()), ['mine\n']);
      assert.match(log(), /spool REFUSED: '[^']*\/spool' is a symbolic link that belongs to uid 65534/);
    });
  });

  describe('over HTTPS', () => {
    const leaf = new X509Certificate(readFileSync(join(tlsDir, 'localhost.crt')));
    const pubkeyPin = 'sha256//' + createHash('sha256').update(leaf.publicKey.export({ type: 'spki', format: 'der' })).digest('base64');

    beforeEach(async () => {
      await receiver.stop();
      receiver = await new Receiver().start(true);
    });

    it('verifies the receiver with ca-file', async () => {
      const result = await run([...baseArgs(receiver.url), 'ca-file', join(tlsDir, 'ca.crt')], 'tls\n');
      assert.equal(result.code, 0, log());
      assert.equal(receiver.requests[0].body.toString(), 'tls\n');
    });

    it('refuses a receiver whose certificate is not signed by a trusted CA, keeping the batch', async () => {
      const result = await run(baseArgs(receiver.url), 'tls\n');
      assert.equal(result.code, 1);
      assert.equal(receiver.requests.length, 0);
      assert.match(log(), /curl exit 60/);
    });

    it('accepts the certificate SHA-256 fingerprint (checked with openssl, then pinned)', async () => {
      const result = await run([...baseArgs(receiver.url), 'fingerprint', leaf.fingerprint256.toLowerCase()], 'pinned\n');
      assert.equal(result.code, 0, log());
      assert.equal(receiver.requests[0].body.toString(), 'pinned\n');
    });

    it('accepts a curl public-key pin', async () => {
      const result = await run([...baseArgs(receiver.url), 'fingerprint', pubkeyPin], 'pinned\n');
      assert.equal(result.code, 0, log());
      assert.equal(receiver.requests.length, 1);
    });

    it('sends nothing when the fingerprint does not match', async () => {
      const wrong = 'AB'.repeat(32);
      const result = await run([...baseArgs(receiver.url), 'fingerprint', wrong], 'pinned\n');
      assert.equal(result.code, 1);
      assert.equal(receiver.requests.length, 0);
      assert.match(log(), /fingerprint check FAILED/);
      assert.equal(pendingFiles().length, 1);
    });
  });
});
