import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AdsEvent } from '../../../lib/ads/event';
import { HistoryStore } from '../../../lib/history/store';
import { IntakeLedger } from '../../../lib/intake/ledger';
import { MitigationRegistry } from '../../../lib/registry/registry';
import { dataDir } from '../../../lib/durable/private-files';
import { IMPORTED_SUFFIX, moveJournalsIn } from '../../../lib/store/journal-import';
import { PostgresStore } from '../../../lib/store/postgres';
import { IMPORTED } from '../../../lib/store/postgres/import';
import type { IntakeRecord } from '../../../lib/intake/ledger';
import { holdRequest, lmKey } from '../decisions/support';
import { quietLog, usePostgres, waitFor } from './postgres-support';

const kind = 'loadmaster' as const;

function event(source: string): AdsEvent {
  return {
    kind: 'ads', format: 'tsv-standard', id: '77', detectedAt: null, firstFlowAt: null, method: 'SCANS', subtype: null, mitre: null,
    description: 'Scan', perspective: null, priority: 'high', detail: '', ports: null, protocol: null, source, sourceName: null,
    targets: [], dataFeed: null, userIdentity: null, raw: `raw ${source}`,
  };
}

/** A user directory as one Node-RED on the journal leaves it: 2 registry entries, 3 history records, 1 unfinished event. */
async function journalUserDir(): Promise<{ dir: string; activeId: string; heldId: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowmon-import-'));
  const files = dataDir(dir);
  const registry = new MitigationRegistry({ file: path.join(files, 'flowmon-response-registry.jsonl'), ownsDir: true });
  const active = (await registry.arm({ key: lmKey('192.0.2.10/32'), kind, ttlSeconds: 3600, eventId: '77' })).entry;
  const held = (await registry.hold({ key: lmKey('192.0.2.11/32'), kind, hold: holdRequest(), ttlSeconds: 3600 })).entry;
  await registry.close();
  const history = new HistoryStore({ file: path.join(files, 'flowmon-response-history.jsonl'), ownsDir: true });
  for (const target of ['192.0.2.10/32', '192.0.2.11/32', '192.0.2.12/32']) {
    await history.append({ action: 'blocked', kind, configId: 'lm1', scope: 'global:block', target, actorKind: 'package', actor: 'flowmon-response' }, 'LM');
  }
  await history.close();
  const ledger = new IntakeLedger({ file: path.join(files, 'flowmon-response-intake.jsonl'), ownsDir: true });
  await ledger.record('n1', [event('192.0.2.20')]);
  await ledger.close();
  return { dir, activeId: active.id, heldId: held.id };
}

describe('moving the journals of a user directory into PostgreSQL (real PostgreSQL)', function () {
  this.timeout(30_000);
  const { pg, url } = usePostgres();

  function store(dir: string): PostgresStore {
    const opened = new PostgresStore(url(), { log: quietLog, leaseMs: 1_500, renewMs: 300, seed: (conn) => moveJournalsIn(dir, conn, quietLog) });
    pg.onClose(() => opened.close());
    return opened;
  }

  it('brings blocks, held decisions, history and unfinished events along once, and keeps the files as *.imported', async () => {
    const { dir, activeId, heldId } = await journalUserDir();
    const first = store(dir);
    await first.ready;

    const registry = new MitigationRegistry({ backend: first.openEntries({ values: () => [], count: () => 0 }) });
    await registry.ready;
    assert.equal(registry.get(activeId)?.state, 'active');
    assert.ok(registry.isActive(lmKey('192.0.2.10/32')), 'the block the journal knew is still active, and will be released');
    assert.equal(registry.get(heldId)?.state, 'held');
    await registry.close();

    const operator = await pg.client(url());
    const count = async (table: string) => Number((await operator.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
    assert.deepEqual([await count('flowmon_entries'), await count('flowmon_history'), await count('flowmon_intake')], [2, 3, 1]);
    const owners = (await operator.query<{ owner: string }>('SELECT owner FROM flowmon_intake')).rows.map((r) => r.owner);
    assert.deepEqual(owners, [IMPORTED]);

    const left = fs.readdirSync(dataDir(dir)).sort();
    assert.deepEqual(left, [
      `flowmon-response-history.jsonl${IMPORTED_SUFFIX}`,
      `flowmon-response-intake.jsonl${IMPORTED_SUFFIX}`,
      `flowmon-response-registry.jsonl${IMPORTED_SUFFIX}`,
    ]);

    // The releasing instance finishes the imported event like any dead instance's.
    await waitFor(() => first.leadership.isLeader, 5_000, 'the lead');
    const taken: IntakeRecord[] = [];
    first.openIntake({ values: () => [], count: () => 0 }).onTakeover(() => ['n1'], (records) => taken.push(...records));
    await waitFor(() => taken.length === 1, 5_000, 'the takeover of the imported event');
    assert.equal(taken[0].event.source, '192.0.2.20');

    // A second start finds nothing more to move: the database keeps what it has.
    await first.close();
    const second = store(dir);
    await second.ready;
    assert.deepEqual([await count('flowmon_entries'), await count('flowmon_history')], [2, 3]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps what the database has when a journal names the same entry', async () => {
    const { dir, activeId } = await journalUserDir();
    const operator = await pg.client(url());
    const conn = await pg.connection(url());
    await conn.query(
      "INSERT INTO flowmon_entries (id, version, state, expires_at, simulated, entry) VALUES ($1, nextval('flowmon_entries_version'), 'released', 0, false, '{}'::jsonb)",
      [activeId],
    );
    const s = store(dir);
    await s.ready;
    const { rows } = await operator.query<{ state: string }>('SELECT state FROM flowmon_entries WHERE id = $1', [activeId]);
    assert.equal(rows[0].state, 'released', 'the shared truth wins over a journal');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
