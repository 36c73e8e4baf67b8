import type { Node } from 'node-red';
import type { LoadMasterService } from '../../lib/loadmaster/service';
import type { LoadMasterCredentials } from '../../lib/loadmaster/settings';
import type { MitigationAppliance } from '../../lib/mitigation/types';

/** What the ACL node and the admin routes see of a deployed flowmon-loadmaster-config. */
export interface LoadMasterConfigNode extends Node<LoadMasterCredentials>, MitigationAppliance {
  /** Null when the configuration is invalid; `configError` then says why. */
  loadMaster: LoadMasterService | null;
  configError: string | null;
}
