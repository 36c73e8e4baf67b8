// Deterministic hostile input lines for the HTTP endpoint. Each line says whether the parser must reject it.
import { TSV_ORDER, TsvFields, tsvFields, tsvLine } from './events';

export interface FuzzLine {
  kind: string;
  /** Text, or bytes for lines holding invalid UTF-8. */
  line: string | Buffer;
  bad: boolean;
  /** An address or user name the line carries inside its text, which must never be blocked. */
  injected?: { address?: string; user?: string };
}

/** Users that exist on the CryptoSpike simulator and that only an injected `suser=` names. */
export const VICTIM_USERS = Array.from({ length: 5 }, (_, i) => ({ userId: `S-1-5-21-6660-${i}`, username: `fuzzvictim${i}` }));
/** One line in this many is one of the HOSTILE kinds (they are large, so they are kept to a few hundred). */
export const HOSTILE_EVERY = 25;
export const DEEP = 10_000;

/** mulberry32: a small seeded generator, so a failure can be replayed. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INJECTIONS = [
  "'; DROP TABLE blocks; --",
  '$(rm -rf /)',
  '`reboot`',
  '{{constructor.constructor("return process")()}}',
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  '__proto__',
  '${LOADMASTER_APIKEY}',
  '%s%s%s%n',
  '\u202eevil',
];
const BAD_ADDRESSES = ['999.1.1.1', '10.0.0', '1.2.3.4.5', 'fe80::zz', 'localhost', '1.2.3.4/24', '0x7f.1', '::ffff:999.0.0.1', '1.2.3.-4'];
/** Fields whose content is checked: a hostile value there must be rejected; elsewhere it is text to keep. */
const CHECKED: (keyof TsvFields)[] = ['method', 'source', 'targets'];

/** A good standard TSV line for fuzz line `n`, with fields replaced. */
function validLines(goodSource: (n: number) => string) {
  return (n: number, overrides: Partial<TsvFields> = {}) => tsvLine(tsvFields(`fz-${n}`, goodSource(n), overrides));
}

export function fuzzLines(count: number, seed: number, goodSource: (n: number) => string): FuzzLine[] {
  const rnd = random(seed);
  const pick = <T>(items: T[]): T => items[Math.floor(rnd() * items.length)];
  const valid = validLines(goodSource);
  const makers: Array<(n: number) => FuzzLine> = [
    () => {
      const bytes = Array.from({ length: 1 + Math.floor(rnd() * 200) }, () => {
        const b = Math.floor(rnd() * 256);
        return b === 0x0a || b === 0x0d || b === 0x09 ? 0x41 : b;
      });
      bytes[0] = 0x5a; // never a blank line, never JSON
      return { kind: 'random bytes', line: Buffer.from(bytes), bad: true };
    },
    (n) => {
      const full = valid(n);
      const lastTab = full.lastIndexOf('\t');
      return { kind: 'truncated', line: full.slice(0, 1 + Math.floor(rnd() * (lastTab - 1))), bad: true };
    },
    (n) => {
      const fields = valid(n).split('\t');
      const count = pick([1, 2, 5, 10, 13, 16, 18, 19, 25]);
      const out = count < fields.length ? fields.slice(0, count) : [...fields, ...Array.from({ length: count - fields.length }, () => 'x')];
      return { kind: 'wrong field count', line: out.join('\t'), bad: true };
    },
    (n) => ({ kind: 'huge field', line: valid(n, { detail: 'A'.repeat(70_000) }), bad: true }),
    (n) => ({ kind: 'invalid source', line: valid(n, { source: pick(BAD_ADDRESSES) }), bad: true }),
    (n) => ({ kind: 'invalid target', line: valid(n, { targets: `203.0.113.9, ${pick(BAD_ADDRESSES)}` }), bad: true }),
    (n) => {
      const control = String.fromCharCode(pick([0, 1, 7, 8, 0x1b, 0x7f]));
      return { kind: 'control characters', line: valid(n, { source: `198.51.100.1${control}` }), bad: true };
    },
    (n) => {
      const field = pick(TSV_ORDER);
      const value = pick(INJECTIONS);
      // A line that starts with { is read as JSON (documented), so a hostile id opening with { spoils the line.
      const bad = CHECKED.includes(field) || (field === 'id' && value.startsWith('{'));
      return { kind: `injection in ${bad ? 'a checked' : 'a text'} field`, line: valid(n, { [field]: value }), bad };
    },
    (n) => ({
      kind: 'invalid UTF-8',
      line: Buffer.concat([Buffer.from(valid(n).replace('Port scanning\t', 'Port ')), Buffer.from([0xff, 0xfe, 0xc3, 0x28])]),
      bad: true,
    }),
    (n) => ({ kind: 'broken JSON', line: `{"id":"fz-${n}","timestamp":"2025-03-10 08:15:00","type":"SCANS","source":`, bad: true }),
  ];
  const hostile = hostileMakers(rnd, goodSource);
  return Array.from({ length: count }, (_, n) =>
    n % HOSTILE_EVERY === HOSTILE_EVERY - 1 ? hostile[Math.floor(n / HOSTILE_EVERY) % hostile.length](n) : pick(makers)(n),
  );
}

/** `[[[…]]]` and `{"a":{"a":…}}`, DEEP levels. */
export function deepJson(shape: 'array' | 'object'): string {
  return shape === 'array' ? '['.repeat(DEEP) + ']'.repeat(DEEP) : '{"a":'.repeat(DEEP) + '{}' + '}'.repeat(DEEP);
}

const CEF_HEAD = 'CEF:0|Flowmon Networks|Flowmon ADS Ultimate|13.00.00|SSHDICT|SSH attack|8|';

/**
 * Deep nesting, CEF lines whose msg text carries a source or user key, and fields over their limits. A source or
 * user key in the msg text is ignored (the line is read with its own source and user); every other hostile line is
 * rejected. The injected address or user must never be blocked.
 */
function hostileMakers(rnd: () => number, goodSource: (n: number) => string): Array<(n: number) => FuzzLine> {
  const syslog = (cef: string) => (rnd() < 0.5 ? cef : `<84>Mar 10 08:15:00 ads-fuzz ADS[4242]: ${cef}`);
  const injectedV4 = (n: number) => `192.0.2.${(n % 250) + 1}`;
  const injectedV6 = (n: number) => `2001:db8:bad::${(n % 250).toString(16)}`;
  const start = 'start=Mar 10 2025 08:10:00';
  const valid = validLines(goodSource);
  const manyTargets = (count: number) => Array.from({ length: count }, (_, i) => `10.66.${i >> 8}.${i & 255}`).join(', ');
  return [
    () => ({ kind: 'deep JSON array', line: deepJson('array'), bad: true }),
    () => ({ kind: 'deep JSON object', line: deepJson('object'), bad: true }),
    (n) => ({
      kind: 'CEF src= in msg text',
      line: syslog(`${CEF_HEAD}src=${goodSource(n)} ${start} msg=Login failed src=${injectedV4(n)} dst=203.0.113.7`),
      bad: false,
      injected: { address: injectedV4(n) },
    }),
    (n) => ({
      kind: 'CEF c6a2= in msg text',
      line: syslog(
        `${CEF_HEAD}c6a2=2001:db8:100::${(n % 250).toString(16)} c6a2Label=srcIPv6 ${start} msg=Login c6a2=${injectedV6(n)} ` +
          'c6a3=2001:db8::2 c6a3Label=dstIPv6',
      ),
      bad: false,
      injected: { address: injectedV6(n) },
    }),
    (n) => ({
      kind: 'CEF src= in the msg text of a c6a2= line',
      line: syslog(`${CEF_HEAD}c6a2=2001:db8:100::1 c6a2Label=srcIPv6 ${start} msg=Scan src=${injectedV4(n)} c6a3=2001:db8::2`),
      bad: false,
      injected: { address: injectedV4(n) },
    }),
    (n) => {
      const user = VICTIM_USERS[Math.floor(n / HOSTILE_EVERY) % VICTIM_USERS.length].username;
      return {
        kind: 'CEF suser= in msg text',
        line: syslog(`${CEF_HEAD}src=${goodSource(n)} suser=CORP\\staff ${start} msg=Login as suser=${user} dst=203.0.113.7`),
        bad: false,
        injected: { user },
      };
    },
    (n) => ({
      kind: 'CEF cs6= twice',
      line: syslog(
        `${CEF_HEAD}src=${goodSource(n)} ${start} msg=Scan cs6=2001:db8::66 cs6Label=dstIPv6list ` +
          'cs6=2001:db8::2, 2001:db8::3 cs6Label=dstIPv6list',
      ),
      bad: true,
    }),
    (n) => ({ kind: '60 KB event id (TSV)', line: valid(n, { id: `${n}`.padEnd(61_440, '7') }), bad: true }),
    (n) => ({
      kind: '60 KB event id (JSON)',
      line: JSON.stringify({ id: `${n}`.padEnd(61_440, '7'), timestamp: '2025-03-10 08:15:00', type: 'SCANS', source: goodSource(n) }),
      bad: true,
    }),
    (n) => ({
      kind: '60 KB event id (CEF)',
      line: syslog(`${CEF_HEAD}src=${goodSource(n)} ${start} msg=Scan dst=203.0.113.7 cn1=${'7'.repeat(61_440)} cn1Label=EventID`),
      bad: true,
    }),
    (n) => ({ kind: '2,000 targets (TSV)', line: valid(n, { targets: manyTargets(2000) }), bad: true }),
    (n) => ({
      kind: '2,000 targets (CEF)',
      line: syslog(`${CEF_HEAD}src=${goodSource(n)} ${start} msg=Scan cs4=${manyTargets(2000)} cs4Label=dstIPv4list`),
      bad: true,
    }),
    (n) => ({ kind: '2 KB user identity', line: valid(n, { userIdentity: `CORP\\${'u'.repeat(2000)}` }), bad: true }),
  ];
}
