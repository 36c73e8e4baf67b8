// Metrics and history of a real run: the main example on a real Node-RED against the simulators, with a low storm
// cap (LoadMaster 3, CryptoSpike 1 new blocks a minute) and BLOCK_TTL=8s. ADS events over the example's HTTP path
// make blocks, held blocks (storm and ambiguous), repeats and a rejected line; two held blocks are approved through
// the admin API; the blocks run out and are released. Then GET /flowmon-response/metrics must agree with the
// registry (GET /flowmon-response/blocks) and with the receipts, and GET /flowmon-response/history must hold every
// block and every release of the run, as the LoadMaster simulator saw them.
import assert = require('node:assert/strict');
import { startAppliances, type Appliances } from '../../demo/appliances';
import { MAIN_EXAMPLE, readExample } from '../../demo/examples';
import type { HistoryRecord } from '../../lib/history/record';
import { BLOCK_STATES } from '../../lib/metrics/metrics';
import { waitFor, type BlockEntry } from './support/main-example';
import { NodeRed } from './support/node-red';

const LM_CAP = 3;
const CS_CAP = 1;
const TTL_SECONDS = 8;
/** LoadMaster-only sources (no file activity on CryptoSpike). */
const LM_SOURCES = Array.from({ length: 8 }, (_, i) => `203.0.113.${i + 41}`);
/** Sources with one CryptoSpike user each, and the one with two users (held as ambiguous). */
const USER_SOURCES = ['192.0.2.10', '192.0.2.11', '2001:db8::1a'];
const AMBIGUOUS = '192.0.2.12';

interface Entry extends BlockEntry {
  configId: string;
  scope: string;
  releasedAt?: number;
  hold?: { reason: string };
}

interface Receipt {
  accepted: number;
  rejected: number;
  filtered: number;
}

/** ADS's zone-less local time, `YYYY-MM-DD HH:MM:SS`. */
const adsTime = (d: Date) => new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 19).replace('T', ' ');

/** One ADS standard TSV line per source (15 fields), ids from `firstId`; `junk` adds a line the parser rejects. */
function batch(sources: string[], firstId: number, junk = false): string {
  const t = adsTime(new Date());
  const lines = sources.map((source, i) =>
    [String(firstId + i), t, t, 'SCANS', 'Port scanning', 'Security Issues', 'High', `Port scanning of ${i + 3} hosts.`, ' ', ' ', source, ' ', '198.51.100.8', 'LAN', ' '].join('\t'),
  );
  if (junk) lines.push('this is no ADS event');
  return lines.join('\n') + '\n';
}

/** The samples of one metric: labels (as an object) and value. */
function samples(text: string, name: string): Array<{ labels: Record<string, string>; value: number }> {
  const out: Array<{ labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ labels, value: Number(m[3]) });
  }
  return out;
}

const keyOf = (e: { configId: string; scope: string; target: string }) => `${e.configId} ${e.scope} ${e.target}`;

describe('Metrics and history of a real run: blocks, held blocks, approvals and releases (main example)', function () {
  this.timeout(180000);
  let appliances: Appliances;
  let nr: NodeRed;
  const receipts: Receipt[] = [];
  const names = new Map<string, string>(); // config node id → name
  const list = () => nr.getJson<Entry[]>('/flowmon-response/blocks');
  const metrics = async () => {
    const res = await nr.request('GET', '/flowmon-response/metrics', undefined, { Accept: 'text/plain' });
    assert.equal(res.status, 200);
    return res.text();
  };
  const post = async (body: string) => {
    const res = await fetch(`${nr.baseUrl}/flowmon/ads`, {
      method: 'POST',
      headers: { 'X-ADS-Secret': appliances.env.ADS_SHARED_SECRET, 'Content-Type': 'text/plain' },
      body,
    });
    if (res.status === 404) return undefined; // the flow is not started yet
    assert.equal(res.status, 202);
    const receipt = (await res.json()) as Receipt;
    receipts.push(receipt);
    return receipt;
  };
  const approve = async (id: string) => {
    const res = await nr.request('POST', `/flowmon-response/blocks/${encodeURIComponent(id)}/approve`, {});
    assert.equal(res.status, 200, await res.text());
  };

  before(async () => {
    appliances = await startAppliances({ blockTtl: `${TTL_SECONDS}s` });
    nr = await NodeRed.start({ env: appliances.env });
    const flow = readExample(MAIN_EXAMPLE);
    for (const node of flow) {
      if (node.type === 'flowmon-loadmaster-config') Object.assign(node, { stormCap: LM_CAP });
      if (node.type === 'flowmon-cryptospike-config') Object.assign(node, { stormCap: CS_CAP });
      if (typeof node.type === 'string' && node.type.endsWith('-config')) names.set(String(node.id), String(node.name || node.id));
    }
    const from = nr.log.length;
    await nr.deployFlows(flow);
    await nr.waitForLog(/Started flows/, 15000, from);

    const sources = [...LM_SOURCES, ...USER_SOURCES, AMBIGUOUS];
    await waitFor('the ADS endpoint', () => post(batch(sources, 9100, true)));
    // LoadMaster: 3 blocks, 9 held (storm); CryptoSpike: 1 user blocked, 2 held (storm), 2 users of one source held.
    await waitFor('the blocks and the held ones', async () => {
      const all = await list();
      const held = all.filter((e) => e.state === 'held').length;
      const active = all.filter((e) => e.state === 'active').length;
      return held === sources.length - LM_CAP + USER_SOURCES.length - CS_CAP + 1 && active === LM_CAP + CS_CAP ? true : undefined;
    }, 30000);
    // Repeats of the blocked sources (each extends its block), then two held LoadMaster blocks approved.
    assert.ok(await post(batch(sources.slice(0, LM_CAP), 9200)));
    const held = (await list()).filter((e) => e.state === 'held' && e.kind === 'loadmaster');
    await approve(held[0].id);
    await approve(held[1].id);
    await waitFor('the approved blocks on the LoadMaster', () => {
      const listed = appliances.loadMaster.state.lists.block.map((e) => e.addr);
      return listed.includes(held[0].target) && listed.includes(held[1].target);
    }, 20000);
    // Every block runs out: nothing active or pending is left, the held ones wait (decide within 60 min).
    await waitFor('every block released', async () => {
      const all = await list();
      return all.some((e) => e.state === 'released') && !all.some((e) => ['active', 'approving', 'release-pending'].includes(e.state)) ? true : undefined;
    }, 60000);
    // One more approval at the end: an active block while the figures are compared.
    const last = (await list()).find((e) => e.state === 'held' && e.kind === 'loadmaster')!;
    await approve(last.id);
    await waitFor('the last approval applied', async () => ((await list()).find((e) => e.id === last.id)?.state === 'active' ? true : undefined), 20000);
  });

  after(async () => {
    await nr?.dispose();
    await appliances?.close();
  });

  it('flowmon_blocks{state} equals the registry count of every state, per appliance', async () => {
    // The registry is read before and after the scrape; a change in between (a block running out) reads again.
    const { before, text } = await waitFor('a scrape between two equal registry reads', async () => {
      const first = await list();
      const scraped = await metrics();
      const second = await list();
      const states = (all: Entry[]) => all.map((e) => `${e.id}:${e.state}`).sort().join();
      return states(first) === states(second) ? { before: first, text: scraped } : undefined;
    });
    const exposed = samples(text, 'flowmon_blocks');
    const figures: string[] = [];
    for (const [configId, name] of names) {
      const entries = before.filter((e) => e.configId === configId);
      if (entries.length === 0) continue;
      for (const state of BLOCK_STATES) {
        const registry = entries.filter((e) => e.state === state).length;
        const sample = exposed.find((s) => s.labels.appliance === name && s.labels.state === state);
        assert.ok(sample, `flowmon_blocks{appliance="${name}",state="${state}"} is exposed`);
        assert.equal(sample.value, registry, `${name} ${state}`);
        if (registry > 0) figures.push(`${name} ${state} ${registry}`);
      }
    }
    console.log(`      ${figures.join(', ')}`);
    const total = (state: string) => before.filter((e) => e.state === state).length;
    assert.equal(total('active'), 1, 'the last approval');
    assert.ok(total('held') >= 8, `held: ${total('held')}`);
    assert.ok(total('released') >= LM_CAP + CS_CAP + 2, `released: ${total('released')}`);
  });

  it('flowmon_events_total{outcome="accepted"} equals the events accepted in the receipts, and the rejected line counts as rejected', async () => {
    const text = await metrics();
    const outcome = (o: string) => samples(text, 'flowmon_events_total').find((s) => s.labels.outcome === o)?.value;
    const accepted = receipts.reduce((n, r) => n + r.accepted, 0);
    const rejected = receipts.reduce((n, r) => n + r.rejected, 0);
    console.log(`      receipts: ${receipts.length}, accepted ${accepted}, rejected ${rejected}`);
    assert.equal(accepted, LM_SOURCES.length + USER_SOURCES.length + 1 + LM_CAP);
    assert.equal(rejected, 1);
    assert.equal(outcome('accepted'), accepted);
    assert.equal(outcome('rejected'), rejected);
  });

  it('the history holds every block and every release of the run, as the registry and the LoadMaster have them', async () => {
    const page = await nr.getJson<{ matched: number; truncated: boolean; records: HistoryRecord[] }>('/flowmon-response/history?limit=10000');
    assert.equal(page.truncated, false);
    const all = await list();
    const byAction = (action: string) => page.records.filter((r) => r.action === action);
    const keys = (records: HistoryRecord[]) => new Set(records.map(keyOf));
    const blocked = keys(byAction('blocked'));
    const released = keys(byAction('released'));
    const heldKeys = keys(byAction('held'));
    const everBlocked = all.filter((e) => ['active', 'released', 'release-pending'].includes(e.state));
    for (const e of everBlocked) assert.ok(blocked.has(keyOf(e)), `a 'blocked' record of ${e.target} (${e.state})`);
    for (const e of all.filter((x) => x.state === 'released')) {
      assert.ok(released.has(keyOf(e)), `a 'released' record of ${e.target}`);
      const record = byAction('released').find((r) => keyOf(r) === keyOf(e))!;
      assert.ok(Math.abs(record.at - e.releasedAt!) < 5000, `${e.target} released at ${e.releasedAt}, recorded at ${record.at}`);
      assert.equal(record.cause, 'expiry');
    }
    for (const e of all.filter((x) => x.hold)) assert.ok(heldKeys.has(keyOf(e)), `a 'held' record of ${e.target}`);
    // One record per block and per release: the run blocked each target once.
    assert.equal(byAction('blocked').length, everBlocked.length);
    assert.equal(byAction('released').length, all.filter((e) => e.state === 'released').length);
    // As the LoadMaster saw them: each add call is a block, each delete a release.
    const lm = (records: HistoryRecord[]) => records.filter((r) => r.kind === 'loadmaster').length;
    assert.equal(lm(byAction('blocked')), appliances.loadMaster.calls.count('add'));
    assert.equal(lm(byAction('released')), appliances.loadMaster.calls.count('del'));
    assert.equal(byAction('approved').length, 3, 'the three approvals');
    for (const r of byAction('approved')) assert.equal(r.actorKind, 'user');
    // The decisions counter counts the same records.
    const decisions = samples(await metrics(), 'flowmon_decisions_total');
    for (const action of ['blocked', 'released', 'held', 'approved', 'extended']) {
      const counted = decisions.filter((s) => s.labels.action === action).reduce((n, s) => n + s.value, 0);
      assert.equal(counted, byAction(action).length, `flowmon_decisions_total{action="${action}"}`);
    }
    console.log(
      `      history: ${page.records.length} records; blocked ${byAction('blocked').length}, released ${byAction('released').length}, ` +
        `held ${byAction('held').length}, approved ${byAction('approved').length}, extended ${byAction('extended').length}; ` +
        `LoadMaster add ${appliances.loadMaster.calls.count('add')}, del ${appliances.loadMaster.calls.count('del')}`,
    );
  });
});
