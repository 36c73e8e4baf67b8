import assert from 'node:assert/strict';
import { closeStores, getStore } from '../../../lib/store';
import { describePostgres, STORE_ENV, storeChoice } from '../../../lib/store/settings';

const red = (store?: unknown) => ({ settings: store === undefined ? {} : { flowmonResponse: { store } } });

describe('lib/store settings: which store a runtime uses', () => {
  it('uses the embedded journal when nothing is set, or "journal"', () => {
    assert.deepEqual(storeChoice(red(), {}), { kind: 'journal' });
    assert.deepEqual(storeChoice(red('journal'), {}), { kind: 'journal' });
    assert.deepEqual(storeChoice(red(), { [STORE_ENV]: '' }), { kind: 'journal' });
  });

  it('takes settings.js first, then the environment variable', () => {
    const env = { [STORE_ENV]: 'postgres://env@db/flowmon' };
    assert.deepEqual(storeChoice(red('postgresql://set@db/flowmon'), env), { kind: 'postgres', url: 'postgresql://set@db/flowmon' });
    assert.deepEqual(storeChoice(red(), env), { kind: 'postgres', url: 'postgres://env@db/flowmon' });
    assert.deepEqual(storeChoice(red('journal'), env), { kind: 'journal' }, 'settings.js may keep the journal whatever the environment says');
  });

  it('says what is wrong with a value that is neither "journal" nor a postgres URL, without repeating it', () => {
    for (const [value, problem] of [
      ['mysql://root:hunter2@db/x', /must be "journal" or a postgres:\/\/ URL \(it is a mysql: URL\)/],
      ['hunter2', /neither "journal" nor a URL/],
      [42, /must be "journal" or a postgres:\/\/ URL/],
    ] as const) {
      const choice = storeChoice(red(value), {});
      assert.equal(choice.kind, 'invalid');
      assert.match((choice as { problem: string }).problem, problem);
      assert.ok(!(choice as { problem: string }).problem.includes('hunter2'), 'the value (a password, perhaps) is not repeated');
    }
    assert.match((storeChoice(red(), { [STORE_ENV]: 'redis://x' }) as { problem: string }).problem, /^FLOWMON_RESPONSE_STORE /);
  });

  it('names a PostgreSQL store without its password or its options', () => {
    assert.equal(describePostgres('postgres://flowmon:s3cr%40t@db.example:5432/flowmon?sslmode=verify-full&password=x'), 'postgres://flowmon@db.example:5432/flowmon');
    assert.equal(describePostgres('postgresql://db.example/flowmon'), 'postgres://db.example/flowmon');
  });

  it('falls back to the journal on an invalid setting and says why in the log (once per store)', async () => {
    const errors: string[] = [];
    const runtime = { settings: { flowmonResponse: { store: 'mysql://root:hunter2@db/x' } }, log: { warn: () => undefined, error: (m: unknown) => errors.push(String(m)) } };
    await closeStores(); // another spec's runtime without a user directory may have made this store already
    try {
      const store = getStore(runtime);
      assert.equal(store.kind, 'journal');
      assert.equal(getStore(runtime), store);
      assert.equal(errors.length, 1);
      assert.match(errors[0], /the embedded journal is used instead/);
      assert.ok(!errors[0].includes('hunter2'));
    } finally {
      await closeStores();
    }
  });
});
