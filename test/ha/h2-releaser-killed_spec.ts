// kill -9 of the releasing instance while its blocks are active: the other instance takes the lead (PostgreSQL frees
// the advisory lock when the dead session ends) and releases every block on time, within the lease plus a few seconds.
import assert = require('node:assert/strict');
import { clusterPerSuite, figure, LEASE_MS, until } from './support/cluster';
import { eventLine, sourceAddress } from '../faults/support/events';

const SOURCES = 10;
const TTL_MS = 20_000;
const SLACK_MS = 5_000;

describe('HA 2: kill -9 of the releasing instance', function () {
  const cluster = clusterPerSuite({ blockTtl: `${TTL_MS / 1000}s` });

  it('the other instance leads within seconds and releases every block within TTL + lease', () =>
    cluster().explained(async () => {
      const leader = await cluster().leaderIndex();
      const survivor = 1 - leader;
      // Half of the blocks are made through the instance about to die, half through the survivor.
      for (let i = 0; i < SOURCES; i++) {
        const res = await cluster().post(i % 2 === 0 ? leader : survivor, eventLine(30_000 + i, sourceAddress(i)));
        assert.equal(res.status, 202, JSON.stringify(res));
      }
      await until(`${SOURCES} blocks on the LoadMaster`, 30000, () => cluster().lmBlocked().length === SOURCES);
      // The TTL node records each block just after the appliance answered, and the survivor hears of it a moment later.
      const entries = await until(`${SOURCES} active blocks listed by the survivor`, 10000, async () => {
        const active = (await cluster().blocks(survivor)).filter((e) => e.kind === 'loadmaster' && e.state === 'active');
        return active.length === SOURCES ? active : undefined;
      });
      const expiresAt = new Map(entries.map((e) => [e.target.replace(/\/32$/, ''), e.expiresAt]));

      const killedAt = Date.now();
      await cluster().nodes[leader].kill9();
      const failoverMs = await until('the survivor to release', LEASE_MS + SLACK_MS, async () => ((await cluster().isReleaser(survivor)) ? Date.now() - killedAt : undefined));

      const latest = Math.max(...expiresAt.values());
      await until('every block released by the survivor', latest - Date.now() + LEASE_MS + SLACK_MS, () => cluster().lmBlocked().length === 0);
      const deletes = cluster().lm.calls.entries.filter((c) => c.verb === 'del');
      const late: number[] = [];
      for (const [addr, expiry] of expiresAt) {
        const calls = deletes.filter((c) => c.addr.replace(/\/32$/, '') === addr);
        assert.equal(calls.length, 1, `delete calls for ${addr}`);
        assert.ok(calls[0].at >= expiry - 1000, `${addr} released ${expiry - calls[0].at} ms before its expiry`);
        late.push(calls[0].at - expiry);
      }
      const worst = Math.max(...late);
      assert.ok(worst <= LEASE_MS + SLACK_MS, `a block was released ${worst} ms after its expiry`);
      await until('the survivor lists every block released', 10000, async () =>
        (await cluster().blocks(survivor)).filter((e) => e.kind === 'loadmaster').every((e) => e.state === 'released'),
      );
      figure(`releaser killed: the other instance leads after ${failoverMs} ms; ${SOURCES} blocks released at most ${worst} ms after their expiry`);
    }));
});
