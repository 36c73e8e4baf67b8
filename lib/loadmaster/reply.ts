import { formatCidr, parseCidr } from '../net/address';

/** One entry of a LoadMaster access list; `cidr` is normalised (canonical network address and explicit prefix). */
export interface AclEntry {
  cidr: string;
  comment: string;
}

export interface VirtualService {
  index: string;
  address: string;
  port: string;
  protocol: string;
  name: string;
  enabled: boolean;
}

type Json = Record<string, unknown>;

const LIST_KEYS = ['Blocklist', 'BlockList', 'Blacklist', 'Allowlist', 'AllowList', 'Whitelist'];

/** Normalised CIDR text of an address as a LoadMaster lists it (`10.1.1.1`, `10.1.1.1/32`, `2001:db8::/64`). */
export function normaliseCidr(text: string): string | null {
  const cidr = parseCidr(text.trim(), { clearHostBits: true });
  return cidr ? formatCidr(cidr) : null;
}

function asArray(value: unknown): unknown[] {
  if (value === undefined || value === null || value === '') return [];
  return Array.isArray(value) ? value : [value];
}

function isObject(value: unknown): value is Json {
  return !!value && typeof value === 'object' && !Array.isArray(value);
}

function toEntry(item: unknown): AclEntry | null {
  if (typeof item === 'string') {
    const cidr = normaliseCidr(item);
    return cidr ? { cidr, comment: '' } : null;
  }
  if (!isObject(item) || typeof item.addr !== 'string') return null;
  const cidr = normaliseCidr(item.addr);
  return cidr ? { cidr, comment: typeof item.comment === 'string' ? item.comment : '' } : null;
}

/** The raw items of the list wherever this reply shape keeps them, or null when it holds no list. */
function rawItems(node: Json): unknown[] | null {
  if ('IP' in node) return asArray(node.IP);
  if ('Acl' in node) return asArray(node.Acl);
  for (const key of LIST_KEYS) {
    if (!(key in node)) continue;
    const inner = node[key];
    if (!isObject(inner)) return asArray(inner);
    if ('IP' in inner) return asArray(inner.IP);
    if ('addr' in inner) return asArray(inner.addr);
    return [];
  }
  return null;
}

/**
 * Entries of a `list` / `listvs` reply. The APIv2 reply shape is not documented, so every reported form is read:
 * `IP:[{addr,comment}]` (or one object), `Acl:["…"]`, `Blocklist:{IP:…}` (also Allowlist, legacy Blacklist/
 * Whitelist with bare `addr`), each at the top or inside `VS` / `Data`. A reply without any list is an empty list.
 */
export function parseAclEntries(reply: unknown): AclEntry[] {
  if (!isObject(reply)) return [];
  const candidates: Json[] = [reply];
  for (const key of ['Data', 'VS']) {
    for (const inner of asArray(reply[key])) if (isObject(inner)) candidates.push(inner);
  }
  for (const node of candidates) {
    const items = rawItems(node);
    if (items) return items.map(toEntry).filter((e): e is AclEntry => e !== null);
  }
  return [];
}

function text(value: unknown): string {
  return value === undefined || value === null ? '' : String(value);
}

/** The virtual services of a `{cmd:"listvs"}` reply (`VS` as an array or a single object). */
export function parseVirtualServices(reply: unknown): VirtualService[] {
  if (!isObject(reply)) return [];
  return asArray(reply.VS)
    .filter(isObject)
    .filter((vs) => vs.Index !== undefined)
    .map((vs) => ({
      index: text(vs.Index),
      address: text(vs.VSAddress),
      port: text(vs.VSPort),
      protocol: text(vs.Protocol),
      name: text(vs.NickName),
      enabled: vs.Enable === undefined ? true : vs.Enable === true || vs.Enable === 'Y' || vs.Enable === 'y',
    }));
}
