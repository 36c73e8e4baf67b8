// The two appliance simulators with the demo data, and the environment the example flows read (`${VAR}` fields).
import { randomBytes } from 'node:crypto';
import { startCryptoSpikeSimulator, type CryptoSpikeSimulator } from '../simulators/cryptospike';
import { startLoadMasterSimulator, type LoadMasterSimulator } from '../simulators/loadmaster';

/** Sources with file activity on the CryptoSpike simulator: one user each, except the ambiguous ones (two users). */
export const SOURCE_USERS: Record<string, Array<{ userId: string; username: string }>> = {
  '192.0.2.10': [{ userId: 'S-1-5-21-1000-1101', username: 'jdoe' }],
  '192.0.2.11': [{ userId: 'S-1-5-21-1000-1102', username: 'asmith' }],
  '2001:db8::1a': [{ userId: 'S-1-5-21-1000-1103', username: 'bwong' }],
  '192.0.2.12': [
    { userId: 'S-1-5-21-1000-1104', username: 'cfox' },
    { userId: 'S-1-5-21-1000-1105', username: 'dlee' },
  ],
  // Only in the events for the example "Ask a person before blocking" (npm run demo:send -- ask).
  '192.0.2.13': [
    { userId: 'S-1-5-21-1000-1106', username: 'egarcia' },
    { userId: 'S-1-5-21-1000-1107', username: 'fkim' },
  ],
};
export const AMBIGUOUS_SOURCE = '192.0.2.12';
export const ASK_AMBIGUOUS_SOURCE = '192.0.2.13';

export interface Appliances {
  loadMaster: LoadMasterSimulator;
  cryptoSpike: CryptoSpikeSimulator;
  /** Environment for Node-RED: every `${VAR}` the main example uses. */
  env: Record<string, string>;
  /** Seeds fresh file activity (the user node looks back `windowMinutes` from now). */
  seedActivity(): void;
  close(): Promise<void>;
}

export async function startAppliances(options: { blockTtl: string; secret?: string }): Promise<Appliances> {
  const loadMaster = await startLoadMasterSimulator();
  const cryptoSpike = await startCryptoSpikeSimulator();
  const seedActivity = (): void => {
    for (const [ip, users] of Object.entries(SOURCE_USERS)) {
      for (const user of users) cryptoSpike.seedActivity(ip, user.userId, user.username, 12);
    }
  };
  seedActivity();
  const env: Record<string, string> = {
    LOADMASTER_URL: loadMaster.url,
    LOADMASTER_APIKEY: loadMaster.apiKey,
    LOADMASTER_TLS_FINGERPRINT: loadMaster.fingerprint,
    CRYPTOSPIKE_URL: cryptoSpike.url,
    CRYPTOSPIKE_TOKEN: cryptoSpike.apiToken,
    CRYPTOSPIKE_TLS_FINGERPRINT: cryptoSpike.fingerprint,
    ADS_SHARED_SECRET: options.secret ?? randomBytes(18).toString('base64url'),
    BLOCK_TTL: options.blockTtl,
  };
  return {
    loadMaster,
    cryptoSpike,
    env,
    seedActivity,
    close: async () => {
      await Promise.all([loadMaster.close(), cryptoSpike.close()]);
    },
  };
}
