import { BlockList, isIP } from 'node:net';

export type AddressFamily = 'ipv4' | 'ipv6';

export interface Cidr {
  /** Canonical network address (host bits cleared). */
  network: string;
  prefix: number;
  family: AddressFamily;
}

const ipv4Mapped = new BlockList();
ipv4Mapped.addSubnet('::ffff:0:0', 96, 'ipv6');

/**
 * Canonical text of an IP address, or null when `text` is not one.
 * IPv4 stays dotted-quad; IPv6 becomes lower-case and compressed (RFC 5952, as WHATWG URL serialises it);
 * an IPv4-mapped IPv6 address becomes the IPv4 address. Surrounding brackets and a zone id are rejected.
 */
export function canonicalAddress(text: string): string | null {
  const family = isIP(text);
  if (family === 4) return text;
  if (family !== 6 || text.includes('%')) return null;
  const compressed = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  if (ipv4Mapped.check(compressed, 'ipv6')) return mappedToIpv4(compressed);
  return compressed;
}

export function addressFamily(address: string): AddressFamily | null {
  const family = isIP(address);
  return family === 4 ? 'ipv4' : family === 6 ? 'ipv6' : null;
}

/** `::ffff:a00:1` (as URL serialises a mapped address) or `::ffff:10.0.0.1` → `10.0.0.1`. */
function mappedToIpv4(compressed: string): string {
  const tail = compressed.slice('::ffff:'.length);
  if (isIP(tail) === 4) return tail;
  const [high, low] = tail.split(':').map((group) => parseInt(group, 16));
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}

/** The 16 bytes of a canonical IPv6 address (or 4 of IPv4), via the URL parser's validated form. */
function addressBytes(address: string, family: AddressFamily): number[] {
  if (family === 'ipv4') return address.split('.').map(Number);
  const [head, tail = ''] = address.includes('::') ? address.split('::') : [address, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups = address.includes('::')
    ? [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups]
    : headGroups;
  return groups.flatMap((group) => {
    const value = parseInt(group, 16);
    return [value >> 8, value & 0xff];
  });
}

function bytesToAddress(bytes: number[], family: AddressFamily): string {
  if (family === 'ipv4') return bytes.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  return canonicalAddress(groups.join(':')) as string;
}

/** Clears the host bits of `address` under `prefix`. */
export function networkAddress(address: string, prefix: number): string {
  const family = addressFamily(address);
  if (!family) throw new Error(`not an IP address: ${address}`);
  const bytes = addressBytes(address, family);
  const masked = bytes.map((byte, i) => {
    const bitsKept = Math.max(0, Math.min(8, prefix - i * 8));
    return byte & ((0xff << (8 - bitsKept)) & 0xff);
  });
  return bytesToAddress(masked, family);
}

export function maxPrefix(family: AddressFamily): number {
  return family === 'ipv4' ? 32 : 128;
}

/**
 * Parses `addr` or `addr/prefix`. The address is canonicalised; host bits set under the prefix are an error
 * (the LoadMaster refuses such networks), unless `clearHostBits` is set.
 */
export function parseCidr(text: string, options: { clearHostBits?: boolean } = {}): Cidr | null {
  const slash = text.indexOf('/');
  const address = canonicalAddress(slash < 0 ? text : text.slice(0, slash));
  if (!address) return null;
  const family = addressFamily(address) as AddressFamily;
  let prefix = maxPrefix(family);
  if (slash >= 0) {
    const prefixText = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(prefixText)) return null;
    prefix = Number(prefixText);
    if (prefix > maxPrefix(family)) return null;
  }
  const network = networkAddress(address, prefix);
  if (network !== address && !options.clearHostBits) return null;
  return { network, prefix, family };
}

export function formatCidr(cidr: Cidr): string {
  return `${cidr.network}/${cidr.prefix}`;
}

/**
 * The CIDR to block for one source address: /32 for IPv4, `ipv6Prefix` (default /128) for IPv6, so that an
 * attacker rotating inside an IPv6 /64 can be blocked as a whole.
 */
export function blockCidrFor(address: string, ipv6Prefix = 128): Cidr {
  const canonical = canonicalAddress(address);
  if (!canonical) throw new Error(`not an IP address: ${address}`);
  const family = addressFamily(canonical) as AddressFamily;
  const prefix = family === 'ipv4' ? 32 : ipv6Prefix;
  return { network: networkAddress(canonical, prefix), prefix, family };
}

/** True when the two networks share at least one address (CIDRs either nest or are disjoint). */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  const aList = new BlockList();
  aList.addSubnet(a.network, a.prefix, a.family);
  const bList = new BlockList();
  bList.addSubnet(b.network, b.prefix, b.family);
  return aList.check(b.network, b.family) || bList.check(a.network, a.family);
}
