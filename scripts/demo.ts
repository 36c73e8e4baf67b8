// `npm start`: Node-RED with this package, the main example and "Ask a person before blocking" deployed against the
// built-in LoadMaster and CryptoSpike simulators, blocks that expire after BLOCK_TTL (2 minutes), and a stand-in chat
// webhook on 127.0.0.1 that prints each question about a held block with the curl commands that answer it.
// Ctrl+C stops everything.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative } from 'node:path';
import { startAppliances, type Appliances } from '../demo/appliances';
import { ASK_EXAMPLE, MAIN_EXAMPLE, mergeExamples } from '../demo/examples';
import { repoRoot } from '../demo/paths';
import { startWebhookReceiver, type Question } from '../demo/webhook-receiver';

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

async function deployExamples(baseUrl: string): Promise<void> {
  const headers = { 'Content-Type': 'application/json', 'Node-RED-API-Version': 'v2', 'Node-RED-Deployment-Type': 'full' };
  const current = (await (await fetch(`${baseUrl}/flows`, { headers })).json()) as { rev: string };
  const res = await fetch(`${baseUrl}/flows`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ rev: current.rev, flows: mergeExamples([MAIN_EXAMPLE, ASK_EXAMPLE]) }),
  });
  if (!res.ok) throw new Error(`deploying the examples failed: HTTP ${res.status} ${await res.text()}`);
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

/** The shell command that posts one answer to the example's decision endpoint (the secret read from its file). */
function curlAnswer(url: string, body: Record<string, string>, secretFile: string): string {
  return (
    `curl -s -X POST ${url} -H "X-Decision-Secret: $(cat ${secretFile})" -H 'Content-Type: application/json' ` +
    `-d '${JSON.stringify(body)}'`
  );
}

/** Prints a question the example sent to the chat webhook, with the commands that answer it. */
function printQuestion(q: Question, secretFile: string): void {
  const pad = ' '.repeat(10);
  console.log(`${new Date().toLocaleTimeString()}  Question    ${q.text}`);
  if (q.candidates?.length) {
    for (const c of q.candidates) {
      console.log(`${pad}approve, block ${c.username ?? c.userId}:  ${curlAnswer(q.approve.url, { ...q.approve.body, userId: c.userId }, secretFile)}`);
    }
  } else {
    console.log(`${pad}approve:  ${curlAnswer(q.approve.url, q.approve.body, secretFile)}`);
  }
  console.log(`${pad}discard:  ${curlAnswer(q.discard.url, q.discard.body, secretFile)}`);
}

async function main(): Promise<void> {
  // A fresh userDir each start: the simulators start empty too, so old registry entries would point at nothing.
  rmSync(DEMO_DIR, { recursive: true, force: true });
  const userDir = join(DEMO_DIR, 'node-red');
  mkdirSync(userDir, { recursive: true });
  const secret = randomBytes(18).toString('base64url');
  const decisionSecret = randomBytes(18).toString('base64url');
  const decisionSecretFile = join(DEMO_DIR, 'decision-secret');
  writeFileSync(decisionSecretFile, `${decisionSecret}\n`, { mode: 0o600 });
  const rel = (p: string): string => relative(process.cwd(), p) || '.';
  const appliances = await startAppliances({ blockTtl: BLOCK_TTL, secret });
  const webhook = await startWebhookReceiver((q) => printQuestion(q, rel(decisionSecretFile)));
  const reseed = setInterval(() => appliances.seedActivity(), SEED_EVERY_MS);
  const port = await firstFreePort(1880);
  const baseUrl = `http://127.0.0.1:${port}`;
  const decisionEnv = { DECISION_WEBHOOK_URL: webhook.url, DECISION_SECRET: decisionSecret, DECISION_BASE_URL: baseUrl };
  const logFile = join(DEMO_DIR, 'node-red.log');
  const log = openSync(logFile, 'a');
  const child = spawn(process.execPath, [join(repoRoot, 'node_modules', 'node-red', 'red.js'), '-u', userDir, '-s', writeSettings(userDir, port)], {
    cwd: userDir,
    env: { ...process.env, ...appliances.env, ...decisionEnv },
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
    await Promise.all([appliances.close(), webhook.close()]);
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
    await deployExamples(baseUrl);
  } catch (err) {
    console.error((err as Error).message);
    await stop(1);
    return;
  }

  const secretFile = join(DEMO_DIR, 'ads-secret');
  writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
  const adsUrl = `${baseUrl}/flowmon/ads`;
  const askUrl = `${baseUrl}/flowmon/ads-ask`;
  const decisionUrl = `${baseUrl}/flowmon/decision`;
  writeFileSync(DEMO_INFO, JSON.stringify({ editor: `${baseUrl}/`, adsUrl, askUrl, secret, blockTtl: BLOCK_TTL, pid: process.pid }, null, 2));
  console.log(`
Node-RED is running with @flowmon-response/node-red-flowmon and the examples "${MAIN_EXAMPLE}" and
"${ASK_EXAMPLE}".

  Editor:       ${baseUrl}/   (open the "Flowmon blocks" tab in the sidebar)
  ADS endpoint: POST ${adsUrl}   header X-ADS-Secret: ${secret}
  LoadMaster simulator:  ${appliances.loadMaster.url}   CryptoSpike simulator: ${appliances.cryptoSpike.url}
  Blocks expire after BLOCK_TTL=${BLOCK_TTL}. Node-RED log: ${rel(logFile)}

Send sample ADS events (TSV, JSON and CEF) from another terminal:

  npm run demo:send

or through the ADS forwarder script, as an appliance would:

  npx tsx -e "console.log(require('./demo/sample-events').tsvEvents())" | bash forwarder/flowmon-forward.sh url ${adsUrl} secret-file ${rel(secretFile)} spool-dir ${rel(join(DEMO_DIR, 'spool'))} log-file ${rel(join(DEMO_DIR, 'forward.log'))}

Ask a person: held blocks (over the storm cap, or two users at one source) become questions, POSTed to a stand-in
chat webhook that prints them here with the curl commands that answer them (POST ${decisionUrl},
header X-Decision-Secret from ${rel(decisionSecretFile)}):

  npm run demo:send -- ask

Press Ctrl+C to stop.
`);
  timers.push(watchAppliances(appliances));
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
