import assert from 'node:assert/strict';
import { isUnsetEnv, readBool, readList, readNumber, readText } from '../../../lib/config/fields';
import { typedCredential } from '../../../lib/config/editor-values';
import { resolveTlsSettings } from '../../../lib/http/tls';
import { authFrom } from '../../../lib/cryptospike/settings';
import { readLoadMasterSettings } from '../../../lib/loadmaster/settings';

// Node-RED replaces a field `${VAR}` by the variable's value, but leaves the text as it is when VAR is not set.
describe('config fields from unset environment variables', () => {
  it('count as empty, so defaults apply', () => {
    assert.equal(isUnsetEnv('${BLOCK_TTL}'), true);
    assert.equal(isUnsetEnv('$(BLOCK_TTL)'), true);
    assert.equal(isUnsetEnv('24h'), false);
    assert.equal(readNumber('${STORM_CAP}', 60, { name: 'storm cap' }), 60);
    assert.equal(readBool('${SIMULATE}', false), false);
    assert.deepEqual(readList('${NEVER_BLOCK}'), []);
    assert.equal(readText('${UNBLOCK_VALUE}', 'UNBLOCKED'), 'UNBLOCKED');
  });

  it('let TLS "auto" fall through an unset fingerprint to the insecure switch, or to the system CAs', () => {
    assert.deepEqual(resolveTlsSettings({ tlsMode: 'auto', tlsFingerprint: '${LM_FP}', tlsInsecure: 'true' }), { mode: 'insecure' });
    assert.deepEqual(resolveTlsSettings({ tlsMode: 'auto', tlsFingerprint: '${LM_FP}', tlsInsecure: '${LM_INSECURE}' }), { mode: 'system' });
  });

  it('make CryptoSpike sign in with user name and password when the token variable is unset', () => {
    assert.deepEqual(authFrom({ apiToken: '${CRYPTOSPIKE_TOKEN}', username: 'svc', password: 'pw' }), { username: 'svc', password: 'pw' });
    assert.throws(() => authFrom({ apiToken: '${CRYPTOSPIKE_TOKEN}', username: '${U}', password: '${P}' }), /credentials missing/);
  });

  it('report a LoadMaster API key that is only an unset variable as missing', () => {
    assert.throws(
      () => readLoadMasterSettings({ url: 'https://192.0.2.1' }, { apiKey: '${LOADMASTER_APIKEY}' }),
      /the API key is missing/,
    );
  });
});

describe('values posted by a configuration dialog', () => {
  it('count a credential as typed only when it is neither the placeholder, empty, nor a ${VAR} (never resolved)', () => {
    process.env.FLOWMON_TEST_FIELD = 'from-the-environment';
    try {
      assert.equal(typedCredential('${FLOWMON_TEST_FIELD}'), undefined);
      assert.equal(typedCredential('$(FLOWMON_TEST_FIELD)'), undefined);
    } finally {
      delete process.env.FLOWMON_TEST_FIELD;
    }
    assert.equal(typedCredential('__PWRD__'), undefined);
    assert.equal(typedCredential(''), undefined);
    assert.equal(typedCredential('  '), undefined);
    assert.equal(typedCredential(42), undefined);
    assert.equal(typedCredential('typed'), 'typed');
    assert.equal(typedCredential('a${B}c'), 'a${B}c');
  });
});
