import { LoadMasterConnection, connectLoadMaster } from '../../../lib/loadmaster/create';
import { LoadMasterConfigFields, LoadMasterCredentials, readLoadMasterSettings } from '../../../lib/loadmaster/settings';
import type { LoadMasterSimulator } from '../../../simulators/loadmaster';

/** A paced client for the simulator, pinned to its certificate, with the API key unless credentials are given. */
export function connectTo(
  sim: LoadMasterSimulator,
  fields: LoadMasterConfigFields = {},
  credentials: LoadMasterCredentials = { apiKey: sim.apiKey },
): LoadMasterConnection {
  return connectLoadMaster(
    readLoadMasterSettings({ url: sim.url, tlsFingerprint: sim.fingerprint, timeout: 5, outageRetry: 0, ...fields }, credentials),
  );
}
