// The length limit of every AdsEvent field, in one table, and the check every reader's event goes through.
//
// An event travels on into the intake journal, the block registry and appliance comments, so a field no real ADS
// event would carry (a 60 KB event id, thousands of targets) is refused with its reason instead of being stored or
// silently cut. The figures come from the ADS CEF sample corpus (48,141 lines, ADS 6.07–13.0) and the format spec;
// each limit leaves a wide margin over the longest value seen or documented. Lengths are JavaScript string lengths
// (UTF-16 code units), counted after the reader's own clean-up (trimmed values, canonical addresses).
import { AdsEvent } from './event';
import { LineError } from './values';

export interface FieldLimit {
  /** How the field is named in a reject reason. */
  name: string;
  /** Most characters of the value (of each item, for a list); null: bounded elsewhere. */
  chars: number | null;
  /** Most items of a list field. */
  items?: number;
}

/** One limit for every field of AdsEvent (the mapped type makes a new field without a limit a compile error). */
export const FIELD_LIMITS: { readonly [K in keyof AdsEvent]-?: FieldLimit } = {
  // Picked by the reader from fixed sets ('ads'/'ids', 'tsv-extended', 'informational'): 13 characters at most.
  kind: { name: 'kind', chars: 16 },
  format: { name: 'format', chars: 16 },
  priority: { name: 'priority', chars: 16 },
  // ADS event ids are integers (6 digits in the corpus, `cn1=4179` in the FortiSIEM sample); IDS ids likewise.
  // 128 still takes a UUID (36) or a composite id. The id is kept with every block, so it must stay small.
  id: { name: 'event id', chars: 128 },
  // Written by the reader as ISO 8601 (24 characters, 27 for years past 9999).
  detectedAt: { name: 'detection time', chars: 32 },
  firstFlowAt: { name: 'first flow time', chars: 32 },
  // 54 ADS method codes, the longest RANDOMDOMAIN (12); "IDS" for IDS events; 64 leaves room for custom codes.
  method: { name: 'method code', chars: 64 },
  // The submethod (longest in the corpus 25, e.g. `General`, `IPBased`) or an IDS signature id (a number).
  subtype: { name: 'subtype', chars: 128 },
  // MITRE ATT&CK tactic/technique text (`T1110 Brute Force`); its exact form is undocumented and an event may name
  // several (about 50 characters each), so 512.
  mitre: { name: 'MITRE ATT&CK', chars: 512 },
  // Method display name (longest 47, "Amplificated/reflected denial of service attack") or an IDS signature name
  // (Suricata rule messages run to about 200).
  description: { name: 'description', chars: 512 },
  // A perspective name as set in the ADS UI (`Security Issues`).
  perspective: { name: 'perspective', chars: 256 },
  // The event detail sentence or machine-readable `{Key:'value';…}` text: longest in the corpus 563; 8 KiB is 14×.
  detail: { name: 'detail', chars: 8192 },
  // Port numbers as text (longest in the corpus 19, a PortList); 1024 takes a list of about 170 ports.
  ports: { name: 'ports', chars: 1024 },
  // A protocol number or name (longest in the corpus 3), or a short list of them.
  protocol: { name: 'protocol', chars: 64 },
  // Canonical addresses: IPv6 compressed is 39 characters at most.
  source: { name: 'source', chars: 64 },
  // Captured source name: undocumented, a host or probe name (DNS names are 253 at most).
  sourceName: { name: 'source name', chars: 256 },
  // Each a canonical address (39 at most). ADS caps the lists it sends (the corpus lists at most 11 entries,
  // 10 distinct); 1024 distinct targets is a hundred times that and about 16 KB of text.
  targets: { name: 'target', chars: 64, items: 1024 },
  // Data feed name (`LAN`), a numeric data feed id (cn2) or an IDS log source address.
  dataFeed: { name: 'data feed', chars: 256 },
  // `DOMAIN\user` (15 + 1 + 20) or a UPN: a 64-character name at a 253-character domain is 318.
  userIdentity: { name: 'user identity', chars: 320 },
  // The whole line: bounded by the parser's line limit (Max. line) before any reader sees it.
  raw: { name: 'line', chars: null },
};

const FIELDS = Object.keys(FIELD_LIMITS) as (keyof AdsEvent)[];

/** The event itself, or a LineError naming the first field over its limit (its length and the limit). */
export function bounded(event: AdsEvent): AdsEvent {
  for (const field of FIELDS) {
    const { name, chars, items } = FIELD_LIMITS[field];
    const value = event[field];
    if (Array.isArray(value)) {
      if (items !== undefined && value.length > items) {
        throw new LineError(`${value.length} ${name}s are over the limit of ${items}`);
      }
      for (const item of value) overLimit(name, item, chars);
    } else if (typeof value === 'string') {
      overLimit(name, value, chars);
    }
  }
  return event;
}

function overLimit(name: string, value: string, chars: number | null): void {
  if (chars !== null && value.length > chars) {
    throw new LineError(`${name} of ${value.length} characters is over the limit of ${chars}`);
  }
}
