// `npm start`: Node-RED with this package, the main example deployed against the built-in LoadMaster and
// CryptoSpike simulators, blocks that expire after BLOCK_TTL (2 minutes). Ctrl+C stops everything.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative } from 'node:path';
import { startAppliances, type Appliances } from '../demo/appliances';
import { MAIN_EXAMPLE, readExample } from '../demo/examples';
import { repoRoot } from '../demo/paths';

export const DEMO_DIR = join(repoRoot, '.tmp', 'demo');
export const DEMO_INFO = join(DEMO_DIR, 'demo.json');
const BLOCK_TTL = process.env.BLOCK_TTL || '2m';
const SEED_EVERY_MS = 5 * 60_000;

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function firstFreePort(from: number): Promise<number> {
  for (let port = from; port < from + 100; port++) if (await portIsFree(port)) return port;
  throw new Error(`no free port in ${from}–${from + 99}`);
}

function writeSettings(userDir: string, port: number): string {
  const settings = {
    uiPort: port,
    uiHost: '127.0.0.1',
    flowFile: 'flows.json',
    credentialSecret: randomBytes(16).toString('hex'),
    nodesDir: [repoRoot],
    editorTheme: { tours: false },
    telemetry: { enabled: false },
    logging: { console: { level: 'info', metrics: false, audit: false } },
  };
  const file = join(userDir, 'settings.js');
  writeFileSync(file, `module.exports = ${JSON.stringify(settings, null, 2)};\n`);
  return file;
}

async function waitForEditor(baseUrl: string, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`Node-RED exited during start-up; see ${logFile}`);
    try {
      if ((await fetch(`${baseUrl}/settings`, { signal: AbortSignal.timeout(2000) })).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((ok) => setTimeout(ok, 250));
  }
  throw new Error(`Node-RED did not start within 60 s; see ${logFile}`);
}

async function deployMainExample(baseUrl: string): Promise<void> {
  const headers = { 'Content-Type': 'application/json', 'Node-RED-API-Version': 'v2', 'Node-RED-Deployment-Type': 'full' };
  const current = (await (await fetch(`${baseUrl}/flows`, { headers })).json()) as { rev: string };
  const res = await fetch(`${baseUrl}/flows`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ rev: current.rev, flows: readExample(MAIN_EXAMPLE) }),
  });
  if (!res.ok) throw new Error(`deploying the example failed: HTTP ${res.status} ${await res.text()}`);
}

/** Prints what changes on the simulated appliances, so the blocks and their expiry show in the terminal too. */
function watchAppliances(appliances: Appliances): NodeJS.Timeout {
  let addresses = new Set<string>();
  let users = new Set<string>();
  const stamp = (): string => new Date().toLocaleTimeString();
  return setInterval(() => {
    const nowAddresses = new Set(appliances.loadMaster.state.lists.block.map((e) => e.addr));
    const nowUsers = new Set(appliances.cryptoSpike.state.blockedUsers().map((u) => u.username));
    for (const a of nowAddresses) if (!addresses.has(a)) console.log(`${stamp()}  LoadMaster   + block ${a}`);
    for (const a of addresses) if (!nowAddresses.has(a)) console.log(`${stamp()}  LoadMaster   - block ${a} released`);
    for (const u of nowUsers) if (!users.has(u)) console.log(`${stamp()}  CryptoSpike  + user ${u} blocked`);
    for (const u of users) if (!nowUsers.has(u)) console.log(`${stamp()}  CryptoSpike  - user ${u} unblocked`);
    addresses = nowAddresses;
    users = nowUsers;
  }, 500);
}

async function main(): Promise<void> {
  // A fresh userDir each start: the simulators start empty too, so old registry entries would point at nothing.
  rmSync(DEMO_DIR, { recursive: true, force: true });
  const userDir = join(DEMO_DIR, 'node-red');
  mkdirSync(userDir, { recursive: true });
  const secret = randomBytes(18).toString('base64url');
  const appliances = await startAppliances({ blockTtl: BLOCK_TTL, secret });
  const reseed = setInterval(() => appliances.seedActivity(), SEED_EVERY_MS);
  const port = await firstFreePort(1880);
  const baseUrl = `http://127.0.0.1:${port}`;
  const logFile = join(DEMO_DIR, 'node-red.log');
  const log = openSync(logFile, 'a');
  const child = spawn(process.execPath, [join(repoRoot, 'node_modules', 'node-red', 'red.js'), '-u', userDir, '-s', writeSettings(userDir, port)], {
    cwd: userDir,
    env: { ...process.env, ...appliances.env },
    stdio: ['ignore', log, log],
  });

  let stopping = false;
  const timers = [reseed];
  const stop = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    timers.forEach(clearInterval);
    console.log('\nStopping Node-RED and the simulators …');
    if (child.exitCode === null) {
      const exited = new Promise((ok) => child.once('exit', ok));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    await appliances.close();
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  child.once('exit', (code) => {
    if (!stopping) {
      console.error(`Node-RED exited unexpectedly (code ${code}); see ${relative(process.cwd(), logFile)}`);
      void stop(1);
    }
  });

  try {
    await waitForEditor(baseUrl, child, logFile);
    await deployMainExample(baseUrl);
  } catch (err) {
    console.error((err as Error).message);
    await stop(1);
    return;
  }

  const secretFile = join(DEMO_DIR, 'ads-secret');
  writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
  const adsUrl = `${baseUrl}/flowmon/ads`;
  writeFileSync(DEMO_INFO, JSON.stringify({ editor: `${baseUrl}/`, adsUrl, secret, blockTtl: BLOCK_TTL, pid: process.pid }, null, 2));
  const rel = (p: string): string => relative(process.cwd(), p) || '.';
  console.log(`
Node-RED is running with @flowmon-response/node-red-flowmon and the example "${MAIN_EXAMPLE}".

  Editor:       ${baseUrl}/   (open the "Flowmon blocks" tab in the sidebar)
  ADS endpoint: POST ${adsUrl}   header X-ADS-Secret: ${secret}
  LoadMaster simulator:  ${appliances.loadMaster.url}   CryptoSpike simulator: ${appliances.cryptoSpike.url}
  Blocks expire after BLOCK_TTL=${BLOCK_TTL}. Node-RED log: ${rel(logFile)}

Send sample ADS events (TSV, JSON and CEF) from another terminal:

  npm run demo:send

or through the ADS forwarder script, as an appliance would:

  npx tsx -e "console.log(require('./demo/sample-events').tsvEvents())" | bash forwarder/flowmon-forward.sh url ${adsUrl} secret-file ${rel(secretFile)} spool-dir ${rel(join(DEMO_DIR, 'spool'))} log-file ${rel(join(DEMO_DIR, 'forward.log'))}

Press Ctrl+C to stop.
`);
  timers.push(watchAppliances(appliances));
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
