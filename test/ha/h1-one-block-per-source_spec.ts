// Events posted to both instances alternately, some for the same source at the same moment: one LoadMaster add per
// source, every block in both instances' lists, and the LoadMaster's 30-calls-in-3-s limit never hit (the pacing
// budget is shared: 40 adds from two instances with a budget each of 25 per 3 s would overrun it).
import assert = require('node:assert/strict');
import { clusterPerSuite, figure, until } from './support/cluster';
import { eventLine, sourceAddress } from '../faults/support/events';

const SOURCES = 40;

describe('HA 1: two instances, events posted to both', function () {
  const cluster = clusterPerSuite({ blockTtl: '10m' });

  it('blocks each source once on the LoadMaster and lists every block on both instances', () =>
    cluster().explained(async () => {
      const started = Date.now();
      const answers = await Promise.all(
        Array.from({ length: SOURCES }, async (_, i) => {
          const source = sourceAddress(i);
          const toA = () => cluster().post(0, eventLine(10_000 + i, source));
          const toB = () => cluster().post(1, eventLine(20_000 + i, source));
          // Even sources reach both instances at the same moment; odd ones one after the other, in turns.
          if (i % 2 === 0) return Promise.all([toA(), toB()]);
          return i % 4 === 1 ? [await toA(), await toB()] : [await toB(), await toA()];
        }),
      );
      for (const a of answers.flat()) assert.equal(a.status, 202, JSON.stringify(a));

      await until(`${SOURCES} addresses on the LoadMaster`, 60000, () => cluster().lmBlocked().length === SOURCES);
      const addMs = Date.now() - started;
      await new Promise((ok) => setTimeout(ok, 3000));
      const adds = cluster().lmAdds();
      assert.equal(adds.size, SOURCES);
      const twice = [...adds].filter(([, n]) => n > 1);
      assert.deepEqual(twice, [], 'an address was added more than once');
      assert.equal(cluster().lm.droppedConnections, 0, 'the LoadMaster dropped connections: the rate budget is not shared');

      for (const i of [0, 1]) {
        const active = await until(`instance ${i} to list ${SOURCES} LoadMaster blocks`, 10000, async () => {
          const list = (await cluster().blocks(i)).filter((e) => e.kind === 'loadmaster' && e.state === 'active');
          return list.length === SOURCES ? list : undefined;
        });
        const targets = active.map((e) => e.target.replace(/\/32$/, '')).sort();
        assert.deepEqual(targets, Array.from({ length: SOURCES }, (_, s) => sourceAddress(s)).sort());
        for (const e of active) assert.equal(e.hits, 2, `${e.target} hits on instance ${i}`);
      }
      figure(`${SOURCES} sources, ${SOURCES * 2} events on two instances: ${SOURCES} LoadMaster adds in ${addMs} ms, 0 dropped connections`);
    }));
});
