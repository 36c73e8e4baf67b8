// The ADS event node's own HTTP endpoint, served by a real HTTP server in front of the node's RED.httpNode: refusals
// before the body is read, byte caps, bounded JSON, exactly one answer per request, and no shared secret anywhere.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import express from 'express';
import helper = require('node-red-node-test-helper');
import sinon from 'sinon';
import adsEventNode = require('../../../nodes/flowmon-ads-event/flowmon-ads-event');
import { IntakeLedger } from '../../../lib/intake/ledger';
import { IntakeTracker } from '../../../lib/intake/tracker';
import { fromNodeRed, nodeRedPath } from '../../support/node-red-path';
import { closeIntakes } from '../../../lib/intake';
import { JournalStore } from '../../../lib/store/journal-store';
import { FakeIntakeBackend, orphan } from '../intake/fake-backend';
import { StoreUnavailableError } from '../../../lib/store';
import { adsNodeFlow, Captured, captureOutputs, failNextSend } from './ads-node';
import { openEndpoint, type EndpointHandlers } from '../../../nodes/flowmon-ads-event/http-endpoint';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

helper.init(nodeRedPath);

const PATH = '/flowmon/ads';
const SECRET = 'http-intake-secret-7Qx2';
const CEF = 'CEF:0|Flowmon Networks|Flowmon ADS|13.00.00|SSHDICT|SSH attack|8|src=10.0.0.1 dst=10.0.0.2';
const MiB = 1024 * 1024;


interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: any;
  /** Bytes of the request body the client had handed to its socket when the answer came. */
  sent: number;
}

/** The server's application, laid out as Node-RED's red.js does: the admin app (with its body parsers), then httpNode. */
let rootApp: express.Express | undefined;
let server: Server | undefined;
let port = 0;
/** bytesRead of every server-side socket once it closed. */
let socketsRead: number[] = [];
const liveSockets = new Set<Socket>();

/**
 * The node module as Node-RED loads it, with the runtime's message hooks (the intake journal needs them), and its
 * RED.httpNode mounted behind an admin application that parses JSON and form bodies, both on '/', as red.js does by
 * default.
 */
function nodeModule(RED: any): void {
  const admin = express();
  admin.use(express.json({ limit: '5mb' }));
  admin.use(express.urlencoded({ limit: '5mb', extended: true }));
  rootApp = express();
  rootApp.use('/', admin);
  rootApp.use('/', RED.httpNode);
  const red = Object.create(RED);
  // The hooks of the Node-RED under test (its message routing fires them), not the dev dependency's copy.
  red.hooks = fromNodeRed<{ hooks: unknown }>('@node-red/util').hooks;
  adsEventNode(red);
}

async function load(config: Record<string, unknown> = {}, secret: string | undefined = SECRET): Promise<Captured> {
  await helper.load(nodeModule as never, adsNodeFlow({ path: PATH, maxBody: 8 * MiB, ...config }), secret === undefined ? {} : { n1: { secret } });
  return captureOutputs();
}

async function settle(captured: Captured, receipts: number): Promise<void> {
  for (let i = 0; i < 400 && captured.receipts.length < receipts; i++) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 20));
}

function parseBody(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

async function post(body: string, headers: Record<string, string> = {}, secret: string | null = SECRET): Promise<Reply> {
  const all: Record<string, string> = { 'Content-Type': 'text/plain', ...headers };
  if (secret !== null) all['X-ADS-Secret'] = secret;
  const res = await fetch(`http://127.0.0.1:${port}${PATH}`, { method: 'POST', headers: all, body });
  return { status: res.status, headers: { connection: res.headers.get('connection') ?? undefined }, body: parseBody(await res.text()), sent: Buffer.byteLength(body) };
}

/**
 * POSTs `total` bytes in 64 KiB chunks made on demand (nothing is held in memory), honouring back-pressure, and stops
 * writing once the answer has come. `chunked` leaves out the Content-Length.
 */
function streamPost(total: number, headers: Record<string, string>, chunked = false): Promise<Reply> {
  const chunk = Buffer.alloc(64 * 1024, 'a');
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const all: Record<string, string> = { 'Content-Type': 'text/plain', ...headers };
    if (!chunked) all['Content-Length'] = String(total);
    const req = request({ host: '127.0.0.1', port, path: PATH, method: 'POST', headers: all });
    req.on('response', (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      const done = () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parseBody(text), sent });
      res.on('end', done);
      res.on('error', done);
    });
    req.on('error', (err) => {
      if (!answered) reject(new Error(`no answer after ${sent} bytes: ${err.message}`));
    });
    const pump = (): void => {
      while (!answered && sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!answered) req.end();
    };
    pump();
  });
}

/** Everything the server wrote on one connection for one request (the client asks it to close afterwards). */
async function rawExchange(body: string, headers: Record<string, string>): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const head = Object.entries({ Host: '127.0.0.1', 'Content-Length': String(Buffer.byteLength(body)), Connection: 'close', ...headers })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  // Not end(): a half-closed client may lose its answer. The server closes after answering (Connection: close).
  socket.write(`POST ${PATH} HTTP/1.1\r\n${head}\r\n${body}`);
  let text = '';
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => (text += d));
  await once(socket, 'close');
  return text;
}

async function serverBytesRead(): Promise<number> {
  for (let i = 0; i < 200 && liveSockets.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
  return Math.max(0, ...socketsRead);
}

function nodeCalls(method: 'error' | 'warn' | 'log'): any[][] {
  const spy = (helper.getNode('n1') as any)[method] as sinon.SinonSpy;
  return spy.getCalls().map((c) => c.args);
}

function deepArray(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

describe('flowmon-ads-event node: its own HTTP endpoint', function () {
  this.timeout(60000);
  let userDir: string;

  beforeEach(async () => {
    userDir = mkdtempSync(join(tmpdir(), 'ads-http-'));
    helper.settings({ userDir });
    await new Promise<void>((resolve) => helper.startServer(() => resolve()));
    socketsRead = [];
    server = createServer((req, res) => {
      if (!rootApp) throw new Error('the node API has not been loaded');
      rootApp(req, res);
    });
    server.on('connection', (socket) => {
      liveSockets.add(socket);
      socket.on('close', () => {
        liveSockets.delete(socket);
        socketsRead.push(socket.bytesRead);
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });

  afterEach(async () => {
    sinon.restore();
    await helper.unload();
    await closeIntakes();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
    helper.settings({});
    rmSync(userDir, { recursive: true, force: true });
  });

  it('takes a batch: events and rejects on outputs 1 and 2, the receipt to the client and on output 3 without the request', async () => {
    const captured = await load();
    const reply = await post(`${CEF}\njunk\n`);
    await settle(captured, 1);
    assert.equal(reply.status, 202);
    assert.deepEqual(reply.body, { accepted: 1, rejected: 1, filtered: 0 });
    assert.equal(captured.events.length, 1);
    assert.equal(captured.rejects[0].payload.lineNumber, 2);
    assert.equal(captured.receipts.length, 1);
    const [receipt] = captured.receipts;
    assert.equal(receipt.statusCode, 202);
    assert.deepEqual(receipt.payload, { accepted: 1, rejected: 1, filtered: 0 });
    assert.equal(receipt.req, undefined);
    assert.equal(receipt.res, undefined);
    assert.equal(receipt.headers, undefined);
  });

  it('answers 401 to a wrong or missing secret before reading the body: 200 MB streamed, a few chunks read', async () => {
    const captured = await load();
    const started = performance.now();
    const reply = await streamPost(200 * 1000 * 1000, { 'X-ADS-Secret': 'guess' });
    const ms = performance.now() - started;
    const read = await serverBytesRead();
    assert.equal(reply.status, 401);
    assert.equal(reply.headers.connection, 'close');
    assert.deepEqual(reply.body, { accepted: 0, rejected: 0, filtered: 0, error: 'wrong or missing shared secret' });
    assert.ok(read < 1 * MiB, `the server read ${read} bytes of a 200 MB body before its 401`);
    console.log(`      401 after ${read} bytes read by the server (client had written ${reply.sent}) in ${ms.toFixed(0)} ms`);

    const missing = await streamPost(50 * 1000 * 1000, {}, true);
    assert.equal(missing.status, 401);
    assert.ok((await serverBytesRead()) < 1 * MiB);
    // JSON and form bodies too: the admin application's body parsers in front leave them alone.
    for (const type of ['application/json', 'application/x-www-form-urlencoded']) {
      socketsRead = [];
      const typed = await streamPost(200 * 1000 * 1000, { 'Content-Type': type, 'X-ADS-Secret': 'guess' });
      const typedRead = await serverBytesRead();
      assert.equal(typed.status, 401, type);
      assert.ok(typedRead < 1 * MiB, `${type}: the server read ${typedRead} bytes before its 401`);
    }
    await settle(captured, 4);
    assert.deepEqual(
      captured.receipts.map((m) => m.statusCode),
      [401, 401, 401, 401],
    );
    assert.equal(captured.events.length, 0);
    // Still serving.
    assert.equal((await post(CEF)).status, 202);
  });

  for (const [label, secret] of [
    ['empty', ''],
    ['blank', '   '],
    ['an unset variable', '${FLOWMON_TEST_UNSET_SECRET_2}'],
  ] as const) {
    it(`refuses every request with 401 when the configured secret is ${label}, and says so once`, async () => {
      delete process.env.FLOWMON_TEST_UNSET_SECRET_2;
      const captured = await load({}, secret);
      const deployErrors = nodeCalls('error').length;
      assert.equal(deployErrors, 1, 'one error at deploy');
      assert.match(String(nodeCalls('error')[0][0]), /refused \(401\)/);
      for (const given of [null, '', '   ', secret]) {
        const reply = await post(CEF, {}, given);
        assert.equal(reply.status, 401, `header ${JSON.stringify(given)}`);
        assert.equal(reply.body.accepted, 0);
      }
      await settle(captured, 4);
      assert.equal(captured.events.length, 0);
      assert.equal(nodeCalls('error').length, 1, 'not logged again per request');
    });
  }

  it('answers 413 to a declared Content-Length over Max. body without reading it', async () => {
    const captured = await load({ maxBody: 1 * MiB });
    const reply = await streamPost(30 * MiB, { 'X-ADS-Secret': SECRET });
    const read = await serverBytesRead();
    assert.equal(reply.status, 413);
    assert.equal(reply.headers.connection, 'close');
    assert.match(reply.body.error, /body of 31457280 bytes is over the limit of 1048576 bytes/);
    assert.ok(read < 1 * MiB, `read ${read}`);
    await settle(captured, 1);
    assert.equal(captured.receipts[0].statusCode, 413);
  });

  it('answers 413 the moment a chunked body passes Max. body, and stops reading', async () => {
    const captured = await load({ maxBody: 1 * MiB });
    const reply = await streamPost(40 * MiB, { 'X-ADS-Secret': SECRET }, true);
    const read = await serverBytesRead();
    assert.equal(reply.status, 413);
    assert.equal(reply.headers.connection, 'close');
    assert.match(reply.body.error, /passed the limit of 1048576 bytes/);
    assert.ok(read < 2 * MiB, `read ${read} bytes of a 40 MiB chunked body with a 1 MiB cap`);
    console.log(`      chunked 413 after ${read} bytes read (cap 1 MiB, client wrote ${reply.sent})`);
    await settle(captured, 1);
    assert.equal(captured.events.length, 0);
    assert.equal((await post(CEF)).status, 202, 'still serving');
  });

  it('answers 400 with a reason to 100,000-deep JSON and text bodies, and keeps serving', async () => {
    const captured = await load();
    const json = await post(deepArray(100_000), { 'Content-Type': 'application/json' });
    assert.equal(json.status, 400);
    assert.match(json.body.error, /^no usable event: JSON nested deeper than 8 levels/, 'the answer gives the reason');
    await settle(captured, 1);
    assert.match(captured.rejects[0].payload.reason, /JSON nested deeper than 8 levels/);
    assert.ok(captured.rejects[0].payload.line.length <= 1025, 'the reject quotes only the start');

    // One line of 100,000 levels is longer than Max. line: rejected for its length, before any JSON is read.
    const object = await post(`${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`, { 'Content-Type': 'application/json' });
    assert.equal(object.status, 400);
    const unbalanced = await post('['.repeat(100_000));
    assert.equal(unbalanced.status, 400);

    // Lines: a deep JSON line within the line limit is rejected on its own; its neighbours go on.
    const text = await post(`${CEF}\n${deepArray(30_000)}\n${'{"x":'.repeat(10_000)}1${'}'.repeat(10_000)}\n${CEF}\n`);
    assert.equal(text.status, 202);
    assert.deepEqual(text.body, { accepted: 2, rejected: 2, filtered: 0 });
    await settle(captured, 4);
    const reasons = captured.rejects.map((m) => m.payload.reason as string);
    assert.deepEqual(
      reasons.map((r) => r.replace(/\d+/g, 'N')),
      [
        'JSON nested deeper than N levels: ADS events are flat objects (at character N)',
        'line of N characters is longer than the limit of N',
        'line of N characters is longer than the limit of N',
        'JSON nested deeper than N levels: ADS events are flat objects',
        'JSON nested deeper than N levels: ADS events are flat objects',
      ],
    );
    assert.equal((await post(CEF)).status, 202);
  });

  it('answers 413 to a JSON array of 11,000 items after counting, and sends nothing', async () => {
    const captured = await load();
    const items = Array.from({ length: 11_000 }, (_, i) => `{"id":${i},"timestamp":"2025-03-10 09:15:00","type":"SCANS","source":"192.0.2.1"}`);
    const reply = await post(`[${items.join(',')}]`, { 'Content-Type': 'application/json' });
    assert.equal(reply.status, 413);
    assert.match(reply.body.error, /more than 10000 items in one JSON array, over the limit of 10000/);
    await settle(captured, 1);
    assert.equal(captured.events.length + captured.rejects.length, 0);
  });

  it('answers 503 exactly once when the journal cannot be written, and reports it to a Catch node without the secret', async () => {
    const captured = await load();
    sinon.stub(IntakeLedger.prototype, 'record').rejects(new Error('disk full'));
    const wire = await rawExchange(`${CEF}\n`, { 'X-ADS-Secret': SECRET, 'Content-Type': 'text/plain' });
    assert.equal(wire.match(/HTTP\/1\.1 \d{3}/g)?.length, 1, wire);
    assert.match(wire, /^HTTP\/1\.1 503/);
    assert.match(wire, /intake journal could not be written \(disk full\)/);
    await settle(captured, 1);
    assert.equal(captured.events.length, 0);
    assert.deepEqual(
      captured.receipts.map((m) => m.statusCode),
      [503],
    );
    const errors = nodeCalls('error');
    assert.equal(errors.length, 1);
    assert.match(errors[0][0], /intake journal could not be written/);
    assert.equal(errors[0][1].statusCode, 503, 'with a message, so a Catch node sees it');
    assert.ok(!JSON.stringify(errors).includes(SECRET));
  });

  it('answers 503 with "send again later" and a red "503 store unreachable" status when the shared store cannot be reached', async () => {
    const captured = await load();
    sinon.stub(IntakeLedger.prototype, 'record').rejects(new StoreUnavailableError());
    const reply = await post(`${CEF}\n`);
    assert.equal(reply.status, 503);
    assert.equal(reply.body.error, 'events not accepted: the shared store (PostgreSQL) cannot be reached; send again later');
    await settle(captured, 1);
    assert.equal(captured.events.length, 0);
    assert.deepEqual(captured.receipts.map((m) => [m.statusCode, m.payload.error]), [[503, reply.body.error]]);
    const status = ((helper.getNode('n1') as any).status as sinon.SinonSpy).lastCall.args[0];
    assert.equal(status.fill, 'red');
    assert.equal(status.shape, 'ring');
    assert.match(status.text, /^503 store unreachable · /);
    assert.match(nodeCalls('error')[0][0], /shared store \(PostgreSQL\) cannot be reached/);
  });

  it('sends events taken over from another instance once, marked replayed, and settles them when done', async () => {
    const backend = new FakeIntakeBackend();
    sinon.stub(JournalStore.prototype, 'openIntake').returns(backend as unknown as ReturnType<JournalStore['openIntake']>);
    const captured = await load();
    helper.getNode('events').on('input', (_msg: unknown, _send: unknown, done: () => void) => done());
    backend.takeOver([orphan('t-1', 'n1', '10.0.0.7'), orphan('t-2', 'n1', '10.0.0.8'), orphan('t-3', 'elsewhere', '10.0.0.9')]);
    backend.takeOverAll([orphan('t-1', 'n1', '10.0.0.7')]); // offered twice: sent once
    for (let i = 0; i < 100 && backend.settled.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(captured.events.map((m) => [m.payload.source, m.replayed, m._flowmonIntake]), [
      ['10.0.0.7', true, 't-1'],
      ['10.0.0.8', true, 't-2'],
    ]);
    assert.equal(captured.receipts.length, 0, 'no receipt for a replay');
    assert.deepEqual(backend.settled.sort(), ['t-1', 't-2'], 'settled once the wired nodes completed');
    assert.match(nodeCalls('warn')[0][0], /sending again 2 event\(s\) accepted by another instance/);
  });

  it('answers 500 exactly once when something unexpected throws, and keeps serving', async () => {
    const captured = await load();
    failNextSend('unexpected failure');
    const wire = await rawExchange(`${CEF}\n`, { 'X-ADS-Secret': SECRET });
    assert.equal(wire.match(/HTTP\/1\.1 \d{3}/g)?.length, 1, wire);
    assert.match(wire, /^HTTP\/1\.1 500/);
    assert.match(wire, /internal error in the ADS event node/);
    assert.ok(!wire.includes('unexpected failure'), 'the details stay in the log');
    await settle(captured, 1);
    assert.deepEqual(
      captured.receipts.map((m) => m.statusCode),
      [500],
    );
    assert.match(nodeCalls('error')[0][0], /unexpected failure/);
    assert.equal((await post(CEF)).status, 202);
  });

  it('answers 500 once when something throws while the body is being read, and keeps serving', async () => {
    const captured = await load({ maxBody: 1 * MiB });
    failNextSend('receipt output failed');
    const reply = await streamPost(5 * MiB, { 'X-ADS-Secret': SECRET }, true);
    assert.equal(reply.status, 500);
    assert.equal(reply.headers.connection, 'close');
    await settle(captured, 1);
    assert.deepEqual(
      captured.receipts.map((m) => m.statusCode),
      [500],
    );
    assert.match(nodeCalls('error')[0][0], /receipt output failed/);
    assert.equal((await post(CEF)).status, 202);
  });

  it('never answers twice: a failure after the answer is only logged', async () => {
    const captured = await load();
    sinon.stub(IntakeTracker.prototype, 'sent').throws(new Error('after the answer'));
    const wire = await rawExchange(`${CEF}\n`, { 'X-ADS-Secret': SECRET });
    assert.equal(wire.match(/HTTP\/1\.1 \d{3}/g)?.length, 1, wire);
    assert.match(wire, /^HTTP\/1\.1 202/);
    await settle(captured, 1);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(
      captured.receipts.map((m) => m.statusCode),
      [202],
    );
    assert.match(nodeCalls('error')[0][0], /after the answer/);
  });

  it('keeps the shared secret out of every output, the log and the errors', async () => {
    const captured = await load();
    sinon.stub(IntakeLedger.prototype, 'record').onSecondCall().rejects(new Error('disk full')).callThrough();
    await post(`${CEF}\n{"not":"an event"}\n`);
    await post(`${CEF}\n`);
    await post(`${CEF}\n`, {}, `${SECRET}-wrong`);
    await settle(captured, 3);
    assert.deepEqual(
      captured.receipts.map((m) => m.statusCode),
      [202, 503, 401],
    );
    const everything = JSON.stringify({
      captured,
      error: nodeCalls('error'),
      warn: nodeCalls('warn'),
      log: nodeCalls('log'),
      status: ((helper.getNode('n1') as any).status as sinon.SinonSpy).getCalls().map((c) => c.args),
    });
    assert.ok(everything.includes('disk full'), 'the 503 is in what was searched');
    assert.ok(!everything.includes(SECRET), 'the shared secret leaked');
  });

  it('removes its route on close: the path answers 404 afterwards', async () => {
    await load();
    assert.equal((await post(CEF)).status, 202);
    await helper.unload();
    const reply = await post(CEF);
    assert.equal(reply.status, 404);
  });
});

describe('flowmon-ads-event node: route removal on express 4 and 5', () => {
  const handlers = {} as EndpointHandlers;
  type Layer = { route?: { path: string; stack: Array<{ handle: unknown }> } };

  /** An app shaped like express's: routes in `stack`, found at `_router` (express 4) or `router` (express 5). */
  function app(express: 4 | 5, stack: Layer[]) {
    const target = {
      post(path: string, handle: unknown) {
        stack.push({ route: { path, stack: [{ handle }] } });
      },
    };
    if (express === 4) {
      Object.defineProperty(target, '_router', { value: { stack } });
      Object.defineProperty(target, 'router', {
        get() {
          throw new Error("'app.router' is deprecated!");
        },
      });
    } else Object.defineProperty(target, 'router', { get: () => ({ stack }) });
    return target;
  }

  for (const express of [4, 5] as const) {
    it(`removes only its own route from the router of express ${express}`, () => {
      const other: Layer = { route: { path: PATH, stack: [{ handle: () => undefined }] } };
      const stack: Layer[] = [{}, other];
      const close = openEndpoint(app(express, stack), PATH, MiB, handlers);
      assert.equal(stack.length, 3);
      close();
      assert.deepEqual(stack, [{}, other], 'a route of another node on the same path stays');
    });
  }
});
