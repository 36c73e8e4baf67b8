import type { Node } from 'node-red';
import type { CryptoSpikeResponder } from '../../lib/cryptospike/responder';
import type { CryptoSpikeCredentials } from '../../lib/cryptospike/settings';
import type { MitigationKey, ReleaseOutcome } from '../../lib/mitigation/types';

/** The runtime shape of a flowmon-cryptospike-config node (a MitigationAppliance), as the user node sees it. */
export interface CryptoSpikeConfigNode extends Node<CryptoSpikeCredentials> {
  applianceKind: 'cryptospike';
  simulate: boolean;
  userIdType: string;
  /** Null when the configuration is not usable; `configError` says why. */
  responder: CryptoSpikeResponder | null;
  configError: string | null;
  releaseMitigation(key: MitigationKey): Promise<ReleaseOutcome>;
}
