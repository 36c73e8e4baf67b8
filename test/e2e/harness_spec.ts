// The end-to-end harness itself: deploy through the Admin API, environment pass-through, stop, crash and restart
// with the same userDir. Uses core nodes only, so it holds whatever state the package is in.
import assert = require('node:assert/strict');
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NodeRed } from './support/node-red';

function flow(mark: string): Record<string, unknown>[] {
  return [
    { id: 'tab1', type: 'tab', label: 'harness' },
    {
      id: 'inj', z: 'tab1', type: 'inject', once: true, onceDelay: 0.1, repeat: '', topic: mark,
      payload: 'E2E_MARK', payloadType: 'env', props: [{ p: 'payload' }, { p: 'topic', vt: 'str' }], wires: [['dbg']],
    },
    { id: 'dbg', z: 'tab1', type: 'debug', console: true, tosidebar: false, complete: 'true', targetType: 'full', wires: [] },
  ];
}

describe('end-to-end harness', function () {
  let nr: NodeRed;

  before(async () => {
    nr = await NodeRed.start({ env: { E2E_MARK: 'env passed through' } });
  });

  after(async () => {
    await nr?.dispose();
  });

  it('deploys a flow (v2, full) that runs with the environment passed through', async () => {
    const from = nr.log.length;
    const rev = await nr.deployFlows(flow('first'));
    const current = await nr.getFlows();
    assert.equal(current.rev, rev);
    assert.deepEqual(current.flows.map((n) => n.id).sort(), ['dbg', 'inj', 'tab1']);
    await nr.waitForLog(/env passed through/, 15000, from);
  });

  it('stops with SIGTERM, keeps the flows in the userDir and runs them again after a restart', async () => {
    assert.equal(await nr.stop(), 0);
    assert.equal(nr.running, false);
    assert.ok(existsSync(join(nr.userDir, 'flows.json')));
    const from = nr.log.length;
    await nr.restart();
    assert.equal(nr.running, true);
    await nr.waitForLog(/env passed through/, 15000, from);
    assert.deepEqual((await nr.getFlows()).flows.map((n) => n.id).sort(), ['dbg', 'inj', 'tab1']);
  });

  it('survives a crash (SIGKILL) and restarts on the same port', async () => {
    const port = nr.port;
    await nr.kill9();
    assert.equal(nr.running, false);
    await nr.restart();
    assert.equal(nr.port, port);
    assert.equal((await nr.request('GET', '/settings')).status, 200);
  });
});
