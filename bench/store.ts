// Store figures: durable registrations per second on the embedded journal and on PostgreSQL (a private server, fsync
// on) side by side, and the failover time of the releasing role between two PostgreSQL stores on one database: the
// leader's connection ended (what a dead process looks like to PostgreSQL), and a leader that stops renewing.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { MitigationRegistry } from '../lib/registry/registry';
import { JournalStore } from '../lib/store/journal-store';
import { PostgresStore } from '../lib/store/postgres';
import { PostgresLeadership } from '../lib/store/postgres/leadership';
import type { Store } from '../lib/store/types';
import { startPostgres } from '../test/support/postgres';
import { BenchRow, perSecond } from './table';

const JOURNAL_ENTRIES = 20_000;
const POSTGRES_ENTRIES = 5_000;
const IN_FLIGHT = 200;
const FAILOVER_ROUNDS = 5;
const quiet = { warn: () => undefined };

function key(i: number) {
  return { configId: 'lm-bench', scope: 'global:block', target: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32` };
}

/** Arms `count` distinct keys, `inFlight` at a time, each awaited until it is durable; resolves the rate per second. */
async function registrationsPerSecond(store: Store, count: number): Promise<number> {
  const reg = new MitigationRegistry({ openBackend: (live) => store.openEntries(live) });
  await reg.ready;
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await reg.arm({ key: key(i), kind: 'loadmaster', ttlSeconds: 86_400, eventId: `ads-${i}` });
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const ms = performance.now() - t0;
  await reg.close();
  return (count * 1000) / ms;
}

function leading(stores: Store[]): Store | undefined {
  const leaders = stores.filter((s) => s.leadership.isLeader);
  return leaders.length === 1 ? leaders[0] : undefined;
}

async function waitForLeader(stores: Store[], not: Store | undefined, timeoutMs: number): Promise<Store> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const leader = leading(stores);
    if (leader && leader !== not) return leader;
    if (Date.now() > deadline) throw new Error(`no other store led within ${timeoutMs} ms`);
    await new Promise((ok) => setTimeout(ok, 10));
  }
}

/** Ends the leader's session from outside, as PostgreSQL does when the leader's process dies. */
async function endLeaderSession(url: string): Promise<void> {
  const admin = new Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query('SELECT pg_terminate_backend(pid) FROM flowmon_leader WHERE singleton = 1');
  } finally {
    await admin.end();
  }
}

async function failover(url: string): Promise<{ killed: number[]; pausedMs: number; fenced: boolean; leaseMs: number }> {
  const stores = [new PostgresStore(url, { log: quiet }), new PostgresStore(url, { log: quiet })];
  try {
    let leader = await waitForLeader(stores, undefined, 30_000);
    const killed: number[] = [];
    for (let round = 0; round < FAILOVER_ROUNDS; round++) {
      const t0 = performance.now();
      await endLeaderSession(url);
      leader = await waitForLeader(stores, leader, 30_000);
      killed.push(performance.now() - t0);
      // The former leader reconnects and follows before the next round.
      await new Promise((ok) => setTimeout(ok, 2500));
    }
    const paused = leader.leadership as PostgresLeadership;
    const t0 = performance.now();
    paused.pause();
    await waitForLeader(stores, leader, 60_000);
    const pausedMs = performance.now() - t0;
    const fenced = !(await paused.confirm());
    paused.resume();
    return { killed, pausedMs, fenced, leaseMs: paused.leaseMs };
  } finally {
    await Promise.all(stores.map((s) => s.close()));
  }
}

export async function run(): Promise<BenchRow[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowmon-bench-store-'));
  const pg = await startPostgres({ fsync: true });
  try {
    const journal = new JournalStore(dir, { log: quiet });
    const journalRate = await registrationsPerSecond(journal, JOURNAL_ENTRIES);
    await journal.close();
    const postgres = new PostgresStore(await pg.createDatabase('bench_registry'), { log: quiet });
    const postgresRate = await registrationsPerSecond(postgres, POSTGRES_ENTRIES);
    await postgres.close();
    const f = await failover(await pg.createDatabase('bench_failover'));
    const worstKilled = Math.max(...f.killed);
    const median = [...f.killed].sort((a, b) => a - b)[Math.floor(f.killed.length / 2)];
    return [
      {
        area: 'store',
        metric: `durable registrations, embedded journal (${IN_FLIGHT} in flight)`,
        value: perSecond(JOURNAL_ENTRIES, (JOURNAL_ENTRIES * 1000) / journalRate),
      },
      {
        area: 'store',
        metric: `durable registrations, PostgreSQL 127.0.0.1, fsync on (${IN_FLIGHT} in flight)`,
        value: perSecond(POSTGRES_ENTRIES, (POSTGRES_ENTRIES * 1000) / postgresRate),
      },
      {
        area: 'store',
        metric: `failover, leader's session ended (median of ${FAILOVER_ROUNDS}; worst ${Math.round(worstKilled)} ms)`,
        value: `${Math.round(median)} ms`,
        target: '<= 2,500 ms (one renewal)',
        ok: worstKilled <= 2500,
      },
      {
        area: 'store',
        metric: `failover, leader paused (lease ${f.leaseMs / 1000} s); the paused one fenced: ${f.fenced ? 'yes' : 'NO'}`,
        value: `${Math.round(f.pausedMs)} ms`,
        target: `<= ${(f.leaseMs + 2500).toLocaleString('en-US')} ms (lease + renewal)`,
        ok: f.fenced && f.pausedMs <= f.leaseMs + 2500,
      },
    ];
  } finally {
    await pg.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
