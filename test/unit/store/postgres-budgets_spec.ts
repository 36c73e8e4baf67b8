import assert from 'node:assert/strict';
import { boundedName, PostgresBudgets } from '../../../lib/store/postgres/budgets';
import { usePostgres } from './postgres-support';

describe('PostgreSQL shared budgets (real PostgreSQL)', function () {
  this.timeout(30_000);
  const { pg, url } = usePostgres();

  it('gives two instances together exactly 30 slots of a 30 per 3 s budget, then the wait until one frees', async () => {
    const budgets = [new PostgresBudgets(await pg.connection(url()), Promise.resolve()), new PostgresBudgets(await pg.connection(url()), Promise.resolve())];
    const [a, b] = budgets.map((each) => each.budget('loadmaster:lm1', 30, 3_000));
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? a : b).take()));
    const elapsed = Date.now() - started;
    const taken = answers.filter((wait) => wait === 0).length;
    console.log(`      50 takes from two instances in ${elapsed} ms: ${taken} slots, waits up to ${Math.max(...answers)} ms`);
    assert.equal(taken, 30);
    for (const wait of answers.filter((w) => w > 0)) assert.ok(wait > 3_000 - elapsed - 100 && wait <= 3_000, `wait ${wait}`);
    assert.equal(await budgets[0].budget('other', 30, 3_000).take(), 0, 'another name has a budget of its own');
  });

  it('frees slots as the window slides', async () => {
    const budget = new PostgresBudgets(await pg.connection(url()), Promise.resolve()).budget('short', 2, 300);
    assert.deepEqual([await budget.take(), await budget.take()], [0, 0]);
    const wait = await budget.take();
    assert.ok(wait > 0 && wait <= 300, `wait ${wait}`);
    await new Promise((resolve) => setTimeout(resolve, wait + 20));
    assert.equal(await budget.take(), 0);
  });

  it('holds a call slot while the call runs and for the window after it ends (calls counted at arrival)', async () => {
    const budget = new PostgresBudgets(await pg.connection(url()), Promise.resolve()).budget('calls', 2, 300);
    const first = await budget.takeForCall!(5_000);
    const second = await budget.takeForCall!(5_000);
    assert.ok(typeof first === 'object' && typeof second === 'object', 'two slots');
    assert.ok(typeof (await budget.takeForCall!(5_000)) === 'number', 'the third waits');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const stillRunning = await budget.takeForCall!(5_000);
    assert.ok(typeof stillRunning === 'number' && stillRunning > 300, `a running call keeps its slot past the window (wait ${String(stillRunning)})`);
    first.done();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const soon = await budget.takeForCall!(5_000);
    assert.ok(typeof soon === 'number' && soon <= 300, `the ended call frees its slot one window after its end (wait ${String(soon)})`);
    await new Promise((resolve) => setTimeout(resolve, soon + 20));
    assert.equal(typeof (await budget.takeForCall!(5_000)), 'object');
  });

  it('bounds long names with a hash, keeping different names apart', () => {
    const long = 'x'.repeat(500);
    assert.ok(boundedName(long).length <= 100);
    assert.notEqual(boundedName(long), boundedName(`${long}y`));
    assert.equal(boundedName('loadmaster:lm1'), 'loadmaster:lm1');
  });
});
