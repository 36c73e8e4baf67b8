import assert from 'node:assert/strict';
import { isUnsetEnv, readBool, readList, readNumber, readText } from '../../../lib/config/fields';
import { substituteEnvFields, typedOrDeployedSecret } from '../../../lib/config/editor-values';
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
  it('substitute ${VAR} like a deploy, and keep the deployed secret for the editor placeholder', () => {
    process.env.FLOWMON_TEST_FIELD = 'https://192.0.2.5';
    try {
      assert.deepEqual(substituteEnvFields({ url: '${FLOWMON_TEST_FIELD}', timeout: 5 }), { url: 'https://192.0.2.5', timeout: 5 });
    } finally {
      delete process.env.FLOWMON_TEST_FIELD;
    }
    assert.equal(typedOrDeployedSecret('__PWRD__', 'kept'), 'kept');
    assert.equal(typedOrDeployedSecret('', 'kept'), 'kept');
    assert.equal(typedOrDeployedSecret('typed', 'kept'), 'typed');
  });
});
