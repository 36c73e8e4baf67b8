import assert from 'node:assert/strict';
import { PostgresAddClaims } from '../../../lib/store/postgres/claims';
import { usePostgres } from './postgres-support';

describe('PostgreSQL add claims (real PostgreSQL)', function () {
  this.timeout(30_000);
  const { pg, url } = usePostgres();
  let a: PostgresAddClaims;
  let b: PostgresAddClaims;

  beforeEach(async () => {
    a = new PostgresAddClaims(await pg.connection(url()), { instanceId: 'a', ready: Promise.resolve() });
    b = new PostgresAddClaims(await pg.connection(url()), { instanceId: 'b', ready: Promise.resolve() });
  });

  it('gives one of two concurrent claims of a target, 20 targets over', async () => {
    for (let i = 0; i < 20; i++) {
      const answers = await Promise.all([a.claim(`t${i}`), b.claim(`t${i}`)]);
      assert.deepEqual([...answers].sort(), ['busy', 'claimed'], `target ${i}: ${answers.join(', ')}`);
    }
  });

  it('lets the other instance claim at once after a failed add, not after a done one', async () => {
    assert.equal(await a.claim('x'), 'claimed');
    assert.equal(await b.claim('x'), 'busy');
    await a.end('x', false);
    assert.equal(await b.claim('x'), 'claimed');
    await b.end('x', true);
    assert.equal(await a.claim('x'), 'busy', 'the claim of a done add holds for a grace period');
  });

  it("ends only its own claim", async () => {
    assert.equal(await a.claim('y'), 'claimed');
    await b.end('y', false);
    assert.equal(await b.claim('y'), 'busy');
  });

  it('answers active for a target whose block is on the appliance', async () => {
    const operator = await pg.client(url());
    const expiresAt = Date.now() + 60_000;
    await operator.query(
      `INSERT INTO flowmon_entries (id, version, state, expires_at, simulated, entry) VALUES ('z', 1, 'active', $1, false, '{}')`,
      [expiresAt],
    );
    assert.equal(await a.claim('z'), 'active');
    assert.equal(await b.claim('z'), 'active');
  });
});
