import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { ProtectedNetworks } from '../safety/protected-networks';

export interface ProtectionOptions {
  /** The user's never-block list (addresses or CIDRs). */
  neverBlock: string[];
  /** Host name or address of the LoadMaster: every address it resolves to is protected. */
  applianceHost: string;
  /** Also protect the addresses of this machine's interfaces. */
  protectHost: boolean;
}

export interface Protection {
  networks: ProtectedNetworks;
  /** Problems worth a warning (an invalid never-block entry, a host name that does not resolve). */
  warnings: string[];
}

/**
 * The networks one LoadMaster config must never block: the built-ins (loopback, unspecified, multicast,
 * link-local, broadcast), the user's list, the LoadMaster's own addresses and, optionally, this host's.
 */
export async function buildProtection(options: ProtectionOptions): Promise<Protection> {
  const networks = new ProtectedNetworks();
  const warnings: string[] = [];
  const invalid = networks.addList(options.neverBlock.join(','), 'never-block list');
  if (invalid.length > 0) throw new Error(`never-block list: not an address or CIDR: ${invalid.join(', ')}`);
  for (const address of await applianceAddresses(options.applianceHost, warnings)) {
    networks.add(address, 'the LoadMaster itself');
  }
  if (options.protectHost) {
    for (const list of Object.values(networkInterfaces())) {
      for (const iface of list ?? []) networks.add(iface.address.replace(/%.*$/, ''), 'this Node-RED host');
    }
  }
  return { networks, warnings };
}

async function applianceAddresses(host: string, warnings: string[]): Promise<string[]> {
  if (isIP(host)) return [host];
  try {
    return (await lookup(host, { all: true })).map((entry) => entry.address);
  } catch (err) {
    warnings.push(`could not resolve the LoadMaster host "${host}" to protect its addresses: ${(err as Error).message}`);
    return [];
  }
}
