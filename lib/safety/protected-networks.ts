import { Cidr, cidrsOverlap, formatCidr, parseCidr } from '../net/address';

interface ProtectedRange {
  cidr: Cidr;
  label: string;
}

/** Networks that must never be blocked, whatever asks for it. */
export const BUILT_IN_PROTECTED: ReadonlyArray<[string, string]> = [
  ['0.0.0.0/32', 'unspecified address'],
  ['::/128', 'unspecified address'],
  ['127.0.0.0/8', 'loopback'],
  ['::1/128', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['fe80::/10', 'link-local'],
  ['224.0.0.0/4', 'multicast'],
  ['ff00::/8', 'multicast'],
  ['255.255.255.255/32', 'broadcast'],
];

export class ProtectedNetworks {
  private readonly ranges: ProtectedRange[] = [];

  constructor(includeBuiltIns = true) {
    if (includeBuiltIns) for (const [cidr, label] of BUILT_IN_PROTECTED) this.add(cidr, label);
  }

  /** Adds a CIDR or a single address; throws on text that is neither. */
  add(text: string, label: string): void {
    const cidr = parseCidr(text.trim(), { clearHostBits: true });
    if (!cidr) throw new Error(`"${text}" is not an IP address or CIDR`);
    this.ranges.push({ cidr, label });
  }

  /** Adds every CIDR of a comma, space or newline separated list; returns the entries that are not valid. */
  addList(list: string, label: string): string[] {
    const invalid: string[] = [];
    for (const item of list.split(/[\s,;]+/).filter(Boolean)) {
      try {
        this.add(item, label);
      } catch {
        invalid.push(item);
      }
    }
    return invalid;
  }

  /** Why blocking `cidr` is not allowed, or null when it is. A block that would cover a protected address counts. */
  reasonFor(cidr: Cidr): string | null {
    const hit = this.ranges.find((range) => cidrsOverlap(range.cidr, cidr));
    return hit ? `${formatCidr(cidr)} is protected (${hit.label} ${formatCidr(hit.cidr)})` : null;
  }
}
