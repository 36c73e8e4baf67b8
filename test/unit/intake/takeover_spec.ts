import assert from 'node:assert/strict';
import { IntakeLedger, IntakeRecord } from '../../../lib/intake/ledger';
import { StoreUnavailableError } from '../../../lib/store/types';
import { adsEvent, FakeIntakeBackend, orphan } from './fake-backend';

describe('intake ledger on a shared store: takeover and refusals', () => {
  let backend: FakeIntakeBackend;
  let ledger: IntakeLedger;
  beforeEach(() => {
    backend = new FakeIntakeBackend();
    ledger = new IntakeLedger({ backend });
  });
  afterEach(() => ledger.close());

  function watched(node: string): IntakeRecord[][] {
    const calls: IntakeRecord[][] = [];
    ledger.watch(node, (records) => calls.push(records));
    return calls;
  }

  it('hands each taken-over record once to the watcher of its node, and only to it, oldest first', () => {
    const p1 = watched('p1');
    const p2 = watched('p2');
    backend.takeOver([orphan('b', 'p1', '192.0.2.2', Date.now()), orphan('a', 'p1', '192.0.2.1', Date.now() - 1000), orphan('c', 'p2', '192.0.2.3')]);
    backend.takeOverAll([orphan('a', 'p1', '192.0.2.1'), orphan('c', 'p2', '192.0.2.3')]);
    assert.deepEqual(p1.map((call) => call.map((r) => r.id)), [['a', 'b']]);
    assert.deepEqual(p2.map((call) => call.map((r) => r.id)), [['c']]);
    assert.equal(ledger.unsettled, 3, 'now this instance’s to finish');
  });

  it('offers the store only the nodes watched here, and stops after unwatch', () => {
    const p1: IntakeRecord[][] = [];
    const unwatch = ledger.watch('p1', (records) => p1.push(records));
    backend.takeOver([orphan('a', 'p1', '192.0.2.1'), orphan('x', 'elsewhere', '192.0.2.9')]);
    unwatch();
    backend.takeOver([orphan('b', 'p1', '192.0.2.2')]);
    assert.deepEqual(p1.map((call) => call.map((r) => r.id)), [['a']]);
    assert.equal(backend.stored.has('x'), false, 'another instance’s node is not taken');
  });

  it('keeps records of a node not watched here for the node that watches later', () => {
    backend.takeOverAll([orphan('a', 'p9', '192.0.2.1')]);
    const later = watched('p9');
    assert.deepEqual(later.map((call) => call.map((r) => r.id)), [['a']]);
  });

  it('settles a taken-over record in the store once its node finished with it', async () => {
    watched('p1');
    backend.takeOver([orphan('a', 'p1', '192.0.2.1')]);
    ledger.settle('a');
    ledger.settle('a');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(backend.settled, ['a']);
    assert.equal(ledger.unsettled, 0);
  });

  it('drops a taken-over record older than the replay window, with a warning', async () => {
    const warnings: string[] = [];
    await ledger.close();
    ledger = new IntakeLedger({ backend, replayWindowMs: 60_000, log: { warn: (m) => warnings.push(m) } });
    const p1 = watched('p1');
    backend.takeOver([orphan('old', 'p1', '192.0.2.1', Date.now() - 120_000)]);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(p1, []);
    assert.deepEqual(backend.settled, ['old']);
    assert.match(warnings[0], /too old to replay/);
  });

  it('rejects record() with the store’s StoreUnavailableError and keeps nothing of the refused events', async () => {
    backend.failure = new StoreUnavailableError();
    await assert.rejects(ledger.record('p1', [adsEvent('192.0.2.1')]), { name: 'StoreUnavailableError' });
    assert.equal(ledger.unsettled, 0);
    backend.failure = undefined;
    assert.equal((await ledger.record('p1', [adsEvent('192.0.2.1')])).length, 1);
    assert.equal(ledger.unsettled, 1);
  });

  it('ignores takeovers once closed', async () => {
    const p1 = watched('p1');
    await ledger.close();
    backend.takeOverAll([orphan('a', 'p1', '192.0.2.1')]);
    assert.deepEqual(p1, []);
  });
});
