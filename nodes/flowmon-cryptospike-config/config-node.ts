import type { Node } from 'node-red';
import type { DeployedConnection } from '../../lib/config/connection-lookup';
import type { CryptoSpikeClientOptions } from '../../lib/cryptospike/client';
import type { CryptoSpikeResponder } from '../../lib/cryptospike/responder';
import type { CryptoSpikeCredentials } from '../../lib/cryptospike/settings';
import type { HoldInfo } from '../../lib/decisions/types';
import type { AppliedHold, MitigationKey, ReleaseOutcome } from '../../lib/mitigation/types';

/** The runtime shape of a flowmon-cryptospike-config node (a MitigationAppliance), as the user node sees it. */
export interface CryptoSpikeConfigNode extends Node<CryptoSpikeCredentials> {
  applianceKind: 'cryptospike';
  simulate: boolean;
  userIdType: string;
  /** Null when the configuration is not usable; `configError` says why. */
  responder: CryptoSpikeResponder | null;
  configError: string | null;
  /** For the admin route: the connection as deployed, and its resolved client options. */
  deployedConnection: DeployedConnection<CryptoSpikeClientOptions>;
  releaseMitigation(key: MitigationKey): Promise<ReleaseOutcome>;
  /** Blocks the user of a held entry a person approved (for an ambiguous entry: `userId`, one of its candidates). */
  applyHeld(key: MitigationKey, hold: HoldInfo, userId?: string): Promise<AppliedHold>;
}
