// Placeholder until the durable registry lands: the exported names below are the contract the appliance nodes use.
import type { MitigationKey } from '../mitigation/types';

export interface RuntimeLike {
  settings: { userDir?: string };
}

export interface MitigationRegistry {
  /** True while a block for this (config, scope, target) is active, so the appliance need not be called again. */
  isActive(key: MitigationKey): boolean;
}

const active = new Set<string>();

export function getRegistry(_red: RuntimeLike): MitigationRegistry {
  return { isActive: (key) => active.has(`${key.configId}|${key.scope}|${key.target}`) };
}
