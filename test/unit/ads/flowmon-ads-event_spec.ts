import assert from 'node:assert/strict';
import helper = require('node-red-node-test-helper');
import adsEventNode = require('../../../nodes/flowmon-ads-event/flowmon-ads-event');
import { adsNodeFlow, Captured, captureOutputs, failNextSend } from './ads-node';
import { fixture } from './fixture';

helper.init(require.resolve('node-red'));


const CEF = 'CEF:0|Flowmon Networks|Flowmon ADS|13.00.00|SSHDICT|SSH attack|8|src=10.0.0.1 dst=10.0.0.2';

async function load(config: Record<string, unknown> = {}, secret?: string): Promise<Captured> {
  await helper.load(adsEventNode, adsNodeFlow(config), secret === undefined ? {} : { n1: { secret } });
  return captureOutputs();
}

/** Sends one message and resolves when its receipt (always the last message) has arrived. */
async function send(captured: Captured, msg: Record<string, unknown>): Promise<any> {
  const count = captured.receipts.length;
  helper.getNode('n1').receive(msg);
  for (let i = 0; i < 200 && captured.receipts.length === count; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(captured.receipts.length, count + 1, 'one receipt per input message');
  await new Promise((r) => setImmediate(r));
  return captured.receipts[count];
}

function lastStatus(): { fill: string; shape: string; text: string } {
  const status = helper.getNode('n1').status as unknown as { lastCall: { args: [any] } };
  return status.lastCall.args[0];
}

describe('flowmon-ads-event node', () => {
  beforeEach((done) => {
    helper.startServer(done);
  });
  afterEach(async () => {
    await helper.unload();
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
  });

  it('sends one message per event, one per rejected line and a 202 receipt that keeps req/res', async () => {
    const captured = await load({}, 's3cret');
    const req = { headers: { 'content-type': 'text/plain', 'x-ads-secret': 's3cret' } };
    const res = { marker: 'res' };
    const body = `${fixture('tsv-standard.tsv').toString()}junk line\n`;
    const receipt = await send(captured, { payload: body, req, res, _flowmonTrace: 'kept' });
    assert.equal(captured.events.length, 4);
    const [first] = captured.events;
    assert.equal(first.topic, '192.0.2.10');
    assert.equal(first.payload.method, 'SSHDICT');
    assert.equal(first.payload.userIdentity, 'CORP\\jdoe');
    assert.ok(captured.events.every((m) => m.req === undefined && m.res === undefined));
    assert.deepEqual(
      captured.rejects.map((m) => m.payload),
      [{ line: 'junk line', lineNumber: 5, reason: 'unknown format: neither tab-separated, JSON nor CEF' }],
    );
    assert.equal(receipt.statusCode, 202);
    assert.deepEqual(receipt.payload, { accepted: 4, rejected: 1, filtered: 0 });
    assert.equal(receipt.req, req);
    assert.equal(receipt.res, res);
    assert.equal(receipt._flowmonTrace, 'kept');
    assert.deepEqual(lastStatus(), { fill: 'yellow', shape: 'ring', text: '4 accepted / 1 rejected / 0 filtered' });
  });

  it('answers 400 when no line is usable, and adds the counts up in the status', async () => {
    const captured = await load();
    await send(captured, { payload: CEF });
    const receipt = await send(captured, { payload: 'nothing here\nnor here' });
    assert.equal(receipt.statusCode, 400);
    assert.deepEqual(receipt.payload, {
      accepted: 0,
      rejected: 2,
      filtered: 0,
      error: 'no usable event: line 1: unknown format: neither tab-separated, JSON nor CEF (and 1 more rejected line(s))',
    });
    assert.deepEqual(lastStatus(), { fill: 'red', shape: 'ring', text: '1 accepted / 2 rejected / 0 filtered' });
    const empty = await send(captured, { payload: '' });
    assert.equal(empty.statusCode, 400);
    assert.equal(captured.rejects.at(-1).payload.reason, 'empty body: no event lines');
  });

  it('answers 202 when every event was filtered, and counts them as filtered', async () => {
    const captured = await load({ minPriority: 'critical', excludeMethods: 'RDPDICT, sshdict' });
    const receipt = await send(captured, { payload: fixture('tsv-standard.tsv') });
    // SCANS (medium) is below critical; SSHDICT and RDPDICT are excluded; the manual DOS has no priority.
    assert.deepEqual(receipt.payload, { accepted: 1, rejected: 0, filtered: 3 });
    assert.equal(captured.events[0].payload.method, 'DOS');
    const onlyFiltered = await send(captured, { payload: fixture('tsv-extended.tsv') });
    assert.equal(onlyFiltered.statusCode, 202);
    assert.deepEqual(onlyFiltered.payload, { accepted: 0, rejected: 0, filtered: 2 });
    assert.deepEqual(lastStatus(), { fill: 'green', shape: 'dot', text: '1 accepted / 0 rejected / 5 filtered' });
  });

  it('takes a JSON body already parsed by an HTTP in node (object or array)', async () => {
    const captured = await load();
    const objects = JSON.parse(fixture('ads-array.json').toString()) as object[];
    const receipt = await send(captured, { payload: objects });
    assert.deepEqual(receipt.payload, { accepted: 2, rejected: 0, filtered: 0 });
    const single = await send(captured, { payload: objects[0] });
    assert.equal(single.statusCode, 202);
    assert.deepEqual(
      captured.events.map((m) => m.topic),
      ['10.10.9.31', '10.10.9.32', '10.10.9.31'],
    );
  });

  it('applies a forced format to every line', async () => {
    const captured = await load({ format: 'cef' });
    const receipt = await send(captured, { payload: `${CEF}\n${fixture('tsv-ids.tsv').toString()}` });
    assert.deepEqual(receipt.payload, { accepted: 1, rejected: 1, filtered: 0 });
    assert.equal(captured.rejects[0].payload.reason, 'no "CEF:" found');
  });

  it('answers 413 over the event limit and sends nothing else', async () => {
    const captured = await load({ maxEvents: 2 });
    const receipt = await send(captured, { payload: `${CEF}\n${CEF}\n${CEF}\n` });
    assert.equal(receipt.statusCode, 413);
    assert.equal(receipt.payload.accepted, 0);
    assert.match(receipt.payload.error, /over the limit of 2/);
    assert.equal(captured.events.length, 0);
    assert.equal(captured.rejects.length, 0);
    assert.match(lastStatus().text, /^413 over the limits/);
  });

  describe('shared secret', () => {
    it('accepts the right secret', async () => {
      const captured = await load({}, 's3cret');
      const receipt = await send(captured, { payload: CEF, req: { headers: { 'x-ads-secret': 's3cret' } }, res: {} });
      assert.equal(receipt.statusCode, 202);
      assert.equal(captured.events.length, 1);
    });

    it('refuses everything while the secret is an environment variable that is not set', async () => {
      delete process.env.FLOWMON_TEST_UNSET_SECRET;
      const captured = await load({}, '${FLOWMON_TEST_UNSET_SECRET}');
      const receipt = await send(captured, { payload: CEF, req: { headers: { 'x-ads-secret': '${FLOWMON_TEST_UNSET_SECRET}' } }, res: {} });
      assert.equal(receipt.statusCode, 401);
      assert.match(receipt.payload.error, /not configured/);
      assert.equal(captured.events.length, 0);
    });

    it('answers only 401 to a wrong secret', async () => {
      const captured = await load({}, 's3cret');
      const receipt = await send(captured, { payload: CEF, req: { headers: { 'x-ads-secret': 'guess' } }, res: {} });
      assert.equal(receipt.statusCode, 401);
      assert.deepEqual(receipt.payload, { accepted: 0, rejected: 0, filtered: 0, error: 'wrong or missing shared secret' });
      assert.equal(captured.events.length, 0);
      assert.equal(captured.rejects.length, 0);
      assert.deepEqual(lastStatus(), {
        fill: 'red',
        shape: 'ring',
        text: '401 wrong or missing secret · 0 accepted / 0 rejected / 0 filtered',
      });
    });

    it('answers only 401 when the header or the request is missing', async () => {
      const captured = await load({}, 's3cret');
      const noHeader = await send(captured, { payload: CEF, req: { headers: {} }, res: {} });
      const noRequest = await send(captured, { payload: CEF });
      assert.equal(noHeader.statusCode, 401);
      assert.equal(noRequest.statusCode, 401);
      assert.equal(captured.events.length, 0);
    });
  });

  describe('fail closed and secret hygiene on the message input', () => {
    for (const [label, secret] of [
      ['empty', ''],
      ['blank', '   '],
    ] as const) {
      it(`refuses a message carrying msg.req with 401 when the secret is ${label}, and logs that once`, async () => {
        const captured = await load({}, secret);
        for (const given of [undefined, '', '   ']) {
          const headers: Record<string, string> = given === undefined ? {} : { 'x-ads-secret': given };
          const receipt = await send(captured, { payload: CEF, req: { headers }, res: {} });
          assert.equal(receipt.statusCode, 401, `header ${JSON.stringify(given)}`);
          assert.match(receipt.payload.error, /no shared secret configured/);
        }
        assert.equal(captured.events.length, 0);
        const errors = (helper.getNode('n1').error as unknown as { callCount: number }).callCount;
        assert.equal(errors, 1, 'said once, not per request');
        assert.match(lastStatus().text, /^401 no secret configured/);
      });
    }

    it('takes messages without msg.req (UDP, inject) when no secret is configured', async () => {
      const captured = await load({}, '  ');
      const receipt = await send(captured, { payload: CEF });
      assert.equal(receipt.statusCode, 202);
      assert.equal(captured.events.length, 1);
      assert.equal((helper.getNode('n1').error as unknown as { callCount: number }).callCount, 0);
    });

    it('takes the secret header out of msg.req first: the receipt, rejects and errors never carry it', async () => {
      const captured = await load({}, 's3cret-Hygiene');
      const request = () => ({
        headers: { 'content-type': 'text/plain', 'x-ads-secret': 's3cret-Hygiene' },
        rawHeaders: ['Content-Type', 'text/plain', 'X-ADS-Secret', 's3cret-Hygiene', 'x-ads-secret', 's3cret-Hygiene'],
      });
      const ok = await send(captured, { payload: `${CEF}\njunk`, req: request(), res: {} });
      assert.equal(ok.statusCode, 202);
      assert.deepEqual(ok.req.headers, { 'content-type': 'text/plain' });
      assert.deepEqual(ok.req.rawHeaders, ['Content-Type', 'text/plain']);
      const wrong = await send(captured, { payload: CEF, req: { headers: { 'x-ads-secret': 's3cret-Hygiene-not' } }, res: {} });
      assert.equal(wrong.statusCode, 401);
      assert.deepEqual(wrong.req.headers, {});
      // An unexpected failure: one 500 receipt, and the error for a Catch node carries no secret either.
      failNextSend('output failed');
      const node = helper.getNode('n1') as any;
      const failed = await send(captured, { payload: CEF, req: request(), res: {} });
      assert.equal(failed.statusCode, 500);
      assert.match(failed.payload.error, /internal error/);
      const errorCalls = (node.error as unknown as { getCalls(): Array<{ args: unknown[] }> }).getCalls();
      assert.ok(errorCalls.some((c) => /output failed/.test(String(c.args[0]))), 'done(err) reached the node error');
      const everything = JSON.stringify({ captured, errors: errorCalls.map((c) => c.args) });
      assert.ok(!everything.includes('s3cret-Hygiene'), 'the shared secret leaked');
    });
  });

  describe('nesting', () => {
    function deepObject(depth: number): Record<string, unknown> {
      let value: Record<string, unknown> = { leaf: 1 };
      for (let i = 0; i < depth; i++) value = { a: value };
      return value;
    }

    it('answers 400 with a reason to a 100,000-deep object payload (core HTTP in in front), and keeps serving', async () => {
      const captured = await load();
      const receipt = await send(captured, { payload: deepObject(100_000) });
      assert.equal(receipt.statusCode, 400);
      assert.match(captured.rejects[0].payload.reason, /JSON nested deeper than 8 levels/);
      assert.ok(captured.rejects[0].payload.line.length < 100);
      assert.equal((await send(captured, { payload: CEF })).statusCode, 202);
    });

    it('rejects only the too-deep item of an array payload', async () => {
      const captured = await load();
      const objects = JSON.parse(fixture('ads-array.json').toString()) as object[];
      const receipt = await send(captured, { payload: [objects[0], deepObject(50_000), objects[1]] });
      assert.equal(receipt.statusCode, 202);
      assert.deepEqual(receipt.payload, { accepted: 2, rejected: 1, filtered: 0 });
      assert.equal(captured.rejects[0].payload.lineNumber, 2);
    });
  });

  it('warns about an unknown time zone and reads times in the host zone', async () => {
    await helper.load(adsEventNode, adsNodeFlow({ timeZone: 'Mars/Olympus' }));
    const warn = helper.getNode('n1').warn as unknown as { firstCall: { args: [string] } };
    assert.match(warn.firstCall.args[0], /unknown time zone "Mars\/Olympus"/);
  });
});
