// All three example flows deployed together on a real Node-RED against the simulators: they start without errors,
// together use every non-config node type of the package, the inject nodes of the manual example block and release,
// and a CEF syslog datagram to the UDP example blocks its source.
import assert = require('node:assert/strict');
import { createSocket } from 'node:dgram';
import { startAppliances, type Appliances } from '../../demo/appliances';
import { exampleNames, readExample, type FlowNode } from '../../demo/examples';
import { cefEvents } from '../../demo/sample-events';
import { waitFor } from './support/main-example';
import { NodeRed } from './support/node-red';
import { PALETTE_CATEGORY } from './support/package-info';

const FLOW_NODE_TYPES = ['flowmon-ads-event', 'flowmon-loadmaster-acl', 'flowmon-cryptospike-user', 'flowmon-mitigation-ttl'];

async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((ok) => socket.bind(0, '127.0.0.1', ok));
  const { port } = socket.address();
  await new Promise<void>((ok) => socket.close(ok));
  return port;
}

describe('example flows (real Node-RED, simulators)', function () {
  this.timeout(90000);
  let appliances: Appliances;
  let nr: NodeRed;
  let udpPort: number;
  const all = new Map<string, FlowNode>();

  before(async () => {
    appliances = await startAppliances({ blockTtl: '10m' });
    nr = await NodeRed.start({ env: appliances.env });
    udpPort = await freeUdpPort();
    for (const name of exampleNames()) {
      for (const node of readExample(name)) {
        // Config nodes are shared between the examples (same id, same content), as an import would reuse them.
        if (all.has(node.id)) assert.deepEqual(node, all.get(node.id), `${name}: ${node.id} differs from the other examples`);
        all.set(node.id, node.type === 'udp in' ? { ...node, port: String(udpPort) } : node);
      }
    }
    const from = nr.log.length;
    await nr.deployFlows([...all.values()]);
    await nr.waitForLog(/Started flows/, 15000, from);
  });

  after(async () => {
    await nr?.dispose();
    await appliances?.close();
  });

  it('are the three documented flows, each a tab with its nodes, using only core nodes and this package', () => {
    assert.deepEqual(exampleNames(), ['ADS syslog (CEF) over UDP', 'ADS to LoadMaster and CryptoSpike', 'Manual block and release']);
    const core = new Set(['tab', 'comment', 'http in', 'http response', 'debug', 'catch', 'inject', 'udp in']);
    for (const name of exampleNames()) {
      const nodes = readExample(name);
      assert.equal(nodes.filter((n) => n.type === 'tab').length, 1, name);
      for (const n of nodes) assert.ok(core.has(n.type) || n.type.startsWith('flowmon-'), `${name}: ${n.type}`);
    }
    const used = new Set([...all.values()].map((n) => n.type));
    for (const type of FLOW_NODE_TYPES) assert.ok(used.has(type), `${type} (palette "${PALETTE_CATEGORY}") appears in an example`);
  });

  it('start without errors or configuration warnings', () => {
    const problems = nr.log.split('\n').filter((l) => /\[(error|warn)\]/.test(l) && !/Projects disabled|Encrypted credentials not found/.test(l));
    assert.deepEqual(problems, []);
  });

  it('manual example: the inject nodes block an address and release it again', async () => {
    const inject = async (id: string): Promise<void> => {
      const res = await nr.request('POST', `/inject/${id}`);
      assert.equal(res.status, 200, `inject ${id}`);
    };
    const listed = (): boolean => appliances.loadMaster.state.lists.block.some((e) => e.addr === '192.0.2.50/32');
    await inject('f2a0000000000102');
    await waitFor('192.0.2.50 blocked', () => (listed() ? true : undefined));
    const entry = await waitFor('an entry with the 1 h TTL of msg.ttl', async () =>
      (await nr.getJson<Array<{ target: string; state: string; ttlSeconds: number }>>('/flowmon-response/blocks')).find(
        (e) => e.target === '192.0.2.50/32' && e.state === 'active',
      ),
    );
    assert.equal(entry.ttlSeconds, 3600);
    await inject('f2a0000000000104');
    await waitFor('192.0.2.50 released', () => (listed() ? undefined : true));
    await waitFor('the entry marked released', async () =>
      (await nr.getJson<Array<{ target: string; state: string }>>('/flowmon-response/blocks')).every(
        (e) => e.target !== '192.0.2.50/32' || e.state === 'released',
      ) || undefined,
    );

    const blocked = (): boolean => appliances.cryptoSpike.state.blockedUsers().some((u) => u.username === 'jdoe');
    await inject('f2a0000000000202');
    await waitFor('jdoe blocked', () => (blocked() ? true : undefined));
    await inject('f2a0000000000204');
    await waitFor('jdoe unblocked', () => (blocked() ? undefined : true));
  });

  it('UDP example: a CEF syslog datagram blocks its source on the LoadMaster', async () => {
    const socket = createSocket('udp4');
    await new Promise<void>((ok, fail) => socket.send(cefEvents(), udpPort, '127.0.0.1', (err) => (err ? fail(err) : ok())));
    socket.close();
    await waitFor('203.0.113.21 blocked', () =>
      appliances.loadMaster.state.lists.block.some((e) => e.addr === '203.0.113.21/32') ? true : undefined,
    );
  });
});
