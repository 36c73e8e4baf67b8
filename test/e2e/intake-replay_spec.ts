// A 202 receipt means "will be processed": events accepted before a crash (SIGKILL) that had not finished their way
// through the flow are sent again after the restart; events that had finished are not.
import assert = require('node:assert/strict');
import { NodeRed } from './support/node-red';

const line = (id: number, source: string) =>
  [String(id), '2026-11-22 10:00:00', '2026-11-22 09:59:00', 'SCANS', 'Port scan', 'Security issues', 'High', 'detail',
    '22', 'TCP', source, ' ', '198.51.100.1', 'LAN', ' '].join('\t');

function flow(): Record<string, unknown>[] {
  // Each parser serves its own path (HTTP requests need the shared secret).
  const parser = (id: string, path: string, eventWires: string[]) => [
    { id, z: 't', type: 'flowmon-ads-event', format: 'auto', maxLineLength: 65536, maxEvents: 10000, path, credentials: { secret: SECRET }, wires: [eventWires, [], []] },
  ];
  return [
    { id: 't', type: 'tab', label: 'intake' },
    // Parser A: its events wait in a one-hour delay, so they are never finished when Node-RED is killed.
    ...parser('ads-a', '/a', ['hold', 'seen-a']),
    { id: 'hold', z: 't', type: 'delay', pauseType: 'delay', timeout: '1', timeoutUnits: 'hours', wires: [[]] },
    { id: 'seen-a', z: 't', type: 'debug', name: 'event A', console: true, tosidebar: false, complete: 'payload.source', targetType: 'msg', wires: [] },
    // Parser B: its events finish at once.
    ...parser('ads-b', '/b', ['seen-b']),
    { id: 'seen-b', z: 't', type: 'debug', name: 'event B', console: true, tosidebar: false, complete: 'payload.source', targetType: 'msg', wires: [] },
  ];
}

const SECRET = 'intake-replay-secret';
const count = (text: string, pattern: RegExp) => (text.match(new RegExp(pattern.source, 'g')) ?? []).length;

describe('intake journal: replay after a crash', function () {
  let nr: NodeRed;
  after(async () => nr?.dispose());

  it('sends again, after SIGKILL and restart, exactly the accepted events that had not finished', async () => {
    nr = await NodeRed.start();
    await nr.deployFlows(flow());
    const post = async (path: string, body: string) => {
      for (let i = 0; ; i++) {
        const res = await fetch(nr.baseUrl + path, { method: 'POST', body, headers: { 'content-type': 'text/plain', 'x-ads-secret': SECRET } });
        if (res.status !== 404 || i >= 50) return res; // the route appears once the deployed flow has started
        await new Promise((r) => setTimeout(r, 100));
      }
    };

    const a = await post('/a', [line(1, '192.0.2.1'), line(2, '192.0.2.2'), 'junk line'].join('\n') + '\n');
    assert.equal(a.status, 202);
    const b = await post('/b', [line(3, '192.0.2.3')].join('\n') + '\n');
    assert.equal(b.status, 202);
    await nr.waitForLog(/192\.0\.2\.3/);
    await nr.waitForLog(/192\.0\.2\.2/);

    await nr.kill9();
    const from = nr.log.length;
    await nr.restart();
    await nr.waitForLog(/sending again 2 event\(s\)/, 20000, from);
    await nr.waitForLog(/192\.0\.2\.2/, 10000, from);
    await new Promise((r) => setTimeout(r, 500));
    const after = nr.log.slice(from);
    assert.equal(count(after, /192\.0\.2\.1/), 1, 'unfinished event 1 sent again once');
    assert.equal(count(after, /192\.0\.2\.2/), 1, 'unfinished event 2 sent again once');
    assert.equal(count(after, /192\.0\.2\.3/), 0, 'a finished event is not sent again');
    console.log(`      intake replay: 2 unfinished events replayed, 1 finished event not replayed, 1 junk line never journaled`);
  });
});
