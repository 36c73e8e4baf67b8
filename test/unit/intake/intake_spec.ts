import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AdsEvent } from '../../../lib/ads/event';
import { IntakeLedger } from '../../../lib/intake/ledger';
import { HooksLike, IntakeTracker } from '../../../lib/intake/tracker';

function event(source: string, id = '1'): AdsEvent {
  return {
    kind: 'ads', format: 'tsv-standard', id, detectedAt: null, firstFlowAt: null, method: 'SCANS', subtype: null, mitre: null,
    description: 'Scan', perspective: null, priority: 'high', detail: '', ports: null, protocol: null, source, sourceName: null,
    targets: [], dataFeed: null, userIdentity: null, raw: `raw ${source}`,
  };
}

/** Node-RED's hook registry, reduced to what the tracker uses. */
class FakeHooks implements HooksLike {
  readonly fns = new Map<string, (event: never) => void>();
  add(id: string, fn: (event: never) => void): void {
    if (this.fns.has(id)) throw new Error(`Hook ${id} already registered`);
    this.fns.set(id, fn);
  }
  remove(id: string): void {
    this.fns.delete(id);
  }
  send(...msgs: object[]): void {
    (this.fns.get('onSend.flowmonResponseIntake') as (e: unknown) => void)(msgs.map((msg) => ({ msg })));
  }
  complete(msg: object): void {
    (this.fns.get('onComplete.flowmonResponseIntake') as (e: unknown) => void)({ msg });
  }
}

describe('intake ledger and tracker', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowmon-intake-'));
    file = path.join(dir, 'intake.jsonl');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('journals events before resolving, and hands unsettled ones back to their node after a restart', async () => {
    const first = new IntakeLedger({ file });
    const ids = await first.record('parser-1', [event('192.0.2.1'), event('192.0.2.2'), event('192.0.2.3')]);
    await first.record('parser-2', [event('192.0.2.9')]);
    assert.equal(fs.readFileSync(file, 'utf8').trim().split('\n').length, 4, 'on disk when record() resolves');
    first.settle(ids[1]);
    await first.close();

    const second = new IntakeLedger({ file });
    assert.deepEqual(second.takeUnsettled('parser-1').map((r) => r.event.source), ['192.0.2.1', '192.0.2.3']);
    assert.deepEqual(second.takeUnsettled('parser-1'), [], 'handed out once');
    assert.deepEqual(second.takeUnsettled('parser-2').map((r) => r.event.source), ['192.0.2.9']);
    await second.close();
  });

  it('drops unsettled events older than the replay window', async () => {
    let now = 1_000_000;
    const first = new IntakeLedger({ file, now: () => now });
    await first.record('p', [event('192.0.2.1')]);
    await first.close();
    now += 2 * 3_600_000;
    const warnings: string[] = [];
    const second = new IntakeLedger({ file, now: () => now, log: { warn: (m) => warnings.push(m) } });
    assert.deepEqual(second.takeUnsettled('p'), []);
    assert.match(warnings[0], /too old to replay/);
    await second.close();
  });

  it('keeps nothing without a file', async () => {
    const ledger = new IntakeLedger();
    assert.deepEqual(await ledger.record('p', [event('192.0.2.1')]), []);
    assert.equal(ledger.durable, false);
  });

  it('settles an event only when every delivery of it has completed', async () => {
    const ledger = new IntakeLedger({ file });
    const tracker = new IntakeTracker(ledger);
    const hooks = new FakeHooks();
    tracker.attach(hooks);
    tracker.attach(hooks); // a second parser node on the same runtime: no double registration
    const [id] = await ledger.record('p', [event('192.0.2.1')]);
    const msg = { _flowmonIntake: id };
    hooks.send(msg, msg); // parser → LoadMaster and CryptoSpike
    tracker.sent(id);
    hooks.complete(msg); // LoadMaster done…
    hooks.send(msg); // …after passing it to the TTL node
    hooks.complete(msg); // CryptoSpike done
    assert.equal(ledger.unsettled, 1);
    hooks.complete(msg); // TTL done
    assert.equal(ledger.unsettled, 0);
    hooks.complete(msg); // a Catch node finishing a copy later changes nothing
    assert.equal(ledger.unsettled, 0);
    await ledger.close();
    assert.deepEqual(new IntakeLedger({ file }).takeUnsettled('p'), []);
  });

  it('settles at once an event that no wire took', async () => {
    const ledger = new IntakeLedger({ file });
    const tracker = new IntakeTracker(ledger);
    tracker.attach(new FakeHooks());
    const [id] = await ledger.record('p', [event('192.0.2.1')]);
    tracker.sent(id);
    assert.equal(ledger.unsettled, 0);
    await ledger.close();
  });

  it('ignores messages without an intake id', () => {
    const ledger = new IntakeLedger({ file });
    const tracker = new IntakeTracker(ledger);
    const hooks = new FakeHooks();
    tracker.attach(hooks);
    hooks.send({ payload: 1 });
    hooks.complete({ payload: 1 });
    assert.equal(ledger.unsettled, 0);
  });
});
