// A block made through one instance shows in the other's blocks list at once, and a release asked there removes it
// from the LoadMaster with one delete call.
import assert = require('node:assert/strict');
import { clusterPerSuite, figure, until } from './support/cluster';
import { eventLine, sourceAddress } from '../faults/support/events';

describe('HA 4: a block made on one instance, released on the other', function () {
  const cluster = clusterPerSuite({ blockTtl: '10m' });

  for (const [made, released] of [[0, 1], [1, 0]]) {
    it(`instance ${made} blocks, instance ${released} lists and releases`, () =>
      cluster().explained(async () => {
        const source = sourceAddress(200 + made);
        const res = await cluster().post(made, eventLine(50_000 + made, source));
        assert.equal(res.status, 202);
        await until(`${source} on the LoadMaster`, 20000, () => cluster().lmBlocked().includes(source));
        const blockedAt = Date.now();
        const entry = await until(`${source} in instance ${released}'s list`, 10000, async () =>
          (await cluster().blocks(released)).find((e) => e.target === `${source}/32` && e.state === 'active'),
        );
        const seenMs = Date.now() - blockedAt;

        const del = await cluster().nodes[released].request('DELETE', `/flowmon-response/blocks/${encodeURIComponent(entry.id)}`);
        assert.ok(del.ok, `DELETE: HTTP ${del.status} ${await del.text()}`);
        await until(`${source} off the LoadMaster`, 20000, () => !cluster().lmBlocked().includes(source));
        await until(`both instances to list ${source} released`, 10000, async () => {
          for (const i of [0, 1]) {
            const now = (await cluster().blocks(i)).find((e) => e.id === entry.id);
            if (now && now.state !== 'released') return false;
          }
          return true;
        });
        assert.equal(cluster().lmDeletes().get(source), 1, 'delete calls');
        assert.equal(cluster().lmAdds().get(source), 1, 'add calls');
        figure(`block made on instance ${made} listed by instance ${released} within ${seenMs} ms of the add`);
      }));
  }
});
