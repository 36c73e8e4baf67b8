import { formatCidr, parseCidr } from '../../lib/net/address';
import type { SimAclEntry, SimLists, SimState, SimVirtualService } from './state';
import type { SimSwitches } from './switches';

/** A reply before the envelope: the status code, a message for errors, data keys for successes. */
export interface CommandReply {
  code: number;
  message?: string;
  data?: Record<string, unknown>;
}

export type Body = Record<string, unknown>;

const VERBS = ['list', 'add', 'del', 'listvs', 'addvs', 'delvs'] as const;
type Verb = (typeof VERBS)[number];

export const WRITE_VERBS: ReadonlySet<string> = new Set(['add', 'del', 'addvs', 'delvs']);

const fail = (code: number, message: string): CommandReply => ({ code, message });
const ok = (data?: Record<string, unknown>): CommandReply => ({ code: 200, message: 'Command completed ok', data });

export function aclVerb(body: Body): Verb | undefined {
  return VERBS.find((verb) => body[verb] !== undefined);
}

function listName(value: unknown): keyof SimLists | null {
  if (value === 'block' || value === 'black') return 'block';
  if (value === 'allow' || value === 'white') return 'allow';
  return null;
}

function str(value: unknown): string {
  return value === undefined || value === null ? '' : String(value);
}

/** `vs=<index>`, `vs=<ip>&port=&prot=` (SDK) or `vsip=&vsport=&vsprot=` (documented); `vsip=<index>` as seen in the wild. */
function findVirtualService(body: Body, state: SimState): SimVirtualService | undefined {
  const all = Object.values(state.vs);
  const bySocket = (ip: string, port: string, prot: string) =>
    all.find((vs) => vs.address === ip && vs.port === port && vs.protocol === prot.toLowerCase());
  const vs = str(body.vs);
  if (/^\d+$/.test(vs)) return state.vs[vs];
  if (vs) return bySocket(vs, str(body.port), str(body.prot));
  const vsip = str(body.vsip);
  if (/^\d+$/.test(vsip)) return state.vs[vsip];
  return bySocket(vsip, str(body.vsport), str(body.vsprot));
}

function listReply(name: keyof SimLists, entries: SimAclEntry[], switches: SimSwitches): Record<string, unknown> {
  const items = entries.map((e) => ({ addr: e.addr, comment: e.comment }));
  switch (switches.listShape) {
    case 'k8':
      return { Acl: items.map((e) => e.addr) };
    case 'flattened':
      return { [name === 'block' ? 'Blocklist' : 'Allowlist']: items.length === 0 ? '' : { IP: items.length === 1 ? items[0] : items } };
    default:
      return { list: name, IP: items };
  }
}

function parseAddr(body: Body): { addr: string } | CommandReply {
  const text = str(body.addr).trim();
  if (!text) return fail(400, 'addr: String Value missing');
  const cidr = parseCidr(text);
  if (cidr) return { addr: formatCidr(cidr) };
  if (parseCidr(text, { clearHostBits: true })) {
    return fail(422, 'Invalid network specification prefix is invalid for specified network');
  }
  return fail(422, `Invalid address ${text}`);
}

/** Runs one `cmd: "aclcontrol"` call against the state. */
export function runAclControl(body: Body, state: SimState, switches: SimSwitches): CommandReply {
  const verb = aclVerb(body);
  if (!verb) return fail(400, 'Missing or unknown aclcontrol parameter');
  const name = listName(body[verb]);
  if (!name) return fail(422, `Unknown list ${str(body[verb])}`);
  const perVs = verb.endsWith('vs');
  if (!perVs && switches.permissions !== 'all') return fail(403, 'Incorrect permissions');
  let lists: SimLists = state.lists;
  if (perVs) {
    const vs = findVirtualService(body, state);
    if (!vs) return verb === 'delvs' ? fail(422, 'Unknown VS: vipdump failed') : fail(422, 'Invalid address: unknown VS+port');
    lists = vs;
  }
  const entries = lists[name];
  if (verb === 'list' || verb === 'listvs') return ok(listReply(name, entries, switches));
  if (!switches.packetFilter) return fail(422, 'The packet filter is not enabled');
  const parsed = parseAddr(body);
  if ('code' in parsed) return parsed;
  const at = entries.findIndex((e) => e.addr === parsed.addr);
  if (verb === 'add' || verb === 'addvs') {
    let comment = str(body.comment);
    if (comment.length > 127) {
      if (switches.longComment === 'fail') return fail(422, 'Comment too long (max 127 characters)');
      comment = comment.slice(0, 127);
    }
    if (at >= 0) return switches.duplicateAdd === 'fail' ? fail(422, `Address ${parsed.addr} already in list`) : ok();
    entries.push({ addr: parsed.addr, comment });
    return ok();
  }
  if (at < 0) return switches.missingDelete === 'fail' ? fail(422, `Address ${parsed.addr} not in list`) : ok();
  entries.splice(at, 1);
  return ok();
}

export function runListVirtualServices(state: SimState): CommandReply {
  return ok({
    VS: Object.values(state.vs).map((vs) => ({
      Status: 'Up',
      Index: Number(vs.index),
      VSAddress: vs.address,
      VSPort: vs.port,
      Protocol: vs.protocol,
      NickName: vs.nickname,
      Enable: vs.enabled,
    })),
  });
}
