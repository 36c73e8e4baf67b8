// Scenario 7: protected addresses and users are never blocked through any path; two users at one address block nobody.
import assert = require('node:assert/strict');
import { networkInterfaces } from 'node:os';
import { body, eventLine, sourceAddress, userOf } from './support/events';
import { FlowNode, Stack, fastSettings, figures, nodeOfType, waitFor } from './support/stack';

const PROTECTED_CIDR = '192.0.2.0/24';
const NEVER_USER = userOf(900);
const hostAddress = Object.values(networkInterfaces())
  .flat()
  .find((i) => i && !i.internal && i.family === 'IPv4')?.address;
const PROTECTED = [
  ['protected CIDR', '192.0.2.77'],
  ['appliance (LoadMaster and CryptoSpike at 127.0.0.1)', '127.0.0.1'],
  ['loopback', '127.9.9.9'],
  ['IPv6 loopback', '::1'],
  ['multicast', '224.0.0.251'],
  ['IPv6 multicast', 'ff02::1'],
  ['unspecified', '0.0.0.0'],
  ['IPv6 unspecified', '::'],
  ...(hostAddress ? [['this host', hostAddress]] : []),
];

/** An extra HTTP-in per appliance node for manual requests, answering with the node's output message. */
function addManualPaths(flow: FlowNode[]): void {
  const tab = flow.find((n) => n.type === 'tab')!.id;
  const lmConfig = nodeOfType(flow, 'flowmon-loadmaster-config').id;
  const csConfig = nodeOfType(flow, 'flowmon-cryptospike-config').id;
  flow.push(
    { id: 'manual-lm-in', type: 'http in', z: tab, url: '/faults/manual/loadmaster', method: 'post', wires: [['manual-lm']] },
    { id: 'manual-lm', type: 'flowmon-loadmaster-acl', z: tab, config: lmConfig, action: 'add', list: 'block', scope: 'global', vs: '', comment: '', wires: [['manual-out'], ['manual-out']] },
    { id: 'manual-cs-in', type: 'http in', z: tab, url: '/faults/manual/cryptospike', method: 'post', wires: [['manual-cs']] },
    { id: 'manual-cs', type: 'flowmon-cryptospike-user', z: tab, config: csConfig, action: 'block', windowMinutes: 30, wires: [['manual-out'], ['manual-out']] },
    { id: 'manual-out', type: 'http response', z: tab, statusCode: '200', headers: {}, wires: [] },
  );
}

describe('scenario 7: safety', function () {
  let s: Stack;

  before(async () => {
    s = await Stack.start({
      blockTtl: '10m',
      patch: (flow) => {
        fastSettings(flow);
        nodeOfType(flow, 'flowmon-loadmaster-config').neverBlock = PROTECTED_CIDR;
        nodeOfType(flow, 'flowmon-cryptospike-config').protectedUsers = NEVER_USER.username;
        addManualPaths(flow);
      },
    });
    // The never-block user works at every protected address and at one ordinary address; two users share another.
    for (const [, address] of PROTECTED) s.cs.seedActivity(address, NEVER_USER.userId, NEVER_USER.username, 3);
    s.cs.seedActivity(sourceAddress(1), NEVER_USER.userId, NEVER_USER.username, 3);
    s.cs.seedActivity(sourceAddress(2), userOf(2).userId, userOf(2).username, 3);
    s.cs.seedActivity(sourceAddress(2), userOf(3).userId, userOf(3).username, 2);
  });

  after(async () => {
    await s?.close();
  });

  const manual = async (path: string, payload: unknown) => {
    const res = await fetch(`${s.nr.baseUrl}/faults/manual/${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(15000),
    });
    return ((await res.json()) as { mitigation?: { result?: string; reason?: string } }).mitigation;
  };

  it('never blocks protected addresses or the never-block user, by event, manual message or sidebar', async () => {
    const events = PROTECTED.map(([, address], i) => eventLine(`s7-${i}`, address));
    const r = await s.post(body([...events, eventLine('s7-user', sourceAddress(1))]));
    assert.equal(r.status, 202, JSON.stringify(r.body));
    await waitFor(() => s.taps('lm-not-done').length >= PROTECTED.length && s.taps('cs-not-acted').length >= PROTECTED.length + 1, 15000, 'outcomes');
    const manualLm = await Promise.all(PROTECTED.map(([, address]) => manual('loadmaster', { source: address })));
    const manualCidr = await manual('loadmaster', { source: '192.0.2.0/25' });
    const manualCs = await manual('cryptospike', { userId: NEVER_USER.userId, username: NEVER_USER.username });
    const sidebarCreate = await s.nr.request('POST', '/flowmon-response/blocks', { target: '192.0.2.77' });
    const entries = await s.blocks();
    const lmAdds = s.lm.calls.entries.filter((c) => c.verb === 'add');
    const refusedLm = s.taps('lm-not-done').filter((t) => t.payload.mitigation?.result === 'refused');
    const csNotActed = s.taps('cs-not-acted').map((t) => String(t.payload.mitigation?.result));
    figures(
      7,
      `${PROTECTED.length} protected sources (${PROTECTED.map(([k]) => k).join(', ')}): events refused ${refusedLm.length}/${PROTECTED.length} on the LoadMaster; ` +
        `manual messages refused ${manualLm.filter((m) => m?.result === 'refused').length}/${PROTECTED.length} (+ CIDR inside the range: ${manualCidr?.result}); ` +
        `never-block user: ${csNotActed.filter((x) => x === 'refused').length} events refused, manual ${manualCs?.result}; ` +
        `sidebar create: HTTP ${sidebarCreate.status}; LoadMaster adds ${lmAdds.length}, CryptoSpike blocks ${s.cs.calls.writes}, registry entries ${entries.length}`,
    );
    assert.equal(refusedLm.length, PROTECTED.length);
    assert.ok(manualLm.every((m) => m?.result === 'refused'), JSON.stringify(manualLm));
    assert.equal(manualCidr?.result, 'refused');
    assert.equal(manualCs?.result, 'refused');
    assert.ok(sidebarCreate.status >= 400, 'the sidebar API cannot create a block');
    assert.equal(lmAdds.filter((c) => c.addr !== `${sourceAddress(1)}/32`).length, 0, 'only the ordinary address reached the LoadMaster');
    assert.equal(s.cs.calls.writes, 0);
    assert.deepEqual(entries.map((e) => e.target), [`${sourceAddress(1)}/32`]);
  });

  it('blocks no user when two users work behind one address, and holds the block with both as candidates', async () => {
    const from = s.nr.log.length;
    assert.equal((await s.post(body([eventLine('s7-two', sourceAddress(2))]))).status, 202);
    await waitFor(() => s.taps('cs-acted', from).length >= 1, 10000, 'the CryptoSpike outcome');
    const outcome = s.taps('cs-acted', from)[0].payload.mitigation as {
      result?: string;
      user?: unknown;
      hold?: { reason: string; candidates?: Array<{ userId: string }> };
    };
    const candidates = outcome.hold?.candidates?.map((c) => c.userId);
    figures(7, `two users behind ${sourceAddress(2)}: ${outcome.result} (${outcome.hold?.reason}), candidates ${candidates?.join(', ')}; CryptoSpike blocks ${s.cs.calls.writes}`);
    assert.equal(outcome.result, 'held');
    assert.equal(outcome.hold?.reason, 'ambiguous');
    assert.equal(outcome.user, null);
    assert.deepEqual(candidates?.sort(), [userOf(2).userId, userOf(3).userId]);
    assert.equal(s.cs.calls.writes, 0);
  });
});
