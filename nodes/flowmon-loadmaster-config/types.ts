import type { Node } from 'node-red';
import type { DeployedConnection } from '../../lib/config/connection-lookup';
import type { LoadMasterService } from '../../lib/loadmaster/service';
import type { LoadMasterCredentials, LoadMasterSettings } from '../../lib/loadmaster/settings';
import type { MitigationAppliance } from '../../lib/mitigation/types';

/** What the ACL node and the admin routes see of a deployed flowmon-loadmaster-config. */
export interface LoadMasterConfigNode extends Node<LoadMasterCredentials>, MitigationAppliance {
  /** Null when the configuration is invalid; `configError` then says why. */
  loadMaster: LoadMasterService | null;
  configError: string | null;
  /** For the admin routes: the connection as deployed, and its resolved settings. */
  deployedConnection: DeployedConnection<LoadMasterSettings>;
}
