// PostgreSQL restarted (a clean stop, then a kill) in the middle of a burst posted to both instances by a client that
// retries 503s as the forwarder does: every event answered 202 is processed, and each source is blocked once.
import assert = require('node:assert/strict');
import { clusterPerSuite, figure, sleep, until } from './support/cluster';
import { eventLine, sourceAddress } from '../faults/support/events';

const SOURCES = 30;
const SEND_EVERY_MS = 400;
const OUTAGE_MS = 3000;

interface Outcome {
  source: string;
  tries: number;
  unavailable: number;
  accepted: boolean;
  /** Every answer's status with the time it came, e.g. "503@13:47:30.120". */
  answers: string[];
}

describe('HA 5: PostgreSQL restarted in the middle of a burst', function () {
  const cluster = clusterPerSuite({ blockTtl: '10m' });

  /** Posts one event, again every 500 ms while the answer is a 503 or nothing (as the forwarder's spool does). */
  async function deliver(i: number): Promise<Outcome> {
    const outcome: Outcome = { source: sourceAddress(300 + i), tries: 0, unavailable: 0, accepted: false, answers: [] };
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      outcome.tries++;
      const instance = (i + outcome.tries) % 2;
      const res = await cluster().post(instance, eventLine(60_000 + i, outcome.source));
      outcome.answers.push(`${res.status} from instance ${instance} at ${new Date().toISOString().slice(11, 23)}`);
      if (res.status === 202) return { ...outcome, accepted: true };
      if (res.status !== 503 && res.status !== 0) throw new Error(`event ${i}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
      if (res.status === 503) outcome.unavailable++;
      await sleep(500);
    }
    return outcome;
  }

  it('loses no event answered 202 across a stop/start and a kill/start of PostgreSQL', () =>
    cluster().explained(async () => {
      const burst = Promise.all(
        Array.from({ length: SOURCES }, async (_, i) => {
          await sleep(i * SEND_EVERY_MS);
          return deliver(i);
        }),
      );
      await sleep(2000);
      await cluster().pg.stop();
      await sleep(OUTAGE_MS);
      await cluster().pg.start();
      await sleep(2500);
      await cluster().pg.kill();
      await sleep(OUTAGE_MS);
      await cluster().pg.start();
      const outcomes = await burst;

      const refused = outcomes.reduce((n, o) => n + o.unavailable, 0);
      assert.ok(refused > 0, 'no 503 while PostgreSQL was down: events were accepted without being durable');
      assert.deepEqual(outcomes.filter((o) => !o.accepted).map((o) => o.source), [], 'events never accepted');
      await until(`${SOURCES} sources blocked`, 60000, () => cluster().lmBlocked().length === SOURCES).catch((err: Error) => {
        const missing = outcomes.filter((o) => !cluster().lmBlocked().includes(o.source));
        err.message += `\nnot blocked, though answered 202: ${JSON.stringify(missing)}`;
        throw err;
      });
      await sleep(3000);
      const adds = cluster().lmAdds();
      assert.equal(adds.size, SOURCES);
      assert.deepEqual([...adds].filter(([, n]) => n > 1), [], 'an address was added more than once');
      for (const i of [0, 1]) {
        await until(`instance ${i} to list every block`, 20000, async () =>
          (await cluster().blocks(i)).filter((e) => e.kind === 'loadmaster' && e.state === 'active').length === SOURCES,
        );
      }
      figure(`PostgreSQL stopped and killed mid-burst: ${SOURCES} events, ${refused} answers 503 then retried, ${SOURCES} blocked once each`);
    }));
});
